// upgrade: an Orthanc setting changes under load and reaches the two instances exactly as the program's rollout
// applies it (components/bootstrap/apply.ts): one instance at a time, deregistered (drained) from every target
// group, orthanc.json rewritten, Orthanc restarted, /healthz 200 awaited, registered again and awaited healthy in
// every target group before the second instance is touched. Summary line:
// `twin upgrade: <N> stored, <L> lost, <R> retried, min healthy <H>`; fails when L > 0 or H = 0.
import { now, sleep, waitFor } from "../clients";
import { inNs, run } from "../lab";
import { say, states, TwinFailure, TwinPair } from "../pair";
import { drainCommands, minInService, registerCommands, upgradedTemplate, upgradeSummaryLine, upgradeVerdict, UPGRADED_SETTING } from "../rollout";
import { Measured, Scenario, ScenarioContext } from "../scenario";
import { ROLLOUT_TIMING } from "../../rules/rollout";
import * as path from "path";

const TIMING = { warmupSeconds: 8, serveSeconds: 8 } as const;

async function systemName(pair: TwinPair, index: number): Promise<string | undefined> {
    const instance = pair.plan.instances[index];
    const [cmd, args] = inNs(pair.plan.namespaces.lb, "curl", ["-s", "--fail", "--max-time", "5", "-K", pair.files.curlAuth, "--cacert", pair.files.cert, `https://${instance.address}/system`]);
    const r = await run(cmd, args, { timeoutMs: 8000 });
    if (r.code !== 0) return undefined;
    return (JSON.parse(r.stdout) as Record<string, unknown>)[UPGRADED_SETTING] as string | undefined;
}

/** One instance, as the apply script does it. Throws (the rollout stops here) when a gate is not passed in time. */
async function applyTo(pair: TwinPair, index: number, template: Record<string, unknown>): Promise<void> {
    const instance = pair.plan.instances[index];
    const backends = pair.targetGroups.map((t) => t.name);
    const started = now();
    const changed = await pair.rewriteOrthancConfig(index, template);
    for (const command of drainCommands(backends, instance.name)) {
        const answer = await pair.haproxyCommand(command);
        if (answer) throw new TwinFailure(`HAProxy refused "${command}": ${answer}`);
    }
    say(`${instance.name}: orthanc.json rewritten (${changed ? "changed" : "unchanged"}); deregistered from ${backends.join(", ")}; draining ${ROLLOUT_TIMING.drainSeconds}s`);
    await sleep(ROLLOUT_TIMING.drainSeconds * 1000);
    if (changed) await pair.restartOrthanc(index);
    const healthy = await waitFor(() => pair.nginxReady(index), ROLLOUT_TIMING.healthySeconds * 1000, 250);
    if (!healthy) throw new TwinFailure(`rollout stopped at ${instance.name}: /healthz not 200 within ${ROLLOUT_TIMING.healthySeconds}s`);
    say(`${instance.name}: Orthanc restarted, /healthz 200 after ${((now() - started) / 1000).toFixed(1)}s; registering again`);
    for (const command of registerCommands(backends, instance.name)) {
        const answer = await pair.haproxyCommand(command);
        if (answer) throw new TwinFailure(`HAProxy refused "${command}": ${answer}`);
    }
    const inService = await waitFor(() => pair.routedEverywhere(index), ROLLOUT_TIMING.targetHealthySeconds * 1000, 100);
    if (!inService) throw new TwinFailure(`rollout stopped at ${instance.name}: not healthy in every target group within ${ROLLOUT_TIMING.targetHealthySeconds}s: ${states(pair.watcher.of(instance.name))}`);
    say(`${instance.name}: healthy in every target group ${((now() - started) / 1000).toFixed(1)}s after its rollout began`);
}

async function run_(pair: TwinPair, ctx: ScenarioContext): Promise<Measured> {
    const { plan, watcher } = pair;
    const client = pair.dicomClient(path.join(ctx.dir, "client"));
    const web = pair.webPoller();
    ctx.onAbort(() => client.abort());

    await watcher.poll();
    const initial = [...watcher.latest];
    const clientStart = now();
    client.start();
    web?.start();
    watcher.start();
    say(`clients: C-STORE through ${plan.frontDoor}:${pair.dicomTargetGroup.port} every 250 ms${web ? ", HTTPS /healthz and /system every 500 ms" : ""}`);
    await sleep(TIMING.warmupSeconds * 1000);

    const template = upgradedTemplate(pair.program.bootstrap.orthancTemplate);
    const wanted = String(template[UPGRADED_SETTING]);
    say(`rolling out ${UPGRADED_SETTING} = ${JSON.stringify(wanted)}, one instance at a time`);
    const other: string[] = [];
    const rolloutStart = now();
    try {
        for (const index of plan.instances.keys()) {
            await applyTo(pair, index, template);
            const seen = await systemName(pair, index);
            if (seen !== wanted) other.push(`${plan.instances[index].name} reports ${UPGRADED_SETTING} ${JSON.stringify(seen)} after its rollout, not ${JSON.stringify(wanted)}`);
        }
    } catch (e) {
        if (!(e instanceof TwinFailure)) throw e;
        other.push(e.message);
    }
    const rolloutSeconds = (now() - rolloutStart) / 1000;
    await sleep(TIMING.serveSeconds * 1000);

    await client.drain(now() + 20000);
    await web?.stop();
    watcher.stop();

    const indexed = await pair.indexedSopUids(0);
    const missing = [...client.acknowledged].filter((uid) => !indexed.has(uid));
    const unacknowledgedButStored = [...client.abandoned].filter((uid) => indexed.has(uid)).length;
    const minHealthy = minInService(initial, watcher.changes, clientStart);
    const failedStores = client.attempts.filter((a) => !a.ok).length;
    const failedWeb = web ? web.attempts.filter((a) => !a.ok).length : 0;

    say(`results (rollout took ${rolloutSeconds.toFixed(1)}s; clients ran ${((now() - clientStart) / 1000).toFixed(0)}s):`);
    say(`  C-STORE: ${client.attempts.length} attempts, ${client.acknowledged.size} acknowledged, ${failedStores} failed, ${client.retried} retries, ` +
        `${client.abandoned.size} given up, ${missing.length} acknowledged but missing from the index`);
    if (web) say(`  HTTPS: ${web.attempts.length} requests, ${failedWeb} failed`);
    for (const c of watcher.changes.filter((c) => c.atMs >= clientStart)) say(`  haproxy ${((c.atMs - rolloutStart) / 1000).toFixed(1).padStart(6)}s into the rollout: ${c.backend}/${c.server} ${c.from} -> ${c.to}`);

    const outcome = { stored: client.acknowledged.size - missing.length, lost: missing.length + client.abandoned.size - unacknowledgedButStored, retried: client.retried, minHealthy, otherFailures: other };
    return { summary: [upgradeSummaryLine(outcome)], reasons: upgradeVerdict(outcome) };
}

export const upgrade: Scenario = {
    name: "upgrade",
    description: "an Orthanc setting rolled out under load, one instance at a time (drain, restart, /healthz, healthy again), as the program's rollout does",
    deadlineSeconds: 240 + 2 * ROLLOUT_TIMING.drainSeconds,
    run: run_,
};

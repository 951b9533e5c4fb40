// instance-kill: one instance goes away as a whole machine would: its Orthanc and its nginx die together (SIGKILL),
// so its ports refuse connections and no peer fallback can help. The load balancer must take it out within the
// modeled failover time (at most 10 s), clients must lose nothing, and it must serve again after a restart.
// Summary lines: `twin: <N> stored, <M> lost, <R> retried, failover gap <G>s (modeled <F>s)` (the first form, kept)
// and `twin instance-kill: <N> stored, <L> lost, <R> retried, failover gap <G>s (modeled <M>s)`.
import * as fs from "fs";
import * as path from "path";
import { now, routed, runStorescu, sleep, waitFor } from "../clients";
import { newUid, secondaryCapture } from "../dicom";
import { httpCodeIn, say, states, TwinFailure, TwinPair } from "../pair";
import { Measured, Scenario, ScenarioContext } from "../scenario";
import { ceilTenth, failoverGap, failuresOutside, Gap, Outcome, summaryLine, verdict } from "../summary";
import { modeledFailoverSeconds } from "../targetGroups";

/** The most a load balancer failover may take with the defaults (issue: fast failover with nothing failed). */
export const MAX_MODELED_FAILOVER_SECONDS = 10;

const TIMING = {
    warmupSeconds: 8,
    /** After HAProxy has taken the instance out, before it restarts. */
    afterDownSeconds: 8,
    /** After the restarted instance is back in, to see it serve. */
    serveSeconds: 10,
} as const;

async function run(pair: TwinPair, ctx: ScenarioContext): Promise<Measured> {
    const { plan, files, watcher, lab } = pair;
    const tgs = pair.targetGroups;
    const dicomTg = pair.dicomTargetGroup;
    const webTg = pair.webTargetGroup;
    const [first, second] = plan.instances;

    const modeled = modeledFailoverSeconds(dicomTg);
    const clientDir = path.join(ctx.dir, "client");
    const client = pair.dicomClient(clientDir);
    const web = pair.webPoller();
    ctx.onAbort(() => client.abort());

    const clientStart = now();
    client.start();
    web?.start();
    watcher.start();
    say(`clients: C-STORE over TLS (storescu +tla, certificate verified) to ${plan.frontDoor}:${dicomTg.port} every 250 ms; ` +
        (webTg ? `GET /healthz and authenticated GET /system on https://${plan.frontDoor}:${webTg.port} every 500 ms` : "no web target group: HTTPS not polled"));
    await sleep(TIMING.warmupSeconds * 1000);

    const killed = now();
    await Promise.all([lab.crash(first.name), lab.crash(`nginx-${first.name}`)]);
    say(`killed Orthanc and nginx of ${first.name} together (SIGKILL), as a machine going away: its ports now refuse connections`);
    const out = () => watcher.of(first.name).length === tgs.length && watcher.of(first.name).every((s) => !routed(s));
    const downBound = Math.max(...tgs.map((t) => modeledFailoverSeconds(t) + t.healthCheck.timeoutSeconds)) + 15;
    const wentDown = await waitFor(out, downBound * 1000, 100);
    const downAt = (backend: string) => watcher.changes.find((c) => c.server === first.name && c.backend === backend && c.atMs >= killed && c.to.startsWith("DOWN"))?.atMs;
    for (const tg of tgs) {
        const at = downAt(tg.name);
        say(`  HAProxy took ${first.name} out of ${tg.name} ${at ? `${((at - killed) / 1000).toFixed(1)}s after the kill` : "NOT within the bound"} (modeled ${modeledFailoverSeconds(tg)}s)`);
    }
    if (!wentDown) throw new TwinFailure(`HAProxy still routes to ${first.name} ${downBound}s after it was killed: ${states(watcher.of(first.name))}`);
    await sleep(TIMING.afterDownSeconds * 1000);

    const restarted = now();
    await pair.restart(0);
    say(`restarted Orthanc and nginx of ${first.name} (${((now() - restarted) / 1000).toFixed(1)}s until it answered /healthz)`);
    const upBound = Math.max(...tgs.map((t) => (t.healthCheck.healthyThreshold + 1) * t.healthCheck.intervalSeconds + t.healthCheck.timeoutSeconds)) + 15;
    const cameBack = await waitFor(() => pair.routedEverywhere(0), upBound * 1000, 100);
    const backIn = now();
    const sessionsAtUp = new Map(watcher.of(first.name).map((s) => [s.backend, s.sessions]));
    say(cameBack
        ? `  HAProxy sees ${first.name} UP again in every target group ${((backIn - restarted) / 1000).toFixed(1)}s after the restart`
        : `  HAProxy does NOT see ${first.name} UP within ${upBound}s: ${states(watcher.of(first.name))}`);
    if (cameBack) await sleep(TIMING.serveSeconds * 1000);
    await watcher.poll();
    const servedAfterUp = tgs.map((tg) => ({ tg: tg.name, sessions: (watcher.of(first.name).find((s) => s.backend === tg.name)?.sessions ?? 0) - (sessionsAtUp.get(tg.name) ?? 0) }));

    // Straight to the restarted instance, past the load balancer: it stores, and the other one sees it.
    const probeUid = newUid();
    const probeFile = path.join(clientDir, "probe.dcm");
    fs.writeFileSync(probeFile, secondaryCapture({ patientId: `TWIN-${process.pid}`, studyUid: newUid(), seriesUid: newUid(), sopInstanceUid: probeUid, instanceNumber: 1 }));
    const target = { host: first.address, port: dicomTg.port, calledAet: pair.aet, caPath: files.cert };
    const probe = await runStorescu(["ip", "netns", "exec", plan.namespaces.lb], target, probeFile);
    const probeRest = await httpCodeIn(plan.namespaces.lb, ["-K", files.curlAuth, "--cacert", files.cert, `https://${first.address}/system`]);

    const stopAt = now();
    await client.drain(now() + 20000);
    await web?.stop();
    watcher.stop();
    const clientSeconds = (now() - clientStart) / 1000;

    // Every acknowledged instance must be in the shared index, as the instance that was never killed sees it.
    const indexed = await pair.indexedSopUids(1);
    const missing = [...client.acknowledged].filter((uid) => !indexed.has(uid));
    const stored = client.acknowledged.size - missing.length;
    const unacknowledgedButStored = [...client.abandoned].filter((uid) => indexed.has(uid)).length;

    const gap: Gap = failoverGap(client.attempts, killed, restarted);
    const webGap = web ? failoverGap(web.attempts, killed, restarted) : undefined;
    const other: string[] = [];
    if (!cameBack) other.push(`${first.name} did not rejoin: HAProxy never saw it UP in every target group`);
    for (const s of servedAfterUp) if (cameBack && s.sessions === 0) other.push(`${first.name} got no connection from ${s.tg} after rejoining`);
    if (!probe.ok) other.push(`a C-STORE straight to the restarted ${first.name} failed: ${probe.detail}`);
    else if (!indexed.has(probeUid)) other.push(`the C-STORE straight to ${first.name} is not in the index as ${second.name} sees it`);
    if (probeRest !== "200") other.push(`authenticated GET /system straight to ${first.name} answered ${probeRest || "nothing"}`);
    const dicomOutside = failuresOutside(client.attempts, killed, restarted);
    if (dicomOutside > 0) other.push(`${dicomOutside} C-STORE attempt(s) failed outside the failover window (before the kill or after the restart)`);
    if (web && webGap && webTg) {
        const webOutside = failuresOutside(web.attempts, killed, restarted);
        if (webOutside > 0) other.push(`${webOutside} HTTPS request(s) failed outside the failover window`);
        const webModeled = modeledFailoverSeconds(webTg);
        if (!webGap.recovered || ceilTenth(webGap.seconds) > webModeled) other.push(`HTTPS failover gap ${webGap.seconds.toFixed(1)}s exceeds the modeled ${webModeled}s`);
    }

    say(`results (clients ran ${clientSeconds.toFixed(0)}s; stopped sending ${((now() - stopAt) / 1000).toFixed(1)}s before the index check):`);
    say(`  C-STORE: ${client.attempts.length} attempts, ${client.acknowledged.size} acknowledged, ${client.retried} retries, ${gap.failures} failed after the kill, ` +
        `${client.abandoned.size} given up (${unacknowledgedButStored} of those stored anyway), ${missing.length} acknowledged but missing from the index`);
    say(`  C-STORE failover gap: ${gap.seconds.toFixed(2)}s from the first failure to the first success after the last one (modeled ${modeled}s)`);
    if (web && webGap && webTg) {
        say(`  HTTPS: ${web.attempts.length} requests (${web.attempts.filter((a) => a.ok).length} answered 200), failover gap ${webGap.seconds.toFixed(2)}s (modeled ${modeledFailoverSeconds(webTg)}s)`);
    }
    say(`  rejoin: ${servedAfterUp.map((s) => `${s.sessions} ${s.tg} connection(s)`).join(", ")} to ${first.name} in ${TIMING.serveSeconds}s after it was UP; ` +
        `direct C-STORE ${probe.ok ? "acknowledged" : "FAILED"}, direct GET /system ${probeRest}`);
    for (const c of watcher.changes.filter((c) => c.atMs >= clientStart)) say(`  haproxy ${((c.atMs - killed) / 1000).toFixed(1).padStart(6)}s after the kill: ${c.backend}/${c.server} ${c.from} -> ${c.to}`);

    if (modeled > MAX_MODELED_FAILOVER_SECONDS) other.push(`the modeled failover ${modeled}s exceeds ${MAX_MODELED_FAILOVER_SECONDS}s: the program's health-check defaults are too slow`);
    const outcome = { stored, lost: missing.length + client.abandoned.size - unacknowledgedButStored, retried: client.retried, gap, modeledSeconds: modeled, otherFailures: other };
    return { summary: [summaryLine(outcome), instanceKillLine(outcome)], reasons: verdict(outcome) };
}

/** The scenario's own line: the first form's figures under the scenario's name. */
export function instanceKillLine(o: Outcome): string {
    return summaryLine(o).replace(/^twin: /, "twin instance-kill: ");
}

export const instanceKill: Scenario = {
    name: "instance-kill",
    description: "Orthanc and nginx of one instance killed together under load; the front door fails over within 10 s; it restarts and serves again",
    deadlineSeconds: 200,
    run,
};

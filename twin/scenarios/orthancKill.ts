// orthanc-kill: only Orthanc of one instance dies (SIGKILL); its nginx stays up. nginx hands every request and
// association its Orthanc refuses to the other instance's Orthanc, over TLS to that instance's peer-only listeners
// (the peer fallback), so clients see no failure: neither before the load balancer takes the instance out (its
// /healthz answers 5xx) nor after. Orthanc then restarts and the instance rejoins.
// Summary line: `twin orthanc-kill: <N> stored, <L> lost, <F> failed`, where F counts the C-STOREs and authenticated
// HTTPS requests started after the kill that failed. A transfer already open on the process at the instant it dies
// dies with it (nothing in front of a process can save that); those are counted apart and printed.
import { now, routed, sleep, waitFor } from "../clients";
import { httpCodeIn, say, states, TwinFailure, TwinPair } from "../pair";
import { Measured, Scenario, ScenarioContext } from "../scenario";
import { modeledFailoverSeconds } from "../targetGroups";
import * as path from "path";

const TIMING = {
    warmupSeconds: 6,
    /** After HAProxy has taken the instance out: the fallback keeps serving what it still has. */
    afterDownSeconds: 5,
    /** After the restarted instance is back in, to see it serve. */
    serveSeconds: 8,
} as const;

export function orthancKillLine(o: { stored: number; lost: number; failed: number }): string {
    return `twin orthanc-kill: ${o.stored} stored, ${o.lost} lost, ${o.failed} failed`;
}

async function run(pair: TwinPair, ctx: ScenarioContext): Promise<Measured> {
    const { plan, watcher, lab } = pair;
    const tgs = pair.targetGroups;
    const [first, second] = plan.instances;
    const client = pair.dicomClient(path.join(ctx.dir, "client"));
    const web = pair.webPoller();
    ctx.onAbort(() => client.abort());

    client.start();
    web?.start();
    watcher.start();
    say(`clients: C-STORE over TLS to ${plan.frontDoor}:${pair.dicomTargetGroup.port} every 250 ms; ${web ? "GET /healthz and authenticated GET /system every 500 ms" : "no web target group"}`);
    await sleep(TIMING.warmupSeconds * 1000);

    await watcher.poll();
    const sessionsAt = () => new Map(watcher.of(first.name).map((s) => [s.backend, s.sessions]));
    const atKill = sessionsAt();
    const killed = now();
    await lab.crash(first.name);
    const healthzAfterKill = await pair.healthz(0);
    say(`killed Orthanc of ${first.name} (SIGKILL); its nginx stays up; its /healthz now answers ${healthzAfterKill || "nothing"}`);

    const out = () => watcher.of(first.name).length === tgs.length && watcher.of(first.name).every((s) => !routed(s));
    const downBound = Math.max(...tgs.map((t) => modeledFailoverSeconds(t) + t.healthCheck.timeoutSeconds)) + 15;
    const wentDown = await waitFor(out, downBound * 1000, 100);
    const downAtMs = now();
    if (!wentDown) throw new TwinFailure(`HAProxy still routes to ${first.name} ${downBound}s after its Orthanc was killed: ${states(watcher.of(first.name))}`);
    await watcher.poll();
    const atDown = sessionsAt();
    const beforeFrontDoor = tgs.map((tg) => ({ tg: tg.name, sessions: (atDown.get(tg.name) ?? 0) - (atKill.get(tg.name) ?? 0) }));
    say(`  HAProxy took ${first.name} out of every target group ${((downAtMs - killed) / 1000).toFixed(1)}s after the kill; meanwhile it sent it ` +
        `${beforeFrontDoor.map((s) => `${s.sessions} ${s.tg} connection(s)`).join(", ")}, each served through ${second.name}'s Orthanc`);
    await sleep(TIMING.afterDownSeconds * 1000);

    // Out of the load balancer now, with its Orthanc still dead: with no peer known, nginx answers as it would
    // without the fallback (502); with the peer back in the map, it serves again. Straight from the lb namespace.
    const direct = () => httpCodeIn(plan.namespaces.lb, ["-K", pair.files.curlAuth, "--cacert", pair.files.cert, `https://${first.address}/system`]);
    pair.writePeerMap(first, undefined);
    await pair.reloadNginx(0);
    const withoutPeer = await direct();
    pair.writePeerMap(first, second);
    await pair.reloadNginx(0);
    const withPeer = await direct();
    say(`  straight to ${first.name} (Orthanc dead): GET /system ${withoutPeer || "nothing"} with no peer known, ${withPeer || "nothing"} with the peer in its map again`);

    const restarted = now();
    await pair.restart(0);
    const upBound = Math.max(...tgs.map((t) => (t.healthCheck.healthyThreshold + 1) * t.healthCheck.intervalSeconds + t.healthCheck.timeoutSeconds)) + 15;
    const cameBack = await waitFor(() => pair.routedEverywhere(0), upBound * 1000, 100);
    say(cameBack
        ? `restarted Orthanc of ${first.name}; HAProxy sees it UP again ${((now() - restarted) / 1000).toFixed(1)}s later`
        : `restarted Orthanc of ${first.name}; HAProxy does NOT see it UP within ${upBound}s: ${states(watcher.of(first.name))}`);
    if (cameBack) await sleep(TIMING.serveSeconds * 1000);

    await client.drain(now() + 20000);
    await web?.stop();
    watcher.stop();

    const indexed = await pair.indexedSopUids(1);
    const missing = [...client.acknowledged].filter((uid) => !indexed.has(uid));
    const stored = client.acknowledged.size - missing.length;
    const unacknowledgedButStored = [...client.abandoned].filter((uid) => indexed.has(uid)).length;
    const lost = missing.length + client.abandoned.size - unacknowledgedButStored;

    const afterKill = <T extends { startMs: number; ok: boolean }>(list: readonly T[]) => list.filter((a) => a.startMs >= killed);
    const failedStores = afterKill(client.attempts).filter((a) => !a.ok);
    const requests = web ? web.attempts.filter((a) => a.path === "/system") : [];
    const failedRequests = afterKill(requests).filter((a) => !a.ok);
    const inFlightAtKill = client.attempts.filter((a) => a.startMs < killed && a.endMs >= killed && !a.ok).length;
    const failedBefore = client.attempts.filter((a) => a.endMs < killed && !a.ok).length + requests.filter((a) => a.startMs < killed && !a.ok).length;
    const failed = failedStores.length + failedRequests.length;
    const healthz = web ? web.attempts.filter((a) => a.path === "/healthz" && a.startMs >= killed && a.startMs < restarted) : [];

    say("results:");
    say(`  C-STORE: ${client.attempts.length} attempts, ${client.acknowledged.size} acknowledged, ${failedStores.length} of those started after the kill failed, ` +
        `${inFlightAtKill} open on ${first.name}'s Orthanc when it died (retried), ${client.abandoned.size} given up, ${missing.length} acknowledged but missing from the index`);
    for (const a of failedStores.slice(0, 5)) say(`    failed ${((a.startMs - killed) / 1000).toFixed(1)}s after the kill: ${a.detail}`);
    if (web) {
        say(`  HTTPS GET /system: ${requests.length} requests, ${failedRequests.length} started after the kill failed; ` +
            `GET /healthz through the front door while ${first.name}'s Orthanc was dead: ${healthz.filter((a) => !a.ok).length} of ${healthz.length} not 200 (the health signal, not a client request)`);
    }

    const reasons: string[] = [];
    if (lost > 0) reasons.push(`${lost} acknowledged or abandoned instance(s) are not in the shared index`);
    if (failed > 0) reasons.push(`${failed} request(s) started after Orthanc died failed (${failedStores.length} C-STORE, ${failedRequests.length} HTTPS): the peer fallback did not take them`);
    if (failedBefore > 0) reasons.push(`${failedBefore} request(s) failed before the kill`);
    if (stored === 0) reasons.push("nothing was stored");
    if (healthzAfterKill === "200") reasons.push(`${first.name}'s /healthz still answered 200 with its Orthanc dead: the fallback must not hide this instance's own failure`);
    for (const s of beforeFrontDoor) if (s.sessions === 0) reasons.push(`no ${s.tg} connection reached ${first.name} between the kill and HAProxy taking it out: the fallback was not exercised`);
    if (!cameBack) reasons.push(`${first.name} did not rejoin after its Orthanc restarted`);
    if (withoutPeer !== "502") reasons.push(`with no peer known and its Orthanc dead, ${first.name} answered ${withoutPeer || "nothing"} instead of 502 (as without the fallback)`);
    if (withPeer !== "200") reasons.push(`with the peer back in its map, ${first.name} answered ${withPeer || "nothing"} instead of 200 through the peer`);
    return { summary: [orthancKillLine({ stored, lost, failed })], reasons };
}

export const orthancKill: Scenario = {
    name: "orthanc-kill",
    description: "Orthanc of one instance killed under load, nginx stays up: the peer fallback serves everything; it restarts and rejoins",
    deadlineSeconds: 150,
    run,
};

// orthanc-kill: only Orthanc of one instance dies (it hangs for a second, SIGSTOP, then SIGKILL); its nginx stays up. nginx hands every new request and
// association to the other instance's Orthanc, over mutual TLS to that instance's peer-only listeners (the peer
// fallback), before and after the load balancer takes the instance out (its /healthz answers 5xx). Work that the dying
// Orthanc already had is another matter, and is measured here: across the kill, straight to that instance, a long
// C-STORE association and back-to-back idempotent GETs and non-idempotent POSTs are open. nginx re-sends a GET the dead
// Orthanc had to the peer (its access log shows both upstreams, bytes sent to the first), never a POST (the client gets
// a 502), and cannot move an open association (the modality sees it aborted). Orthanc then restarts and rejoins.
// Summary line: `twin orthanc-kill: <N> stored, <L> lost, <F> failed`, where F counts every C-STORE and HTTPS request
// of the clients that failed from the kill on: those open at the instant it died (expected; each printed) and those
// started after it (none may fail: that is the fallback's promise).
import * as fs from "fs";
import { execFile } from "child_process";
import { now, routed, sleep, storescuArgs, waitFor } from "../clients";
import { PROBE_TIMEOUT_SECONDS, RESULT_MAX_AGE_SECONDS } from "../../rules/healthProbe";
import { newUid, secondaryCapture } from "../dicom";
import { inFlightCounts, isMoved, isResent, parseAccessLog, ProbeRequest } from "../inFlight";
import { inNs } from "../lab";
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
    /** Orthanc hangs (SIGSTOP) this long before it is killed: whatever reaches it meanwhile is in flight at its death. */
    stallBeforeKillMs: 1000,
    /** The in-flight probe runs from this long before the stall to as long after the kill. */
    probeAroundKillMs: 600,
    /** Instances in the long association (one association, sent one after another: about a second of work). */
    longAssociationInstances: 150,
    /** Back-to-back request loops per method in the probe. */
    probeLoops: 3,
} as const;

/** Requests to the instance's nginx (past the load balancer), back to back until `stop`; GET /statistics or POST /tools/find. */
async function requestLoop(pair: TwinPair, address: string, method: "GET" | "POST", out: ProbeRequest[], stop: () => boolean): Promise<void> {
    const target = method === "GET" ? [`https://${address}/statistics`] : ["-X", "POST", "--data", '{"Level":"Study","Query":{}}', `https://${address}/tools/find`];
    while (!stop()) {
        const startMs = now();
        const code = await httpCodeIn(pair.plan.namespaces.lb, ["-K", pair.files.curlAuth, "--cacert", pair.files.cert, ...target]);
        out.push({ method, startMs, endMs: now(), status: Number(code) || 0 });
    }
}

interface LongAssociation {
    readonly startMs: number;
    readonly endMs: number;
    readonly total: number;
    /** C-STORE responses with status Success before the association ended. */
    readonly stored: number;
    readonly completed: boolean;
    readonly detail: string;
}

/** One association carrying many instances, straight to the instance's 11112 (storescu +sd), from the lb namespace. */
function longAssociation(pair: TwinPair, dir: string, address: string): Promise<LongAssociation> {
    fs.mkdirSync(dir, { recursive: true });
    const study = newUid();
    const series = newUid();
    for (let i = 1; i <= TIMING.longAssociationInstances; i++) {
        fs.writeFileSync(path.join(dir, `${i}.dcm`), secondaryCapture({ patientId: `TWIN-LONG-${process.pid}`, studyUid: study, seriesUid: series, sopInstanceUid: newUid(), instanceNumber: i }));
    }
    const [cmd, args] = inNs(pair.plan.namespaces.lb, "storescu", ["+sd", ...storescuArgs({ host: address, port: 11112, calledAet: pair.aet, caPath: pair.files.cert }, dir)]);
    const startMs = now();
    return new Promise((resolve) => {
        execFile(cmd, args, { timeout: 30000, killSignal: "SIGKILL", maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => {
            const output = `${stdout}${stderr}`;
            const stored = (output.match(/Received Store Response \(Success\)/g) ?? []).length;
            const last = output.split("\n").filter((l) => /^[EF]:/.test(l)).slice(-1)[0] ?? "";
            resolve({ startMs, endMs: now(), total: TIMING.longAssociationInstances, stored, completed: !err && stored === TIMING.longAssociationInstances, detail: last.trim() || (err ? err.message : "") });
        });
    });
}

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
    // The in-flight probe: open across the kill, straight to the instance whose Orthanc dies.
    const probe: ProbeRequest[] = [];
    let probing = true;
    const loops = (["GET", "POST"] as const).flatMap((method) => Array.from({ length: TIMING.probeLoops }, () => requestLoop(pair, first.address, method, probe, () => !probing)));
    const long = longAssociation(pair, path.join(ctx.dir, "long"), first.address);
    await sleep(TIMING.probeAroundKillMs);
    // Orthanc stops answering first (a stall, as before an out-of-memory kill), so that the work it has at its death
    // is not left to chance: each request takes it a few milliseconds, an association a few more.
    lab.signal(first.name, "SIGSTOP");
    await sleep(TIMING.stallBeforeKillMs);
    const atKill = sessionsAt();
    const killed = now();
    await lab.crash(first.name);
    await sleep(TIMING.probeAroundKillMs);
    probing = false;
    await Promise.all(loops);
    const association = await long;
    // The health checker answers from its last probe, at most RESULT_MAX_AGE_SECONDS old: /healthz turns within that.
    const healthzBound = RESULT_MAX_AGE_SECONDS + PROBE_TIMEOUT_SECONDS + 2;
    let healthzAfterKill = await pair.healthz(0);
    await waitFor(async () => (healthzAfterKill = await pair.healthz(0)) !== "200", healthzBound * 1000, 200);
    say(`killed Orthanc of ${first.name} (SIGKILL, after ${TIMING.stallBeforeKillMs / 1000}s hung by SIGSTOP); its nginx stays up; its /healthz answers ${healthzAfterKill || "nothing"} ${((now() - killed) / 1000).toFixed(1)}s after the kill`);

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
    const failedBefore = [...client.attempts, ...requests, ...probe.map((r) => ({ ...r, ok: r.status === 200 }))].filter((a) => a.endMs < killed && !a.ok).length;
    const inFlightRequests = requests.filter((a) => a.startMs < killed && a.endMs >= killed && !a.ok).length;
    const counts = inFlightCounts(probe, killed);
    const associationOpen = association.startMs < killed && association.endMs >= killed;
    const associationAborted = associationOpen && !association.completed;
    const nginxLog = path.join(pair.files.logs, `nginx-${first.name}.log`);
    const upstream = parseAccessLog(fs.existsSync(nginxLog) ? fs.readFileSync(nginxLog, "utf8") : "");
    const resent = upstream.filter(isResent);
    const resentPosts = resent.filter((r) => r.method === "POST");
    const moved = upstream.filter(isMoved).length;
    const probeFailedInFlight = counts.getInFlight.total - counts.getInFlight.ok + (counts.postInFlight.total - counts.postInFlight.ok);
    const probeFailedAfter = counts.getAfter.total - counts.getAfter.ok + (counts.postAfter.total - counts.postAfter.ok);
    const failedInFlight = inFlightAtKill + inFlightRequests + probeFailedInFlight + (associationAborted ? 1 : 0);
    const failed = failedStores.length + failedRequests.length + probeFailedAfter + failedInFlight;
    const healthz = web ? web.attempts.filter((a) => a.path === "/healthz" && a.startMs >= killed && a.startMs < restarted) : [];

    say("results:");
    say(`  C-STORE: ${client.attempts.length} attempts, ${client.acknowledged.size} acknowledged, ${failedStores.length} of those started after the kill failed, ` +
        `${inFlightAtKill} open on ${first.name}'s Orthanc when it died (retried), ${client.abandoned.size} given up, ${missing.length} acknowledged but missing from the index`);
    for (const a of failedStores.slice(0, 5)) say(`    failed ${((a.startMs - killed) / 1000).toFixed(1)}s after the kill: ${a.detail}`);
    if (web) {
        say(`  HTTPS GET /system: ${requests.length} requests, ${failedRequests.length} started after the kill failed; ` +
            `GET /healthz through the front door while ${first.name}'s Orthanc was dead: ${healthz.filter((a) => !a.ok).length} of ${healthz.length} not 200 (the health signal, not a client request)`);
    }

    say(`  open at the kill, straight to ${first.name}: a ${association.total}-instance association ${associationOpen ? (association.completed ? "that still completed" : `ABORTED after ${association.stored} stored (${association.detail})`) : "that was not open at the kill"}; ` +
        `GET /statistics ${counts.getInFlight.ok} of ${counts.getInFlight.total} answered 200; POST /tools/find ${counts.postInFlight.ok} of ${counts.postInFlight.total} answered 200 (the others 502: not re-sent)`);
    say(`  started after the kill, straight to ${first.name}: GET ${counts.getAfter.ok} of ${counts.getAfter.total}, POST ${counts.postAfter.ok} of ${counts.postAfter.total} answered 200 (through the peer)`);
    say(`  ${first.name}'s nginx: ${resent.length} request(s) re-sent to the peer after its Orthanc had them (${[...new Set(resent.map((r) => r.method))].join(", ") || "none"}; POST: ${resentPosts.length}), ` +
        `${moved} moved to the peer untouched (refused, nothing sent)`);
    say(`  failed from the kill on: ${failedInFlight} open at the instant Orthanc died (C-STORE ${inFlightAtKill}, the long association ${associationAborted ? 1 : 0}, GET ${counts.getInFlight.total - counts.getInFlight.ok + inFlightRequests}, POST ${counts.postInFlight.total - counts.postInFlight.ok}), ` +
        `${failed - failedInFlight} started after it`);

    const reasons: string[] = [];
    if (lost > 0) reasons.push(`${lost} acknowledged or abandoned instance(s) are not in the shared index`);
    if (failed > failedInFlight) reasons.push(`${failed - failedInFlight} request(s) started after Orthanc died failed (${failedStores.length} C-STORE, ${failedRequests.length + probeFailedAfter} HTTPS): the peer fallback did not take them`);
    if (resentPosts.length > 0) reasons.push(`${resentPosts.length} POST(s) were re-sent to the peer after ${first.name}'s Orthanc had them: nginx must not retry non-idempotent requests`);
    if (counts.getAfter.total === 0 || counts.postAfter.total === 0) reasons.push("the in-flight probe sent no GET or no POST after the kill");
    if (failedBefore > 0) reasons.push(`${failedBefore} request(s) failed before the kill`);
    if (stored === 0) reasons.push("nothing was stored");
    if (healthzAfterKill === "200") reasons.push(`${first.name}'s /healthz still answered 200 ${healthzBound}s after its Orthanc died: the fallback must not hide this instance's own failure`);
    for (const s of beforeFrontDoor) if (s.sessions === 0) reasons.push(`no ${s.tg} connection reached ${first.name} between the kill and HAProxy taking it out: the fallback was not exercised`);
    if (!cameBack) reasons.push(`${first.name} did not rejoin after its Orthanc restarted`);
    if (withoutPeer !== "502") reasons.push(`with no peer known and its Orthanc dead, ${first.name} answered ${withoutPeer || "nothing"} instead of 502 (as without the fallback)`);
    if (withPeer !== "200") reasons.push(`with the peer back in its map, ${first.name} answered ${withPeer || "nothing"} instead of 200 through the peer`);
    return { summary: [orthancKillLine({ stored, lost, failed })], reasons };
}

export const orthancKill: Scenario = {
    name: "orthanc-kill",
    description: "Orthanc of one instance hangs and is killed under load, nginx stays up: the peer fallback serves every new request and association, work open on the dead Orthanc is counted; it restarts and rejoins",
    deadlineSeconds: 150,
    run,
};

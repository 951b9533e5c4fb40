// db-outage: PostgreSQL (the RDS stand-in) stops under load, then starts again. /healthz on both instances must
// turn 5xx within 10 s (Orthanc itself hangs rather than fails, so only the checker's own timeout tells), and
// healthy again once PostgreSQL is back, with nobody restarting anything. Clients keep retrying through it.
// Summary line: `twin db-outage: healthz 5xx after <S>s, healthy again after <T>s`.
import * as path from "path";
import { now, sleep } from "../clients";
import { say, TwinPair } from "../pair";
import { Measured, Scenario, ScenarioContext } from "../scenario";
import { ceilTenth } from "../summary";
import { ledgerOf, watchHealth } from "./storeLedger";

export const DB_OUTAGE_MAX_DETECTION_SECONDS = 10;

const TIMING = {
    warmupSeconds: 8,
    /** PostgreSQL stays down this long after the stop (longer than any front door needs to see it). */
    outageSeconds: 15,
    /** Bound on recovery once PostgreSQL is back. */
    recoveryBoundSeconds: 120,
    /** Clients keep sending this long after both instances are healthy again. */
    afterSeconds: 8,
} as const;

/** The summary line. */
export function dbOutageLine(detectSeconds: number | undefined, recoverSeconds: number | undefined): string {
    const show = (s: number | undefined, bound: number) => (s === undefined ? `>${bound}` : ceilTenth(s).toFixed(1));
    return `twin db-outage: healthz 5xx after ${show(detectSeconds, TIMING.outageSeconds)}s, healthy again after ${show(recoverSeconds, TIMING.recoveryBoundSeconds)}s`;
}

async function run(pair: TwinPair, ctx: ScenarioContext): Promise<Measured> {
    const { lab } = pair;
    // Retries outlast the outage: a modality that retries loses nothing.
    const client = pair.dicomClient(path.join(ctx.dir, "client"), { maxTries: 400 });
    const web = pair.webPoller();
    ctx.onAbort(() => client.abort());
    client.start();
    web?.start();
    say(`clients: C-STORE through the front door every 250 ms (retrying), HTTPS polling every 500 ms; warming up ${TIMING.warmupSeconds}s`);
    await sleep(TIMING.warmupSeconds * 1000);
    const before = await Promise.all(pair.plan.instances.map((_, i) => pair.healthz(i)));

    const stopped = now();
    lab.signal("postgres", "SIGINT");
    await lab.waitExit("postgres", 20000);
    say(`stopped PostgreSQL (fast shutdown, ${((now() - stopped) / 1000).toFixed(1)}s); /healthz was ${before.join(", ")}`);
    const down = await watchHealth(pair, (c) => c.startsWith("5"), stopped, TIMING.outageSeconds * 1000, now);
    pair.plan.instances.forEach((inst, i) => say(`  ${inst.name} /healthz 5xx ${down[i] === undefined ? "NOT" : `${down[i]!.toFixed(1)}s`} after the stop`));
    const remaining = TIMING.outageSeconds * 1000 - (now() - stopped);
    if (remaining > 0) await sleep(remaining);

    const started = now();
    pair.startPostgresProcess();
    say(`started PostgreSQL again after ${((started - stopped) / 1000).toFixed(1)}s down; nothing else is touched`);
    const up = await watchHealth(pair, (c) => c === "200", started, TIMING.recoveryBoundSeconds * 1000, now);
    pair.plan.instances.forEach((inst, i) => say(`  ${inst.name} /healthz 200 ${up[i] === undefined ? "NOT" : `${up[i]!.toFixed(1)}s`} after the start`));
    const recovered = now();
    await sleep(TIMING.afterSeconds * 1000);

    const orthancsAlive = pair.plan.instances.filter((inst) => lab.isRunning(inst.name)).length;
    const storedAfter = client.attempts.filter((a) => a.ok && a.startMs >= recovered).length;
    await web?.stop();
    const ledger = await ledgerOf(pair, client, now() + 60000);
    say(`results: ${client.attempts.length} C-STORE attempts, ${ledger.stored} stored, ${ledger.lost} lost, ${client.retried} retries, ` +
        `${storedAfter} acknowledged after recovery; Orthanc processes still the original ones: ${orthancsAlive} of ${pair.plan.instances.length}` +
        (web ? `; HTTPS ${web.attempts.filter((a) => a.ok).length} of ${web.attempts.length} answered 200` : ""));

    const worst = (list: (number | undefined)[]) => (list.some((x) => x === undefined) ? undefined : Math.max(...(list as number[])));
    const detect = worst(down);
    const recover = worst(up);
    const reasons: string[] = [];
    if (before.some((c) => c !== "200")) reasons.push(`/healthz was not 200 on both instances before the outage (${before.join(", ")})`);
    if (detect === undefined) reasons.push(`/healthz did not turn 5xx on every instance within ${TIMING.outageSeconds}s of PostgreSQL stopping`);
    else if (ceilTenth(detect) > DB_OUTAGE_MAX_DETECTION_SECONDS) reasons.push(`/healthz took ${detect.toFixed(1)}s to turn 5xx (at most ${DB_OUTAGE_MAX_DETECTION_SECONDS}s)`);
    if (recover === undefined) reasons.push(`/healthz was not 200 again on every instance within ${TIMING.recoveryBoundSeconds}s of PostgreSQL starting`);
    if (orthancsAlive < pair.plan.instances.length) reasons.push("an Orthanc process exited during the outage: recovery would have needed a restart");
    if (storedAfter === 0) reasons.push("no C-STORE was acknowledged after recovery");
    if (ledger.lost > 0) reasons.push(`${ledger.lost} instance(s) lost (${ledger.missing} acknowledged but not indexed)`);
    return { summary: [dbOutageLine(detect, recover)], reasons };
}

export const dbOutage: Scenario = {
    name: "db-outage",
    description: "PostgreSQL stopped under load, then started: /healthz turns 5xx within seconds and healthy again by itself",
    deadlineSeconds: 260,
    run,
};

// replace: an instance is terminated, and its slot's group launches a new one, which takes the slot's reserved
// private address: a site's modality, configured with that address, stores again without anyone changing anything.
// What is real: the program's claim.sh (run in the instance's namespace, with ip(8)), Orthanc, nginx and the health
// checker started afresh from the program's files, the modality's storescu over TLS, the routing. What stands in:
// EC2 and the VPC (twin/slotNetwork.ts: who holds the address, and the route that delivers it) and the group's
// launch itself (the twin starts the new instance where the group would). The claim timer's minute is shortened.
// Summary line: `twin replace: <N> stored, <L> lost, <R> retried, slot address back after <S>s`.
import { now, sleep, waitFor } from "../clients";
import { say, TwinPair } from "../pair";
import { Measured, Scenario, ScenarioContext } from "../scenario";
import { firstHolder, firstSlot, slotModality } from "../slotScenario";

const TIMING = {
    warmupSeconds: 6,
    /** The machine is gone before its group notices and launches another (on AWS about a minute; shortened). */
    goneSeconds: 4,
    /** claim.sh's timer, shortened from a minute. */
    claimEverySeconds: 1,
    /** After the address is back: the new instance serves. */
    serveSeconds: 6,
    /** The most the address may take to come back after the new instance is healthy. */
    backBoundSeconds: 30,
} as const;

export function replaceLine(o: { stored: number; lost: number; retried: number; backSeconds: number | undefined }): string {
    return `twin replace: ${o.stored} stored, ${o.lost} lost, ${o.retried} retried, slot address back after ${o.backSeconds === undefined ? "never" : `${o.backSeconds.toFixed(1)}s`}`;
}

async function run(pair: TwinPair, ctx: ScenarioContext): Promise<Measured> {
    const { lab } = pair;
    const [first] = pair.plan.instances;
    const { slot, address } = firstSlot(pair, ctx);
    const other: string[] = [];

    await firstHolder(pair, slot, address, "i-first");

    // A second instance of the slot, still starting (a refresh), must not take it from the one serving.
    slot.launch("i-early");
    await slot.claim("i-early");
    if (slot.holder() !== "i-first") other.push(`claim.sh on a starting instance took the address from the running ${first.name}`);
    else say("a second instance of the slot running claim.sh on its timer leaves the address where it serves");
    await slot.terminate("i-early");

    const clientStart = now();
    const client = slotModality(pair, ctx, address);
    await sleep(TIMING.warmupSeconds * 1000);

    const terminated = now();
    await Promise.all([lab.crash(first.name), lab.crash(`nginx-${first.name}`), lab.crash(`healthz-${first.name}`)]);
    await slot.terminate("i-first");
    say(`terminated ${first.name} (i-first): its processes killed, its interface and the address with it gone`);
    await sleep(TIMING.goneSeconds * 1000);

    // The slot's group launches a new instance in the same subnet; its apply starts the program's files afresh.
    slot.launch("i-second");
    const launched = now();
    await pair.restart(0);
    say(`the slot's group launched i-second: Orthanc, the health checker and nginx started afresh, /healthz 200 ${((now() - launched) / 1000).toFixed(1)}s after the launch`);

    // Its claim timer takes the address, nobody running holding it.
    let claims = 0;
    const back = await waitFor(async () => {
        claims++;
        const r = await slot.claim("i-second");
        if (r.code !== 0) say(`  claim.sh exit ${r.code}: ${r.stderr.trim()}`);
        return slot.holder() === "i-second" && (await slot.configured());
    }, TIMING.backBoundSeconds * 1000, TIMING.claimEverySeconds * 1000);
    const claimedAt = now();
    if (!back) other.push(`i-second did not take the slot address within ${TIMING.backBoundSeconds}s (holder ${slot.holder()})`);
    else say(`claim.sh on i-second's timer took ${address} (${claims} run${claims === 1 ? "" : "s"}), ${((claimedAt - launched) / 1000).toFixed(1)}s after the launch`);
    await sleep(TIMING.serveSeconds * 1000);

    await client.drain(now() + 20000);
    const firstAfter = client.attempts.filter((a) => a.ok && a.startMs >= terminated).map((a) => a.endMs).sort((a, b) => a - b)[0];
    const backSeconds = firstAfter === undefined ? undefined : (firstAfter - terminated) / 1000;
    const afterClaim = client.attempts.filter((a) => a.startMs >= claimedAt + 1000);
    if (back && afterClaim.some((a) => !a.ok)) other.push(`${afterClaim.filter((a) => !a.ok).length} C-STORE(s) to the slot address failed after the new instance had taken it`);
    if (back && !afterClaim.some((a) => a.ok)) other.push("no C-STORE to the slot address succeeded after the new instance had taken it");

    const indexed = await pair.indexedSopUids(1);
    const missing = [...client.acknowledged].filter((uid) => !indexed.has(uid));
    const stored = client.acknowledged.size - missing.length;
    const abandonedStored = [...client.abandoned].filter((uid) => indexed.has(uid)).length;
    const lost = missing.length + client.abandoned.size - abandonedStored;
    say(`results (the modality ran ${((now() - clientStart) / 1000).toFixed(0)}s): ${client.attempts.length} attempts, ${client.acknowledged.size} acknowledged, ` +
        `${client.retried} retries, ${client.abandoned.size} given up, ${missing.length} acknowledged but missing from the index`);
    const reasons = [...other];
    if (lost > 0) reasons.push(`${lost} instance(s) lost`);
    if (backSeconds === undefined) reasons.push("the slot address never served again");
    return { summary: [replaceLine({ stored, lost, retried: client.retried, backSeconds })], reasons };
}

export const replace: Scenario = {
    name: "replace",
    description: "one instance terminated under a modality's load; its slot's new instance takes the reserved address with the program's claim.sh and stores again",
    deadlineSeconds: 120,
    run,
};

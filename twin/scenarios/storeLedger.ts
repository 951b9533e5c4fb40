// What a scenario's C-STORE client leaves behind, checked against the shared index: stored and lost, counted the
// way every `twin ...` line counts them.
import { DicomClient } from "../clients";
import { TwinPair } from "../pair";

export interface Ledger {
    /** Acknowledged C-STOREs found in the shared index. */
    readonly stored: number;
    /** Acknowledged C-STOREs missing from the index, plus instances given up after every retry and not stored. */
    readonly lost: number;
    readonly missing: number;
    readonly abandoned: number;
}

/** Drains the client (retries run until `deadlineMs`) and checks every acknowledged instance in the index. */
export async function ledgerOf(pair: TwinPair, client: DicomClient, deadlineMs: number, indexFrom = 1): Promise<Ledger> {
    await client.drain(deadlineMs);
    const indexed = await pair.indexedSopUids(indexFrom);
    const missing = [...client.acknowledged].filter((uid) => !indexed.has(uid)).length;
    const abandonedNotStored = [...client.abandoned].filter((uid) => !indexed.has(uid)).length;
    return { stored: client.acknowledged.size - missing, lost: missing + abandonedNotStored, missing, abandoned: client.abandoned.size };
}

/** Both instances' /healthz codes, polled until `ready` holds for every instance; per instance the first time it did. */
export async function watchHealth(pair: TwinPair, ready: (code: string) => boolean, fromMs: number, boundMs: number, now: () => number): Promise<(number | undefined)[]> {
    const at: (number | undefined)[] = pair.plan.instances.map(() => undefined);
    while (now() - fromMs < boundMs && at.some((t) => t === undefined)) {
        const codes = await Promise.all(pair.plan.instances.map((_, i) => pair.healthz(i)));
        const t = now();
        codes.forEach((c, i) => {
            if (at[i] === undefined && ready(c)) at[i] = (t - fromMs) / 1000;
        });
        if (at.some((x) => x === undefined)) await new Promise((r) => setTimeout(r, 200));
    }
    return at;
}

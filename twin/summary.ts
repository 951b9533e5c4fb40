// The twin's measurements as pure functions of what the client recorded: the failover gap, the lost
// instances, the summary line and the verdict.

export interface Attempt {
    /** Milliseconds on the twin's monotonic clock. */
    readonly startMs: number;
    readonly endMs: number;
    readonly ok: boolean;
}

export interface Gap {
    /** Start of the first failed attempt in the window, or undefined when none failed. */
    readonly firstFailureMs?: number;
    /** Start of the first successful attempt after the last failed one, or undefined when none came. */
    readonly recoveredMs?: number;
    readonly failures: number;
    /** recoveredMs - firstFailureMs; 0 when nothing failed; a lower bound when not recovered. */
    readonly seconds: number;
    readonly recovered: boolean;
}

/**
 * How long clients were turned away after a fault injected at `fromMs`: from the first failed attempt to the first
 * success after the last failure, among attempts started in [fromMs, untilMs). Measured on start times, so it
 * counts until the front door sent new connections only to the healthy instance, not just until one retry got lucky.
 */
export function failoverGap(attempts: readonly Attempt[], fromMs: number, untilMs: number): Gap {
    const window = attempts.filter((a) => a.startMs >= fromMs && a.startMs < untilMs).sort((x, y) => x.startMs - y.startMs);
    const failed = window.filter((a) => !a.ok);
    if (failed.length === 0) return { failures: 0, seconds: 0, recovered: true };
    const first = failed[0].startMs;
    const last = failed[failed.length - 1].startMs;
    const recovery = window.find((a) => a.ok && a.startMs > last);
    if (!recovery) {
        const lastSeen = Math.max(...window.map((a) => a.startMs));
        return { firstFailureMs: first, failures: failed.length, seconds: (lastSeen - first) / 1000, recovered: false };
    }
    return { firstFailureMs: first, recoveredMs: recovery.startMs, failures: failed.length, seconds: (recovery.startMs - first) / 1000, recovered: true };
}

/**
 * Failed attempts that the failover does not explain: those over before the kill, and those started once the instance
 * was back. An attempt in flight at the kill (started before, ended after) failed because of it: the client retries it.
 */
export function failuresOutside(attempts: readonly Attempt[], killedMs: number, restartedMs: number): number {
    return attempts.filter((a) => !a.ok && (a.endMs < killedMs || a.startMs >= restartedMs)).length;
}

/** Rounds up to a tenth of a second, so a printed gap never looks smaller than the measured one. */
export function ceilTenth(seconds: number): number {
    return Math.ceil(Math.round(seconds * 1000) / 100) / 10;
}

export interface Outcome {
    /** Acknowledged C-STOREs found in the shared index. */
    readonly stored: number;
    /** Acknowledged C-STOREs missing from the index, plus instances given up after every retry. */
    readonly lost: number;
    readonly retried: number;
    readonly gap: Gap;
    readonly modeledSeconds: number;
    /** Other checks (rejoin, web failover, ...) that failed, each a sentence. */
    readonly otherFailures: readonly string[];
}

export function summaryLine(o: Outcome): string {
    const gap = `${o.gap.recovered ? "" : ">"}${ceilTenth(o.gap.seconds).toFixed(1)}s`;
    return `twin: ${o.stored} stored, ${o.lost} lost, ${o.retried} retried, failover gap ${gap} (modeled ${o.modeledSeconds}s)`;
}

/** Why the run fails; empty when it passes. */
export function verdict(o: Outcome): string[] {
    const reasons: string[] = [];
    if (o.lost > 0) reasons.push(`${o.lost} acknowledged or abandoned instance(s) are not in the shared index`);
    if (!o.gap.recovered) reasons.push("clients never got through again after the kill");
    else if (ceilTenth(o.gap.seconds) > o.modeledSeconds) reasons.push(`the failover gap ${ceilTenth(o.gap.seconds).toFixed(1)}s exceeds the modeled ${o.modeledSeconds}s`);
    if (o.stored === 0) reasons.push("nothing was stored");
    reasons.push(...o.otherFailures);
    return reasons;
}

// The upgrade scenario's pure parts: the config change it rolls out, the runtime API commands that stand in for
// the rollout's DeregisterTargets / RegisterTargets, the lowest number of instances in service, the summary line
// and the verdict.
import { routed, ServerState, StateChange } from "./clients";

/** The Orthanc setting the upgrade changes (visible in GET /system as Name). */
export const UPGRADED_SETTING = "Name";

/** The orthanc.json template after the change: one Orthanc setting differs, nothing else. */
export function upgradedTemplate(template: Record<string, unknown>): Record<string, unknown> {
    return { ...template, [UPGRADED_SETTING]: `${String(template[UPGRADED_SETTING] ?? "orthanc")}-upgraded` };
}

/** Deregistration (the apply script's `elbv2 deregister-targets`): no new connections, open ones finish. */
export function drainCommands(backends: readonly string[], server: string): string[] {
    return backends.map((b) => `set server ${b}/${server} state drain`);
}

/**
 * Registration again (`elbv2 register-targets`): like a newly registered NLB target, it gets traffic only after
 * passing the health check `healthyThreshold` times, so its health starts down.
 */
export function registerCommands(backends: readonly string[], server: string): string[] {
    return backends.flatMap((b) => [`set server ${b}/${server} health down`, `set server ${b}/${server} state ready`]);
}

/**
 * The lowest number of instances in service at any moment: replays HAProxy's state changes from the states seen
 * when the clients started; at each moment an instance counts when every target group routes to it.
 */
export function minInService(initial: readonly ServerState[], changes: readonly StateChange[], fromMs: number): number {
    const state = new Map(initial.map((s) => [`${s.backend}/${s.server}`, s.status]));
    const servers = [...new Set(initial.map((s) => s.server))];
    const backends = [...new Set(initial.map((s) => s.backend))];
    const count = () => servers.filter((srv) => backends.every((b) => routed({ backend: b, server: srv, status: state.get(`${b}/${srv}`) ?? "DOWN", checkStatus: "", sessions: 0 }))).length;
    let min = count();
    for (const c of [...changes].filter((c) => c.atMs >= fromMs).sort((a, b) => a.atMs - b.atMs)) {
        state.set(`${c.backend}/${c.server}`, c.to);
        min = Math.min(min, count());
    }
    return min;
}

export interface UpgradeOutcome {
    readonly stored: number;
    readonly lost: number;
    readonly retried: number;
    readonly minHealthy: number;
    readonly otherFailures: readonly string[];
}

export function upgradeSummaryLine(o: UpgradeOutcome): string {
    return `twin upgrade: ${o.stored} stored, ${o.lost} lost, ${o.retried} retried, min healthy ${o.minHealthy}`;
}

export function upgradeVerdict(o: UpgradeOutcome): string[] {
    const reasons: string[] = [];
    if (o.lost > 0) reasons.push(`${o.lost} acknowledged or abandoned instance(s) are not in the shared index`);
    if (o.minHealthy === 0) reasons.push("at some moment no instance was in service: the rollout took both out");
    if (o.stored === 0) reasons.push("nothing was stored");
    reasons.push(...o.otherFailures);
    return reasons;
}

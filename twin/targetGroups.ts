// What the load balancer does, as the program registers it: the target groups (port, protocol, health check)
// read from a run under Pulumi mocks. The twin's HAProxy and its modeled failover time come from these and
// nothing else, so a setting the program does not make is an error here, never a guess.
import { loadBalancerFailoverSeconds } from "../rules/failover";

export const TARGET_GROUP_TYPE = "aws:lb/targetGroup:TargetGroup";

/** The health-check settings the config contract gives a network load balancer by default. */
export const NLB_CONTRACT_HEALTH_CHECK = { intervalSeconds: 5, healthyThreshold: 3, unhealthyThreshold: 2 } as const;

export type TargetProtocol = "TCP" | "TLS";
export type HealthCheckProtocol = "TCP" | "HTTP" | "HTTPS";

export interface HealthCheckSpec {
    readonly protocol: HealthCheckProtocol;
    /** HTTP(S) only. */
    readonly path?: string;
    /** "traffic-port" means the target group's own port. */
    readonly port: number | "traffic-port";
    readonly intervalSeconds: number;
    readonly healthyThreshold: number;
    readonly unhealthyThreshold: number;
    readonly timeoutSeconds: number;
    /** Whether the timeout was set by the program or is the AWS default for the protocol. */
    readonly timeoutFrom: "program" | "AWS default";
    /** HTTP codes counted as healthy, e.g. "200-399" (the NLB default) or "200,401". */
    readonly matcher: string;
}

export interface TargetGroupSpec {
    readonly name: string;
    readonly port: number;
    readonly protocol: TargetProtocol;
    readonly healthCheck: HealthCheckSpec;
    /**
     * Whether the NLB cuts a target's established connections the moment it turns unhealthy (AWS's default when
     * `targetHealthStates` is not set), or lets them drain for `unhealthyDrainingSeconds`.
     */
    readonly unhealthyConnections: { readonly terminate: true } | { readonly terminate: false; readonly drainingSeconds: number };
}

/** The part of a mocked registration this module reads (a fixture file holds the same shape). */
export interface TargetGroupRegistration {
    readonly type: string;
    readonly name: string;
    readonly inputs: Record<string, unknown>;
}

export class TargetGroupError extends Error {
    constructor(public readonly problems: string[]) {
        super(problems.join("\n"));
        this.name = "TargetGroupError";
    }
}

/** NLB health-check timeouts when none is set (AWS API reference, CreateTargetGroup HealthCheckTimeoutSeconds). */
const AWS_DEFAULT_TIMEOUT_SECONDS: Record<HealthCheckProtocol, number> = { HTTP: 6, HTTPS: 10, TCP: 10 };
/** NLB HTTP(S) checks count 200-399 as healthy unless a matcher is set. */
const NLB_DEFAULT_MATCHER = "200-399";

function wholeNumber(value: unknown): number | undefined {
    const n = typeof value === "string" && /^\d+$/.test(value) ? Number(value) : value;
    return typeof n === "number" && Number.isInteger(n) ? n : undefined;
}

function parseOne(reg: TargetGroupRegistration, problems: string[]): TargetGroupSpec | undefined {
    const at = (field: string) => `target group ${reg.name}: ${field}`;
    const before = problems.length;
    const i = reg.inputs;

    const port = wholeNumber(i.port);
    if (port === undefined || port < 1 || port > 65535) problems.push(`${at("port")}: got ${JSON.stringify(i.port)}; need a port number`);
    const protocol = i.protocol;
    if (protocol !== "TCP" && protocol !== "TLS") {
        problems.push(`${at("protocol")}: got ${JSON.stringify(protocol)}; the twin stands in for a network load balancer: TCP or TLS`);
    }

    const hc = (i.healthCheck ?? undefined) as Record<string, unknown> | undefined;
    if (hc === undefined || typeof hc !== "object") {
        problems.push(`${at("healthCheck")}: not set; the twin copies the program's health check and invents none`);
        return undefined;
    }
    if (hc.enabled === false) problems.push(`${at("healthCheck.enabled")}: false; a target group without health checks cannot fail over`);
    const hcProtocol = hc.protocol;
    if (hcProtocol !== "TCP" && hcProtocol !== "HTTP" && hcProtocol !== "HTTPS") {
        problems.push(`${at("healthCheck.protocol")}: got ${JSON.stringify(hcProtocol)}; allowed: TCP | HTTP | HTTPS`);
    }
    const http = hcProtocol === "HTTP" || hcProtocol === "HTTPS";
    const path = hc.path;
    if (http && (typeof path !== "string" || !path.startsWith("/"))) problems.push(`${at("healthCheck.path")}: got ${JSON.stringify(path)}; an HTTP(S) check needs a path`);

    let hcPort: number | "traffic-port" = "traffic-port";
    if (hc.port !== undefined && hc.port !== "traffic-port") {
        const n = wholeNumber(hc.port);
        if (n === undefined || n < 1 || n > 65535) problems.push(`${at("healthCheck.port")}: got ${JSON.stringify(hc.port)}; need a port number or traffic-port`);
        else hcPort = n;
    }

    const required = (field: "interval" | "healthyThreshold" | "unhealthyThreshold", min: number, max: number): number => {
        const n = wholeNumber(hc[field]);
        if (hc[field] === undefined) problems.push(`${at(`healthCheck.${field}`)}: not set; the twin copies the program's health check and invents none`);
        else if (n === undefined || n < min || n > max) problems.push(`${at(`healthCheck.${field}`)}: got ${JSON.stringify(hc[field])}; AWS allows ${min} to ${max}`);
        return n ?? NaN;
    };
    const intervalSeconds = required("interval", 5, 300);
    const healthyThreshold = required("healthyThreshold", 2, 10);
    const unhealthyThreshold = required("unhealthyThreshold", 2, 10);

    let timeoutSeconds = NaN;
    let timeoutFrom: HealthCheckSpec["timeoutFrom"] = "program";
    if (hc.timeout === undefined) {
        timeoutFrom = "AWS default";
        timeoutSeconds = AWS_DEFAULT_TIMEOUT_SECONDS[hcProtocol as HealthCheckProtocol] ?? NaN;
    } else {
        const n = wholeNumber(hc.timeout);
        if (n === undefined || n < 2 || n > 120) problems.push(`${at("healthCheck.timeout")}: got ${JSON.stringify(hc.timeout)}; AWS allows 2 to 120`);
        else timeoutSeconds = n;
    }
    if (!http && (hc.path !== undefined || hc.matcher !== undefined)) {
        problems.push(`${at("healthCheck")}: path/matcher set on a ${String(hcProtocol)} check; AWS rejects them (pulumi-aws #3746)`);
    }
    const matcher = typeof hc.matcher === "string" ? hc.matcher : NLB_DEFAULT_MATCHER;
    if (http && matcherCodes(matcher) === undefined) problems.push(`${at("healthCheck.matcher")}: got ${JSON.stringify(hc.matcher)}; allowed: codes and ranges such as 200 or 200-399 or 200,401`);

    const unhealthyConnections = unhealthyConnectionsOf(i.targetHealthStates, at("targetHealthStates"), problems);

    if (problems.length > before) return undefined;
    return {
        unhealthyConnections: unhealthyConnections!,
        name: reg.name,
        port: port!,
        protocol: protocol as TargetProtocol,
        healthCheck: {
            protocol: hcProtocol as HealthCheckProtocol,
            path: http ? (path as string) : undefined,
            port: hcPort,
            intervalSeconds,
            healthyThreshold,
            unhealthyThreshold,
            timeoutSeconds,
            timeoutFrom,
            matcher,
        },
    };
}

function unhealthyConnectionsOf(value: unknown, at: string, problems: string[]): TargetGroupSpec["unhealthyConnections"] | undefined {
    if (value === undefined) return { terminate: true };
    const states = Array.isArray(value) ? (value as Record<string, unknown>[]) : undefined;
    if (!states || states.length !== 1 || typeof states[0] !== "object" || states[0] === null) {
        problems.push(`${at}: got ${JSON.stringify(value)}; AWS takes one block`);
        return undefined;
    }
    const { enableUnhealthyConnectionTermination: terminate, unhealthyDrainingInterval: draining } = states[0];
    if (terminate === true || terminate === undefined) {
        if (draining !== undefined && draining !== 0) problems.push(`${at}: unhealthyDrainingInterval ${JSON.stringify(draining)} with termination on; AWS takes it only with enableUnhealthyConnectionTermination false`);
        return { terminate: true };
    }
    if (terminate !== false) {
        problems.push(`${at}: enableUnhealthyConnectionTermination got ${JSON.stringify(terminate)}; allowed: true | false`);
        return undefined;
    }
    const seconds = draining === undefined ? 0 : wholeNumber(draining);
    if (seconds === undefined || seconds < 0 || seconds > 360000) {
        problems.push(`${at}: unhealthyDrainingInterval got ${JSON.stringify(draining)}; AWS allows 0 to 360000`);
        return undefined;
    }
    return { terminate: false, drainingSeconds: seconds };
}

/** The HTTP status codes a matcher such as "200-399" or "200,401" accepts, or undefined when it is malformed. */
export function matcherCodes(matcher: string): number[] | undefined {
    const codes: number[] = [];
    for (const part of matcher.split(",").map((p) => p.trim())) {
        const m = /^(\d{3})(?:-(\d{3}))?$/.exec(part);
        if (!m) return undefined;
        const [from, to] = [Number(m[1]), Number(m[2] ?? m[1])];
        if (from < 200 || to > 499 || to < from) return undefined;
        for (let c = from; c <= to; c++) codes.push(c);
    }
    return codes;
}

/**
 * The target groups among the registrations, validated. Throws a TargetGroupError listing every problem;
 * no target group at all is one, named as such (the program has no load balancer front door, or not this one).
 */
export function targetGroupsFrom(registrations: readonly TargetGroupRegistration[]): TargetGroupSpec[] {
    const found = registrations.filter((r) => r.type === TARGET_GROUP_TYPE);
    if (found.length === 0) {
        throw new TargetGroupError([`the program registered no ${TARGET_GROUP_TYPE}: there is no load balancer front door to stand in for`]);
    }
    const problems: string[] = [];
    const specs = found.map((r) => parseOne(r, problems));
    const ports = new Map<number, string>();
    for (const s of specs) {
        if (!s) continue;
        const other = ports.get(s.port);
        if (other) problems.push(`target groups ${other} and ${s.name}: both on port ${s.port}; the twin listens on each target group's port`);
        ports.set(s.port, s.name);
    }
    if (problems.length > 0) throw new TargetGroupError(problems);
    return specs as TargetGroupSpec[];
}

/** The failover time the plan models for a target group (rules/failover.ts). */
export function modeledFailoverSeconds(tg: TargetGroupSpec): number {
    return loadBalancerFailoverSeconds({ intervalSeconds: tg.healthCheck.intervalSeconds, unhealthyThreshold: tg.healthCheck.unhealthyThreshold });
}

/**
 * A stack config (full keys, as in Pulumi.<stack>.yaml) whose front door is a network load balancer: the given
 * one when it already is, else the same stack with `traffic` replaced by a network load balancer with the
 * contract's health-check defaults (a client VPN, if any, is kept).
 */
export function networkLoadBalancerStack(raw: Record<string, unknown>): { raw: Record<string, unknown>; note: string } {
    const traffic = (raw["orthweb:traffic"] ?? {}) as Record<string, unknown>;
    const lb = (traffic.loadBalancer ?? {}) as Record<string, unknown>;
    if (traffic.frontDoor === "loadBalancer" && (lb.type ?? "network") === "network") {
        return { raw, note: "the stack's own network load balancer" };
    }
    const replaced: Record<string, unknown> = {
        frontDoor: "loadBalancer",
        loadBalancer: { type: "network", healthCheck: { ...NLB_CONTRACT_HEALTH_CHECK } },
    };
    if (traffic.clientVpn !== undefined) replaced.clientVpn = traffic.clientVpn;
    const hc = NLB_CONTRACT_HEALTH_CHECK;
    return {
        raw: { ...raw, "orthweb:traffic": replaced },
        note:
            `frontDoor ${JSON.stringify(traffic.frontDoor)} replaced by loadBalancer type network with the contract's health check ` +
            `(interval ${hc.intervalSeconds}s, healthy ${hc.healthyThreshold}, unhealthy ${hc.unhealthyThreshold})`,
    };
}

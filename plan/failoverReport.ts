// Per traffic kind and path: how an instance failure is detected and the worst case until clients are served by
// the other instance, from the planned health checks (rules/failover.ts does the arithmetic). Pure.
import { dnsFailoverSeconds, loadBalancerFailoverSeconds } from "../rules/failover";
import { Endpoint, TrafficKind } from "./endpoints";
import { DnsHealthCheckInfo, PlanModel } from "./planModel";
import { Reachability } from "./reachability";
import { DICOM_PORT, WEB_PORT } from "../rules/ports";

/** pulumi-aws's target group health check defaults when the program leaves them unset. */
export const TARGET_GROUP_DEFAULT_INTERVAL = 30;
export const TARGET_GROUP_DEFAULT_UNHEALTHY_THRESHOLD = 3;

export interface FailoverRow {
    readonly traffic: TrafficKind;
    /** The path clients take: a load balancer, a DNS name, the instances' own names. */
    readonly path: string;
    readonly automatic: boolean;
    readonly detection: string;
    /** Worst case until clients reach the other instance; null when a person has to act. */
    readonly worstCaseSeconds: number | null;
    readonly breakdown: string;
    readonly assumptions: string[];
}

const PORT: Record<TrafficKind, number> = { web: WEB_PORT, dicom: DICOM_PORT };

function checkedPorts(check: DnsHealthCheckInfo): number[] {
    if (check.type !== "CALCULATED") return check.port === undefined ? [] : [check.port];
    // A calculated check turns unhealthy on one child's failure only when it needs every child healthy.
    const all = (check.childHealthThreshold ?? 0) >= check.children.length;
    return all ? check.children.flatMap(checkedPorts) : [];
}

function describeCheck(check: DnsHealthCheckInfo): string {
    if (check.type === "CALCULATED") return `calculated (${check.children.map(describeCheck).join(" + ")})`;
    return `${check.type}${check.path ? ` ${check.path}` : ""} on ${check.port ?? "?"}`;
}

function loadBalancerRows(kind: TrafficKind, endpoints: Endpoint[], model: PlanModel, reach: Reachability): FailoverRow[] {
    const rows: FailoverRow[] = [];
    for (const lb of model.loadBalancers) {
        const ep = endpoints.find((e) => e.kind === kind && e.frontDoor === "loadBalancer" && e.resource === lb.name);
        if (!ep) continue;
        const listener = lb.listeners.find((l) => l.port === ep.port);
        const tg = listener?.targetGroups[0];
        if (!tg) continue;
        const hc = tg.healthCheck;
        const assumptions: string[] = [];
        const interval = hc.intervalSeconds ?? TARGET_GROUP_DEFAULT_INTERVAL;
        const unhealthy = hc.unhealthyThreshold ?? TARGET_GROUP_DEFAULT_UNHEALTHY_THRESHOLD;
        if (hc.intervalSeconds === undefined) assumptions.push(`health check interval not set: the provider default ${interval} s`);
        if (hc.unhealthyThreshold === undefined) assumptions.push(`unhealthy threshold not set: the provider default ${unhealthy}`);
        const seconds = loadBalancerFailoverSeconds({ intervalSeconds: interval, unhealthyThreshold: unhealthy });
        const hcPort = hc.port && hc.port !== "traffic-port" ? hc.port : String(tg.port ?? "?");
        const toTargets = reach.cells.find((c) => c.source === `lb:${lb.name}` && c.destination === `instance:${tg.port}`);
        const blocked = toTargets && toTargets.verdict !== "allowed" ? toTargets : undefined;
        assumptions.push(
            `new ${kind === "dicom" ? "associations" : "connections"} go to the healthy instance once the failed one is marked unhealthy; ` +
                `${kind === "dicom" ? "associations" : "connections"} open on the failed instance are lost and must be retried`,
        );
        if (lb.type === "network" && lb.crossZone !== true) {
            assumptions.push("cross-zone load balancing is off: clients holding the failed AZ's load balancer address are not served until they resolve again");
        }
        if (tg.deregistrationDelay !== undefined) assumptions.push(`deregistration delay ${tg.deregistrationDelay} s drains connections on planned changes`);
        rows.push({
            traffic: kind,
            path: `load balancer ${lb.name} (${ep.host}:${ep.port})`,
            automatic: !blocked,
            detection: `${(hc.protocol ?? tg.protocol ?? "TCP").toUpperCase()}${hc.path ? ` ${hc.path}` : ""} on ${hcPort} every ${interval} s; unhealthy after ${unhealthy} failures`,
            worstCaseSeconds: blocked ? null : seconds,
            breakdown: blocked
                ? `never: ${lb.name} cannot reach the targets (${blocked.reason}), so no target is ever healthy`
                : `${interval} s x ${unhealthy} failed checks = ${seconds} s`,
            assumptions,
        });
    }
    return rows;
}

function dnsRows(kind: TrafficKind, endpoints: Endpoint[], model: PlanModel, reach: Reachability): FailoverRow[] {
    const rows: FailoverRow[] = [];
    for (const ep of endpoints.filter((e) => e.kind === kind && e.frontDoor === "dns")) {
        const records = model.dnsRecords.filter((r) => r.name === ep.host && r.values.length > 0);
        const checks = records.map((r) => r.healthCheck).filter((c): c is DnsHealthCheckInfo => !!c);
        const routing = records[0]?.routing ?? "simple";
        const ttl = Math.max(0, ...records.map((r) => r.ttl ?? 0));
        const assumptions = [
            "resolvers honour the TTL; clients that cache longer wait longer: DICOM devices often keep an address until restarted",
            ...[...new Set(checks.flatMap((c) => c.defaulted))],
        ];
        if (checks.length < records.length || routing === "simple") {
            rows.push({
                traffic: kind,
                path: `DNS ${ep.host} (${routing})`,
                automatic: false,
                detection: "none: records without health checks are always answered",
                worstCaseSeconds: null,
                breakdown: "manual: remove the failed instance's record",
                assumptions,
            });
            continue;
        }
        const interval = Math.max(...checks.map((c) => c.intervalSeconds));
        const threshold = Math.max(...checks.map((c) => c.failureThreshold));
        const ports = [...new Set(checks.flatMap(checkedPorts))];
        if (!ports.includes(PORT[kind])) {
            assumptions.push(`the checks do not probe ${PORT[kind]}: a ${kind} failure alone is not detected, only a failure the checks see`);
        }
        const blocked = ports
            .map((p) => reach.cells.find((c) => c.source === "route53HealthCheckers" && c.destination === `instance:${p}`))
            .find((c) => c && c.verdict !== "allowed");
        const seconds = dnsFailoverSeconds({ intervalSeconds: interval, failureThreshold: threshold, ttlSeconds: ttl });
        rows.push({
            traffic: kind,
            path: `DNS ${ep.host} (${routing}, TTL ${ttl} s)`,
            automatic: !blocked,
            detection: `${describeCheck(checks[0])} every ${interval} s; unhealthy after ${threshold} failures`,
            worstCaseSeconds: blocked ? null : seconds,
            breakdown: blocked
                ? `never: the health checkers cannot reach the instances (${blocked.reason}); Route 53 fails open and keeps answering with both`
                : `${interval} s x ${threshold} failed checks + ${interval} s for Route 53 to act + ${ttl} s TTL = ${seconds} s`,
            assumptions,
        });
    }
    return rows;
}

const MANUAL_PATHS = {
    direct: "direct: one public name per instance",
    clientVpn: "Client VPN: one private address per instance",
    siteToSite: "site-to-site VPN: one private address per instance",
} as const;

function manualRows(kind: TrafficKind, endpoints: Endpoint[], frontDoor: keyof typeof MANUAL_PATHS, model: PlanModel): FailoverRow[] {
    const eps = endpoints.filter((e) => e.kind === kind && e.frontDoor === frontDoor);
    if (eps.length === 0) return [];
    const shared = model.databases.length > 0 ? "both instances share one database and one bucket, so either serves every study" : "";
    return [
        {
            traffic: kind,
            path: MANUAL_PATHS[frontDoor],
            automatic: false,
            detection: "none: no health check routes clients",
            worstCaseSeconds: null,
            breakdown: `manual: ${kind === "dicom" ? "re-point modalities to" : "users open"} the other instance (${eps.map((e) => e.host).join(" or ")})`,
            assumptions: [shared, kind === "dicom" ? "the AE title stays the same; only the host changes" : "bookmarks name one instance each"].filter(Boolean),
        },
    ];
}

/** Failover rows for web and DICOM traffic, one per path clients can take. */
export function failoverOf(model: PlanModel, endpoints: Endpoint[], reach: Reachability): FailoverRow[] {
    const rows: FailoverRow[] = [];
    for (const kind of ["web", "dicom"] as const) {
        const forKind = [
            ...loadBalancerRows(kind, endpoints, model, reach),
            ...dnsRows(kind, endpoints, model, reach),
            ...manualRows(kind, endpoints, "direct", model),
            ...manualRows(kind, endpoints, "clientVpn", model),
            ...manualRows(kind, endpoints, "siteToSite", model),
        ];
        if (forKind.length === 0) {
            forKind.push({ traffic: kind, path: "not served", automatic: false, detection: "-", worstCaseSeconds: null, breakdown: `no endpoint serves ${kind} traffic`, assumptions: [] });
        }
        rows.push(...forKind);
    }
    return rows;
}

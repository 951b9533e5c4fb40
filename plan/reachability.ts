// Who can reach which port, computed from the planned security groups, subnets and load balancer schemes.
// Pure: a function of the registration records (plus the configured client blocks, which name two sources).
//
// The model follows AWS's evaluation: traffic from outside the VPC needs a public address on the target (public
// subnet + Elastic IP, or a publicly accessible RDS); traffic from inside needs an egress rule on the sender's
// groups and an ingress rule on the receiver's groups (security groups are stateful, so replies need nothing).
// A rule matches by CIDR block (covering the source's addresses), by referenced security group (one of the
// sender's) or by managed prefix list (the Route 53 health checkers).
import { Registration } from "./mockRuntime";
import { buildModel, Host, LoadBalancerInfo, Peer, PlanModel, PrefixListInfo, SgRule } from "./planModel";
import { contains, overlaps, parseCidr } from "../rules/cidr";
import { Egress, egressOf, siteConnectionsOf } from "./siteToSite";
import { DICOM_PORT, WEB_PORT } from "../rules/ports";

export type Verdict = "allowed" | "partial" | "denied" | "n/a";

export interface ReachabilityContext {
    readonly region: string;
    /** The configured web client blocks (orthweb:network.webClientCidrs). */
    readonly webClientCidrs: readonly string[];
    /** The configured DICOM client blocks (orthweb:network.dicomClientCidrs). */
    readonly dicomClientCidrs: readonly string[];
    /** Managed prefix lists the program looked up: how the health checkers' list is recognised. */
    readonly prefixLists?: readonly PrefixListInfo[];
    /** The configured on-premises ranges of a site-to-site VPN (orthweb:traffic.siteToSiteVpn.onPremisesCidrs). */
    readonly onPremisesCidrs?: readonly string[];
}

export interface Destination {
    readonly key: string;
    readonly label: string;
    readonly hostKind: "instance" | "database";
    readonly port: number;
}

export const SSH_PORT = 22;
export const DESTINATIONS: readonly Destination[] = [
    { key: "instance:443", label: "instance 443", hostKind: "instance", port: WEB_PORT },
    { key: "instance:11112", label: "instance 11112", hostKind: "instance", port: DICOM_PORT },
    { key: "database:5432", label: "database 5432", hostKind: "database", port: 5432 },
    { key: "instance:22", label: "instance 22", hostKind: "instance", port: SSH_PORT },
];

export interface SourceSummary {
    readonly key: string;
    readonly label: string;
    /** What the source is made of: blocks, groups, prefix lists. */
    readonly detail: string;
}

export interface ReachCell {
    readonly source: string;
    readonly destination: string;
    readonly port: number;
    readonly verdict: Verdict;
    /** The rules that let the traffic in (and out), by resource name. */
    readonly rules: string[];
    /** Why: the rules with what they match, or what is missing. */
    readonly reason: string;
    /** Working paths through a load balancer when the port itself is not reachable directly. */
    readonly via: string[];
}

export interface Reachability {
    readonly sources: SourceSummary[];
    readonly destinations: readonly Destination[];
    readonly cells: ReachCell[];
    /** Problems the table reveals: health checks that cannot reach their targets, open SSH, ... */
    readonly findings: string[];
    /** How the instances reach the internet (the "internet egress" row says the same). */
    readonly egress: Egress;
}

/** One concrete sender: addresses, security groups and prefix lists the traffic carries. */
interface Sender {
    readonly label: string;
    readonly origin: "internet" | "vpc";
    /** Source address blocks; undefined: public addresses not known offline (only 0.0.0.0/0 covers them). */
    readonly cidrs?: readonly string[];
    readonly securityGroupIds: readonly string[];
    readonly prefixListIds: readonly string[];
    /** Client VPN: the target networks its authorization rules open. */
    readonly authorizedCidrs?: readonly string[];
    readonly hostId?: string;
}

interface Source extends SourceSummary {
    /** Why the source cannot send anything at all (no VPN endpoint, ...). */
    readonly unavailable?: string;
    /** The concrete senders towards a host (the other instance differs per host). */
    sendersFor(host: Host): Sender[];
}

interface HostResult {
    readonly verdict: Verdict;
    readonly rules: string[];
    readonly reason: string;
}

const ANYWHERE = "0.0.0.0/0";

function portMatches(rule: SgRule, port: number): boolean {
    return (rule.protocol === "tcp" || rule.protocol === "all" || rule.protocol === "6") && rule.fromPort <= port && port <= rule.toPort;
}

function describePeer(peer: Peer, model: PlanModel): string {
    switch (peer.kind) {
        case "cidr":
            return peer.cidr;
        case "securityGroup":
            return `group ${model.securityGroupName(peer.id)}`;
        case "prefixList":
            return `prefix list ${model.prefixLists.get(peer.id)?.name ?? peer.id}`;
        case "self":
            return "its own group";
    }
}

function ruleLabel(rule: SgRule, model: PlanModel): string {
    return `${rule.name} (${describePeer(rule.peer, model)})`;
}

interface Coverage {
    readonly full: boolean;
    readonly any: boolean;
    readonly used: SgRule[];
    /** The parts of the source that get through: whole source blocks, or the rule blocks inside them. */
    readonly reached: string[];
}

/**
 * How much of `cidrs` the CIDR peers cover. Each source block is covered when one rule contains it, touched when
 * a rule overlaps it. `cidrs` undefined stands for public addresses not known offline: only 0.0.0.0/0 covers them.
 */
function cidrCoverage(cidrs: readonly string[] | undefined, rules: SgRule[]): Coverage {
    const cidrRules = rules.filter((r) => r.peer.kind === "cidr");
    if (cidrs === undefined) {
        const used = cidrRules.filter((r) => r.peer.kind === "cidr" && r.peer.cidr === ANYWHERE);
        return { full: used.length > 0, any: used.length > 0, used, reached: [] };
    }
    const used = new Set<SgRule>();
    const reached: string[] = [];
    let covered = 0;
    for (const block of cidrs) {
        const source = parseCidr(block);
        if (!source) continue;
        let full = false;
        const overlapping: string[] = [];
        for (const r of cidrRules) {
            const ruleCidr = r.peer.kind === "cidr" ? parseCidr(r.peer.cidr) : undefined;
            if (!ruleCidr) continue;
            if (contains(ruleCidr, source)) {
                full = true;
                used.add(r);
            } else if (overlaps(ruleCidr, source)) {
                used.add(r);
                overlapping.push(ruleCidr.text);
            }
        }
        if (full) {
            covered++;
            reached.push(block);
        } else reached.push(...overlapping);
    }
    const parsed = cidrs.filter((c) => parseCidr(c)).length;
    return { full: parsed > 0 && covered === parsed, any: used.size > 0, used: [...used], reached: [...new Set(reached)] };
}

/** The rules among `rules` that admit `sender` (by group, prefix list or self), and the CIDR coverage. */
function admitted(rules: SgRule[], sender: Sender): Coverage {
    const byIdentity = rules.filter(
        (r) =>
            (r.peer.kind === "securityGroup" && sender.securityGroupIds.includes(r.peer.id)) ||
            (r.peer.kind === "prefixList" && sender.prefixListIds.includes(r.peer.id)) ||
            (r.peer.kind === "self" && sender.securityGroupIds.includes(r.securityGroupId)),
    );
    const cidr = cidrCoverage(sender.cidrs, rules);
    if (byIdentity.length > 0) return { full: true, any: true, used: [...byIdentity, ...(cidr.full ? cidr.used : [])], reached: [] };
    return cidr;
}

function groupNames(ids: readonly string[], model: PlanModel): string {
    return ids.length === 0 ? "(no security group)" : ids.map((id) => model.securityGroupName(id)).join(", ");
}

/** A host's private address as a /32, when it lies in the plan's VPC (mocked addresses may not); else the VPC. */
function hostAddress(host: Host, model: PlanModel): string[] {
    const ip = host.privateIp ? parseCidr(`${host.privateIp}/32`) : undefined;
    const inVpc = ip && model.vpcCidrs.some((c) => {
        const vpc = parseCidr(c);
        return vpc !== undefined && contains(vpc, ip);
    });
    return inVpc ? [`${host.privateIp}/32`] : model.vpcCidrs;
}

/** Can `sender` open a TCP connection to `host` on `port`? */
function evaluate(sender: Sender, host: Host, port: number, model: PlanModel): HostResult {
    if (sender.hostId === host.id) return { verdict: "n/a", rules: [], reason: "itself" };
    if (sender.origin === "internet" && !host.isPublic) {
        const why =
            host.kind === "database"
                ? "the database is not publicly accessible"
                : host.subnet?.kind === "public"
                  ? "the instance has no public address"
                  : `the instance has no public address (${host.subnet?.kind ?? "unknown"} subnet)`;
        return { verdict: "denied", rules: [], reason: why };
    }
    if (sender.authorizedCidrs !== undefined) {
        const targets = hostAddress(host, model).map((c) => parseCidr(c)).filter((c) => !!c);
        const authorized = sender.authorizedCidrs.map((c) => parseCidr(c)).filter((c) => !!c);
        if (targets.length === 0 || !targets.every((t) => authorized.some((a) => contains(a!, t!)))) {
            return {
                verdict: "denied",
                rules: [],
                reason: sender.authorizedCidrs.length === 0 ? "no Client VPN authorization rule (access is denied by default)" : `no Client VPN authorization rule covers ${host.name}`,
            };
        }
    }
    const egressRules: SgRule[] = [];
    if (sender.origin === "vpc" && sender.securityGroupIds.length > 0) {
        const candidates = model.rules.filter((r) => r.direction === "egress" && sender.securityGroupIds.includes(r.securityGroupId) && portMatches(r, port));
        const toHost = candidates.filter(
            (r) =>
                (r.peer.kind === "securityGroup" && host.securityGroupIds.includes(r.peer.id)) ||
                (r.peer.kind === "self" && host.securityGroupIds.includes(r.securityGroupId)),
        );
        const byCidr = cidrCoverage(hostAddress(host, model), candidates);
        egressRules.push(...toHost, ...(byCidr.full ? byCidr.used : []));
        if (egressRules.length === 0) {
            return {
                verdict: "denied",
                rules: [],
                reason: `egress: no rule on ${groupNames(sender.securityGroupIds, model)} lets tcp ${port} out to ${groupNames(host.securityGroupIds, model)}`,
            };
        }
    }
    const ingress = model.rules.filter((r) => r.direction === "ingress" && host.securityGroupIds.includes(r.securityGroupId) && portMatches(r, port));
    const result = admitted(ingress, sender);
    const egressText = egressRules.length > 0 ? `; out by ${egressRules.map((r) => r.name).join(", ")}` : "";
    if (result.full) {
        return { verdict: "allowed", rules: [...result.used, ...egressRules].map((r) => r.name), reason: `by ${result.used.map((r) => ruleLabel(r, model)).join(", ")}${egressText}` };
    }
    if (result.any) {
        return {
            verdict: "partial",
            rules: [...result.used, ...egressRules].map((r) => r.name),
            reason: `only ${result.reached.join(", ")} of ${sender.cidrs?.join(", ") ?? "them"}, by ${result.used.map((r) => r.name).join(", ")}${egressText}`,
        };
    }
    return { verdict: "denied", rules: [], reason: `no rule on ${groupNames(host.securityGroupIds, model)} admits it on tcp ${port}` };
}

function combine(results: HostResult[]): HostResult {
    const relevant = results.filter((r) => r.verdict !== "n/a");
    if (relevant.length === 0) return results[0] ?? { verdict: "n/a", rules: [], reason: "nothing to reach" };
    const verdicts = new Set(relevant.map((r) => r.verdict));
    const rules = [...new Set(relevant.flatMap((r) => r.rules))];
    const reasons = [...new Set(relevant.map((r) => r.reason))];
    if (verdicts.size === 1) return { verdict: relevant[0].verdict, rules, reason: reasons.join("; ") };
    return { verdict: "partial", rules, reason: reasons.join("; ") };
}

function lbLabel(lb: LoadBalancerInfo): string {
    return `load balancer ${lb.name} (${lb.type}, ${lb.internal ? "internal" : "internet-facing"})`;
}

function buildSources(model: PlanModel, ctx: ReachabilityContext): Source[] {
    const fixed = (s: Omit<Sender, "label"> & { key: string; label: string; detail: string; unavailable?: string }): Source => ({
        key: s.key,
        label: s.label,
        detail: s.detail,
        unavailable: s.unavailable,
        sendersFor: () => [{ ...s }],
    });
    const checkerLists = [...model.prefixLists.values()].filter((p) => p.name.endsWith(".route53-healthchecks"));
    const checkerName = `com.amazonaws.${ctx.region}.route53-healthchecks`;
    const sources: Source[] = [
        fixed({ key: "internet", label: "internet at large", detail: ANYWHERE, origin: "internet", cidrs: [ANYWHERE], securityGroupIds: [], prefixListIds: [] }),
        fixed({
            key: "webClients",
            label: "web clients",
            detail: ctx.webClientCidrs.join(", "),
            origin: "internet",
            cidrs: ctx.webClientCidrs,
            securityGroupIds: [],
            prefixListIds: [],
        }),
        fixed({
            key: "dicomClients",
            label: "DICOM clients",
            detail: ctx.dicomClientCidrs.join(", "),
            origin: "internet",
            cidrs: ctx.dicomClientCidrs,
            securityGroupIds: [],
            prefixListIds: [],
        }),
    ];
    if (model.vpnEndpoints.length === 0) {
        sources.push(fixed({ key: "vpnClients", label: "VPN clients", detail: "no Client VPN endpoint in this plan", unavailable: "no Client VPN endpoint", origin: "vpc", securityGroupIds: [], prefixListIds: [] }));
    }
    for (const ep of model.vpnEndpoints) {
        sources.push(
            fixed({
                key: model.vpnEndpoints.length === 1 ? "vpnClients" : `vpnClients:${ep.name}`,
                label: model.vpnEndpoints.length === 1 ? "VPN clients" : `VPN clients (${ep.name})`,
                // Client VPN source-NATs clients to its network interfaces: rules must name the endpoint's group.
                detail: `${ep.clientCidrBlock ?? "?"} via ${ep.name}, seen as group ${groupNames(ep.securityGroupIds, model)}`,
                unavailable: ep.associations === 0 ? `${ep.name} has no subnet association: clients cannot connect` : undefined,
                origin: "vpc",
                cidrs: model.vpcCidrs,
                securityGroupIds: ep.securityGroupIds,
                prefixListIds: [],
                authorizedCidrs: ep.authorizedCidrs,
            }),
        );
    }
    sources.push(onPremisesSource(model, ctx, fixed));
    for (const lb of model.loadBalancers) {
        sources.push(
            fixed({
                key: `lb:${lb.name}`,
                label: lbLabel(lb),
                detail: lb.securityGroupIds.length > 0 ? `group ${groupNames(lb.securityGroupIds, model)}` : `no security group: addresses in ${model.vpcCidrs.join(", ")}`,
                origin: "vpc",
                cidrs: model.vpcCidrs,
                securityGroupIds: lb.securityGroupIds,
                prefixListIds: [],
            }),
        );
    }
    sources.push(
        fixed({
            key: "route53HealthCheckers",
            label: "Route 53 health checkers",
            detail: checkerLists.length > 0 ? `prefix list ${checkerLists.map((p) => p.name).join(", ")}` : `${checkerName}, not referenced by this plan`,
            origin: "internet",
            cidrs: checkerLists.length > 0 && checkerLists.every((p) => p.cidrs.length > 0) ? checkerLists.flatMap((p) => p.cidrs) : undefined,
            securityGroupIds: [],
            prefixListIds: checkerLists.map((p) => p.id),
        }),
    );
    const egress = egressOf(model);
    // Outbound, not inbound: every cell of this row is n/a, its detail says where instances' traffic goes out.
    sources.push(
        fixed({ key: "internetEgress", label: "internet egress", detail: egress.detail, unavailable: "outbound only (from the instances to the internet; see the detail)", origin: "vpc", securityGroupIds: [], prefixListIds: [] }),
    );
    sources.push({
        key: "otherInstance",
        label: "the other instance",
        detail: `${model.instances.map((i) => i.name).join(" and ")} to each other; all of them to the database`,
        unavailable: model.instances.length === 0 ? "no instances" : undefined,
        sendersFor: (host) =>
            model.instances
                .filter((i) => i.id !== host.id)
                .map((i) => ({
                    label: i.name,
                    origin: "vpc" as const,
                    cidrs: hostAddress(i, model),
                    securityGroupIds: i.securityGroupIds,
                    prefixListIds: [],
                    hostId: i.id,
                })),
    });
    return sources;
}

/**
 * The site behind a site-to-site VPN: its own addresses arrive in the VPC unchanged (no NAT), so instance rules must
 * name its ranges; it needs no public address on the target.
 */
function onPremisesSource(model: PlanModel, ctx: ReachabilityContext, fixed: (s: Omit<Sender, "label"> & { key: string; label: string; detail: string; unavailable?: string }) => Source): Source {
    const connections = siteConnectionsOf(model);
    const cidrs = ctx.onPremisesCidrs ?? [];
    const unrouted = connections.filter((c) => c.routeTables === 0).map((c) => c.name);
    return fixed({
        key: "onPremises",
        label: "on-premises network (site-to-site)",
        detail:
            connections.length === 0
                ? "no site-to-site VPN connection in this plan"
                : `${cidrs.join(", ") || "(ranges not configured)"} via ${connections.map((c) => `${c.name} (${c.gateway}, ${c.routing})`).join(", ")}`,
        unavailable:
            connections.length === 0
                ? "no site-to-site VPN connection"
                : unrouted.length > 0
                  ? `no route table learns the site's ranges (${unrouted.join(", ")}): replies cannot go back`
                  : undefined,
        origin: "vpc",
        cidrs,
        securityGroupIds: [],
        prefixListIds: [],
    });
}

function lbSender(lb: LoadBalancerInfo, model: PlanModel): Sender {
    return { label: lb.name, origin: "vpc", cidrs: model.vpcCidrs, securityGroupIds: lb.securityGroupIds, prefixListIds: [] };
}

/** Working paths from an outside sender through a load balancer to `port` on every instance behind it. */
function viaLoadBalancers(sender: Sender, port: number, model: PlanModel): string[] {
    if (sender.origin !== "internet") return [];
    const paths: string[] = [];
    for (const lb of model.loadBalancers) {
        if (lb.internal || (lb.subnets.length > 0 && !lb.subnets.some((s) => s.kind === "public"))) continue;
        for (const listener of lb.listeners) {
            if (listener.port === undefined) continue;
            const groups = listener.targetGroups.filter((tg) => (tg.port ?? listener.port) === port && tg.targets.length > 0);
            if (groups.length === 0) continue;
            // An NLB without security groups admits everyone; otherwise its groups must admit the sender. A path
            // that admits only part of the sender's addresses (the internet, through a group that names one block)
            // is marked as such, so that the table does not show the whole internet getting through.
            let partly = false;
            if (lb.securityGroupIds.length > 0) {
                const ingress = model.rules.filter((r) => r.direction === "ingress" && lb.securityGroupIds.includes(r.securityGroupId) && portMatches(r, listener.port!));
                const admit = admitted(ingress, sender);
                if (!admit.any) continue;
                partly = !admit.full;
            }
            const targets = groups.flatMap((g) => g.targets).map((name) => model.instances.find((i) => i.name === name)).filter((i): i is Host => !!i);
            if (targets.length > 0 && targets.every((t) => evaluate(lbSender(lb, model), t, port, model).verdict === "allowed")) {
                paths.push(`${lb.name}:${listener.port}${partly ? " (part)" : ""}`);
            }
        }
    }
    return paths;
}

/** The reachability table of a plan. */
export function reachabilityOf(model: PlanModel, ctx: ReachabilityContext): Reachability {
    const sources = buildSources(model, ctx);
    const cells: ReachCell[] = [];
    for (const source of sources) {
        for (const dest of DESTINATIONS) {
            const hosts = dest.hostKind === "instance" ? model.instances : model.databases;
            const base = { source: source.key, destination: dest.key, port: dest.port };
            if (source.unavailable) {
                cells.push({ ...base, verdict: "n/a", rules: [], reason: source.unavailable, via: [] });
                continue;
            }
            if (hosts.length === 0) {
                cells.push({ ...base, verdict: "n/a", rules: [], reason: `no ${dest.hostKind} in this plan`, via: [] });
                continue;
            }
            const perHost = hosts.map((host) => {
                const senders = source.sendersFor(host);
                if (senders.length === 0) return { verdict: "n/a" as Verdict, rules: [], reason: "no sender" };
                return combine(senders.map((s) => evaluate(s, host, dest.port, model)));
            });
            const combined = combine(perHost);
            const reason =
                combined.verdict === "partial" && new Set(perHost.map((r) => r.verdict)).size > 1
                    ? hosts.map((h, i) => `${h.name}: ${perHost[i].verdict}, ${perHost[i].reason}`).join("; ")
                    : combined.reason;
            const via = combined.verdict === "allowed" || dest.hostKind !== "instance" ? [] : [...new Set(source.sendersFor(hosts[0]).flatMap((s) => viaLoadBalancers(s, dest.port, model)))];
            cells.push({ ...base, verdict: combined.verdict, rules: combined.rules, reason, via });
        }
    }
    return { sources: sources.map(({ key, label, detail }) => ({ key, label, detail })), destinations: DESTINATIONS, cells, findings: findingsOf(model, ctx, cells), egress: egressOf(model) };
}

/** The reachability table of a set of registration records. Pure. */
export function reachability(registrations: readonly Registration[], ctx: ReachabilityContext): Reachability {
    return reachabilityOf(buildModel(registrations, ctx.prefixLists), ctx);
}

function findingsOf(model: PlanModel, ctx: ReachabilityContext, cells: ReachCell[]): string[] {
    const findings: string[] = [];
    const cell = (source: string, destination: string) => cells.find((c) => c.source === source && c.destination === destination);

    // Route 53 health checks that cannot reach what they probe fail; Route 53 then fails open.
    const checkers = buildSources(model, ctx).find((s) => s.key === "route53HealthCheckers")!;
    for (const check of model.dnsHealthChecks.filter((c) => c.type !== "CALCULATED" && c.ipAddress)) {
        const host = model.instances.find((i) => i.publicIp === check.ipAddress);
        if (!host) {
            findings.push(`Route 53 health check ${check.name} probes ${check.ipAddress}, which is not an instance address of this plan`);
            continue;
        }
        if (check.port === undefined) continue;
        const result = combine(checkers.sendersFor(host).map((s) => evaluate(s, host, check.port!, model)));
        if (result.verdict !== "allowed") {
            findings.push(
                `Route 53 health check ${check.name} probes ${host.name} on ${check.port} but the health checkers cannot reach it ` +
                    `(${result.reason}): the check fails, Route 53 then treats every record as healthy and never fails over`,
            );
        }
    }
    for (const record of model.dnsRecords.filter((r) => r.values.length > 0 && r.routing !== "simple" && !r.healthCheck)) {
        findings.push(`Route 53 record ${record.resource} (${record.routing}) has no health check: Route 53 always considers it healthy`);
    }

    // Load balancer health checks obey the balancer's egress and the targets' ingress.
    for (const lb of model.loadBalancers) {
        if (lb.type === "network" && lb.securityGroupIds.length === 0) {
            findings.push(`${lb.name}: a network load balancer created without security groups can never get them (adding them replaces it)`);
        }
        for (const listener of lb.listeners) {
            for (const tg of listener.targetGroups) {
                const hcPort = tg.healthCheck.port && tg.healthCheck.port !== "traffic-port" ? Number(tg.healthCheck.port) : tg.port;
                const ports = [...new Set([tg.port, hcPort].filter((p): p is number => p !== undefined && Number.isFinite(p)))];
                if (tg.targets.length === 0) findings.push(`target group ${tg.name} (listener ${listener.name}) has no targets attached`);
                for (const name of tg.targets) {
                    const host = model.instances.find((i) => i.name === name);
                    if (!host) continue;
                    for (const port of ports) {
                        const result = evaluate(lbSender(lb, model), host, port, model);
                        if (result.verdict !== "allowed") {
                            findings.push(`${lb.name} cannot reach ${host.name} on ${port} for target group ${tg.name} (${result.reason}): the target never turns healthy`);
                        }
                    }
                }
            }
        }
    }

    for (const ep of model.vpnEndpoints) {
        if (ep.associations === 0) findings.push(`Client VPN endpoint ${ep.name} has no subnet association: clients cannot connect`);
        if (ep.authorizedCidrs.length === 0) findings.push(`Client VPN endpoint ${ep.name} has no authorization rule: every client is denied`);
        if (ep.securityGroupIds.length === 0) findings.push(`Client VPN endpoint ${ep.name} names no security group: the VPC's default group applies`);
    }

    for (const dest of ["database:5432", "instance:22"]) {
        const open = cell("internet", dest);
        if (open && (open.verdict === "allowed" || open.verdict === "partial")) {
            findings.push(`the internet reaches ${dest.replace(":", " ")} (${open.reason})`);
        }
    }
    const dbFrom = cells.filter((c) => c.destination === "database:5432" && c.source !== "otherInstance" && (c.verdict === "allowed" || c.verdict === "partial"));
    for (const c of dbFrom) if (c.source !== "internet") findings.push(`the database is reachable from ${c.source}, not only from the instances (${c.reason})`);
    return findings;
}

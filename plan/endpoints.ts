// What users and modalities connect to, read from the planned resources: load balancer listeners (and the alias
// records naming them), health-checked DNS names, the instances' own public names, and the Client VPN endpoint
// with the private names behind it. Pure.
import { SITE_TYPES, siteConnectionsOf } from "./siteToSite";
import { isPrivate, overlaps, parseCidr } from "../rules/cidr";
import { Host, ListenerInfo, LoadBalancerInfo, PlanModel } from "./planModel";
import { DICOM_PORT, WEB_PORT } from "../rules/ports";

export type TrafficKind = "web" | "dicom";
export type FrontDoorKind = "loadBalancer" | "dns" | "direct" | "clientVpn" | "siteToSite";

export interface Endpoint {
    readonly kind: TrafficKind | "vpn";
    readonly frontDoor: FrontDoorKind;
    /** What a user types: an https URL, host:port for DICOM, host:port/transport for the VPN. */
    readonly address: string;
    readonly host: string;
    readonly port: number;
    /** Where TLS ends, or how the VPN tunnels. */
    readonly tls: string;
    readonly aet?: string;
    readonly reachableFrom: string;
    /** The resource clients reach first: a load balancer, a DNS name, an instance, a VPN endpoint. */
    readonly resource: string;
    /** The resources behind it. */
    readonly servedBy: string;
}

export interface EndpointContext {
    /** The DICOM AE title the instances answer to (orthweb:orthanc.aet). */
    readonly aet: string;
    /** Which names the instances' certificate carries and who trusts it (rules/acme.ts trustText). */
    readonly instanceCertificate?: string;
}

/** TLS ended by nginx on the instances, with what their certificate is when the context says. */
function atInstances(where: string, ctx: EndpointContext): string {
    return ctx.instanceCertificate ? `${where}: ${ctx.instanceCertificate}` : where;
}

function kindOfPort(port: number | undefined): TrafficKind | undefined {
    if (port === WEB_PORT) return "web";
    if (port === DICOM_PORT) return "dicom";
    return undefined;
}

function address(kind: TrafficKind, host: string, port: number): string {
    return kind === "web" ? (port === WEB_PORT ? `https://${host}/` : `https://${host}:${port}/`) : `${host}:${port}`;
}

function listenerTls(lb: LoadBalancerInfo, listener: ListenerInfo): string {
    const protocol = (listener.protocol ?? "").toUpperCase();
    if (protocol === "TLS" || protocol === "HTTPS") {
        const policy = listener.sslPolicy ? `, ${listener.sslPolicy}` : ", default policy";
        return `${protocol} at ${lb.name} (${listener.certificateArn ? "ACM certificate" : "certificate not set"}${policy})`;
    }
    if (protocol === "TCP" || protocol === "TCP_UDP") return "TLS pass-through: the instances' certificate";
    return protocol ? `${protocol}, no TLS` : "protocol not set";
}

function loadBalancerEndpoints(model: PlanModel, ctx: EndpointContext): Endpoint[] {
    const out: Endpoint[] = [];
    for (const lb of model.loadBalancers) {
        const host = lb.aliasNames[0] ?? lb.dnsName ?? lb.name;
        for (const listener of lb.listeners) {
            if (listener.port === undefined || !listener.actions.includes("forward")) continue;
            const kind = kindOfPort(listener.targetGroups[0]?.port) ?? kindOfPort(listener.port);
            if (!kind) continue;
            const redirects = lb.listeners.filter((l) => l.actions.includes("redirect")).map((l) => l.port);
            out.push({
                kind,
                frontDoor: "loadBalancer",
                address: address(kind, host, listener.port),
                host,
                port: listener.port,
                tls: listenerTls(lb, listener) + (kind === "web" && redirects.length > 0 ? `; ${redirects.join(", ")} redirects here` : ""),
                aet: kind === "dicom" ? ctx.aet : undefined,
                reachableFrom: lb.internal ? "inside the VPC (internal scheme)" : "the internet (internet-facing)",
                resource: lb.name,
                servedBy: `${lb.type} load balancer ${lb.name} -> ${listener.targetGroups.map((t) => `${t.name} (${t.targets.join(", ") || "no targets"})`).join(", ") || "no target group"}`,
            });
        }
    }
    return out;
}

function ingressPorts(host: Host, model: PlanModel, peerKind: "cidr" | "securityGroup", groups?: string[]): Set<number> {
    const ports = new Set<number>();
    for (const r of model.rules) {
        if (r.direction !== "ingress" || !host.securityGroupIds.includes(r.securityGroupId) || r.peer.kind !== peerKind) continue;
        if (groups && !(r.peer.kind === "securityGroup" && groups.includes(r.peer.id))) continue;
        for (const p of [WEB_PORT, DICOM_PORT]) if (r.fromPort <= p && p <= r.toPort) ports.add(p);
    }
    return ports;
}

function dnsEndpoints(model: PlanModel, ctx: EndpointContext): Endpoint[] {
    const out: Endpoint[] = [];
    const names = [...new Set(model.dnsRecords.filter((r) => r.values.length > 0 && (r.type === "A" || r.type === "AAAA")).map((r) => r.name))];
    for (const name of names) {
        const records = model.dnsRecords.filter((r) => r.name === name && r.values.length > 0);
        const targets = model.instances.filter((i) => i.publicIp && records.some((r) => r.values.includes(i.publicIp!)));
        // The ports the name serves: those open to client blocks, and those its health checks probe.
        const checked = records.flatMap((r) => (r.healthCheck ? [r.healthCheck, ...r.healthCheck.children] : [])).map((c) => c.port);
        const open = new Set([...targets.flatMap((t) => [...ingressPorts(t, model, "cidr")]), ...checked]);
        const ttl = records.find((r) => r.ttl !== undefined)?.ttl;
        // A simple record on one instance without a health check is that instance's own name (traffic.direct.zoneName).
        const ownName = targets.length === 1 && records.every((r) => r.routing === "simple" && !r.healthCheck);
        const servedBy = `${records[0].routing} records ${records.map((r) => r.resource).join(", ")} -> ${targets.map((t) => t.name).join(", ") || "no instance"}${ttl === undefined ? "" : `, TTL ${ttl} s`}`;
        for (const kind of ["web", "dicom"] as const) {
            const port = kind === "web" ? WEB_PORT : DICOM_PORT;
            if (!open.has(port)) continue;
            out.push({
                kind,
                frontDoor: ownName ? "direct" : "dns",
                address: address(kind, name, port),
                host: name,
                port,
                tls: atInstances(ownName ? "TLS at the instance (nginx)" : "TLS at the instances (nginx)", ctx),
                aet: kind === "dicom" ? ctx.aet : undefined,
                reachableFrom: "the configured client blocks",
                resource: name,
                servedBy,
            });
        }
    }
    return out;
}

function directEndpoints(model: PlanModel, ctx: EndpointContext, covered: Set<TrafficKind>): Endpoint[] {
    const out: Endpoint[] = [];
    for (const kind of ["web", "dicom"] as const) {
        if (covered.has(kind)) continue;
        const port = kind === "web" ? WEB_PORT : DICOM_PORT;
        for (const host of model.instances) {
            if (!host.isPublic || !ingressPorts(host, model, "cidr").has(port)) continue;
            const name = host.publicDns ?? host.publicIp ?? host.name;
            out.push({
                kind,
                frontDoor: "direct",
                address: address(kind, name, port),
                host: name,
                port,
                tls: atInstances("TLS at the instance (nginx)", ctx),
                aet: kind === "dicom" ? ctx.aet : undefined,
                reachableFrom: "the configured client blocks",
                resource: host.name,
                servedBy: `${host.name} (${host.availabilityZone ?? "AZ unknown"}, Elastic IP ${host.publicIp ?? "?"})`,
            });
        }
    }
    return out;
}

/** An instance's private name for web and DICOM, on the ports a VPN's rules open. */
function privateNameEndpoints(inst: Host, open: Set<number>, ctx: EndpointContext, via: { frontDoor: FrontDoorKind; tls: string; reachableFrom: string }): Endpoint[] {
    const name = inst.privateDns ?? inst.privateIp ?? inst.name;
    return (["web", "dicom"] as const)
        .map((kind) => ({ kind, port: kind === "web" ? WEB_PORT : DICOM_PORT }))
        .filter(({ port }) => open.has(port))
        .map(({ kind, port }) => ({
            kind,
            frontDoor: via.frontDoor,
            address: address(kind, name, port),
            host: name,
            port,
            tls: via.tls,
            aet: kind === "dicom" ? ctx.aet : undefined,
            reachableFrom: via.reachableFrom,
            resource: inst.name,
            servedBy: `${inst.name} (${inst.availabilityZone ?? "AZ unknown"}, private address ${inst.privateIp ?? "?"})`,
        }));
}

function vpnEndpoints(model: PlanModel, ctx: EndpointContext): Endpoint[] {
    const out: Endpoint[] = [];
    for (const ep of model.vpnEndpoints) {
        const host = ep.dnsName ?? ep.name;
        out.push({
            kind: "vpn",
            frontDoor: "clientVpn",
            address: `${host}:${ep.port}/${ep.transport}`,
            host,
            port: ep.port,
            tls: `OpenVPN over ${ep.transport.toUpperCase()}, mutual certificate authentication${ep.splitTunnel ? ", split tunnel" : ""}`,
            reachableFrom: "workstations with a .ovpn profile",
            resource: ep.name,
            servedBy: `${ep.name} (clients ${ep.clientCidrBlock ?? "?"}, ${ep.associations} subnet association${ep.associations === 1 ? "" : "s"})`,
        });
        for (const inst of model.instances) {
            const open = ingressPorts(inst, model, "securityGroup", ep.securityGroupIds);
            out.push(...privateNameEndpoints(inst, open, ctx, { frontDoor: "clientVpn", tls: atInstances("TLS at the instance (nginx)", ctx), reachableFrom: `VPN clients of ${ep.name}` }));
        }
    }
    return out;
}

/** Private, outside the VPC: an address block only a VPN (or peering) can bring in. */
function isSiteBlock(cidr: string, model: PlanModel): boolean {
    const block = parseCidr(cidr);
    return block !== undefined && isPrivate(block) && !model.vpcCidrs.some((v) => {
        const vpc = parseCidr(v);
        return vpc !== undefined && overlaps(vpc, block);
    });
}

/** With a site-to-site VPN: each instance's private name, on the ports its rules open to the site's blocks. */
function siteEndpoints(model: PlanModel, ctx: EndpointContext): Endpoint[] {
    const connections = siteConnectionsOf(model);
    if (connections.length === 0) return [];
    const out: Endpoint[] = [];
    for (const inst of model.instances) {
        const open = new Set<number>();
        const blocks = new Set<string>();
        for (const r of model.rules) {
            if (r.direction !== "ingress" || !inst.securityGroupIds.includes(r.securityGroupId) || r.peer.kind !== "cidr" || !isSiteBlock(r.peer.cidr, model)) continue;
            const ports = [WEB_PORT, DICOM_PORT].filter((p) => r.fromPort <= p && p <= r.toPort);
            ports.forEach((p) => open.add(p));
            if (ports.length > 0) blocks.add(r.peer.cidr);
        }
        out.push(
            ...privateNameEndpoints(inst, open, ctx, {
                frontDoor: "siteToSite",
                tls: atInstances("TLS at the instance (nginx), inside IPsec", ctx),
                reachableFrom: `the site (${[...blocks].join(", ")}) over ${connections.map((c) => c.name).join(", ")}`,
            }),
        );
    }
    return out;
}

/** Every endpoint of the plan: front doors first, then the instances' own names where no front door serves a kind. */
export function endpointsOf(model: PlanModel, ctx: EndpointContext): Endpoint[] {
    const front = [...loadBalancerEndpoints(model, ctx), ...dnsEndpoints(model, ctx)];
    const covered = new Set(front.map((e) => e.kind).filter((k): k is TrafficKind => k !== "vpn"));
    return [...front, ...directEndpoints(model, ctx, covered), ...vpnEndpoints(model, ctx), ...siteEndpoints(model, ctx)];
}

/** The front door of the plan, read from what it registers: loadBalancer, dns, direct or none, plus site-to-site and clientVpn. */
export function patternOf(model: PlanModel, endpoints: Endpoint[]): string {
    const kinds = new Set(endpoints.map((e) => e.frontDoor));
    const main = kinds.has("loadBalancer") ? "loadBalancer" : kinds.has("dns") ? "dns" : kinds.has("direct") ? "direct" : "none";
    const detail = main === "loadBalancer" ? ` (${[...new Set(model.loadBalancers.map((lb) => lb.type))].join(" + ")})` : "";
    const site = model.ofType(SITE_TYPES.vpnConnection).length > 0 ? " + site-to-site" : "";
    return `${main}${detail}${site}${model.vpnEndpoints.length > 0 ? " + clientVpn" : ""}`;
}

// A Mermaid flowchart of the plan: clients -> front door -> instances -> database / bucket. Nodes come from the
// planned resources; an edge is drawn only where the reachability table allows the traffic. Pure.
import { Endpoint } from "./endpoints";
import { PlanModel, TYPES } from "./planModel";
import { Reachability } from "./reachability";
import { siteConnectionsOf } from "./siteToSite";

function id(prefix: string, name: string): string {
    return `${prefix}_${name.replace(/[^A-Za-z0-9]/g, "_")}`;
}

function label(...lines: (string | undefined)[]): string {
    return `"${lines
        .filter((l): l is string => !!l)
        .map((l) => l.replace(/"/g, "#quot;"))
        .join("<br/>")}"`;
}

export interface DiagramContext {
    readonly webClientCidrs: readonly string[];
    readonly dicomClientCidrs: readonly string[];
    readonly onPremisesCidrs?: readonly string[];
}

export function diagramOf(model: PlanModel, endpoints: Endpoint[], reach: Reachability, ctx: DiagramContext): string {
    const lines = ["flowchart LR"];
    const edges = new Map<string, { from: string; to: string; ports: Set<string>; dotted: boolean }>();
    const edge = (from: string, to: string, port: string | number, dotted = false) => {
        const key = `${from}>${to}>${dotted}`;
        const e = edges.get(key) ?? { from, to, ports: new Set<string>(), dotted };
        e.ports.add(String(port));
        edges.set(key, e);
    };
    const allowed = (source: string, destination: string) => {
        const c = reach.cells.find((x) => x.source === source && x.destination === destination);
        return c !== undefined && (c.verdict === "allowed" || c.verdict === "partial");
    };
    const instanceNodes = model.instances.map((i) => id("i", i.name));

    lines.push(`    web([${label("Web clients", ctx.webClientCidrs.join(", "))}])`);
    lines.push(`    dicom([${label("DICOM modalities", ctx.dicomClientCidrs.join(", "))}])`);
    for (const ep of model.vpnEndpoints) lines.push(`    ${id("vpnc", ep.name)}([${label("VPN clients", ep.clientCidrBlock)}])`);
    // The health checkers matter only to a plan with Route 53 health checks.
    const checkers = model.dnsHealthChecks.length > 0;
    if (checkers) lines.push(`    checkers([${label("Route 53 health checkers")}])`);

    for (const lb of model.loadBalancers) {
        lines.push(`    ${id("lb", lb.name)}[${label(`${lb.type === "network" ? "NLB" : lb.type === "application" ? "ALB" : "LB"} ${lb.name}`, lb.internal ? "internal" : "internet-facing", lb.aliasNames[0], lb.webAcls.length > 0 ? `WAF ${lb.webAcls.join(", ")}` : undefined)}]`);
    }
    const dnsNames = [...new Set(endpoints.filter((e) => e.frontDoor === "dns").map((e) => e.host))];
    for (const name of dnsNames) {
        const routing = model.dnsRecords.find((r) => r.name === name)?.routing;
        lines.push(`    ${id("dns", name)}{{${label(name, `Route 53 ${routing ?? ""}`.trim())}}}`);
    }
    for (const ep of model.vpnEndpoints) lines.push(`    ${id("vpn", ep.name)}[${label(`Client VPN ${ep.name}`, `${ep.transport} ${ep.port}`)}]`);
    // A site-to-site connection: the site, its two IPsec tunnels (thick edge) and the AWS-side gateway.
    const sites = siteConnectionsOf(model);
    for (const site of sites) {
        lines.push(`    ${id("site", site.name)}([${label("On-premises network", (ctx.onPremisesCidrs ?? []).join(", "), site.customerGatewayIp && `gateway ${site.customerGatewayIp}`)}])`);
        lines.push(`    ${id("vgw", site.name)}[${label(site.gateway, `${site.routing} routing`)}]`);
    }

    const vpcLabel = model.vpcCidrs.length > 0 ? `VPC ${model.vpcCidrs.join(", ")}` : "VPC";
    lines.push(`    subgraph vpc[${label(vpcLabel)}]`);
    for (const inst of model.instances) {
        lines.push(`        ${id("i", inst.name)}[${label(inst.name, [inst.size, inst.availabilityZone].filter(Boolean).join(" · "), `${inst.subnet?.kind ?? "?"} subnet`)}]`);
    }
    for (const db of model.databases) lines.push(`        ${id("db", db.name)}[(${label(db.name, `PostgreSQL ${db.size ?? ""}`.trim())})]`);
    lines.push("    end");
    for (const b of model.ofType(TYPES.bucket)) lines.push(`    ${id("s3", b.name)}[(${label(b.name, "S3")})]`);

    // Clients to front doors.
    for (const ep of endpoints) {
        const client = ep.kind === "web" ? "web" : ep.kind === "dicom" ? "dicom" : undefined;
        if (ep.frontDoor === "loadBalancer" && client) edge(client, id("lb", ep.resource), ep.port);
        if (ep.frontDoor === "dns" && client) edge(client, id("dns", ep.host), "DNS", true);
    }
    for (const ep of model.vpnEndpoints) edge(id("vpnc", ep.name), id("vpn", ep.name), `${ep.port}/${ep.transport}`);
    const tunnels = sites.map((site) => {
        const t = site.tunnels[0];
        return `    ${id("site", site.name)} ==>|${["IPsec x2", t.ikeVersions.join("/").toUpperCase(), t.encryption[0]].filter(Boolean).join(", ")}| ${id("vgw", site.name)}`;
    });
    for (const name of dnsNames) {
        const ips = model.dnsRecords.filter((r) => r.name === name).flatMap((r) => r.values);
        for (const inst of model.instances.filter((i) => i.publicIp && ips.includes(i.publicIp))) edge(id("dns", name), id("i", inst.name), "answers", true);
    }
    // Allowed traffic onto the instances.
    for (const [port, dest] of [
        [443, "instance:443"],
        [11112, "instance:11112"],
        [22, "instance:22"],
    ] as const) {
        if (allowed("webClients", dest) && port !== 11112) instanceNodes.forEach((n) => edge("web", n, port));
        if (allowed("dicomClients", dest) && port !== 443) instanceNodes.forEach((n) => edge("dicom", n, port));
        for (const lb of model.loadBalancers) if (allowed(`lb:${lb.name}`, dest)) instanceNodes.forEach((n) => edge(id("lb", lb.name), n, port));
        model.vpnEndpoints.forEach((ep, _i, all) => {
            if (allowed(all.length === 1 ? "vpnClients" : `vpnClients:${ep.name}`, dest)) instanceNodes.forEach((n) => edge(id("vpn", ep.name), n, port));
        });
        if (allowed("onPremises", dest)) sites.forEach((site) => instanceNodes.forEach((n) => edge(id("vgw", site.name), n, port)));
        if (checkers && allowed("route53HealthCheckers", dest)) instanceNodes.forEach((n) => edge("checkers", n, `check ${port}`, true));
        if (port === 22 && allowed("internet", dest)) {
            lines.push(`    internet([${label("Internet")}])`);
            instanceNodes.forEach((n) => edge("internet", n, port));
        }
    }
    if (allowed("otherInstance", "database:5432")) {
        for (const inst of model.instances) for (const db of model.databases) edge(id("i", inst.name), id("db", db.name), db.port ?? 5432);
    }
    for (const inst of model.instances) for (const b of model.ofType(TYPES.bucket)) edge(id("i", inst.name), id("s3", b.name), "HTTPS, IAM role", true);

    lines.push(...tunnels);
    for (const e of edges.values()) lines.push(`    ${e.from} ${e.dotted ? "-.->" : "-->"}|${[...e.ports].join(", ")}| ${e.to}`);
    return lines.join("\n") + "\n";
}

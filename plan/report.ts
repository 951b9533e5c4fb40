// Pure functions that turn a mocked run (registrations + resolved outputs) into the plan report: resources by
// component, endpoints, reachability, failover, cost and a diagram. Rendering lives in plan/render.ts.
import { costOf, CostEstimate, CostUsage, DEFAULT_USAGE } from "./cost";
import { diagramOf } from "./diagram";
import { AwsEndpointsSection, awsEndpointsOf } from "./awsEndpoints";
import { Endpoint, endpointsOf, patternOf } from "./endpoints";
import { failoverOf, FailoverRow } from "./failoverReport";
import { AlarmRow, alarmsOf, rolloutOf } from "./changesReport";
import { ChangeRow } from "../rules/rollout";
import { Invocation, Registration } from "./mockRuntime";
import { buildModel, PrefixListInfo } from "./planModel";
import { QuotaSection, quotasOf } from "./quotas";
import { Reachability, reachabilityOf } from "./reachability";

export interface ResourceRow {
    readonly component: string;
    readonly type: string;
    readonly name: string;
}

export interface ComponentGroup {
    readonly component: string;
    readonly componentType: string;
    readonly resources: ResourceRow[];
    /** type -> count */
    readonly counts: Record<string, number>;
}

/** Assigns each custom resource to the component whose name is the longest `<component>-` prefix of its own. */
export function groupByComponent(registrations: readonly Registration[]): ComponentGroup[] {
    const components = registrations.filter((r) => !r.custom && r.type.startsWith("orthweb:"));
    const groups = new Map<string, ComponentGroup>(
        components.map((c) => [c.name, { component: c.name, componentType: c.type, resources: [], counts: {} }]),
    );
    const ungrouped: ComponentGroup = { component: "(stack)", componentType: "", resources: [], counts: {} };
    const byLength = [...components].sort((a, b) => b.name.length - a.name.length);
    for (const r of registrations) {
        if (r.type.startsWith("orthweb:") || r.type === "pulumi:pulumi:Stack") continue;
        const owner = byLength.find((c) => r.name === c.name || r.name.startsWith(`${c.name}-`));
        const group = owner ? groups.get(owner.name)! : ungrouped;
        group.resources.push({ component: group.component, type: r.type, name: r.name });
        group.counts[r.type] = (group.counts[r.type] ?? 0) + 1;
    }
    const all = [...groups.values()];
    if (ungrouped.resources.length > 0) all.push(ungrouped);
    return all;
}

/** Right-pads cells into aligned columns. */
export function table(rows: string[][], indent = "  "): string {
    const widths = rows.reduce<number[]>((w, row) => row.map((cell, i) => Math.max(w[i] ?? 0, cell.length)), []);
    return rows.map((row) => indent + row.map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i]))).join("  ")).join("\n");
}

/** Splits text into lines of at most `width` characters, at spaces or after commas when it can. */
export function wrap(text: string, width: number): string[] {
    if (width <= 0 || text.length <= width) return [text];
    const out: string[] = [];
    let rest = text;
    while (rest.length > width) {
        const window = rest.slice(0, width + 1);
        // Break at a space (dropped) in the second half of the line, else after a comma, slash or dot (kept),
        // else anywhere; never past `width`.
        let cut = window.lastIndexOf(" ");
        if (cut <= width / 2) cut = Math.max(cut, ...[",", "/", "."].map((c) => window.lastIndexOf(c, width - 1) + 1));
        if (cut <= width / 3) cut = width;
        out.push(rest.slice(0, cut).trimEnd());
        rest = rest.slice(cut).trimStart();
    }
    if (rest) out.push(rest);
    return out;
}

/**
 * Aligned columns that fit in `maxWidth` characters: the widest columns are narrowed (their cells wrapped) until
 * the table fits. A header row, when given, is underlined.
 */
export function fitTable(rows: string[][], options: { header?: string[]; maxWidth?: number; indent?: string; keep?: number[] } = {}): string {
    const indent = options.indent ?? "  ";
    const maxWidth = options.maxWidth ?? 100;
    const all = options.header ? [options.header, ...rows] : rows;
    const cols = Math.max(0, ...all.map((r) => r.length));
    const widths = Array.from({ length: cols }, (_, i) => Math.max(1, ...all.flatMap((r) => (r[i] ?? "").split("\n").map((l) => l.length))));
    const budget = maxWidth - indent.length - 2 * (cols - 1);
    // Narrow the widest column that may be narrowed (not in `keep`), then the kept ones if still too wide.
    const narrowable = (i: number, floor: number) => widths[i] > floor && !(options.keep ?? []).includes(i);
    while (widths.reduce((a, b) => a + b, 0) > budget) {
        let candidates = widths.map((_, i) => i).filter((i) => narrowable(i, 12));
        if (candidates.length === 0) candidates = widths.map((_, i) => i).filter((i) => widths[i] > 8);
        if (candidates.length === 0) break;
        const widest = candidates.reduce((a, b) => (widths[b] > widths[a] ? b : a));
        widths[widest]--;
    }
    const lines: string[] = [];
    const emit = (row: string[]) => {
        const cells = widths.map((w, i) => (row[i] ?? "").split("\n").flatMap((part) => wrap(part, w)));
        const height = Math.max(...cells.map((c) => c.length));
        for (let l = 0; l < height; l++) {
            const parts = cells.map((c, i) => (i === cols - 1 ? (c[l] ?? "") : (c[l] ?? "").padEnd(widths[i])));
            lines.push((indent + parts.join("  ")).trimEnd());
        }
    };
    if (options.header) {
        emit(options.header);
        lines.push(indent + widths.map((w) => "-".repeat(w)).join("  "));
    }
    rows.forEach(emit);
    return lines.join("\n");
}

/** A short type name for humans: aws:ec2/securityGroup:SecurityGroup -> aws:ec2:SecurityGroup. */
export function shortType(type: string): string {
    const m = /^([^:]+):([^/:]+)\/[^:]+:(.+)$/.exec(type);
    return m ? `${m[1]}:${m[2]}:${m[3]}` : type;
}

export interface InstanceRow {
    readonly name: string;
    readonly size?: string;
    readonly availabilityZone?: string;
    readonly subnet?: string;
    readonly publicAddress?: string;
    readonly privateAddress?: string;
}

export interface ResourcesSection {
    readonly total: number;
    readonly components: { component: string; componentType: string; count: number; types: { type: string; count: number; names: string[] }[] }[];
    readonly instances: InstanceRow[];
}

export interface ReportContext {
    readonly stack: string;
    readonly region: string;
    readonly webClientCidrs: readonly string[];
    readonly dicomClientCidrs: readonly string[];
    readonly aet: string;
    /** Which names the instances' certificate carries and who trusts it. */
    readonly instanceCertificate?: string;
    readonly prefixLists?: readonly PrefixListInfo[];
    readonly usage?: CostUsage;
    /** A site-to-site VPN's on-premises ranges: a reachability source. */
    readonly onPremisesCidrs?: readonly string[];
}

export interface PlanReport {
    readonly stack: string;
    readonly region: string;
    /** The traffic pattern, read from the resources: direct, dns, loadBalancer (...), none; + clientVpn. */
    readonly pattern: string;
    readonly resources: ResourcesSection;
    readonly endpoints: Endpoint[];
    readonly reachability: Reachability;
    /** The VPC endpoints: how the instances reach AWS APIs, each one's policy, who needs it; what is missing without the internet. */
    readonly vpcEndpoints: AwsEndpointsSection;
    readonly failover: FailoverRow[];
    /** "Changes": per kind of config change, what is restarted or replaced, in what order, what clients see. */
    readonly rollout: ChangeRow[];
    /** Every alarm (and the stopped-rollout rule) with its threshold and actions. */
    readonly alarms: AlarmRow[];
    readonly cost: CostEstimate;
    /** Use of quota-bound resources (Elastic IPs, VPCs, NAT gateways, Client VPN) against AWS's default quotas. */
    readonly quotas: QuotaSection;
    readonly diagram: string;
    /** Stack outputs; secrets replaced by "[secret]". */
    readonly outputs: Record<string, unknown>;
}

/** The managed prefix lists a run looked up, from the recorded data-source calls. */
export function prefixListsOf(invocations: readonly Invocation[]): PrefixListInfo[] {
    return invocations
        .filter((i) => i.token === "aws:ec2/getManagedPrefixList:getManagedPrefixList" && i.outputs?.id)
        .map((i) => ({
            id: String(i.outputs!.id),
            name: String(i.outputs!.name ?? i.inputs.name ?? i.outputs!.id),
            cidrs: ((i.outputs!.entries ?? []) as { cidr?: string }[]).map((e) => e.cidr).filter((c): c is string => !!c),
        }));
}

export function resourcesOf(registrations: readonly Registration[], model = buildModel(registrations)): ResourcesSection {
    const groups = groupByComponent(registrations);
    return {
        total: groups.reduce((n, g) => n + g.resources.length, 0),
        components: groups.map((g) => ({
            component: g.component,
            componentType: g.componentType,
            count: g.resources.length,
            types: Object.entries(g.counts)
                .sort(([a], [b]) => shortType(a).localeCompare(shortType(b)))
                .map(([type, count]) => ({ type, count, names: g.resources.filter((r) => r.type === type).map((r) => r.name) })),
        })),
        instances: model.instances.map((i) => ({
            name: i.name,
            size: i.size,
            availabilityZone: i.availabilityZone,
            subnet: i.subnet?.kind,
            publicAddress: i.isPublic ? (i.publicDns ?? i.publicIp) : undefined,
            privateAddress: i.privateDns ?? i.privateIp,
        })),
    };
}

/** The whole report for one stack. Pure: registrations and the recorded lookups in, report out. */
export function buildReport(
    registrations: readonly Registration[],
    ctx: ReportContext,
    outputs: Record<string, unknown> = {},
    secretOutputs: ReadonlySet<string> = new Set(),
): PlanReport {
    const model = buildModel(registrations, ctx.prefixLists ?? []);
    const reachability = reachabilityOf(model, ctx);
    const endpoints = endpointsOf(model, ctx);
    const failover = failoverOf(model, endpoints, reachability);
    const pattern = patternOf(model, endpoints);
    return {
        stack: ctx.stack,
        region: ctx.region,
        pattern,
        resources: resourcesOf(registrations, model),
        endpoints,
        reachability,
        vpcEndpoints: awsEndpointsOf(registrations, reachability.egress.kind === "none"),
        failover,
        rollout: rolloutOf(pattern, failover),
        alarms: alarmsOf(registrations),
        cost: costOf(model, ctx.usage ?? DEFAULT_USAGE, undefined, ctx.region),
        quotas: quotasOf(model),
        diagram: diagramOf(model, endpoints, reachability, ctx),
        outputs: Object.fromEntries(Object.entries(outputs).map(([k, v]) => [k, secretOutputs.has(k) ? "[secret]" : v])),
    };
}

// The plan report as text (a terminal, 100 columns), Markdown (a pull-request comment) or JSON (tools).
import { FailoverRow } from "./failoverReport";
import { ReachCell, Verdict } from "./reachability";
import { fitTable, PlanReport, shortType, wrap } from "./report";
import { QuotaRow, regionQuotaWarnings } from "./quotas";

export type Format = "text" | "markdown" | "json";
export const FORMATS: readonly Format[] = ["text", "markdown", "json"];
export const WIDTH = 100;

const VERDICT: Record<Verdict, string> = { allowed: "yes", partial: "partly", denied: "no", "n/a": "-" };

/** A matrix cell: the verdict, or "via <lb>:<port>" when only a load balancer's listener gets there. */
function verdictText(cell: ReachCell | undefined): string {
    if (!cell) return "?";
    if (cell.verdict === "denied" && cell.via.length > 0) return `via ${cell.via.join(", ")}`;
    return VERDICT[cell.verdict] + (cell.via.length > 0 ? ` (via ${cell.via.join(", ")})` : "");
}

function usd(n: number | null): string {
    return n === null ? "n/a" : `$${n.toFixed(2)}`;
}

function worstCase(row: FailoverRow): string {
    return row.worstCaseSeconds === null ? (row.automatic ? "-" : "manual") : `<= ${row.worstCaseSeconds} s`;
}

function cellOf(report: PlanReport, source: string, destination: string): ReachCell | undefined {
    return report.reachability.cells.find((c) => c.source === source && c.destination === destination);
}

function heading(text: string): string {
    return `${text}\n${"=".repeat(text.length)}`;
}

function bullets(items: string[], indent = "  "): string[] {
    return items.flatMap((item) => wrap(item, WIDTH - indent.length - 2).map((line, i) => `${indent}${i === 0 ? "- " : "  "}${line}`));
}

/** Prose wrapped to the terminal width. */
function para(text: string, indent = ""): string[] {
    return wrap(text, WIDTH - indent.length).map((l) => indent + l);
}

function showValue(value: unknown): string {
    return typeof value === "string" ? value : JSON.stringify(value);
}

export function renderText(report: PlanReport): string {
    const out: string[] = [];
    const r = report.resources;
    out.push(`Offline plan of stack ${report.stack} (${report.region}): pattern ${report.pattern}`);
    out.push(`Pulumi mocks, no AWS account: ${r.total} resources in ${r.components.length} components`, "");

    out.push(heading("Resources"));
    for (const c of r.components) {
        out.push(`${c.component} (${c.componentType ? shortType(c.componentType) : "no component"}): ${c.count} resources`);
        out.push(fitTable(c.types.map((t) => [String(t.count).padStart(3), shortType(t.type), t.names.join(", ")]), { maxWidth: WIDTH }));
    }
    out.push("", "Instances:");
    out.push(
        fitTable(
            r.instances.map((i) => [i.name, i.size ?? "?", i.availabilityZone ?? "?", `${i.subnet ?? "?"} subnet`, i.publicAddress ?? i.privateAddress ?? "?"]),
            { header: ["name", "size", "AZ", "subnet", "address"], maxWidth: WIDTH },
        ),
        "",
    );

    out.push(heading("Endpoints"));
    for (const e of report.endpoints) {
        out.push(...para(`${e.kind.padEnd(6)} ${e.address}${e.aet ? `   AE title ${e.aet}` : ""}`, "  "));
        out.push(...para(`${e.tls}; reachable from ${e.reachableFrom}; served by ${e.servedBy}`, "         "));
    }
    if (report.endpoints.length === 0) out.push("  none: nothing is reachable from outside");
    out.push("");

    const reach = report.reachability;
    out.push(heading("Reachability"), ...para("Who can open a TCP connection to which port, from the planned security groups and subnets."));
    out.push(
        fitTable(
            reach.sources.map((s) => [s.label, ...reach.destinations.map((d) => verdictText(cellOf(report, s.key, d.key)))]),
            { header: ["source", ...reach.destinations.map((d) => d.label)], maxWidth: WIDTH },
        ),
        "",
        "Why:",
    );
    for (const s of reach.sources) {
        out.push(...para(`${s.label} (${s.detail}):`));
        out.push(
            fitTable(
                reach.destinations.map((d) => {
                    const c = cellOf(report, s.key, d.key);
                    return [d.label, c ? VERDICT[c.verdict] : "?", (c?.reason ?? "") + (c && c.via.length > 0 ? `; via ${c.via.join(", ")}` : "")];
                }),
                { maxWidth: WIDTH, indent: "    " },
            ),
        );
    }
    out.push("", reach.findings.length > 0 ? "Findings:" : "Findings: none");
    out.push(...bullets(reach.findings), "");

    const vpce = report.vpcEndpoints;
    out.push(heading("VPC endpoints"), ...para("How the instances reach AWS APIs from the VPC: each endpoint, what its policy admits, and the calls that need it."));
    out.push(
        fitTable(
            vpce.endpoints.map((e) => [e.service, e.type, e.policy, e.neededBy.join(", ") || "-"]),
            { header: ["service", "type", "policy", "needed by"], maxWidth: WIDTH },
        ),
    );
    if (vpce.missing.length > 0) out.push(...para(`Missing (no internet, so these calls fail): ${vpce.missing.join(", ")}`));
    out.push("");

    out.push(heading("Failover"), ...para("Worst case after an instance fails, until clients are served by the other one."));
    out.push(
        fitTable(
            report.failover.map((f) => [f.traffic, f.path, f.detection, worstCase(f)]),
            { header: ["traffic", "path", "detection", "worst case"], maxWidth: WIDTH },
        ),
    );
    for (const f of report.failover) {
        out.push(...para(`${f.traffic}, ${f.path}: ${f.breakdown}`));
        out.push(...bullets(f.assumptions, "    "));
    }
    out.push("");

    out.push(heading("Changes"), ...para("What each kind of config change restarts or replaces, in what order, and what clients should expect."));
    for (const c of report.rollout) {
        out.push(...para(`${c.change}: ${c.effect}`));
        out.push(...bullets([`order: ${c.order}`, `clients: ${c.clients}`], "    "));
    }
    out.push("");

    out.push(heading("Alarms"), ...para("Each publishes to the alert topic (output alertTopicArn); recover and reboot are EC2 actions besides the notice."));
    out.push(
        fitTable(
            report.alarms.map((a) => [a.name, a.metric + (a.region ? ` (${a.region})` : ""), a.threshold, a.actions.join(", ")]),
            { header: ["alarm", "metric", "threshold", "actions"], maxWidth: WIDTH, keep: [3] },
        ),
        "",
    );

    const cost = report.cost;
    out.push(heading("Cost"), ...para(`Estimated USD per month from ${cost.priceRegion} list prices compiled ${cost.priceDate} (${cost.source}).`));
    out.push(
        fitTable(
            [...cost.lines.map((l) => [l.item, l.detail + (l.note ? ` (${l.note})` : ""), usd(l.monthlyUsd).padStart(9)]), ["total", "", usd(cost.monthlyUsd).padStart(9)]],
            { header: ["item", "detail", "  monthly"], maxWidth: WIDTH, keep: [2] },
        ),
        "Assumptions:",
        ...bullets(cost.assumptions),
        "Not included:",
        ...bullets(cost.notIncluded),
        "",
    );

    out.push(heading("Quotas"), ...para("Use of quota-bound resources against AWS's default quotas (per account; adjustable in Service Quotas)."));
    out.push(fitTable(report.quotas.rows.map(quotaCells), { header: ["resource", "used", "default quota", "detail"], maxWidth: WIDTH }));
    out.push(report.quotas.warnings.length > 0 ? "Warnings:" : "Warnings: none", ...bullets(report.quotas.warnings), ...bullets(report.quotas.notes), "");

    out.push(heading("Diagram"), "Mermaid source (paste into a Markdown file or https://mermaid.live):", report.diagram);
    out.push(heading("Outputs"));
    out.push(fitTable(Object.entries(report.outputs).map(([k, v]) => [k, showValue(v)]), { maxWidth: WIDTH }));
    return out.join("\n") + "\n";
}

function md(text: string): string {
    return text.replace(/\|/g, "\\|").replace(/\n/g, " ");
}

function mdTable(header: string[], rows: string[][]): string[] {
    return [`| ${header.map(md).join(" | ")} |`, `|${header.map(() => "---").join("|")}|`, ...rows.map((r) => `| ${r.map(md).join(" | ")} |`)];
}

export function renderMarkdown(report: PlanReport): string {
    const out: string[] = [];
    const cost = report.cost;
    out.push(`## Offline plan: \`${report.stack}\` (${report.region}), pattern \`${report.pattern}\``, "");
    out.push(
        `**${report.resources.total} resources**, **estimated ${usd(cost.monthlyUsd)}/month** (${cost.priceRegion} list prices of ${cost.priceDate}). ` +
            "Computed offline under Pulumi mocks.",
        "",
    );

    out.push("### Endpoints", "");
    out.push(...mdTable(["kind", "address", "TLS", "reachable from"], report.endpoints.map((e) => [e.kind, `\`${e.address}\`${e.aet ? ` (AE ${e.aet})` : ""}`, e.tls, e.reachableFrom])), "");

    const reach = report.reachability;
    out.push("### Reachability", "");
    out.push(
        ...mdTable(
            ["source", ...reach.destinations.map((d) => d.label)],
            reach.sources.map((s) => [s.label, ...reach.destinations.map((d) => verdictText(cellOf(report, s.key, d.key)))]),
        ),
        "",
    );
    if (reach.findings.length > 0) out.push("**Findings**", "", ...reach.findings.map((f) => `- ${f}`), "");
    out.push("<details><summary>Why (rule by rule)</summary>", "");
    out.push(
        ...mdTable(
            ["source", "port", "verdict", "why"],
            reach.cells.map((c) => [reach.sources.find((s) => s.key === c.source)?.label ?? c.source, String(c.port), VERDICT[c.verdict], c.reason + (c.via.length > 0 ? `; via ${c.via.join(", ")}` : "")]),
        ),
        "",
        "</details>",
        "",
    );

    out.push("### VPC endpoints", "");
    out.push(...mdTable(["service", "type", "policy", "needed by"], report.vpcEndpoints.endpoints.map((e) => [e.service, e.type, e.policy, e.neededBy.join(", ") || "-"])), "");
    if (report.vpcEndpoints.missing.length > 0) out.push(`**Missing** (no internet, so these calls fail): ${report.vpcEndpoints.missing.join(", ")}`, "");

    out.push("### Failover", "");
    out.push(...mdTable(["traffic", "path", "detection", "worst case", "how"], report.failover.map((f) => [f.traffic, f.path, f.detection, worstCase(f), f.breakdown])), "");
    const assumptions = [...new Set(report.failover.flatMap((f) => f.assumptions))];
    if (assumptions.length > 0) out.push("Assumptions: " + assumptions.join("; ") + ".", "");

    out.push("### Changes", "");
    out.push(...mdTable(["change", "effect", "order", "clients"], report.rollout.map((c) => [c.change, c.effect, c.order, c.clients])), "");

    out.push("### Alarms", "");
    out.push(...mdTable(["alarm", "metric", "threshold", "actions"], report.alarms.map((a) => [a.name, a.metric + (a.region ? ` (${a.region})` : ""), a.threshold, a.actions.join(", ")])), "");

    out.push("### Cost", "");
    out.push(...mdTable(["item", "detail", "USD/month"], [...cost.lines.map((l) => [l.item, l.detail + (l.note ? ` (${l.note})` : ""), usd(l.monthlyUsd)]), ["**total**", "", `**${usd(cost.monthlyUsd)}**`]]), "");
    out.push(`Assumptions: ${cost.assumptions.join("; ")}. Not included: ${cost.notIncluded.join("; ")}.`, "");

    out.push("### Quotas", "");
    out.push(...mdTable(["resource", "used", "default quota", "detail"], report.quotas.rows.map(quotaCells)), "");
    out.push(...report.quotas.warnings.map((w) => `- **Warning:** ${w}`), ...report.quotas.notes.map((n) => `- ${n}`), "");

    out.push("### Diagram", "", "```mermaid", report.diagram.trimEnd(), "```", "");

    out.push("<details><summary>Resources by component</summary>", "");
    for (const c of report.resources.components) {
        out.push(`**${c.component}** (${c.componentType ? shortType(c.componentType) : "no component"}): ${c.count}`, "");
        out.push(...mdTable(["count", "type", "names"], c.types.map((t) => [String(t.count), shortType(t.type), t.names.join(", ")])), "");
    }
    out.push(...mdTable(["instance", "size", "AZ", "subnet", "address"], report.resources.instances.map((i) => [i.name, i.size ?? "?", i.availabilityZone ?? "?", i.subnet ?? "?", i.publicAddress ?? i.privateAddress ?? "?"])));
    out.push("", "</details>", "");
    return out.join("\n");
}

export function renderJson(report: PlanReport): string {
    const { stack, region, pattern, resources, endpoints, reachability, vpcEndpoints, failover, rollout, alarms, cost, quotas, diagram, outputs } = report;
    return JSON.stringify({ stack, region, pattern, resources, endpoints, reachability, vpcEndpoints, failover, rollout, alarms, cost, quotas, diagram, outputs }, null, 2) + "\n";
}

function quotaCells(q: QuotaRow): string[] {
    return [q.resource, `${q.used} per ${q.scope}`, q.defaultQuota === null ? "-" : String(q.defaultQuota), q.detail];
}

export function render(report: PlanReport, format: Format): string {
    switch (format) {
        case "text":
            return renderText(report);
        case "markdown":
            return renderMarkdown(report);
        case "json":
            return renderJson(report);
    }
}

/** One stack's line in `--all`: what differs between stacks at a glance. */
export interface StackSummary {
    readonly stack: string;
    readonly region?: string;
    readonly pattern?: string;
    readonly endpoints?: { kind: string; address: string }[];
    readonly failover?: { traffic: string; path: string; worstCaseSeconds: number | null; automatic: boolean }[];
    readonly monthlyUsd?: number;
    readonly resources?: number;
    /** Use of quota-bound resources, for the per-region totals. */
    readonly quotas?: QuotaRow[];
    /** Set when the stack file is invalid: its messages. */
    readonly problems?: string[];
}

export function summaryOf(report: PlanReport): StackSummary {
    return {
        stack: report.stack,
        region: report.region,
        pattern: report.pattern,
        endpoints: report.endpoints.map((e) => ({ kind: e.kind, address: e.address })),
        failover: report.failover.map((f) => ({ traffic: f.traffic, path: f.path, worstCaseSeconds: f.worstCaseSeconds, automatic: f.automatic })),
        monthlyUsd: report.cost.monthlyUsd,
        resources: report.resources.total,
        quotas: report.quotas.rows,
    };
}

function failoverSummary(s: StackSummary, traffic: string): string {
    return (s.failover ?? [])
        .filter((f) => f.traffic === traffic)
        .map((f) => (f.worstCaseSeconds === null ? (f.automatic ? f.path : `manual (${f.path.split(":")[0]})`) : `<= ${f.worstCaseSeconds} s (${f.path.split(" (")[0]})`))
        .join("; ");
}

function summaryRows(summaries: StackSummary[], separator: string): string[][] {
    const attr = (name: string, value: (s: StackSummary) => string) => [name, ...summaries.map((s) => (s.problems ? (name === "pattern" ? `invalid config: ${s.problems.length} problem(s)` : "") : value(s)))];
    const addresses = (kind: string) => (s: StackSummary) => (s.endpoints ?? []).filter((e) => e.kind === kind).map((e) => e.address).join(separator) || "-";
    return [
        attr("pattern", (s) => s.pattern ?? "?"),
        attr("region", (s) => s.region ?? "?"),
        attr("web", addresses("web")),
        attr("DICOM", addresses("dicom")),
        attr("VPN", addresses("vpn")),
        attr("failover web", (s) => failoverSummary(s, "web")),
        attr("failover DICOM", (s) => failoverSummary(s, "dicom")),
        attr("resources", (s) => String(s.resources ?? "?")),
        attr("Elastic IPs", (s) => String(s.quotas?.find((q) => q.resource === "Elastic IP addresses")?.used ?? "?")),
        attr("USD/month", (s) => usd(s.monthlyUsd ?? null)),
    ];
}

/** Every stack side by side: one column per stack. */
export function renderAll(summaries: StackSummary[], format: Format): string {
    const quotaWarnings = regionQuotaWarnings(summaries);
    if (format === "json") return JSON.stringify({ stacks: summaries, quotaWarnings }, null, 2) + "\n";
    const header = ["", ...summaries.map((s) => s.stack)];
    if (format === "markdown") {
        const problems = summaries.filter((s) => s.problems).flatMap((s) => s.problems!.map((p) => `- \`${s.stack}\`: ${p}`));
        const quotas = quotaWarnings.map((w) => `- **Quota:** ${w}`);
        return ["## Offline plan: every stack", "", ...mdTable(header, summaryRows(summaries, "<br>")), "", ...problems, ...quotas, ""].join("\n");
    }
    const quotas = quotaWarnings.length > 0 ? `\nQuota warnings:\n${bullets(quotaWarnings).join("\n")}\n` : "";
    return `Offline plan of every stack (Pulumi mocks, no AWS account)\n\n${fitTable(summaryRows(summaries, "\n"), { header, maxWidth: WIDTH })}\n${quotas}`;
}

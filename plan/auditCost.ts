// What the audit trail costs: CloudTrail data events on the study bucket, vended-log delivery (flow logs, WAF, NLB
// access logs) and the log buckets' storage at steady state (a month's logs times the months they are kept). All
// three scale with use: the figures are the assumptions in CostUsage, stated in the report. Pure.
import { fmt, money } from "./costLines";
import type { CostLine, CostUsage } from "./costLines";
import { PlanModel, plain } from "./planModel";
import { PriceList } from "./prices";

const TRAIL = "aws:cloudtrail/trail:Trail";
const FLOW_LOG = "aws:ec2/flowLog:FlowLog";
const WAF_LOGGING = "aws:wafv2/webAclLoggingConfiguration:WebAclLoggingConfiguration";
const LIFECYCLE = "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration";

/** The longest expiration (days) of a whole-bucket lifecycle rule on a log bucket: how long logs are stored. */
function retentionDaysOf(model: PlanModel): number | undefined {
    const days = model
        .ofType(LIFECYCLE)
        .flatMap((l) => (plain(l.inputs.rules) ?? []) as { id?: string; expiration?: { days?: number } }[])
        .filter((r) => r.id === "expire-audit-logs")
        .map((r) => Number(r.expiration?.days))
        .filter((d) => d > 0);
    return days.length > 0 ? Math.max(...days) : undefined;
}

export function auditCostOf(model: PlanModel, usage: CostUsage, prices: PriceList): { lines: CostLine[]; assumptions: string[] } {
    const lines: CostLine[] = [];
    const assumptions: string[] = [];
    const trails = model.ofType(TRAIL).filter((t) => (plain(t.inputs.advancedEventSelectors) ?? []).length > 0 || (plain(t.inputs.eventSelectors) ?? []).length > 0);
    const events = usage.dataEventsPerMonth ?? 0;
    if (trails.length > 0) {
        lines.push({
            item: "CloudTrail data events",
            detail: `${events.toLocaleString("en-US")} study object reads/writes (assumed) x ${fmt(prices.cloudTrailDataEventsPer100k)} per 100k`,
            monthlyUsd: money((trails.length * events * prices.cloudTrailDataEventsPer100k) / 100_000),
        });
        assumptions.push(`${events.toLocaleString("en-US")} study objects read or written a month (one CloudTrail data event each)`);
    }
    const nlbLogs = model.ofType("aws:lb/loadBalancer:LoadBalancer").some((lb) => plain(lb.inputs.loadBalancerType) === "network" && plain(lb.inputs.accessLogs)?.enabled === true);
    const vendedSources = [model.ofType(FLOW_LOG).length && "flow logs", model.ofType(WAF_LOGGING).length && "WAF", nlbLogs && "NLB access logs"].filter(Boolean);
    const vendedGb = vendedSources.length > 0 ? (usage.vendedLogGbPerMonth ?? 0) : 0;
    if (vendedGb > 0) {
        lines.push({ item: "Log delivery", detail: `${vendedGb} GB of ${vendedSources.join(", ")} (assumed) x ${fmt(prices.vendedLogsToS3Gb)}/GB to S3`, monthlyUsd: money(vendedGb * prices.vendedLogsToS3Gb) });
    }
    const retention = retentionDaysOf(model);
    if (retention !== undefined) {
        const monthly = vendedGb + (usage.accessLogGbPerMonth ?? 0) + (trails.length > 0 ? (events / 1_000_000) * 1 : 0);
        const stored = Math.round(monthly * Math.min(retention, 3653) / 30 * 10) / 10;
        lines.push({ item: "Log storage", detail: `${stored} GB at steady state (${monthly} GB a month kept ${retention} days) x ${fmt(prices.s3StandardGbMonth)}/GB`, monthlyUsd: money(stored * prices.s3StandardGbMonth) });
        assumptions.push(`${monthly} GB of audit logs a month (at most 1 GB per million data events, ${usage.accessLogGbPerMonth ?? 0} GB access logs${vendedGb ? `, ${vendedGb} GB vended logs` : ""}): scale with your traffic`);
    }
    return { lines, assumptions };
}

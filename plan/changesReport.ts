// The plan's "Changes" section (JSON key `rollout`): for each kind of config change, what is restarted or replaced,
// in what order, and what clients should expect; and the "Alarms" section: every alarm the program registers, its
// metric, threshold and actions, plus the stopped-rollout rule. Pure: registrations and the failover rows in.
import { ChangeRow, Pattern, rolloutChanges } from "../rules/rollout";
import { GIB, ROLLOUT_STOPPED_TEXT } from "../rules/alarms";
import { FailoverRow } from "./failoverReport";
import { Registration } from "./mockRuntime";

export const METRIC_ALARM_TYPE = "aws:cloudwatch/metricAlarm:MetricAlarm";
export const EVENT_RULE_TYPE = "aws:cloudwatch/eventRule:EventRule";

export interface AlarmRow {
    readonly name: string;
    /** namespace/metric, or "EventBridge" for the stopped-rollout rule. */
    readonly metric: string;
    readonly threshold: string;
    /** notify (the alert topic), recover, reboot. */
    readonly actions: string[];
    /** The region the alarm lives in when it is not the stack's. */
    readonly region?: string;
    readonly description: string;
}

/** The pattern's main kind from the report's pattern text ("loadBalancer (network) + clientVpn" -> loadBalancer). */
export function mainPattern(pattern: string): Pattern {
    const first = pattern.split(/[\s(+]/)[0];
    return (["direct", "dns", "loadBalancer", "none"] as const).find((p) => p === first) ?? "none";
}

export function rolloutOf(pattern: string, failover: readonly FailoverRow[]): ChangeRow[] {
    const figures = failover.map((f) => f.worstCaseSeconds).filter((s): s is number => s !== null);
    return rolloutChanges(mainPattern(pattern), { failoverSeconds: figures.length > 0 ? Math.max(...figures) : undefined });
}

const OPERATOR: Record<string, string> = { LessThanThreshold: "<", GreaterThanThreshold: ">", GreaterThanOrEqualToThreshold: ">=", LessThanOrEqualToThreshold: "<=" };

function actionOf(arn: unknown): string {
    const text = String(arn);
    if (/:ec2:recover$/.test(text)) return "recover";
    if (/:ec2:reboot$/.test(text)) return "reboot";
    if (text.includes(":sns:")) return "notify";
    return text;
}

/** Bytes as GiB, percentages with their sign: what a person reads. */
export function thresholdValue(metricName: string, threshold: number): string {
    if (metricName === "FreeStorageSpace") return `${(threshold / GIB).toFixed(1)} GiB`;
    if (metricName === "CPUUtilization") return `${threshold} %`;
    return String(threshold);
}

export function alarmsOf(registrations: readonly Registration[]): AlarmRow[] {
    const alarms = registrations
        .filter((r) => r.type === METRIC_ALARM_TYPE)
        .map((r): AlarmRow => {
            const i = r.inputs;
            return {
                name: r.name,
                metric: `${i.namespace} ${i.metricName}`,
                threshold: `${String(i.statistic).toLowerCase()} ${OPERATOR[i.comparisonOperator] ?? i.comparisonOperator} ${thresholdValue(i.metricName, Number(i.threshold))} for ${i.evaluationPeriods} x ${i.period} s`,
                actions: [...new Set(((i.alarmActions ?? []) as unknown[]).map(actionOf))],
                region: i.namespace === "AWS/Route53" ? "us-east-1" : undefined,
                description: String(i.alarmDescription ?? ""),
            };
        });
    const rules = registrations
        .filter((r) => r.type === EVENT_RULE_TYPE && r.name.endsWith("-rollout-stopped"))
        .map((r): AlarmRow => ({ name: r.name, metric: "EventBridge", threshold: ROLLOUT_STOPPED_TEXT, actions: ["notify"], description: String(r.inputs.description ?? "") }));
    return [...alarms, ...rules];
}

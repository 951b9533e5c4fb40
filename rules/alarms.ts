// What the stack watches and how: one spec per CloudWatch alarm (metric, threshold, periods) and
// the EventBridge pattern of a stopped rollout. Pure: the Alerts component builds from these, the plan lists them.

export type Comparison = "LessThanThreshold" | "GreaterThanThreshold" | "GreaterThanOrEqualToThreshold";

export interface AlarmSpec {
    /** The alarm's role, the last part of its resource name: `${component}-${role}`. */
    readonly role: string;
    readonly description: string;
    readonly namespace: string;
    readonly metricName: string;
    readonly statistic: "Minimum" | "Maximum" | "Average";
    readonly periodSeconds: number;
    readonly evaluationPeriods: number;
    readonly threshold: number;
    readonly comparison: Comparison;
    /** Missing data: a target group or check that stops reporting is as bad as one that reports failure. */
    readonly treatMissingData: "breaching" | "notBreaching" | "missing";
    /** Where the metric lives when it is not the stack's region (Route 53 publishes only in us-east-1). */
    readonly region?: "us-east-1";
    /** The threshold for people: "healthy targets < 2 for 2 x 60 s". */
    readonly thresholdText: string;
}

const COMPARISON_TEXT: Record<Comparison, string> = { LessThanThreshold: "<", GreaterThanThreshold: ">", GreaterThanOrEqualToThreshold: ">=" };

function describeThreshold(what: string, s: Pick<AlarmSpec, "comparison" | "threshold" | "evaluationPeriods" | "periodSeconds">, unit = ""): string {
    return `${what} ${COMPARISON_TEXT[s.comparison]} ${s.threshold}${unit} for ${s.evaluationPeriods} x ${s.periodSeconds} s`;
}

export type LoadBalancerKind = "network" | "application";

/** A target group with fewer healthy targets than instances: one instance is out (or both). */
export function targetGroupAlarm(targetGroupRole: string, kind: LoadBalancerKind, instances: number): AlarmSpec {
    const base = { comparison: "LessThanThreshold" as const, threshold: instances, evaluationPeriods: 2, periodSeconds: 60 };
    return {
        role: `${targetGroupRole}-healthy-hosts`,
        description: `Target group ${targetGroupRole}: fewer healthy targets than the ${instances} instances`,
        namespace: kind === "network" ? "AWS/NetworkELB" : "AWS/ApplicationELB",
        metricName: "HealthyHostCount",
        statistic: "Minimum",
        treatMissingData: "breaching",
        thresholdText: describeThreshold("healthy targets (minimum)", base),
        ...base,
    };
}

/** A Route 53 health check of one instance reports it unhealthy. */
export function route53Alarm(instance: number): AlarmSpec {
    const base = { comparison: "LessThanThreshold" as const, threshold: 1, evaluationPeriods: 1, periodSeconds: 60 };
    return {
        role: `${instance}-route53-health`,
        description: `Route 53 health check of instance ${instance} (web and DICOM) is failing: its record is withdrawn`,
        namespace: "AWS/Route53",
        metricName: "HealthCheckStatus",
        statistic: "Minimum",
        treatMissingData: "breaching",
        region: "us-east-1",
        thresholdText: describeThreshold("health check status (minimum)", base),
        ...base,
    };
}

/**
 * EC2 status checks of one slot's instance (the slot's Auto Scaling group: its dimension follows a replacement).
 * The group itself acts on a failed check (its health check type is EC2): it terminates the instance and launches
 * a new one, which takes the slot's address. These alarms only tell people. Neither looks at the application.
 */
export function statusCheckAlarms(slot: number): AlarmSpec[] {
    const system = { comparison: "GreaterThanOrEqualToThreshold" as const, threshold: 1, evaluationPeriods: 2, periodSeconds: 60 };
    const os = { comparison: "GreaterThanOrEqualToThreshold" as const, threshold: 1, evaluationPeriods: 3, periodSeconds: 60 };
    return [
        {
            role: `${slot}-system-check`,
            description: `Instance ${slot}: EC2 system status check failed (the host); its Auto Scaling group replaces it`,
            namespace: "AWS/EC2",
            metricName: "StatusCheckFailed_System",
            statistic: "Maximum",
            treatMissingData: "missing",
            thresholdText: describeThreshold("system check failed (maximum)", system),
            ...system,
        },
        {
            role: `${slot}-instance-check`,
            description: `Instance ${slot}: EC2 instance status check failed (the OS); its Auto Scaling group replaces it`,
            namespace: "AWS/EC2",
            metricName: "StatusCheckFailed_Instance",
            statistic: "Maximum",
            treatMissingData: "missing",
            thresholdText: describeThreshold("instance check failed (maximum)", os),
            ...os,
        },
    ];
}

/**
 * A slot without an instance in service: its instance was terminated or failed and the replacement is not in service
 * yet (or cannot start). Longer than a normal replacement's launch and gate, so a heal that works stays quiet.
 */
export function emptySlotAlarm(slot: number): AlarmSpec {
    const base = { comparison: "LessThanThreshold" as const, threshold: 1, evaluationPeriods: 15, periodSeconds: 60 };
    return {
        role: `${slot}-in-service`,
        description: `Instance ${slot}: no instance in service for 15 minutes (terminated or failed, and its replacement is not serving yet)`,
        namespace: "AWS/AutoScaling",
        metricName: "GroupInServiceInstances",
        statistic: "Maximum",
        treatMissingData: "breaching",
        thresholdText: describeThreshold("instances in service (maximum)", base),
        ...base,
    };
}

export const GIB = 1024 ** 3;
/** Free storage below this share of the allocated storage alarms (RDS storage autoscaling acts near 10 % too). */
export const FREE_STORAGE_SHARE = 0.1;
export const DATABASE_CPU_PERCENT = 80;

export function databaseAlarms(allocatedStorageGiB: number): AlarmSpec[] {
    const storage = { comparison: "LessThanThreshold" as const, threshold: Math.round(allocatedStorageGiB * GIB * FREE_STORAGE_SHARE), evaluationPeriods: 2, periodSeconds: 300 };
    const cpu = { comparison: "GreaterThanThreshold" as const, threshold: DATABASE_CPU_PERCENT, evaluationPeriods: 3, periodSeconds: 300 };
    return [
        {
            role: "db-free-storage",
            description: `Database: less than ${FREE_STORAGE_SHARE * 100} % of its ${allocatedStorageGiB} GiB free`,
            namespace: "AWS/RDS",
            metricName: "FreeStorageSpace",
            statistic: "Minimum",
            treatMissingData: "missing",
            thresholdText: `free storage (minimum) < ${(allocatedStorageGiB * FREE_STORAGE_SHARE).toFixed(1)} GiB for ${storage.evaluationPeriods} x ${storage.periodSeconds} s`,
            ...storage,
        },
        {
            role: "db-cpu",
            description: `Database: CPU above ${DATABASE_CPU_PERCENT} % for 15 minutes`,
            namespace: "AWS/RDS",
            metricName: "CPUUtilization",
            statistic: "Average",
            treatMissingData: "missing",
            thresholdText: describeThreshold("CPU (average)", cpu, " %"),
            ...cpu,
        },
    ];
}

/** EventBridge: an instance association of the rollout document failed, i.e. the rollout stopped on that instance. */
export const ROLLOUT_STOPPED_DETAIL_TYPE = "EC2 State Manager Instance Association State Change";

export function rolloutStoppedPattern(documentName: string): Record<string, unknown> {
    return { source: ["aws.ssm"], "detail-type": [ROLLOUT_STOPPED_DETAIL_TYPE], detail: { "document-name": [documentName], status: ["Failed"] } };
}

/** The rollout-stopped rule as a row of the plan's alarm list. */
export const ROLLOUT_STOPPED_TEXT = "any failed run of the rollout document on an instance (EventBridge, immediately)";

/** Plausible e-mail address: one @, no spaces, a dotted domain. SNS confirms it by mail. */
export function isPlausibleEmail(value: string): boolean {
    return /^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(value) && value.length <= 254;
}

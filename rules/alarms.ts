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

type Threshold = Pick<AlarmSpec, "comparison" | "threshold" | "evaluationPeriods" | "periodSeconds">;

/**
 * A spec and its threshold for people: "<measure> (<statistic>) <comparison> <threshold><unit> for N x P s". `shown`
 * writes the threshold in the unit people read (GiB rather than bytes).
 */
function alarm(measure: string, t: Threshold, spec: Omit<AlarmSpec, keyof Threshold | "thresholdText">, unit = "", shown: string | number = t.threshold): AlarmSpec {
    const thresholdText = `${measure} (${spec.statistic.toLowerCase()}) ${COMPARISON_TEXT[t.comparison]} ${shown}${unit} for ${t.evaluationPeriods} x ${t.periodSeconds} s`;
    return { ...spec, ...t, thresholdText };
}

export type LoadBalancerKind = "network" | "application";

/** A target group with fewer healthy targets than instances: one instance is out (or both). */
export function targetGroupAlarm(targetGroupRole: string, kind: LoadBalancerKind, instances: number): AlarmSpec {
    return alarm("healthy targets", { comparison: "LessThanThreshold", threshold: instances, evaluationPeriods: 2, periodSeconds: 60 }, {
        role: `${targetGroupRole}-healthy-hosts`,
        description: `Target group ${targetGroupRole}: fewer healthy targets than the ${instances} instances`,
        namespace: kind === "network" ? "AWS/NetworkELB" : "AWS/ApplicationELB",
        metricName: "HealthyHostCount",
        statistic: "Minimum",
        treatMissingData: "breaching",
    });
}

/** A Route 53 health check of one instance reports it unhealthy. */
export function route53Alarm(instance: number): AlarmSpec {
    return alarm("health check status", { comparison: "LessThanThreshold", threshold: 1, evaluationPeriods: 1, periodSeconds: 60 }, {
        role: `${instance}-route53-health`,
        description: `Route 53 health check of instance ${instance} (web and DICOM) is failing: its record is withdrawn`,
        namespace: "AWS/Route53",
        metricName: "HealthCheckStatus",
        statistic: "Minimum",
        treatMissingData: "breaching",
        region: "us-east-1",
    });
}

/**
 * EC2 status checks of one slot's instance (the slot's Auto Scaling group: its dimension follows a replacement).
 * The group itself acts on a failed check (its health check type is EC2): it terminates the instance and launches
 * a new one, which takes the slot's address. These alarms only tell people. Neither looks at the application.
 */
export function statusCheckAlarms(slot: number): AlarmSpec[] {
    const failed = (evaluationPeriods: number): Threshold => ({ comparison: "GreaterThanOrEqualToThreshold", threshold: 1, evaluationPeriods, periodSeconds: 60 });
    const check = { namespace: "AWS/EC2", statistic: "Maximum", treatMissingData: "missing" } as const;
    return [
        alarm("system check failed", failed(2), {
            ...check,
            role: `${slot}-system-check`,
            description: `Instance ${slot}: EC2 system status check failed (the host); its Auto Scaling group replaces it`,
            metricName: "StatusCheckFailed_System",
        }),
        alarm("instance check failed", failed(3), {
            ...check,
            role: `${slot}-instance-check`,
            description: `Instance ${slot}: EC2 instance status check failed (the OS); its Auto Scaling group replaces it`,
            metricName: "StatusCheckFailed_Instance",
        }),
    ];
}

/**
 * A slot without an instance in service: its instance was terminated or failed and the replacement is not in service
 * yet (or cannot start). Longer than a normal replacement's launch and gate, so a heal that works stays quiet.
 */
export function emptySlotAlarm(slot: number): AlarmSpec {
    return alarm("instances in service", { comparison: "LessThanThreshold", threshold: 1, evaluationPeriods: 15, periodSeconds: 60 }, {
        role: `${slot}-in-service`,
        description: `Instance ${slot}: no instance in service for 15 minutes (terminated or failed, and its replacement is not serving yet)`,
        namespace: "AWS/AutoScaling",
        metricName: "GroupInServiceInstances",
        statistic: "Maximum",
        treatMissingData: "breaching",
    });
}

/**
 * The certificate a slot serves (orthweb:tls.source acme) has fewer than ALARM_BELOW_DAYS days left: renewals have
 * failed for two weeks. The renewal step publishes the metric every hour; missing data is breaching, so a slot whose
 * renewal step stopped running alarms after three hours as well.
 */
export function certificateExpiryAlarm(slot: number, belowDays: number, metric: { readonly namespace: string; readonly name: string }, periodSeconds: number): AlarmSpec {
    return alarm("certificate days left", { comparison: "LessThanThreshold", threshold: belowDays, evaluationPeriods: 3, periodSeconds }, {
        role: `${slot}-certificate`,
        description: `Instance ${slot}: its certificate expires in less than ${belowDays} days (renewal failing), or its renewal step reported nothing for 3 hours`,
        namespace: metric.namespace,
        metricName: metric.name,
        statistic: "Minimum",
        treatMissingData: "breaching",
    }, " days");
}

export const GIB = 1024 ** 3;
/** Free storage below this share of the allocated storage alarms (RDS storage autoscaling acts near 10 % too). */
export const FREE_STORAGE_SHARE = 0.1;
export const DATABASE_CPU_PERCENT = 80;

export function databaseAlarms(allocatedStorageGiB: number): AlarmSpec[] {
    const rds = { namespace: "AWS/RDS", treatMissingData: "missing" } as const;
    return [
        alarm(
            "free storage",
            { comparison: "LessThanThreshold", threshold: Math.round(allocatedStorageGiB * GIB * FREE_STORAGE_SHARE), evaluationPeriods: 2, periodSeconds: 300 },
            { ...rds, role: "db-free-storage", description: `Database: less than ${FREE_STORAGE_SHARE * 100} % of its ${allocatedStorageGiB} GiB free`, metricName: "FreeStorageSpace", statistic: "Minimum" },
            " GiB",
            (allocatedStorageGiB * FREE_STORAGE_SHARE).toFixed(1),
        ),
        alarm(
            "CPU",
            { comparison: "GreaterThanThreshold", threshold: DATABASE_CPU_PERCENT, evaluationPeriods: 3, periodSeconds: 300 },
            { ...rds, role: "db-cpu", description: `Database: CPU above ${DATABASE_CPU_PERCENT} % for 15 minutes`, metricName: "CPUUtilization", statistic: "Average" },
            " %",
        ),
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

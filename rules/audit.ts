// The audit trail as pure data: how long logs are kept, where each log lands in a log bucket, and the bucket
// policy that lets exactly those AWS services write there. No Pulumi here: the pair's audit trail and the load
// balancer's access logs both build their log buckets from it, and its tests need no mocks.

export type Environment = "dev" | "prod";

/** Days an overwritten or deleted study object stays recoverable when `orthweb:storage.noncurrentVersionDays` is unset. */
export const DEFAULT_NONCURRENT_VERSION_DAYS = 90;

/** Days logs are kept when `orthweb:audit.retentionDays` is unset. */
export const AUDIT_RETENTION_DEFAULT_DAYS: Readonly<Record<Environment, number>> = { dev: 30, prod: 365 };

export function auditRetentionDays(environment: Environment, configured?: number): number {
    return configured ?? AUDIT_RETENTION_DEFAULT_DAYS[environment];
}

/** Where each log lands in the pair's audit bucket (CloudTrail and vended logs add AWSLogs/<account>/ below). */
export const AUDIT_PREFIXES = { s3Access: "s3-access", cloudTrail: "cloudtrail", flowLogs: "flow-logs" } as const;
/** Where the network load balancer writes its TLS access logs in the front door's log bucket (the ALB: "alb"). */
export const NLB_ACCESS_LOG_PREFIX = "nlb";
/** WAF delivers only to destinations whose name starts with this (S3 bucket, log group or Firehose stream). */
export const WAF_LOG_NAME_PREFIX = "aws-waf-logs-";

export const SERVICE_PRINCIPALS = {
    elb: "logdelivery.elasticloadbalancing.amazonaws.com",
    /** Vended logs: NLB access logs, VPC flow logs, WAF logs. */
    logDelivery: "delivery.logs.amazonaws.com",
    s3ServerAccess: "logging.s3.amazonaws.com",
    cloudTrail: "cloudtrail.amazonaws.com",
} as const;

/** Who writes into a log bucket, and under which prefix ("" for the bucket's root). */
export type LogWriter =
    /** ALB access logs: the regional ELB account in regions opened before August 2022, else the ELB service principal. */
    | { readonly kind: "elb"; readonly prefix: string; readonly elbAccountArn?: string }
    /** Vended logs: NLB access logs, VPC flow logs, WAF. */
    | { readonly kind: "logDelivery"; readonly prefix: string }
    /** S3 server access logs of one source bucket. */
    | { readonly kind: "s3ServerAccess"; readonly prefix: string; readonly sourceBucketArn: string }
    | { readonly kind: "cloudTrail"; readonly prefix: string };

export interface LogBucketPolicyParams {
    readonly bucketArn: string;
    readonly accountId: string;
    readonly writers: readonly LogWriter[];
}

/** `<bucket>/<prefix>/AWSLogs/<account>/*`, or `<bucket>/AWSLogs/<account>/*` without a prefix. */
function awsLogsPath(bucketArn: string, prefix: string, accountId: string): string {
    return `${bucketArn}/${prefix ? `${prefix}/` : ""}AWSLogs/${accountId}/*`;
}

/** Statements that let one writer put objects under its prefix only, from this account only where AWS supports it. */
function writerStatements(w: LogWriter, bucketArn: string, accountId: string): Record<string, unknown>[] {
    const sourceAccount = { StringEquals: { "aws:SourceAccount": accountId } };
    const ownerControl = { StringEquals: { "aws:SourceAccount": accountId, "s3:x-amz-acl": "bucket-owner-full-control" } };
    const aclCheck = (sid: string, service: string) => ({ Sid: sid, Effect: "Allow", Principal: { Service: service }, Action: "s3:GetBucketAcl", Resource: bucketArn, Condition: sourceAccount });
    switch (w.kind) {
        case "elb":
            return [
                {
                    Sid: "LoadBalancerLogDelivery",
                    Effect: "Allow",
                    Principal: w.elbAccountArn ? { AWS: w.elbAccountArn } : { Service: SERVICE_PRINCIPALS.elb },
                    Action: "s3:PutObject",
                    Resource: awsLogsPath(bucketArn, w.prefix, accountId),
                },
            ];
        case "logDelivery":
            return [
                aclCheck(`LogDeliveryAclCheck${w.prefix ? `-${w.prefix}` : ""}`, SERVICE_PRINCIPALS.logDelivery),
                {
                    Sid: `LogDeliveryWrite${w.prefix ? `-${w.prefix}` : ""}`,
                    Effect: "Allow",
                    Principal: { Service: SERVICE_PRINCIPALS.logDelivery },
                    Action: "s3:PutObject",
                    Resource: awsLogsPath(bucketArn, w.prefix, accountId),
                    Condition: ownerControl,
                },
            ];
        case "s3ServerAccess":
            return [
                {
                    Sid: "S3ServerAccessLogs",
                    Effect: "Allow",
                    Principal: { Service: SERVICE_PRINCIPALS.s3ServerAccess },
                    Action: "s3:PutObject",
                    Resource: `${bucketArn}/${w.prefix}/*`,
                    Condition: { ArnLike: { "aws:SourceArn": w.sourceBucketArn }, StringEquals: { "aws:SourceAccount": accountId } },
                },
            ];
        case "cloudTrail":
            return [
                aclCheck("CloudTrailAclCheck", SERVICE_PRINCIPALS.cloudTrail),
                {
                    Sid: "CloudTrailWrite",
                    Effect: "Allow",
                    Principal: { Service: SERVICE_PRINCIPALS.cloudTrail },
                    Action: "s3:PutObject",
                    Resource: awsLogsPath(bucketArn, w.prefix, accountId),
                    Condition: ownerControl,
                },
            ];
    }
}

/**
 * A log bucket's policy: each writer may put objects under its own prefix and nowhere else; nothing travels
 * without TLS. Nobody is granted reading: auditors read with their own IAM permissions in the account.
 */
export function logBucketPolicy(p: LogBucketPolicyParams) {
    const statements = p.writers.flatMap((w) => writerStatements(w, p.bucketArn, p.accountId));
    // Two vended-log writers share one ACL check: keep the first.
    const unique = statements.filter((s, i) => s.Action !== "s3:GetBucketAcl" || statements.findIndex((o) => o.Action === "s3:GetBucketAcl" && JSON.stringify(o.Principal) === JSON.stringify(s.Principal)) === i);
    return {
        Version: "2012-10-17",
        Statement: [
            ...unique,
            {
                Sid: "DenyInsecureTransport",
                Effect: "Deny",
                Principal: "*",
                Action: "s3:*",
                Resource: [p.bucketArn, `${p.bucketArn}/*`],
                Condition: { Bool: { "aws:SecureTransport": "false" } },
            },
        ],
    };
}

/** One lifecycle rule for a whole log bucket: every object expires `days` after it was written. */
export function logExpirationRule(days: number) {
    return { id: "expire-audit-logs", status: "Enabled", filter: {}, expiration: { days }, abortIncompleteMultipartUpload: { daysAfterInitiation: 1 } };
}

/**
 * The CloudTrail advanced event selector for one bucket's object-level reads and writes (GetObject, PutObject,
 * DeleteObject, ...): data events only, no management events.
 */
export function studyObjectDataEvents(bucketArn: string) {
    return [
        {
            name: "Study objects: every read and write",
            fieldSelectors: [
                { field: "eventCategory", equals: ["Data"] },
                { field: "resources.type", equals: ["AWS::S3::Object"] },
                { field: "resources.ARN", startsWith: [`${bucketArn}/`] },
            ],
        },
    ];
}

/** Whether a load balancer's listeners allow access logs: an ALB always; an NLB only for its TLS listeners. */
export function loadBalancerLogsAccess(loadBalancer: "alb" | "nlb", listenerProtocols: readonly string[]): boolean {
    return loadBalancer === "alb" || listenerProtocols.some((p) => p.toUpperCase() === "TLS");
}

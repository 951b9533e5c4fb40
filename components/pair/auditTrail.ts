// The pair's audit trail: who read or wrote which study object, and which addresses talked to which inside the VPC.
//  - CloudTrail data events on the study bucket: every GetObject/PutObject/DeleteObject with the calling principal
//    (the instance role's session names the instance), delivered reliably, with digest files to prove integrity.
//  - S3 server access logs of the study bucket: every request, also anonymous and denied ones (best effort).
//  - VPC flow logs: every accepted and rejected connection in the VPC.
// All three land in one SSE-S3 log bucket of their own, expiring after orthweb:audit.retentionDays.
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { AUDIT_PREFIXES, LogWriter, studyObjectDataEvents } from "../../rules/audit";
import { createLogBucket } from "../logBucket";
import { tagsFor } from "../naming";
import { PairContext } from "./shared";

/** Flow records are aggregated over at most this many seconds (60 or 600); 600 writes fewer, larger objects. */
export const FLOW_LOG_AGGREGATION_SECONDS = 600;

export interface AuditTrail {
    readonly bucket: aws.s3.Bucket;
}

export function createAuditTrail(
    ctx: PairContext,
    args: { readonly studyBucket: aws.s3.Bucket; readonly vpcId: pulumi.Output<string>; readonly retentionDays: number },
): AuditTrail {
    const { name, tags, parent, prod } = ctx;
    const logs = createLogBucket(`${name}-audit`, {
        retentionDays: args.retentionDays,
        prod,
        tags,
        parent,
        writers: args.studyBucket.arn.apply((sourceBucketArn): LogWriter[] => [
            { kind: "s3ServerAccess", prefix: AUDIT_PREFIXES.s3Access, sourceBucketArn },
            { kind: "cloudTrail", prefix: AUDIT_PREFIXES.cloudTrail },
            { kind: "logDelivery", prefix: AUDIT_PREFIXES.flowLogs },
        ]),
    });
    const afterPolicy = { parent, dependsOn: [logs.policy] };

    new aws.s3.BucketLogging(
        `${name}-bucket`,
        { bucket: args.studyBucket.id, targetBucket: logs.bucket.bucket, targetPrefix: `${AUDIT_PREFIXES.s3Access}/` },
        afterPolicy,
    );
    new aws.cloudtrail.Trail(
        `${name}-data-events`,
        {
            s3BucketName: logs.bucket.bucket,
            s3KeyPrefix: AUDIT_PREFIXES.cloudTrail,
            // One region, data events only: management events already have the account's own trail (or Event history).
            isMultiRegionTrail: false,
            includeGlobalServiceEvents: false,
            enableLogFileValidation: true,
            advancedEventSelectors: args.studyBucket.arn.apply(studyObjectDataEvents),
            tags: tagsFor(`${name}-data-events`, tags),
        },
        afterPolicy,
    );
    new aws.ec2.FlowLog(
        `${name}-flow-logs`,
        {
            vpcId: args.vpcId,
            trafficType: "ALL",
            logDestinationType: "s3",
            logDestination: pulumi.interpolate`${logs.bucket.arn}/${AUDIT_PREFIXES.flowLogs}`,
            maxAggregationInterval: FLOW_LOG_AGGREGATION_SECONDS,
            tags: tagsFor(`${name}-flow-logs`, tags),
        },
        afterPolicy,
    );
    return { bucket: logs.bucket };
}

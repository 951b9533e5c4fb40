// A bucket for logs: SSE-S3 (ELB access logs and S3 server access logs can only be written to SSE-S3 buckets),
// every public access blocked, TLS only, each AWS writer granted its own prefix, objects expiring after the
// retention, and retained (not emptied) when a prod stack is destroyed.
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { LogWriter, logBucketPolicy, logExpirationRule } from "../rules/audit";
import { Tags, tagsFor } from "./naming";

export interface LogBucketArgs {
    readonly retentionDays: number;
    readonly prod: boolean;
    readonly tags: Tags;
    readonly parent: pulumi.Resource;
    /** A fixed start for the bucket's name (WAF delivers only to buckets named aws-waf-logs-*). @default auto-named */
    readonly bucketPrefix?: string;
    /** Who writes here, each under its own prefix. */
    readonly writers: pulumi.Input<LogWriter[]>;
}

export interface LogBucket {
    readonly bucket: aws.s3.Bucket;
    /** Writers must wait for it: AWS test-writes (ELB) or checks the ACL (vended logs, CloudTrail) at creation. */
    readonly policy: aws.s3.BucketPolicy;
}

export function createLogBucket(name: string, args: LogBucketArgs): LogBucket {
    const { parent, prod, tags } = args;
    const bucket = new aws.s3.Bucket(
        name,
        { ...(args.bucketPrefix ? { bucketPrefix: args.bucketPrefix } : {}), forceDestroy: !prod, tags: tagsFor(name, tags) },
        { parent, retainOnDelete: prod },
    );
    new aws.s3.BucketServerSideEncryptionConfiguration(name, { bucket: bucket.id, rules: [{ applyServerSideEncryptionByDefault: { sseAlgorithm: "AES256" } }] }, { parent });
    const publicAccess = new aws.s3.BucketPublicAccessBlock(
        name,
        { bucket: bucket.id, blockPublicAcls: true, blockPublicPolicy: true, ignorePublicAcls: true, restrictPublicBuckets: true },
        { parent },
    );
    // Log writers set the bucket-owner-full-control ACL; with ACLs disabled the bucket owns every object anyway.
    new aws.s3.BucketOwnershipControls(name, { bucket: bucket.id, rule: { objectOwnership: "BucketOwnerEnforced" } }, { parent });
    new aws.s3.BucketLifecycleConfiguration(name, { bucket: bucket.id, rules: [logExpirationRule(args.retentionDays)] }, { parent });
    const account = aws.getCallerIdentityOutput({}, { parent });
    const policy = new aws.s3.BucketPolicy(
        name,
        {
            bucket: bucket.id,
            policy: pulumi
                .all([bucket.arn, account.accountId, args.writers])
                .apply(([bucketArn, accountId, writers]) => JSON.stringify(logBucketPolicy({ bucketArn, accountId, writers }))),
        },
        { parent, dependsOn: [publicAccess] },
    );
    return { bucket, policy };
}

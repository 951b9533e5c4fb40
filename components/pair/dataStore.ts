// The pair's shared data: one KMS key, the S3 bucket (Orthanc storage) and RDS PostgreSQL (Orthanc index).
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import { createHash } from "crypto";
import { finalSnapshotIdentifier } from "../../rules/rollout";
import { DATABASE_PORT } from "../../rules/ports";
import { DATABASE_NAME, DATABASE_USER } from "../../rules/database";
import { partitionOf, tagsFor } from "../naming";
import { at, PairContext } from "./shared";

export interface DatabaseSettings {
    readonly instanceClass: string;
    readonly engineVersion: string;
    readonly allocatedStorageGiB: number;
}

export interface DataStore {
    readonly key: aws.kms.Key;
    /** The stack's own Auto Scaling service-linked role: the slots' groups launch with it, and the key admits it. */
    readonly autoScalingRole: aws.iam.ServiceLinkedRole;
    readonly bucket: aws.s3.Bucket;
    readonly database: aws.rds.Instance;
    /** The RDS-managed master secret's ARN. */
    readonly databaseSecretArn: pulumi.Output<string>;
}

export function createDataStore(
    ctx: PairContext,
    args: {
        readonly database: DatabaseSettings;
        readonly subnetIds: pulumi.Output<string[]>;
        readonly securityGroup: aws.ec2.SecurityGroup;
        /** Days an overwritten or deleted study object stays recoverable before it expires. */
        readonly noncurrentVersionDays: number;
    },
): DataStore {
    const autoScalingRole = createAutoScalingRole(ctx);
    const key = createKey(ctx, autoScalingRole);
    const bucket = createBucket(ctx, key, args.noncurrentVersionDays);
    const database = createDatabase(ctx, args, key);
    return { key, autoScalingRole, bucket, database, databaseSecretArn: database.masterUserSecrets.apply((s) => at(s, 0)?.secretArn) };
}

export const AUTOSCALING_SERVICE = "autoscaling.amazonaws.com";
/** IAM's name for the role EC2 Auto Scaling creates by itself; a custom-suffix role adds `_<suffix>`. */
export const AUTOSCALING_ROLE_NAME = "AWSServiceRoleForAutoScaling";
/** Role names are at most 64 characters: what is left for the suffix after `AWSServiceRoleForAutoScaling_`. */
export const AUTOSCALING_ROLE_SUFFIX_MAX = 64 - AUTOSCALING_ROLE_NAME.length - 1;

/**
 * The custom suffix of the stack's own Auto Scaling service-linked role: readable (project and stack), unique per
 * project, stack, region and pair (IAM is global; the hash tells apart what the cut-off part would not), within
 * IAM's length and character rules. Exported for testing.
 */
export function autoScalingRoleSuffix(project: string, stack: string, region: string, pair: string): string {
    const hash = createHash("sha256").update([project, stack, region, pair].join("\n")).digest("hex").slice(0, 8);
    const readable = `${project}-${stack}`.replace(/[^\w+=,.@-]/g, "-").slice(0, AUTOSCALING_ROLE_SUFFIX_MAX - hash.length - 1);
    return `${readable}-${hash}`;
}

/**
 * A service-linked role of the stack's own (AWSServiceRoleForAutoScaling_<suffix>), not the account's default one:
 * - it exists in every account, also one that never had an Auto Scaling group (where the default role does not
 *   exist yet, and naming it in the key policy would fail: KMS refuses principals that do not exist);
 * - no other stack or user of the account depends on it, so `pulumi destroy` deletes it (after the groups, which
 *   name it; IAM refuses to delete it while a group still uses it) without breaking anyone;
 * - the key admits this stack's groups only, not every group of the account.
 */
function createAutoScalingRole(ctx: PairContext) {
    const { name, parent, region } = ctx;
    return new aws.iam.ServiceLinkedRole(
        `${name}-autoscaling`,
        {
            awsServiceName: AUTOSCALING_SERVICE,
            customSuffix: autoScalingRoleSuffix(pulumi.getProject(), pulumi.getStack(), region, name),
            description: `${name}: launches the pair's instances with volumes encrypted by the pair's key`,
            tags: tagsFor(`${name}-autoscaling`, ctx.tags),
        },
        { parent },
    );
}

/** What Auto Scaling's role needs on a customer-managed key to launch instances with volumes encrypted by it. */
export const AUTOSCALING_KEY_ACTIONS = ["kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:DescribeKey"] as const;

/**
 * The key's policy: the account's root keeps full control (as KMS's default policy: IAM policies decide for the
 * account's own principals, and the key can never be locked out), and the stack's Auto Scaling role may use the key
 * for the volumes it launches and create grants for the AWS resources (the volumes) only: "Required AWS KMS key policy
 * for use with encrypted volumes", EC2 Auto Scaling user guide. Without it no instance ever launches. Exported for testing.
 */
export function dataKeyPolicy(p: { readonly partition: string; readonly accountId: string; readonly autoScalingRoleArn: string }) {
    return {
        Version: "2012-10-17",
        Statement: [
            { Sid: "AccountRootFullAccess", Effect: "Allow", Principal: { AWS: `arn:${p.partition}:iam::${p.accountId}:root` }, Action: "kms:*", Resource: "*" },
            { Sid: "AutoScalingUsesKeyForVolumes", Effect: "Allow", Principal: { AWS: p.autoScalingRoleArn }, Action: [...AUTOSCALING_KEY_ACTIONS], Resource: "*" },
            {
                Sid: "AutoScalingGrantsForVolumes",
                Effect: "Allow",
                Principal: { AWS: p.autoScalingRoleArn },
                Action: "kms:CreateGrant",
                Resource: "*",
                Condition: { Bool: { "kms:GrantIsForAWSResource": "true" } },
            },
        ],
    };
}

/** Prod keeps its key when the stack is destroyed: deleting it would leave the retained data unreadable for ever. */
export function keyTeardown(prod: boolean): { retainOnDelete: boolean } {
    return { retainOnDelete: prod };
}

/** One customer-managed key for the bucket, the database, its secret, the volumes and our secrets. */
function createKey(ctx: PairContext, autoScalingRole: aws.iam.ServiceLinkedRole) {
    const { name, tags, parent } = ctx;
    const account = aws.getCallerIdentityOutput({}, { parent });
    return new aws.kms.Key(
        `${name}-key`,
        {
            description: `${name}: Orthanc data, database and secrets`,
            enableKeyRotation: true,
            deletionWindowInDays: ctx.prod ? 30 : 7,
            policy: pulumi
                .all([account.accountId, autoScalingRole.arn])
                .apply(([accountId, autoScalingRoleArn]) => JSON.stringify(dataKeyPolicy({ partition: partitionOf(ctx.region), accountId, autoScalingRoleArn }))),
            tags: tagsFor(`${name}-key`, tags),
        },
        // What prod keeps on destroy (the bucket, the final snapshot) is encrypted with this key: it stays too.
        { parent, ...keyTeardown(ctx.prod) },
    );
}

function createBucket(ctx: PairContext, key: aws.kms.Key, noncurrentVersionDays: number) {
    const { name, tags, parent, prod } = ctx;
    const bucket = new aws.s3.Bucket(`${name}-bucket`, { forceDestroy: !prod, tags: tagsFor(`${name}-bucket`, tags) }, { parent, retainOnDelete: prod });
    const versioning = new aws.s3.BucketVersioning(`${name}-bucket`, { bucket: bucket.id, versioningConfiguration: { status: "Enabled" } }, { parent });
    new aws.s3.BucketLifecycleConfiguration(
        `${name}-bucket`,
        { bucket: bucket.id, rules: studyBucketLifecycleRules(noncurrentVersionDays) },
        // S3 rejects noncurrent-version rules until versioning is on.
        { parent, dependsOn: [versioning] },
    );
    new aws.s3.BucketServerSideEncryptionConfiguration(
        `${name}-bucket`,
        {
            bucket: bucket.id,
            rules: [{ applyServerSideEncryptionByDefault: { sseAlgorithm: "aws:kms", kmsMasterKeyId: key.arn }, bucketKeyEnabled: true }],
        },
        { parent },
    );
    const publicAccess = new aws.s3.BucketPublicAccessBlock(
        `${name}-bucket`,
        { bucket: bucket.id, blockPublicAcls: true, blockPublicPolicy: true, ignorePublicAcls: true, restrictPublicBuckets: true },
        { parent },
    );
    const partition = partitionOf(ctx.region);
    new aws.s3.BucketPolicy(
        `${name}-bucket`,
        {
            bucket: bucket.id,
            policy: bucket.bucket.apply((b) =>
                JSON.stringify({
                    Version: "2012-10-17",
                    Statement: [
                        {
                            Sid: "DenyInsecureTransport",
                            Effect: "Deny",
                            Principal: "*",
                            Action: "s3:*",
                            Resource: [`arn:${partition}:s3:::${b}`, `arn:${partition}:s3:::${b}/*`],
                            Condition: { Bool: { "aws:SecureTransport": "false" } },
                        },
                    ],
                }),
            ),
        },
        { parent, dependsOn: [publicAccess] },
    );
    return bucket;
}

/**
 * Versions that do not pile up: an overwritten or deleted study stays recoverable for `noncurrentVersionDays`,
 * then its old version expires; delete markers left alone and unfinished multipart uploads are cleaned up.
 * Current versions never expire. Exported for testing.
 */
export function studyBucketLifecycleRules(noncurrentVersionDays: number) {
    return [
        {
            id: "expire-noncurrent-versions",
            status: "Enabled",
            filter: {},
            noncurrentVersionExpiration: { noncurrentDays: noncurrentVersionDays },
            expiration: { expiredObjectDeleteMarker: true },
            abortIncompleteMultipartUpload: { daysAfterInitiation: 7 },
        },
    ];
}

/** Unique per stack (project, stack) and per destroy: a random suffix that lives and dies with the database. */
function finalSnapshotName(ctx: PairContext): pulumi.Output<string> {
    const { name, parent } = ctx;
    const suffix = new random.RandomId(`${name}-db-final`, { byteLength: 4 }, { parent });
    return suffix.hex.apply((hex) => finalSnapshotIdentifier(pulumi.getProject(), pulumi.getStack(), `${name}-db`, hex));
}

function createDatabase(
    ctx: PairContext,
    args: { readonly database: DatabaseSettings; readonly subnetIds: pulumi.Output<string[]>; readonly securityGroup: aws.ec2.SecurityGroup },
    key: aws.kms.Key,
) {
    const { name, tags, parent, prod } = ctx;
    const subnetGroup = new aws.rds.SubnetGroup(
        `${name}-db`,
        { subnetIds: args.subnetIds, description: `${name}: PostgreSQL in the private subnets`, tags: tagsFor(`${name}-db`, tags) },
        { parent },
    );
    const db = args.database;
    return new aws.rds.Instance(
        `${name}-db`,
        {
            engine: "postgres",
            engineVersion: db.engineVersion,
            instanceClass: db.instanceClass,
            allocatedStorage: db.allocatedStorageGiB,
            maxAllocatedStorage: db.allocatedStorageGiB * 5,
            storageType: "gp3",
            storageEncrypted: true,
            kmsKeyId: key.arn,
            dbName: DATABASE_NAME,
            username: DATABASE_USER,
            // RDS creates and rotates the password in Secrets Manager; this program never sees it.
            manageMasterUserPassword: true,
            masterUserSecretKmsKeyId: key.arn,
            port: DATABASE_PORT,
            dbSubnetGroupName: subnetGroup.name,
            vpcSecurityGroupIds: [args.securityGroup.id],
            publiclyAccessible: false,
            multiAz: prod,
            deletionProtection: prod,
            skipFinalSnapshot: !prod,
            finalSnapshotIdentifier: prod ? finalSnapshotName(ctx) : undefined,
            backupRetentionPeriod: prod ? 7 : 1,
            copyTagsToSnapshot: true,
            autoMinorVersionUpgrade: true,
            tags: tagsFor(`${name}-db`, tags),
        },
        { parent },
    );
}

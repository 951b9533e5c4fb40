// The pair's shared data: one KMS key, the S3 bucket (Orthanc storage) and RDS PostgreSQL (Orthanc index).
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import { finalSnapshotIdentifier } from "../../rules/rollout";
import { DATABASE_PORT } from "../../rules/ports";
import { partitionOf, tagsFor } from "../naming";
import { at, PairContext } from "./shared";

export const DATABASE_NAME = "orthanc";
export const DATABASE_USER = "orthanc";

export interface DatabaseSettings {
    readonly instanceClass: string;
    readonly engineVersion: string;
    readonly allocatedStorageGiB: number;
}

export interface DataStore {
    readonly key: aws.kms.Key;
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
    const key = createKey(ctx);
    const bucket = createBucket(ctx, key, args.noncurrentVersionDays);
    const database = createDatabase(ctx, args, key);
    return { key, bucket, database, databaseSecretArn: database.masterUserSecrets.apply((s) => at(s, 0)?.secretArn) };
}

/** Prod keeps its key when the stack is destroyed: deleting it would leave the retained data unreadable for ever. */
export function keyTeardown(prod: boolean): { retainOnDelete: boolean } {
    return { retainOnDelete: prod };
}

/** One customer-managed key for the bucket, the database, its secret, the volumes and our secrets. */
function createKey(ctx: PairContext) {
    const { name, tags, parent } = ctx;
    return new aws.kms.Key(
        `${name}-key`,
        {
            description: `${name}: Orthanc data, database and secrets`,
            enableKeyRotation: true,
            deletionWindowInDays: ctx.prod ? 30 : 7,
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

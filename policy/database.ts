// The pack's database rules (the grouping of Pulumi's AWSGuard pack): RDS encrypted and private, and production's
// data stores and load balancers protected from deletion.
import {
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    validateResourceOfType,
} from "@pulumi/policy";
import { environmentTag } from "./graph";
import { aws } from "./resourceTypes";

function checkStorageEncrypted(db: { storageEncrypted?: boolean }, _args: ResourceValidationArgs, report: ReportViolation) {
    if (db.storageEncrypted !== true) report("storageEncrypted is not true; it cannot be turned on later without a snapshot restore.");
}

function checkNotPublic(db: { publiclyAccessible?: boolean }, _args: ResourceValidationArgs, report: ReportViolation) {
    if (db.publiclyAccessible === true) report("publiclyAccessible is true; set it to false.");
}

export const rdsStorageEncrypted: ResourceValidationPolicy = {
    name: "rds-storage-encrypted",
    description: "The Orthanc index database (RDS instance or Aurora cluster) encrypts its storage, snapshots and backups.",
    enforcementLevel: "mandatory",
    validateResource: [validateResourceOfType(aws.rds.Instance, checkStorageEncrypted), validateResourceOfType(aws.rds.Cluster, checkStorageEncrypted)],
};

export const rdsNotPublic: ResourceValidationPolicy = {
    name: "rds-not-publicly-accessible",
    description: "No database instance gets a public address: the index is reached from the instances' security group only.",
    enforcementLevel: "mandatory",
    validateResource: [validateResourceOfType(aws.rds.Instance, checkNotPublic), validateResourceOfType(aws.rds.ClusterInstance, checkNotPublic)],
};

// ---------------------------------------------------------------------------------------------------
// Production.

function isProd(args: ResourceValidationArgs): boolean {
    const environment = args.getConfig<{ environment?: string }>().environment;
    return environment !== undefined ? environment === "prod" : environmentTag(args.props) === "prod";
}

function protectDatabase(db: { deletionProtection?: boolean; skipFinalSnapshot?: boolean }, args: ResourceValidationArgs, report: ReportViolation) {
    if (!isProd(args)) return;
    if (db.deletionProtection !== true) report("deletionProtection is not true in prod.");
    if (db.skipFinalSnapshot === true) report("skipFinalSnapshot is true in prod; a deletion would lose the index without a snapshot.");
}

function protectBucket(bucket: { forceDestroy?: boolean }, args: ResourceValidationArgs, report: ReportViolation) {
    if (isProd(args) && bucket.forceDestroy === true) report("forceDestroy is true in prod: deleting the stack would delete every image.");
}

function protectLoadBalancer(lb: { enableDeletionProtection?: boolean }, args: ResourceValidationArgs, report: ReportViolation) {
    if (isProd(args) && lb.enableDeletionProtection !== true) report("enableDeletionProtection is not true in prod.");
}

export const deletionProtectionInProd: ResourceValidationPolicy = {
    name: "deletion-protection-in-prod",
    description:
        "In prod, databases have deletion protection and take a final snapshot, buckets cannot be force-destroyed with " +
        "their images, and load balancers (whose DNS names modalities are configured with) have deletion protection. " +
        "Prod is the policy config's `environment`, else the resource's Environment tag.",
    enforcementLevel: "mandatory",
    configSchema: {
        properties: {
            environment: { type: "string", enum: ["dev", "prod"], description: "The stack's environment; unset: read each resource's Environment tag." },
        },
    },
    validateResource: [
        validateResourceOfType(aws.rds.Instance, protectDatabase),
        validateResourceOfType(aws.rds.Cluster, protectDatabase),
        validateResourceOfType(aws.s3.Bucket, protectBucket),
        validateResourceOfType(aws.s3.BucketV2, protectBucket),
        validateResourceOfType(aws.lb.LoadBalancer, protectLoadBalancer),
        validateResourceOfType(aws.alb.LoadBalancer, protectLoadBalancer),
    ],
};

// What the instances are allowed to be and read: the Orthanc admin login and the TLS secret (both in Secrets
// Manager under the pair's key) and the instance role scoped to the bucket, those secrets, the key and SSM.
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import { DATABASE_APP_USER } from "../../rules/database";
import { ADMIN_USER } from "../../rules/logins";
import { partitionOf, tagsFor } from "../naming";
import { DataStore } from "./dataStore";
import { ImageCache, imageCacheStatements } from "./imageCache";
import { defined, PairContext } from "./shared";

export interface Identity {
    readonly adminSecret: aws.secretsmanager.Secret;
    /** The admin login's value: the instances wait for it before they start. */
    readonly adminSecretVersion: aws.secretsmanager.SecretVersion;
    readonly tlsSecret: aws.secretsmanager.Secret;
    /** Orthanc's own database login (made by the start script with the master login); it does not rotate. */
    readonly databaseAppSecret: aws.secretsmanager.Secret;
    readonly databaseAppSecretVersion: aws.secretsmanager.SecretVersion;
    readonly instanceProfileArn: pulumi.Output<string>;
    /** The instances' role: other steps attach what their part needs (the rollout's target-group calls). */
    readonly role: aws.iam.Role;
}

/** Characters of Orthanc's database password besides letters and digits: the awkward ones on purpose. */
export const DATABASE_APP_PASSWORD_SPECIALS = `$\\'" %@:/!#&*()-_=+[]{}<>?`;

export function createIdentity(ctx: PairContext, data: DataStore, imageCache?: ImageCache): Identity {
    const { name, parent } = ctx;
    // Orthanc's admin login: generated here, kept in Secrets Manager, read by the instances at boot.
    const adminPassword = new random.RandomPassword(`${name}-admin`, { length: 32, special: false }, { parent });
    const adminSecret = createSecret(ctx, data.key, "admin", "Orthanc admin login");
    const adminSecretVersion = new aws.secretsmanager.SecretVersion(
        `${name}-admin`,
        { secretId: adminSecret.id, secretString: pulumi.secret(pulumi.jsonStringify({ username: ADMIN_USER, password: adminPassword.result })) },
        { parent },
    );
    const tlsSecret = createSecret(ctx, data.key, "tls", "TLS certificate and key for 443/11112");
    // Orthanc's database login: the program's, not RDS's, so RDS's rotation of the master never reaches it. Its
    // password holds the characters that broke the first release; the start script proves they pass.
    const databaseAppPassword = new random.RandomPassword(`${name}-database-app`, { length: 32, special: true, overrideSpecial: DATABASE_APP_PASSWORD_SPECIALS }, { parent });
    const databaseAppSecret = createSecret(ctx, data.key, "database-app", "Orthanc's own database login");
    const databaseAppSecretVersion = new aws.secretsmanager.SecretVersion(
        `${name}-database-app`,
        { secretId: databaseAppSecret.id, secretString: pulumi.secret(pulumi.jsonStringify({ username: DATABASE_APP_USER, password: databaseAppPassword.result })) },
        { parent },
    );
    const { role, instanceProfileArn } = createRole(ctx, data, [adminSecret.arn, tlsSecret.arn, data.databaseSecretArn, databaseAppSecret.arn], imageCache);
    return { adminSecret, adminSecretVersion, tlsSecret, databaseAppSecret, databaseAppSecretVersion, instanceProfileArn, role };
}

function createSecret(ctx: PairContext, key: aws.kms.Key, role: string, description: string) {
    const { name, tags, parent, prod } = ctx;
    return new aws.secretsmanager.Secret(
        `${name}-${role}`,
        {
            namePrefix: `${name}-${role}-`,
            description: `${name}: ${description}`,
            kmsKeyId: key.arn,
            // dev stacks are torn down and rebuilt; prod keeps a recovery window.
            recoveryWindowInDays: prod ? 30 : 0,
            tags: tagsFor(`${name}-${role}`, tags),
        },
        { parent },
    );
}

/**
 * What the SSM agent calls for Session Manager and State Manager, and nothing of the managed policy's other features
 * (Parameter Store, Patch Manager, Inventory, Distributor). Sources: AWS Systems Manager user guide, "Step 2: Verify
 * or add instance permissions for Session Manager" and the AmazonSSMManagedInstanceCore reference. Exported for testing.
 */
export function ssmAgentStatements(region: string): Record<string, unknown>[] {
    const partition = partitionOf(region);
    return [
        {
            Sid: "SsmAgentCore",
            Effect: "Allow",
            Action: [
                // Registration and heartbeat.
                "ssm:UpdateInstanceInformation",
                // State Manager: the associations that apply the config bundle, and their status and compliance.
                "ssm:ListAssociations",
                "ssm:ListInstanceAssociations",
                "ssm:DescribeAssociation",
                "ssm:UpdateAssociationStatus",
                "ssm:UpdateInstanceAssociationStatus",
                "ssm:PutComplianceItems",
                // Session Manager's channels.
                "ssmmessages:CreateControlChannel",
                "ssmmessages:CreateDataChannel",
                "ssmmessages:OpenControlChannel",
                "ssmmessages:OpenDataChannel",
                // Run Command's message delivery (what an association's document runs through).
                "ec2messages:AcknowledgeMessage",
                "ec2messages:DeleteMessage",
                "ec2messages:FailMessage",
                "ec2messages:GetEndpoint",
                "ec2messages:GetMessages",
                "ec2messages:SendReply",
            ],
            Resource: "*",
        },
        // The documents the associations run: the stack's own and AWS's, in the stack's region.
        { Sid: "SsmAgentDocuments", Effect: "Allow", Action: ["ssm:GetDocument", "ssm:DescribeDocument"], Resource: `arn:${partition}:ssm:${region}:*:document/*` },
    ];
}

function createRole(ctx: PairContext, data: DataStore, secretArns: pulumi.Input<string>[], imageCache?: ImageCache) {
    const { name, tags, parent } = ctx;
    const role = new aws.iam.Role(
        `${name}-instance`,
        {
            description: `${name}: Orthanc instances`,
            assumeRolePolicy: JSON.stringify({
                Version: "2012-10-17",
                Statement: [{ Effect: "Allow", Principal: { Service: "ec2.amazonaws.com" }, Action: "sts:AssumeRole" }],
            }),
            tags: tagsFor(`${name}-instance`, tags),
        },
        { parent },
    );
    // Session Manager instead of SSH (no port 22 anywhere), and the associations that apply the config bundle: the SSM
    // agent's own calls, not AmazonSSMManagedInstanceCore (whose ssm:GetParameter* on * would let Orthanc's container,
    // which can reach the metadata service, read every parameter of the account).
    new aws.iam.RolePolicy(`${name}-ssm-agent`, { role: role.id, policy: JSON.stringify({ Version: "2012-10-17", Statement: ssmAgentStatements(ctx.region) }) }, { parent });
    new aws.iam.RolePolicy(
        `${name}-data`,
        {
            role: role.id,
            policy: pulumi.all([data.bucket.arn, data.key.arn, pulumi.all(secretArns), imageCache?.repositoryArns]).apply(([bucketArn, keyArn, secrets, cacheArns]) =>
                JSON.stringify({
                    Version: "2012-10-17",
                    Statement: [
                        { Sid: "ListBucket", Effect: "Allow", Action: ["s3:ListBucket"], Resource: [bucketArn] },
                        { Sid: "ReadWriteObjects", Effect: "Allow", Action: ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"], Resource: [`${bucketArn}/*`] },
                        { Sid: "ReadSecrets", Effect: "Allow", Action: ["secretsmanager:GetSecretValue"], Resource: defined(secrets) },
                        { Sid: "UseDataKey", Effect: "Allow", Action: ["kms:Decrypt", "kms:GenerateDataKey"], Resource: [keyArn] },
                        ...(cacheArns ? imageCacheStatements(cacheArns) : []),
                        // peer.sh finds the other instance of the pair; AWS cannot scope DescribeInstances to resources.
                        { Sid: "FindPeer", Effect: "Allow", Action: ["ec2:DescribeInstances"], Resource: "*" },
                    ],
                }),
            ),
        },
        { parent },
    );
    const profile = new aws.iam.InstanceProfile(`${name}-instance`, { role: role.name, tags: tagsFor(`${name}-instance`, tags) }, { parent });
    return { role, instanceProfileArn: profile.arn };
}

/**
 * What the apply script needs to keep a failed rollout from costing the slot its serving instance, on the stack's
 * own groups only (they carry its Project and Stack tags): end a refresh and start one again (a re-run after a failed
 * one), keep a successor waiting in the launch hook from timing out into service, abandon a successor that failed
 * (or terminate it once let in). Reading refreshes cannot be limited to resources.
 */
export function slotGroupControlStatements(region: string, tags: Record<string, string | undefined>) {
    const partition = partitionOf(region);
    return [
        { Sid: "FollowRefresh", Effect: "Allow", Action: ["autoscaling:DescribeInstanceRefreshes"], Resource: "*" },
        {
            Sid: "KeepServingInstance",
            Effect: "Allow",
            Action: [
                "autoscaling:CancelInstanceRefresh",
                "autoscaling:StartInstanceRefresh",
                "autoscaling:RecordLifecycleActionHeartbeat",
                "autoscaling:CompleteLifecycleAction",
                "autoscaling:TerminateInstanceInAutoScalingGroup",
            ],
            Resource: `arn:${partition}:autoscaling:${region}:*:autoScalingGroup:*:autoScalingGroupName/*`,
            Condition: { StringEquals: { "aws:ResourceTag/Project": tags.Project ?? "", "aws:ResourceTag/Stack": tags.Stack ?? "" } },
        },
    ];
}

// OrthancPair: two Orthanc instances in two AZs sharing one RDS PostgreSQL (index) and one S3 bucket (storage).
// The instance security group has no ingress of its own: each front door adds exactly what it needs.
import * as aws from "@pulumi/aws";
import * as awsx from "@pulumi/awsx";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import * as tls from "@pulumi/tls";
import { renderUserData } from "./bootstrap";
import { ADMIN_USER } from "./bootstrap/orthanc";
import { DATABASE_PORT } from "../rules/ports";
import { amazonLinuxParameter, partitionOf, s3ServiceName, Tags, tagsFor } from "./naming";

export const DATABASE_NAME = "orthanc";
export const DATABASE_USER = "orthanc";
export const ROOT_VOLUME_GIB = 30;
/** The self-signed certificate's lifetime; `pulumi up` renews it within the last 30 days. */
export const SELF_SIGNED_VALIDITY_HOURS = 397 * 24;

export interface OrthancPairArgs {
    readonly region: string;
    readonly environment: "dev" | "prod";
    /** public: instances in public subnets with Elastic IPs; private: private subnets with NAT egress. */
    readonly placement: "public" | "private";
    readonly vpcCidr: string;
    readonly instanceType: string;
    readonly orthancImage: string;
    readonly nginxImage: string;
    readonly aet: string;
    readonly database: { readonly instanceClass: string; readonly engineVersion: string; readonly allocatedStorageGiB: number };
    /** Bring-your-own certificate chain and key for 443/11112. @default a self-signed certificate */
    readonly tls?: { readonly certificatePem: pulumi.Input<string>; readonly privateKeyPem: pulumi.Input<string> };
    /** Names the self-signed certificate must carry besides the instances' own (a front-door name). @default [] */
    readonly certificateNames?: string[];
    readonly tags?: Tags;
}

export interface InstanceAddress {
    readonly host: string;
    readonly ip: string;
}

function at<T>(list: T[] | undefined, index: number): T {
    // Under mocks a remote component's outputs can be missing; keep the program total.
    return (list ?? [])[index] as T;
}

/** AWS always returns these; bare test mocks may not. Render what is known rather than fail. */
function text(value: string | undefined): string {
    return value ?? "";
}

function defined<T>(values: (T | undefined)[]): T[] {
    return values.filter((v): v is T => v !== undefined && v !== null && v !== "");
}

export class OrthancPair extends pulumi.ComponentResource {
    public readonly vpcId: pulumi.Output<string>;
    public readonly publicSubnetIds: pulumi.Output<string[]>;
    /** The private tier, one subnet per AZ, whatever the placement: the database's, the client VPN's, internal load balancers'. */
    public readonly privateSubnetIds: pulumi.Output<string[]>;
    /** Where the instances run: the public subnets (public placement) or the private ones. */
    public readonly instanceSubnetIds: pulumi.Output<string[]>;
    public readonly securityGroupId: pulumi.Output<string>;
    public readonly instanceIds: pulumi.Output<string>[];
    /** What clients reach each instance by: the Elastic IP's name (public) or the private name. */
    public readonly instanceAddresses: pulumi.Output<InstanceAddress>[];
    public readonly databaseEndpoint: pulumi.Output<string>;
    public readonly databaseSecretArn: pulumi.Output<string>;
    public readonly bucketName: pulumi.Output<string>;
    public readonly kmsKeyArn: pulumi.Output<string>;
    public readonly adminSecretArn: pulumi.Output<string>;
    public readonly tlsSecretArn: pulumi.Output<string>;
    /** The certificate the instances present (public part only). */
    public readonly certificatePem: pulumi.Output<string>;
    public readonly selfSignedCertificate: boolean;

    constructor(name: string, args: OrthancPairArgs, opts: pulumi.ComponentResourceOptions = {}) {
        super("orthweb:index:OrthancPair", name, {}, opts);
        const prod = args.environment === "prod";
        const tags = args.tags ?? {};
        const parent = { parent: this };
        const isPublic = args.placement === "public";

        // Network: public subnets (Elastic IPs, NAT, load balancers) and private subnets (the database; the
        // instances when a front door hides them). Private subnets route through NAT only when instances live
        // there, so changing pattern re-routes the same subnets instead of replacing them.
        const vpc = new awsx.ec2.Vpc(
            `${name}-vpc`,
            {
                cidrBlock: args.vpcCidr,
                numberOfAvailabilityZones: 2,
                enableDnsHostnames: true,
                enableDnsSupport: true,
                subnetStrategy: "Auto",
                subnetSpecs: [{ type: "Public" }, { type: "Private" }],
                natGateways: { strategy: isPublic ? "None" : prod ? "OnePerAz" : "Single" },
                tags: tagsFor(`${name}-vpc`, tags),
            },
            parent,
        );
        const instanceSubnetIds = isPublic ? vpc.publicSubnetIds : vpc.privateSubnetIds;

        // S3 through a gateway endpoint, not NAT: studies are large, and NAT charges per GB. A gateway endpoint
        // only works for the route tables it lists, so it lists every route table of the VPC.
        const routeTableIds = vpc.routeTables.apply((tables) => pulumi.all((tables ?? []).map((table) => table.id)));
        new aws.ec2.VpcEndpoint(
            `${name}-s3`,
            {
                vpcId: vpc.vpcId,
                serviceName: s3ServiceName(args.region),
                vpcEndpointType: "Gateway",
                routeTableIds,
                tags: tagsFor(`${name}-s3`, tags),
            },
            parent,
        );

        // One customer-managed key for the bucket, the database, its secret, the volumes and our secrets.
        const key = new aws.kms.Key(
            `${name}-key`,
            {
                description: `${name}: Orthanc data, database and secrets`,
                enableKeyRotation: true,
                deletionWindowInDays: prod ? 30 : 7,
                tags: tagsFor(`${name}-key`, tags),
            },
            parent,
        );

        const bucket = this.createBucket(name, key, prod, tags, args.region);
        const { instanceSg, database } = this.createDatabase(name, args, vpc.vpcId, vpc.privateSubnetIds, key, prod, tags);

        // Orthanc's admin login: generated here, kept in Secrets Manager, read by the instances at boot.
        const adminPassword = new random.RandomPassword(`${name}-admin`, { length: 32, special: false }, parent);
        const adminSecret = this.secret(name, "admin", "Orthanc admin login", key, prod, tags);
        const adminSecretVersion = new aws.secretsmanager.SecretVersion(
            `${name}-admin`,
            { secretId: adminSecret.id, secretString: pulumi.secret(pulumi.jsonStringify({ username: ADMIN_USER, password: adminPassword.result })) },
            parent,
        );
        const tlsSecret = this.secret(name, "tls", "TLS certificate and key for 443/11112", key, prod, tags);

        const databaseSecretArn = database.masterUserSecrets.apply((s) => at(s, 0)?.secretArn);
        const role = this.createRole(name, bucket, key, [adminSecret.arn, tlsSecret.arn, databaseSecretArn], tags);

        const userData = pulumi
            .all([bucket.bucket, database.address, databaseSecretArn, adminSecret.arn, tlsSecret.arn])
            .apply(([bucketName, dbHost, dbSecret, adminArn, tlsArn]) =>
                renderUserData({
                    region: args.region,
                    orthancImage: args.orthancImage,
                    nginxImage: args.nginxImage,
                    orthanc: {
                        name: name,
                        aet: args.aet,
                        database: { host: text(dbHost), port: DATABASE_PORT, name: DATABASE_NAME },
                        bucket: { name: text(bucketName), region: args.region },
                    },
                    secretArns: { database: text(dbSecret), admin: text(adminArn), tls: text(tlsArn) },
                }),
            );

        const template = new aws.ec2.LaunchTemplate(
            `${name}-lt`,
            {
                description: `${name}: Orthanc behind nginx on Amazon Linux 2023`,
                // Resolved at launch: no image lookup at plan time, and no replacement on every new AMI.
                imageId: `resolve:ssm:${amazonLinuxParameter(args.instanceType)}`,
                instanceType: args.instanceType,
                iamInstanceProfile: { arn: role.profileArn },
                vpcSecurityGroupIds: [instanceSg.id],
                metadataOptions: { httpEndpoint: "enabled", httpTokens: "required", httpPutResponseHopLimit: 2 },
                monitoring: { enabled: true },
                blockDeviceMappings: [
                    {
                        deviceName: "/dev/xvda",
                        ebs: { volumeSize: ROOT_VOLUME_GIB, volumeType: "gp3", encrypted: "true", kmsKeyId: key.arn, deleteOnTermination: "true" },
                    },
                ],
                userData: userData.apply((text) => Buffer.from(text, "utf8").toString("base64")),
                updateDefaultVersion: true,
                tagSpecifications: [
                    { resourceType: "instance", tags: tagsFor(name, tags) },
                    { resourceType: "volume", tags: tagsFor(name, tags) },
                ],
                tags: tagsFor(`${name}-lt`, tags),
            },
            parent,
        );

        const createInstances = (dependsOn: pulumi.Resource[]) =>
            [0, 1].map(
                (i) =>
                    new aws.ec2.Instance(
                        `${name}-${i + 1}`,
                        {
                            launchTemplate: { id: template.id, version: template.latestVersion.apply((v) => String(v)) },
                            subnetId: instanceSubnetIds.apply((ids) => at(ids, i)),
                            tags: tagsFor(`${name}-${i + 1}`, tags),
                        },
                        { parent: this, dependsOn },
                    ),
            );
        let instances: aws.ec2.Instance[];
        let instanceAddresses: pulumi.Output<InstanceAddress>[];
        let certificate: { certificatePem: pulumi.Output<string>; secretVersion: aws.secretsmanager.SecretVersion };
        if (isPublic) {
            // Allocate the Elastic IPs first, so the certificate names them and exists before the instances boot.
            const eips = [0, 1].map((i) => new aws.ec2.Eip(`${name}-eip-${i + 1}`, { domain: "vpc", tags: tagsFor(`${name}-${i + 1}`, tags) }, parent));
            instanceAddresses = eips.map((eip) => pulumi.all([eip.publicDns, eip.publicIp]).apply(([host, ip]) => ({ host, ip })));
            certificate = this.createCertificate(name, args, tlsSecret, instanceAddresses);
            instances = createInstances([adminSecretVersion, certificate.secretVersion]);
            eips.forEach((eip, i) => new aws.ec2.EipAssociation(`${name}-eip-${i + 1}`, { instanceId: instances[i].id, allocationId: eip.allocationId }, parent));
        } else {
            // Private names are known only once the instances exist; their start script waits for the secret.
            instances = createInstances([adminSecretVersion]);
            instanceAddresses = instances.map((inst) => pulumi.all([inst.privateDns, inst.privateIp]).apply(([host, ip]) => ({ host, ip })));
            certificate = this.createCertificate(name, args, tlsSecret, instanceAddresses);
        }

        this.vpcId = vpc.vpcId;
        this.publicSubnetIds = vpc.publicSubnetIds;
        this.privateSubnetIds = vpc.privateSubnetIds;
        this.instanceSubnetIds = instanceSubnetIds;
        this.securityGroupId = instanceSg.id;
        this.instanceIds = instances.map((inst) => inst.id);
        this.instanceAddresses = instanceAddresses;
        this.databaseEndpoint = database.address;
        this.databaseSecretArn = databaseSecretArn;
        this.bucketName = bucket.bucket;
        this.kmsKeyArn = key.arn;
        this.adminSecretArn = adminSecret.arn;
        this.tlsSecretArn = tlsSecret.arn;
        this.certificatePem = certificate.certificatePem;
        this.selfSignedCertificate = args.tls === undefined;
        this.registerOutputs({
            vpcId: this.vpcId,
            securityGroupId: this.securityGroupId,
            instanceIds: this.instanceIds,
            databaseEndpoint: this.databaseEndpoint,
            bucketName: this.bucketName,
        });
    }

    /** The instances' certificate (yours, or self-signed for the given addresses) and its secret. */
    private createCertificate(name: string, args: OrthancPairArgs, tlsSecret: aws.secretsmanager.Secret, addresses: pulumi.Output<InstanceAddress>[]) {
        const parent = { parent: this };
        let certificatePem: pulumi.Output<string>;
        let privateKeyPem: pulumi.Output<string>;
        if (args.tls) {
            certificatePem = pulumi.output(args.tls.certificatePem);
            privateKeyPem = pulumi.secret(args.tls.privateKeyPem);
        } else {
            const privateKey = new tls.PrivateKey(`${name}-tls`, { algorithm: "RSA", rsaBits: 2048 }, parent);
            const names = pulumi.all(addresses).apply((addrs) => ({
                dnsNames: [...new Set(defined([...(args.certificateNames ?? []), ...addrs.map((a) => a?.host)]))],
                ipAddresses: defined(addrs.map((a) => a?.ip)),
            }));
            const cert = new tls.SelfSignedCert(
                `${name}-tls`,
                {
                    privateKeyPem: privateKey.privateKeyPem,
                    subject: { commonName: names.apply((n) => n.dnsNames[0] ?? `${name}.orthweb.invalid`), organization: "Orthweb" },
                    dnsNames: names.apply((n) => n.dnsNames),
                    ipAddresses: names.apply((n) => n.ipAddresses),
                    validityPeriodHours: SELF_SIGNED_VALIDITY_HOURS,
                    earlyRenewalHours: 30 * 24,
                    allowedUses: ["digital_signature", "key_encipherment", "server_auth"],
                },
                parent,
            );
            certificatePem = cert.certPem;
            privateKeyPem = pulumi.secret(privateKey.privateKeyPem);
        }
        const secretVersion = new aws.secretsmanager.SecretVersion(
            `${name}-tls`,
            { secretId: tlsSecret.id, secretString: pulumi.secret(pulumi.jsonStringify({ certificatePem, privateKeyPem })) },
            parent,
        );
        return { certificatePem, secretVersion };
    }

    private secret(name: string, role: string, description: string, key: aws.kms.Key, prod: boolean, tags: Tags) {
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
            { parent: this },
        );
    }

    private createBucket(name: string, key: aws.kms.Key, prod: boolean, tags: Tags, region: string) {
        const parent = { parent: this };
        const bucket = new aws.s3.Bucket(
            `${name}-bucket`,
            { forceDestroy: !prod, tags: tagsFor(`${name}-bucket`, tags) },
            { parent: this, retainOnDelete: prod },
        );
        new aws.s3.BucketVersioning(`${name}-bucket`, { bucket: bucket.id, versioningConfiguration: { status: "Enabled" } }, parent);
        new aws.s3.BucketServerSideEncryptionConfiguration(
            `${name}-bucket`,
            {
                bucket: bucket.id,
                rules: [{ applyServerSideEncryptionByDefault: { sseAlgorithm: "aws:kms", kmsMasterKeyId: key.arn }, bucketKeyEnabled: true }],
            },
            parent,
        );
        const publicAccess = new aws.s3.BucketPublicAccessBlock(
            `${name}-bucket`,
            { bucket: bucket.id, blockPublicAcls: true, blockPublicPolicy: true, ignorePublicAcls: true, restrictPublicBuckets: true },
            parent,
        );
        const partition = partitionOf(region);
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
            { parent: this, dependsOn: [publicAccess] },
        );
        return bucket;
    }

    private createDatabase(
        name: string,
        args: OrthancPairArgs,
        vpcId: pulumi.Output<string>,
        subnetIds: pulumi.Output<string[]>,
        key: aws.kms.Key,
        prod: boolean,
        tags: Tags,
    ) {
        const parent = { parent: this };
        const dbSg = new aws.ec2.SecurityGroup(
            `${name}-db`,
            {
                vpcId,
                description: `${name}: PostgreSQL, reachable from the Orthanc instances only`,
                // The database initiates nothing.
                egress: [],
                tags: tagsFor(`${name}-db`, tags),
            },
            parent,
        );
        const instanceSg = new aws.ec2.SecurityGroup(
            `${name}-instances`,
            {
                vpcId,
                description: `${name}: Orthanc instances; ingress comes from the front door`,
                egress: [
                    { protocol: "tcp", fromPort: 443, toPort: 443, cidrBlocks: ["0.0.0.0/0"], description: "HTTPS out: container images, packages, AWS APIs" },
                    { protocol: "tcp", fromPort: DATABASE_PORT, toPort: DATABASE_PORT, securityGroups: [dbSg.id], description: "PostgreSQL index" },
                ],
                tags: tagsFor(`${name}-instances`, tags),
            },
            parent,
        );
        new aws.vpc.SecurityGroupIngressRule(
            `${name}-db-from-instances`,
            {
                securityGroupId: dbSg.id,
                referencedSecurityGroupId: instanceSg.id,
                ipProtocol: "tcp",
                fromPort: DATABASE_PORT,
                toPort: DATABASE_PORT,
                description: "PostgreSQL from the Orthanc instances",
                tags: tagsFor(`${name}-db-from-instances`, tags),
            },
            parent,
        );
        const subnetGroup = new aws.rds.SubnetGroup(
            `${name}-db`,
            { subnetIds, description: `${name}: PostgreSQL in the private subnets`, tags: tagsFor(`${name}-db`, tags) },
            parent,
        );
        const db = args.database;
        const database = new aws.rds.Instance(
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
                vpcSecurityGroupIds: [dbSg.id],
                publiclyAccessible: false,
                multiAz: prod,
                deletionProtection: prod,
                skipFinalSnapshot: !prod,
                finalSnapshotIdentifier: prod ? `${name}-db-final` : undefined,
                backupRetentionPeriod: prod ? 7 : 1,
                copyTagsToSnapshot: true,
                autoMinorVersionUpgrade: true,
                tags: tagsFor(`${name}-db`, tags),
            },
            parent,
        );
        return { instanceSg, database };
    }

    private createRole(
        name: string,
        bucket: aws.s3.Bucket,
        key: aws.kms.Key,
        secretArns: pulumi.Input<string>[],
        tags: Tags,
    ) {
        const parent = { parent: this };
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
            parent,
        );
        // Session Manager instead of SSH: no port 22 anywhere.
        new aws.iam.RolePolicyAttachment(`${name}-ssm`, { role: role.name, policyArn: aws.iam.ManagedPolicy.AmazonSSMManagedInstanceCore }, parent);
        new aws.iam.RolePolicy(
            `${name}-data`,
            {
                role: role.id,
                policy: pulumi.all([bucket.arn, key.arn, pulumi.all(secretArns)]).apply(([bucketArn, keyArn, secrets]) =>
                    JSON.stringify({
                        Version: "2012-10-17",
                        Statement: [
                            { Sid: "ListBucket", Effect: "Allow", Action: ["s3:ListBucket"], Resource: [bucketArn] },
                            { Sid: "ReadWriteObjects", Effect: "Allow", Action: ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"], Resource: [`${bucketArn}/*`] },
                            { Sid: "ReadSecrets", Effect: "Allow", Action: ["secretsmanager:GetSecretValue"], Resource: defined(secrets) },
                            { Sid: "UseDataKey", Effect: "Allow", Action: ["kms:Decrypt", "kms:GenerateDataKey"], Resource: [keyArn] },
                        ],
                    }),
                ),
            },
            parent,
        );
        const profile = new aws.iam.InstanceProfile(`${name}-instance`, { role: role.name, tags: tagsFor(`${name}-instance`, tags) }, parent);
        return { profileArn: profile.arn };
    }
}

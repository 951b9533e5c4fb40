// OrthancPair: two Orthanc instances in two AZs sharing one RDS PostgreSQL (index) and one S3 bucket (storage).
// The constructor is the table of contents; each step lives in pair/ and returns what the next one needs.
// The instance security group has no ingress of its own: each front door adds exactly what it needs.
import * as pulumi from "@pulumi/pulumi";
import { auditRetentionDays, DEFAULT_NONCURRENT_VERSION_DAYS } from "../rules/audit";
import { Tags } from "./naming";
import { createAuditTrail } from "./pair/auditTrail";
import { createDataStore, DatabaseSettings } from "./pair/dataStore";
import { createIdentity } from "./pair/identity";
import { AcmeArgs, createAcme } from "./pair/acme";
import { createImageCache, ImageCacheSettings } from "./pair/imageCache";
import { createInstances, InstanceAddress, slotName } from "./pair/instances";
import { createNetwork } from "./pair/network";
import { mirrorComposePlugin } from "./pair/toolMirror";

export { InstanceAddress, ROOT_VOLUME_GIB, SELF_SIGNED_VALIDITY_HOURS } from "./pair/instances";

export interface OrthancPairArgs {
    readonly region: string;
    readonly environment: "dev" | "prod";
    /** public: instances in public subnets with Elastic IPs; private: private subnets with NAT egress. */
    readonly placement: "public" | "private";
    readonly vpcCidr: string;
    /** false: no internet gateway, NAT or public subnet; AWS through VPC endpoints, images and tools from inside AWS. @default true */
    readonly internetAccess?: boolean;
    readonly instanceType: string;
    readonly orthancImage: string;
    readonly nginxImage: string;
    readonly aet: string;
    readonly database: DatabaseSettings;
    /** Days an overwritten or deleted study object stays recoverable. @default 90 */
    readonly noncurrentVersionDays?: number;
    /** Days the audit logs (study object access, flow logs) are kept. @default 365 in prod, 30 in dev */
    readonly auditRetentionDays?: number;
    /** Bring-your-own certificate chain and key for 443/11112. @default a self-signed certificate */
    readonly tls?: { readonly certificatePem: pulumi.Input<string>; readonly privateKeyPem: pulumi.Input<string> };
    /** Names the self-signed certificate must carry besides the instances' own (a front-door name). @default [] */
    readonly certificateNames?: string[];
    /** DICOM senders allowed to store and query (by calling AE title). @default [] (anyone may store) */
    readonly modalities?: readonly { readonly name: string; readonly aet: string | readonly string[] }[];
    /** The modalities' CA: when given, nginx requires a client certificate it signed on 11112. */
    readonly dicomClientCaPem?: pulumi.Input<string>;
    readonly tags?: Tags;
    /** Pull the Docker Hub images through an ECR pull-through cache. @default undefined (straight from Docker Hub) */
    readonly imageCache?: ImageCacheSettings;
    /** The instances issue and renew the certificate from an ACME CA (DNS-01 in the user's zone). @default undefined */
    readonly acme?: AcmeArgs;
}

export class OrthancPair extends pulumi.ComponentResource {
    public readonly vpcId: pulumi.Output<string>;
    public readonly publicSubnetIds: pulumi.Output<string[]>;
    /** The private tier, one subnet per AZ, whatever the placement: the database's, the client VPN's, internal load balancers'. */
    public readonly privateSubnetIds: pulumi.Output<string[]>;
    /** Where the instances run: the public subnets (public placement) or the private ones. */
    public readonly instanceSubnetIds: pulumi.Output<string[]>;
    public readonly securityGroupId: pulumi.Output<string>;
    /** Every route table of the VPC: where routes to a site go. */
    public readonly routeTableIds: pulumi.Output<string>[];
    /** The instance in each slot when the stack was last deployed; a replacement has a new id and the same address. */
    public readonly instanceIds: pulumi.Output<string>[];
    /** Each slot's name: the slot tag its instances carry (what the renewal step's metric is published under). */
    public readonly slotNames: string[];
    /** Each slot's Auto Scaling group (one instance): what load balancers attach and alarms watch. */
    public readonly slotGroupNames: pulumi.Output<string>[];
    /** What clients reach each instance by: the Elastic IP's name (public) or the slot's reserved address (private). */
    public readonly instanceAddresses: pulumi.Output<InstanceAddress>[];
    public readonly databaseEndpoint: pulumi.Output<string>;
    public readonly databaseSecretArn: pulumi.Output<string>;
    public readonly bucketName: pulumi.Output<string>;
    /** Where the audit trail lands: CloudTrail data events and server access logs of the study bucket, flow logs. */
    public readonly auditBucketName: pulumi.Output<string>;
    public readonly kmsKeyArn: pulumi.Output<string>;
    public readonly adminSecretArn: pulumi.Output<string>;
    public readonly tlsSecretArn: pulumi.Output<string>;
    /** The certificate the instances present (public part only). */
    public readonly certificatePem: pulumi.Output<string>;
    public readonly selfSignedCertificate: boolean;
    /** With acme: the secret the instances share the certificate in. */
    public readonly acmeSecretArn?: pulumi.Output<string>;
    /** The RDS instance's identifier (what CloudWatch names it by). */
    public readonly databaseIdentifier: pulumi.Output<string>;
    /** The SSM document that applies the config bundle, one instance at a time. */
    public readonly rolloutDocumentName: pulumi.Output<string>;

    constructor(name: string, args: OrthancPairArgs, opts: pulumi.ComponentResourceOptions = {}) {
        super("orthweb:index:OrthancPair", name, {}, opts);
        const ctx = { name, tags: args.tags ?? {}, parent: this, prod: args.environment === "prod", region: args.region };

        const network = createNetwork(ctx, { vpcCidr: args.vpcCidr, placement: args.placement, internetAccess: args.internetAccess });
        const data = createDataStore(ctx, {
            database: args.database,
            subnetIds: network.privateSubnetIds,
            securityGroup: network.databaseSecurityGroup,
            noncurrentVersionDays: args.noncurrentVersionDays ?? DEFAULT_NONCURRENT_VERSION_DAYS,
        });
        const audit = createAuditTrail(ctx, {
            studyBucket: data.bucket,
            vpcId: network.vpcId,
            retentionDays: auditRetentionDays(args.environment, args.auditRetentionDays),
        });
        const imageCache = args.imageCache && createImageCache(ctx, args.imageCache);
        const identity = createIdentity(ctx, data, imageCache);
        const acme = args.acme && createAcme(ctx, args.acme, data, identity);
        const instances = createInstances(
            ctx,
            {
                ...args,
                subnetIds: network.instanceSubnetIds,
                slotAddresses: network.slotAddresses,
                securityGroup: network.instanceSecurityGroup,
                composeSource: args.internetAccess === false ? mirrorComposePlugin(ctx, data.bucket, args.instanceType) : undefined,
                acmeRenewal: acme && args.acme && { settings: args.acme, secretArn: acme.secret.arn, hostedZoneId: acme.hostedZoneId },
            },
            data,
            identity,
            imageCache,
        );

        this.vpcId = network.vpcId;
        this.publicSubnetIds = network.publicSubnetIds;
        this.privateSubnetIds = network.privateSubnetIds;
        this.instanceSubnetIds = network.instanceSubnetIds;
        this.securityGroupId = network.instanceSecurityGroup.id;
        this.routeTableIds = network.routeTableIds;
        this.instanceIds = instances.instanceIds;
        this.slotGroupNames = instances.groups.map((group) => group.name);
        this.slotNames = instances.groups.map((_, i) => slotName(name, i));
        this.instanceAddresses = instances.addresses;
        this.databaseEndpoint = data.database.address;
        this.databaseSecretArn = data.databaseSecretArn;
        this.bucketName = data.bucket.bucket;
        this.auditBucketName = audit.bucket.bucket;
        this.kmsKeyArn = data.key.arn;
        this.adminSecretArn = identity.adminSecret.arn;
        this.tlsSecretArn = identity.tlsSecret.arn;
        this.certificatePem = instances.certificatePem;
        this.selfSignedCertificate = args.tls === undefined && args.acme === undefined;
        this.acmeSecretArn = acme?.secret.arn;
        this.databaseIdentifier = data.database.identifier;
        this.rolloutDocumentName = instances.rolloutDocumentName;
        this.registerOutputs({
            vpcId: this.vpcId,
            securityGroupId: this.securityGroupId,
            instanceIds: this.instanceIds,
            databaseEndpoint: this.databaseEndpoint,
            bucketName: this.bucketName,
            auditBucketName: this.auditBucketName,
        });
    }
}

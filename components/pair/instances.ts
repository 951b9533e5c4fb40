// The two instances: one launch template (Amazon Linux 2023, IMDSv2, encrypted gp3; the machine only), the config
// bundle and the SSM association that applies it one instance at a time, the certificate they present, and in
// public placement the Elastic IPs that give each its stable name.
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import * as tls from "@pulumi/tls";
import { DATABASE_PORT } from "../../rules/ports";
import { createHash } from "crypto";
import { bundleKey, renderBundle, ROLLOUT_TIMING } from "../../rules/rollout";
import { renderBootstrapFiles } from "../bootstrap";
import { renderApplyDocument } from "../bootstrap/apply";
import { amazonLinuxParameter, partitionOf, tagsFor } from "../naming";
import { DATABASE_NAME, DataStore } from "./dataStore";
import { Identity } from "./identity";
import { ImageCache } from "./imageCache";
import { cachedImage } from "../bootstrap/images";
import { at, defined, PairContext, text } from "./shared";

export const ROOT_VOLUME_GIB = 30;
/** The self-signed certificate's lifetime; `pulumi up` renews it within the last 30 days. */
export const SELF_SIGNED_VALIDITY_HOURS = 397 * 24;

export interface InstanceAddress {
    readonly host: string;
    readonly ip: string;
}

export interface InstanceSettings {
    readonly placement: "public" | "private";
    readonly instanceType: string;
    readonly orthancImage: string;
    readonly nginxImage: string;
    readonly aet: string;
    /** Bring-your-own certificate chain and key for 443/11112. @default a self-signed certificate */
    readonly tls?: { readonly certificatePem: pulumi.Input<string>; readonly privateKeyPem: pulumi.Input<string> };
    /** Names the self-signed certificate must carry besides the instances' own (a front-door name). @default [] */
    readonly certificateNames?: string[];
    /** DICOM senders allowed to store and query. @default [] */
    readonly modalities?: readonly { readonly name: string; readonly aet: string }[];
    /** The modalities' CA: when given, nginx requires client certificates on 11112 (delivered in the TLS secret). */
    readonly dicomClientCaPem?: pulumi.Input<string>;
    readonly subnetIds: pulumi.Output<string[]>;
    readonly securityGroup: aws.ec2.SecurityGroup;
    /** s3:// URL of the compose plugin when the instances have no internet. */
    readonly composeSource?: pulumi.Output<string>;
}

export interface Instances {
    readonly instances: aws.ec2.Instance[];
    /** What clients reach each instance by: the Elastic IP's name (public) or the private name. */
    readonly addresses: pulumi.Output<InstanceAddress>[];
    /** The certificate the instances present (public part only). */
    readonly certificatePem: pulumi.Output<string>;
    /** The SSM document the rollout runs on each instance. */
    readonly rolloutDocumentName: pulumi.Output<string>;
}

export function createInstances(ctx: PairContext, args: InstanceSettings, data: DataStore, identity: Identity, imageCache?: ImageCache): Instances {
    const { name, tags, parent } = ctx;
    const template = createLaunchTemplate(ctx, args, data, identity);
    if (args.placement === "public") {
        // Allocate the Elastic IPs first, so the certificate names them and exists before the instances boot.
        const eips = [0, 1].map((i) => new aws.ec2.Eip(`${name}-eip-${i + 1}`, { domain: "vpc", tags: tagsFor(`${name}-${i + 1}`, tags) }, { parent }));
        const addresses = eips.map((eip) => pulumi.all([eip.publicDns, eip.publicIp]).apply(([host, ip]) => ({ host, ip })));
        const certificate = createCertificate(ctx, args, identity.tlsSecret, addresses);
        const { instances, document } = rollOut(ctx, args, data, identity, imageCache, template, certificate, (instance, i) => [
            new aws.ec2.EipAssociation(`${name}-eip-${i + 1}`, { instanceId: instance.id, allocationId: eips[i].allocationId }, { parent }),
        ]);
        return { instances, addresses, certificatePem: certificate.certificatePem, rolloutDocumentName: document.name };
    }
    // Private names are not known before the instances exist: the certificate names the region's private domain.
    const certificate = createCertificate(ctx, args, identity.tlsSecret, [pulumi.output({ host: `*.${privateDomain(ctx.region)}`, ip: "" })]);
    const { instances, document } = rollOut(ctx, args, data, identity, imageCache, template, certificate, () => []);
    const addresses = instances.map((inst) => pulumi.all([inst.privateDns, inst.privateIp]).apply(([host, ip]) => ({ host, ip })));
    return { instances, addresses, certificatePem: certificate.certificatePem, rolloutDocumentName: document.name };
}

/** The domain of EC2 private DNS names (ip-10-0-1-5.<domain>): ec2.internal in us-east-1, <region>.compute.internal elsewhere. */
export function privateDomain(region: string): string {
    return region === "us-east-1" ? "ec2.internal" : `${region}.compute.internal`;
}

/**
 * The two instances and the rollout chain that keeps them from changing together (docs/operations.md):
 * instance 1 -> its association (apply the bundle, wait for /healthz and the target groups) -> instance 2 -> its
 * association. Pulumi registers instance 2 only once instance 1's association has succeeded, so a resize or a
 * replacement of instance 2 waits for instance 1 to be healthy again, and a failure stops the update there.
 */
function rollOut(
    ctx: PairContext,
    args: InstanceSettings,
    data: DataStore,
    identity: Identity,
    imageCache: ImageCache | undefined,
    template: aws.ec2.LaunchTemplate,
    certificate: { certificatePem: pulumi.Output<string>; secretVersion: aws.secretsmanager.SecretVersion },
    placed: (instance: aws.ec2.Instance, index: number) => pulumi.Resource[],
): { instances: aws.ec2.Instance[]; document: aws.ssm.Document } {
    const { name, tags, parent } = ctx;
    const delivery = createDelivery(ctx, args, data, identity, imageCache);
    const revision = certificate.certificatePem.apply((pem) => instanceRevision(args.instanceType, pem));
    const instances: aws.ec2.Instance[] = [];
    let gate: pulumi.Resource[] = [identity.adminSecretVersion, identity.databaseAppSecretVersion, certificate.secretVersion];
    for (const i of [0, 1]) {
        const instance = new aws.ec2.Instance(
            `${name}-${i + 1}`,
            {
                launchTemplate: { id: template.id, version: template.latestVersion.apply((v) => String(v)) },
                // On the instance, not the template: a new type resizes this instance in place (stop, modify, start).
                instanceType: args.instanceType,
                subnetId: args.subnetIds.apply((ids) => at(ids, i)),
                ...recoveryOptions(ctx.prod),
                tags: tagsFor(`${name}-${i + 1}`, tags),
            },
            { parent, dependsOn: gate },
        );
        const association = new aws.ssm.Association(
            `${name}-${i + 1}-apply`,
            {
                name: delivery.document.name,
                documentVersion: delivery.document.latestVersion,
                targets: [{ key: "InstanceIds", values: [instance.id] }],
                parameters: {
                    region: ctx.region,
                    bucket: data.bucket.bucket,
                    bundleKey: delivery.bundleKey,
                    project: tags.Project ?? "",
                    stack: tags.Stack ?? "",
                    revision,
                },
                maxConcurrency: "1",
                maxErrors: "0",
                complianceSeverity: "HIGH",
                waitForSuccessTimeoutSeconds: ROLLOUT_TIMING.associationWaitSeconds,
            },
            {
                parent,
                // The provider waits for success only when it creates an association: every change is a new one.
                replaceOnChanges: ["parameters", "targets", "documentVersion", "name"],
                // The secrets first: a new certificate must be in Secrets Manager before the start script reads it.
                dependsOn: [delivery.object, delivery.permissions, identity.adminSecretVersion, identity.databaseAppSecretVersion, certificate.secretVersion, ...placed(instance, i)],
            },
        );
        instances.push(instance);
        gate = [association];
    }
    return { instances, document: delivery.document };
}

/** What makes an instance pass the gate again though its files did not change: a new size or a new certificate. */
export function instanceRevision(instanceType: string, certificatePem: string | undefined): string {
    const cert = createHash("sha256").update(certificatePem ?? "", "utf8").digest("hex").slice(0, 16);
    return `${instanceType}:${cert}`;
}

/**
 * Self-healing that keeps the instance's identity: EC2 simplified automatic recovery moves it to healthy hardware
 * with the same id, private address, Elastic IP and target registrations (the status-check alarms add recover and
 * reboot actions); an OS shutdown stops rather than terminates it; prod also refuses API termination.
 */
export function recoveryOptions(prod: boolean) {
    return {
        maintenanceOptions: { autoRecovery: "default" },
        instanceInitiatedShutdownBehavior: "stop",
        disableApiTermination: prod,
    };
}

/** The bundle in the pair's bucket (content-addressed), the SSM document that applies it, and the role's rights. */
function createDelivery(ctx: PairContext, args: InstanceSettings, data: DataStore, identity: Identity, imageCache?: ImageCache) {
    const { name, tags, parent, region } = ctx;
    const bundle = pulumi
        .all([data.bucket.bucket, data.database.address, data.databaseSecretArn, identity.adminSecret.arn, identity.tlsSecret.arn, imageCache?.registry, identity.databaseAppSecret.arn, args.composeSource])
        .apply(([bucketName, dbHost, dbSecret, adminArn, tlsArn, registry, dbAppArn, composeSource]) =>
            renderBundle(
                renderBootstrapFiles({
                    region,
                    ...imagesFrom(args, imageCache && registry ? { registry, prefix: imageCache.prefix } : undefined),
                    orthanc: {
                        name,
                        aet: args.aet,
                        database: { host: text(dbHost), port: DATABASE_PORT, name: DATABASE_NAME },
                        bucket: { name: text(bucketName), region },
                        modalities: args.modalities,
                    },
                    dicomClientCertificates: args.dicomClientCaPem !== undefined,
                    secretArns: { database: text(dbSecret), databaseApp: text(dbAppArn), admin: text(adminArn), tls: text(tlsArn) },
                    composeSource,
                }),
            ),
        );
    const bundleKeyOutput = bundle.apply(bundleKey);
    const object = new aws.s3.BucketObjectv2(
        `${name}-config`,
        { bucket: data.bucket.id, key: bundleKeyOutput, content: bundle, contentType: "application/json", tags: tagsFor(`${name}-config`, tags) },
        { parent },
    );
    const document = new aws.ssm.Document(
        `${name}-apply`,
        { documentType: "Command", documentFormat: "JSON", content: renderApplyDocument(), tags: tagsFor(`${name}-apply`, tags) },
        { parent },
    );
    const partition = partitionOf(region);
    const permissions = new aws.iam.RolePolicy(
        `${name}-rollout`,
        {
            role: identity.role.id,
            policy: JSON.stringify({
                Version: "2012-10-17",
                Statement: [
                    // Neither call supports resource-level permissions.
                    { Sid: "FindTargets", Effect: "Allow", Action: ["tag:GetResources", "elasticloadbalancing:DescribeTargetHealth"], Resource: "*" },
                    {
                        Sid: "DrainAndRegister",
                        Effect: "Allow",
                        Action: ["elasticloadbalancing:DeregisterTargets", "elasticloadbalancing:RegisterTargets"],
                        Resource: `arn:${partition}:elasticloadbalancing:${region}:*:targetgroup/*`,
                        Condition: { StringEquals: { "aws:ResourceTag/Project": tags.Project ?? "", "aws:ResourceTag/Stack": tags.Stack ?? "" } },
                    },
                ],
            }),
        },
        { parent },
    );
    return { object, document, permissions, bundleKey: bundleKeyOutput };
}

function createLaunchTemplate(ctx: PairContext, args: InstanceSettings, data: DataStore, identity: Identity) {
    const { name, tags, parent } = ctx;
    // No user data: the instance's files come from the config bundle, applied by the SSM association. The template
    // changes only with the machine itself, so a new image or setting never replaces an instance.
    return new aws.ec2.LaunchTemplate(
        `${name}-lt`,
        {
            description: `${name}: Orthanc behind nginx on Amazon Linux 2023`,
            // Resolved at launch: no image lookup at plan time, and no replacement on every new AMI.
            imageId: `resolve:ssm:${amazonLinuxParameter(args.instanceType)}`,
            iamInstanceProfile: { arn: identity.instanceProfileArn },
            vpcSecurityGroupIds: [args.securityGroup.id],
            metadataOptions: { httpEndpoint: "enabled", httpTokens: "required", httpPutResponseHopLimit: 2 },
            monitoring: { enabled: true },
            blockDeviceMappings: [
                {
                    deviceName: "/dev/xvda",
                    ebs: { volumeSize: ROOT_VOLUME_GIB, volumeType: "gp3", encrypted: "true", kmsKeyId: data.key.arn, deleteOnTermination: "true" },
                },
            ],
            updateDefaultVersion: true,
            tagSpecifications: [
                { resourceType: "instance", tags: tagsFor(name, tags) },
                { resourceType: "volume", tags: tagsFor(name, tags) },
            ],
            tags: tagsFor(`${name}-lt`, tags),
        },
        { parent },
    );
}

/** The images the compose file names, and the registry to log in to when they come through the cache. */
function imagesFrom(args: InstanceSettings, cache?: { registry: string; prefix: string }) {
    if (!cache) return { orthancImage: args.orthancImage, nginxImage: args.nginxImage };
    return { orthancImage: cachedImage(args.orthancImage, cache), nginxImage: cachedImage(args.nginxImage, cache), registry: cache.registry };
}

/** The instances' certificate (yours, or self-signed for the given addresses) and its secret. */
function createCertificate(ctx: PairContext, args: InstanceSettings, tlsSecret: aws.secretsmanager.Secret, addresses: pulumi.Output<InstanceAddress>[]) {
    const { name, parent } = ctx;
    let certificatePem: pulumi.Output<string>;
    let privateKeyPem: pulumi.Output<string>;
    if (args.tls) {
        certificatePem = pulumi.output(args.tls.certificatePem);
        privateKeyPem = pulumi.secret(args.tls.privateKeyPem);
    } else {
        const privateKey = new tls.PrivateKey(`${name}-tls`, { algorithm: "RSA", rsaBits: 2048 }, { parent });
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
            { parent },
        );
        certificatePem = cert.certPem;
        privateKeyPem = pulumi.secret(privateKey.privateKeyPem);
    }
    const secretVersion = new aws.secretsmanager.SecretVersion(
        `${name}-tls`,
        {
            secretId: tlsSecret.id,
            secretString: pulumi.secret(
                pulumi.jsonStringify(args.dicomClientCaPem !== undefined ? { certificatePem, privateKeyPem, dicomClientCaPem: args.dicomClientCaPem } : { certificatePem, privateKeyPem }),
            ),
        },
        { parent },
    );
    return { certificatePem, secretVersion };
}

// The two instances, each the only one of its slot (an Auto Scaling group of one, which replaces it when EC2 says it is
// gone): one launch template (Amazon Linux 2023, IMDSv2, encrypted gp3; the machine only), the config bundle and the
// SSM association per slot that applies it one instance at a time, the certificate they present, and the address
// each slot keeps across replacements (an Elastic IP in public placement, a reserved private address otherwise).
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import * as tls from "@pulumi/tls";
import { DATABASE_PORT } from "../../rules/ports";
import { DATABASE_NAME } from "../../rules/database";
import { isIpv4Address } from "../../rules/cidr";
import { createHash } from "crypto";
import { bundleKey, renderBundle, ROLLOUT_TIMING, SLOT_GROUP, SLOT_TAGS } from "../../rules/rollout";
import { renderBootstrapFiles } from "../bootstrap";
import { AcmeArgs } from "./acme";
import { DEFAULT_LEGO_IMAGE } from "../bootstrap/acmeScript";
import { renderApplyDocument } from "../bootstrap/apply";
import { amazonLinuxParameter, partitionOf, Tags, tagsFor } from "../naming";
import { DataStore } from "./dataStore";
import { Identity, slotGroupControlStatements } from "./identity";
import { ImageCache } from "./imageCache";
import { cachedImage } from "../bootstrap/images";
import { issueCertificateAuthority, issueLeafCertificate } from "../certificateIssuer";
import { peerCertificatePlan } from "../../rules/certificates";
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
    readonly modalities?: readonly { readonly name: string; readonly aet: string | readonly string[] }[];
    /** The modalities' CA: when given, nginx requires client certificates on 11112 (delivered in the TLS secret). */
    readonly dicomClientCaPem?: pulumi.Input<string>;
    readonly subnetIds: pulumi.Output<string[]>;
    /** Private placement: each slot's reserved address (the network's slotAddresses). */
    readonly slotAddresses?: pulumi.Output<string>[];
    readonly securityGroup: aws.ec2.SecurityGroup;
    /** s3:// URL of the compose plugin when the instances have no internet. */
    readonly composeSource?: pulumi.Output<string>;
    /** orthweb:tls.source acme: what the renewal script needs (pair/acme.ts). */
    readonly acmeRenewal?: AcmeRenewal;
}

export interface AcmeRenewal {
    readonly settings: AcmeArgs;
    readonly secretArn: pulumi.Output<string>;
    readonly hostedZoneId: pulumi.Output<string>;
}

export interface Instances {
    /** Each instance's slot: an Auto Scaling group of one, which replaces the instance when EC2 says it is gone. */
    readonly groups: aws.autoscaling.Group[];
    /** The instance in each slot when the stack was last deployed (a replacement has a new id, the same address). */
    readonly instanceIds: pulumi.Output<string>[];
    /** What clients reach each instance by: the Elastic IP's name (public) or the slot's reserved address (private). */
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
        const slots = rollOut(ctx, args, data, identity, imageCache, template, certificate, eips.map((eip) => eip.allocationId));
        return { ...slots, addresses, certificatePem: certificate.certificatePem };
    }
    // The slots' reserved addresses are known before any instance exists: the certificate names them (and the
    // region's private domain).
    const reserved = args.slotAddresses ?? [];
    const addresses = reserved.map((address) => address.apply((ip) => ({ host: ip, ip })));
    const certificate = createCertificate(ctx, args, identity.tlsSecret, [pulumi.output({ host: `*.${privateDomain(ctx.region)}`, ip: "" }), ...addresses]);
    const slots = rollOut(ctx, args, data, identity, imageCache, template, certificate, reserved);
    return { ...slots, addresses, certificatePem: certificate.certificatePem };
}

/** Slot `index` (0-based) of pair `name`: its group's logical name and its instances' slot tag. */
export function slotName(name: string, index: number): string {
    return `${name}-${index + 1}`;
}

/** The domain of EC2 private DNS names (ip-10-0-1-5.<domain>): ec2.internal in us-east-1, <region>.compute.internal elsewhere. */
export function privateDomain(region: string): string {
    return region === "us-east-1" ? "ec2.internal" : `${region}.compute.internal`;
}

/**
 * The two slots and the rollout chain that keeps them from changing together (docs/operations.md): slot 1's group
 * -> its association (apply the bundle, wait for /healthz and the target groups, take the slot's address, let the
 * instance into service) -> slot 2's group -> its association. Pulumi creates slot 2 only once slot 1's association
 * has succeeded, and a failure stops the update there. The associations target the slot's tag, so a replacement
 * instance gets the same files without anyone running `pulumi up`.
 */
function rollOut(
    ctx: PairContext,
    args: InstanceSettings,
    data: DataStore,
    identity: Identity,
    imageCache: ImageCache | undefined,
    template: aws.ec2.LaunchTemplate,
    certificate: { certificatePem: pulumi.Output<string>; secretVersion: aws.secretsmanager.SecretVersion },
    claims: pulumi.Input<string>[],
): { groups: aws.autoscaling.Group[]; instanceIds: pulumi.Output<string>[]; rolloutDocumentName: pulumi.Output<string> } {
    const { name, tags, parent } = ctx;
    const delivery = createDelivery(ctx, args, data, identity, imageCache);
    // The apply association re-runs for a new certificate; the gate association for a new machine too.
    const applyRevision = certificate.certificatePem.apply((pem) => certificateRevision(pem));
    const gateRevision = pulumi.all([certificate.certificatePem, template.latestVersion]).apply(([pem, version]) => instanceRevision(args.instanceType, String(version), pem));
    const groups: aws.autoscaling.Group[] = [];
    const instanceIds: pulumi.Output<string>[] = [];
    const secrets = [identity.adminSecretVersion, identity.databaseAppSecretVersion, certificate.secretVersion];
    let previous: pulumi.Resource[] = [];
    for (const i of [0, 1]) {
        const slot = slotName(name, i);
        const association = (kind: "apply" | "gate", revision: pulumi.Output<string>, dependsOn: pulumi.Resource[]) =>
            new aws.ssm.Association(
                `${slot}-${kind}`,
                {
                    name: delivery.document.name,
                    documentVersion: delivery.document.latestVersion,
                    targets: [{ key: `tag:${SLOT_TAGS.slot}`, values: [slot] }],
                    parameters: {
                        region: ctx.region,
                        bucket: data.bucket.bucket,
                        bundleKey: delivery.bundleKey,
                        project: tags.Project ?? "",
                        stack: tags.Stack ?? "",
                        revision,
                        mode: kind,
                    },
                    // Both instances of a slot during a refresh at once: the old one's run waits for the new one's.
                    maxConcurrency: String(SLOT_GROUP.maxSize),
                    maxErrors: "0",
                    complianceSeverity: "HIGH",
                    waitForSuccessTimeoutSeconds: ROLLOUT_TIMING.associationWaitSeconds,
                },
                {
                    parent,
                    // The provider waits for success only when it creates an association: every change is a new one.
                    replaceOnChanges: ["parameters", "targets", "documentVersion", "name"],
                    // The old one goes first: both target the slot's tag, and an instance launched while both existed
                    // would run both, in either order, and might end on the old bundle.
                    deleteBeforeReplace: true,
                    dependsOn,
                },
            );
        // Before the group: a new group's instance finds it when it registers, and the secrets are in place before
        // the start script reads them. Its wait gates a change on a running instance (in place); while no instance
        // is registered (a new group) it returns at once (hashicorp/terraform-provider-aws#31175): the group's own
        // creation waits instead.
        const apply = association("apply", applyRevision, [delivery.object, delivery.permissions, ...secrets, ...previous]);
        const group = new aws.autoscaling.Group(
            slot,
            {
                vpcZoneIdentifiers: args.subnetIds.apply((ids) => [at(ids, i)]),
                launchTemplate: { id: template.id, version: template.latestVersion.apply((v) => String(v)) },
                // The role the pair's key admits (its volumes are encrypted with that key): dataStore.ts.
                serviceLinkedRoleArn: data.autoScalingRole.arn,
                ...slotGroupSettings(),
                tags: slotTags(slot, tags, claims[i]),
            },
            {
                parent,
                // Created (a first deploy, a replaced group) only once its instance is in service: let in by a
                // successful apply, since the hook's timeout outlasts this wait.
                dependsOn: [apply, ...secrets, ...previous],
                // Load balancer front doors attach their target groups with aws.autoscaling.Attachment.
                ignoreChanges: ["loadBalancers", "targetGroupArns"],
                customTimeouts: { delete: `${SLOT_GROUP.deleteTimeoutSeconds}s` },
            },
        );
        // After the group: its update may have started a refresh; the run on the instance being replaced waits for
        // its successor to be in service (on any other instance it has nothing to do).
        const gate = association("gate", gateRevision, [group]);
        // Informational (the stack output instanceIds): the slot's instance once its gate has passed.
        const running = aws.ec2.getInstancesOutput(
            { filters: [{ name: "tag:aws:autoscaling:groupName", values: [group.name] }], instanceStateNames: ["running"] },
            { parent, dependsOn: [gate] },
        );
        groups.push(group);
        instanceIds.push(running.ids.apply((ids) => [...(ids ?? [])].sort()[0] ?? ""));
        previous = [gate, group];
    }
    return { groups, instanceIds, rolloutDocumentName: delivery.document.name };
}

/** A slot's group: one instance, replaced on EC2's word only, gated by the launch hook, refreshed launch-first. */
export function slotGroupSettings() {
    return {
        minSize: SLOT_GROUP.minSize,
        maxSize: SLOT_GROUP.maxSize,
        desiredCapacity: SLOT_GROUP.desiredCapacity,
        healthCheckType: SLOT_GROUP.healthCheckType,
        healthCheckGracePeriod: SLOT_GROUP.healthCheckGracePeriodSeconds,
        // On creation only (a first deploy, a replaced group): `pulumi up` waits until the instance is in service,
        // which its apply decides (the association's own wait returns early while no instance is registered:
        // hashicorp/terraform-provider-aws#31175).
        waitForCapacityTimeout: `${ROLLOUT_TIMING.capacityWaitSeconds}s`,
        initialLifecycleHooks: [
            {
                name: SLOT_GROUP.launchHookName,
                lifecycleTransition: "autoscaling:EC2_INSTANCE_LAUNCHING",
                defaultResult: SLOT_GROUP.launchHookDefaultResult,
                heartbeatTimeout: SLOT_GROUP.launchHookHeartbeatSeconds,
            },
        ],
        instanceRefresh: {
            strategy: "Rolling",
            preferences: {
                minHealthyPercentage: SLOT_GROUP.refresh.minHealthyPercentage,
                maxHealthyPercentage: SLOT_GROUP.refresh.maxHealthyPercentage,
                instanceWarmup: String(SLOT_GROUP.refresh.instanceWarmupSeconds),
                autoRollback: SLOT_GROUP.refresh.autoRollback,
            },
        },
        enabledMetrics: [...SLOT_GROUP.metrics],
        metricsGranularity: "1Minute",
    };
}

/** The group's tags, all propagated to its instances: the stack's, the slot's name, and the address it holds. */
function slotTags(slot: string, tags: Tags, claim: pulumi.Input<string>) {
    return [
        ...Object.entries(tagsFor(slot, tags)).map(([key, value]) => ({ key, value, propagateAtLaunch: true })),
        { key: SLOT_TAGS.slot, value: slot, propagateAtLaunch: true },
        { key: SLOT_TAGS.address, value: claim, propagateAtLaunch: true },
    ];
}

/** What makes a slot's apply run again though its files did not change: a new certificate. */
export function certificateRevision(certificatePem: string | undefined): string {
    return createHash("sha256").update(certificatePem ?? "", "utf8").digest("hex").slice(0, 16);
}

/**
 * What makes a slot pass the gate again though its files did not change: a new certificate, or a new machine (a new
 * type or template version: the group refreshes, and the old instance's apply waits until its successor serves).
 */
export function instanceRevision(instanceType: string, templateVersion: string, certificatePem: string | undefined): string {
    return `${instanceType}:${templateVersion}:${certificateRevision(certificatePem)}`;
}

/**
 * What the launch template adds for self-healing: EC2 simplified automatic recovery where the group does not act
 * first, an OS shutdown ends the instance (its group replaces it), and prod refuses API termination (the group and
 * `pulumi destroy` still can).
 */
export function recoveryOptions(prod: boolean) {
    return {
        maintenanceOptions: { autoRecovery: "default" },
        instanceInitiatedShutdownBehavior: "terminate",
        disableApiTermination: prod,
    };
}

/** The bundle in the pair's bucket (content-addressed), the SSM document that applies it, and the role's rights. */
function createDelivery(ctx: PairContext, args: InstanceSettings, data: DataStore, identity: Identity, imageCache?: ImageCache) {
    const { name, tags, parent, region } = ctx;
    const bundle = pulumi
        .all([data.bucket.bucket, data.database.address, data.databaseSecretArn, identity.adminSecret.arn, identity.tlsSecret.arn, imageCache?.registry, identity.databaseAppSecret.arn, pulumi.all([args.composeSource, acmeOf(args.acmeRenewal)])])
        .apply(([bucketName, dbHost, dbSecret, adminArn, tlsArn, registry, dbAppArn, [composeSource, acme]]) =>
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
                    acme: acme && {
                        ...acme,
                        bucket: text(bucketName),
                        legoImage: imageCache && registry ? cachedImage(acme.legoImage, { registry, prefix: imageCache.prefix }) : acme.legoImage,
                    },
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
    const permissions = new aws.iam.RolePolicy(`${name}-rollout`, { role: identity.role.id, policy: JSON.stringify(rolloutPolicy(region, tags)) }, { parent });
    return { object, document, permissions, bundleKey: bundleKeyOutput };
}

function createLaunchTemplate(ctx: PairContext, args: InstanceSettings, data: DataStore, identity: Identity) {
    const { name, tags, parent } = ctx;
    // No user data: the instance's files come from the config bundle, applied by the SSM association. The template
    // changes only with the machine itself (its type), so a new image or setting never replaces an instance.
    return new aws.ec2.LaunchTemplate(
        `${name}-lt`,
        {
            description: `${name}: Orthanc behind nginx on Amazon Linux 2023`,
            // Resolved at launch: no image lookup at plan time, and no replacement on every new AMI.
            imageId: `resolve:ssm:${amazonLinuxParameter(args.instanceType)}`,
            iamInstanceProfile: { arn: identity.instanceProfileArn },
            // On the template: a new type starts an instance refresh of each slot (launch before terminate).
            instanceType: args.instanceType,
            vpcSecurityGroupIds: [args.securityGroup.id],
            ...recoveryOptions(ctx.prod),
            metadataOptions: { httpEndpoint: "enabled", httpTokens: "required", httpPutResponseHopLimit: 2 },
            monitoring: { enabled: true },
            blockDeviceMappings: [
                {
                    deviceName: "/dev/xvda",
                    ebs: { volumeSize: ROOT_VOLUME_GIB, volumeType: "gp3", encrypted: "true", kmsKeyId: data.key.arn, deleteOnTermination: "true" },
                },
            ],
            updateDefaultVersion: true,
            // The interface carries the stack's tags too: the claim script may move a reserved address only onto those.
            tagSpecifications: ["instance", "volume", "network-interface"].map((resourceType) => ({ resourceType, tags: tagsFor(name, tags) })),
            tags: tagsFor(`${name}-lt`, tags),
        },
        { parent },
    );
}

/**
 * What the apply and claim scripts may do: drain and register the instance in the stack's target groups, move the
 * slot's address (an Elastic IP, or a reserved private address) to it, and let it into service. The changing calls
 * are limited to resources carrying the stack's Project and Stack tags (instances, interfaces, Elastic IPs, groups).
 */
export function rolloutPolicy(region: string, tags: Tags) {
    const partition = partitionOf(region);
    const ownedByStack = { StringEquals: { "aws:ResourceTag/Project": tags.Project ?? "", "aws:ResourceTag/Stack": tags.Stack ?? "" } };
    return {
        Version: "2012-10-17",
        Statement: [
            // None of these calls supports resource-level permissions.
            {
                Sid: "FindTargetsAndSlot",
                Effect: "Allow",
                Action: [
                    "tag:GetResources",
                    "elasticloadbalancing:DescribeTargetHealth",
                    "ec2:DescribeTags",
                    "ec2:DescribeAddresses",
                    "ec2:DescribeNetworkInterfaces",
                    "autoscaling:DescribeAutoScalingInstances",
                    "autoscaling:DescribeAutoScalingGroups",
                    "autoscaling:DescribeTrafficSources",
                ],
                Resource: "*",
            },
            {
                Sid: "DrainAndRegister",
                Effect: "Allow",
                Action: ["elasticloadbalancing:DeregisterTargets", "elasticloadbalancing:RegisterTargets"],
                Resource: `arn:${partition}:elasticloadbalancing:${region}:*:targetgroup/*`,
                Condition: ownedByStack,
            },
            {
                Sid: "TakeSlotAddress",
                Effect: "Allow",
                Action: ["ec2:AssociateAddress", "ec2:AssignPrivateIpAddresses"],
                Resource: [`arn:${partition}:ec2:${region}:*:elastic-ip/*`, `arn:${partition}:ec2:${region}:*:instance/*`, `arn:${partition}:ec2:${region}:*:network-interface/*`],
                Condition: ownedByStack,
            },
            {
                Sid: "EnterService",
                Effect: "Allow",
                Action: ["autoscaling:CompleteLifecycleAction"],
                Resource: `arn:${partition}:autoscaling:${region}:*:autoScalingGroup:*:autoScalingGroupName/*`,
                Condition: ownedByStack,
            },
            ...slotGroupControlStatements(region, tags),
        ],
    };
}

/** The renewal script's settings once the secret and the zone are known. */
function acmeOf(renewal: AcmeRenewal | undefined) {
    if (!renewal) return undefined;
    return pulumi.all([renewal.secretArn, renewal.hostedZoneId]).apply(([secretArn, hostedZoneId]) => ({
        email: renewal.settings.email,
        directoryUrl: renewal.settings.directoryUrl,
        names: [...renewal.settings.names],
        legoImage: renewal.settings.legoImage ?? DEFAULT_LEGO_IMAGE,
        secretArn: text(secretArn),
        hostedZoneId: text(hostedZoneId),
    }));
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
            // A host that is an address (a private slot) is named by its IP address entry only.
            dnsNames: [...new Set(defined([...(args.certificateNames ?? []), ...addrs.map((a) => a?.host).filter((h) => !isIpv4Address(h))]))],
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
    // The peer link's own CA and certificate (mutual TLS between the instances' nginx): in the same secret as the
    // instance key, which the start script reads; the CA's key stays in the stack's state.
    const peerPlan = peerCertificatePlan();
    const peerCa = issueCertificateAuthority(`${name}-peer`, peerPlan.ca, parent);
    const peer = issueLeafCertificate(`${name}-peer`, peerPlan.instance, peerCa, parent);
    const peerTls = { peerCertificatePem: peer.certPem, peerPrivateKeyPem: peer.keyPem, peerCaPem: peerCa.certPem };
    const secretVersion = new aws.secretsmanager.SecretVersion(
        `${name}-tls`,
        {
            secretId: tlsSecret.id,
            secretString: pulumi.secret(
                pulumi.jsonStringify({ certificatePem, privateKeyPem, ...(args.dicomClientCaPem !== undefined ? { dicomClientCaPem: args.dicomClientCaPem } : {}), ...peerTls }),
            ),
        },
        { parent },
    );
    return { certificatePem, secretVersion };
}

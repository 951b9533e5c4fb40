// The two instances: one launch template (Amazon Linux 2023, IMDSv2, encrypted gp3, the rendered bootstrap),
// the certificate they present, and in public placement the Elastic IPs that give each its stable name.
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import * as tls from "@pulumi/tls";
import { DATABASE_PORT } from "../../rules/ports";
import { renderUserData } from "../bootstrap";
import { amazonLinuxParameter, tagsFor } from "../naming";
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
}

export function createInstances(ctx: PairContext, args: InstanceSettings, data: DataStore, identity: Identity, imageCache?: ImageCache): Instances {
    const { name, tags, parent } = ctx;
    const template = createLaunchTemplate(ctx, args, data, identity, imageCache);
    const launch = (dependsOn: pulumi.Resource[]) =>
        [0, 1].map(
            (i) =>
                new aws.ec2.Instance(
                    `${name}-${i + 1}`,
                    {
                        launchTemplate: { id: template.id, version: template.latestVersion.apply((v) => String(v)) },
                        subnetId: args.subnetIds.apply((ids) => at(ids, i)),
                        tags: tagsFor(`${name}-${i + 1}`, tags),
                    },
                    { parent, dependsOn },
                ),
        );
    if (args.placement === "public") {
        // Allocate the Elastic IPs first, so the certificate names them and exists before the instances boot.
        const eips = [0, 1].map((i) => new aws.ec2.Eip(`${name}-eip-${i + 1}`, { domain: "vpc", tags: tagsFor(`${name}-${i + 1}`, tags) }, { parent }));
        const addresses = eips.map((eip) => pulumi.all([eip.publicDns, eip.publicIp]).apply(([host, ip]) => ({ host, ip })));
        const certificate = createCertificate(ctx, args, identity.tlsSecret, addresses);
        const instances = launch([identity.adminSecretVersion, certificate.secretVersion]);
        eips.forEach((eip, i) => new aws.ec2.EipAssociation(`${name}-eip-${i + 1}`, { instanceId: instances[i].id, allocationId: eip.allocationId }, { parent }));
        return { instances, addresses, certificatePem: certificate.certificatePem };
    }
    // Private names are known only once the instances exist; their start script waits for the secret.
    const instances = launch([identity.adminSecretVersion]);
    const addresses = instances.map((inst) => pulumi.all([inst.privateDns, inst.privateIp]).apply(([host, ip]) => ({ host, ip })));
    const certificate = createCertificate(ctx, args, identity.tlsSecret, addresses);
    return { instances, addresses, certificatePem: certificate.certificatePem };
}

function createLaunchTemplate(ctx: PairContext, args: InstanceSettings, data: DataStore, identity: Identity, imageCache?: ImageCache) {
    const { name, tags, parent, region } = ctx;
    const userData = pulumi
        .all([data.bucket.bucket, data.database.address, data.databaseSecretArn, identity.adminSecret.arn, identity.tlsSecret.arn, imageCache?.registry, args.composeSource])
        .apply(([bucketName, dbHost, dbSecret, adminArn, tlsArn, registry, composeSource]) =>
            renderUserData({
                region,
                ...imagesFrom(args, imageCache && registry ? { registry, prefix: imageCache.prefix } : undefined),
                orthanc: {
                    name,
                    aet: args.aet,
                    database: { host: text(dbHost), port: DATABASE_PORT, name: DATABASE_NAME },
                    bucket: { name: text(bucketName), region },
                },
                secretArns: { database: text(dbSecret), admin: text(adminArn), tls: text(tlsArn) },
                composeSource,
            }),
        );
    return new aws.ec2.LaunchTemplate(
        `${name}-lt`,
        {
            description: `${name}: Orthanc behind nginx on Amazon Linux 2023`,
            // Resolved at launch: no image lookup at plan time, and no replacement on every new AMI.
            imageId: `resolve:ssm:${amazonLinuxParameter(args.instanceType)}`,
            instanceType: args.instanceType,
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
            userData: userData.apply((text) => Buffer.from(text, "utf8").toString("base64")),
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
        { secretId: tlsSecret.id, secretString: pulumi.secret(pulumi.jsonStringify({ certificatePem, privateKeyPem })) },
        { parent },
    );
    return { certificatePem, secretVersion };
}

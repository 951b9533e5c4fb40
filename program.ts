// The program as a function of a validated StackConfig: composes the components for the chosen traffic
// pattern and returns the stack outputs. index.ts is a thin entry over it; tests and the offline plan
// call it directly, several stacks in one process.
import * as pulumi from "@pulumi/pulumi";
import { FailoverSummary } from "./rules/failover";
import { Alerts, AlertsArgs } from "./components/alerts";
import { ClientVpnAccess } from "./components/clientVpnAccess";
import { DirectAccess } from "./components/directAccess";
import { LoadBalancerFrontDoor } from "./components/loadBalancerFrontDoor";
import { passThroughNames } from "./rules/loadBalancerLayout";
import { DnsFrontDoor } from "./components/dnsFrontDoor";
import { stackTags } from "./components/naming";
import { OrthancPair } from "./components/orthancPair";
import { SiteToSiteVpnAccess, SiteToSiteVpnDetails } from "./components/siteToSiteVpnAccess";
import { configWarnings, StackConfig } from "./stacks/config";
import { pullThroughCacheOf } from "./stacks/imageCacheRules";
import { imageCacheFor } from "./stacks/siteToSiteRules";
import { frontDoorName } from "./rules/dnsName";
import { DICOM_PORT } from "./rules/ports";
import { admittedDicomCidrs } from "./rules/modalities";
import { siteDicomCidrs } from "./rules/siteToSite";
import { ModalityCertificateBundle, ModalityCertificates } from "./components/modalityCertificates";
import { auditRetentionDays } from "./rules/audit";
import { instanceNames, PAIR_SLOTS, trustText } from "./rules/acme";

export interface DicomEndpoint {
    readonly host: string;
    readonly port: number;
    readonly aet: string;
    readonly tls: boolean;
}

export interface StackOutputs {
    readonly frontDoor: string;
    /** What users open in a browser. */
    readonly webUrls: pulumi.Output<string[]>;
    /** What modalities are configured with. */
    readonly dicomEndpoints: pulumi.Output<DicomEndpoint[]>;
    readonly instanceIds: pulumi.Output<string[]>;
    readonly databaseEndpoint: pulumi.Output<string>;
    readonly bucketName: pulumi.Output<string>;
    /** The audit trail's bucket: study object access (CloudTrail data events, S3 server access logs), VPC flow logs. */
    readonly auditBucketName: pulumi.Output<string>;
    /** Where the Orthanc admin password is (Secrets Manager ARN). */
    readonly adminSecretArn: pulumi.Output<string>;
    /** Present when the instances present a self-signed certificate: clients must be told to trust it. */
    readonly certificateNotice?: pulumi.Output<string>;
    /** Front doors that fail over by themselves: the worst case, how it is made up, and what it leaves out. */
    readonly failover?: pulumi.Output<FailoverSummary>;
    /** With a client VPN: its endpoint id. */
    readonly vpnEndpointId?: pulumi.Output<string>;
    /** With a client VPN: client name -> complete .ovpn profile. A secret. */
    readonly vpnProfiles?: pulumi.Output<Record<string, string>>;
    /** With orthweb:orthanc.dicomClientCertificates: modality name -> its certificate, key and CA in PEM. A secret. */
    readonly modalityCertificates?: pulumi.Output<Record<string, ModalityCertificateBundle>>;
    /** The SNS topic every alarm and a stopped rollout publish to: subscribe to it. */
    readonly alertTopicArn: pulumi.Output<string>;
    /** With a site-to-site VPN: per tunnel addresses and keys, a swanctl.conf, the parameters. A secret. */
    readonly siteToSiteVpn?: pulumi.Output<SiteToSiteVpnDetails>;
}

/** Logical names of the components; every child's name starts with its component's. */
export const COMPONENT_NAMES = { pair: "orthanc", direct: "direct", dns: "dns", loadBalancer: "lb", vpn: "vpn", modalities: "modalities", alerts: "alerts", site: "site" } as const;

/** The blocks admitted on 11112: orthweb:network.dicomClientCidrs plus the modalities' own. */
export function dicomCidrsFor(config: StackConfig): string[] {
    return admittedDicomCidrs(config.network.dicomClientCidrs, config.orthanc.modalities);
}

/** Where the instances live for a front door: public with Elastic IPs, or private behind it. */
export function placementFor(frontDoor: StackConfig["traffic"]["frontDoor"]): "public" | "private" {
    switch (frontDoor) {
        case "direct":
            return "public";
        case "loadBalancer":
            return "private";
        case "dns":
            // Route 53 health checks reach only public addresses: each instance keeps its Elastic IP.
            return "public";
        case "none":
            return "private";
    }
}

/** Names the self-signed certificate must carry besides the instances' own: the name clients type. */
export function certificateNamesFor(config: StackConfig): string[] {
    switch (config.traffic.frontDoor) {
        case "dns":
            return config.traffic.dns ? [frontDoorName(config.traffic.dns)] : [];
        case "loadBalancer": {
            const lb = config.traffic.loadBalancer;
            return passThroughNames({ ...lb, hasCertificate: lb.zoneName !== undefined || lb.certificateArn !== undefined });
        }
        case "direct": {
            const direct = config.traffic.direct;
            return direct ? instanceNames(direct.zoneName, direct.recordPrefix, PAIR_SLOTS) : [];
        }
        default:
            return [];
    }
}

/**
 * What clients are told about the instances' certificate (the certificateNotice output): which names it carries and
 * who trusts it. Nothing for a certificate of your own, or when no client sees the instances' certificate.
 */
export function certificateNoticeFor(config: StackConfig, clientsSeeInstanceCertificate: boolean): string | undefined {
    if (!clientsSeeInstanceCertificate) return undefined;
    const source = config.certificateSource;
    if (source.source === "provided") return undefined;
    if (source.source === "acme") {
        return `The instances present ${trustText({ source: "acme", names: source.acme.names, directoryUrl: source.acme.directoryUrl })}. Until the first one is issued (minutes after the first boot) they present a self-signed one.`;
    }
    return (
        "The instances present a self-signed certificate: browsers and modalities will not trust it until you " +
        "import it, or set orthweb:tlsCertificatePem and orthweb:tlsPrivateKeyPem to a certificate of your own, or orthweb:tls.source acme with a zone."
    );
}

/** What clients use to reach the service, as the front door publishes it. */
interface Entry {
    readonly webUrls: pulumi.Output<string[]>;
    readonly dicomEndpoints: pulumi.Output<DicomEndpoint[]>;
    readonly failover?: pulumi.Output<FailoverSummary>;
    /** False when the front door terminates all client TLS itself: no client sees the instances' certificate. */
    readonly clientsSeeInstanceCertificate?: boolean;
    /** What the alarms watch besides the instances and the database. */
    readonly watched?: Pick<AlertsArgs, "targetGroups" | "route53HealthCheckIds">;
}

function directEntry(config: StackConfig, pair: OrthancPair, tags: Record<string, string>): Entry {
    const zone = config.traffic.direct;
    const access = new DirectAccess(COMPONENT_NAMES.direct, {
        securityGroupId: pair.securityGroupId,
        webClientCidrs: config.network.webClientCidrs,
        dicomClientCidrs: dicomCidrsFor(config),
        names: zone && {
            zoneName: zone.zoneName,
            hostNames: instanceNames(zone.zoneName, zone.recordPrefix, PAIR_SLOTS),
            instanceIps: pair.instanceAddresses.map((address) => address.apply((a) => a?.ip)),
        },
        tags,
    });
    if (!zone) return instanceEntry(config, pair);
    // Each instance by its name in the user's zone: what the certificate names.
    const hosts = access.hostNames;
    return {
        webUrls: pulumi.output(hosts.map((h) => `https://${h}/`)),
        dicomEndpoints: pulumi.output(hosts.map((host) => ({ host, port: DICOM_PORT, aet: config.orthanc.aet, tls: true }))),
    };
}

/** Each instance by its own name: public names (direct), reserved private addresses (none: reached over a VPN). */
function instanceEntry(config: StackConfig, pair: OrthancPair): Entry {
    const hosts = pulumi.all(pair.instanceAddresses).apply((addrs) => addrs.map((a) => a?.host));
    return {
        webUrls: hosts.apply((hs) => hs.map((h) => `https://${h}/`)),
        dicomEndpoints: hosts.apply((hs) => hs.map((host) => ({ host, port: DICOM_PORT, aet: config.orthanc.aet, tls: true }))),
    };
}

function loadBalancerEntry(config: StackConfig, pair: OrthancPair, tags: Record<string, string>): Entry {
    const lb = config.traffic.loadBalancer;
    const frontDoor = new LoadBalancerFrontDoor(COMPONENT_NAMES.loadBalancer, {
        ...lb,
        environment: config.environment,
        region: config.region,
        vpcId: pair.vpcId,
        publicSubnetIds: pair.publicSubnetIds,
        privateSubnetIds: pair.privateSubnetIds,
        instanceSecurityGroupId: pair.securityGroupId,
        slotGroupNames: pair.slotGroupNames,
        webClientCidrs: config.network.webClientCidrs,
        dicomClientCidrs: dicomCidrsFor(config),
        logRetentionDays: auditRetentionDays(config.environment, config.audit.retentionDays),
        tags,
    });
    return {
        webUrls: frontDoor.webHost.apply((host) => [`https://${host}/`]),
        // TLS either way: at the load balancer, or passed through to nginx on the instances.
        dicomEndpoints: frontDoor.dicomHost.apply((host) => [{ host, port: DICOM_PORT, aet: config.orthanc.aet, tls: true }]),
        clientsSeeInstanceCertificate: !(frontDoor.terminatesTls.web && frontDoor.terminatesTls.dicom),
        failover: pulumi.output(frontDoor.failover),
        watched: { targetGroups: frontDoor.targetGroups },
    };
}

function dnsEntry(config: StackConfig, pair: OrthancPair, tags: Record<string, string>): Entry {
    const dns = config.traffic.dns;
    if (!dns) throw new Error("frontDoor dns needs traffic.dns (validateStackConfig reports this)");
    const door = new DnsFrontDoor(COMPONENT_NAMES.dns, {
        region: config.region,
        zoneName: dns.zoneName,
        recordName: dns.recordName,
        routing: dns.routing,
        ttlSeconds: dns.ttl,
        healthCheck: dns.healthCheck,
        securityGroupId: pair.securityGroupId,
        instanceIps: pair.instanceAddresses.map((address) => address.apply((a) => a?.ip)),
        webClientCidrs: config.network.webClientCidrs,
        dicomClientCidrs: dicomCidrsFor(config),
        tags,
    });
    return {
        webUrls: pulumi.output([`https://${door.fqdn}/`]),
        dicomEndpoints: pulumi.output([{ host: door.fqdn, port: DICOM_PORT, aet: config.orthanc.aet, tls: true }]),
        failover: pulumi.output(door.failover),
        watched: { route53HealthCheckIds: door.healthCheckIds },
    };
}

export function createInfrastructure(config: StackConfig): StackOutputs {
    for (const warning of configWarnings(config)) pulumi.log.warn(warning);
    const tags = stackTags(pulumi.getProject(), pulumi.getStack(), config.environment);
    const frontDoor = config.traffic.frontDoor;

    const senders = config.orthanc.dicomClientCertificates
        ? new ModalityCertificates(COMPONENT_NAMES.modalities, { names: config.orthanc.modalities.map((m) => m.name) })
        : undefined;
    const pair = new OrthancPair(COMPONENT_NAMES.pair, {
        region: config.region,
        environment: config.environment,
        placement: placementFor(frontDoor),
        vpcCidr: config.network.vpcCidr,
        internetAccess: config.network.internetAccess,
        instanceType: config.orthanc.instanceType,
        orthancImage: config.orthanc.image,
        nginxImage: config.orthanc.nginxImage,
        aet: config.orthanc.aet,
        database: config.database,
        noncurrentVersionDays: config.storage.noncurrentVersionDays,
        auditRetentionDays: auditRetentionDays(config.environment, config.audit.retentionDays),
        tls: config.tls && { certificatePem: config.tls.certificatePem, privateKeyPem: pulumi.secret(config.tls.privateKeyPem) },
        certificateNames: certificateNamesFor(config),
        modalities: config.orthanc.modalities,
        dicomClientCaPem: senders?.caPem,
        tags,
        imageCache: imageCacheFor(config, pullThroughCacheOf(config)),
        acme: config.certificateSource.source === "acme" ? config.certificateSource.acme : undefined,
    });

    let entry: Entry;
    switch (frontDoor) {
        case "direct":
            entry = directEntry(config, pair, tags);
            break;
        case "loadBalancer":
            entry = loadBalancerEntry(config, pair, tags);
            break;
        case "dns":
            entry = dnsEntry(config, pair, tags);
            break;
        case "none":
            // No ingress besides the VPNs' (added below; the config requires one).
            entry = instanceEntry(config, pair);
            break;
    }

    // Alerts exist in every stack; other components (a VPN tunnel's alarm) can be given alerts.topicArn.
    const alerts = new Alerts(COMPONENT_NAMES.alerts, {
        region: config.region,
        emails: config.alerts.emails,
        slotGroupNames: pair.slotGroupNames,
        ...entry.watched,
        database: { identifier: pair.databaseIdentifier, allocatedStorageGiB: config.database.allocatedStorageGiB },
        rolloutDocumentName: pair.rolloutDocumentName,
        certificateSlots: config.certificateSource.source === "acme" ? pair.slotNames : undefined,
        tags,
    });

    // One private subnet per AZ (a VPN endpoint's associations, a transit gateway's attachment).
    const privateSubnetPerAz = pair.slotGroupNames.map((_, i) => pair.privateSubnetIds.apply((ids) => ids?.[i]));
    const vpnConfig = config.traffic.clientVpn;
    const vpn =
        vpnConfig &&
        new ClientVpnAccess(COMPONENT_NAMES.vpn, {
            vpcId: pair.vpcId,
            vpcCidr: config.network.vpcCidr,
            subnetIds: privateSubnetPerAz,
            instanceSecurityGroupId: pair.securityGroupId,
            ...vpnConfig,
            tags,
        });

    const siteConfig = config.traffic.siteToSiteVpn;
    const site =
        siteConfig &&
        new SiteToSiteVpnAccess(COMPONENT_NAMES.site, {
            vpcId: pair.vpcId,
            vpcCidr: config.network.vpcCidr,
            routeTableIds: pair.routeTableIds,
            attachmentSubnetIds: privateSubnetPerAz,
            instanceSecurityGroupId: pair.securityGroupId,
            ...siteConfig,
            // Without a front door the site is the modalities' way in: their own blocks, not the whole site, on 11112.
            ...(config.traffic.frontDoor === "none" ? { dicomCidrs: siteDicomCidrs(siteConfig.onPremisesCidrs, config.orthanc.modalities) } : {}),
            alertTopicArn: alerts.topicArn,
            tags,
        });

    const notice = certificateNoticeFor(config, entry.clientsSeeInstanceCertificate !== false);
    return {
        frontDoor,
        webUrls: entry.webUrls,
        dicomEndpoints: entry.dicomEndpoints,
        instanceIds: pulumi.all(pair.instanceIds),
        databaseEndpoint: pair.databaseEndpoint,
        bucketName: pair.bucketName,
        auditBucketName: pair.auditBucketName,
        adminSecretArn: pair.adminSecretArn,
        certificateNotice: notice === undefined ? undefined : pulumi.output(notice),
        failover: entry.failover,
        vpnEndpointId: vpn?.endpointId,
        vpnProfiles: vpn?.profiles,
        modalityCertificates: senders?.bundles,
        alertTopicArn: alerts.topicArn,
        siteToSiteVpn: site?.config,
    };
}

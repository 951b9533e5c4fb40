// The program as a function of a validated StackConfig: composes the components for the chosen traffic
// pattern and returns the stack outputs. index.ts is a thin entry over it; tests and the offline plan
// call it directly, several stacks in one process.
import * as pulumi from "@pulumi/pulumi";
import { DICOM_PORT } from "./components/bootstrap/nginx";
import { ClientVpnAccess } from "./components/clientVpnAccess";
import { DirectAccess } from "./components/directAccess";
import { stackTags } from "./components/naming";
import { OrthancPair } from "./components/orthancPair";
import { StackConfig } from "./stacks/config";

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
    /** Where the Orthanc admin password is (Secrets Manager ARN). */
    readonly adminSecretArn: pulumi.Output<string>;
    /** Present when the instances present a self-signed certificate: clients must be told to trust it. */
    readonly certificateNotice?: pulumi.Output<string>;
    /** With a client VPN: its endpoint id. */
    readonly vpnEndpointId?: pulumi.Output<string>;
    /** With a client VPN: client name -> complete .ovpn profile. A secret. */
    readonly vpnProfiles?: pulumi.Output<Record<string, string>>;
}

/** Logical names of the components; every child's name starts with its component's. */
export const COMPONENT_NAMES = { pair: "orthanc", direct: "direct", vpn: "vpn" } as const;

/** Where the instances live for a front door: public with Elastic IPs, or private behind it. */
export function placementFor(frontDoor: StackConfig["traffic"]["frontDoor"]): "public" | "private" {
    switch (frontDoor) {
        case "direct":
            return "public";
        case "none":
            return "private";
    }
}

/** What clients use to reach the service, as the front door publishes it. */
interface Entry {
    readonly webUrls: pulumi.Output<string[]>;
    readonly dicomEndpoints: pulumi.Output<DicomEndpoint[]>;
}

function directEntry(config: StackConfig, pair: OrthancPair, tags: Record<string, string>): Entry {
    new DirectAccess(COMPONENT_NAMES.direct, {
        securityGroupId: pair.securityGroupId,
        webClientCidrs: config.network.webClientCidrs,
        dicomClientCidrs: config.network.dicomClientCidrs,
        tags,
    });
    return instanceEntry(config, pair);
}

/** Each instance by its own name: public names (direct), private names (none: reached over the client VPN). */
function instanceEntry(config: StackConfig, pair: OrthancPair): Entry {
    const hosts = pulumi.all(pair.instanceAddresses).apply((addrs) => addrs.map((a) => a?.host));
    return {
        webUrls: hosts.apply((hs) => hs.map((h) => `https://${h}/`)),
        dicomEndpoints: hosts.apply((hs) => hs.map((host) => ({ host, port: DICOM_PORT, aet: config.orthanc.aet, tls: true }))),
    };
}

export function createInfrastructure(config: StackConfig): StackOutputs {
    const tags = stackTags(pulumi.getProject(), pulumi.getStack(), config.environment);
    const frontDoor = config.traffic.frontDoor;

    const pair = new OrthancPair(COMPONENT_NAMES.pair, {
        region: config.region,
        environment: config.environment,
        placement: placementFor(frontDoor),
        vpcCidr: config.network.vpcCidr,
        instanceType: config.orthanc.instanceType,
        orthancImage: config.orthanc.image,
        nginxImage: config.orthanc.nginxImage,
        aet: config.orthanc.aet,
        database: config.database,
        tls: config.tls && { certificatePem: config.tls.certificatePem, privateKeyPem: pulumi.secret(config.tls.privateKeyPem) },
        tags,
    });

    let entry: Entry;
    switch (frontDoor) {
        case "direct":
            entry = directEntry(config, pair, tags);
            break;
        case "none":
            // No ingress besides the client VPN's (added below; the config requires it).
            entry = instanceEntry(config, pair);
            break;
    }

    const vpnConfig = config.traffic.clientVpn;
    const vpn =
        vpnConfig &&
        new ClientVpnAccess(COMPONENT_NAMES.vpn, {
            vpcId: pair.vpcId,
            vpcCidr: config.network.vpcCidr,
            subnetIds: pair.instanceIds.map((_, i) => pair.internalSubnetIds.apply((ids) => ids[i])),
            instanceSecurityGroupId: pair.securityGroupId,
            ...vpnConfig,
            tags,
        });

    return {
        frontDoor,
        webUrls: entry.webUrls,
        dicomEndpoints: entry.dicomEndpoints,
        instanceIds: pulumi.all(pair.instanceIds),
        databaseEndpoint: pair.databaseEndpoint,
        bucketName: pair.bucketName,
        adminSecretArn: pair.adminSecretArn,
        certificateNotice: pair.selfSignedCertificate
            ? pulumi.output(
                  "The instances present a self-signed certificate: browsers and modalities will not trust it until you " +
                      "import it, or set orthweb:tlsCertificatePem and orthweb:tlsPrivateKeyPem to a certificate of your own.",
              )
            : undefined,
        vpnEndpointId: vpn?.endpointId,
        vpnProfiles: vpn?.profiles,
    };
}

// SiteToSiteVpnAccess: an AWS Site-to-Site VPN connection from a site's firewall (or a software gateway such as
// strongSwan) into the Orthanc VPC. Two tunnels, IKEv2 only, strong algorithms, pre-shared keys generated here.
// Routes to the on-premises ranges from the given route tables (propagated from a virtual private gateway, or
// static to a transit gateway); the instances admit 443 and 11112 from those ranges only. Everything the network
// team needs, keys included, is one secret output: `config`.
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import { clientCidrIngress, createCidrIngress } from "./ingress";
import { Tags, tagsFor } from "./naming";
import {
    AMAZON_SIDE_ASN,
    DPD_TIMEOUT_SECONDS,
    insideAddresses,
    ParameterSummary,
    parameterSummary,
    PHASE1_LIFETIME_SECONDS,
    PHASE2_LIFETIME_SECONDS,
    presharedKeyFrom,
    PSK_LENGTH,
    PSK_SPECIALS,
    STATIC_CUSTOMER_ASN,
    TunnelAlgorithms,
    tunnelAlarmTexts,
} from "../rules/siteToSite";
import { SiteGatewayFiles, siteGatewayFiles } from "../rules/siteGateway";

/** TunnelState is published every 5 minutes; two periods down before anyone is woken. */
export const TUNNEL_ALARM = { periodSeconds: 300, evaluationPeriods: 2 } as const;

export interface SiteToSiteVpnAccessArgs {
    readonly vpcId: pulumi.Input<string>;
    /** The VPC's block: what the customer side routes into the tunnels. */
    readonly vpcCidr: string;
    /** Route tables that get routes to the on-premises ranges: the instances' and the private tier's. */
    readonly routeTableIds: pulumi.Input<string>[];
    /** Subnets of a transit gateway attachment (one per AZ); used only with `transitGatewayId`. */
    readonly attachmentSubnetIds: pulumi.Input<string>[];
    /** The OrthancPair's instance security group: gets 443/11112 from each on-premises range. */
    readonly instanceSecurityGroupId: pulumi.Input<string>;
    /** The site's VPN device, as the internet sees it. */
    readonly customerGatewayIp: string;
    readonly onPremisesCidrs: readonly string[];
    /** The site's blocks admitted on 11112 (rules/siteToSite.ts siteDicomCidrs). @default onPremisesCidrs */
    readonly dicomCidrs?: readonly string[];
    /** The site's BGP ASN. @default none: static routes to `onPremisesCidrs` */
    readonly bgpAsn?: number;
    /** An existing transit gateway. @default none: a virtual private gateway on the VPC */
    readonly transitGatewayId?: string;
    /** The transit gateway's route table for the static routes to the site (required with transitGatewayId and static routing). */
    readonly transitGatewayRouteTableId?: string;
    readonly tunnels: TunnelAlgorithms & { readonly insideCidrs: readonly [string, string] };
    /** Where a tunnel-down alarm goes. @default no alarm */
    readonly alertTopicArn?: pulumi.Input<string>;
    readonly tags?: Tags;
}

export interface TunnelDetails {
    readonly outsideAddress: { readonly aws: string; readonly customerGateway: string };
    readonly insideCidr: string;
    readonly insideAddress: { readonly aws: string; readonly customerGateway: string };
    readonly presharedKey: string;
}

/** The `siteToSiteVpn` stack output. */
export interface SiteToSiteVpnDetails {
    readonly connectionId: string;
    readonly tunnels: TunnelDetails[];
    readonly parameters: ParameterSummary;
}

/**
 * The `siteToSiteVpn` stack output: the details, and the files of a Linux software gateway (rules/siteGateway.ts):
 * swanctlConf, strongswanConf, tunnelScript, systemdUnit, and birdConf (BGP) or staticRoutes (static).
 */
export type SiteToSiteVpnOutput = SiteToSiteVpnDetails & SiteGatewayFiles;

/**
 * With presharedKeyStorage SecretsManager, AWS no longer returns the keys: the provider reads each tunnel's key back
 * from DescribeVpnConnections' customer gateway configuration, where it is REDACTED (terraform-provider-aws PR
 * #42819), so the state never matches the configured key and every `pulumi up` would modify both tunnels
 * (ModifyVpnTunnelOptions, a renegotiation each). The keys are set at creation only; docs/site-to-site.md rotates them.
 */
export const PSK_IGNORED_AFTER_CREATE = ["tunnel1PresharedKey", "tunnel2PresharedKey"] as const;

/** The tunnel options AWS takes for one tunnel `n` (1 or 2). Pure. */
export function tunnelOptions(n: 1 | 2, algorithms: TunnelAlgorithms, insideCidr: string, presharedKey: pulumi.Input<string>): Record<string, unknown> {
    const t = `tunnel${n}`;
    return {
        [`${t}IkeVersions`]: ["ikev2"],
        [`${t}Phase1EncryptionAlgorithms`]: [...algorithms.encryption],
        [`${t}Phase1IntegrityAlgorithms`]: [...algorithms.integrity],
        [`${t}Phase1DhGroupNumbers`]: [...algorithms.dhGroups],
        [`${t}Phase1LifetimeSeconds`]: PHASE1_LIFETIME_SECONDS,
        [`${t}Phase2EncryptionAlgorithms`]: [...algorithms.encryption],
        [`${t}Phase2IntegrityAlgorithms`]: [...algorithms.integrity],
        [`${t}Phase2DhGroupNumbers`]: [...algorithms.dhGroups],
        [`${t}Phase2LifetimeSeconds`]: PHASE2_LIFETIME_SECONDS,
        [`${t}DpdTimeoutSeconds`]: DPD_TIMEOUT_SECONDS,
        // A dead peer's tunnel is restarted by AWS rather than left down.
        [`${t}DpdTimeoutAction`]: "restart",
        // The customer gateway starts IKE: AWS waits (a software gateway behind NAT could not be reached anyway).
        [`${t}StartupAction`]: "add",
        [`${t}InsideCidr`]: insideCidr,
        [`${t}PresharedKey`]: presharedKey,
    };
}

export class SiteToSiteVpnAccess extends pulumi.ComponentResource {
    public readonly connectionId: pulumi.Output<string>;
    /** The virtual private gateway's id (absent with a transit gateway). */
    public readonly vpnGatewayId?: pulumi.Output<string>;
    /** Everything the network team needs, keys included. A secret. */
    public readonly config: pulumi.Output<SiteToSiteVpnOutput>;

    constructor(name: string, args: SiteToSiteVpnAccessArgs, opts: pulumi.ComponentResourceOptions = {}) {
        super("orthweb:index:SiteToSiteVpnAccess", name, {}, opts);
        const tags = args.tags ?? {};
        const parent = { parent: this };
        const staticRoutes = args.bgpAsn === undefined;

        const customerGateway = new aws.ec2.CustomerGateway(
            `${name}-cgw`,
            { ipAddress: args.customerGatewayIp, bgpAsn: String(args.bgpAsn ?? STATIC_CUSTOMER_ASN), type: "ipsec.1", tags: tagsFor(`${name}-cgw`, tags) },
            parent,
        );

        const keys = [1, 2].map((n) =>
            new random.RandomPassword(`${name}-psk-${n}`, { length: PSK_LENGTH, special: true, overrideSpecial: PSK_SPECIALS, minLower: 1, minUpper: 1, minNumeric: 1 }, parent),
        );
        const psk = keys.map((k) => pulumi.secret(k.result.apply(presharedKeyFrom)));

        const gateway = args.transitGatewayId
            ? undefined
            : new aws.ec2.VpnGateway(`${name}-vgw`, { vpcId: args.vpcId, amazonSideAsn: String(AMAZON_SIDE_ASN), tags: tagsFor(`${name}-vgw`, tags) }, parent);
        const attachment = args.transitGatewayId
            ? new aws.ec2transitgateway.VpcAttachment(
                  `${name}-tgw`,
                  { transitGatewayId: args.transitGatewayId, vpcId: args.vpcId, subnetIds: args.attachmentSubnetIds, tags: tagsFor(`${name}-tgw`, tags) },
                  parent,
              )
            : undefined;

        const connection = new aws.ec2.VpnConnection(
            `${name}-connection`,
            {
                customerGatewayId: customerGateway.id,
                type: "ipsec.1",
                ...(gateway ? { vpnGatewayId: gateway.id } : { transitGatewayId: args.transitGatewayId }),
                staticRoutesOnly: staticRoutes,
                // AWS keeps the keys in a Secrets Manager secret of its own, not only in the VPN service.
                presharedKeyStorage: "SecretsManager",
                ...tunnelOptions(1, args.tunnels, args.tunnels.insideCidrs[0], psk[0]),
                ...tunnelOptions(2, args.tunnels, args.tunnels.insideCidrs[1], psk[1]),
                tags: tagsFor(`${name}-connection`, tags),
            },
            { parent: this, ignoreChanges: [...PSK_IGNORED_AFTER_CREATE] },
        );

        if (staticRoutes && gateway) {
            args.onPremisesCidrs.forEach(
                (cidr, i) => new aws.ec2.VpnConnectionRoute(`${name}-onprem-${i + 1}`, { vpnConnectionId: connection.id, destinationCidrBlock: cidr }, parent),
            );
        }
        if (gateway) {
            // Static and BGP routes alike reach the VPC's route tables by propagation from the gateway.
            args.routeTableIds.forEach(
                (routeTableId, i) => new aws.ec2.VpnGatewayRoutePropagation(`${name}-propagation-${i + 1}`, { vpnGatewayId: gateway.id, routeTableId }, parent),
            );
        } else if (attachment) {
            args.routeTableIds.forEach((routeTableId, i) =>
                args.onPremisesCidrs.forEach(
                    (cidr, j) =>
                        new aws.ec2.Route(
                            `${name}-route-${i + 1}-${j + 1}`,
                            { routeTableId, destinationCidrBlock: cidr, transitGatewayId: args.transitGatewayId },
                            { parent: this, dependsOn: [attachment] },
                        ),
                ),
            );
            if (staticRoutes) {
                if (!args.transitGatewayRouteTableId) throw new Error(`${name}: static routes on transit gateway ${args.transitGatewayId} need transitGatewayRouteTableId`);
                args.onPremisesCidrs.forEach(
                    (cidr, j) =>
                        new aws.ec2transitgateway.Route(
                            `${name}-tgw-onprem-${j + 1}`,
                            {
                                transitGatewayRouteTableId: args.transitGatewayRouteTableId!,
                                destinationCidrBlock: cidr,
                                transitGatewayAttachmentId: connection.transitGatewayAttachmentId,
                            },
                            parent,
                        ),
                );
            }
        }

        // The site reaches the instances directly (no NAT in a VPN): its ranges, on the two service ports only.
        const ingress = clientCidrIngress(args.onPremisesCidrs, args.dicomCidrs ?? args.onPremisesCidrs).map((rule) => ({
            ...rule,
            description: `${rule.port === 443 ? "HTTPS" : "DICOM TLS"} from the site ${rule.cidr} (site-to-site VPN)`,
        }));
        createCidrIngress(`${name}-onprem`, args.instanceSecurityGroupId, ingress, tags, this);

        if (args.alertTopicArn !== undefined) {
            const texts = pulumi
                .all([connection.id, connection.tunnel1Address, connection.tunnel2Address])
                .apply(([id, a1, a2]) => tunnelAlarmTexts({ connectionId: id, awsAddresses: [a1, a2], insideCidrs: args.tunnels.insideCidrs, bgp: !staticRoutes }));
            const addresses = [connection.tunnel1Address, connection.tunnel2Address];
            const common = {
                period: TUNNEL_ALARM.periodSeconds,
                evaluationPeriods: TUNNEL_ALARM.evaluationPeriods,
                comparisonOperator: "LessThanThreshold",
                threshold: 1,
                // No data means no tunnel reporting: treat as down.
                treatMissingData: "breaching",
                alarmActions: [args.alertTopicArn],
                okActions: [args.alertTopicArn],
            };
            [1, 2].forEach((n) => {
                new aws.cloudwatch.MetricAlarm(
                    `${name}-tunnel-${n}-down`,
                    {
                        ...common,
                        alarmDescription: texts.tunnel[n - 1],
                        namespace: "AWS/VPN",
                        metricName: "TunnelState",
                        dimensions: { TunnelIpAddress: addresses[n - 1] },
                        statistic: "Maximum",
                        tags: tagsFor(`${name}-tunnel-${n}-down`, tags),
                    },
                    parent,
                );
            });
            // Both down: the larger of the two tunnels' states below 1.
            new aws.cloudwatch.MetricAlarm(
                `${name}-tunnels-down`,
                {
                    ...common,
                    alarmDescription: texts.both,
                    metricQueries: [
                        ...[1, 2].map((n) => ({
                            id: `t${n}`,
                            returnData: false,
                            metric: { namespace: "AWS/VPN", metricName: "TunnelState", dimensions: { TunnelIpAddress: addresses[n - 1] }, stat: "Maximum", period: TUNNEL_ALARM.periodSeconds },
                        })),
                        { id: "up", expression: "MAX([t1, t2])", label: "best tunnel state", returnData: true },
                    ],
                    tags: tagsFor(`${name}-tunnels-down`, tags),
                },
                parent,
            );
        }

        const algorithms: TunnelAlgorithms = { encryption: args.tunnels.encryption, integrity: args.tunnels.integrity, dhGroups: args.tunnels.dhGroups };
        this.connectionId = connection.id;
        this.vpnGatewayId = gateway?.id;
        this.config = pulumi.secret(
            pulumi
                .all([connection.id, connection.tunnel1Address, connection.tunnel2Address, psk[0], psk[1]])
                .apply(([connectionId, address1, address2, key1, key2]) =>
                    siteToSiteDetails({
                        connectionId,
                        customerGatewayIp: args.customerGatewayIp,
                        awsAddresses: [address1 ?? "", address2 ?? ""],
                        presharedKeys: [key1, key2],
                        insideCidrs: args.tunnels.insideCidrs,
                        onPremisesCidrs: args.onPremisesCidrs,
                        vpcCidr: args.vpcCidr,
                        algorithms,
                        bgpAsn: args.bgpAsn,
                    }),
                ),
        );
        this.registerOutputs({ connectionId: this.connectionId });
    }
}

/** The `siteToSiteVpn` output from what AWS assigned and what was configured. Pure. */
export function siteToSiteDetails(p: {
    connectionId: string;
    customerGatewayIp: string;
    awsAddresses: readonly [string, string];
    presharedKeys: readonly [string, string];
    insideCidrs: readonly [string, string];
    onPremisesCidrs: readonly string[];
    vpcCidr: string;
    algorithms: TunnelAlgorithms;
    bgpAsn?: number;
}): SiteToSiteVpnOutput {
    const tunnels = [0, 1].map((i) => {
        const inside = insideAddresses(p.insideCidrs[i]);
        return {
            outsideAddress: { aws: p.awsAddresses[i], customerGateway: p.customerGatewayIp },
            insideCidr: p.insideCidrs[i],
            insideAddress: { aws: inside.aws, customerGateway: inside.customer },
            presharedKey: p.presharedKeys[i],
        };
    });
    const siteTunnel = (i: 0 | 1) => ({ awsAddress: p.awsAddresses[i], presharedKey: p.presharedKeys[i], insideCidr: p.insideCidrs[i] });
    return {
        connectionId: p.connectionId,
        tunnels,
        parameters: parameterSummary(p.algorithms, { bgpAsn: p.bgpAsn, amazonSideAsn: AMAZON_SIDE_ASN, staticCidrs: p.onPremisesCidrs }),
        ...siteGatewayFiles({
            customerGatewayIp: p.customerGatewayIp,
            tunnels: [siteTunnel(0), siteTunnel(1)],
            algorithms: p.algorithms,
            onPremisesCidrs: p.onPremisesCidrs,
            vpcCidr: p.vpcCidr,
            ...(p.bgpAsn !== undefined ? { bgp: { asn: p.bgpAsn, amazonAsn: AMAZON_SIDE_ASN } } : {}),
        }),
    };
}

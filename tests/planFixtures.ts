// Hand-made registration records for the plan report's specs: the OrthancPair's shape plus the front doors that
// other branches build (load balancer, DNS, client VPN), written with pulumi-aws v7 input names. Under the mocks a
// custom resource's id is `${name}-id`, so references below are written that way.
import { Registration } from "../plan/mockRuntime";
import { PrefixListInfo, TYPES } from "../plan/planModel";
import { ReportContext } from "../plan/report";

export const REGION = "eu-west-1";
export const VPC_CIDR = "172.17.0.0/16";
export const CHECKERS: PrefixListInfo = { id: "pl-0mockr53hc", name: `com.amazonaws.${REGION}.route53-healthchecks`, cidrs: ["15.177.0.0/18"] };

export function reg(type: string, name: string, inputs: Record<string, any> = {}, state: Record<string, any> = {}): Registration {
    return { type, name, custom: true, inputs, state: { ...inputs, ...state }, id: `${name}-id` };
}

export function component(type: string, name: string): Registration {
    return { type, name, custom: false, inputs: {}, state: {}, id: "" };
}

export function ingress(name: string, sg: string, port: number, peer: { cidr?: string; sg?: string; prefixList?: string }): Registration {
    return reg(TYPES.ingressRule, name, {
        securityGroupId: `${sg}-id`,
        ipProtocol: "tcp",
        fromPort: port,
        toPort: port,
        ...(peer.cidr ? { cidrIpv4: peer.cidr } : {}),
        ...(peer.sg ? { referencedSecurityGroupId: `${peer.sg}-id` } : {}),
        ...(peer.prefixList ? { prefixListId: peer.prefixList } : {}),
    });
}

const AZS = [`${REGION}a`, `${REGION}b`];
const PUBLIC_SUBNETS = AZS.map((az) => `subnet-public-${az}`);
const PRIVATE_SUBNETS = AZS.map((az) => `subnet-private-${az}`);

/** The OrthancPair as it registers: public (Elastic IPs) or private (NAT) placement. */
export function pair(placement: "public" | "private", options: { instanceType?: string; nat?: "Single" | "OnePerAz" } = {}): Registration[] {
    const isPublic = placement === "public";
    const regs: Registration[] = [
        component("orthweb:index:OrthancPair", "orthanc"),
        reg(
            TYPES.vpc,
            "orthanc-vpc",
            { cidrBlock: VPC_CIDR, numberOfAvailabilityZones: 2, natGateways: { strategy: isPublic ? "None" : (options.nat ?? "Single") } },
            {
                vpcId: "vpc-0mock",
                publicSubnetIds: PUBLIC_SUBNETS,
                privateSubnetIds: isPublic ? [] : PRIVATE_SUBNETS,
                isolatedSubnetIds: isPublic ? AZS.map((az) => `subnet-isolated-${az}`) : [],
            },
        ),
        reg(TYPES.kmsKey, "orthanc-key", { enableKeyRotation: true }),
        reg(TYPES.bucket, "orthanc-bucket"),
        reg(TYPES.securityGroup, "orthanc-db", { egress: [] }),
        reg(TYPES.securityGroup, "orthanc-instances", {
            egress: [
                { protocol: "tcp", fromPort: 443, toPort: 443, cidrBlocks: ["0.0.0.0/0"] },
                { protocol: "tcp", fromPort: 5432, toPort: 5432, securityGroups: ["orthanc-db-id"] },
            ],
        }),
        ingress("orthanc-db-from-instances", "orthanc-db", 5432, { sg: "orthanc-instances" }),
        reg("aws:rds/subnetGroup:SubnetGroup", "orthanc-db", { subnetIds: isPublic ? AZS.map((az) => `subnet-isolated-${az}`) : PRIVATE_SUBNETS }),
        reg(TYPES.rds, "orthanc-db", {
            instanceClass: "db.t4g.small",
            allocatedStorage: 20,
            storageType: "gp3",
            multiAz: false,
            publiclyAccessible: false,
            manageMasterUserPassword: true,
            vpcSecurityGroupIds: ["orthanc-db-id"],
            port: 5432,
        }),
        reg(TYPES.secret, "orthanc-admin"),
        reg(TYPES.secret, "orthanc-tls"),
        reg(TYPES.launchTemplate, "orthanc-lt", {
            instanceType: options.instanceType ?? "t3.medium",
            vpcSecurityGroupIds: ["orthanc-instances-id"],
            blockDeviceMappings: [{ deviceName: "/dev/xvda", ebs: { volumeSize: 30, volumeType: "gp3" } }],
        }),
    ];
    [0, 1].forEach((i) => {
        const subnetId = (isPublic ? PUBLIC_SUBNETS : PRIVATE_SUBNETS)[i];
        const ip = `172.17.${(i + 1) * 16}.10`;
        regs.push(
            reg(TYPES.instance, `orthanc-${i + 1}`, { launchTemplate: { id: "orthanc-lt-id", version: "1" }, subnetId }, { availabilityZone: AZS[i], privateIp: ip, privateDns: `ip-${ip.replace(/\./g, "-")}.${REGION}.compute.internal` }),
        );
        if (isPublic) {
            const publicIp = `203.0.113.${11 + i}`;
            regs.push(
                reg(TYPES.eip, `orthanc-eip-${i + 1}`, { domain: "vpc" }, { publicIp, publicDns: `ec2-${publicIp.replace(/\./g, "-")}.${REGION}.compute.amazonaws.com`, allocationId: `eipalloc-${i + 1}` }),
                reg(TYPES.eipAssociation, `orthanc-eip-${i + 1}`, { instanceId: `orthanc-${i + 1}-id`, allocationId: `eipalloc-${i + 1}` }),
            );
        }
    });
    return regs;
}

/** The direct pattern: 443 from the web blocks, 11112 from the DICOM blocks. */
export function directPlan(web = ["0.0.0.0/0"], dicom = ["0.0.0.0/0"]): Registration[] {
    return [
        ...pair("public"),
        component("orthweb:index:DirectAccess", "direct"),
        ...web.map((cidr, i) => ingress(`direct-443-${i + 1}`, "orthanc-instances", 443, { cidr })),
        ...dicom.map((cidr, i) => ingress(`direct-11112-${i + 1}`, "orthanc-instances", 11112, { cidr })),
    ];
}

export interface LbOptions {
    readonly type?: "network" | "application";
    readonly internal?: boolean;
    /** Leave out the load balancer group's egress to the instances (the NLB health checks then fail). */
    readonly withoutEgress?: boolean;
    readonly crossZone?: boolean;
}

/** A load balancer front door: NLB (TLS 443 -> TLS 443, TCP 11112 pass-through) in the public subnets. */
export function loadBalancerPlan(options: LbOptions = {}): Registration[] {
    const type = options.type ?? "network";
    const lbArn = `arn:aws:elasticloadbalancing:${REGION}:123456789012:loadbalancer/${type === "network" ? "net" : "app"}/lb/0mock`;
    const tgArn = (port: number) => `arn:aws:elasticloadbalancing:${REGION}:123456789012:targetgroup/lb-${port}/0mock`;
    const ports = type === "network" ? [443, 11112] : [443];
    const regs: Registration[] = [
        ...pair("private"),
        component("orthweb:index:LoadBalancerFrontDoor", "lb"),
        reg(TYPES.securityGroup, "lb", {
            egress: options.withoutEgress ? [] : ports.map((port) => ({ protocol: "tcp", fromPort: port, toPort: port, securityGroups: ["orthanc-instances-id"] })),
        }),
        ...ports.map((port) => ingress(`lb-in-${port}`, "lb", port, { cidr: "0.0.0.0/0" })),
        ...ports.map((port) => ingress(`lb-to-instances-${port}`, "orthanc-instances", port, { sg: "lb" })),
        reg(
            TYPES.loadBalancer,
            "lb",
            {
                loadBalancerType: type,
                internal: options.internal ?? false,
                securityGroups: ["lb-id"],
                subnets: PUBLIC_SUBNETS,
                ...(options.crossZone === undefined ? {} : { enableCrossZoneLoadBalancing: options.crossZone }),
            },
            { arn: lbArn, dnsName: `lb-0mock.elb.${REGION}.amazonaws.com` },
        ),
    ];
    for (const port of ports) {
        regs.push(
            reg(
                TYPES.targetGroup,
                `lb-${port}`,
                {
                    port,
                    protocol: type === "application" ? "HTTPS" : port === 443 ? "TLS" : "TCP",
                    deregistrationDelay: 30,
                    healthCheck: { protocol: "HTTPS", path: "/healthz", port: "443", interval: 10, healthyThreshold: 3, unhealthyThreshold: 2 },
                },
                { arn: tgArn(port) },
            ),
            reg(TYPES.listener, `lb-${port}`, {
                loadBalancerArn: lbArn,
                port,
                protocol: port === 443 ? (type === "application" ? "HTTPS" : "TLS") : "TCP",
                ...(port === 443 ? { certificateArn: "arn:aws:acm:eu-west-1:123456789012:certificate/lb", sslPolicy: "ELBSecurityPolicy-TLS13-1-2-2021-06" } : {}),
                defaultActions: [{ type: "forward", targetGroupArn: tgArn(port) }],
            }),
            ...[1, 2].map((i) => reg(TYPES.targetGroupAttachment, `lb-${port}-${i}`, { targetGroupArn: tgArn(port), targetId: `orthanc-${i}-id`, port })),
        );
    }
    regs.push(reg(TYPES.record, "lb-alias", { name: "pacs.example.org", type: "A", aliases: [{ name: `lb-0mock.elb.${REGION}.amazonaws.com`, zoneId: "Z2IFOLAFXWLO4F", evaluateTargetHealth: true }] }));
    if (type === "application") {
        regs.push(
            reg(TYPES.webAcl, "lb-waf", { scope: "REGIONAL", rules: [{ name: "common" }, { name: "bad-inputs" }, { name: "ip-reputation" }] }, { arn: "arn:aws:wafv2:eu-west-1:123456789012:regional/webacl/lb-waf/0mock" }),
            reg(TYPES.webAclAssociation, "lb-waf", { resourceArn: lbArn, webAclArn: "arn:aws:wafv2:eu-west-1:123456789012:regional/webacl/lb-waf/0mock" }),
        );
    }
    return regs;
}

/** A DNS front door: multivalue A records per instance, each with a calculated check of HTTPS 443 + TCP 11112. */
export function dnsPlan(options: { withoutCheckerRules?: boolean; routing?: "multivalue" | "failover"; ttl?: number } = {}): Registration[] {
    const regs: Registration[] = [
        ...pair("public"),
        component("orthweb:index:DnsFrontDoor", "dns"),
        ingress("dns-443-1", "orthanc-instances", 443, { cidr: "0.0.0.0/0" }),
        ingress("dns-11112-1", "orthanc-instances", 11112, { cidr: "0.0.0.0/0" }),
    ];
    if (!options.withoutCheckerRules) {
        regs.push(ingress("dns-healthcheckers-443", "orthanc-instances", 443, { prefixList: CHECKERS.id }), ingress("dns-healthcheckers-11112", "orthanc-instances", 11112, { prefixList: CHECKERS.id }));
    }
    [1, 2].forEach((i) => {
        const ip = `203.0.113.${10 + i}`;
        regs.push(
            reg(TYPES.healthCheck, `dns-${i}-https`, { type: "HTTPS", ipAddress: ip, port: 443, resourcePath: "/healthz", fqdn: "pacs.example.org", enableSni: true, requestInterval: 10, failureThreshold: 2 }),
            reg(TYPES.healthCheck, `dns-${i}-dicom`, { type: "TCP", ipAddress: ip, port: 11112, requestInterval: 10, failureThreshold: 2 }),
            reg(TYPES.healthCheck, `dns-${i}`, { type: "CALCULATED", childHealthchecks: [`dns-${i}-https-id`, `dns-${i}-dicom-id`], childHealthThreshold: 2 }),
            reg(TYPES.record, `dns-${i}`, {
                zoneId: "Z0MOCKZONE",
                name: "pacs.example.org",
                type: "A",
                ttl: options.ttl ?? 60,
                records: [ip],
                setIdentifier: `dns-${i}`,
                healthCheckId: `dns-${i}-id`,
                ...((options.routing ?? "multivalue") === "multivalue" ? { multivalueAnswerRoutingPolicy: true } : { failoverRoutingPolicies: [{ type: i === 1 ? "PRIMARY" : "SECONDARY" }] }),
            }),
        );
    });
    return regs;
}

/** A client VPN (pattern `none`): the endpoint's group is the only one the instances admit. */
export function vpnPlan(options: { withoutAuthorization?: boolean; associations?: number } = {}): Registration[] {
    const associations = options.associations ?? 2;
    return [
        ...pair("private"),
        component("orthweb:index:ClientVpnAccess", "vpn"),
        reg(TYPES.securityGroup, "vpn", {
            vpcId: "vpc-0mock",
            egress: [443, 11112].map((port) => ({ protocol: "tcp", fromPort: port, toPort: port, securityGroups: ["orthanc-instances-id"] })),
        }),
        ingress("vpn-443", "orthanc-instances", 443, { sg: "vpn" }),
        ingress("vpn-11112", "orthanc-instances", 11112, { sg: "vpn" }),
        reg(
            TYPES.vpnEndpoint,
            "vpn",
            { clientCidrBlock: "192.168.0.0/22", securityGroupIds: ["vpn-id"], vpcId: "vpc-0mock", transportProtocol: "udp", vpnPort: 443, splitTunnel: true },
            { dnsName: `*.cvpn-endpoint-0mock.prod.clientvpn.${REGION}.amazonaws.com` },
        ),
        ...PRIVATE_SUBNETS.slice(0, associations).map((subnetId, i) => reg(TYPES.vpnAssociation, `vpn-${i + 1}`, { clientVpnEndpointId: "vpn-id", subnetId })),
        ...(options.withoutAuthorization ? [] : [reg(TYPES.vpnAuthorization, "vpn", { clientVpnEndpointId: "vpn-id", targetNetworkCidr: VPC_CIDR, authorizeAllGroups: true })]),
    ];
}

export function context(overrides: Partial<ReportContext> = {}): ReportContext {
    return { stack: "fixture", region: REGION, webClientCidrs: ["0.0.0.0/0"], dicomClientCidrs: ["0.0.0.0/0"], aet: "ORTHANC", prefixLists: [CHECKERS], ...overrides };
}

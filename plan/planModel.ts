// A typed view over the registrations of one mocked run: hosts, subnets, security group rules, load balancers,
// DNS records and VPN endpoints, resolved through the references the program wired between them. Pure; the
// report sections (reachability, endpoints, failover, cost, diagram) read the plan through it only.
//
// Under the mocks a custom resource's id is `${name}-id` and ARNs come from computedState, so a reference
// (securityGroupId, loadBalancerArn, targetId, healthCheckId, ...) resolves to the registration that holds it.
import { Registration } from "./mockRuntime";
import { isIpv4Address } from "../rules/cidr";
import { SLOT_TAGS } from "../rules/rollout";

/** The type tokens the report understands (pulumi-aws v7 names; aws:alb/* aliases of aws:lb/* too). */
export const TYPES = {
    vpc: "awsx:ec2:Vpc",
    subnet: "aws:ec2/subnet:Subnet",
    instance: "aws:ec2/instance:Instance",
    launchTemplate: "aws:ec2/launchTemplate:LaunchTemplate",
    securityGroup: "aws:ec2/securityGroup:SecurityGroup",
    ingressRule: "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",
    egressRule: "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule",
    legacyRule: "aws:ec2/securityGroupRule:SecurityGroupRule",
    eip: "aws:ec2/eip:Eip",
    eipAssociation: "aws:ec2/eipAssociation:EipAssociation",
    natGateway: "aws:ec2/natGateway:NatGateway",
    vpcEndpoint: "aws:ec2/vpcEndpoint:VpcEndpoint",
    rds: "aws:rds/instance:Instance",
    bucket: "aws:s3/bucket:Bucket",
    bucketV2: "aws:s3/bucketV2:BucketV2",
    kmsKey: "aws:kms/key:Key",
    secret: "aws:secretsmanager/secret:Secret",
    loadBalancer: "aws:lb/loadBalancer:LoadBalancer",
    targetGroup: "aws:lb/targetGroup:TargetGroup",
    listener: "aws:lb/listener:Listener",
    targetGroupAttachment: "aws:lb/targetGroupAttachment:TargetGroupAttachment",
    autoscalingGroup: "aws:autoscaling/group:Group",
    autoscalingAttachment: "aws:autoscaling/attachment:Attachment",
    healthCheck: "aws:route53/healthCheck:HealthCheck",
    record: "aws:route53/record:Record",
    vpnEndpoint: "aws:ec2clientvpn/endpoint:Endpoint",
    vpnAssociation: "aws:ec2clientvpn/networkAssociation:NetworkAssociation",
    vpnAuthorization: "aws:ec2clientvpn/authorizationRule:AuthorizationRule",
    webAcl: "aws:wafv2/webAcl:WebAcl",
    webAclAssociation: "aws:wafv2/webAclAssociation:WebAclAssociation",
    logGroup: "aws:cloudwatch/logGroup:LogGroup",
} as const;

const ALB_ALIASES: Record<string, string> = {
    "aws:alb/loadBalancer:LoadBalancer": TYPES.loadBalancer,
    "aws:alb/targetGroup:TargetGroup": TYPES.targetGroup,
    "aws:alb/listener:Listener": TYPES.listener,
    "aws:alb/targetGroupAttachment:TargetGroupAttachment": TYPES.targetGroupAttachment,
};

/** The canonical token of a registration's type (aws:alb/* -> aws:lb/*). */
export function canonicalType(type: string): string {
    return ALB_ALIASES[type] ?? type;
}

// Pulumi's wire marker for a secret: inputs hold { [SIG]: SECRET, value } where the program passed a secret.
const SECRET_SIGNATURE_KEY = "4dabf18193072939515e22adb298388d";
const SECRET_SIGNATURE = "1b47061264138c4ac30d75fd1eb44270";

/** A value with every secret wrapper removed (the report only reads structural fields, never prints secrets). */
export function plain(value: unknown): any {
    if (Array.isArray(value)) return value.map(plain);
    if (value && typeof value === "object") {
        const obj = value as Record<string, unknown>;
        if (obj[SECRET_SIGNATURE_KEY] === SECRET_SIGNATURE) return plain(obj.value);
        const out: Record<string, unknown> = {};
        for (const [k, v] of Object.entries(obj)) out[k] = plain(v);
        return out;
    }
    return value;
}

function list(value: unknown): any[] {
    const v = plain(value);
    if (v === undefined || v === null || v === "") return [];
    return Array.isArray(v) ? v.filter((x) => x !== undefined && x !== null && x !== "") : [v];
}

function num(value: unknown): number | undefined {
    const v = plain(value);
    if (typeof v === "number" && Number.isFinite(v)) return v;
    if (typeof v === "string" && v.trim() !== "" && Number.isFinite(Number(v))) return Number(v);
    return undefined;
}

function bool(value: unknown): boolean | undefined {
    const v = plain(value);
    if (typeof v === "boolean") return v;
    if (v === "true") return true;
    if (v === "false") return false;
    return undefined;
}

function str(value: unknown): string | undefined {
    const v = plain(value);
    return typeof v === "string" && v !== "" ? v : undefined;
}

export type SubnetKind = "public" | "private" | "isolated";

export interface SubnetInfo {
    readonly id: string;
    readonly kind: SubnetKind;
}

export type Peer =
    | { readonly kind: "cidr"; readonly cidr: string }
    | { readonly kind: "securityGroup"; readonly id: string }
    | { readonly kind: "prefixList"; readonly id: string }
    | { readonly kind: "self" };

export interface SgRule {
    /** The rule's resource name, or `<group> ingress[i]` / `<group> egress[i]` for inline rules. */
    readonly name: string;
    readonly direction: "ingress" | "egress";
    readonly securityGroupId: string;
    /** tcp, udp, icmp ... or "all" (-1). */
    readonly protocol: string;
    readonly fromPort: number;
    readonly toPort: number;
    readonly peer: Peer;
    readonly description?: string;
}

export interface SecurityGroupInfo {
    readonly id: string;
    readonly name: string;
    readonly description?: string;
}

export interface Host {
    readonly kind: "instance" | "database";
    readonly name: string;
    readonly id: string;
    readonly securityGroupIds: string[];
    readonly subnet?: SubnetInfo;
    readonly availabilityZone?: string;
    /** Reachable from the internet: a public address in a public subnet (instances) or publicly accessible (RDS). */
    readonly isPublic: boolean;
    readonly publicIp?: string;
    readonly publicDns?: string;
    readonly privateIp?: string;
    readonly privateDns?: string;
    readonly size?: string;
    readonly port?: number;
    /** EBS volumes an instance boots with (launch template or instance block devices). */
    readonly volumes?: { readonly type: string; readonly gib: number }[];
}

export interface HealthCheckSettings {
    readonly protocol?: string;
    readonly path?: string;
    /** A number, or "traffic-port". */
    readonly port?: string;
    readonly intervalSeconds?: number;
    readonly healthyThreshold?: number;
    readonly unhealthyThreshold?: number;
}

export interface TargetGroupInfo {
    readonly name: string;
    readonly arn: string;
    readonly port?: number;
    readonly protocol?: string;
    readonly healthCheck: HealthCheckSettings;
    readonly deregistrationDelay?: number;
    /** Registration names of the instances attached. */
    readonly targets: string[];
}

export interface ListenerInfo {
    readonly name: string;
    readonly port?: number;
    readonly protocol?: string;
    readonly certificateArn?: string;
    readonly sslPolicy?: string;
    /** Forwarded to (names); empty for redirect/fixed-response listeners. */
    readonly targetGroups: TargetGroupInfo[];
    /** The default action types: forward, redirect, fixed-response ... */
    readonly actions: string[];
}

export interface LoadBalancerInfo {
    readonly name: string;
    readonly arn: string;
    readonly type: "network" | "application" | "gateway";
    readonly internal: boolean;
    readonly securityGroupIds: string[];
    readonly subnets: SubnetInfo[];
    readonly subnetIds: string[];
    readonly dnsName?: string;
    readonly crossZone?: boolean;
    readonly listeners: ListenerInfo[];
    /** Names of the Route 53 alias records that point at it. */
    readonly aliasNames: string[];
    /** WAF web ACLs associated with it. */
    readonly webAcls: string[];
}

export interface DnsHealthCheckInfo {
    readonly name: string;
    readonly id: string;
    readonly type: string;
    readonly ipAddress?: string;
    readonly fqdn?: string;
    readonly port?: number;
    readonly path?: string;
    readonly intervalSeconds: number;
    readonly failureThreshold: number;
    /** Only for CALCULATED checks. */
    readonly children: DnsHealthCheckInfo[];
    readonly childHealthThreshold?: number;
    /** Defaults that AWS applies, because the check left them unset. */
    readonly defaulted: string[];
}

export type DnsRouting = "multivalue" | "weighted" | "failover" | "latency" | "geolocation" | "simple";

export interface DnsRecordInfo {
    readonly name: string;
    readonly resource: string;
    readonly type: string;
    readonly ttl?: number;
    readonly setIdentifier?: string;
    readonly routing: DnsRouting;
    /** PRIMARY / SECONDARY with failover routing. */
    readonly failoverRole?: string;
    readonly values: string[];
    readonly aliasTargets: string[];
    readonly healthCheck?: DnsHealthCheckInfo;
}

export interface VpnEndpointInfo {
    readonly name: string;
    readonly id: string;
    readonly securityGroupIds: string[];
    readonly clientCidrBlock?: string;
    readonly dnsName?: string;
    readonly transport: string;
    readonly port: number;
    readonly splitTunnel?: boolean;
    readonly associatedSubnets: SubnetInfo[];
    readonly associations: number;
    readonly authorizedCidrs: string[];
}

export interface PrefixListInfo {
    readonly id: string;
    readonly name: string;
    readonly cidrs: string[];
}

/** What the plan holds, with the references resolved. */
export interface PlanModel {
    readonly registrations: readonly Registration[];
    readonly vpcCidrs: string[];
    readonly natGateways: number;
    readonly subnets: Map<string, SubnetInfo>;
    readonly securityGroups: Map<string, SecurityGroupInfo>;
    readonly rules: SgRule[];
    readonly instances: Host[];
    readonly databases: Host[];
    readonly loadBalancers: LoadBalancerInfo[];
    readonly dnsRecords: DnsRecordInfo[];
    readonly dnsHealthChecks: DnsHealthCheckInfo[];
    readonly vpnEndpoints: VpnEndpointInfo[];
    readonly prefixLists: Map<string, PrefixListInfo>;
    ofType(type: string): Registration[];
    /** The registration a reference (id or ARN) points at. */
    resolve(ref: unknown): Registration | undefined;
    securityGroupName(id: string): string;
}

const NAT_COUNT: Record<string, (azs: number) => number> = { None: () => 0, Single: () => 1, OnePerAz: (azs) => azs };

/** Builds the model. `prefixLists` are the managed prefix lists the program looked up (id, name, entries). */
export function buildModel(registrations: readonly Registration[], prefixLists: readonly PrefixListInfo[] = []): PlanModel {
    const custom = registrations.filter((r) => r.custom);
    const byType = new Map<string, Registration[]>();
    for (const r of registrations) {
        const t = canonicalType(r.type);
        byType.set(t, [...(byType.get(t) ?? []), r]);
    }
    const ofType = (type: string) => byType.get(type) ?? [];
    const byRef = new Map<string, Registration>();
    for (const r of custom) {
        if (r.id) byRef.set(r.id, r);
        const arn = str(r.state.arn);
        if (arn) byRef.set(arn, r);
    }
    const resolve = (ref: unknown) => {
        const key = str(ref);
        return key === undefined ? undefined : byRef.get(key);
    };

    // Subnets: the awsx VPC's lists (its children never register under mocks), and plain aws.ec2.Subnets.
    const subnets = new Map<string, SubnetInfo>();
    const vpcCidrs: string[] = [];
    let natGateways = ofType(TYPES.natGateway).length;
    for (const vpc of ofType(TYPES.vpc)) {
        const cidr = str(vpc.inputs.cidrBlock);
        if (cidr) vpcCidrs.push(cidr);
        const lists: [SubnetKind, unknown][] = [
            ["public", vpc.state.publicSubnetIds],
            ["private", vpc.state.privateSubnetIds],
            ["isolated", vpc.state.isolatedSubnetIds],
        ];
        for (const [kind, ids] of lists) list(ids).forEach((id) => subnets.set(String(id), { id: String(id), kind }));
        // awsx defaults: three AZs, one NAT gateway per AZ.
        const azs = num(vpc.inputs.numberOfAvailabilityZones) ?? (list(vpc.inputs.availabilityZoneNames).length || 3);
        const strategy = str(plain(vpc.inputs.natGateways)?.strategy) ?? "OnePerAz";
        natGateways += (NAT_COUNT[strategy] ?? NAT_COUNT.OnePerAz)(azs);
    }
    for (const s of ofType(TYPES.subnet)) {
        const kind: SubnetKind = bool(s.inputs.mapPublicIpOnLaunch) ? "public" : "private";
        subnets.set(s.id, { id: s.id, kind });
        const cidr = str(s.inputs.cidrBlock);
        if (cidr && vpcCidrs.length === 0) vpcCidrs.push(cidr);
    }

    const securityGroups = new Map<string, SecurityGroupInfo>();
    for (const sg of ofType(TYPES.securityGroup)) securityGroups.set(sg.id, { id: sg.id, name: sg.name, description: str(sg.inputs.description) });
    const securityGroupName = (id: string) => securityGroups.get(id)?.name ?? id;

    const rules = collectRules(ofType);
    const instances = collectInstances(ofType, resolve, subnets);
    const databases = ofType(TYPES.rds).map((db): Host => {
        const groups = ofType("aws:rds/subnetGroup:SubnetGroup");
        const wanted = str(db.inputs.dbSubnetGroupName);
        // Auto-named groups have no name until created: with a single group in the plan, it is that one.
        const subnetGroup = groups.find((g) => wanted !== undefined && (str(g.state.name) === wanted || g.id === wanted)) ?? (groups.length === 1 ? groups[0] : undefined);
        const dbSubnets = list(subnetGroup?.inputs.subnetIds).map((id) => subnets.get(String(id))).filter((s): s is SubnetInfo => !!s);
        return {
            kind: "database",
            name: db.name,
            id: db.id,
            securityGroupIds: list(db.inputs.vpcSecurityGroupIds).map(String),
            subnet: dbSubnets[0],
            // RDS is reachable from the internet only when publicly accessible AND in subnets with an internet route.
            isPublic: bool(db.inputs.publiclyAccessible) === true && dbSubnets.some((s) => s.kind === "public"),
            privateDns: str(db.state.address),
            size: str(db.inputs.instanceClass),
            port: num(db.inputs.port) ?? 5432,
        };
    });

    const prefixListMap = new Map(prefixLists.map((p) => [p.id, p]));
    const dnsHealthChecks = collectHealthChecks(ofType);
    const dnsRecords = collectRecords(ofType, dnsHealthChecks);
    const loadBalancers = collectLoadBalancers(ofType, resolve, subnets, dnsRecords, instances);
    const vpnEndpoints = collectVpnEndpoints(ofType, subnets);

    return {
        registrations,
        vpcCidrs,
        natGateways,
        subnets,
        securityGroups,
        rules,
        instances,
        databases,
        loadBalancers,
        dnsRecords,
        dnsHealthChecks,
        vpnEndpoints,
        prefixLists: prefixListMap,
        ofType,
        resolve,
        securityGroupName,
    };
}

function protocolOf(value: unknown): string {
    const p = String(plain(value) ?? "all").toLowerCase();
    return p === "-1" || p === "all" ? "all" : p;
}

function portRange(protocol: string, from: unknown, to: unknown): [number, number] {
    if (protocol === "all") return [0, 65535];
    const f = num(from);
    const t = num(to);
    if (f === undefined || f < 0) return [0, 65535];
    return [f, t === undefined || t < 0 ? f : t];
}

function collectRules(ofType: (t: string) => Registration[]): SgRule[] {
    const rules: SgRule[] = [];
    const push = (base: Omit<SgRule, "peer">, peers: Peer[]) => peers.forEach((peer) => rules.push({ ...base, peer }));
    const peersOf = (entry: Record<string, unknown>, self: boolean): Peer[] => [
        ...list(entry.cidrBlocks).map((cidr): Peer => ({ kind: "cidr", cidr: String(cidr) })),
        ...list(entry.securityGroups).map((id): Peer => ({ kind: "securityGroup", id: String(id) })),
        ...list(entry.prefixListIds).map((id): Peer => ({ kind: "prefixList", id: String(id) })),
        ...(self ? [{ kind: "self" } as Peer] : []),
    ];
    for (const sg of ofType(TYPES.securityGroup)) {
        for (const direction of ["ingress", "egress"] as const) {
            list(sg.inputs[direction]).forEach((entry: Record<string, unknown>, i: number) => {
                const protocol = protocolOf(entry.protocol);
                const [fromPort, toPort] = portRange(protocol, entry.fromPort, entry.toPort);
                push(
                    { name: `${sg.name} ${direction}[${i}]`, direction, securityGroupId: sg.id, protocol, fromPort, toPort, description: str(entry.description) },
                    peersOf(entry, bool(entry.self) === true),
                );
            });
        }
    }
    for (const [type, direction] of [
        [TYPES.ingressRule, "ingress"],
        [TYPES.egressRule, "egress"],
    ] as const) {
        for (const r of ofType(type)) {
            const protocol = protocolOf(r.inputs.ipProtocol);
            const [fromPort, toPort] = portRange(protocol, r.inputs.fromPort, r.inputs.toPort);
            const peers: Peer[] = [];
            if (str(r.inputs.cidrIpv4)) peers.push({ kind: "cidr", cidr: str(r.inputs.cidrIpv4)! });
            if (str(r.inputs.cidrIpv6)) peers.push({ kind: "cidr", cidr: str(r.inputs.cidrIpv6)! });
            if (str(r.inputs.referencedSecurityGroupId)) peers.push({ kind: "securityGroup", id: str(r.inputs.referencedSecurityGroupId)! });
            if (str(r.inputs.prefixListId)) peers.push({ kind: "prefixList", id: str(r.inputs.prefixListId)! });
            push({ name: r.name, direction, securityGroupId: String(plain(r.inputs.securityGroupId)), protocol, fromPort, toPort, description: str(r.inputs.description) }, peers);
        }
    }
    for (const r of ofType(TYPES.legacyRule)) {
        const direction = str(r.inputs.type) === "egress" ? "egress" : "ingress";
        const protocol = protocolOf(r.inputs.protocol);
        const [fromPort, toPort] = portRange(protocol, r.inputs.fromPort, r.inputs.toPort);
        const peers: Peer[] = [
            ...list(r.inputs.cidrBlocks).map((cidr): Peer => ({ kind: "cidr", cidr: String(cidr) })),
            ...(str(r.inputs.sourceSecurityGroupId) ? [{ kind: "securityGroup", id: str(r.inputs.sourceSecurityGroupId)! } as Peer] : []),
            ...list(r.inputs.prefixListIds).map((id): Peer => ({ kind: "prefixList", id: String(id) })),
            ...(bool(r.inputs.self) ? [{ kind: "self" } as Peer] : []),
        ];
        push({ name: r.name, direction, securityGroupId: String(plain(r.inputs.securityGroupId)), protocol, fromPort, toPort, description: str(r.inputs.description) }, peers);
    }
    return rules;
}

function collectInstances(ofType: (t: string) => Registration[], resolve: (ref: unknown) => Registration | undefined, subnets: Map<string, SubnetInfo>): Host[] {
    const eipByInstance = new Map<string, Registration>();
    const eipByAllocation = (allocationId: string | undefined) => (allocationId ? ofType(TYPES.eip).find((e) => str(e.state.allocationId) === allocationId) : undefined);
    for (const assoc of ofType(TYPES.eipAssociation)) {
        const eip = resolve(assoc.inputs.allocationId) ?? eipByAllocation(str(assoc.inputs.allocationId));
        const instanceId = str(assoc.inputs.instanceId);
        if (eip && instanceId) eipByInstance.set(instanceId, eip);
    }
    for (const eip of ofType(TYPES.eip)) {
        const instanceId = str(eip.inputs.instance);
        if (instanceId) eipByInstance.set(instanceId, eip);
    }
    const templateOf = (ref: unknown) => resolve(plain(ref)?.id) ?? ofType(TYPES.launchTemplate).find((t) => t.name === str(plain(ref)?.name));
    const host = (reg: Registration, template: Registration | undefined, subnetId: string | undefined, eip: Registration | undefined, privateIp: string | undefined): Host => {
        const templateNic = list(template?.inputs.networkInterfaces)[0] as Record<string, unknown> | undefined;
        const securityGroupIds = [
            ...list(reg.inputs.vpcSecurityGroupIds),
            ...list(reg.inputs.securityGroups),
            ...list(template?.inputs.vpcSecurityGroupIds),
            ...list(templateNic?.securityGroups),
        ].map(String);
        const subnet = (subnetId ?? str(templateNic?.subnetId)) ? subnets.get((subnetId ?? str(templateNic?.subnetId))!) : undefined;
        const autoPublic = bool(reg.inputs.associatePublicIpAddress) ?? bool(templateNic?.associatePublicIpAddress) ?? false;
        const hasPublicAddress = eip !== undefined || autoPublic;
        const volumes = [
            ...list(template?.inputs.blockDeviceMappings).map((m: Record<string, unknown>) => plain(m.ebs) ?? {}),
            ...list(reg.inputs.rootBlockDevice),
            ...list(reg.inputs.ebsBlockDevices),
        ]
            .map((v: Record<string, unknown>) => ({ type: str(v.volumeType) ?? "gp3", gib: num(v.volumeSize) ?? 0 }))
            .filter((v) => v.gib > 0);
        return {
            kind: "instance",
            name: reg.name,
            id: reg.id,
            securityGroupIds: [...new Set(securityGroupIds)],
            subnet,
            availabilityZone: str(reg.state.availabilityZone) ?? str(list(reg.state.availabilityZones)[0]),
            isPublic: hasPublicAddress && subnet?.kind === "public",
            publicIp: str(eip?.state.publicIp) ?? str(reg.state.publicIp),
            publicDns: str(eip?.state.publicDns) ?? str(reg.state.publicDns),
            privateIp: privateIp ?? str(reg.state.privateIp),
            privateDns: str(reg.state.privateDns),
            size: str(reg.inputs.instanceType) ?? str(template?.inputs.instanceType),
            volumes,
        };
    };
    const instances = ofType(TYPES.instance).map((inst) => host(inst, templateOf(inst.inputs.launchTemplate), str(inst.inputs.subnetId), eipByInstance.get(inst.id), undefined));
    // A slot: an Auto Scaling group of one, whose instance takes the address its tag names (an EIP or a private address).
    const slots = ofType(TYPES.autoscalingGroup)
        .filter((group) => (num(group.inputs.desiredCapacity) ?? num(group.inputs.minSize) ?? 0) === 1)
        .map((group) => {
            const address = str(plain(list(group.inputs.tags).map(plain).find((t: Record<string, unknown>) => t?.key === SLOT_TAGS.address)?.value));
            const eip = address?.startsWith("eipalloc-") ? eipByAllocation(address) : undefined;
            const privateIp = isIpv4Address(address) ? address : undefined;
            return host(group, templateOf(group.inputs.launchTemplate), str(list(group.inputs.vpcZoneIdentifiers)[0]), eip, privateIp);
        });
    return [...instances, ...slots];
}

/** Route 53's defaults when a check leaves them unset: 30 s interval, 3 failures. */
export const ROUTE53_DEFAULT_INTERVAL = 30;
export const ROUTE53_DEFAULT_FAILURE_THRESHOLD = 3;

function collectHealthChecks(ofType: (t: string) => Registration[]): DnsHealthCheckInfo[] {
    const regs = ofType(TYPES.healthCheck);
    const byId = new Map(regs.map((r) => [r.id, r]));
    const build = (r: Registration, depth: number): DnsHealthCheckInfo => {
        const defaulted: string[] = [];
        const type = (str(r.inputs.type) ?? "HTTP").toUpperCase();
        let interval = num(r.inputs.requestInterval);
        let threshold = num(r.inputs.failureThreshold);
        if (type !== "CALCULATED") {
            if (interval === undefined) defaulted.push(`requestInterval ${(interval = ROUTE53_DEFAULT_INTERVAL)} s (Route 53 default)`);
            if (threshold === undefined) defaulted.push(`failureThreshold ${(threshold = ROUTE53_DEFAULT_FAILURE_THRESHOLD)} (Route 53 default)`);
        }
        const children =
            depth > 3 ? [] : list(r.inputs.childHealthchecks).map((id) => byId.get(String(id))).filter((c): c is Registration => !!c).map((c) => build(c, depth + 1));
        const defaultPort = type.startsWith("HTTPS") ? 443 : type.startsWith("HTTP") ? 80 : undefined;
        return {
            name: r.name,
            id: r.id,
            type,
            ipAddress: str(r.inputs.ipAddress),
            fqdn: str(r.inputs.fqdn),
            port: num(r.inputs.port) ?? defaultPort,
            path: str(r.inputs.resourcePath),
            // A calculated check is as slow as its slowest child.
            intervalSeconds: interval ?? Math.max(0, ...children.map((c) => c.intervalSeconds)),
            failureThreshold: threshold ?? Math.max(0, ...children.map((c) => c.failureThreshold)),
            children,
            childHealthThreshold: num(r.inputs.childHealthThreshold),
            defaulted: [...defaulted, ...children.flatMap((c) => c.defaulted.map((d) => `${c.name}: ${d}`))],
        };
    };
    return regs.map((r) => build(r, 0));
}

function collectRecords(ofType: (t: string) => Registration[], checks: DnsHealthCheckInfo[]): DnsRecordInfo[] {
    return ofType(TYPES.record).map((r): DnsRecordInfo => {
        const failover = list(r.inputs.failoverRoutingPolicies)[0] as Record<string, unknown> | undefined;
        const routing: DnsRouting =
            bool(r.inputs.multivalueAnswerRoutingPolicy) === true
                ? "multivalue"
                : list(r.inputs.weightedRoutingPolicies).length > 0
                  ? "weighted"
                  : failover
                    ? "failover"
                    : list(r.inputs.latencyRoutingPolicies).length > 0
                      ? "latency"
                      : list(r.inputs.geolocationRoutingPolicies).length > 0
                        ? "geolocation"
                        : "simple";
        const healthCheckId = str(r.inputs.healthCheckId);
        return {
            name: (str(r.inputs.name) ?? r.name).replace(/\.$/, ""),
            resource: r.name,
            type: str(r.inputs.type) ?? "A",
            ttl: num(r.inputs.ttl),
            setIdentifier: str(r.inputs.setIdentifier),
            routing,
            failoverRole: str(failover?.type),
            values: list(r.inputs.records).map(String),
            aliasTargets: list(r.inputs.aliases).map((a: Record<string, unknown>) => String(plain(a.name) ?? "").replace(/\.$/, "").toLowerCase()),
            healthCheck: healthCheckId ? checks.find((c) => c.id === healthCheckId) : undefined,
        };
    });
}

function collectLoadBalancers(
    ofType: (t: string) => Registration[],
    resolve: (ref: unknown) => Registration | undefined,
    subnets: Map<string, SubnetInfo>,
    records: DnsRecordInfo[],
    instances: Host[],
): LoadBalancerInfo[] {
    const instanceById = new Map(instances.map((i) => [i.id, i]));
    const groupByName = new Map(ofType(TYPES.autoscalingGroup).map((g) => [str(g.state.name) ?? g.name, g]));
    const targetGroups = new Map<string, TargetGroupInfo>();
    for (const tg of ofType(TYPES.targetGroup)) {
        const hc = (list(tg.inputs.healthCheck)[0] ?? {}) as Record<string, unknown>;
        const targets = [
            ...ofType(TYPES.targetGroupAttachment)
                .filter((a) => resolve(a.inputs.targetGroupArn) === tg)
                .map((a) => instanceById.get(String(plain(a.inputs.targetId)))?.name ?? String(plain(a.inputs.targetId))),
            // A slot's group registers whichever instance holds the slot.
            ...ofType(TYPES.autoscalingAttachment)
                .filter((a) => resolve(a.inputs.lbTargetGroupArn) === tg)
                .map((a) => groupByName.get(String(plain(a.inputs.autoscalingGroupName)))?.name ?? String(plain(a.inputs.autoscalingGroupName))),
        ];
        const info: TargetGroupInfo = {
            name: tg.name,
            arn: str(tg.state.arn) ?? tg.id,
            port: num(tg.inputs.port),
            protocol: str(tg.inputs.protocol),
            healthCheck: {
                protocol: str(hc.protocol),
                path: str(hc.path),
                port: hc.port === undefined ? undefined : String(plain(hc.port)),
                intervalSeconds: num(hc.interval),
                healthyThreshold: num(hc.healthyThreshold),
                unhealthyThreshold: num(hc.unhealthyThreshold),
            },
            deregistrationDelay: num(tg.inputs.deregistrationDelay),
            targets,
        };
        targetGroups.set(tg.id, info);
        if (str(tg.state.arn)) targetGroups.set(str(tg.state.arn)!, info);
    }
    const listenersOf = (lb: Registration): ListenerInfo[] =>
        ofType(TYPES.listener)
            .filter((l) => resolve(l.inputs.loadBalancerArn) === lb)
            .map((l) => {
                const actions = list(l.inputs.defaultActions) as Record<string, unknown>[];
                const tgArns = actions.flatMap((a) => [
                    ...list(a.targetGroupArn),
                    ...list(plain(a.forward)?.targetGroups).map((t: Record<string, unknown>) => plain(t.arn)),
                ]);
                return {
                    name: l.name,
                    port: num(l.inputs.port),
                    protocol: str(l.inputs.protocol),
                    certificateArn: str(l.inputs.certificateArn),
                    sslPolicy: str(l.inputs.sslPolicy),
                    targetGroups: tgArns.map((arn) => targetGroups.get(String(arn))).filter((t): t is TargetGroupInfo => !!t),
                    actions: actions.map((a) => str(a.type) ?? "forward"),
                };
            });
    return ofType(TYPES.loadBalancer).map((lb): LoadBalancerInfo => {
        const subnetIds = [...list(lb.inputs.subnets), ...list(lb.inputs.subnetMappings).map((m: Record<string, unknown>) => plain(m.subnetId))].map(String);
        const dnsName = str(lb.state.dnsName);
        const arn = str(lb.state.arn) ?? lb.id;
        const type = (str(lb.inputs.loadBalancerType) ?? "application") as LoadBalancerInfo["type"];
        return {
            name: lb.name,
            arn,
            type,
            internal: bool(lb.inputs.internal) === true,
            securityGroupIds: list(lb.inputs.securityGroups).map(String),
            subnets: subnetIds.map((id) => subnets.get(id)).filter((s): s is SubnetInfo => !!s),
            subnetIds,
            dnsName,
            crossZone: bool(lb.inputs.enableCrossZoneLoadBalancing) ?? (type === "application" ? true : undefined),
            listeners: listenersOf(lb),
            aliasNames: records.filter((r) => dnsName && r.aliasTargets.includes(dnsName.toLowerCase())).map((r) => r.name),
            webAcls: ofType(TYPES.webAclAssociation)
                .filter((a) => str(a.inputs.resourceArn) === arn)
                .map((a) => resolve(a.inputs.webAclArn)?.name ?? String(plain(a.inputs.webAclArn))),
        };
    });
}

function collectVpnEndpoints(ofType: (t: string) => Registration[], subnets: Map<string, SubnetInfo>): VpnEndpointInfo[] {
    return ofType(TYPES.vpnEndpoint).map((ep): VpnEndpointInfo => {
        const associations = ofType(TYPES.vpnAssociation).filter((a) => str(a.inputs.clientVpnEndpointId) === ep.id);
        return {
            name: ep.name,
            id: ep.id,
            securityGroupIds: list(ep.inputs.securityGroupIds).map(String),
            clientCidrBlock: str(ep.inputs.clientCidrBlock),
            // The endpoint's DNS name starts with "*."; clients use any label in its place.
            dnsName: str(ep.state.dnsName)?.replace(/^\*\./, ""),
            transport: str(ep.inputs.transportProtocol) ?? "udp",
            port: num(ep.inputs.vpnPort) ?? 443,
            splitTunnel: bool(ep.inputs.splitTunnel),
            associatedSubnets: associations.map((a) => subnets.get(String(plain(a.inputs.subnetId)))).filter((s): s is SubnetInfo => !!s),
            associations: associations.length,
            authorizedCidrs: ofType(TYPES.vpnAuthorization)
                .filter((a) => str(a.inputs.clientVpnEndpointId) === ep.id)
                .map((a) => str(a.inputs.targetNetworkCidr))
                .filter((c): c is string => !!c),
        };
    });
}

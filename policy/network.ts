// The pack's network rules (the grouping of Pulumi's AWSGuard pack): who may reach which port, load balancer
// listeners and web ACLs, the client and site-to-site VPNs, and the VPC endpoints of a stack without the internet.
import {
    PolicyResource,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationPolicy,
    validateResourceOfType,
} from "@pulumi/policy";
import { has, items, known, references, strings } from "./graph";
import { admitsTcpPort, insideAny, isWorld, PortRange, PRIVATE_IPV4 } from "./net";
import { aws } from "./resourceTypes";
import { WEB_ACL_MAX_WCU, WEB_ACL_STATEMENT_LEVELS, webAclProblems } from "./wafLimits";
import { configuredPorts, DICOM_PORT, isVpc, label, listenersIn, loadBalancersIn, portsSchema, POSTGRES_PORT, SSH_PORT, vpcHandles, WEB_PORT } from "./common";

// ---------------------------------------------------------------------------------------------------
// Security groups: who may reach which port.

/** One ingress permission, from any of the three ways to write one, and the groups it opens. */
interface Ingress extends PortRange {
    readonly declaredBy: PolicyResource;
    readonly targets: PolicyResource[];
    readonly cidrs: string[];
}

function isSecurityGroup(r: PolicyResource): boolean {
    return r.isType(aws.ec2.SecurityGroup);
}

/** Every ingress permission in the stack: inline `ingress` blocks, ec2.SecurityGroupRule, vpc.SecurityGroupIngressRule. */
export function ingressPermissions(resources: readonly PolicyResource[]): Ingress[] {
    const groups = resources.filter(isSecurityGroup);
    const out: Ingress[] = [];
    for (const r of resources) {
        if (isSecurityGroup(r)) {
            for (const block of items(known(() => r.props.ingress))) {
                const b = block as Record<string, unknown>;
                out.push({
                    declaredBy: r,
                    targets: [r],
                    protocol: known(() => b.protocol as string),
                    fromPort: known(() => b.fromPort as number),
                    toPort: known(() => b.toPort as number),
                    cidrs: [...strings(known(() => b.cidrBlocks)), ...strings(known(() => b.ipv6CidrBlocks))],
                });
            }
        } else if (r.isType(aws.vpc.SecurityGroupIngressRule)) {
            out.push({
                declaredBy: r,
                targets: references(r, "securityGroupId", groups),
                protocol: known(() => r.props.ipProtocol),
                fromPort: known(() => r.props.fromPort),
                toPort: known(() => r.props.toPort),
                cidrs: [...strings(known(() => r.props.cidrIpv4)), ...strings(known(() => r.props.cidrIpv6))],
            });
        } else if (r.isType(aws.ec2.SecurityGroupRule) && known(() => r.props.type) === "ingress") {
            out.push({
                declaredBy: r,
                targets: references(r, "securityGroupId", groups),
                protocol: known(() => r.props.protocol),
                fromPort: known(() => r.props.fromPort),
                toPort: known(() => r.props.toPort),
                cidrs: [...strings(known(() => r.props.cidrBlocks)), ...strings(known(() => r.props.ipv6CidrBlocks))],
            });
        }
    }
    return out;
}

/** The security groups EC2 instances run in: named by launch templates and instances. */
export function instanceSecurityGroups(resources: readonly PolicyResource[]): PolicyResource[] {
    const groups = resources.filter(isSecurityGroup);
    const found = new Set<PolicyResource>();
    for (const r of resources) {
        if (!r.isType(aws.ec2.LaunchTemplate) && !r.isType(aws.ec2.Instance)) continue;
        references(r, "vpcSecurityGroupIds", groups).forEach((g) => found.add(g));
        if (r.isType(aws.ec2.LaunchTemplate)) {
            // A template may name its groups per network interface instead.
            const named = items(known(() => r.props.networkInterfaces)).flatMap((ni) => strings(known(() => (ni as Record<string, unknown>).securityGroups)));
            references(r, "networkInterfaces", groups, { values: named }).forEach((g) => found.add(g));
        }
    }
    return [...found];
}

export const instanceIngressNotOpenToInternet: StackValidationPolicy = {
    name: "instance-ingress-not-open-to-internet",
    description:
        "The Orthanc instances' security group does not accept HTTPS (443) or DICOM TLS (11112) from 0.0.0.0/0 or ::/0. " +
        "Advisory by default (a dev stack may be open for a trial); mandatory for prod through policy/config/prod.json.",
    enforcementLevel: "advisory",
    configSchema: { properties: { ports: portsSchema([WEB_PORT, DICOM_PORT], "Instance ports that must not be open to the whole internet.") } },
    validateStack: (args, report) => {
        const ports = configuredPorts(args, [WEB_PORT, DICOM_PORT]);
        const instanceGroups = instanceSecurityGroups(args.resources);
        for (const ingress of ingressPermissions(args.resources)) {
            const groups = ingress.targets.filter((t) => instanceGroups.includes(t));
            const open = ingress.cidrs.filter(isWorld);
            const hit = ports.filter((p) => admitsTcpPort(ingress, p));
            if (groups.length === 0 || open.length === 0 || hit.length === 0) continue;
            report(
                `${label(ingress.declaredBy)} opens port ${hit.join(", ")} of the instances' security group ${groups.map((g) => g.name).join(", ")} ` +
                    `to ${open.join(", ")}. Set orthweb:network.webClientCidrs / dicomClientCidrs to your clients' blocks, ` +
                    `or put a load balancer or the client VPN in front of the instances.`,
                ingress.declaredBy.urn,
            );
        }
    },
};

/** The stack's VPC CIDR blocks (aws.ec2.Vpc, secondary blocks, and awsx's VPC component). */
export function vpcCidrBlocks(resources: readonly PolicyResource[]): string[] {
    return resources.flatMap((r) =>
        r.isType(aws.ec2.Vpc) || r.isType(aws.ec2.VpcIpv4CidrBlockAssociation) || r.type === "awsx:ec2:Vpc"
            ? strings(known(() => r.props.cidrBlock))
            : [],
    );
}

export const adminPortsOnlyFromVpc: StackValidationPolicy = {
    name: "admin-ports-only-from-vpc",
    description:
        "No security group accepts SSH (22) or PostgreSQL (5432) from an address block outside the VPC: the database is " +
        "reached from the instances' security group only, and the instances are administered through SSM Session Manager.",
    enforcementLevel: "mandatory",
    configSchema: { properties: { ports: portsSchema([SSH_PORT, POSTGRES_PORT], "Ports reachable from inside the VPC only.") } },
    validateStack: (args, report) => {
        const ports = configuredPorts(args, [SSH_PORT, POSTGRES_PORT]);
        const declared = vpcCidrBlocks(args.resources);
        const inside = declared.length > 0 ? declared : PRIVATE_IPV4;
        for (const ingress of ingressPermissions(args.resources)) {
            const hit = ports.filter((p) => admitsTcpPort(ingress, p));
            const outside = ingress.cidrs.filter((c) => !insideAny(c, inside));
            if (hit.length === 0 || outside.length === 0) continue;
            report(
                `${label(ingress.declaredBy)} opens port ${hit.join(", ")} to ${outside.join(", ")}, outside the VPC (${inside.join(", ")}). ` +
                    `Reference the client's security group instead, and use SSM Session Manager rather than SSH.`,
                ingress.declaredBy.urn,
            );
        }
    },
};

// ---------------------------------------------------------------------------------------------------
// Load balancers.

/** ELB security policies whose minimum protocol is TLS 1.2 (or 1.3). The API default, 2016-08, allows 1.0. */
export const TLS12_POLICY = /^ELBSecurityPolicy-(TLS13-1-2|TLS13-1-3|TLS-1-2|FS-1-2)(-[A-Za-z0-9-]+)?$/;
export const RECOMMENDED_SSL_POLICY = "ELBSecurityPolicy-TLS13-1-2-2021-06";

function checkListenerTls(listener: { protocol?: string; sslPolicy?: string }, _args: ResourceValidationArgs, report: ReportViolation) {
    const protocol = String(listener.protocol ?? "").toUpperCase();
    if (protocol !== "HTTPS" && protocol !== "TLS") return;
    if (listener.sslPolicy === undefined) {
        report(`${protocol} listener without sslPolicy: the default (ELBSecurityPolicy-2016-08) accepts TLS 1.0 and 1.1. Set ${RECOMMENDED_SSL_POLICY}.`);
    } else if (!TLS12_POLICY.test(listener.sslPolicy)) {
        report(`sslPolicy ${listener.sslPolicy} accepts TLS older than 1.2; use ${RECOMMENDED_SSL_POLICY} or another TLS 1.2+ policy.`);
    }
}

export const listenerTlsPolicy: ResourceValidationPolicy = {
    name: "listener-tls-1-2-minimum",
    description:
        "Every HTTPS and TLS listener names an ELB security policy whose minimum is TLS 1.2, e.g. " +
        `${RECOMMENDED_SSL_POLICY} (the API default accepts TLS 1.0 and 1.1).`,
    enforcementLevel: "mandatory",
    validateResource: [validateResourceOfType(aws.lb.Listener, checkListenerTls), validateResourceOfType(aws.alb.Listener, checkListenerTls)],
};

function redirectsToHttps(action: unknown): boolean {
    const a = action as { type?: unknown; redirect?: { protocol?: unknown } } | undefined;
    return known(() => a?.type) === "redirect" && String(known(() => a?.redirect?.protocol)).toUpperCase() === "HTTPS";
}

export const albHttpRedirectsOnly: StackValidationPolicy = {
    name: "alb-http-redirects-only",
    description:
        "A plain-HTTP listener only redirects to HTTPS: its default actions and every listener rule attached to it are " +
        "redirects with protocol HTTPS, so no study or login ever travels unencrypted.",
    enforcementLevel: "mandatory",
    validateStack: (args, report) => {
        const listeners = listenersIn(args.resources);
        const balancers = loadBalancersIn(args.resources);
        // A listener without a protocol is HTTP on an application load balancer (gateway listeners have none).
        const isHttp = (l: PolicyResource) => {
            const protocol = known(() => l.props.protocol);
            if (protocol !== undefined) return String(protocol).toUpperCase() === "HTTP";
            const [lb] = references(l, "loadBalancerArn", balancers);
            return (lb ? known(() => lb.props.loadBalancerType) ?? "application" : "application") === "application";
        };
        const http = listeners.filter(isHttp);
        for (const listener of http) {
            const actions = items(known(() => listener.props.defaultActions));
            if (actions.length === 0 || !actions.every(redirectsToHttps)) {
                report(`HTTP listener ${listener.name} does more than redirect: make its default action a redirect to HTTPS (HTTP_301).`, listener.urn);
            }
        }
        for (const rule of args.resources.filter((r) => r.isType(aws.lb.ListenerRule) || r.isType(aws.alb.ListenerRule))) {
            const on = references(rule, "listenerArn", http);
            if (on.length > 0 && !items(known(() => rule.props.actions)).every(redirectsToHttps)) {
                report(`listener rule ${rule.name} on HTTP listener ${on[0].name} serves traffic over plain HTTP; make it a redirect to HTTPS.`, rule.urn);
            }
        }
    },
};

function checkNlbSecurityGroups(lb: { loadBalancerType?: string; securityGroups?: string[] }, _args: ResourceValidationArgs, report: ReportViolation) {
    if (lb.loadBalancerType !== "network") return;
    if (!Array.isArray(lb.securityGroups) || lb.securityGroups.length === 0) {
        report(
            "network load balancer without securityGroups: they can only be given at creation (adding them later replaces the " +
                "load balancer and its DNS name), and without them the instances cannot tell its traffic from anyone's.",
        );
    }
}

export const nlbSecurityGroups: ResourceValidationPolicy = {
    name: "nlb-security-groups-at-creation",
    description:
        "Network load balancers are created with security groups, so the instances' ingress can reference the load " +
        "balancer's group (an NLB created without one can never get one without being replaced).",
    enforcementLevel: "mandatory",
    validateResource: [validateResourceOfType(aws.lb.LoadBalancer, checkNlbSecurityGroups), validateResourceOfType(aws.alb.LoadBalancer, checkNlbSecurityGroups)],
};

// ---------------------------------------------------------------------------------------------------
// Client VPN.

export const clientVpnSplitTunnel: ResourceValidationPolicy = {
    name: "client-vpn-split-tunnel",
    description:
        "Client VPN endpoints use split tunnel: only VPC traffic enters the tunnel, a workstation's internet traffic does " +
        "not hairpin through AWS (which it cannot reach anyway: the endpoint has no internet route).",
    enforcementLevel: "mandatory",
    validateResource: validateResourceOfType(aws.ec2clientvpn.Endpoint, (endpoint, _args, report) => {
        if (endpoint.splitTunnel !== true) report("splitTunnel is not true; set it to true.");
    }),
};

export const clientVpnConnectionLogging: ResourceValidationPolicy = {
    name: "client-vpn-connection-logging",
    description:
        "Client VPN endpoints log every connection attempt to CloudWatch Logs (who connected to the imaging network, when, from where).",
    enforcementLevel: "mandatory",
    validateResource: validateResourceOfType(aws.ec2clientvpn.Endpoint, (endpoint, _args, report) => {
        const options = endpoint.connectionLogOptions;
        if (options?.enabled !== true) {
            report("connectionLogOptions.enabled is not true; enable connection logging to a CloudWatch log group.");
        } else if (!has(options, "cloudwatchLogGroup")) {
            report("connection logging is enabled without connectionLogOptions.cloudwatchLogGroup; name the log group.");
        }
    }),
};

// ---------------------------------------------------------------------------------------------------
// Site-to-site VPN.

/** Weak tunnel algorithms AWS still accepts (and offers by default when a tunnel option is left unset). */
export const WEAK_TUNNEL_INTEGRITY = ["SHA1"];
export const MIN_TUNNEL_DH_GROUP = 14;

/** What is wrong with one tunnel's options; unset lists mean AWS's defaults, which include IKEv1, SHA1 and DH group 2. */
export function tunnelWeaknesses(props: Record<string, any>, n: 1 | 2): string[] {
    const t = `tunnel${n}`;
    const out: string[] = [];
    const ike = strings(known(() => props[`${t}IkeVersions`]));
    if (ike.length === 0) out.push(`${t}IkeVersions is unset (AWS then accepts IKEv1 too); set it to ["ikev2"]`);
    else if (ike.some((v) => v !== "ikev2")) out.push(`${t}IkeVersions allows ${ike.filter((v) => v !== "ikev2").join(", ")}; set it to ["ikev2"]`);
    for (const phase of [1, 2]) {
        const integrity = strings(known(() => props[`${t}Phase${phase}IntegrityAlgorithms`]));
        if (integrity.length === 0) out.push(`${t}Phase${phase}IntegrityAlgorithms is unset (AWS then offers SHA1); list SHA2-256 or stronger`);
        const weak = integrity.filter((a) => WEAK_TUNNEL_INTEGRITY.includes(a.toUpperCase()));
        if (weak.length > 0) out.push(`${t}Phase${phase}IntegrityAlgorithms includes ${weak.join(", ")}; use SHA2-256 or stronger`);
        const groups = known(() => props[`${t}Phase${phase}DhGroupNumbers`]);
        const list = Array.isArray(groups) ? groups.filter((g): g is number => typeof g === "number") : [];
        if (list.length === 0) out.push(`${t}Phase${phase}DhGroupNumbers is unset (AWS then offers group 2); list groups ${MIN_TUNNEL_DH_GROUP} or above, such as 20`);
        const small = list.filter((g) => g < MIN_TUNNEL_DH_GROUP);
        if (small.length > 0) out.push(`${t}Phase${phase}DhGroupNumbers includes group ${small.join(", ")}; use ${MIN_TUNNEL_DH_GROUP} or above, such as 20`);
    }
    return out;
}

export const siteToSiteStrongTunnels: ResourceValidationPolicy = {
    name: "site-to-site-strong-tunnels",
    description:
        "Site-to-site VPN tunnels negotiate IKEv2 only, never SHA-1 integrity, and Diffie-Hellman groups 14 or above, in both " +
        "phases of both tunnels. Left unset, AWS accepts IKEv1, SHA-1 and DH group 2.",
    enforcementLevel: "mandatory",
    validateResource: validateResourceOfType(aws.ec2.VpnConnection, (connection, _args, report) => {
        for (const n of [1, 2] as const) for (const problem of tunnelWeaknesses(connection as Record<string, any>, n)) report(`${problem}.`);
    }),
};

/** The on-premises ranges of the stack's site-to-site connections: their static routes, or where the VPC routes to a gateway. */
export function onPremisesRanges(resources: readonly PolicyResource[]): string[] {
    const ranges = new Set<string>();
    for (const r of resources) {
        if (r.isType(aws.ec2.VpnConnectionRoute)) strings(known(() => r.props.destinationCidrBlock)).forEach((c) => ranges.add(c));
        if (r.isType(aws.ec2.Route) && (has(r.props, "transitGatewayId") || has(r.props, "gatewayId"))) {
            const gateway = String(known(() => r.props.transitGatewayId ?? r.props.gatewayId) ?? "");
            if (gateway.startsWith("tgw-") || gateway.startsWith("vgw-")) strings(known(() => r.props.destinationCidrBlock)).forEach((c) => ranges.add(c));
        }
    }
    return [...ranges];
}

export const siteToSiteOnlyServicePorts: StackValidationPolicy = {
    name: "site-to-site-only-service-ports",
    description:
        "A site behind a site-to-site VPN reaches the instances on HTTPS (443) and DICOM TLS (11112) only: no security group " +
        "admits its ranges on any other port (SSH, PostgreSQL, all traffic).",
    enforcementLevel: "mandatory",
    validateStack: (args, report) => {
        const ranges = onPremisesRanges(args.resources);
        if (ranges.length === 0) return;
        for (const ingress of ingressPermissions(args.resources)) {
            const fromSite = ingress.cidrs.filter((c) => insideAny(c, ranges) || ranges.some((range) => insideAny(range, [c]) && !isWorld(c)));
            if (fromSite.length === 0) continue;
            const protocol = String(ingress.protocol ?? "").toLowerCase();
            const single = ingress.fromPort === ingress.toPort && (ingress.fromPort === WEB_PORT || ingress.fromPort === DICOM_PORT);
            if ((protocol === "tcp" || protocol === "6") && single) continue;
            const what = protocol === "-1" || protocol === "all" ? "all traffic" : `${protocol || "?"} ${ingress.fromPort ?? "?"}-${ingress.toPort ?? "?"}`;
            report(
                `${label(ingress.declaredBy)} admits the on-premises range ${fromSite.join(", ")} on ${what}; allowed: tcp ${WEB_PORT} and tcp ${DICOM_PORT} only, one rule each.`,
                ingress.declaredBy.urn,
            );
        }
    },
};

// ---------------------------------------------------------------------------------------------------
// VPC endpoints: a VPC without the internet reaches AWS through them only, and each admits this account only.

/**
 * What the instances of a stack without the internet reach AWS for: the services their scripts call (Auto Scaling,
 * EC2, ELB, the tagging API, Secrets Manager, ECR, S3), the SSM agent's (ssm, ssmmessages, ec2messages), docker's
 * (ecr.dkr; layers from S3) and dnf's (S3). The pack cannot render the scripts: tests/vpcEndpoints.spec.ts holds this
 * list equal to what rules/vpcEndpoints.ts reads from them.
 */
export const NO_INTERNET_ENDPOINT_SERVICES = [
    "s3", "autoscaling", "ec2", "ec2messages", "ecr.api", "ecr.dkr", "elasticloadbalancing", "secretsmanager", "ssm", "ssmmessages", "tagging",
];

/** The service an endpoint reaches: the <service> of com.amazonaws.<region>.<service> (cn.com.amazonaws… in China). */
export function endpointServiceOf(serviceName: string): string {
    return /^(?:cn\.)?com\.amazonaws\.[a-z0-9-]+\.(.+)$/.exec(serviceName)?.[1] ?? serviceName;
}

const INTERNET_GATEWAYS = [aws.ec2.InternetGateway, aws.ec2.EgressOnlyInternetGateway, aws.ec2.InternetGatewayAttachment];

/**
 * Whether a VPC has a way to the internet: an internet gateway (or an egress-only one) in it or among its children;
 * for awsx's VPC also its public subnets (awsx makes an internet gateway exactly when there are some).
 */
function reachesInternet(vpc: PolicyResource, resources: readonly PolicyResource[]): boolean {
    const gateways = resources.filter((r) => INTERNET_GATEWAYS.some((t) => r.isType(t)));
    if (gateways.some((g) => g.parent?.urn === vpc.urn || references(g, "vpcId", [vpc], { handles: vpcHandles }).length > 0)) return true;
    if (vpc.type !== "awsx:ec2:Vpc") return false;
    const specs = items(known(() => vpc.props.subnetSpecs)) as { type?: string }[];
    return specs.some((s) => s.type === "Public") || strings(known(() => vpc.props.publicSubnetIds)).length > 0;
}

export const noInternetEndpointCoverage: StackValidationPolicy = {
    name: "no-internet-endpoint-coverage",
    description:
        "A VPC without an internet gateway has a VPC endpoint for every AWS service its instances call: their scripts' " +
        "services, the SSM agent's, ECR for docker and S3 (gateway) for ECR's layers and dnf. A missing one fails the " +
        "instances' calls (the slot address is never taken, images never pulled).",
    enforcementLevel: "mandatory",
    configSchema: {
        properties: {
            services: { type: "array", items: { type: "string" }, default: NO_INTERNET_ENDPOINT_SERVICES, description: "Endpoint services (com.amazonaws.<region>.<service>) a VPC without the internet must have." },
        },
    },
    validateStack: (args, report) => {
        const required = args.getConfig<{ services?: string[] }>().services ?? NO_INTERNET_ENDPOINT_SERVICES;
        const endpoints = args.resources.filter((r) => r.isType(aws.ec2.VpcEndpoint));
        // awsx's own aws.ec2.Vpc child is judged through the component, which the endpoints point at.
        const vpcs = args.resources.filter((r) => isVpc(r) && r.parent?.type !== "awsx:ec2:Vpc");
        for (const vpc of vpcs.filter((v) => !reachesInternet(v, args.resources))) {
            const present = new Set(
                endpoints.filter((e) => references(e, "vpcId", [vpc], { handles: vpcHandles }).length > 0).flatMap((e) => strings(known(() => e.props.serviceName)).map(endpointServiceOf)),
            );
            const missing = required.filter((service) => !present.has(service));
            if (missing.length > 0) {
                report(
                    `VPC ${vpc.name} has no internet gateway and no VPC endpoint for ${missing.join(", ")}: the instances' calls to ` +
                        `${missing.length === 1 ? "it" : "them"} cannot leave the VPC. Add an aws.ec2.VpcEndpoint per service in this VPC (s3 as a Gateway endpoint).`,
                    vpc.urn,
                );
            }
        }
    },
};

/** Condition keys that limit who may use an endpoint to named accounts (or an organization). */
const PRINCIPAL_LIMITS = ["aws:PrincipalAccount", "aws:PrincipalOrgID"];

/** Why an endpoint policy's Allow statement lets any credentials through, or undefined when it does not. */
function openStatement(statement: Record<string, any>): string | undefined {
    if (statement.Effect !== "Allow") return undefined;
    const equals = statement.Condition?.StringEquals ?? {};
    if (PRINCIPAL_LIMITS.some((key) => equals[key] !== undefined && equals[key] !== "*")) return undefined;
    // Read-only downloads of named buckets' objects (AWS-owned ones, fetched anonymously or presigned by AWS).
    const actions = [statement.Action].flat();
    const resources = [statement.Resource].flat();
    const namedObjects = resources.length > 0 && resources.every((r) => typeof r === "string" && /^arn:[a-z-]+:s3:::[a-z0-9][a-z0-9.-]*\/\*$/.test(r));
    if (actions.length > 0 && actions.every((a) => a === "s3:GetObject") && namedObjects) return undefined;
    return `statement ${statement.Sid ?? "(no Sid)"} allows ${actions.join(", ")} on ${resources.join(", ")} to any principal`;
}

export const endpointPoliciesPresent: ResourceValidationPolicy = {
    name: "endpoint-policies-present",
    description:
        "Every VPC endpoint carries a policy that admits the stack's own account's principals (aws:PrincipalAccount), so " +
        "that foreign or stolen credentials cannot use it to copy data out; only read-only downloads from named buckets " +
        "(the AWS-owned Amazon Linux and ECR layer buckets) may be open to any principal.",
    enforcementLevel: "mandatory",
    validateResource: validateResourceOfType(aws.ec2.VpcEndpoint, (endpoint, _args, report) => {
        const service = endpointServiceOf(endpoint.serviceName ?? "");
        if (endpoint.policy === undefined) {
            report(`the ${service} endpoint has no policy: AWS then allows every principal of every account. Set a policy limited to aws:PrincipalAccount.`);
            return;
        }
        let statements: Record<string, any>[];
        try {
            statements = [JSON.parse(endpoint.policy).Statement ?? []].flat();
        } catch {
            report(`the ${service} endpoint's policy is not JSON.`);
            return;
        }
        for (const problem of statements.map(openStatement).filter((p): p is string => p !== undefined)) {
            report(`the ${service} endpoint's policy: ${problem}; limit it with a StringEquals condition on aws:PrincipalAccount.`);
        }
    }),
};

export const wafWebAclLimits: ResourceValidationPolicy = {
    name: "waf-web-acl-limits",
    description:
        `Every WAF web ACL is one the AWS provider and WAF accept: rule statements nest at most ${WEB_ACL_STATEMENT_LEVELS} levels ` +
        `(the provider's webACLRootStatementSchemaLevel; deeper fails at preview), and/or statements join two or more, managed ` +
        `rule groups only at the top, and the rules need at most ${WEB_ACL_MAX_WCU} WCUs.`,
    enforcementLevel: "mandatory",
    validateResource: validateResourceOfType(aws.wafv2.WebAcl, (acl, _args, report) => {
        for (const problem of webAclProblems(acl.rules ?? [])) report(`${problem}.`);
    }),
};

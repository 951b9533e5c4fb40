// The guardrails of a medical-imaging deployment, as CrossGuard policies. This module only defines them;
// policy/index.ts hands them to `new PolicyPack(...)`, which starts a gRPC server and must never be
// imported by tests. Resource rules read a resource's inputs; stack rules read every resource's outputs
// and relate them (which security group the instances use, which CA signed a certificate).
import {
    EnforcementLevel,
    PolicyResource,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationPolicy,
    validateResourceOfType,
} from "@pulumi/policy";
import { gunzipSync } from "zlib";
import { environmentTag, handlesOf, has, isProviderResource, items, known, references, strings } from "./graph";
import { admitsTcpPort, insideAny, isWorld, PortRange, PRIVATE_IPV4 } from "./net";
// Type tokens and the properties the rules read, named as in @pulumi/aws and @pulumi/tls (which the pack does not load).
import { aws, tls } from "./resourceTypes";

export const PACK_NAME = "orthweb-guardrails";
/** What a rule that names no level of its own gets. */
export const PACK_ENFORCEMENT: EnforcementLevel = "mandatory";

/** The ports the program serves and must keep to itself (the tests hold these equal to the program's). */
export const WEB_PORT = 443;
export const DICOM_PORT = 11112;
export const POSTGRES_PORT = 5432;
export const SSH_PORT = 22;

type Validation = ResourceValidationPolicy | StackValidationPolicy;
const portsSchema = (defaults: number[], description: string) => ({
    type: "array" as const,
    items: { type: "integer" as const, minimum: 0, maximum: 65535 },
    default: defaults,
    description,
});

function configuredPorts(args: { getConfig<T extends object>(): T }, defaults: number[]): number[] {
    return args.getConfig<{ ports?: number[] }>().ports ?? defaults;
}

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

function label(r: PolicyResource): string {
    return `${r.type.split(":").pop()} ${r.name}`;
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
// Instances and data at rest.

export const imdsv2Required: ResourceValidationPolicy = {
    name: "imdsv2-required",
    description:
        "Launch templates and instances require IMDSv2 session tokens (metadataOptions.httpTokens = required), so a " +
        "request forgery in Orthanc or nginx cannot read the instance role's credentials from the metadata service.",
    enforcementLevel: "mandatory",
    validateResource: [
        validateResourceOfType(aws.ec2.LaunchTemplate, (template, _args, report) => {
            const options = template.metadataOptions;
            if (options?.httpTokens !== "required" && options?.httpEndpoint !== "disabled") {
                report(`metadataOptions.httpTokens is ${JSON.stringify(options?.httpTokens ?? "unset")}; set it to "required".`);
            }
        }),
        validateResourceOfType(aws.ec2.Instance, (instance, _args, report) => {
            const options = instance.metadataOptions;
            // An instance from a launch template inherits its metadata options; the template is checked itself.
            if (options === undefined && instance.launchTemplate !== undefined) return;
            if (options?.httpTokens !== "required" && options?.httpEndpoint !== "disabled") {
                report(`metadataOptions.httpTokens is ${JSON.stringify(options?.httpTokens ?? "unset")}; set it to "required" (or launch from a template that does).`);
            }
        }),
    ],
};

export const ebsEncrypted: ResourceValidationPolicy = {
    name: "ebs-encrypted",
    description:
        "Every EBS volume is encrypted: launch template block devices, instance root and data volumes, standalone volumes. " +
        "Orthanc caches studies and logs on the root volume.",
    enforcementLevel: "mandatory",
    validateResource: [
        validateResourceOfType(aws.ec2.LaunchTemplate, (template, _args, report) => {
            const mappings = (template.blockDeviceMappings ?? []).filter((m) => m.ebs !== undefined);
            if (mappings.length === 0) {
                report("declares no EBS block device: the root volume would be whatever the image says. Declare it with ebs.encrypted = \"true\".");
            }
            for (const m of mappings) {
                if (String(m.ebs?.encrypted) !== "true") report(`block device ${m.deviceName ?? "?"} is not encrypted; set ebs.encrypted = "true".`);
            }
        }),
        validateResourceOfType(aws.ec2.Instance, (instance, _args, report) => {
            if (instance.rootBlockDevice === undefined && instance.launchTemplate !== undefined) {
                // Root volume from the launch template, which is checked itself.
            } else if (instance.rootBlockDevice?.encrypted !== true) {
                report("the root volume is not encrypted; set rootBlockDevice.encrypted = true.");
            }
            for (const d of instance.ebsBlockDevices ?? []) {
                if (d.encrypted !== true) report(`EBS device ${d.deviceName} is not encrypted; set encrypted = true.`);
            }
        }),
        validateResourceOfType(aws.ebs.Volume, (volume, _args, report) => {
            if (volume.encrypted !== true) report("the volume is not encrypted; set encrypted = true.");
        }),
    ],
};

function checkStorageEncrypted(db: { storageEncrypted?: boolean }, _args: ResourceValidationArgs, report: ReportViolation) {
    if (db.storageEncrypted !== true) report("storageEncrypted is not true; it cannot be turned on later without a snapshot restore.");
}

function checkNotPublic(db: { publiclyAccessible?: boolean }, _args: ResourceValidationArgs, report: ReportViolation) {
    if (db.publiclyAccessible === true) report("publiclyAccessible is true; set it to false.");
}

export const rdsStorageEncrypted: ResourceValidationPolicy = {
    name: "rds-storage-encrypted",
    description: "The Orthanc index database (RDS instance or Aurora cluster) encrypts its storage, snapshots and backups.",
    enforcementLevel: "mandatory",
    validateResource: [validateResourceOfType(aws.rds.Instance, checkStorageEncrypted), validateResourceOfType(aws.rds.Cluster, checkStorageEncrypted)],
};

export const rdsNotPublic: ResourceValidationPolicy = {
    name: "rds-not-publicly-accessible",
    description: "No database instance gets a public address: the index is reached from the instances' security group only.",
    enforcementLevel: "mandatory",
    validateResource: [validateResourceOfType(aws.rds.Instance, checkNotPublic), validateResourceOfType(aws.rds.ClusterInstance, checkNotPublic)],
};

/** What Auto Scaling's role must be allowed on a customer-managed key to launch instances with volumes it encrypts. */
export const AUTOSCALING_EBS_KEY_ACTIONS = ["kms:Encrypt", "kms:Decrypt", "kms:ReEncryptFrom", "kms:ReEncryptTo", "kms:GenerateDataKeyWithoutPlaintext", "kms:DescribeKey", "kms:CreateGrant"];
/** The role a group without serviceLinkedRoleArn launches with, as its ARN ends. */
const DEFAULT_AUTOSCALING_ROLE = ":role/aws-service-role/autoscaling.amazonaws.com/AWSServiceRoleForAutoScaling";

function iamGlob(pattern: string): RegExp {
    return new RegExp(`^${pattern.replace(/[.+^${}()|[\]\\]/g, "\\$&").replace(/\*/g, ".*").replace(/\?/g, ".")}$`, "i");
}

/** The actions of `wanted` that no Allow statement of a key policy (JSON; none: KMS's default) grants to a principal `isRole` accepts. */
export function keyActionsMissing(policyJson: string | undefined, isRole: (principal: string) => boolean, wanted: readonly string[] = AUTOSCALING_EBS_KEY_ACTIONS): string[] {
    let statements: Record<string, any>[] = [];
    try {
        const parsed = policyJson === undefined ? {} : JSON.parse(policyJson);
        statements = [parsed.Statement ?? []].flat();
    } catch {
        return [...wanted];
    }
    // The account root does not count: it delegates to IAM, and a service-linked role's own policy grants no KMS use.
    const names = (principal: unknown) => [(principal as { AWS?: unknown } | undefined)?.AWS ?? []].flat().map(String).some(isRole);
    const granting = statements.filter((st) => st.Effect === "Allow" && st.NotPrincipal === undefined && st.NotAction === undefined && names(st.Principal));
    return wanted.filter((action) => !granting.some((st) => [st.Action ?? []].flat().some((a: string) => iamGlob(String(a)).test(action))));
}

export const ebsKeyUsableByAutoScaling: StackValidationPolicy = {
    name: "ebs-key-usable-by-auto-scaling",
    description:
        "A customer-managed KMS key that encrypts a launch template's volumes lets the Auto Scaling service-linked role " +
        "each group launches with use it (EC2 Auto Scaling user guide, \"Required AWS KMS key policy for use with encrypted " +
        "volumes\"): otherwise every launch fails with Client.InternalError and the group retries for ever.",
    enforcementLevel: "mandatory",
    validateStack: (args, report) => {
        const keys = args.resources.filter((r) => r.isType(aws.kms.Key));
        const roles = args.resources.filter((r) => r.isType(aws.iam.ServiceLinkedRole));
        const groups = args.resources.filter((r) => r.isType(aws.autoscaling.Group));
        for (const template of args.resources.filter((r) => r.isType(aws.ec2.LaunchTemplate))) {
            const keyIds = items(known(() => template.props.blockDeviceMappings)).flatMap((m) => strings(known(() => (known(() => (m as { ebs?: unknown }).ebs) as { kmsKeyId?: unknown } | undefined)?.kmsKeyId)));
            // Keys of the stack only: another key's policy cannot be read here.
            const usedKeys = references(template, "blockDeviceMappings", keys, { values: keyIds });
            const launchedBy = (g: PolicyResource) => strings(known(() => (known(() => g.props.launchTemplate) as { id?: unknown } | undefined)?.id));
            for (const group of groups.filter((g) => references(g, "launchTemplate", [template], { values: launchedBy(g) }).length > 0)) {
                const set = has(group.props, "serviceLinkedRoleArn");
                const roleArn = set ? known(() => group.props.serviceLinkedRoleArn) : undefined;
                // A role still to be created (preview): its ARN, and the key policy naming it, are not known yet.
                if (set && typeof roleArn !== "string") continue;
                const isRole = (principal: string) => (roleArn !== undefined ? principal === roleArn : principal.endsWith(DEFAULT_AUTOSCALING_ROLE));
                const roleName = roleArn !== undefined ? roles.find((r) => handlesOf(r).includes(String(roleArn)))?.name ?? String(roleArn) : "AWSServiceRoleForAutoScaling";
                for (const key of usedKeys) {
                    if (has(key.props, "policy") && typeof known(() => key.props.policy) !== "string") continue;
                    const missing = keyActionsMissing(known(() => key.props.policy) as string | undefined, isRole);
                    if (missing.length > 0) {
                        report(
                            `launch template ${template.name} encrypts volumes with key ${key.name}, whose policy does not let ${roleName} (the role group ${group.name} launches with) ` +
                                `${missing.join(", ")}: no instance would launch. Add the statements of "Required AWS KMS key policy for use with encrypted volumes" (EC2 Auto Scaling user guide) for that role.`,
                            key.urn,
                        );
                    }
                }
            }
        }
    },
};

// ---------------------------------------------------------------------------------------------------
// S3: the image store.

function buckets(resources: readonly PolicyResource[]): PolicyResource[] {
    return resources.filter((r) => r.isType(aws.s3.Bucket) || r.isType(aws.s3.BucketV2));
}

const SSE_ALGORITHMS = ["aws:kms", "aws:kms:dsse", "AES256"];

function sseAlgorithms(rules: unknown): string[] {
    type Rule = { applyServerSideEncryptionByDefault?: { sseAlgorithm?: unknown } };
    return items(rules).flatMap((rule) => strings(known(() => (rule as Rule).applyServerSideEncryptionByDefault?.sseAlgorithm)));
}

export const s3DefaultEncryption: StackValidationPolicy = {
    name: "s3-default-encryption",
    description:
        "Every bucket declares default server-side encryption (SSE-KMS, DSSE-KMS or SSE-S3), inline or with a " +
        "BucketServerSideEncryptionConfiguration, so that what protects the images is written in the program.",
    enforcementLevel: "mandatory",
    validateStack: (args, report) => {
        const configs = args.resources.filter(
            (r) => r.isType(aws.s3.BucketServerSideEncryptionConfiguration) || r.isType(aws.s3.BucketServerSideEncryptionConfigurationV2),
        );
        for (const bucket of buckets(args.resources)) {
            const inline = sseAlgorithms(known(() => bucket.props.serverSideEncryptionConfiguration?.rule));
            const separate = configs.filter((c) => references(c, "bucket", [bucket]).length > 0).flatMap((c) => sseAlgorithms(known(() => c.props.rules)));
            const algorithms = [...inline, ...separate];
            if (algorithms.length === 0) {
                report(`bucket ${bucket.name} declares no default encryption; add an aws.s3.BucketServerSideEncryptionConfiguration (aws:kms).`, bucket.urn);
            } else if (algorithms.some((a) => !SSE_ALGORITHMS.includes(a))) {
                report(`bucket ${bucket.name} uses encryption ${algorithms.join(", ")}; allowed: ${SSE_ALGORITHMS.join(", ")}.`, bucket.urn);
            }
        }
    },
};

const PUBLIC_ACCESS_FLAGS = ["blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets"];

function blocksAll(r: PolicyResource): boolean {
    return PUBLIC_ACCESS_FLAGS.every((flag) => known(() => r.props[flag]) === true);
}

export const s3PublicAccessBlocked: StackValidationPolicy = {
    name: "s3-public-access-blocked",
    description:
        "Every bucket has a public access block with all four settings on (or the account has one), so no ACL or " +
        "policy can ever publish patient images.",
    enforcementLevel: "mandatory",
    validateStack: (args, report) => {
        if (args.resources.some((r) => r.isType(aws.s3.AccountPublicAccessBlock) && blocksAll(r))) return;
        const blocks = args.resources.filter((r) => r.isType(aws.s3.BucketPublicAccessBlock));
        for (const bucket of buckets(args.resources)) {
            const mine = blocks.filter((b) => references(b, "bucket", [bucket]).length > 0);
            if (mine.length === 0) {
                report(`bucket ${bucket.name} has no aws.s3.BucketPublicAccessBlock.`, bucket.urn);
            } else if (!mine.some(blocksAll)) {
                const off = PUBLIC_ACCESS_FLAGS.filter((flag) => !mine.some((b) => known(() => b.props[flag]) === true));
                report(`bucket ${bucket.name}'s public access block leaves ${off.join(", ")} off; set all four to true.`, bucket.urn);
            }
        }
    },
};

/** The statements of a bucket policy given as JSON text or as an object; undefined when unreadable. */
function statementsOf(policy: unknown): Record<string, any>[] | undefined {
    let doc: unknown = policy;
    if (typeof policy === "string") {
        try {
            doc = JSON.parse(policy);
        } catch {
            return undefined;
        }
    }
    const statements = (doc as { Statement?: unknown } | undefined)?.Statement;
    if (Array.isArray(statements)) return statements as Record<string, any>[];
    return statements && typeof statements === "object" ? [statements as Record<string, any>] : [];
}

/** Deny s3:* (or *) to everyone on the bucket and its objects when aws:SecureTransport is false. */
export function deniesInsecureTransport(statement: Record<string, any>): boolean {
    const principal = statement.Principal;
    const everyone = principal === "*" || items(principal?.AWS).includes("*");
    const actions = items(statement.Action);
    const resources = items(statement.Resource).map(String);
    const secure = statement.Condition?.Bool?.["aws:SecureTransport"];
    return (
        statement.Effect === "Deny" &&
        everyone &&
        (actions.includes("s3:*") || actions.includes("*")) &&
        (resources.includes("*") || (resources.some((r) => r.endsWith("/*")) && resources.some((r) => !r.endsWith("/*")))) &&
        String(secure) === "false"
    );
}

export const s3TlsOnly: StackValidationPolicy = {
    name: "s3-tls-only",
    description:
        "Every bucket's policy denies all S3 actions over plain HTTP (aws:SecureTransport false), on the bucket and its objects.",
    enforcementLevel: "mandatory",
    validateStack: (args, report) => {
        const policies = args.resources.filter((r) => r.isType(aws.s3.BucketPolicy));
        for (const bucket of buckets(args.resources)) {
            const documents = [
                ...(has(bucket.props, "policy") ? [known(() => bucket.props.policy)] : []),
                ...policies.filter((p) => references(p, "bucket", [bucket]).length > 0).map((p) => known(() => p.props.policy)),
            ];
            if (documents.some((d) => d === undefined)) continue; // not known until the update
            const ok = documents.some((d) => (statementsOf(d) ?? []).some(deniesInsecureTransport));
            if (!ok) {
                report(
                    `bucket ${bucket.name} has no policy statement denying s3:* when aws:SecureTransport is false; ` +
                        `add one to its aws.s3.BucketPolicy (Resource: the bucket ARN and ARN/*).`,
                    bucket.urn,
                );
            }
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
        const listeners = args.resources.filter((r) => r.isType(aws.lb.Listener) || r.isType(aws.alb.Listener));
        const balancers = args.resources.filter((r) => r.isType(aws.lb.LoadBalancer) || r.isType(aws.alb.LoadBalancer));
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
// Self-healing that never churns.

const LAUNCHING = "autoscaling:EC2_INSTANCE_LAUNCHING";

function checkLaunchHook(hook: { lifecycleTransition?: string; defaultResult?: string }, report: ReportViolation, where: string) {
    if (hook.lifecycleTransition === LAUNCHING && hook.defaultResult !== undefined && hook.defaultResult !== "CONTINUE") {
        report(
            `${where} defaultResult is ${JSON.stringify(hook.defaultResult)}: a launch that is never let in would be terminated and ` +
                "launched again, over and over while a shared dependency is down. Set it to \"CONTINUE\".",
        );
    }
}

export const healingNeverChurns: ResourceValidationPolicy = {
    name: "healing-never-churns",
    description:
        "Auto Scaling groups replace instances on EC2's word only (healthCheckType EC2, not ELB), and their launch hooks " +
        "time out into CONTINUE: an outage of what both instances share (the database) must never turn into replacements.",
    enforcementLevel: "mandatory",
    validateResource: [
        validateResourceOfType(aws.autoscaling.Group, (group, _args, report) => {
            if (group.healthCheckType !== undefined && group.healthCheckType !== "EC2") {
                report(
                    `healthCheckType is ${JSON.stringify(group.healthCheckType)}: the load balancer's checks follow /healthz, which turns red on ` +
                        "every instance when the database is down, and the group would replace them all. Set it to \"EC2\".",
                );
            }
            (group.initialLifecycleHooks ?? []).forEach((hook, i) => checkLaunchHook(hook, report, `initialLifecycleHooks[${i}]`));
        }),
        validateResourceOfType(aws.autoscaling.LifecycleHook, (hook, _args, report) => checkLaunchHook(hook, report, "the launch hook's")),
    ],
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
// Certificates and secrets.

function isCertificate(r: PolicyResource): boolean {
    return r.isType(tls.SelfSignedCert) || r.isType(tls.LocallySignedCert);
}

/** The CA certificates that signed `leaf`: by dependency, else by PEM; several by PEM narrow to real CAs. */
export function issuersOf(leaf: PolicyResource, certificates: readonly PolicyResource[]): PolicyResource[] {
    const byDependency = references(leaf, "caCertPem", certificates, { handles: () => [] });
    if (byDependency.length > 0) return byDependency;
    const byPem = references(leaf, "caCertPem", certificates, { handles: (c) => strings(known(() => c.props.certPem)) });
    return byPem.length > 1 ? byPem.filter((c) => known(() => c.props.isCaCertificate) === true) : byPem;
}

export const caOutlivesLeaves: StackValidationPolicy = {
    name: "ca-outlives-leaf-certificates",
    description:
        "A certificate authority made with @pulumi/tls is valid at least as long as every certificate it signs " +
        "(validityPeriodHours is in hours: a CA given days-as-hours expires long before its leaves).",
    enforcementLevel: "mandatory",
    validateStack: (args, report) => {
        const certificates = args.resources.filter(isCertificate);
        for (const leaf of args.resources.filter((r) => r.isType(tls.LocallySignedCert))) {
            const leafHours = known(() => leaf.props.validityPeriodHours);
            if (typeof leafHours !== "number") continue;
            for (const ca of issuersOf(leaf, certificates)) {
                const caHours = known(() => ca.props.validityPeriodHours);
                if (typeof caHours === "number" && caHours < leafHours) {
                    report(
                        `${leaf.name} is valid for ${leafHours} h (${Math.round(leafHours / 24)} days) but its CA ${ca.name} only for ` +
                            `${caHours} h (${Math.round(caHours / 24)} days); raise the CA's validityPeriodHours.`,
                        leaf.urn,
                    );
                }
            }
        }
    },
};

const PRIVATE_KEY_PEM = /-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY-----/;

/** Where a private key or password may be: properties the provider stores as Pulumi secrets, in a secret store. */
const SECRET_PROPERTIES: Record<string, (props: Record<string, any>) => string[]> = {
    "tls:index/privateKey:PrivateKey": () => ["privateKeyPem", "privateKeyOpenssh", "privateKeyPemPkcs8"],
    "tls:index/selfSignedCert:SelfSignedCert": () => ["privateKeyPem"],
    "tls:index/certRequest:CertRequest": () => ["privateKeyPem"],
    "tls:index/locallySignedCert:LocallySignedCert": () => ["caPrivateKeyPem"],
    "random:index/randomPassword:RandomPassword": () => ["result", "bcryptHash"],
    "aws:secretsmanager/secretVersion:SecretVersion": () => ["secretString", "secretBinary"],
    "aws:acm/certificate:Certificate": () => ["privateKey"],
    "aws:iam/serverCertificate:ServerCertificate": () => ["privateKey"],
    "aws:rds/instance:Instance": () => ["password"],
    "aws:rds/cluster:Cluster": () => ["masterPassword"],
    // AWS needs the tunnels' keys themselves; with SecretsManager storage it keeps them in a secret of its own.
    "aws:ec2/vpnConnection:VpnConnection": (props) => (known(() => props.presharedKeyStorage) === "SecretsManager" ? ["tunnel1PresharedKey", "tunnel2PresharedKey"] : []),
    // A String parameter is readable by anyone with ssm:GetParameter; only SecureString is encrypted.
    "aws:ssm/parameter:Parameter": (props) => (known(() => props.type) === "SecureString" ? ["value", "insecureValue"] : []),
};

const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

/** Every string in a value, with its path; user data is also read base64-decoded. */
function* texts(value: unknown, path: string, depth = 0): Generator<{ path: string; text: string }> {
    if (depth > 20) return;
    if (typeof value === "string") {
        yield { path, text: value };
        if (/userData(Base64)?$/.test(path) && value.length % 4 === 0 && BASE64.test(value)) {
            const decoded = Buffer.from(value, "base64").toString("utf8");
            yield { path: `${path} (base64-decoded)`, text: decoded };
            // cloud-init's gz+b64 write_files: read each file as it lands on disk.
            for (const m of decoded.matchAll(/encoding: gz\+b64\n\s*content: ([A-Za-z0-9+/=]+)/g)) {
                try {
                    yield { path: `${path} (write_files, gz+b64-decoded)`, text: gunzipSync(Buffer.from(m[1], "base64")).toString("utf8") };
                } catch {
                    // Not gzip: the plain text above is all there is.
                }
            }
        }
        return;
    }
    if (typeof value !== "object" || value === null) return;
    for (const key of Object.keys(value)) {
        yield* texts(known(() => (value as Record<string, unknown>)[key]), Array.isArray(value) ? `${path}[${key}]` : `${path}.${key}`, depth + 1);
    }
}

export const credentialsOnlyInSecrets: StackValidationPolicy = {
    name: "credentials-only-in-secret-properties",
    description:
        "Private keys (PEM) and generated passwords appear only in properties Pulumi keeps as secrets and AWS keeps " +
        "encrypted (tls/random outputs, Secrets Manager versions, ACM imports, SSM SecureString, RDS passwords): never " +
        "in user data, tags, plain parameters or any other property.",
    enforcementLevel: "mandatory",
    validateStack: (args, report) => {
        const passwords = args.resources
            .filter((r) => r.type === "random:index/randomPassword:RandomPassword")
            .flatMap((r) => strings(known(() => r.props.result)))
            .filter((p) => p.length >= 8);
        for (const r of args.resources) {
            // Component outputs only repackage their children's, and stack outputs are checked by the unit tests
            // (the policy SDK hands policies secret values already unwrapped).
            if (!isProviderResource(r.type)) continue;
            const allowed = new Set((SECRET_PROPERTIES[r.type] ?? (() => []))(r.props));
            for (const key of Object.keys(r.props)) {
                if (allowed.has(key)) continue;
                for (const { path, text } of texts(known(() => r.props[key]), key)) {
                    const what = PRIVATE_KEY_PEM.test(text) ? "a private key" : passwords.some((p) => text.includes(p)) ? "a generated password" : undefined;
                    if (what) {
                        // Never echo the value: the message ends up in CI logs and PR comments.
                        report(`${label(r)}: ${path} holds ${what}. Keep it in a Secrets Manager secret or an SSM SecureString and pass its ARN.`, r.urn);
                    }
                }
            }
        }
    },
};

// ---------------------------------------------------------------------------------------------------
// Audit trail: every access to study objects, every flow, every load balancer request and WAF decision is recorded.

function nested(r: PolicyResource, property: string, field: string): string[] {
    return strings(known(() => (known(() => r.props[property]) as Record<string, unknown> | undefined)?.[field]));
}

/** Buckets that receive logs: server access log targets, CloudTrail buckets, flow log and WAF destinations, ELB log buckets. */
export function logDestinationBuckets(resources: readonly PolicyResource[]): PolicyResource[] {
    const all = buckets(resources);
    // ARNs may carry a prefix (flow logs: <bucket ARN>/<prefix>): compare their bucket part.
    const byArn = (values: string[]) => ({ values: values.map((v) => v.replace(/^(arn:[^:]+:s3:::[^/]+)\/.*$/, "$1")) });
    const found = new Set<PolicyResource>();
    for (const r of resources) {
        let hits: PolicyResource[] = [];
        if (r.isType(aws.s3.BucketLogging) || r.isType(aws.s3.BucketLoggingV2)) hits = references(r, "targetBucket", all);
        else if (r.isType(aws.cloudtrail.Trail)) hits = references(r, "s3BucketName", all);
        else if (r.isType(aws.ec2.FlowLog)) hits = references(r, "logDestination", all, byArn(strings(known(() => r.props.logDestination))));
        else if (r.isType(aws.wafv2.WebAclLoggingConfiguration)) hits = references(r, "logDestinationConfigs", all, byArn(strings(known(() => r.props.logDestinationConfigs))));
        else if (r.isType(aws.lb.LoadBalancer) || r.isType(aws.alb.LoadBalancer)) hits = references(r, "accessLogs", all, { values: nested(r, "accessLogs", "bucket") });
        hits.forEach((b) => found.add(b));
    }
    return [...found];
}

/** The bucket ARNs (or prefixes of them) a trail's data event selectors cover. */
function trailDataResources(trail: PolicyResource): string[] {
    type Selector = { fieldSelectors?: unknown; dataResources?: unknown };
    const advanced = items(known(() => trail.props.advancedEventSelectors)).flatMap((sel) =>
        items(known(() => (sel as Selector).fieldSelectors)).flatMap((f) => {
            const field = f as { field?: unknown; startsWith?: unknown; equals?: unknown };
            return known(() => field.field) === "resources.ARN" ? [...strings(known(() => field.startsWith)), ...strings(known(() => field.equals))] : [];
        }),
    );
    const basic = items(known(() => trail.props.eventSelectors)).flatMap((sel) =>
        items(known(() => (sel as Selector).dataResources)).flatMap((d) => strings(known(() => (d as { values?: unknown }).values))),
    );
    return [...advanced, ...basic].map((v) => v.replace(/\/.*$/, ""));
}

export const studyObjectAccessRecorded: StackValidationPolicy = {
    name: "study-object-access-recorded",
    description:
        "Every bucket that is not itself a log destination (the study bucket) records who read or wrote which object: S3 " +
        "server access logging to another bucket, or CloudTrail data events on its objects.",
    enforcementLevel: "mandatory",
    validateStack: (args, report) => {
        const destinations = logDestinationBuckets(args.resources);
        const logging = args.resources.filter((r) => r.isType(aws.s3.BucketLogging) || r.isType(aws.s3.BucketLoggingV2));
        const trails = args.resources.filter((r) => r.isType(aws.cloudtrail.Trail));
        for (const bucket of buckets(args.resources)) {
            if (destinations.includes(bucket)) continue;
            const accessLogged = logging.some((l) => references(l, "bucket", [bucket]).length > 0 && has(l.props, "targetBucket"));
            const dataEvents = trails.some((t) => references(t, "advancedEventSelectors", [bucket], { values: trailDataResources(t) }).length > 0 || references(t, "eventSelectors", [bucket], { values: trailDataResources(t) }).length > 0);
            if (!accessLogged && !dataEvents) {
                report(
                    `bucket ${bucket.name} records no object access: add an aws.s3.BucketLogging to a log bucket, or a CloudTrail trail with data events on ${bucket.name}'s objects.`,
                    bucket.urn,
                );
            }
        }
    },
};

function isVpc(r: PolicyResource): boolean {
    return r.isType(aws.ec2.Vpc) || r.type === "awsx:ec2:Vpc";
}

export const vpcFlowLogs: StackValidationPolicy = {
    name: "vpc-flow-logs",
    description: "Every VPC (aws.ec2.Vpc or awsx's) has a flow log, so that every accepted and rejected connection to the instances and the database is recorded.",
    enforcementLevel: "mandatory",
    validateStack: (args, report) => {
        const vpcs = args.resources.filter(isVpc);
        const flowLogs = args.resources.filter((r) => r.isType(aws.ec2.FlowLog));
        // awsx's VPC component is pointed at by its vpcId output.
        const handles = (r: PolicyResource) => [...handlesOf(r), ...strings(known(() => r.props.vpcId))];
        for (const vpc of vpcs) {
            if (!flowLogs.some((f) => references(f, "vpcId", [vpc], { handles }).length > 0)) {
                report(`VPC ${vpc.name} has no flow log; add an aws.ec2.FlowLog with vpcId set to it (trafficType ALL).`, vpc.urn);
            }
        }
    },
};

export const loadBalancerAccessLogs: StackValidationPolicy = {
    name: "load-balancer-access-logs",
    description:
        "Every application load balancer, and every network load balancer with a TLS listener (NLB access logs exist only " +
        "for TLS listeners), writes access logs to a bucket.",
    enforcementLevel: "mandatory",
    validateStack: (args, report) => {
        const listeners = args.resources.filter((r) => r.isType(aws.lb.Listener) || r.isType(aws.alb.Listener));
        for (const lb of args.resources.filter((r) => r.isType(aws.lb.LoadBalancer) || r.isType(aws.alb.LoadBalancer))) {
            const type = known(() => lb.props.loadBalancerType) ?? "application";
            if (type === "gateway") continue;
            const tls = listeners.some((l) => references(l, "loadBalancerArn", [lb]).length > 0 && String(known(() => l.props.protocol)).toUpperCase() === "TLS");
            if (type === "network" && !tls) continue;
            const logs = known(() => lb.props.accessLogs) as Record<string, unknown> | undefined;
            if (known(() => logs?.enabled) !== true || !has(logs, "bucket")) {
                report(
                    `${type} load balancer ${lb.name} ${type === "network" ? "has a TLS listener but " : ""}writes no access logs; set accessLogs { bucket, prefix, enabled: true }.`,
                    lb.urn,
                );
            }
        }
    },
};

/** WAF delivers only to destinations named aws-waf-logs-*: an S3 bucket, a log group or a Firehose stream. */
export const WAF_LOG_DESTINATION = /(?::::|:log-group:|:deliverystream\/)aws-waf-logs-/;

export const wafLogging: StackValidationPolicy = {
    name: "waf-logging",
    description:
        "Every WAF web ACL logs the requests it inspects (which rule matched, what it did) to a destination named " +
        "aws-waf-logs-* (the only names WAF delivers to).",
    enforcementLevel: "mandatory",
    validateStack: (args, report) => {
        const configs = args.resources.filter((r) => r.isType(aws.wafv2.WebAclLoggingConfiguration));
        for (const acl of args.resources.filter((r) => r.isType(aws.wafv2.WebAcl))) {
            const mine = configs.filter((c) => references(c, "resourceArn", [acl]).length > 0);
            if (mine.length === 0) {
                report(`web ACL ${acl.name} has no aws.wafv2.WebAclLoggingConfiguration; log it to an S3 bucket, log group or Firehose stream named aws-waf-logs-*.`, acl.urn);
                continue;
            }
            const misnamed = mine.flatMap((c) => strings(known(() => c.props.logDestinationConfigs))).filter((d) => !WAF_LOG_DESTINATION.test(d));
            if (misnamed.length > 0) report(`web ACL ${acl.name} logs to ${misnamed.join(", ")}; WAF delivers only to destinations named aws-waf-logs-*.`, acl.urn);
        }
    },
};

// ---------------------------------------------------------------------------------------------------
// Production.

function isProd(args: ResourceValidationArgs): boolean {
    const environment = args.getConfig<{ environment?: string }>().environment;
    return environment !== undefined ? environment === "prod" : environmentTag(args.props) === "prod";
}

function protectDatabase(db: { deletionProtection?: boolean; skipFinalSnapshot?: boolean }, args: ResourceValidationArgs, report: ReportViolation) {
    if (!isProd(args)) return;
    if (db.deletionProtection !== true) report("deletionProtection is not true in prod.");
    if (db.skipFinalSnapshot === true) report("skipFinalSnapshot is true in prod; a deletion would lose the index without a snapshot.");
}

function protectBucket(bucket: { forceDestroy?: boolean }, args: ResourceValidationArgs, report: ReportViolation) {
    if (isProd(args) && bucket.forceDestroy === true) report("forceDestroy is true in prod: deleting the stack would delete every image.");
}

function protectLoadBalancer(lb: { enableDeletionProtection?: boolean }, args: ResourceValidationArgs, report: ReportViolation) {
    if (isProd(args) && lb.enableDeletionProtection !== true) report("enableDeletionProtection is not true in prod.");
}

export const deletionProtectionInProd: ResourceValidationPolicy = {
    name: "deletion-protection-in-prod",
    description:
        "In prod, databases have deletion protection and take a final snapshot, buckets cannot be force-destroyed with " +
        "their images, and load balancers (whose DNS names modalities are configured with) have deletion protection. " +
        "Prod is the policy config's `environment`, else the resource's Environment tag.",
    enforcementLevel: "mandatory",
    configSchema: {
        properties: {
            environment: { type: "string", enum: ["dev", "prod"], description: "The stack's environment; unset: read each resource's Environment tag." },
        },
    },
    validateResource: [
        validateResourceOfType(aws.rds.Instance, protectDatabase),
        validateResourceOfType(aws.rds.Cluster, protectDatabase),
        validateResourceOfType(aws.s3.Bucket, protectBucket),
        validateResourceOfType(aws.s3.BucketV2, protectBucket),
        validateResourceOfType(aws.lb.LoadBalancer, protectLoadBalancer),
        validateResourceOfType(aws.alb.LoadBalancer, protectLoadBalancer),
    ],
};

/** The whole pack, in the order the docs list it. */
export const policies: Validation[] = [
    instanceIngressNotOpenToInternet,
    adminPortsOnlyFromVpc,
    imdsv2Required,
    ebsEncrypted,
    rdsStorageEncrypted,
    rdsNotPublic,
    ebsKeyUsableByAutoScaling,
    s3DefaultEncryption,
    s3PublicAccessBlocked,
    s3TlsOnly,
    listenerTlsPolicy,
    albHttpRedirectsOnly,
    nlbSecurityGroups,
    healingNeverChurns,
    clientVpnSplitTunnel,
    clientVpnConnectionLogging,
    siteToSiteStrongTunnels,
    siteToSiteOnlyServicePorts,
    caOutlivesLeaves,
    credentialsOnlyInSecrets,
    studyObjectAccessRecorded,
    vpcFlowLogs,
    loadBalancerAccessLogs,
    wafLogging,
    deletionProtectionInProd,
];

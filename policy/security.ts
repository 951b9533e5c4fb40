// The pack's security rules (the grouping of Pulumi's AWSGuard pack): certificates and secrets, and the audit trail
// (study object access, flows, load balancer requests, WAF decisions).
import {
    PolicyResource,
    StackValidationPolicy,
} from "@pulumi/policy";
import { gunzipSync } from "zlib";
import { has, isProviderResource, items, known, references, strings } from "./graph";
import { aws, tls } from "./resourceTypes";
import { buckets, isLoadBalancer, isVpc, label, listenersIn, loadBalancersIn, vpcHandles } from "./common";

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
            const bytes = Buffer.from(value, "base64");
            // gzip-compressed user data (cloud-init decompresses it): read it as cloud-init does.
            let decoded = bytes.toString("utf8");
            if (bytes[0] === 0x1f && bytes[1] === 0x8b) {
                try {
                    decoded = gunzipSync(bytes).toString("utf8");
                } catch {
                    // Not really gzip: the bytes as text.
                }
            }
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
        else if (isLoadBalancer(r)) hits = references(r, "accessLogs", all, { values: nested(r, "accessLogs", "bucket") });
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

export const vpcFlowLogs: StackValidationPolicy = {
    name: "vpc-flow-logs",
    description: "Every VPC (aws.ec2.Vpc or awsx's) has a flow log, so that every accepted and rejected connection to the instances and the database is recorded.",
    enforcementLevel: "mandatory",
    validateStack: (args, report) => {
        const vpcs = args.resources.filter(isVpc);
        const flowLogs = args.resources.filter((r) => r.isType(aws.ec2.FlowLog));
        for (const vpc of vpcs) {
            if (!flowLogs.some((f) => references(f, "vpcId", [vpc], { handles: vpcHandles }).length > 0)) {
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
        const listeners = listenersIn(args.resources);
        for (const lb of loadBalancersIn(args.resources)) {
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

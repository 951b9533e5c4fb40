import { expect } from "chai";
import { renderCloudConfig } from "../components/bootstrap";
import * as aws from "@pulumi/aws";
import * as tls from "@pulumi/tls";
import { ResourceValidationPolicy, StackValidationPolicy } from "@pulumi/policy";
import * as fs from "fs";
import * as path from "path";
import { gzipSync } from "zlib";
import { parse } from "yaml";
import * as rules from "../policy/rules";
import * as packTypes from "../policy/resourceTypes";
import { FRONT_DOORS, trafficSchema } from "../stacks/schema";
import { listStacks } from "../stacks/stackFile";
import { MOCK_PRIVATE_KEY_PEM } from "../plan/mockRuntime";
import { enforcementOf, evaluate, NotApplicableError, Policy, POLICY_DIR, policyConfigFor, policyResources, resourceArgs, stackArgs, subjectsOf, Violation } from "../plan/policyRun";
import { build, plannedStack, REGION, TYPES, withConfig } from "./harness";
import { DICOM_PORT, WEB_PORT, DATABASE_PORT } from "../rules/ports";
import { webAclRules } from "../rules/loadBalancerLayout";

// The engine's sentinel for a string it cannot know during preview (an id of a resource yet to be created).
// eslint-disable-next-line @typescript-eslint/no-var-requires
const UNKNOWN: string = require("@pulumi/policy/proxy").unknownStringValue;

/** pulumi-aws v7 / pulumi-tls type tokens, as the engine sends them. */
const T = {
    ...TYPES,
    lifecycleHook: "aws:autoscaling/lifecycleHook:LifecycleHook",
    sgRule: "aws:ec2/securityGroupRule:SecurityGroupRule",
    vpcResource: "aws:ec2/vpc:Vpc",
    volume: "aws:ebs/volume:Volume",
    rdsCluster: "aws:rds/cluster:Cluster",
    rdsClusterInstance: "aws:rds/clusterInstance:ClusterInstance",
    accountPublicAccess: "aws:s3/accountPublicAccessBlock:AccountPublicAccessBlock",
    loadBalancer: "aws:lb/loadBalancer:LoadBalancer",
    albLoadBalancer: "aws:alb/loadBalancer:LoadBalancer",
    listener: "aws:lb/listener:Listener",
    albListener: "aws:alb/listener:Listener",
    listenerRule: "aws:lb/listenerRule:ListenerRule",
    vpnEndpoint: "aws:ec2clientvpn/endpoint:Endpoint",
    locallySignedCert: "tls:index/locallySignedCert:LocallySignedCert",
    randomPassword: "random:index/randomPassword:RandomPassword",
    ssmParameter: "aws:ssm/parameter:Parameter",
    vpnConnection: "aws:ec2/vpnConnection:VpnConnection",
    vpnConnectionRoute: "aws:ec2/vpnConnectionRoute:VpnConnectionRoute",
} as const;

interface Hand {
    readonly type: string;
    readonly name: string;
    readonly props: Record<string, unknown>;
    readonly propertyDependencies?: Record<string, string[]>;
    /** The parent's URN (as the engine sets it: awsx's children have the VPC component as parent). */
    readonly parent?: string;
}

const urn = (type: string, name: string) => `urn:pulumi:test::orthweb::${type}::${name}`;

async function resourceViolations(policy: ResourceValidationPolicy, type: string, props: Record<string, unknown>, config: Record<string, unknown> = {}): Promise<string[]> {
    const messages: string[] = [];
    const validations = Array.isArray(policy.validateResource) ? policy.validateResource : [policy.validateResource!];
    for (const validate of validations) {
        try {
            await validate(resourceArgs({ type, name: "subject", props }, config), (m) => messages.push(m));
        } catch (e) {
            if (!(e instanceof NotApplicableError)) throw e;
        }
    }
    return messages;
}

async function stackViolations(policy: StackValidationPolicy, resources: Hand[], config: Record<string, unknown> = {}): Promise<{ message: string; urn?: string }[]> {
    const found: { message: string; urn?: string }[] = [];
    await policy.validateStack(stackArgs(policyResources(resources), config), (message, u) => found.push({ message, urn: u }));
    return found;
}

const mandatory = (violations: Violation[]) => violations.filter((v) => v.enforcementLevel === "mandatory");

/**
 * Stack outputs that hold a private key or a generated password without being Pulumi secrets. The pack cannot
 * tell (the policy SDK unwraps secrets before rules see them); a mock run can.
 */
function plainCredentialOutputs(built: { registrations: { type: string; state: Record<string, any> }[]; outputs: Record<string, unknown>; secretOutputs: Set<string> }): string[] {
    const passwords = built.registrations.filter((r) => r.type === T.randomPassword).map((r) => String(r.state.result));
    const holds = (value: unknown) => {
        const text = JSON.stringify(value ?? "");
        return /-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY-----/.test(text) || passwords.some((p) => text.includes(p));
    };
    return Object.entries(built.outputs).filter(([key, value]) => holds(value) && !built.secretOutputs.has(key)).map(([key]) => key);
}

describe("policy pack: shape", () => {
    it("has at least 12 rules, each with a unique kebab-case name and a description", () => {
        expect(rules.policies.length).to.be.at.least(12);
        const names = rules.policies.map((p) => p.name);
        expect(new Set(names).size).to.equal(names.length);
        for (const p of rules.policies) {
            expect(p.name, p.name).to.match(/^[a-z0-9]+(-[a-z0-9]+)*$/);
            expect(p.description.length, p.name).to.be.greaterThan(40);
        }
    });

    it("is mandatory except the instance-ingress rule, which is advisory unless a stack's policy config raises it", () => {
        const advisory = rules.policies.filter((p) => enforcementOf(p, {}) !== "mandatory").map((p) => p.name);
        expect(advisory).to.deep.equal(["instance-ingress-not-open-to-internet"]);
        expect(enforcementOf(rules.instanceIngressNotOpenToInternet, policyConfigFor("dev"))).to.equal("advisory");
        expect(enforcementOf(rules.instanceIngressNotOpenToInternet, policyConfigFor("prod"))).to.equal("mandatory");
    });

    it("is listed in docs/guardrails.md, one row per rule with its default level", () => {
        const doc = fs.readFileSync(path.resolve(__dirname, "..", "docs", "guardrails.md"), "utf8");
        const rows = [...doc.matchAll(/^\| `([a-z0-9-]+)` \| (advisory|mandatory)\b/gm)].map((m) => [m[1], m[2]]);
        expect(rows).to.deep.equal(rules.policies.map((p) => [p.name, enforcementOf(p, {})]));
    });

    it("guards the ports the program actually serves", () => {
        expect([rules.WEB_PORT, rules.DICOM_PORT, rules.POSTGRES_PORT]).to.deep.equal([WEB_PORT, DICOM_PORT, DATABASE_PORT]);
    });

    it("builds validation args whose isType checks the class it is given", () => {
        const args = resourceArgs({ type: T.bucket, name: "b", props: {} });
        expect(args.isType(aws.s3.Bucket)).to.equal(true);
        expect(args.isType(aws.s3.BucketV2)).to.equal(false);
        expect(args.asType(aws.ec2.Instance)).to.equal(undefined);
    });

    it("names each resource type by the SDK class's own type token (the pack does not load @pulumi/aws or @pulumi/tls)", () => {
        const sdk: Record<string, Record<string, unknown>> = { ...(aws as unknown as Record<string, Record<string, unknown>>), tls: tls as unknown as Record<string, unknown> };
        const pairs = (types: Record<string, { __pulumiType: string }>, module: Record<string, unknown>) =>
            Object.entries(types).map(([name, t]) => [name, t.__pulumiType, (module[name] as { __pulumiType?: string } | undefined)?.__pulumiType]);
        const found = [
            ...Object.entries(packTypes.aws).flatMap(([mod, types]) => pairs(types, sdk[mod]).map(([n, ours, theirs]) => [`aws.${mod}.${n}`, ours, theirs])),
            ...pairs(packTypes.tls, sdk.tls).map(([n, ours, theirs]) => [`tls.${n}`, ours, theirs]),
        ];
        expect(found).to.have.length.above(30);
        for (const [name, ours, theirs] of found) expect(ours, name).to.be.a("string").and.equal(theirs);
    });

    it("keeps the pack's TypeScript off @pulumi/aws and @pulumi/tls (the CLI type-checks the pack at every start)", () => {
        const dir = path.resolve(__dirname, "..", "policy");
        const sources = fs.readdirSync(dir).filter((f) => f.endsWith(".ts"));
        expect(sources).to.include.members(["index.ts", "rules.ts", "common.ts", "compute.ts", "database.ts", "network.ts", "security.ts", "storage.ts", "resourceTypes.ts"]);
        const imports = sources.flatMap((f) => [...fs.readFileSync(path.join(dir, f), "utf8").matchAll(/(?:from\s+|require\(|import\()\s*["']([^"']+)["']/g)].map((m) => `${f}: ${m[1]}`));
        expect(imports.filter((i) => /@pulumi\/(aws|tls|awsx|random)\b/.test(i))).to.deep.equal([]);
        expect(imports).to.include("network.ts: @pulumi/policy");
    });
});

describe("policy: instance-ingress-not-open-to-internet", () => {
    const sg = (extra: Record<string, unknown> = {}): Hand => ({ type: T.securityGroup, name: "orthanc-instances", props: { id: "sg-inst", ...extra } });
    const template: Hand = { type: T.launchTemplate, name: "orthanc-lt", props: { id: "lt-1", vpcSecurityGroupIds: ["sg-inst"] } };
    const rule = (name: string, props: Record<string, unknown>): Hand => ({
        type: T.ingressRule,
        name,
        props: { securityGroupId: "sg-inst", ipProtocol: "tcp", ...props },
    });
    const check = (resources: Hand[]) => stackViolations(rules.instanceIngressNotOpenToInternet, resources);

    it("passes ingress from the clients' own blocks", async () => {
        expect(await check([sg(), template, rule("web", { fromPort: 443, toPort: 443, cidrIpv4: "198.51.100.0/24" })])).to.deep.equal([]);
    });

    it("reports a vpc.SecurityGroupIngressRule opening 443 to 0.0.0.0/0, on that rule", async () => {
        const found = await check([sg(), template, rule("web", { fromPort: 443, toPort: 443, cidrIpv4: "0.0.0.0/0" })]);
        expect(found).to.have.length(1);
        expect(found[0].urn).to.equal(urn(T.ingressRule, "web"));
        expect(found[0].message).to.match(/port 443 .*orthanc-instances to 0\.0\.0\.0\/0/);
    });

    it("reports inline ingress whose port range covers 11112", async () => {
        const inline = sg({ ingress: [{ protocol: "tcp", fromPort: 11000, toPort: 12000, cidrBlocks: ["0.0.0.0/0"] }] });
        const found = await check([inline, template]);
        expect(found.map((f) => f.message)).to.satisfy((m: string[]) => m.length === 1 && /port 11112/.test(m[0]));
    });

    it("reports an ec2.SecurityGroupRule for all protocols from ::/0", async () => {
        const sgRule: Hand = { type: T.sgRule, name: "all", props: { type: "ingress", securityGroupId: "sg-inst", protocol: "-1", fromPort: 0, toPort: 0, ipv6CidrBlocks: ["::/0"] } };
        const found = await check([sg(), template, sgRule]);
        expect(found).to.have.length(1);
        expect(found[0].message).to.match(/port 443, 11112 .* ::\/0/);
    });

    it("leaves other groups alone: a load balancer's group may face the internet", async () => {
        const lbGroup: Hand = { type: T.securityGroup, name: "lb", props: { id: "sg-lb" } };
        const lbRule: Hand = { type: T.ingressRule, name: "lb-443", props: { securityGroupId: "sg-lb", ipProtocol: "tcp", fromPort: 443, toPort: 443, cidrIpv4: "0.0.0.0/0" } };
        expect(await check([sg(), template, lbGroup, lbRule])).to.deep.equal([]);
    });

    it("finds the instances' group during preview, when ids are unknown, through property dependencies", async () => {
        const group: Hand = { type: T.securityGroup, name: "orthanc-instances", props: { id: UNKNOWN } };
        const lt: Hand = { ...template, props: { id: UNKNOWN, vpcSecurityGroupIds: [UNKNOWN] }, propertyDependencies: { vpcSecurityGroupIds: [urn(T.securityGroup, "orthanc-instances")] } };
        const open: Hand = {
            ...rule("web", { securityGroupId: UNKNOWN, fromPort: 443, toPort: 443, cidrIpv4: "0.0.0.0/0" }),
            propertyDependencies: { securityGroupId: [urn(T.securityGroup, "orthanc-instances")] },
        };
        expect(await check([group, lt, open])).to.have.length(1);
    });
});

describe("policy: admin-ports-only-from-vpc", () => {
    const vpc: Hand = { type: T.vpc, name: "orthanc-vpc", props: { cidrBlock: "172.17.0.0/16" } };
    const dbRule = (props: Record<string, unknown>): Hand => ({ type: T.ingressRule, name: "db", props: { securityGroupId: "sg-db", ipProtocol: "tcp", fromPort: 5432, toPort: 5432, ...props } });
    const check = (resources: Hand[]) => stackViolations(rules.adminPortsOnlyFromVpc, resources);

    it("passes PostgreSQL from a security group or from inside the VPC", async () => {
        expect(await check([vpc, dbRule({ referencedSecurityGroupId: "sg-inst" }), dbRule({ cidrIpv4: "172.17.16.0/20" })])).to.deep.equal([]);
    });

    it("reports PostgreSQL from a public block", async () => {
        const found = await check([vpc, dbRule({ cidrIpv4: "203.0.113.0/24" })]);
        expect(found).to.have.length(1);
        expect(found[0].message).to.match(/port 5432 to 203\.0\.113\.0\/24, outside the VPC \(172\.17\.0\.0\/16\)/);
    });

    it("reports SSH inline from anywhere, and a private block that is not this VPC's", async () => {
        const sg: Hand = {
            type: T.securityGroup,
            name: "bastion",
            props: { ingress: [{ protocol: "tcp", fromPort: 22, toPort: 22, cidrBlocks: ["0.0.0.0/0"] }, { protocol: "tcp", fromPort: 0, toPort: 65535, cidrBlocks: ["10.9.0.0/16"] }] },
        };
        const found = await check([{ type: T.vpcResource, name: "v", props: { cidrBlock: "172.17.0.0/16" } }, sg]);
        expect(found.map((f) => f.message)).to.have.length(2);
        expect(found[1].message).to.match(/port 22, 5432 to 10\.9\.0\.0\/16/);
    });

    it("falls back to RFC 1918 when the stack declares no VPC", async () => {
        expect(await check([dbRule({ cidrIpv4: "10.1.0.0/16" })])).to.deep.equal([]);
        expect(await check([dbRule({ cidrIpv4: "8.8.8.8/32" })])).to.have.length(1);
    });
});

describe("policy: imdsv2-required", () => {
    const check = (type: string, props: Record<string, unknown>) => resourceViolations(rules.imdsv2Required, type, props);

    it("passes a launch template requiring tokens, and an instance that inherits it", async () => {
        expect(await check(T.launchTemplate, { metadataOptions: { httpTokens: "required", httpPutResponseHopLimit: 2 } })).to.deep.equal([]);
        expect(await check(T.instance, { launchTemplate: { id: "lt-1" } })).to.deep.equal([]);
    });

    it("reports optional tokens on a template and an instance without a template", async () => {
        expect(await check(T.launchTemplate, { metadataOptions: { httpTokens: "optional" } })).to.deep.equal([`metadataOptions.httpTokens is "optional"; set it to "required".`]);
        expect(await check(T.instance, { ami: "ami-1" })).to.have.length(1);
        expect(await check(T.instance, { launchTemplate: { id: "lt-1" }, metadataOptions: { httpTokens: "optional" } })).to.have.length(1);
    });
});

describe("policy: ebs-encrypted", () => {
    const check = (type: string, props: Record<string, unknown>) => resourceViolations(rules.ebsEncrypted, type, props);

    it("passes encrypted template devices, instance volumes and standalone volumes", async () => {
        expect(await check(T.launchTemplate, { blockDeviceMappings: [{ deviceName: "/dev/xvda", ebs: { encrypted: "true" } }] })).to.deep.equal([]);
        expect(await check(T.instance, { rootBlockDevice: { encrypted: true }, ebsBlockDevices: [{ deviceName: "/dev/sdf", encrypted: true }] })).to.deep.equal([]);
        expect(await check(T.volume, { encrypted: true, size: 10 })).to.deep.equal([]);
    });

    it("reports unencrypted devices and a template that leaves the root volume to the image", async () => {
        expect(await check(T.launchTemplate, { blockDeviceMappings: [{ deviceName: "/dev/xvda", ebs: { encrypted: "false" } }] })).to.deep.equal([
            `block device /dev/xvda is not encrypted; set ebs.encrypted = "true".`,
        ]);
        expect((await check(T.launchTemplate, {}))[0]).to.match(/declares no EBS block device/);
        expect(await check(T.instance, { ami: "ami-1", ebsBlockDevices: [{ deviceName: "/dev/sdf" }] })).to.have.length(2);
        expect(await check(T.volume, { size: 10 })).to.have.length(1);
    });
});

describe("policy: rds-storage-encrypted and rds-not-publicly-accessible", () => {
    it("passes an encrypted, private database", async () => {
        expect(await resourceViolations(rules.rdsStorageEncrypted, T.rds, { storageEncrypted: true })).to.deep.equal([]);
        expect(await resourceViolations(rules.rdsStorageEncrypted, T.rdsCluster, { storageEncrypted: true })).to.deep.equal([]);
        expect(await resourceViolations(rules.rdsNotPublic, T.rds, { publiclyAccessible: false })).to.deep.equal([]);
    });

    it("reports unencrypted storage and a public address", async () => {
        expect(await resourceViolations(rules.rdsStorageEncrypted, T.rds, {})).to.have.length(1);
        expect(await resourceViolations(rules.rdsStorageEncrypted, T.rdsCluster, { storageEncrypted: false })).to.have.length(1);
        expect(await resourceViolations(rules.rdsNotPublic, T.rds, { publiclyAccessible: true })).to.deep.equal(["publiclyAccessible is true; set it to false."]);
        expect(await resourceViolations(rules.rdsNotPublic, T.rdsClusterInstance, { publiclyAccessible: true })).to.have.length(1);
    });
});

describe("policy: S3 (default encryption, public access block, TLS only)", () => {
    const bucket: Hand = { type: T.bucket, name: "images", props: { id: "images-1", bucket: "images-1", arn: "arn:aws:s3:::images-1" } };
    const sse = (algorithm: string): Hand => ({ type: T.bucketEncryption, name: "images", props: { bucket: "images-1", rules: [{ applyServerSideEncryptionByDefault: { sseAlgorithm: algorithm } }] } });
    const block = (flags: Partial<Record<string, boolean>> = {}): Hand => ({
        type: T.bucketPublicAccess,
        name: "images",
        props: { bucket: "images-1", blockPublicAcls: true, blockPublicPolicy: true, ignorePublicAcls: true, restrictPublicBuckets: true, ...flags },
    });
    const denyHttp = {
        Sid: "DenyInsecureTransport",
        Effect: "Deny",
        Principal: "*",
        Action: "s3:*",
        Resource: ["arn:aws:s3:::images-1", "arn:aws:s3:::images-1/*"],
        Condition: { Bool: { "aws:SecureTransport": "false" } },
    };
    const policy = (statements: object[], bucketRef = "images-1"): Hand => ({
        type: T.bucketPolicy,
        name: "images",
        props: { bucket: bucketRef, policy: JSON.stringify({ Version: "2012-10-17", Statement: statements }) },
    });

    it("passes a bucket with SSE-KMS (separate resource) or SSE-S3 (inline)", async () => {
        expect(await stackViolations(rules.s3DefaultEncryption, [bucket, sse("aws:kms")])).to.deep.equal([]);
        const inline = { ...bucket, props: { ...bucket.props, serverSideEncryptionConfiguration: { rule: { applyServerSideEncryptionByDefault: { sseAlgorithm: "AES256" } } } } };
        expect(await stackViolations(rules.s3DefaultEncryption, [inline])).to.deep.equal([]);
    });

    it("reports a bucket without default encryption, or with an unknown algorithm", async () => {
        const found = await stackViolations(rules.s3DefaultEncryption, [bucket]);
        expect(found).to.deep.equal([{ message: "bucket images declares no default encryption; add an aws.s3.BucketServerSideEncryptionConfiguration (aws:kms).", urn: urn(T.bucket, "images") }]);
        expect(await stackViolations(rules.s3DefaultEncryption, [bucket, sse("rot13")])).to.have.length(1);
    });

    it("passes a bucket whose public access block has all four settings, or an account-wide block", async () => {
        expect(await stackViolations(rules.s3PublicAccessBlocked, [bucket, block()])).to.deep.equal([]);
        const account: Hand = { type: T.accountPublicAccess, name: "account", props: block().props };
        expect(await stackViolations(rules.s3PublicAccessBlocked, [bucket, account])).to.deep.equal([]);
    });

    it("reports a missing block and names the setting left off", async () => {
        expect((await stackViolations(rules.s3PublicAccessBlocked, [bucket]))[0].message).to.equal("bucket images has no aws.s3.BucketPublicAccessBlock.");
        expect((await stackViolations(rules.s3PublicAccessBlocked, [bucket, block({ restrictPublicBuckets: false })]))[0].message).to.match(/leaves restrictPublicBuckets off/);
        expect(await stackViolations(rules.s3PublicAccessBlocked, [bucket, { ...block(), props: { ...block().props, bucket: "someone-else" } }])).to.have.length(1);
    });

    it("passes a bucket policy denying s3:* without TLS on the bucket and its objects", async () => {
        expect(await stackViolations(rules.s3TlsOnly, [bucket, policy([denyHttp])])).to.deep.equal([]);
        expect(rules.deniesInsecureTransport({ ...denyHttp, Principal: { AWS: "*" }, Action: ["*"], Condition: { Bool: { "aws:SecureTransport": false } } })).to.equal(true);
    });

    it("reports a bucket whose policy allows HTTP, covers only objects, or is missing", async () => {
        expect(await stackViolations(rules.s3TlsOnly, [bucket])).to.have.length(1);
        expect(await stackViolations(rules.s3TlsOnly, [bucket, policy([{ ...denyHttp, Effect: "Allow" }])])).to.have.length(1);
        expect(await stackViolations(rules.s3TlsOnly, [bucket, policy([{ ...denyHttp, Resource: "arn:aws:s3:::images-1/*" }])])).to.have.length(1);
        expect(await stackViolations(rules.s3TlsOnly, [bucket, policy([denyHttp], "another-bucket")])).to.have.length(1);
    });

    it("waits for a bucket policy that is not known during preview", async () => {
        const pending: Hand = { type: T.bucketPolicy, name: "images", props: { bucket: "images-1", policy: UNKNOWN } };
        expect(await stackViolations(rules.s3TlsOnly, [bucket, pending])).to.deep.equal([]);
    });
});

describe("policy: listener-tls-1-2-minimum", () => {
    const check = (type: string, props: Record<string, unknown>) => resourceViolations(rules.listenerTlsPolicy, type, props);

    it("passes TLS 1.2+ policies on HTTPS and TLS listeners, and ignores TCP pass-through", async () => {
        expect(await check(T.listener, { protocol: "HTTPS", port: 443, sslPolicy: rules.RECOMMENDED_SSL_POLICY })).to.deep.equal([]);
        expect(await check(T.albListener, { protocol: "TLS", port: 11112, sslPolicy: "ELBSecurityPolicy-TLS13-1-3-2021-06" })).to.deep.equal([]);
        expect(await check(T.listener, { protocol: "TCP", port: 11112 })).to.deep.equal([]);
    });

    it("reports a TLS listener without sslPolicy and an HTTPS listener on a policy that allows TLS 1.0", async () => {
        expect((await check(T.listener, { protocol: "TLS", port: 11112 }))[0]).to.match(/without sslPolicy: the default \(ELBSecurityPolicy-2016-08\) accepts TLS 1\.0/);
        expect((await check(T.listener, { protocol: "HTTPS", sslPolicy: "ELBSecurityPolicy-2016-08" }))[0]).to.match(/accepts TLS older than 1\.2/);
    });

    it("tells TLS 1.2+ ELB policies from older ones by name", () => {
        for (const name of ["ELBSecurityPolicy-TLS13-1-2-2021-06", "ELBSecurityPolicy-TLS13-1-2-Res-2021-06", "ELBSecurityPolicy-TLS-1-2-Ext-2018-06", "ELBSecurityPolicy-FS-1-2-Res-2020-10", "ELBSecurityPolicy-TLS13-1-3-FIPS-2023-04"]) {
            expect(rules.TLS12_POLICY.test(name), name).to.equal(true);
        }
        for (const name of ["ELBSecurityPolicy-2016-08", "ELBSecurityPolicy-TLS-1-1-2017-01", "ELBSecurityPolicy-TLS13-1-0-2021-06", "ELBSecurityPolicy-TLS13-1-1-2021-06", "ELBSecurityPolicy-FS-2018-06", "ELBSecurityPolicy-2015-05"]) {
            expect(rules.TLS12_POLICY.test(name), name).to.equal(false);
        }
    });
});

describe("policy: alb-http-redirects-only", () => {
    const redirect = { type: "redirect", redirect: { protocol: "HTTPS", port: "443", statusCode: "HTTP_301" } };
    const forward = { type: "forward", targetGroupArn: "arn:tg" };
    const listener = (name: string, protocol: string, actions: object[]): Hand => ({ type: T.listener, name, props: { arn: `arn:listener/${name}`, protocol, port: protocol === "HTTP" ? 80 : 443, defaultActions: actions } });
    const check = (resources: Hand[]) => stackViolations(rules.albHttpRedirectsOnly, resources);

    it("passes an HTTP listener that redirects to HTTPS, next to an HTTPS listener that forwards", async () => {
        expect(await check([listener("http", "HTTP", [redirect]), listener("https", "HTTPS", [forward])])).to.deep.equal([]);
    });

    it("reads a listener without protocol as HTTP on an application load balancer, not on a gateway one", async () => {
        const lb = (type: string): Hand => ({ type: T.loadBalancer, name: type, props: { arn: `arn:lb/${type}`, loadBalancerType: type } });
        const bare = (on: string): Hand => ({ type: T.listener, name: `on-${on}`, props: { loadBalancerArn: `arn:lb/${on}`, defaultActions: [forward] } });
        const found = await check([lb("application"), lb("gateway"), bare("application"), bare("gateway")]);
        expect(found.map((f) => f.urn)).to.deep.equal([urn(T.listener, "on-application")]);
    });

    it("reports an HTTP listener that forwards, and a rule on an HTTP listener that serves traffic", async () => {
        expect((await check([listener("http", "HTTP", [forward])]))[0].urn).to.equal(urn(T.listener, "http"));
        const rule: Hand = { type: T.listenerRule, name: "api", props: { listenerArn: "arn:listener/http", actions: [forward] } };
        const onHttps: Hand = { type: T.listenerRule, name: "ok", props: { listenerArn: "arn:listener/https", actions: [forward] } };
        const found = await check([listener("http", "HTTP", [redirect]), listener("https", "HTTPS", [forward]), rule, onHttps]);
        expect(found.map((f) => f.urn)).to.deep.equal([urn(T.listenerRule, "api")]);
    });
});

describe("policy: nlb-security-groups-at-creation", () => {
    const check = (type: string, props: Record<string, unknown>) => resourceViolations(rules.nlbSecurityGroups, type, props);

    it("passes an NLB created with security groups, even while their ids are unknown", async () => {
        expect(await check(T.loadBalancer, { loadBalancerType: "network", securityGroups: ["sg-lb"] })).to.deep.equal([]);
        expect(await check(T.loadBalancer, { loadBalancerType: "network", securityGroups: [UNKNOWN] })).to.deep.equal([]);
        expect(await check(T.loadBalancer, { loadBalancerType: "application" })).to.deep.equal([]);
    });

    it("reports an NLB without security groups", async () => {
        expect((await check(T.loadBalancer, { loadBalancerType: "network", subnets: ["subnet-1"] }))[0]).to.match(/can only be given at creation/);
        expect(await check(T.albLoadBalancer, { loadBalancerType: "network", securityGroups: [] })).to.have.length(1);
    });
});

describe("policy: healing-never-churns", () => {
    const check = (type: string, props: Record<string, unknown>) => resourceViolations(rules.healingNeverChurns, type, props);
    const gate = { name: "gate", lifecycleTransition: "autoscaling:EC2_INSTANCE_LAUNCHING", defaultResult: "CONTINUE", heartbeatTimeout: 1200 };

    it("passes groups that replace on EC2 status only, with launch hooks that time out into service", async () => {
        expect(await check(T.autoscalingGroup, { healthCheckType: "EC2", initialLifecycleHooks: [gate] })).to.deep.equal([]);
        expect(await check(T.autoscalingGroup, { minSize: 1 })).to.deep.equal([]);
        expect(await check(T.lifecycleHook, gate)).to.deep.equal([]);
        // A termination hook may abandon: it decides nothing about replacement.
        expect(await check(T.lifecycleHook, { lifecycleTransition: "autoscaling:EC2_INSTANCE_TERMINATING", defaultResult: "ABANDON" })).to.deep.equal([]);
    });

    it("reports a group on the load balancer's health, and a launch hook that abandons", async () => {
        expect((await check(T.autoscalingGroup, { healthCheckType: "ELB" }))[0]).to.match(/database is down.*"EC2"/);
        expect((await check(T.autoscalingGroup, { healthCheckType: "EC2", initialLifecycleHooks: [{ ...gate, defaultResult: "ABANDON" }] }))[0]).to.match(/^initialLifecycleHooks\[0\] defaultResult is "ABANDON"/);
        expect(await check(T.lifecycleHook, { ...gate, defaultResult: "ABANDON" })).to.have.length(1);
    });

    it("reports a group whose creation wait outlasts its launch hook's timeout (a timed-out hook would pass the deploy)", async () => {
        expect(await check(T.autoscalingGroup, { healthCheckType: "EC2", waitForCapacityTimeout: "1170s", initialLifecycleHooks: [{ ...gate, heartbeatTimeout: 1470 }] })).to.deep.equal([]);
        expect(await check(T.autoscalingGroup, { healthCheckType: "EC2", waitForCapacityTimeout: "0", initialLifecycleHooks: [gate] })).to.deep.equal([]);
        expect((await check(T.autoscalingGroup, { healthCheckType: "EC2", waitForCapacityTimeout: "20m", initialLifecycleHooks: [gate] }))[0]).to.match(/^initialLifecycleHooks\[0\] heartbeatTimeout 1200 s is not longer than waitForCapacityTimeout "20m"/);
        expect(await check(T.autoscalingGroup, { healthCheckType: "EC2", waitForCapacityTimeout: "1h", initialLifecycleHooks: [gate] })).to.have.length(1);
    });

    it("passes the program's slots in every stack file", async () => {
        for (const stack of ["dev", "prod", "site"]) {
            const { registrations } = await plannedStack(stack);
            const groups = registrations.filter((r) => r.type === T.autoscalingGroup);
            expect(groups, stack).to.have.length(2);
            for (const g of groups) expect(await check(T.autoscalingGroup, g.inputs), `${stack} ${g.name}`).to.deep.equal([]);
        }
    });
});

describe("policy: client VPN (split tunnel, connection logging)", () => {
    const endpoint = { splitTunnel: true, connectionLogOptions: { enabled: true, cloudwatchLogGroup: "/orthweb/vpn" } };

    it("passes a split-tunnel endpoint that logs connections, even before the log group's name is known", async () => {
        expect(await resourceViolations(rules.clientVpnSplitTunnel, T.vpnEndpoint, endpoint)).to.deep.equal([]);
        expect(await resourceViolations(rules.clientVpnConnectionLogging, T.vpnEndpoint, endpoint)).to.deep.equal([]);
        const pending = { ...endpoint, connectionLogOptions: { enabled: true, cloudwatchLogGroup: UNKNOWN } };
        expect(await resourceViolations(rules.clientVpnConnectionLogging, T.vpnEndpoint, pending)).to.deep.equal([]);
    });

    it("reports a full tunnel and disabled or unrouted logging", async () => {
        expect(await resourceViolations(rules.clientVpnSplitTunnel, T.vpnEndpoint, { ...endpoint, splitTunnel: false })).to.deep.equal(["splitTunnel is not true; set it to true."]);
        expect(await resourceViolations(rules.clientVpnSplitTunnel, T.vpnEndpoint, { connectionLogOptions: endpoint.connectionLogOptions })).to.have.length(1);
        expect((await resourceViolations(rules.clientVpnConnectionLogging, T.vpnEndpoint, { ...endpoint, connectionLogOptions: { enabled: false } }))[0]).to.match(/enabled is not true/);
        expect((await resourceViolations(rules.clientVpnConnectionLogging, T.vpnEndpoint, { ...endpoint, connectionLogOptions: { enabled: true } }))[0]).to.match(/without connectionLogOptions\.cloudwatchLogGroup/);
    });
});

describe("policy: ca-outlives-leaf-certificates", () => {
    const ca = (hours: number, pem = "CA-PEM"): Hand => ({ type: T.selfSignedCert, name: "vpn-ca", props: { isCaCertificate: true, validityPeriodHours: hours, certPem: pem } });
    const leaf = (hours: number, extra: Partial<Hand> = {}): Hand => ({ type: T.locallySignedCert, name: "vpn-server", props: { caCertPem: "CA-PEM", validityPeriodHours: hours, certPem: "LEAF" }, ...extra });
    const check = (resources: Hand[]) => stackViolations(rules.caOutlivesLeaves, resources);

    it("passes a CA that outlives its leaves", async () => {
        expect(await check([ca(10 * 365 * 24), leaf(825 * 24)])).to.deep.equal([]);
    });

    it("reports a CA whose validity was given in days, naming both lifetimes", async () => {
        const found = await check([ca(3650), leaf(825 * 24)]);
        expect(found).to.have.length(1);
        expect(found[0].urn).to.equal(urn(T.locallySignedCert, "vpn-server"));
        expect(found[0].message).to.equal("vpn-server is valid for 19800 h (825 days) but its CA vpn-ca only for 3650 h (152 days); raise the CA's validityPeriodHours.");
    });

    it("finds the CA during preview through the leaf's dependency on its certPem", async () => {
        const pending = leaf(825 * 24, { props: { caCertPem: UNKNOWN, validityPeriodHours: 825 * 24 }, propertyDependencies: { caCertPem: [urn(T.selfSignedCert, "vpn-ca")] } });
        expect(await check([ca(3650, UNKNOWN), pending])).to.have.length(1);
    });

    it("when several certificates share a PEM, relates the leaf to the CA among them only", async () => {
        const instanceCert: Hand = { type: T.selfSignedCert, name: "orthanc-tls", props: { validityPeriodHours: 397 * 24, certPem: "CA-PEM" } };
        expect(await check([ca(10 * 365 * 24), instanceCert, leaf(825 * 24)])).to.deep.equal([]);
    });
});

describe("policy: credentials-only-in-secret-properties", () => {
    const KEY = "-----BEGIN RSA PRIVATE KEY-----\nMIIEsecret\n-----END RSA PRIVATE KEY-----\n";
    const password: Hand = { type: T.randomPassword, name: "admin", props: { length: 32, result: "s3cr3t-generated-password-value" } };
    const check = (resources: Hand[]) => stackViolations(rules.credentialsOnlyInSecrets, resources);

    it("passes keys and passwords kept in Secrets Manager, SSM SecureString and tls/random outputs", async () => {
        expect(
            await check([
                password,
                { type: T.privateKey, name: "tls", props: { privateKeyPem: KEY } },
                { type: T.secretVersion, name: "admin", props: { secretString: JSON.stringify({ password: "s3cr3t-generated-password-value", key: KEY }) } },
                { type: T.ssmParameter, name: "key", props: { type: "SecureString", value: KEY } },
                { type: "orthweb:index:ClientVpnAccess", name: "vpn", props: { profiles: KEY } },
            ]),
        ).to.deep.equal([]);
    });

    it("reports a key in base64 user data, a password in a tag, a key in a plain parameter, without echoing them", async () => {
        const found = await check([
            password,
            { type: T.launchTemplate, name: "lt", props: { userData: Buffer.from(`#cloud-config\nwrite_files:\n- content: |\n${KEY}`).toString("base64") } },
            { type: T.instance, name: "i", props: { tags: { Note: "pw s3cr3t-generated-password-value" } } },
            { type: T.ssmParameter, name: "key", props: { type: "String", value: KEY } },
        ]);
        expect(found.map((f) => f.message)).to.deep.equal([
            "LaunchTemplate lt: userData (base64-decoded) holds a private key. Keep it in a Secrets Manager secret or an SSM SecureString and pass its ARN.",
            "Instance i: tags.Note holds a generated password. Keep it in a Secrets Manager secret or an SSM SecureString and pass its ARN.",
            "Parameter key: value holds a private key. Keep it in a Secrets Manager secret or an SSM SecureString and pass its ARN.",
        ]);
        expect(JSON.stringify(found)).not.to.include("s3cr3t").and.not.to.include("MIIE");
    });

    it("reads cloud-init's gz+b64 write_files too: a key compressed into user data is still reported", async () => {
        const content = gzipSync(Buffer.from(`key:\n${KEY}`)).toString("base64");
        const cloudConfig = `#cloud-config\nwrite_files:\n  - path: /opt/x\n    encoding: gz+b64\n    content: ${content}\n`;
        const found = await check([{ type: T.launchTemplate, name: "lt", props: { userData: Buffer.from(cloudConfig).toString("base64") } }]);
        expect(found.map((f) => f.message)).to.deep.equal([
            "LaunchTemplate lt: userData (write_files, gz+b64-decoded) holds a private key. Keep it in a Secrets Manager secret or an SSM SecureString and pass its ARN.",
        ]);
    });

    it("reads gzip-compressed user data as cloud-init does (as renderUserData makes it)", async () => {
        const userData = gzipSync(renderCloudConfig([{ path: "/opt/x", permissions: "0600", content: `key:\n${KEY}` }]));
        const found = await check([{ type: T.launchTemplate, name: "lt", props: { userData: userData.toString("base64") } }]);
        expect(found.map((f) => f.message)).to.deep.equal([
            "LaunchTemplate lt: userData (base64-decoded) holds a private key. Keep it in a Secrets Manager secret or an SSM SecureString and pass its ARN.",
        ]);
    });
});

describe("policy: study-object-access-recorded", () => {
    const study: Hand = { type: T.bucket, name: "orthanc-bucket", props: { id: "study-1", bucket: "study-1", arn: "arn:aws:s3:::study-1" } };
    const logs: Hand = { type: T.bucket, name: "orthanc-audit", props: { id: "audit-1", bucket: "audit-1", arn: "arn:aws:s3:::audit-1" } };
    const accessLogging: Hand = { type: "aws:s3/bucketLogging:BucketLogging", name: "orthanc-bucket", props: { bucket: "study-1", targetBucket: "audit-1", targetPrefix: "s3-access/" } };
    const trail = (startsWith: string): Hand => ({
        type: "aws:cloudtrail/trail:Trail",
        name: "orthanc-data-events",
        props: {
            s3BucketName: "audit-1",
            advancedEventSelectors: [{ fieldSelectors: [{ field: "eventCategory", equals: ["Data"] }, { field: "resources.ARN", startsWith: [startsWith] }] }],
        },
    });
    const check = (resources: Hand[]) => stackViolations(rules.studyObjectAccessRecorded, resources);

    it("passes a study bucket with server access logs, or with CloudTrail data events on its objects; log buckets need neither", async () => {
        expect(await check([study, logs, accessLogging])).to.deep.equal([]);
        expect(await check([study, logs, trail("arn:aws:s3:::study-1/")])).to.deep.equal([]);
    });

    it("finds the study bucket through the trail's dependency while its ARN is unknown (preview)", async () => {
        const pending = { ...trail(UNKNOWN), propertyDependencies: { advancedEventSelectors: [urn(T.bucket, "orthanc-bucket")], s3BucketName: [urn(T.bucket, "orthanc-audit")] } };
        expect(await check([study, logs, pending])).to.deep.equal([]);
    });

    it("reports a study bucket whose access nobody records, and a trail on another bucket's objects", async () => {
        const found = await check([study, logs, trail("arn:aws:s3:::other/")]);
        expect(found.map((f) => f.urn)).to.deep.equal([urn(T.bucket, "orthanc-bucket")]);
        expect(found[0].message).to.match(/orthanc-bucket records no object access: add an aws\.s3\.BucketLogging/);
    });
});

describe("policy: vpc-flow-logs", () => {
    const vpc: Hand = { type: "awsx:ec2:Vpc", name: "orthanc-vpc", props: { vpcId: "vpc-1" } };
    const flow = (vpcId: string): Hand => ({ type: "aws:ec2/flowLog:FlowLog", name: "orthanc-flow-logs", props: { vpcId, trafficType: "ALL", logDestinationType: "s3" } });

    it("passes an awsx VPC (by its vpcId output) and a plain VPC (by id) with a flow log each", async () => {
        expect(await stackViolations(rules.vpcFlowLogs, [vpc, flow("vpc-1")])).to.deep.equal([]);
        const plainVpc: Hand = { type: T.vpcResource, name: "v2", props: { id: "vpc-2" } };
        expect(await stackViolations(rules.vpcFlowLogs, [plainVpc, flow("vpc-2")])).to.deep.equal([]);
    });

    it("reports a VPC without a flow log, on the VPC", async () => {
        const found = await stackViolations(rules.vpcFlowLogs, [vpc, flow("vpc-other")]);
        expect(found).to.deep.equal([{ message: "VPC orthanc-vpc has no flow log; add an aws.ec2.FlowLog with vpcId set to it (trafficType ALL).", urn: urn("awsx:ec2:Vpc", "orthanc-vpc") }]);
    });
});

describe("policy: load-balancer-access-logs", () => {
    const lb = (name: string, type: string, accessLogs?: object): Hand => ({ type: T.loadBalancer, name, props: { arn: `arn:${name}`, loadBalancerType: type, ...(accessLogs ? { accessLogs } : {}) } });
    const listener = (name: string, lbName: string, protocol: string): Hand => ({ type: T.listener, name, props: { loadBalancerArn: `arn:${lbName}`, protocol } });
    const logs = { bucket: "lb-logs-1", prefix: "alb", enabled: true };
    const check = (resources: Hand[]) => stackViolations(rules.loadBalancerAccessLogs, resources);

    it("passes an ALB and a TLS NLB with access logs, and an NLB that only passes TCP through without them", async () => {
        expect(await check([lb("alb", "application", logs), listener("web", "alb", "HTTPS"), lb("nlb", "network", { ...logs, prefix: "nlb" }), listener("dicom", "nlb", "TLS")])).to.deep.equal([]);
        expect(await check([lb("nlb", "network"), listener("web", "nlb", "TCP"), listener("dicom", "nlb", "TCP")])).to.deep.equal([]);
    });

    it("reports an ALB without logs and a TLS NLB with logging disabled", async () => {
        const found = await check([lb("alb", "application"), lb("nlb", "network", { ...logs, enabled: false }), listener("dicom", "nlb", "TLS"), listener("web", "nlb", "TCP")]);
        expect(found.map((f) => f.message)).to.deep.equal([
            "application load balancer alb writes no access logs; set accessLogs { bucket, prefix, enabled: true }.",
            "network load balancer nlb has a TLS listener but writes no access logs; set accessLogs { bucket, prefix, enabled: true }.",
        ]);
    });
});

describe("policy: waf-logging", () => {
    const acl: Hand = { type: T.webAcl, name: "lb-waf", props: { arn: "arn:aws:wafv2:eu-west-1:1:regional/webacl/lb-waf/x" } };
    const logging = (destination: string): Hand => ({ type: "aws:wafv2/webAclLoggingConfiguration:WebAclLoggingConfiguration", name: "lb-waf", props: { resourceArn: acl.props.arn, logDestinationConfigs: [destination] } });

    it("passes a web ACL logging to an S3 bucket, a log group or a Firehose stream named aws-waf-logs-*", async () => {
        for (const d of ["arn:aws:s3:::aws-waf-logs-lb-123", "arn:aws:logs:eu-west-1:1:log-group:aws-waf-logs-lb", "arn:aws:firehose:eu-west-1:1:deliverystream/aws-waf-logs-lb"]) {
            expect(await stackViolations(rules.wafLogging, [acl, logging(d)]), d).to.deep.equal([]);
        }
    });

    it("reports a web ACL without logging, and one logging to a destination WAF cannot deliver to", async () => {
        expect((await stackViolations(rules.wafLogging, [acl]))[0].message).to.match(/^web ACL lb-waf has no aws\.wafv2\.WebAclLoggingConfiguration/);
        expect((await stackViolations(rules.wafLogging, [acl, logging("arn:aws:s3:::lb-logs-123")]))[0].message).to.equal(
            "web ACL lb-waf logs to arn:aws:s3:::lb-logs-123; WAF delivers only to destinations named aws-waf-logs-*.",
        );
    });
});

describe("policy: waf-web-acl-limits", () => {
    const label = (key: string) => ({ labelMatchStatement: { scope: "LABEL", key } });
    const post = { byteMatchStatement: { fieldToMatch: { method: {} }, positionalConstraint: "EXACTLY", searchString: "POST", textTransformations: [{ priority: 0, type: "NONE" }] } };
    const rule = (statement: object) => ({ name: "body", priority: 1, action: { block: {} }, statement, visibilityConfig: {} });

    it("passes the program's own web ACL", async () => {
        expect(await resourceViolations(rules.wafWebAclLimits, T.webAcl, { rules: webAclRules("lb-waf") })).to.deep.equal([]);
    });

    it("stops a rule nested four levels deep, which the provider's schema refuses at preview", async () => {
        const deep = { andStatement: { statements: [label("a"), { notStatement: { statement: { andStatement: { statements: [post, { orStatement: { statements: [label("b"), label("c")] } }] } } } }] } };
        expect(await resourceViolations(rules.wafWebAclLimits, T.webAcl, { rules: [rule(deep)] })).to.deep.equal([
            'rule "body" nests its statements 4 levels deep (and > not > and > or); the AWS provider accepts 3 (webACLRootStatementSchemaLevel): split it into rules joined by labels.',
        ]);
    });

    it("stops a web ACL over 5000 WCUs", async () => {
        const group = (i: number) => ({ name: `g${i}`, priority: i, overrideAction: { none: {} }, statement: { managedRuleGroupStatement: { vendorName: "AWS", name: "AWSManagedRulesCommonRuleSet" } } });
        expect(await resourceViolations(rules.wafWebAclLimits, T.webAcl, { rules: [0, 1, 2, 3, 4, 5, 6, 7].map(group) })).to.deep.equal(["the rules need 5600 WCUs; a web ACL holds at most 5000."]);
    });
});

describe("policy: no-internet-endpoint-coverage", () => {
    const vpc = (name: string, props: Record<string, unknown> = {}): Hand => ({ type: T.vpcResource, name, props: { id: `vpc-${name}`, cidrBlock: "10.0.0.0/16", ...props } });
    const endpoint = (vpcId: string, service: string, type = "Interface"): Hand => ({ type: T.vpcEndpoint, name: `${vpcId}-${service}`, props: { vpcId, serviceName: `com.amazonaws.eu-west-1.${service}`, vpcEndpointType: type } });
    const all = (vpcId: string) => rules.NO_INTERNET_ENDPOINT_SERVICES.map((s) => endpoint(vpcId, s, s === "s3" ? "Gateway" : "Interface"));
    const check = (resources: Hand[], config: Record<string, unknown> = {}) => stackViolations(rules.noInternetEndpointCoverage, resources, config);

    it("passes a VPC without the internet that has every endpoint, and never judges a VPC with an internet gateway", async () => {
        expect(await check([vpc("a"), ...all("vpc-a")])).to.deep.equal([]);
        const igw: Hand = { type: "aws:ec2/internetGateway:InternetGateway", name: "igw", props: { vpcId: "vpc-b" } };
        expect(await check([vpc("b"), igw])).to.deep.equal([]);
        expect(await check([{ type: T.vpc, name: "awsx", props: { vpcId: "vpc-x", subnetSpecs: [{ type: "Public" }, { type: "Private" }] } }])).to.deep.equal([]);
    });

    it("names every missing service of a VPC without the internet, the endpoints of other VPCs not counting", async () => {
        const partial = all("vpc-a").filter((e) => !/\.(autoscaling|tagging)$/.test(String(e.props.serviceName)));
        const found = await check([vpc("a"), vpc("b", { id: "vpc-b" }), ...partial, ...all("vpc-b")]);
        expect(found.map((f) => f.message)).to.deep.equal([
            "VPC a has no internet gateway and no VPC endpoint for autoscaling, tagging: the instances' calls to them cannot leave the VPC. Add an aws.ec2.VpcEndpoint per service in this VPC (s3 as a Gateway endpoint).",
        ]);
        // awsx's VPC component with isolated subnets only (as Pulumi.site.yaml builds it), judged once: its own Vpc child is skipped.
        const awsx: Hand = { type: T.vpc, name: "site-vpc", props: { vpcId: "vpc-s", subnetSpecs: [{ type: "Isolated" }], publicSubnetIds: [] } };
        const child = { ...vpc("site-vpc", { id: "vpc-s" }), parent: urn(T.vpc, "site-vpc") };
        expect((await check([awsx, child, endpoint("vpc-s", "s3", "Gateway")])).map((f) => f.urn)).to.deep.equal([urn(T.vpc, "site-vpc")]);
    });

    it("takes the required services from its config", async () => {
        expect(await check([vpc("a"), endpoint("vpc-a", "ssm")], { services: ["ssm"] })).to.deep.equal([]);
    });
});

describe("policy: endpoint-policies-present", () => {
    const own = { Version: "2012-10-17", Statement: [{ Sid: "OwnAccountOnly", Effect: "Allow", Principal: "*", Action: "*", Resource: "*", Condition: { StringEquals: { "aws:PrincipalAccount": "123456789012" } } }] };
    const check = (props: Record<string, unknown>) => resourceViolations(rules.endpointPoliciesPresent, T.vpcEndpoint, { serviceName: "com.amazonaws.eu-west-1.s3", ...props });

    it("passes a policy limited to the account, with read-only downloads of named AWS-owned buckets", async () => {
        const repos = { Sid: "AwsOwnedReadOnly", Effect: "Allow", Principal: "*", Action: "s3:GetObject", Resource: ["arn:aws:s3:::al2023-repos-eu-west-1-de612dc2/*"] };
        expect(await check({ policy: JSON.stringify({ ...own, Statement: [...own.Statement, repos] }) })).to.deep.equal([]);
    });

    it("reports an endpoint without a policy, and one whose policy lets any principal write or list", async () => {
        expect(await check({})).to.deep.equal(["the s3 endpoint has no policy: AWS then allows every principal of every account. Set a policy limited to aws:PrincipalAccount."]);
        const open = { Sid: "Everything", Effect: "Allow", Principal: "*", Action: "s3:*", Resource: "*" };
        const anyBucket = { Sid: "AnyBucket", Effect: "Allow", Principal: "*", Action: "s3:GetObject", Resource: "arn:aws:s3:::*/*" };
        expect(await check({ policy: JSON.stringify({ Statement: [open, anyBucket] }) })).to.deep.equal([
            "the s3 endpoint's policy: statement Everything allows s3:* on * to any principal; limit it with a StringEquals condition on aws:PrincipalAccount.",
            "the s3 endpoint's policy: statement AnyBucket allows s3:GetObject on arn:aws:s3:::*/* to any principal; limit it with a StringEquals condition on aws:PrincipalAccount.",
        ]);
    });
});

describe("policy: deletion-protection-in-prod", () => {
    const check = (type: string, props: Record<string, unknown>, config: Record<string, unknown> = {}) => resourceViolations(rules.deletionProtectionInProd, type, props, config);
    const prod = { environment: "prod" };

    it("passes protected prod data stores and load balancers, and anything in dev", async () => {
        expect(await check(T.rds, { deletionProtection: true, skipFinalSnapshot: false }, prod)).to.deep.equal([]);
        expect(await check(T.bucket, { forceDestroy: false }, prod)).to.deep.equal([]);
        expect(await check(T.loadBalancer, { enableDeletionProtection: true }, prod)).to.deep.equal([]);
        expect(await check(T.rds, { deletionProtection: false, skipFinalSnapshot: true }, { environment: "dev" })).to.deep.equal([]);
    });

    it("reports unprotected prod resources, prod being the config or else the Environment tag", async () => {
        expect(await check(T.rds, { deletionProtection: false, skipFinalSnapshot: true }, prod)).to.have.length(2);
        expect(await check(T.rdsCluster, { tags: { Environment: "prod" } })).to.deep.equal(["deletionProtection is not true in prod."]);
        expect(await check(T.bucket, { forceDestroy: true }, prod)).to.have.length(1);
        expect(await check(T.loadBalancer, { loadBalancerType: "network" }, prod)).to.deep.equal(["enableDeletionProtection is not true in prod."]);
        expect(await check(T.rds, { tags: { Environment: "prod" } }, { environment: "dev" })).to.deep.equal([]);
    });
});

describe("policy config files (policy/config/<stack>.json)", () => {
    it("exist for every stack file, so CI can pass one per stack", () => {
        for (const stack of listStacks()) expect(fs.existsSync(path.join(POLICY_DIR, "config", `${stack}.json`)), stack).to.equal(true);
    });

    it("name only policies of the pack, valid levels, and properties their schemas declare", () => {
        const byName = new Map<string, Policy>(rules.policies.map((p) => [p.name, p]));
        for (const stack of listStacks()) {
            for (const [name, entry] of Object.entries(policyConfigFor(stack))) {
                const policy = byName.get(name);
                expect(policy, `${stack}.json: ${name}`).to.not.equal(undefined);
                const { enforcementLevel, ...props } = typeof entry === "string" ? { enforcementLevel: entry } : entry;
                if (enforcementLevel !== undefined) expect(["advisory", "mandatory", "disabled"]).to.include(enforcementLevel);
                for (const [key, value] of Object.entries(props)) {
                    const schema = policy!.configSchema?.properties[key];
                    expect(schema, `${stack}.json: ${name}.${key}`).to.not.equal(undefined);
                    if (schema?.enum) expect(schema.enum).to.include(value);
                }
            }
        }
    });

    it("say which environment each stack file is", () => {
        for (const stack of listStacks()) {
            const file = parse(fs.readFileSync(path.resolve(__dirname, "..", `Pulumi.${stack}.yaml`), "utf8")) as { config: Record<string, unknown> };
            const entry = policyConfigFor(stack)["deletion-protection-in-prod"];
            expect(typeof entry === "object" && entry.environment, stack).to.equal(file.config["orthweb:environment"] ?? "dev");
        }
    });
});

describe("policy pack over the program (mocks)", () => {
    for (const stack of listStacks()) {
        it(`stack file ${stack} has no mandatory violation under its policy config`, async () => {
            const plan = await plannedStack(stack);
            const violations = await evaluate(rules.policies, subjectsOf(plan.registrations, stack), policyConfigFor(stack));
            expect(mandatory(violations)).to.deep.equal([]);
            expect(violations.filter((v) => /can't run/.test(v.message))).to.deep.equal([]);
            expect(plainCredentialOutputs(plan), "outputs holding keys or passwords must be secrets").to.deep.equal([]);
        });
    }

    it("reports the dev stack's open ingress as advisory, on the direct pattern's rules", async () => {
        const plan = await plannedStack("dev");
        const violations = await evaluate(rules.policies, subjectsOf(plan.registrations, "dev"), policyConfigFor("dev"));
        expect(violations.map((v) => [v.policy, v.enforcementLevel, v.urn!.split("::").pop()])).to.deep.equal([
            ["instance-ingress-not-open-to-internet", "advisory", "direct-443-1"],
            ["instance-ingress-not-open-to-internet", "advisory", "direct-11112-1"],
        ]);
    });

    /**
     * A smallest config per traffic pattern, after the config contract in DESIGN.md. Only patterns this build
     * accepts (FRONT_DOORS) run; a pattern without an example here fails, so new front doors get checked.
     */
    const PATTERN_EXAMPLES: Record<string, Record<string, unknown>[]> = {
        direct: [{ frontDoor: "direct" }],
        dns: [{ frontDoor: "dns", dns: { zoneName: "example.org", recordName: "pacs", routing: "failover" } }],
        loadBalancer: [
            { frontDoor: "loadBalancer", loadBalancer: { type: "network", scheme: "internet-facing" } },
            { frontDoor: "loadBalancer", loadBalancer: { type: "network", zoneName: "example.org", recordName: "pacs" } },
            { frontDoor: "loadBalancer", loadBalancer: { type: "application", zoneName: "example.org", recordName: "pacs", waf: true } },
        ],
        none: [{ frontDoor: "none", clientVpn: { clientCidr: "192.168.0.0/22", certificateDomain: "vpn.example.org", clients: ["reading-room-1"] } }],
    };
    const VPN = { clientCidr: "192.168.0.0/22", certificateDomain: "vpn.example.org", clients: ["reading-room-1"] };
    const supportsVpn = "clientVpn" in trafficSchema.shape;
    const CLIENTS = { webClientCidrs: ["198.51.100.0/24"], dicomClientCidrs: ["198.51.100.0/24"] };

    for (const frontDoor of FRONT_DOORS) {
        const examples = PATTERN_EXAMPLES[frontDoor] ?? [];
        it(`pattern ${frontDoor} has an example config here`, () => {
            expect(examples.length, `add a config for ${frontDoor} to PATTERN_EXAMPLES`).to.be.greaterThan(0);
        });
        const variants = [...examples, ...(supportsVpn && examples.length > 0 && !("clientVpn" in examples[0]) ? [{ ...examples[0], clientVpn: VPN }] : [])];
        for (const traffic of variants) {
            for (const environment of ["dev", "prod"] as const) {
                it(`pattern ${JSON.stringify(traffic)} in ${environment} has no mandatory violation`, async () => {
                    const built = await build(withConfig({ "aws:region": REGION, "orthweb:environment": environment, "orthweb:network": CLIENTS, "orthweb:traffic": traffic }), environment);
                    const violations = await evaluate(rules.policies, subjectsOf(built.registrations, environment), policyConfigFor(environment));
                    expect(mandatory(violations)).to.deep.equal([]);
                    expect(plainCredentialOutputs(built), "outputs holding keys or passwords must be secrets").to.deep.equal([]);
                });
            }
        }
    }

    it("finds an output holding a private key that is not a secret", () => {
        const registrations = [{ type: T.randomPassword, state: { result: "generated-password-1" } }];
        const outputs = { profile: `<key>\n${MOCK_PRIVATE_KEY_PEM}</key>`, note: "pw generated-password-1", url: "https://pacs" };
        expect(plainCredentialOutputs({ registrations, outputs, secretOutputs: new Set(["note"]) })).to.deep.equal(["profile"]);
    });

    it("would stop a prod stack that opens the instances to the internet", async () => {
        const built = await build(withConfig({ "orthweb:environment": "prod", "orthweb:network": { webClientCidrs: ["0.0.0.0/0"], dicomClientCidrs: ["0.0.0.0/0"] }, "orthweb:traffic": { frontDoor: "direct" } }), "prod");
        const violations = await evaluate(rules.policies, subjectsOf(built.registrations, "prod"), policyConfigFor("prod"));
        expect(mandatory(violations).map((v) => v.policy)).to.deep.equal(["instance-ingress-not-open-to-internet", "instance-ingress-not-open-to-internet"]);
    });

    it("is never constructed by the tests (a PolicyPack starts a gRPC server)", () => {
        const specs = [
            ...fs.readdirSync(__dirname).filter((f) => f.endsWith(".ts")).map((f) => path.join(__dirname, f)),
            ...fs.readdirSync(path.join(__dirname, "system")).filter((f) => f.endsWith(".ts")).map((f) => path.join(__dirname, "system", f)),
        ];
        expect(specs.some((f) => f.endsWith(path.join("system", "policyPack.spec.ts")))).to.equal(true);
        for (const f of specs) expect(fs.readFileSync(f, "utf8"), f).not.to.match(/from "(\.\.\/)+policy(\/index)?"/);
    });
});

describe("policy: site-to-site-strong-tunnels", () => {
    const strong = (n: 1 | 2) => ({
        [`tunnel${n}IkeVersions`]: ["ikev2"],
        [`tunnel${n}Phase1IntegrityAlgorithms`]: ["SHA2-384"],
        [`tunnel${n}Phase2IntegrityAlgorithms`]: ["SHA2-384"],
        [`tunnel${n}Phase1DhGroupNumbers`]: [20],
        [`tunnel${n}Phase2DhGroupNumbers`]: [20],
    });
    const connection = { ...strong(1), ...strong(2) };
    const check = (props: Record<string, unknown>) => resourceViolations(rules.siteToSiteStrongTunnels, T.vpnConnection, props);

    it("passes IKEv2 with SHA-384 and DH group 20 on both tunnels", async () => {
        expect(await check(connection)).to.deep.equal([]);
    });

    it("passes what the program registers for the site stack", async () => {
        const built = await build(withConfig({ "orthweb:traffic": { frontDoor: "none", siteToSiteVpn: { customerGatewayIp: "198.51.100.10", onPremisesCidrs: ["10.40.0.0/16"] } } }));
        expect(await check(built.one(T.vpnConnection, "site-connection").inputs)).to.deep.equal([]);
    });

    it("reports IKEv1, SHA-1 and DH groups below 14, per tunnel and phase", async () => {
        const found = await check({ ...connection, tunnel1IkeVersions: ["ikev1", "ikev2"], tunnel2Phase1IntegrityAlgorithms: ["SHA2-256", "SHA1"], tunnel2Phase2DhGroupNumbers: [2, 14] });
        expect(found).to.deep.equal([
            'tunnel1IkeVersions allows ikev1; set it to ["ikev2"].',
            "tunnel2Phase1IntegrityAlgorithms includes SHA1; use SHA2-256 or stronger.",
            "tunnel2Phase2DhGroupNumbers includes group 2; use 14 or above, such as 20.",
        ]);
    });

    it("reports options left to AWS's defaults, which admit IKEv1, SHA-1 and group 2", async () => {
        const found = await check({ ...strong(1) });
        expect(found).to.have.length(5);
        expect(found.join("\n")).to.match(/tunnel2IkeVersions is unset/).and.match(/tunnel2Phase1IntegrityAlgorithms is unset/).and.match(/tunnel2Phase2DhGroupNumbers is unset/);
    });
});

describe("policy: site-to-site-only-service-ports", () => {
    const route: Hand = { type: T.vpnConnectionRoute, name: "site-onprem-1", props: { destinationCidrBlock: "10.40.0.0/16", vpnConnectionId: "vpn-1" } };
    const rule = (name: string, props: Record<string, unknown>): Hand => ({ type: TYPES.ingressRule, name, props: { securityGroupId: "sg-1", ...props } });
    const check = (resources: Hand[]) => stackViolations(rules.siteToSiteOnlyServicePorts, resources);

    it("passes the site's ranges on 443 and 11112, one rule each", async () => {
        const found = await check([
            route,
            rule("web", { ipProtocol: "tcp", fromPort: WEB_PORT, toPort: WEB_PORT, cidrIpv4: "10.40.0.0/16" }),
            rule("dicom", { ipProtocol: "tcp", fromPort: DICOM_PORT, toPort: DICOM_PORT, cidrIpv4: "10.40.8.0/24" }),
        ]);
        expect(found).to.deep.equal([]);
    });

    it("reports the site's range on SSH, on a port range or on all traffic, naming the rule", async () => {
        const found = await check([
            route,
            rule("ssh", { ipProtocol: "tcp", fromPort: 22, toPort: 22, cidrIpv4: "10.40.1.0/24" }),
            rule("range", { ipProtocol: "tcp", fromPort: 443, toPort: 11112, cidrIpv4: "10.40.0.0/16" }),
            rule("all", { ipProtocol: "-1", cidrIpv4: "10.0.0.0/8" }),
        ]);
        expect(found.map((f) => f.urn)).to.deep.equal([urn(TYPES.ingressRule, "ssh"), urn(TYPES.ingressRule, "range"), urn(TYPES.ingressRule, "all")]);
        expect(found[0].message).to.equal("SecurityGroupIngressRule ssh admits the on-premises range 10.40.1.0/24 on tcp 22-22; allowed: tcp 443 and tcp 11112 only, one rule each.");
        expect(found[2].message).to.match(/10\.0\.0\.0\/8 on all traffic/);
    });

    it("reads a transit gateway's routes as the site's ranges too, and stays quiet without any", async () => {
        const tgwRoute: Hand = { type: "aws:ec2/route:Route", name: "site-route-1-1", props: { routeTableId: "rtb-1", destinationCidrBlock: "10.40.0.0/16", transitGatewayId: "tgw-0123456789abcdef0" } };
        const ssh = rule("ssh", { ipProtocol: "tcp", fromPort: 22, toPort: 22, cidrIpv4: "10.40.0.0/16" });
        expect(await check([tgwRoute, ssh])).to.have.length(1);
        expect(await check([ssh])).to.deep.equal([]);
    });

    it("finds nothing in the site stack the program builds", async () => {
        const built = await plannedStack("site");
        expect(mandatory(await evaluate(rules.policies, subjectsOf(built.registrations, "site"), policyConfigFor("site")))).to.deep.equal([]);
    });
});

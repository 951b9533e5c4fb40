// The pack as Pulumi runs it: a separate process started from policy/ and spoken to over gRPC. Slow to start
// (ts-node type-checks the pack, about 3.5 s of CPU), so it starts once, in the background, when mocha begins.
import { expect } from "chai";
import { specialSecretSig, specialSigKey } from "@pulumi/pulumi/runtime/rpc";
import * as rules from "../../policy/rules";
import { listStacks } from "../../stacks/stackFile";
import { enforcementOf, evaluate, PolicyConfig, policyConfigFor, Subject, subjectsOf, urnOf, Violation } from "../../plan/policyRun";
import { build, plannedStack, withConfig } from "../harness";
import { RunningPack, sharedPack } from "../packProcess";

/** The config the CLI sends for a --policy-pack-config file: each named policy with its effective level. */
function engineConfig(config: PolicyConfig) {
    return Object.fromEntries(
        rules.policies
            .filter((p) => config[p.name] !== undefined)
            .map((p) => {
                const entry = config[p.name];
                const { enforcementLevel: _level, ...properties } = typeof entry === "object" ? entry : {};
                return [p.name, { enforcementLevel: enforcementOf(p, config), properties }];
            }),
    );
}

const sorted = (violations: Violation[]) => violations.map((v) => `${v.enforcementLevel} ${v.policy} ${v.urn ?? ""} ${v.message}`).sort();

function subject(type: string, name: string, inputs: Record<string, unknown>, outputs: Record<string, unknown> = {}): Subject {
    return { type, name, urn: urnOf("test", type, name), custom: true, inputs, outputs: { ...inputs, id: `${name}-id`, ...outputs } };
}

describe("policy pack process (as `pulumi preview --policy-pack policy` runs it)", function () {
    this.timeout(300_000);
    let pack: RunningPack;

    before(async () => {
        // Started when mocha began (tests/rootHooks.ts); stopped when the run ends.
        pack = await sharedPack();
    });

    it("starts from policy/ and announces every rule with its name, description and default level", async () => {
        const info = await pack.info();
        expect(info.name).to.equal(rules.PACK_NAME);
        expect(info.policies.map((p) => [p.name, p.description, p.enforcementLevel])).to.deep.equal(
            rules.policies.map((p) => [p.name, p.description, enforcementOf(p, {})]),
        );
        const ingress = info.policies.find((p) => p.name === "instance-ingress-not-open-to-internet");
        expect(ingress?.configSchema).to.have.nested.property("ports.default").that.deep.equals([443, 11112]);
    });

    for (const stack of listStacks()) {
        it(`reports for stack file ${stack}, under its policy config, what the in-process run reports`, async () => {
            const subjects = subjectsOf((await plannedStack(stack)).registrations, stack);
            await pack.configure(engineConfig(policyConfigFor(stack)));
            const overGrpc = await pack.analyze(subjects);
            expect(sorted(overGrpc)).to.deep.equal(sorted(await evaluate(rules.policies, subjects, policyConfigFor(stack))));
            expect(overGrpc.filter((v) => v.enforcementLevel === "mandatory")).to.deep.equal([]);
        });
    }

    it("stops a prod stack whose instances are open to the internet, as the in-process run does", async () => {
        const built = await build(withConfig({ "orthweb:environment": "prod", "orthweb:network": { webClientCidrs: ["0.0.0.0/0"], dicomClientCidrs: ["0.0.0.0/0"] }, "orthweb:traffic": { frontDoor: "direct" } }), "prod");
        const subjects = subjectsOf(built.registrations, "prod");
        await pack.configure(engineConfig(policyConfigFor("prod")));
        const overGrpc = await pack.analyze(subjects);
        expect(overGrpc.filter((v) => v.enforcementLevel === "mandatory").map((v) => v.policy)).to.deep.equal([
            "instance-ingress-not-open-to-internet",
            "instance-ingress-not-open-to-internet",
        ]);
        expect(sorted(overGrpc)).to.deep.equal(sorted(await evaluate(rules.policies, subjects, policyConfigFor("prod"))));
    });

    it("finds every kind of violation the unit tests find, with the real resource classes and secrets wrapped as the engine sends them", async () => {
        const secret = (value: unknown) => ({ [specialSigKey]: specialSecretSig, value });
        const subjects = [
            subject("aws:ec2/launchTemplate:LaunchTemplate", "lt", {
                metadataOptions: { httpTokens: "optional" },
                blockDeviceMappings: [{ deviceName: "/dev/xvda", ebs: { encrypted: "false", kmsKeyId: "arn:key" } }],
                tags: { Key: secret("-----BEGIN PRIVATE KEY-----\nx\n-----END PRIVATE KEY-----") },
            }),
            subject("aws:kms/key:Key", "key", {}, { arn: "arn:key" }),
            subject("aws:rds/instance:Instance", "db", { storageEncrypted: false, publiclyAccessible: true, deletionProtection: false }),
            subject("aws:s3/bucket:Bucket", "images", { forceDestroy: true }),
            subject("aws:lb/loadBalancer:LoadBalancer", "nlb", { loadBalancerType: "network" }, { arn: "arn:nlb" }),
            subject("aws:lb/listener:Listener", "http", { protocol: "HTTP", defaultActions: [{ type: "forward", targetGroupArn: "arn:tg" }] }),
            subject("aws:lb/listener:Listener", "dicom", { loadBalancerArn: "arn:nlb", protocol: "TLS", sslPolicy: "ELBSecurityPolicy-2016-08", defaultActions: [] }),
            subject("aws:ec2/vpc:Vpc", "vpc", { cidrBlock: "10.0.0.0/16" }),
            subject("aws:ec2/vpcEndpoint:VpcEndpoint", "s3", { vpcEndpointType: "Gateway", serviceName: "com.amazonaws.eu-west-1.s3" }),
            subject("aws:wafv2/webAcl:WebAcl", "waf", { scope: "REGIONAL", rules: [{ name: "one", priority: 0, action: { block: {} }, statement: { orStatement: { statements: [{ labelMatchStatement: { scope: "LABEL", key: "x" } }] } } }] }, { arn: "arn:waf" }),
            subject("aws:ec2clientvpn/endpoint:Endpoint", "vpn", { splitTunnel: false, connectionLogOptions: { enabled: false } }),
            subject("tls:index/selfSignedCert:SelfSignedCert", "ca", { isCaCertificate: true, validityPeriodHours: 3650 }, { certPem: "CA" }),
            subject("tls:index/locallySignedCert:LocallySignedCert", "leaf", { caCertPem: "CA", validityPeriodHours: 19800 }),
            subject("aws:ec2/securityGroup:SecurityGroup", "db", { ingress: [{ protocol: "tcp", fromPort: 5432, toPort: 5432, cidrBlocks: ["0.0.0.0/0"] }] }),
            subject("aws:ec2/vpnConnection:VpnConnection", "site", { tunnel1IkeVersions: ["ikev1", "ikev2"], tunnel2Phase1IntegrityAlgorithms: ["SHA1"] }),
            subject("aws:ec2/vpnConnectionRoute:VpnConnectionRoute", "site", { destinationCidrBlock: "10.40.0.0/16", vpnConnectionId: "vpn-1" }),
            subject("aws:ec2/securityGroup:SecurityGroup", "site", { ingress: [{ protocol: "-1", fromPort: 0, toPort: 0, cidrBlocks: ["10.40.0.0/16"] }] }),
            subject("aws:autoscaling/group:Group", "slot", { healthCheckType: "ELB", minSize: 1, maxSize: 1, launchTemplate: { id: "lt-id" } }),
        ];
        const config: PolicyConfig = { "deletion-protection-in-prod": { environment: "prod" } };
        await pack.configure(engineConfig(config));
        const overGrpc = await pack.analyze(subjects);
        expect(sorted(overGrpc)).to.deep.equal(sorted(await evaluate(rules.policies, subjects, config)));
        const names = new Set(overGrpc.map((v) => v.policy));
        const expected = rules.policies.map((p) => p.name).filter((n) => n !== "instance-ingress-not-open-to-internet");
        expect([...names].sort()).to.deep.equal(expected.sort());
    });
});

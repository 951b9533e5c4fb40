import { expect } from "chai";
import * as fs from "fs";
import * as path from "path";
import { loadBalancerFailoverSeconds } from "../rules/failover";
import { DEFAULT_HEALTH_CHECK } from "../components/loadBalancerFrontDoor";
import { TLS_SSL_POLICY } from "../rules/loadBalancerLayout";
import { loadStackFile } from "../stacks/stackFile";
import { MOCK_ACCOUNT, Registration } from "../plan/mockRuntime";
import { build, Built, REGION, TYPES, withConfig } from "./harness";
import { webAclRules } from "../rules/loadBalancerLayout";

const WEB_CIDRS = ["198.51.100.0/24"];
const DICOM_CIDRS = ["203.0.113.64/27", "192.0.2.0/24"];
const ZONE = "example.org";
// The slots' group names, as the mocks answer them.
const SLOT_GROUPS = ["orthanc-1-0mock", "orthanc-2-0mock"];

function lbStack(loadBalancer: Record<string, unknown>, more: Record<string, unknown> = {}): Promise<Built> {
    return build(
        withConfig({
            "orthweb:network": { webClientCidrs: WEB_CIDRS, dicomClientCidrs: DICOM_CIDRS },
            "orthweb:traffic": { frontDoor: "loadBalancer", loadBalancer },
            ...more,
        }),
    );
}

/** The subnets the (remote) awsx Vpc reported, whatever the mocks call them. */
const subnetsOf = (b: Built, kind: "publicSubnetIds" | "privateSubnetIds"): string[] => b.ofType(TYPES.vpc)[0].state[kind];
const sgId = (b: Built, name: string) => b.one(TYPES.securityGroup, name).id;
const instanceSgId = (b: Built) => sgId(b, "orthanc-instances");
const ingressOn = (b: Built, groupId: string) => b.ofType(TYPES.ingressRule).filter((r) => r.inputs.securityGroupId === groupId);
const listener = (b: Built, role: string) => b.one(TYPES.listener, `lb-${role}`);
const targetGroupOf = (b: Built, l: Registration) => b.ofType(TYPES.targetGroup).find((tg) => tg.state.arn === l.inputs.defaultActions[0].targetGroupArn)!;
const portsAndCidrs = (rules: Registration[]) => rules.map((r) => [r.inputs.fromPort, r.inputs.toPort, r.inputs.cidrIpv4]).sort();
/** The URN of a registration, as its dependants name it. */
const dependsOn = (deps: string[] | undefined, type: string, name: string) => (deps ?? []).includes(`${type}::${name}`);

function expectInstanceIngressOnlyFrom(b: Built, expected: Record<string, number[]>) {
    const rules = ingressOn(b, instanceSgId(b));
    for (const rule of rules) {
        expect(rule.inputs, rule.name).to.not.have.any.keys("cidrIpv4", "cidrIpv6", "prefixListId");
    }
    const bySource: Record<string, number[]> = {};
    for (const rule of rules) (bySource[rule.inputs.referencedSecurityGroupId] ??= []).push(rule.inputs.fromPort);
    const want = Object.fromEntries(Object.entries(expected).map(([sg, ports]) => [sgId(b, sg), ports]));
    // The pair's own rules: the peer fallback, from the instances' group itself.
    want[instanceSgId(b)] = [8443, 11113];
    expect(Object.fromEntries(Object.entries(bySource).map(([k, v]) => [k, v.sort((x, y) => x - y)]))).to.deep.equal(want);
}

describe("LoadBalancerFrontDoor", () => {
    describe("network, certificate from the zone, DICOM TLS terminated (the default)", () => {
        let b: Built;
        before(async () => {
            b = await lbStack({ type: "network", zoneName: ZONE, recordName: "pacs" });
        });

        it("puts one NLB in the public subnets, its security group set at creation", () => {
            const lbs = b.ofType(TYPES.loadBalancer);
            expect(lbs.map((l) => l.name)).to.deep.equal(["lb-nlb"]);
            expect(lbs[0].inputs).to.include({ loadBalancerType: "network", internal: false, enableDeletionProtection: false });
            expect(lbs[0].inputs.subnets).to.deep.equal(subnetsOf(b, "publicSubnetIds")).and.have.length(2);
            expect(lbs[0].inputs.securityGroups).to.deep.equal([sgId(b, "lb-nlb")]);
        });

        it("turns cross-zone load balancing on", () => {
            expect(b.one(TYPES.loadBalancer, "lb-nlb").inputs.enableCrossZoneLoadBalancing).to.equal(true);
        });

        it("opens 443 to the web client blocks and 11112 to the DICOM client blocks, on the NLB's group only", () => {
            expect(portsAndCidrs(ingressOn(b, sgId(b, "lb-nlb")))).to.deep.equal(
                [[443, 443, WEB_CIDRS[0]], ...DICOM_CIDRS.map((c) => [11112, 11112, c])].sort(),
            );
        });

        it("lets the NLB out only to the instances' group, on the traffic and health-check ports", () => {
            const egress = b.one(TYPES.securityGroup, "lb-nlb").inputs.egress;
            expect(egress.map((e: any) => [e.protocol, e.fromPort, e.toPort])).to.deep.equal([
                ["tcp", 443, 443],
                ["tcp", 11112, 11112],
            ]);
            for (const e of egress) {
                expect(e.securityGroups).to.deep.equal([instanceSgId(b)]);
                expect(e.cidrBlocks ?? []).to.deep.equal([]);
            }
        });

        it("gives the instances ingress from the NLB's group only: no instance ingress names a CIDR", () => {
            expectInstanceIngressOnlyFrom(b, { "lb-nlb": [443, 11112] });
        });

        it("terminates TLS on 443 and 11112 with the pinned policy and the validated certificate", () => {
            const validated = b.one(TYPES.certificateValidation, "lb-cert").state.certificateArn;
            expect(validated).to.be.a("string").and.match(/^arn:aws:acm:/);
            for (const [role, port] of [["web", 443], ["dicom", 11112]] as const) {
                const l = listener(b, role);
                expect(l.inputs, role).to.include({ port, protocol: "TLS", sslPolicy: TLS_SSL_POLICY, certificateArn: validated });
                expect(l.inputs.tcpIdleTimeoutSeconds, "fixed at 350 s on TLS listeners").to.equal(undefined);
                expect(l.inputs.loadBalancerArn).to.equal(b.one(TYPES.loadBalancer, "lb-nlb").state.arn);
            }
            expect(listener(b, "dicom").inputs.alpnPolicy ?? "None", "no ALPN on DICOM").to.equal("None");
        });

        it("takes the listeners' certificate from the CertificateValidation, not from the Certificate itself", () => {
            for (const role of ["web", "dicom"]) {
                const deps = listener(b, role).options?.propertyDependencies.certificateArn;
                expect(dependsOn(deps, TYPES.certificateValidation, "lb-cert"), `${role}: ${deps}`).to.equal(true);
                expect(dependsOn(deps, TYPES.acmCertificate, "lb-cert"), `${role}: ${deps}`).to.equal(false);
            }
        });

        it("forwards to TLS target groups on the instances' ports", () => {
            expect(targetGroupOf(b, listener(b, "web")).inputs).to.include({ protocol: "TLS", port: 443, targetType: "instance", vpcId: "vpc-0mock" });
            expect(targetGroupOf(b, listener(b, "dicom")).inputs).to.include({ protocol: "TLS", port: 11112, targetType: "instance", vpcId: "vpc-0mock" });
        });

        it("checks every target group by HTTPS GET /healthz on 443, both thresholds explicit", () => {
            for (const tg of b.ofType(TYPES.targetGroup)) {
                expect(tg.inputs.healthCheck, tg.name).to.deep.include({
                    enabled: true,
                    protocol: "HTTPS",
                    port: "443",
                    path: "/healthz",
                    matcher: "200",
                    interval: 5,
                    timeout: 4,
                    healthyThreshold: 3,
                    unhealthyThreshold: 2,
                });
            }
        });

        it("keeps proxy protocol off and sets the deregistration delay deliberately", () => {
            expect(b.one(TYPES.targetGroup, "lb-web").inputs).to.include({ proxyProtocolV2: false, deregistrationDelay: 120 });
            expect(b.one(TYPES.targetGroup, "lb-dicom").inputs).to.include({ proxyProtocolV2: false, deregistrationDelay: 300 });
        });

        it("lets an unhealthy target's connections drain (the peer fallback may be carrying them) for the deregistration delay", () => {
            expect(b.one(TYPES.targetGroup, "lb-web").inputs.targetHealthStates).to.deep.equal([{ enableUnhealthyConnectionTermination: false, unhealthyDrainingInterval: 120 }]);
            expect(b.one(TYPES.targetGroup, "lb-dicom").inputs.targetHealthStates).to.deep.equal([{ enableUnhealthyConnectionTermination: false, unhealthyDrainingInterval: 300 }]);
        });

        it("attaches both slots to every target group (each registers whichever instance holds it, on the group's port)", () => {
            const groups = b.ofType(TYPES.targetGroup);
            expect(groups).to.have.length(2);
            for (const tg of groups) {
                const attached = b.ofType(TYPES.autoscalingAttachment).filter((a) => a.inputs.lbTargetGroupArn === tg.state.arn);
                expect(attached.map((a) => a.inputs.autoscalingGroupName).sort(), tg.name).to.deep.equal(SLOT_GROUPS);
                expect(tg.inputs.port).to.be.a("number");
            }
            expect(b.ofType(TYPES.targetGroupAttachment)).to.deep.equal([]);
        });

        it("looks the zone up as a public hosted zone", () => {
            const lookups = b.invocations.filter((i) => i.token === "aws:route53/getZone:getZone");
            expect(lookups).to.have.length(1);
            expect(lookups[0].inputs).to.include({ name: ZONE, privateZone: false });
        });

        it("requests an ACM certificate for the name, validated by one CNAME per unique validation option", () => {
            const cert = b.one(TYPES.acmCertificate, "lb-cert");
            expect(cert.inputs).to.include({ domainName: `pacs.${ZONE}`, validationMethod: "DNS" });
            expect(cert.inputs.subjectAlternativeNames ?? []).to.deep.equal([]);
            const options: any[] = cert.state.domainValidationOptions;
            const unique = [...new Map(options.map((o) => [o.resourceRecordName, o])).values()];
            const records = b.ofType(TYPES.record).filter((r) => r.name.startsWith("lb-cert-"));
            expect(records).to.have.length(unique.length);
            for (const option of unique) {
                const record = records.find((r) => r.inputs.name === option.resourceRecordName)!;
                expect(record.inputs).to.deep.include({ type: option.resourceRecordType, records: [option.resourceRecordValue], ttl: 60, allowOverwrite: true, zoneId: "Z0MOCKZONE" });
            }
            expect(b.one(TYPES.certificateValidation, "lb-cert").inputs).to.deep.include({ certificateArn: cert.state.arn, validationRecordFqdns: records.map((r) => r.state.fqdn) });
        });

        it("publishes an alias A record for the NLB in the zone", () => {
            const nlb = b.one(TYPES.loadBalancer, "lb-nlb");
            const alias = b.one(TYPES.record, "lb-nlb");
            expect(alias.inputs).to.include({ zoneId: "Z0MOCKZONE", name: `pacs.${ZONE}`, type: "A" });
            expect(alias.inputs.aliases).to.deep.equal([{ name: nlb.state.dnsName, zoneId: nlb.state.zoneId, evaluateTargetHealth: true }]);
        });

        it("points webUrls and dicomEndpoints at the alias", () => {
            expect(b.outputs.frontDoor).to.equal("loadBalancer");
            expect(b.outputs.webUrls).to.deep.equal([`https://pacs.${ZONE}/`]);
            expect(b.outputs.dicomEndpoints).to.deep.equal([{ host: `pacs.${ZONE}`, port: 11112, aet: "ORTHANC", tls: true }]);
        });

        it("moves the instances to private subnets behind one NAT gateway in dev: no Elastic IP, no public address", () => {
            expect(b.ofType(TYPES.eip)).to.deep.equal([]);
            expect(b.ofType(TYPES.eipAssociation)).to.deep.equal([]);
            const vpc = b.ofType(TYPES.vpc)[0].inputs;
            expect(vpc.natGateways).to.deep.equal({ strategy: "Single" });
            expect(vpc.subnetSpecs.map((s: any) => s.type)).to.deep.equal(["Public", "Private"]);
            const slots = b.ofType(TYPES.autoscalingGroup);
            expect(slots.map((g) => g.inputs.vpcZoneIdentifiers[0])).to.deep.equal(subnetsOf(b, "privateSubnetIds")).and.have.length(2);
            expect(b.ofType(TYPES.launchTemplate)[0].inputs.networkInterfaces).to.equal(undefined);
            const template = b.ofType(TYPES.launchTemplate)[0].inputs;
            expect((template.networkInterfaces ?? []).some((n: any) => n.associatePublicIpAddress === "true" || n.associatePublicIpAddress === true)).to.equal(false);
        });

        it("does not ask users to trust the instances' certificate when the load balancer terminates all client TLS", () => {
            expect(b.outputs.certificateNotice).to.equal(undefined);
        });

        it("has no WAF; the NLB's TLS listeners write access logs under nlb/ through the log delivery service", () => {
            expect(b.ofType(TYPES.webAcl)).to.deep.equal([]);
            const bucket = b.one(TYPES.bucket, "lb-logs");
            expect(b.one(TYPES.loadBalancer, "lb-nlb").inputs.accessLogs).to.deep.equal({ bucket: bucket.state.bucket, prefix: "nlb", enabled: true });
            const policy = JSON.parse(b.one(TYPES.bucketPolicy, "lb-logs").inputs.policy);
            expect(policy.Statement.find((st: any) => st.Action === "s3:PutObject")).to.deep.include({
                Principal: { Service: "delivery.logs.amazonaws.com" },
                Resource: `${bucket.state.arn}/nlb/AWSLogs/${MOCK_ACCOUNT}/*`,
            });
            expect(policy.Statement.map((st: any) => st.Sid)).to.not.include("LoadBalancerLogDelivery");
            expect(dependsOn(b.one(TYPES.loadBalancer, "lb-nlb").options?.dependencies, TYPES.bucketPolicy, "lb-logs")).to.equal(true);
        });
    });

    describe("network, certificate from the zone, DICOM TLS passed through, own health-check settings", () => {
        let b: Built;
        before(async () => {
            b = await lbStack({ zoneName: ZONE, dicomTls: "passthrough", healthCheck: { intervalSeconds: 30, healthyThreshold: 5, unhealthyThreshold: 4 } });
        });

        it("terminates HTTPS but passes DICOM through as TCP with a raised idle timeout", () => {
            expect(listener(b, "web").inputs).to.include({ protocol: "TLS", sslPolicy: TLS_SSL_POLICY });
            const dicom = listener(b, "dicom").inputs;
            expect(dicom).to.include({ protocol: "TCP", tcpIdleTimeoutSeconds: 3600 });
            expect(dicom).to.not.have.any.keys("certificateArn", "sslPolicy", "alpnPolicy");
            expect(targetGroupOf(b, listener(b, "dicom")).inputs).to.include({ protocol: "TCP", port: 11112 });
        });

        it("uses the configured interval and thresholds on every target group", () => {
            for (const tg of b.ofType(TYPES.targetGroup)) {
                expect(tg.inputs.healthCheck).to.deep.include({ path: "/healthz", interval: 30, healthyThreshold: 5, unhealthyThreshold: 4, timeout: 5 });
            }
        });

        it("has the instances' self-signed certificate name the DICOM name modalities type", () => {
            expect(b.one(TYPES.selfSignedCert, "orthanc-tls").inputs.dnsNames).to.include(`pacs.${ZONE}`);
            expect(b.outputs.certificateNotice, "modalities see the instances' certificate").to.be.a("string");
        });

        it("still lets the instances in from the NLB's group only", () => {
            expectInstanceIngressOnlyFrom(b, { "lb-nlb": [443, 11112] });
        });
    });

    describe("network without a certificate", () => {
        let b: Built;
        before(async () => {
            b = await lbStack({});
        });

        it("passes TCP through on both ports, idle timeouts raised, no TLS settings", () => {
            for (const [role, port, idle] of [["web", 443, 600], ["dicom", 11112, 3600]] as const) {
                const l = listener(b, role).inputs;
                expect(l, role).to.include({ port, protocol: "TCP", tcpIdleTimeoutSeconds: idle });
                expect(l, role).to.not.have.any.keys("certificateArn", "sslPolicy");
                expect(targetGroupOf(b, listener(b, role)).inputs).to.include({ protocol: "TCP", port });
            }
        });

        it("still checks health by HTTPS /healthz", () => {
            for (const tg of b.ofType(TYPES.targetGroup)) expect(tg.inputs.healthCheck).to.include({ protocol: "HTTPS", path: "/healthz" });
        });

        it("requests no certificate, looks up no zone and publishes no record", () => {
            expect(b.ofType(TYPES.acmCertificate)).to.deep.equal([]);
            expect(b.ofType(TYPES.record)).to.deep.equal([]);
            expect(b.invocations.map((i) => i.token)).to.not.include("aws:route53/getZone:getZone");
        });

        it("points the outputs at the NLB's own DNS name, and says the instances' certificate is self-signed", () => {
            const dnsName = b.one(TYPES.loadBalancer, "lb-nlb").state.dnsName;
            expect(b.outputs.webUrls).to.deep.equal([`https://${dnsName}/`]);
            expect(b.outputs.dicomEndpoints).to.deep.equal([{ host: dnsName, port: 11112, aet: "ORTHANC", tls: true }]);
            expect(b.outputs.certificateNotice).to.match(/self-signed/);
        });

        it("gives the instances ingress from the NLB's group only", () => {
            expectInstanceIngressOnlyFrom(b, { "lb-nlb": [443, 11112] });
        });

        it("has no access logs: an NLB logs TLS listeners only (the VPC flow logs still record each connection)", () => {
            expect(b.one(TYPES.loadBalancer, "lb-nlb").inputs).to.not.have.property("accessLogs");
            expect(b.ofType(TYPES.bucket).map((x) => x.name)).to.not.include("lb-logs");
            expect(b.ofType(TYPES.flowLog)).to.have.length(1);
        });
    });

    describe("network with an existing certificate and no zone", () => {
        const arn = `arn:aws:acm:${REGION}:123456789012:certificate/byo`;
        let b: Built;
        before(async () => {
            b = await lbStack({ certificateArn: arn });
        });

        it("terminates TLS with the certificate as given, requesting none", () => {
            expect(listener(b, "web").inputs).to.include({ protocol: "TLS", certificateArn: arn, sslPolicy: TLS_SSL_POLICY });
            expect(listener(b, "dicom").inputs).to.include({ protocol: "TLS", certificateArn: arn, sslPolicy: TLS_SSL_POLICY });
            expect(b.ofType(TYPES.acmCertificate)).to.deep.equal([]);
            expect(b.ofType(TYPES.record)).to.deep.equal([]);
        });
    });

    describe("application, certificate from the zone", () => {
        let b: Built;
        before(async () => {
            b = await lbStack({ type: "application", zoneName: ZONE, recordName: "pacs" });
        });

        it("puts HTTPS on an ALB with its security group, invalid headers dropped and the idle timeout raised", () => {
            const alb = b.one(TYPES.loadBalancer, "lb-alb");
            expect(alb.inputs).to.include({ loadBalancerType: "application", internal: false, dropInvalidHeaderFields: true, idleTimeout: 600, enableDeletionProtection: false });
            expect(alb.inputs.securityGroups).to.deep.equal([sgId(b, "lb-alb")]);
            expect(alb.inputs.subnets).to.deep.equal(subnetsOf(b, "publicSubnetIds"));
        });

        it("sets no target health state on the ALB's HTTPS target group (AWS takes it on TCP/TLS target groups only)", () => {
            expect(b.one(TYPES.targetGroup, "lb-web").inputs.targetHealthStates).to.equal(undefined);
            expect(b.one(TYPES.targetGroup, "lb-dicom").inputs.targetHealthStates[0]).to.deep.include({ enableUnhealthyConnectionTermination: false });
        });

        it("listens on HTTPS 443 with the pinned policy and the validated certificate, forwarding to an HTTPS target group", () => {
            const https = listener(b, "web");
            expect(https.inputs).to.include({ port: 443, protocol: "HTTPS", sslPolicy: TLS_SSL_POLICY, certificateArn: b.one(TYPES.certificateValidation, "lb-cert").state.certificateArn });
            expect(https.inputs.loadBalancerArn).to.equal(b.one(TYPES.loadBalancer, "lb-alb").state.arn);
            const tg = targetGroupOf(b, https);
            expect(tg.inputs).to.include({ protocol: "HTTPS", port: 443 });
            expect(tg.inputs.healthCheck).to.include({ protocol: "HTTPS", path: "/healthz", matcher: "200", healthyThreshold: 3, unhealthyThreshold: 2 });
        });

        it("redirects HTTP 80 to HTTPS 443 permanently", () => {
            const http = listener(b, "http").inputs;
            expect(http).to.include({ port: 80, protocol: "HTTP", loadBalancerArn: b.one(TYPES.loadBalancer, "lb-alb").state.arn });
            expect(http.defaultActions).to.deep.equal([{ type: "redirect", redirect: { protocol: "HTTPS", port: "443", statusCode: "HTTP_301" } }]);
        });

        it("opens 443 and 80 to the web client blocks on the ALB, and 11112 to the DICOM client blocks on the companion NLB", () => {
            expect(portsAndCidrs(ingressOn(b, sgId(b, "lb-alb")))).to.deep.equal([[443, 443, WEB_CIDRS[0]], [80, 80, WEB_CIDRS[0]]].sort());
            expect(portsAndCidrs(ingressOn(b, sgId(b, "lb-nlb")))).to.deep.equal(DICOM_CIDRS.map((c) => [11112, 11112, c]).sort());
        });

        it("lets the ALB out to the instances on 443 only, the NLB on 11112 and its health-check port", () => {
            const ports = (name: string) => b.one(TYPES.securityGroup, name).inputs.egress.map((e: any) => [e.fromPort, e.securityGroups[0]]);
            expect(ports("lb-alb")).to.deep.equal([[443, instanceSgId(b)]]);
            expect(ports("lb-nlb")).to.deep.equal([[443, instanceSgId(b)], [11112, instanceSgId(b)]]);
        });

        it("gives the instances ingress from the two load balancers' groups only: no CIDR", () => {
            expectInstanceIngressOnlyFrom(b, { "lb-alb": [443], "lb-nlb": [443, 11112] });
        });

        it("carries DICOM on a companion NLB: TLS 11112, cross-zone, security group at creation", () => {
            const nlb = b.one(TYPES.loadBalancer, "lb-nlb");
            expect(nlb.inputs).to.include({ loadBalancerType: "network", enableCrossZoneLoadBalancing: true });
            expect(nlb.inputs.securityGroups).to.deep.equal([sgId(b, "lb-nlb")]);
            const dicom = listener(b, "dicom");
            expect(dicom.inputs).to.include({ port: 11112, protocol: "TLS", sslPolicy: TLS_SSL_POLICY, loadBalancerArn: nlb.state.arn });
            expect(dicom.inputs.alpnPolicy ?? "None").to.equal("None");
            expect(targetGroupOf(b, dicom).inputs).to.include({ protocol: "TLS", port: 11112, proxyProtocolV2: false });
        });

        it("attaches both slots to both target groups", () => {
            for (const tg of b.ofType(TYPES.targetGroup)) {
                const attached = b.ofType(TYPES.autoscalingAttachment).filter((a) => a.inputs.lbTargetGroupArn === tg.state.arn);
                expect(attached.map((a) => a.inputs.autoscalingGroupName).sort(), tg.name).to.deep.equal(SLOT_GROUPS);
            }
        });

        it("requests one certificate for the web and the DICOM names, with one validation record each", () => {
            const cert = b.one(TYPES.acmCertificate, "lb-cert");
            expect(cert.inputs).to.deep.include({ domainName: `pacs.${ZONE}`, subjectAlternativeNames: [`pacs-dicom.${ZONE}`] });
            expect(b.ofType(TYPES.record).filter((r) => r.name.startsWith("lb-cert-")).map((r) => r.inputs.name).sort()).to.deep.equal(
                cert.state.domainValidationOptions.map((o: any) => o.resourceRecordName).sort(),
            );
        });

        it("publishes the ALB under recordName and the DICOM NLB under <recordName>-dicom", () => {
            const target = (record: string) => b.one(TYPES.record, record).inputs;
            expect(target("lb-alb")).to.deep.include({ name: `pacs.${ZONE}`, type: "A", aliases: [{ name: b.one(TYPES.loadBalancer, "lb-alb").state.dnsName, zoneId: "Z2IFOLAFXWLO4F", evaluateTargetHealth: true }] });
            expect(target("lb-nlb")).to.deep.include({ name: `pacs-dicom.${ZONE}`, type: "A", aliases: [{ name: b.one(TYPES.loadBalancer, "lb-nlb").state.dnsName, zoneId: "Z2IFOLAFXWLO4F", evaluateTargetHealth: true }] });
            expect(b.outputs.webUrls).to.deep.equal([`https://pacs.${ZONE}/`]);
            expect(b.outputs.dicomEndpoints).to.deep.equal([{ host: `pacs-dicom.${ZONE}`, port: 11112, aet: "ORTHANC", tls: true }]);
        });

        it("associates a REGIONAL WAF web ACL rendering the managed groups and the DICOM upload exception", () => {
            const acl = b.one(TYPES.webAcl, "lb-waf");
            expect(acl.inputs).to.deep.include({ scope: "REGIONAL", defaultAction: { allow: {} } });
            expect(acl.inputs.rules).to.deep.equal(webAclRules("lb-waf"));
            expect(acl.inputs.rules.map((r: any) => r.statement.managedRuleGroupStatement?.name ?? r.name)).to.deep.equal([
                "AWSManagedRulesCommonRuleSet",
                "DicomUploads",
                "CommonRuleSetBodyOutsideDicomUploads",
                "AWSManagedRulesKnownBadInputsRuleSet",
                "AWSManagedRulesAmazonIpReputationList",
            ]);
            const common = acl.inputs.rules[0].statement.managedRuleGroupStatement;
            expect(common.ruleActionOverrides.map((o: any) => o.name)).to.include.members(["SizeRestrictions_BODY", "NoUserAgent_HEADER", "CrossSiteScripting_BODY"]);
            const uploads = JSON.stringify(acl.inputs.rules[1]);
            for (const text of ['"searchString":"/dicom-web/"', '"searchString":"/instances"', '"searchString":"POST"', '"ruleLabels":[{"name":"orthweb:dicom-upload"}]']) expect(uploads).to.include(text);
            const body = JSON.stringify(acl.inputs.rules[2].statement);
            for (const text of ["core-rule-set:GenericLFI_Body", '"key":"orthweb:dicom-upload"']) expect(body).to.include(text);
            expect(b.one(TYPES.webAclAssociation, "lb-waf").inputs).to.deep.equal({ resourceArn: b.one(TYPES.loadBalancer, "lb-alb").state.arn, webAclArn: acl.state.arn });
        });

        it("logs the web ACL to an aws-waf-logs-* bucket of its own, credentials redacted, once the bucket admits WAF", () => {
            const bucket = b.one(TYPES.bucket, "lb-waf-logs");
            expect(bucket.state.bucket).to.match(/^aws-waf-logs-/);
            const logging = b.one(TYPES.webAclLogging, "lb-waf");
            expect(logging.inputs).to.deep.include({ resourceArn: b.one(TYPES.webAcl, "lb-waf").state.arn, logDestinationConfigs: [bucket.state.arn] });
            expect(logging.inputs.redactedFields).to.deep.equal([{ singleHeader: { name: "authorization" } }, { singleHeader: { name: "cookie" } }]);
            expect(dependsOn(logging.options?.dependencies, TYPES.bucketPolicy, "lb-waf-logs")).to.equal(true);
            expect(b.one(TYPES.bucketEncryption, "lb-waf-logs").inputs.rules[0].applyServerSideEncryptionByDefault.sseAlgorithm).to.equal("AES256");
            expect(b.one(TYPES.bucketLifecycle, "lb-waf-logs").inputs.rules[0].expiration).to.deep.equal({ days: 30 });
            const policy = JSON.parse(b.one(TYPES.bucketPolicy, "lb-waf-logs").inputs.policy);
            expect(policy.Statement.find((st: any) => st.Action === "s3:PutObject").Resource).to.equal(`${bucket.state.arn}/AWSLogs/${MOCK_ACCOUNT}/*`);
        });

        it("writes access logs to a private SSE-S3 bucket that expires them", () => {
            const bucket = b.one(TYPES.bucket, "lb-logs");
            expect(b.one(TYPES.loadBalancer, "lb-alb").inputs.accessLogs).to.deep.equal({ bucket: bucket.state.bucket, prefix: "alb", enabled: true });
            const sse = b.one(TYPES.bucketEncryption, "lb-logs").inputs.rules[0].applyServerSideEncryptionByDefault;
            expect(sse.sseAlgorithm, "ELB cannot write to KMS-encrypted buckets").to.equal("AES256");
            expect(sse.kmsMasterKeyId).to.equal(undefined);
            expect(b.one(TYPES.bucketPublicAccess, "lb-logs").inputs).to.include({ blockPublicAcls: true, blockPublicPolicy: true, ignorePublicAcls: true, restrictPublicBuckets: true });
            expect(b.one(TYPES.bucketLifecycle, "lb-logs").inputs.rules[0]).to.deep.include({ status: "Enabled", filter: {}, expiration: { days: 30 } });
            expect(b.one(TYPES.bucket, "lb-logs").inputs.forceDestroy).to.equal(true);
        });

        it("lets the regional ELB account (aws.elb.getServiceAccount) put logs under alb/AWSLogs/<account>/ only", () => {
            expect(b.invocations.map((i) => i.token)).to.include("aws:elb/getServiceAccount:getServiceAccount");
            const policy = JSON.parse(b.one(TYPES.bucketPolicy, "lb-logs").inputs.policy);
            const bucketArn = b.one(TYPES.bucket, "lb-logs").state.arn;
            expect(policy.Statement[0]).to.deep.equal({
                Sid: "LoadBalancerLogDelivery",
                Effect: "Allow",
                Principal: { AWS: "arn:aws:iam::156460612806:root" },
                Action: "s3:PutObject",
                Resource: `${bucketArn}/alb/AWSLogs/${MOCK_ACCOUNT}/*`,
            });
        });

        it("creates the ALB only once the log bucket's policy exists (AWS test-writes when logging is enabled)", () => {
            expect(dependsOn(b.one(TYPES.loadBalancer, "lb-alb").options?.dependencies, TYPES.bucketPolicy, "lb-logs")).to.equal(true);
        });

        it("does not ask users to trust the instances' certificate", () => {
            expect(b.outputs.certificateNotice).to.equal(undefined);
        });
    });

    describe("application with dicomRecordName", () => {
        it("publishes and certifies the DICOM load balancer under that name", async () => {
            const b = await lbStack({ type: "application", zoneName: ZONE, dicomRecordName: "modalities" });
            expect(b.one(TYPES.record, "lb-nlb").inputs.name).to.equal(`modalities.${ZONE}`);
            expect(b.one(TYPES.acmCertificate, "lb-cert").inputs.subjectAlternativeNames).to.deep.equal([`modalities.${ZONE}`]);
            expect(b.outputs.dicomEndpoints[0].host).to.equal(`modalities.${ZONE}`);
        });
    });

    describe("application in prod, existing certificate, no WAF, DICOM passed through, in a region opened after August 2022", () => {
        const region = "eu-central-2";
        const arn = `arn:aws:acm:${region}:123456789012:certificate/byo`;
        let b: Built;
        before(async () => {
            b = await lbStack(
                { type: "application", certificateArn: arn, waf: false, dicomTls: "passthrough" },
                { "aws:region": region, "orthweb:environment": "prod" },
            );
        });

        it("turns deletion protection on for both load balancers", () => {
            for (const lb of b.ofType(TYPES.loadBalancer)) expect(lb.inputs.enableDeletionProtection, lb.name).to.equal(true);
        });

        it("uses one NAT gateway per AZ for the private instances", () => {
            expect(b.ofType(TYPES.vpc)[0].inputs.natGateways).to.deep.equal({ strategy: "OnePerAz" });
        });

        it("uses the certificate as given on the ALB and passes DICOM through on the NLB", () => {
            expect(listener(b, "web").inputs).to.include({ protocol: "HTTPS", certificateArn: arn });
            expect(listener(b, "dicom").inputs).to.include({ protocol: "TCP", tcpIdleTimeoutSeconds: 3600 });
            expect(b.ofType(TYPES.acmCertificate)).to.deep.equal([]);
        });

        it("creates no web ACL when waf is false", () => {
            expect(b.ofType(TYPES.webAcl)).to.deep.equal([]);
            expect(b.ofType(TYPES.webAclAssociation)).to.deep.equal([]);
        });

        it("lets the log delivery service principal write the logs, and keeps them a year", () => {
            expect(b.invocations.map((i) => i.token)).to.not.include("aws:elb/getServiceAccount:getServiceAccount");
            const policy = JSON.parse(b.one(TYPES.bucketPolicy, "lb-logs").inputs.policy);
            expect(policy.Statement[0].Principal).to.deep.equal({ Service: "logdelivery.elasticloadbalancing.amazonaws.com" });
            expect(b.one(TYPES.bucketLifecycle, "lb-logs").inputs.rules[0].expiration).to.deep.equal({ days: 365 });
            expect(b.one(TYPES.bucket, "lb-logs").inputs.forceDestroy).to.equal(false);
            expect(b.one(TYPES.bucket, "lb-logs").options?.retainOnDelete).to.equal(true);
        });

        it("points the outputs at the load balancers' own DNS names", () => {
            expect(b.outputs.webUrls).to.deep.equal([`https://${b.one(TYPES.loadBalancer, "lb-alb").state.dnsName}/`]);
            expect(b.outputs.dicomEndpoints[0].host).to.equal(b.one(TYPES.loadBalancer, "lb-nlb").state.dnsName);
        });
    });

    describe("internal scheme", () => {
        it("puts the load balancers in the instances' private subnets", async () => {
            const b = await lbStack({ type: "application", scheme: "internal", zoneName: ZONE });
            for (const lb of b.ofType(TYPES.loadBalancer)) {
                expect(lb.inputs.internal, lb.name).to.equal(true);
                expect(lb.inputs.subnets, lb.name).to.deep.equal(subnetsOf(b, "privateSubnetIds")).and.have.length(2);
            }
        });
    });

    describe("stack files and docs", () => {
        it("Pulumi.prod.yaml deploys a network load balancer with an alias in its zone", async () => {
            const file = loadStackFile("prod");
            const b = await build(file.config, "prod");
            expect(b.config.traffic.frontDoor).to.equal("loadBalancer");
            expect(b.config.traffic.loadBalancer.type).to.equal("network");
            expect(b.ofType(TYPES.loadBalancer).map((l) => l.inputs.loadBalancerType)).to.deep.equal(["network"]);
            const zone = b.config.traffic.loadBalancer.zoneName!;
            expect(b.outputs.webUrls).to.deep.equal([`https://${b.config.traffic.loadBalancer.recordName}.${zone}/`]);
            expect(fs.readFileSync(file.file, "utf8"), "the file tells the user to replace the example zone").to.match(new RegExp(`replace[^\\n]*${zone.replace(/\./g, "\\.")}|${zone.replace(/\./g, "\\.")}[^\\n]*replace`, "i"));
        });

        it("docs/load-balancer.md states the default failover time the model computes", () => {
            const doc = fs.readFileSync(path.resolve(__dirname, "../docs/load-balancer.md"), "utf8");
            const seconds = loadBalancerFailoverSeconds(DEFAULT_HEALTH_CHECK);
            expect(seconds).to.equal(10);
            expect(doc).to.include(`${DEFAULT_HEALTH_CHECK.intervalSeconds} s x ${DEFAULT_HEALTH_CHECK.unhealthyThreshold} = ${seconds} s`);
        });
    });
});

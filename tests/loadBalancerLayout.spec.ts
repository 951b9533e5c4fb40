import { expect } from "chai";
import { evaluateAcl, WafRequest } from "./wafModel";
import { WAF_LOG_NAME_PREFIX } from "../rules/audit";
import { statementLevels, WEB_ACL_BASE_PRICE_WCU, webAclCapacity, webAclProblems } from "../policy/wafLimits";
import {
    accessLogBucketPolicy,
    certificateDomains,
    clientIngress,
    DICOM_TCP_IDLE_SECONDS,
    effectiveDicomTls,
    frontDoorNames,
    healthCheckTimeoutSeconds,
    instancePorts,
    listenerLayout,
    loadBalancerFailover,
    LOG_DELIVERY_SERVICE,
    passThroughNames,
    targetHealthCheck,
    usesElbAccount,
    WEB_TCP_IDLE_SECONDS,
    webAclRules,
    BLOCK_BODY_MATCHES_RULE,
    DICOM_UPLOAD_LABEL,
    DICOM_UPLOAD_RULE,
    WAF_REDACTED_HEADERS,
} from "../rules/loadBalancerLayout";

describe("load balancer layout (pure)", () => {
    describe("names", () => {
        it("publishes one name for both kinds of traffic on a network load balancer", () => {
            expect(frontDoorNames({ type: "network", zoneName: "example.org", recordName: "pacs" })).to.deep.equal({ web: "pacs.example.org", dicom: "pacs.example.org" });
        });

        it("names the companion DICOM load balancer <recordName>-dicom unless dicomRecordName is given", () => {
            expect(frontDoorNames({ type: "application", zoneName: "example.org", recordName: "pacs" }).dicom).to.equal("pacs-dicom.example.org");
            expect(frontDoorNames({ type: "application", zoneName: "example.org", recordName: "pacs", dicomRecordName: "modalities" }).dicom).to.equal("modalities.example.org");
        });

        it("publishes no name without a zone", () => {
            expect(frontDoorNames({ type: "application", recordName: "pacs" })).to.deep.equal({});
        });

        it("asks ACM for each name once, web name first", () => {
            expect(certificateDomains({ web: "pacs.example.org", dicom: "pacs.example.org" })).to.deep.equal(["pacs.example.org"]);
            expect(certificateDomains({ web: "pacs.example.org", dicom: "pacs-dicom.example.org" })).to.deep.equal(["pacs.example.org", "pacs-dicom.example.org"]);
            expect(certificateDomains({})).to.deep.equal([]);
        });

        it("tells the instances' certificate which name modalities reach it by when DICOM TLS passes through", () => {
            const base = { zoneName: "example.org", recordName: "pacs", hasCertificate: true };
            expect(passThroughNames({ ...base, type: "network", dicomTls: "passthrough" })).to.deep.equal(["pacs.example.org"]);
            expect(passThroughNames({ ...base, type: "application", dicomTls: "passthrough" })).to.deep.equal(["pacs-dicom.example.org"]);
            expect(passThroughNames({ ...base, type: "network", dicomTls: "terminate" })).to.deep.equal([]);
        });
    });

    describe("listeners", () => {
        it("terminates both ports with TLS on a network load balancer with a certificate", () => {
            const layout = listenerLayout("network", true, "terminate");
            expect(layout.map((l) => [l.loadBalancer, l.port, l.protocol, l.target?.protocol])).to.deep.equal([
                ["nlb", 443, "TLS", "TLS"],
                ["nlb", 11112, "TLS", "TLS"],
            ]);
            expect(layout.every((l) => l.tcpIdleTimeoutSeconds === undefined), "TLS listeners have a fixed idle timeout").to.equal(true);
        });

        it("passes DICOM through as TCP with a long idle timeout when dicomTls is passthrough", () => {
            const dicom = listenerLayout("network", true, "passthrough").find((l) => l.role === "dicom")!;
            expect(dicom).to.include({ protocol: "TCP", tcpIdleTimeoutSeconds: DICOM_TCP_IDLE_SECONDS });
            expect(dicom.target).to.deep.equal({ protocol: "TCP", port: 11112 });
        });

        it("passes both ports through as TCP without a certificate, whatever dicomTls says", () => {
            expect(effectiveDicomTls(false, "terminate")).to.equal("passthrough");
            const layout = listenerLayout("network", false, "terminate");
            expect(layout.map((l) => [l.port, l.protocol, l.target?.protocol, l.tcpIdleTimeoutSeconds])).to.deep.equal([
                [443, "TCP", "TCP", WEB_TCP_IDLE_SECONDS],
                [11112, "TCP", "TCP", DICOM_TCP_IDLE_SECONDS],
            ]);
        });

        it("puts HTTPS and the HTTP redirect on the ALB and DICOM on the companion NLB", () => {
            const layout = listenerLayout("application", true, "terminate");
            expect(layout.map((l) => [l.role, l.loadBalancer, l.port, l.protocol, l.target?.protocol])).to.deep.equal([
                ["web", "alb", 443, "HTTPS", "HTTPS"],
                ["http", "alb", 80, "HTTP", undefined],
                ["dicom", "nlb", 11112, "TLS", "TLS"],
            ]);
        });
    });

    describe("security group rules", () => {
        it("opens each listener port to its own clients' blocks only", () => {
            const rules = clientIngress(listenerLayout("application", true, "terminate"), ["198.51.100.0/24"], ["203.0.113.64/27", "192.0.2.0/24"]);
            expect(rules.map((r) => [r.loadBalancer, r.port, r.cidr])).to.deep.equal([
                ["alb", 443, "198.51.100.0/24"],
                ["alb", 80, "198.51.100.0/24"],
                ["nlb", 11112, "203.0.113.64/27"],
                ["nlb", 11112, "192.0.2.0/24"],
            ]);
        });

        it("lets each load balancer reach the instances on its target ports plus the health-check port", () => {
            expect(instancePorts(listenerLayout("network", false, "terminate"), "nlb")).to.deep.equal([443, 11112]);
            const app = listenerLayout("application", true, "passthrough");
            expect(instancePorts(app, "alb")).to.deep.equal([443]);
            expect(instancePorts(app, "nlb"), "the DICOM NLB checks /healthz on 443").to.deep.equal([443, 11112]);
        });
    });

    describe("health checks", () => {
        it("checks HTTPS /healthz on 443 with both thresholds explicit", () => {
            expect(targetHealthCheck({ intervalSeconds: 10, healthyThreshold: 3, unhealthyThreshold: 2 })).to.deep.equal({
                enabled: true,
                protocol: "HTTPS",
                port: "443",
                path: "/healthz",
                matcher: "200",
                interval: 10,
                timeout: 5,
                healthyThreshold: 3,
                unhealthyThreshold: 2,
            });
        });

        it("keeps the timeout below the interval and within AWS's 2..120 s", () => {
            for (const interval of [5, 6, 10, 30, 300]) {
                const timeout = healthCheckTimeoutSeconds(interval);
                expect(timeout, `interval ${interval}`).to.be.lessThan(interval);
                expect(timeout).to.be.within(2, 120);
            }
        });
    });

    describe("failover estimate", () => {
        it("is interval x unhealthy threshold, explained, with no DNS caching to add", () => {
            const f = loadBalancerFailover({ intervalSeconds: 10, healthyThreshold: 3, unhealthyThreshold: 2 });
            expect(f.worstCaseSeconds).to.equal(20);
            expect(f.breakdown).to.match(/^10 s x 2 failed checks = 20 s\./);
            expect(f.breakdown).to.include("after 3 good checks (30 s)");
            expect(f.note).to.include("No DNS change");
            expect(loadBalancerFailover({ intervalSeconds: 30, healthyThreshold: 5, unhealthyThreshold: 3 }).worstCaseSeconds).to.equal(90);
        });
    });

    describe("WAF", () => {
        it("evaluates the core rule set first, then the upload label, then the body-match rule, then the two other AWS managed groups", () => {
            const rules = webAclRules("lb-waf");
            expect(rules.map((r) => [r.priority, r.name])).to.deep.equal([
                [0, "AWSManagedRulesCommonRuleSet"],
                [1, DICOM_UPLOAD_RULE],
                [2, BLOCK_BODY_MATCHES_RULE],
                [3, "AWSManagedRulesKnownBadInputsRuleSet"],
                [4, "AWSManagedRulesAmazonIpReputationList"],
            ]);
            const groups = rules.filter((r) => r.statement.managedRuleGroupStatement);
            expect(groups.every((r) => r.statement.managedRuleGroupStatement!.vendorName === "AWS" && r.overrideAction !== undefined && "none" in r.overrideAction)).to.equal(true);
            expect(rules[1]).to.deep.include({ action: { count: {} }, ruleLabels: [{ name: DICOM_UPLOAD_LABEL }] });
            expect(rules[2].action).to.deep.equal({ block: {} });
        });

        it("is a web ACL the AWS provider and WAF accept: statements at most 3 levels deep, capacity within the limit", () => {
            const rules = webAclRules("lb-waf");
            expect(webAclProblems(rules)).to.deep.equal([]);
            expect(rules.map((r) => statementLevels(r.statement).levels)).to.deep.equal([1, 2, 2, 1, 1]);
            // 700 + 200 + 25 for the groups; POST (2), two path matches with two transformations (2 x 22), five labels.
            expect(webAclCapacity(rules)).to.deep.equal({ wcu: 976, unpriced: [] });
            expect(webAclCapacity(rules).wcu).to.be.at.most(WEB_ACL_BASE_PRICE_WCU);
        });

        it("counts the body rules, SizeRestrictions_BODY and NoUserAgent_HEADER of the core rule set, and nothing else", () => {
            const overrides = webAclRules("lb-waf").flatMap((r) => (r.statement.managedRuleGroupStatement?.ruleActionOverrides ?? []).map((o) => [r.name, o.name, Object.keys(o.actionToUse)]));
            expect(overrides).to.deep.equal(
                ["SizeRestrictions_BODY", "NoUserAgent_HEADER", "CrossSiteScripting_BODY", "GenericLFI_BODY", "GenericRFI_BODY", "EC2MetaDataSSRF_BODY"].map((rule) => [
                    "AWSManagedRulesCommonRuleSet",
                    rule,
                    ["count"],
                ]),
            );
        });

        describe("what the rendered web ACL does with a request (evaluated by a small model of WAF)", () => {
            const acl = webAclRules("lb-waf");
            const cases: [string, WafRequest, string][] = [
                ["a STOW-RS upload whose binary body looks like XSS and is over 8 KB", { method: "POST", path: "/dicom-web/studies", matches: ["CrossSiteScripting_BODY", "SizeRestrictions_BODY"] }, "allow"],
                ["a STOW-RS upload to one study that looks like a metadata SSRF", { method: "POST", path: "/dicom-web/studies/1.2.3", matches: ["EC2MetaDataSSRF_BODY"] }, "allow"],
                ["an Orthanc upload (POST /instances) that looks like a file inclusion", { method: "POST", path: "/instances", matches: ["GenericLFI_BODY", "GenericRFI_BODY"] }, "allow"],
                ["a scripted client without User-Agent", { method: "GET", path: "/dicom-web/studies", matches: ["NoUserAgent_HEADER"] }, "allow"],
                ["a REST call whose body carries XSS", { method: "POST", path: "/tools/find", matches: ["CrossSiteScripting_BODY"] }, `block by ${BLOCK_BODY_MATCHES_RULE}`],
                ["a path that only pretends to be an upload", { method: "POST", path: "/dicom-web/../tools/execute-script", matches: ["GenericRFI_BODY"] }, `block by ${BLOCK_BODY_MATCHES_RULE}`],
                ["the same, URL-encoded", { method: "POST", path: "/dicom-web/%2e%2e/tools/execute-script", matches: ["GenericLFI_BODY"] }, `block by ${BLOCK_BODY_MATCHES_RULE}`],
                ["a PUT (not an upload) to /instances", { method: "PUT", path: "/instances", matches: ["CrossSiteScripting_BODY"] }, `block by ${BLOCK_BODY_MATCHES_RULE}`],
                ["a POST under /instances/ (not the upload itself)", { method: "POST", path: "/instances/abc/modify", matches: ["GenericLFI_BODY"] }, `block by ${BLOCK_BODY_MATCHES_RULE}`],
                ["an upload from a known bad bot (header rules still apply)", { method: "POST", path: "/dicom-web/studies", matches: ["UserAgent_BadBots_HEADER"] }, "block by AWSManagedRulesCommonRuleSet"],
                ["an upload whose query string carries XSS (query rules still apply)", { method: "POST", path: "/instances", matches: ["CrossSiteScripting_QUERYARGUMENTS"] }, "block by AWSManagedRulesCommonRuleSet"],
                ["a body over 8 KB elsewhere (counted only, as before)", { method: "POST", path: "/tools/create-archive", matches: ["SizeRestrictions_BODY"] }, "allow"],
            ];
            for (const [what, request, expected] of cases) {
                it(`${expected.split(" ")[0]}s ${what}`, () => expect(evaluateAcl(acl, request)).to.equal(expected));
            }
        });

        it("redacts Orthanc's credentials and cookies from the WAF log, whose destination name WAF requires", () => {
            expect([...WAF_REDACTED_HEADERS]).to.deep.equal(["authorization", "cookie"]);
            expect(WAF_LOG_NAME_PREFIX).to.equal("aws-waf-logs-");
        });
    });

    describe("access logs", () => {
        it("lets the regional ELB account deliver in regions older than August 2022, the service principal elsewhere", () => {
            expect(usesElbAccount("eu-west-1")).to.equal(true);
            expect(usesElbAccount("us-east-1")).to.equal(true);
            expect(usesElbAccount("ap-southeast-4")).to.equal(false);
            expect(usesElbAccount("eu-central-2")).to.equal(false);
        });

        it("grants s3:PutObject under <prefix>/AWSLogs/<account>/ only, and denies transport without TLS", () => {
            const base = { bucketArn: "arn:aws:s3:::logs", prefix: "alb", accountId: "123456789012" };
            const legacy = accessLogBucketPolicy({ ...base, elbAccountArn: "arn:aws:iam::156460612806:root" });
            expect(legacy.Statement[0]).to.deep.include({ Effect: "Allow", Principal: { AWS: "arn:aws:iam::156460612806:root" }, Action: "s3:PutObject", Resource: "arn:aws:s3:::logs/alb/AWSLogs/123456789012/*" });
            expect(accessLogBucketPolicy(base).Statement[0].Principal).to.deep.equal({ Service: LOG_DELIVERY_SERVICE });
            expect(legacy.Statement[1]).to.deep.include({ Effect: "Deny", Condition: { Bool: { "aws:SecureTransport": "false" } } });
        });
    });
});

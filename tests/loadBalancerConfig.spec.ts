import { expect } from "chai";
import { validateStackConfig } from "../stacks/config";
import { loadBalancerProblems } from "../stacks/loadBalancerRules";
import { CertificateFacts } from "../stacks/tlsMaterial";
import { REGION, withConfig } from "./harness";

function lbConfig(loadBalancer: Record<string, unknown> | undefined, more: Record<string, unknown> = {}) {
    return withConfig({ "orthweb:traffic": { frontDoor: "loadBalancer", ...(loadBalancer ? { loadBalancer } : {}) }, ...more });
}

function problemsOf(raw: Record<string, unknown>): string[] {
    const { config, problems } = validateStackConfig(raw);
    expect(config, "expected the config to be rejected").to.equal(undefined);
    return problems;
}

/** Exactly one problem naming the key, and containing each of `parts`. */
function expectProblem(raw: Record<string, unknown>, key: string, ...parts: string[]) {
    const problems = problemsOf(raw);
    expect(problems, problems.join("\n")).to.have.length(1);
    expect(problems[0]).to.match(new RegExp(`^${key.replace(/[.[\]]/g, "\\$&")}: `));
    for (const part of parts) expect(problems[0]).to.include(part);
}

describe("config: traffic.loadBalancer", () => {
    it("accepts frontDoor loadBalancer alone, with the documented defaults", () => {
        const { config, problems } = validateStackConfig(lbConfig(undefined));
        expect(problems).to.deep.equal([]);
        expect(config!.traffic.frontDoor).to.equal("loadBalancer");
        expect(config!.traffic.loadBalancer).to.deep.equal({
            type: "network",
            scheme: "internet-facing",
            recordName: "pacs",
            waf: true,
            dicomTls: "terminate",
            healthCheck: { intervalSeconds: 5, healthyThreshold: 3, unhealthyThreshold: 2 },
        });
    });

    it("accepts the DESIGN example in full", () => {
        const { problems } = validateStackConfig(
            lbConfig({
                type: "application",
                scheme: "internal",
                zoneName: "example.org",
                recordName: "pacs",
                certificateArn: `arn:aws:acm:${REGION}:123456789012:certificate/0a1b2c3d-4e5f-6789-abcd-ef0123456789`,
                waf: true,
                dicomTls: "passthrough",
                dicomRecordName: "pacs-dicom",
                healthCheck: { intervalSeconds: 30, healthyThreshold: 5, unhealthyThreshold: 3 },
            }),
        );
        expect(problems).to.deep.equal([]);
    });

    describe("leaf values", () => {
        const cases: [string, Record<string, unknown>, string, string][] = [
            ["type", { type: "classic" }, '"classic"', "network (DICOM and HTTPS on one NLB) | application"],
            ["scheme", { scheme: "public" }, '"public"', "internet-facing | internal"],
            ["zoneName", { zoneName: "Example.org." }, '"Example.org."', "without the trailing dot"],
            ["zoneName", { zoneName: "localhost" }, '"localhost"', "such as example.org"],
            ["recordName", { zoneName: "example.org", recordName: "pacs_1" }, '"pacs_1"', "lowercase letters, digits and hyphens"],
            ["certificateArn", { certificateArn: "arn:aws:iam::123456789012:server-certificate/x" }, '"arn:aws:iam::123456789012:server-certificate/x"', "an ACM certificate ARN"],
            ["waf", { type: "application", zoneName: "example.org", waf: "yes" }, '"yes"', "true | false"],
            ["dicomTls", { dicomTls: "offload" }, '"offload"', "terminate (TLS ends at the load balancer"],
            ["healthCheck.intervalSeconds", { healthCheck: { intervalSeconds: 4 } }, "4", "from 5 to 300"],
            ["healthCheck.intervalSeconds", { healthCheck: { intervalSeconds: 301 } }, "301", "from 5 to 300"],
            ["healthCheck.intervalSeconds", { healthCheck: { intervalSeconds: 7.5 } }, "7.5", "a whole number"],
            ["healthCheck.healthyThreshold", { healthCheck: { healthyThreshold: 1 } }, "1", "from 2 to 10"],
            ["healthCheck.unhealthyThreshold", { healthCheck: { unhealthyThreshold: 11 } }, "11", "from 2 to 10"],
        ];
        for (const [key, section, value, allowed] of cases) {
            it(`rejects ${key} = ${value}, naming what is allowed`, () => {
                expectProblem(lbConfig(section), `orthweb:traffic.loadBalancer.${key}`, `got ${value}; allowed: `, allowed);
            });
        }

        it("lists the allowed keys for an unknown one", () => {
            expectProblem(lbConfig({ listeners: [] }), "orthweb:traffic.loadBalancer.listeners", "unknown key", "type, scheme, zoneName, recordName, certificateArn, waf, dicomTls, dicomRecordName, healthCheck");
            expectProblem(lbConfig({ healthCheck: { timeoutSeconds: 5 } }), "orthweb:traffic.loadBalancer.healthCheck.timeoutSeconds", "intervalSeconds, healthyThreshold, unhealthyThreshold");
        });
    });

    describe("cross-field rules", () => {
        it("requires a certificate source for an application load balancer, and says how to give one", () => {
            expectProblem(lbConfig({ type: "application" }), "orthweb:traffic.loadBalancer.type", 'got "application" without a certificate', "loadBalancer.zoneName", "loadBalancer.certificateArn", `ACM certificate in ${REGION}`);
        });

        it("accepts an application load balancer with either a zone or a certificate ARN", () => {
            expect(validateStackConfig(lbConfig({ type: "application", zoneName: "example.org" })).problems).to.deep.equal([]);
            expect(validateStackConfig(lbConfig({ type: "application", certificateArn: `arn:aws:acm:${REGION}:123456789012:certificate/abc` })).problems).to.deep.equal([]);
        });

        it("allows waf only with type application", () => {
            expectProblem(lbConfig({ waf: true }), "orthweb:traffic.loadBalancer.waf", 'got true with type "network"', "only with type application");
            expect(validateStackConfig(lbConfig({ waf: false })).problems, "waf: false says nothing wrong").to.deep.equal([]);
        });

        it("allows dicomRecordName only with type application", () => {
            expectProblem(lbConfig({ zoneName: "example.org", dicomRecordName: "dicom" }), "orthweb:traffic.loadBalancer.dicomRecordName", 'got "dicom" with type "network"', "only with type application");
        });

        it("rejects record names without a zone to put them in", () => {
            expectProblem(lbConfig({ recordName: "pacs" }), "orthweb:traffic.loadBalancer.recordName", "without orthweb:traffic.loadBalancer.zoneName", "set zoneName too");
        });

        it("rejects a DICOM name equal to the web name", () => {
            expectProblem(
                lbConfig({ type: "application", zoneName: "example.org", recordName: "pacs", dicomRecordName: "pacs" }),
                "orthweb:traffic.loadBalancer.dicomRecordName",
                "the same as recordName",
                "default <recordName>-dicom",
            );
        });

        it("rejects dicomTls terminate when there is no certificate to terminate with", () => {
            expectProblem(lbConfig({ dicomTls: "terminate" }), "orthweb:traffic.loadBalancer.dicomTls", 'got "terminate" without a certificate', "else passthrough");
        });

        it("rejects a certificate from another region", () => {
            expectProblem(
                lbConfig({ certificateArn: "arn:aws:acm:us-east-1:123456789012:certificate/abc" }),
                "orthweb:traffic.loadBalancer.certificateArn",
                "us-east-1",
                `allowed: an ACM certificate in ${REGION}`,
            );
        });

        it("rejects a first certificate name longer than ACM's 64 characters", () => {
            const zoneName = `${"a".repeat(50)}.example.org`;
            expectProblem(lbConfig({ zoneName, recordName: "pacs" }), "orthweb:traffic.loadBalancer.recordName", `pacs.${zoneName} (67 characters)`, "at most 64");
            expect(validateStackConfig(lbConfig({ zoneName, recordName: "pacs", certificateArn: `arn:aws:acm:${REGION}:123456789012:certificate/abc` })).problems).to.deep.equal([]);
        });

        it("limits web client blocks to what the ALB's security group can hold", () => {
            const webClientCidrs = Array.from({ length: 31 }, (_, i) => `10.${i}.0.0/16`);
            expectProblem(lbConfig({ type: "application", zoneName: "example.org" }, { "orthweb:network": { webClientCidrs, dicomClientCidrs: ["10.200.0.0/16"] } }), "orthweb:network.webClientCidrs", "got 31 blocks", "at most 30");
        });

        it("rejects a loadBalancer section under another front door", () => {
            expectProblem(withConfig({ "orthweb:traffic": { frontDoor: "direct", loadBalancer: { type: "network" } } }), "orthweb:traffic.loadBalancer", 'frontDoor "direct"', "set frontDoor: loadBalancer");
        });

        it("reports every problem at once", () => {
            const problems = problemsOf(lbConfig({ type: "application", scheme: "public", recordName: "pacs", healthCheck: { intervalSeconds: 1 } }));
            const keys = problems.map((p) => p.split(": ")[0]).sort();
            expect(keys).to.deep.equal([
                "orthweb:traffic.loadBalancer.healthCheck.intervalSeconds",
                "orthweb:traffic.loadBalancer.recordName",
                "orthweb:traffic.loadBalancer.scheme",
                "orthweb:traffic.loadBalancer.type",
            ]);
        });
    });

    describe("a certificate of your own with DICOM TLS passed through", () => {
        const facts = (dnsNames: string[]): CertificateFacts => ({ subject: "CN=x", dnsNames, ipAddresses: [], notAfter: new Date("2099-01-01"), chainLength: 1 });
        const input = (loadBalancer: Record<string, unknown>) => ({ traffic: { frontDoor: "loadBalancer", loadBalancer } });

        it("must name the DICOM name modalities type", () => {
            const problems = loadBalancerProblems(input({ type: "application", zoneName: "example.org", dicomTls: "passthrough" }), REGION, facts(["pacs.example.org"]));
            expect(problems).to.have.length(1);
            expect(problems[0]).to.match(/^orthweb:tlsCertificatePem: does not name pacs-dicom\.example\.org/);
            expect(problems[0]).to.include("allowed: a certificate whose subject alternative names include pacs-dicom.example.org");
        });

        it("is fine when a SAN or a wildcard covers it, or when the load balancer terminates DICOM TLS", () => {
            expect(loadBalancerProblems(input({ zoneName: "example.org", dicomTls: "passthrough" }), REGION, facts(["*.example.org"]))).to.deep.equal([]);
            expect(loadBalancerProblems(input({ zoneName: "example.org", dicomTls: "terminate" }), REGION, facts(["other.example.net"]))).to.deep.equal([]);
        });
    });
});

import { expect } from "chai";
import { renderNginxConf, TLS_PROTOCOLS } from "../components/bootstrap/nginx";
import {
    checkedPorts,
    dnsFailover,
    dnsFrontDoorProblems,
    DnsFrontDoor,
    endpointChecks,
    EQUAL_WEIGHT,
    routingPolicies,
} from "../components/dnsFrontDoor";
import { placementFor } from "../program";
import { configWarnings, parseStackConfig } from "../stacks/config";
import { frontDoorName, isDnsName, relativeNameMeant } from "../rules/dnsName";
import { DNS_MAX_CLIENT_CIDR_RULES, ROUTE53_HEALTH_CHECKERS_RULE_WEIGHT } from "../stacks/schema";
import { runUnderMocks } from "../plan/mockRuntime";
import { build, Built, REGION, TYPES, withConfig } from "./harness";
import { dnsConfig, expectOneProblem, FQDN, problemsOf, ZONE } from "./dnsFixtures";

/** Each instance's Elastic IP, in instance order. */
function elasticIps(built: Built): string[] {
    return [1, 2].map((i) => built.one(TYPES.eip, `orthanc-eip-${i}`).state.publicIp as string);
}

/** The A records, in instance order (dns-1, dns-2). */
function records(built: Built) {
    return built.ofType(TYPES.record).sort((a, b) => a.name.localeCompare(b.name));
}

function healthChecks(built: Built, type: string) {
    return built.ofType(TYPES.healthCheck).filter((c) => c.inputs.type === type);
}

describe("DnsFrontDoor", () => {
    describe("config: orthweb:traffic.dns", () => {
        it("accepts frontDoor dns and fills the defaults: multivalue, TTL 30, checks every 10 s, 2 failures", () => {
            const config = parseStackConfig(dnsConfig());
            expect(config.traffic.frontDoor).to.equal("dns");
            expect(config.traffic.dns).to.deep.equal({ zoneName: ZONE, recordName: "pacs", routing: "multivalue", ttl: 30, healthCheck: { intervalSeconds: 10, failureThreshold: 2 } });
        });

        it("takes every field of the contract as given", () => {
            const dns = { zoneName: "imaging.example.net", recordName: "orthanc.eu", routing: "failover", ttl: 30, healthCheck: { intervalSeconds: 30, failureThreshold: 5 } };
            expect(parseStackConfig(dnsConfig(dns)).traffic.dns).to.deep.equal(dns);
        });

        it("reads the section when the Pulumi runtime hands it over as JSON text", () => {
            const raw = { "aws:region": REGION, "orthweb:traffic": JSON.stringify({ frontDoor: "dns", dns: { zoneName: ZONE, recordName: "pacs", routing: "weighted" } }) };
            expect(parseStackConfig(raw).traffic.dns!.routing).to.equal("weighted");
        });

        it("writes zone and record names in lower case without the root dot", () => {
            const dns = parseStackConfig(dnsConfig({ zoneName: "Example.ORG.", recordName: "PACS" })).traffic.dns!;
            expect(frontDoorName(dns)).to.equal(FQDN);
        });

        it("requires the dns section when frontDoor is dns, and says what goes in it", () => {
            expectOneProblem(withConfig({ "orthweb:traffic": { frontDoor: "dns" } }), "orthweb:traffic.dns", /required when orthweb:traffic\.frontDoor is dns/, /zoneName/, /recordName/);
        });

        it("requires zoneName and recordName inside it", () => {
            const problems = problemsOf(withConfig({ "orthweb:traffic": { frontDoor: "dns", dns: {} } }));
            expect(problems).to.have.length(2);
            expect(problems[0]).to.match(/^orthweb:traffic\.dns\.zoneName: required; allowed: .*public hosted zone/);
            expect(problems[1]).to.match(/^orthweb:traffic\.dns\.recordName: required; allowed: /);
        });

        it("rejects a zone that is not a DNS name of two labels or more", () => {
            for (const zoneName of ["localhost", "example..org", "exa mple.org", "-example.org"]) {
                expectOneProblem(dnsConfig({ zoneName }), "orthweb:traffic.dns.zoneName", new RegExp(`got ${JSON.stringify(zoneName).replace(/[.]/g, "\\.")}`), /allowed: the name of an existing public hosted zone/);
            }
        });

        it("rejects a record name that is not relative DNS labels", () => {
            for (const recordName of ["pacs_1", "pacs.", "*", "", "a".repeat(64)]) {
                expectOneProblem(dnsConfig({ recordName }), "orthweb:traffic.dns.recordName", /allowed: a name relative to the zone, such as pacs/);
            }
        });

        it("spots a record name that already carries the zone and says which name was meant", () => {
            expectOneProblem(dnsConfig({ recordName: "pacs.example.org" }), "orthweb:traffic.dns.recordName", /got "pacs\.example\.org"/, /already ends with the zone example\.org/, /did you mean pacs\?/);
            expectOneProblem(dnsConfig({ recordName: "example.org" }), "orthweb:traffic.dns.recordName", /needs a name under the zone, such as pacs/);
        });

        it("rejects a name longer than 253 characters in all", () => {
            const recordName = Array.from({ length: 4 }, () => "a".repeat(60)).join(".");
            expect(`${recordName}.${ZONE}`.length).to.equal(255);
            expectOneProblem(dnsConfig({ recordName }), "orthweb:traffic.dns.recordName", /makes 255 characters/, /at most 253/);
            expect(problemsOf(dnsConfig({ recordName: recordName.slice(2) }))).to.deep.equal([]);
        });

        it("accepts multivalue, weighted and failover routing, and nothing else (simple has no health checks)", () => {
            for (const routing of ["multivalue", "weighted", "failover"]) expect(problemsOf(dnsConfig({ routing }))).to.deep.equal([]);
            for (const routing of ["simple", "latency", "MULTIVALUE"]) {
                expectOneProblem(dnsConfig({ routing }), "orthweb:traffic.dns.routing", new RegExp(`got "${routing}"`), /allowed: multivalue \| weighted \| failover/);
            }
        });

        it("accepts a TTL from 1 to 300 whole seconds", () => {
            for (const ttl of [1, 60, 300]) expect(problemsOf(dnsConfig({ ttl }))).to.deep.equal([]);
            for (const ttl of [0, 301, 60.5, "60"]) {
                expectOneProblem(dnsConfig({ ttl }), "orthweb:traffic.dns.ttl", new RegExp(`got ${JSON.stringify(ttl).replace(".", "\\.")}`), /allowed: a whole number of seconds from 1 to 300 \(60 or less recommended/);
            }
        });

        it("warns, naming the key and the failover it costs, when the TTL is above the recommended 60 s", () => {
            const dnsWarnings = (c: Parameters<typeof configWarnings>[0]) => configWarnings(c).filter((w) => w.startsWith("orthweb:traffic.dns"));
            const warnings = dnsWarnings(parseStackConfig(dnsConfig({ ttl: 300 })));
            expect(warnings).to.have.length(1);
            expect(warnings[0]).to.match(/^orthweb:traffic\.dns\.ttl: 300 s is above the 60 s AWS recommends/);
            expect(warnings[0]).to.match(/failover takes up to 330 s/);
            expect(dnsWarnings(parseStackConfig(dnsConfig({ ttl: 60 })))).to.deep.equal([]);
            expect(dnsWarnings(parseStackConfig(dnsConfig({ ttl: 5 })))).to.deep.equal([]);
        });

        it("accepts a check interval of 10 or 30 s and a failure threshold of 1 to 10", () => {
            for (const healthCheck of [{ intervalSeconds: 30 }, { failureThreshold: 1 }, { failureThreshold: 10 }]) {
                expect(problemsOf(dnsConfig({ healthCheck }))).to.deep.equal([]);
            }
            expectOneProblem(dnsConfig({ healthCheck: { intervalSeconds: 20 } }), "orthweb:traffic.dns.healthCheck.intervalSeconds", /got 20/, /allowed: 10 \| 30/);
            for (const failureThreshold of [0, 11, 2.5]) {
                expectOneProblem(dnsConfig({ healthCheck: { failureThreshold } }), "orthweb:traffic.dns.healthCheck.failureThreshold", new RegExp(`got ${failureThreshold}`), /allowed: a whole number of failed checks from 1 to 10/);
            }
        });

        it("names the allowed keys for an unknown one, at every level", () => {
            expectOneProblem(dnsConfig({ weight: 5 }), "orthweb:traffic.dns.weight", /unknown key; allowed keys: zoneName, recordName, routing, ttl, healthCheck/);
            expectOneProblem(dnsConfig({ healthCheck: { path: "/" } }), "orthweb:traffic.dns.healthCheck.path", /allowed keys: intervalSeconds, failureThreshold/);
        });

        it("reports every problem of the section at once", () => {
            const problems = problemsOf(dnsConfig({ zoneName: "localhost", routing: "simple", ttl: 900, healthCheck: { intervalSeconds: 5, failureThreshold: 0 } }));
            expect(problems.map((p) => p.split(":").slice(0, 2).join(":"))).to.have.members([
                "orthweb:traffic.dns.zoneName",
                "orthweb:traffic.dns.routing",
                "orthweb:traffic.dns.ttl",
                "orthweb:traffic.dns.healthCheck.intervalSeconds",
                "orthweb:traffic.dns.healthCheck.failureThreshold",
            ]);
        });

        it("leaves room in the security group for the health checkers' prefix list (25 rules on each checked port)", () => {
            expect(DNS_MAX_CLIENT_CIDR_RULES).to.equal(8);
            const blocks = (n: number, third: number) => Array.from({ length: n }, (_, i) => `198.${third}.${i}.0/24`);
            expect(problemsOf(dnsConfig({}, { "orthweb:network": { webClientCidrs: blocks(4, 51), dicomClientCidrs: blocks(4, 52) } }))).to.deep.equal([]);
            const raw = dnsConfig({}, { "orthweb:network": { webClientCidrs: blocks(5, 51), dicomClientCidrs: blocks(4, 52) } });
            expectOneProblem(raw, "orthweb:network.webClientCidrs + dicomClientCidrs", /got 9 blocks/, /allowed: 8 in all with frontDoor dns/, /prefix list/, /peer fallback takes 2/);
            const direct = withConfig({ "orthweb:network": { webClientCidrs: blocks(6, 51), dicomClientCidrs: blocks(5, 52) } });
            expect(problemsOf(direct), "direct has no health checkers").to.deep.equal([]);
        });

        it("counts the client VPN's two rules into that room when one sits beside the DNS name", () => {
            const blocks = (n: number, third: number) => Array.from({ length: n }, (_, i) => `198.${third}.${i}.0/24`);
            const withVpn = (web: number, dicom: number) => {
                const raw = dnsConfig({}, { "orthweb:network": { webClientCidrs: blocks(web, 51), dicomClientCidrs: blocks(dicom, 52) } });
                const traffic = raw["orthweb:traffic"] as Record<string, unknown>;
                return { ...raw, "orthweb:traffic": { ...traffic, clientVpn: { clients: ["reading-room-1"] } } };
            };
            expect(problemsOf(withVpn(3, 3))).to.deep.equal([]);
            expectOneProblem(withVpn(4, 3), "orthweb:network.webClientCidrs + dicomClientCidrs", /got 7 blocks/, /allowed: 6 in all/, /client VPN takes 2/);
        });

        it("ignores a dns section when another front door is chosen", () => {
            const raw = withConfig({ "orthweb:traffic": { frontDoor: "direct", dns: { zoneName: ZONE, recordName: "pacs" } } });
            expect(problemsOf(raw)).to.deep.equal([]);
        });
    });

    describe("under mocks, multivalue (the default)", () => {
        let built: Built;
        before(async () => {
            built = await build(dnsConfig({}, { "orthweb:network": { webClientCidrs: ["198.51.100.0/24"], dicomClientCidrs: ["203.0.113.64/27", "192.0.2.0/24"] } }));
        });

        it("keeps the instances public, each with its own Elastic IP", () => {
            expect(placementFor("dns")).to.equal("public");
            expect(built.ofType(TYPES.eip)).to.have.length(2);
            // Each slot's instance takes its Elastic IP (the claim script): a replacement keeps the address the checks watch.
            const claimed = built.ofType(TYPES.autoscalingGroup).map((g) => g.inputs.tags.find((t: { key: string }) => t.key === "orthweb:address")?.value);
            expect(claimed).to.deep.equal(built.ofType(TYPES.eip).map((e) => e.state.allocationId));
            expect(built.one(TYPES.vpc, "orthanc-vpc").inputs.natGateways.strategy).to.equal("None");
        });

        it("looks up the user's zone as a public hosted zone and writes the records there", () => {
            const lookups = built.invocations.filter((i) => i.token === "aws:route53/getZone:getZone");
            expect(lookups).to.have.length(1);
            expect(lookups[0].inputs).to.deep.include({ name: ZONE, privateZone: false });
            for (const r of records(built)) expect(r.inputs.zoneId).to.equal("Z0MOCKZONE");
        });

        it("checks each instance's Elastic IP over HTTPS on 443 /healthz, with SNI and the front-door name", () => {
            const checks = healthChecks(built, "HTTPS");
            expect(checks).to.have.length(2);
            expect([1, 2].map((i) => built.one(TYPES.healthCheck, `dns-${i}-https`).inputs.ipAddress)).to.deep.equal(elasticIps(built));
            for (const c of checks) {
                expect(c.inputs).to.deep.include({ port: 443, resourcePath: "/healthz", enableSni: true, fqdn: FQDN, requestInterval: 10, failureThreshold: 2 });
            }
        });

        it("checks each instance's Elastic IP with TCP on the DICOM port 11112", () => {
            const checks = healthChecks(built, "TCP");
            expect(checks).to.have.length(2);
            expect([1, 2].map((i) => built.one(TYPES.healthCheck, `dns-${i}-dicom`).inputs.ipAddress)).to.deep.equal(elasticIps(built));
            for (const c of checks) expect(c.inputs).to.deep.include({ port: 11112, requestInterval: 10, failureThreshold: 2 });
        });

        it("combines them per instance in a calculated check that is healthy only when both are", () => {
            const calculated = healthChecks(built, "CALCULATED").sort((a, b) => a.name.localeCompare(b.name));
            expect(calculated.map((c) => c.name)).to.deep.equal(["dns-1", "dns-2"]);
            for (const [i, c] of calculated.entries()) {
                expect(c.inputs.childHealthchecks).to.have.members([`dns-${i + 1}-https-id`, `dns-${i + 1}-dicom-id`]);
                expect(c.inputs.childHealthThreshold).to.equal(c.inputs.childHealthchecks.length);
                expect(c.inputs.ipAddress).to.equal(undefined);
            }
        });

        it("publishes one A record per instance under the front-door name, each with its own set identifier and check", () => {
            const recs = records(built);
            expect(recs).to.have.length(2);
            expect(new Set(recs.map((r) => r.inputs.setIdentifier)).size).to.equal(2);
            recs.forEach((r, i) => {
                expect(r.inputs).to.deep.include({ name: FQDN, type: "A", ttl: 30, multivalueAnswerRoutingPolicy: true, healthCheckId: `dns-${i + 1}-id` });
                expect(r.inputs.records).to.deep.equal([elasticIps(built)[i]]);
                expect(r.inputs.aliases ?? []).to.deep.equal([]);
            });
        });

        it("does not take over a record that is already in the zone", () => {
            for (const r of records(built)) expect(r.inputs.allowOverwrite).to.equal(false);
        });

        it("admits the Route 53 health checkers through their managed prefix list on exactly the checked ports", () => {
            const lookups = built.invocations.filter((i) => i.token === "aws:ec2/getManagedPrefixList:getManagedPrefixList");
            expect(lookups.map((l) => l.inputs.name)).to.deep.equal([`com.amazonaws.${REGION}.route53-healthchecks`]);
            const prefixRules = built.ofType(TYPES.ingressRule).filter((r) => r.inputs.prefixListId !== undefined);
            expect(prefixRules.map((r) => r.inputs.prefixListId)).to.deep.equal(["pl-0mockr53hc", "pl-0mockr53hc"]);
            const checked = [...new Set(built.ofType(TYPES.healthCheck).map((c) => c.inputs.port).filter((p) => p !== undefined))].sort();
            expect(prefixRules.map((r) => r.inputs.fromPort).sort()).to.deep.equal(checked);
            for (const r of prefixRules) {
                expect(r.inputs).to.deep.include({ securityGroupId: "orthanc-instances-id", ipProtocol: "tcp" });
                expect(r.inputs.description).to.equal(`Route 53 health checkers (com.amazonaws.${REGION}.route53-healthchecks) on ${r.inputs.fromPort}`);
                expect(r.inputs.toPort).to.equal(r.inputs.fromPort);
            }
        });

        it("starts the checks only once the checkers are admitted", () => {
            // Recorded registration order follows dependencies: every endpoint check after both checker rules.
            const order = built.registrations.map((r) => `${r.type} ${r.name}`);
            const lastRule = Math.max(...["dns-healthcheckers-443", "dns-healthcheckers-11112"].map((n) => order.indexOf(`${TYPES.ingressRule} ${n}`)));
            for (const c of [...healthChecks(built, "HTTPS"), ...healthChecks(built, "TCP")]) {
                expect(order.indexOf(`${TYPES.healthCheck} ${c.name}`)).to.be.greaterThan(lastRule);
            }
        });

        it("opens 443 to the web client blocks and 11112 to the DICOM client blocks, as direct does, and no more", () => {
            const cidrRules = built.ofType(TYPES.ingressRule).filter((r) => r.inputs.cidrIpv4 !== undefined);
            const rows = cidrRules.map((r) => `${r.inputs.fromPort}-${r.inputs.toPort} ${r.inputs.cidrIpv4} ${r.inputs.securityGroupId}`).sort();
            expect(rows).to.deep.equal([
                "11112-11112 192.0.2.0/24 orthanc-instances-id",
                "11112-11112 203.0.113.64/27 orthanc-instances-id",
                "443-443 198.51.100.0/24 orthanc-instances-id",
            ]);
        });

        it("stays within the 60 inbound rules of the instance group, counting the prefix list by its weight", () => {
            const onInstances = built.ofType(TYPES.ingressRule).filter((r) => r.inputs.securityGroupId === "orthanc-instances-id");
            const used = onInstances.reduce((n, r) => n + (r.inputs.prefixListId ? ROUTE53_HEALTH_CHECKERS_RULE_WEIGHT : 1), 0);
            expect(used).to.equal(55);
            expect(used - 3 + DNS_MAX_CLIENT_CIDR_RULES).to.equal(60);
        });

        it("publishes the front-door name as the web URL and the DICOM endpoint", () => {
            expect(built.outputs.webUrls).to.deep.equal([`https://${FQDN}/`]);
            expect(built.outputs.dicomEndpoints).to.deep.equal([{ host: FQDN, port: 11112, aet: "ORTHANC", tls: true }]);
        });

        it("outputs the worst-case failover (10 x 2 + 10 + 30 = 60 s: within a minute) and that DICOM devices may cache addresses", () => {
            expect(built.outputs.failover.worstCaseSeconds).to.equal(60);
            expect(built.outputs.failover.breakdown).to.match(/10 s x 2 failed checks \+ 10 s .* \+ 30 s TTL = 60 s/);
            expect(built.outputs.failover.note).to.match(/DICOM devices .* keep the address until they are restarted/);
            expect(built.secretOutputs.has("failover")).to.equal(false);
        });

        it("names every child after the component and tags the checks", () => {
            const children = [...built.ofType(TYPES.healthCheck), ...records(built), ...built.ofType(TYPES.ingressRule).filter((r) => !r.name.startsWith("orthanc-"))];
            expect(children).to.have.length(6 + 2 + 3 + 2);
            for (const c of children) expect(c.name.startsWith("dns-"), c.name).to.equal(true);
            for (const c of built.ofType(TYPES.healthCheck)) expect(c.inputs.tags).to.deep.include({ Name: c.name, ManagedBy: "pulumi" });
            expect(built.ofType("orthweb:index:DnsFrontDoor").map((c) => c.name)).to.deep.equal(["dns"]);
        });
    });

    describe("under mocks, weighted and failover", () => {
        it("weighted: equal weights, every record health-checked", async () => {
            const built = await build(dnsConfig({ routing: "weighted" }));
            const recs = records(built);
            expect(recs).to.have.length(2);
            for (const r of recs) {
                expect(r.inputs.weightedRoutingPolicies).to.deep.equal([{ weight: EQUAL_WEIGHT }]);
                expect(r.inputs.healthCheckId).to.match(/^dns-\d-id$/);
                expect(r.inputs.multivalueAnswerRoutingPolicy).to.equal(undefined);
            }
            expect(new Set(recs.map((r) => r.inputs.setIdentifier)).size).to.equal(2);
        });

        it("failover: PRIMARY on instance 1, SECONDARY on instance 2, both health-checked", async () => {
            const built = await build(dnsConfig({ routing: "failover" }));
            const ips = elasticIps(built);
            const recs = records(built);
            expect(recs.map((r) => [r.inputs.failoverRoutingPolicies[0].type, r.inputs.records[0], r.inputs.healthCheckId])).to.deep.equal([
                ["PRIMARY", ips[0], "dns-1-id"],
                ["SECONDARY", ips[1], "dns-2-id"],
            ]);
            expect(new Set(recs.map((r) => r.inputs.setIdentifier)).size).to.equal(2);
            expect(built.outputs.failover.breakdown).to.match(/SECONDARY/);
        });

        it("every policy is health-checked, type A, and never simple routing", async () => {
            for (const routing of ["multivalue", "weighted", "failover"]) {
                const built = await build(dnsConfig({ routing }));
                for (const r of records(built)) {
                    const policies = [r.inputs.multivalueAnswerRoutingPolicy, r.inputs.weightedRoutingPolicies, r.inputs.failoverRoutingPolicies].filter((p) => p !== undefined);
                    expect(policies, `${routing} ${r.name}`).to.have.length(1);
                    expect(r.inputs.type).to.equal("A");
                    expect(r.inputs.healthCheckId).to.be.a("string").and.not.equal("");
                    expect(r.inputs.setIdentifier).to.be.a("string").and.not.equal("");
                }
            }
        });

        it("carries the configured interval, threshold and TTL into every check, record and the failover figure", async () => {
            const built = await build(dnsConfig({ ttl: 30, healthCheck: { intervalSeconds: 30, failureThreshold: 3 } }));
            for (const c of [...healthChecks(built, "HTTPS"), ...healthChecks(built, "TCP")]) expect(c.inputs).to.deep.include({ requestInterval: 30, failureThreshold: 3 });
            for (const r of records(built)) expect(r.inputs.ttl).to.equal(30);
            expect(built.outputs.failover.worstCaseSeconds).to.equal(30 * 3 + 30 + 30);
        });

        it("warns through pulumi.log when the TTL is above 60 s, and the failover output says so too", async () => {
            const dnsWarnings = (b: Built) => b.warnings.filter((w) => w.startsWith("orthweb:traffic.dns"));
            const built = await build(dnsConfig({ ttl: 300 }));
            expect(dnsWarnings(built)).to.have.length(1);
            expect(dnsWarnings(built)[0]).to.match(/^orthweb:traffic\.dns\.ttl: 300 s/);
            expect(built.outputs.failover.worstCaseSeconds).to.equal(330);
            expect(built.outputs.failover.note).to.match(/TTL of 300 s is above the 60 s AWS recommends/);
            for (const r of records(built)) expect(r.inputs.ttl).to.equal(300);
            expect(dnsWarnings(await build(dnsConfig()))).to.deep.equal([]);
        });

        it("direct has no DNS resources and no failover output", async () => {
            const built = await build(withConfig({}));
            expect(built.ofType(TYPES.healthCheck)).to.have.length(0);
            expect(built.ofType(TYPES.record)).to.have.length(0);
            expect(built.outputs.failover).to.equal(undefined);
        });
    });

    describe("the component on its own", () => {
        it("refuses failover routing with other than two instances, and multivalue beyond eight", () => {
            const base = { healthCheck: { intervalSeconds: 10 as const, failureThreshold: 2 }, ttlSeconds: 60 };
            expect(dnsFrontDoorProblems({ ...base, routing: "failover", instanceIps: ["192.0.2.1", "192.0.2.2"] })).to.deep.equal([]);
            expect(dnsFrontDoorProblems({ ...base, routing: "failover", instanceIps: ["192.0.2.1"] })).to.deep.equal(["instanceIps: failover routing needs exactly 2 instances (PRIMARY, SECONDARY), got 1"]);
            expect(dnsFrontDoorProblems({ ...base, routing: "multivalue", instanceIps: Array(9).fill("192.0.2.1") })[0]).to.match(/at most 8 records, got 9/);
            expect(dnsFrontDoorProblems({ ...base, instanceIps: [] })[0]).to.match(/at least one/);
            expect(dnsFrontDoorProblems({ healthCheck: { intervalSeconds: 20 as 10, failureThreshold: 0 }, ttlSeconds: -1, instanceIps: ["192.0.2.1"] })).to.have.length(3);
        });

        it("throws before creating anything when its args cannot be built", async () => {
            const run = runUnderMocks({ stack: "test", region: REGION }, () =>
                new DnsFrontDoor("dns", { region: REGION, zoneName: ZONE, recordName: "pacs", routing: "failover", securityGroupId: "sg-1", instanceIps: ["192.0.2.1"], webClientCidrs: [], dicomClientCidrs: [] }),
            );
            let error: Error | undefined;
            await run.catch((e: Error) => (error = e));
            expect(error?.message).to.match(/DnsFrontDoor dns: instanceIps: failover routing needs exactly 2 instances/);
        });

        it("defaults to multivalue, TTL 30 and 10 s x 2 checks", async () => {
            const run = await runUnderMocks({ stack: "test", region: REGION }, () =>
                new DnsFrontDoor("door", { region: REGION, zoneName: ZONE, recordName: "pacs", securityGroupId: "sg-1", instanceIps: ["192.0.2.1", "192.0.2.2"], webClientCidrs: [], dicomClientCidrs: [] }),
            );
            const recs = run.registrations.filter((r) => r.type === TYPES.record);
            expect(recs.map((r) => [r.name, r.inputs.multivalueAnswerRoutingPolicy, r.inputs.ttl])).to.deep.equal([["door-1", true, 30], ["door-2", true, 30]]);
            const https = run.registrations.filter((r) => r.type === TYPES.healthCheck && r.inputs.type === "HTTPS");
            expect(https.map((c) => [c.inputs.requestInterval, c.inputs.failureThreshold])).to.deep.equal([[10, 2], [10, 2]]);
            expect(run.registrations.filter((r) => r.type === TYPES.ingressRule).map((r) => r.name)).to.deep.equal(["door-healthcheckers-443", "door-healthcheckers-11112"]);
            expect(run.result.fqdn).to.equal(FQDN);
        });

        it("routes each policy per instance, in instance order", () => {
            expect(routingPolicies("multivalue", 2)).to.deep.equal([{ multivalueAnswerRoutingPolicy: true }, { multivalueAnswerRoutingPolicy: true }]);
            expect(routingPolicies("weighted", 3)).to.deep.equal(Array(3).fill({ weightedRoutingPolicies: [{ weight: EQUAL_WEIGHT }] }));
            expect(routingPolicies("failover", 2)).to.deep.equal([{ failoverRoutingPolicies: [{ type: "PRIMARY" }] }, { failoverRoutingPolicies: [{ type: "SECONDARY" }] }]);
        });

        it("checks the web health signal and the DICOM port, and opens exactly those ports to the checkers", () => {
            expect(endpointChecks(FQDN)).to.deep.equal([
                { role: "https", type: "HTTPS", port: 443, resourcePath: "/healthz", fqdn: FQDN, enableSni: true },
                { role: "dicom", type: "TCP", port: 11112 },
            ]);
            expect(checkedPorts(FQDN)).to.deep.equal([443, 11112]);
        });

        it("estimates failover per routing and notes what the estimate leaves out", () => {
            const multivalue = dnsFailover("multivalue", { intervalSeconds: 10, failureThreshold: 2 }, 60);
            expect(multivalue.worstCaseSeconds).to.equal(90);
            expect(multivalue.breakdown).to.match(/leaves the failed instance out/);
            expect(multivalue.note).to.match(/DICOM devices/);
            expect(multivalue.note).to.not.match(/above the 60 s/);
            expect(dnsFailover("failover", { intervalSeconds: 30, failureThreshold: 1 }, 120)).to.deep.include({ worstCaseSeconds: 180 });
        });

        it("reads DNS names as Route 53 does", () => {
            expect(isDnsName("example.org", 2)).to.equal(true);
            expect(isDnsName("example.org.", 2)).to.equal(true);
            expect(isDnsName("org", 2)).to.equal(false);
            expect(isDnsName("a-b.c", 1)).to.equal(true);
            expect(isDnsName("a-.c", 1)).to.equal(false);
            expect(relativeNameMeant("example.org", "pacs.Example.org")).to.equal("pacs");
            expect(relativeNameMeant("example.org", "pacs.example.net")).to.equal(undefined);
        });
    });

    describe("what the checks rely on in the instances", () => {
        it("nginx still offers TLS 1.2, which Route 53 HTTPS checks need", () => {
            expect(TLS_PROTOCOLS.split(" ")).to.include("TLSv1.2");
        });

        it("/healthz bounds each wait on Orthanc (connect, read) by Route 53's 2 s answer window", () => {
            const conf = renderNginxConf({ orthancHost: "198.18.0.10", certificatePath: "/c", keyPath: "/k" });
            const block = /location = \/healthz \{([^}]*)\}/.exec(conf)![1];
            const seconds = (directive: string) => Number(new RegExp(`${directive} (\\d+)s;`).exec(block)![1]);
            expect(seconds("proxy_connect_timeout")).to.be.at.most(2);
            expect(seconds("proxy_read_timeout")).to.be.at.most(2);
        });
    });
});

import { expect } from "chai";
import { reachability, ReachCell } from "../plan/reachability";
import { TYPES } from "../plan/planModel";
import { CHECKERS, context, directPlan, dnsPlan, ingress, loadBalancerPlan, reg, vpnPlan } from "./planFixtures";
import { Registration } from "../plan/mockRuntime";

function table(regs: Registration[], overrides = {}) {
    const r = reachability(regs, context(overrides));
    const cell = (source: string, destination: string): ReachCell => {
        const found = r.cells.find((c) => c.source === source && c.destination === destination);
        if (!found) throw new Error(`no cell ${source} -> ${destination}; sources: ${r.sources.map((s) => s.key).join(", ")}`);
        return found;
    };
    return { ...r, cell };
}

describe("reachability (pure, over registration records)", () => {
    describe("direct", () => {
        it("lets the configured blocks reach 443 and 11112 by the rules that name them, and nothing reach 22", () => {
            const t = table(directPlan());
            expect(t.cell("internet", "instance:443")).to.include({ verdict: "allowed" });
            expect(t.cell("internet", "instance:443").rules).to.deep.equal(["direct-443-1"]);
            expect(t.cell("dicomClients", "instance:11112").reason).to.equal("by direct-11112-1 (0.0.0.0/0)");
            for (const source of ["internet", "webClients", "dicomClients", "otherInstance"]) {
                expect(t.cell(source, "instance:22").verdict, source).to.equal("denied");
            }
            expect(t.cell("internet", "instance:22").reason).to.equal("no rule on orthanc-instances admits it on tcp 22");
        });

        it("reaches the database only from the instances, through the database group's rule and the instances' egress", () => {
            const t = table(directPlan());
            const fromInstances = t.cell("otherInstance", "database:5432");
            expect(fromInstances.verdict).to.equal("allowed");
            expect(fromInstances.rules).to.have.members(["orthanc-db-from-instances", "orthanc-instances egress[1]"]);
            for (const source of ["internet", "webClients", "dicomClients", "route53HealthCheckers"]) {
                expect(t.cell(source, "database:5432").verdict, source).to.equal("denied");
            }
            expect(t.cell("internet", "database:5432").reason).to.equal("the database is not publicly accessible");
            expect(t.findings).to.deep.equal([]);
        });

        it("says 'partly' and which blocks get through when the rules cover only part of a source", () => {
            const t = table(directPlan(["198.51.100.0/24"], ["198.51.100.0/24", "203.0.113.64/27"]), {
                webClientCidrs: ["198.51.100.0/24"],
                dicomClientCidrs: ["198.51.100.0/24", "203.0.113.64/27"],
            });
            expect(t.cell("webClients", "instance:443").verdict).to.equal("allowed");
            expect(t.cell("internet", "instance:443")).to.include({ verdict: "partial", reason: "only 198.51.100.0/24 of 0.0.0.0/0, by direct-443-1" });
            expect(t.cell("dicomClients", "instance:443").reason).to.match(/^only 198\.51\.100\.0\/24 of 198\.51\.100\.0\/24, 203\.0\.113\.64\/27/);
            // The health checkers' addresses are not in the hospital's blocks.
            expect(t.cell("route53HealthCheckers", "instance:443").verdict).to.equal("denied");
        });

        it("denies the other instance on 11112 because the instances' group lets nothing out on that port", () => {
            const t = table(directPlan());
            expect(t.cell("otherInstance", "instance:11112")).to.include({
                verdict: "denied",
                reason: "egress: no rule on orthanc-instances lets tcp 11112 out to orthanc-instances",
            });
            expect(t.cell("otherInstance", "instance:443").verdict).to.equal("allowed");
        });

        it("reports an instance port opened to the internet on 22 as a finding", () => {
            const t = table([...directPlan(), ingress("ssh", "orthanc-instances", 22, { cidr: "0.0.0.0/0" })]);
            expect(t.cell("internet", "instance:22")).to.include({ verdict: "allowed" });
            expect(t.findings.some((f) => f.startsWith("the internet reaches instance 22"))).to.equal(true);
        });

        it("treats a rule with protocol -1 as every port", () => {
            const regs = directPlan().map((r) =>
                r.name === "orthanc-instances" && r.type === TYPES.securityGroup
                    ? reg(TYPES.securityGroup, r.name, { ...r.inputs, ingress: [{ protocol: "-1", fromPort: 0, toPort: 0, cidrBlocks: ["10.0.0.0/8"] }] })
                    : r,
            );
            const t = table(regs, { webClientCidrs: ["10.1.0.0/16"] });
            expect(t.cell("webClients", "instance:22")).to.include({ verdict: "allowed", reason: "by orthanc-instances ingress[0] (10.0.0.0/8)" });
        });
    });

    describe("load balancer", () => {
        it("lets the internet reach no instance port directly, only through the load balancer's listeners", () => {
            const t = table(loadBalancerPlan());
            for (const dest of ["instance:443", "instance:11112", "instance:22", "database:5432"]) {
                expect(t.cell("internet", dest).verdict, dest).to.equal("denied");
            }
            expect(t.cell("internet", "instance:443").reason).to.equal("the instance has no public address (private subnet)");
            expect(t.cell("internet", "instance:443").via).to.deep.equal(["lb:443"]);
            expect(t.cell("internet", "instance:11112").via).to.deep.equal(["lb:11112"]);
            expect(t.cell("internet", "instance:22").via).to.deep.equal([]);
        });

        it("admits the load balancer by its security group on both ports, out through its own egress", () => {
            const t = table(loadBalancerPlan());
            const cell = t.cell("lb:lb", "instance:443");
            expect(cell.verdict).to.equal("allowed");
            expect(cell.rules).to.have.members(["lb-to-instances-443", "lb egress[0]"]);
            expect(cell.reason).to.equal("by lb-to-instances-443 (group lb); out by lb egress[0]");
            expect(t.cell("lb:lb", "instance:11112").verdict).to.equal("allowed");
            expect(t.cell("lb:lb", "database:5432").verdict).to.equal("denied");
            expect(t.sources.find((s) => s.key === "lb:lb")?.label).to.equal("load balancer lb (network, internet-facing)");
            expect(t.findings).to.deep.equal([]);
        });

        it("keeps the database reachable from the instances only", () => {
            const t = table(loadBalancerPlan());
            const reaching = t.cells.filter((c) => c.destination === "database:5432" && c.verdict === "allowed").map((c) => c.source);
            expect(reaching).to.deep.equal(["otherInstance"]);
        });

        it("shows the missing egress rule, and the health checks it breaks, when the balancer's group lets nothing out", () => {
            const t = table(loadBalancerPlan({ withoutEgress: true }));
            expect(t.cell("lb:lb", "instance:443")).to.include({ verdict: "denied", reason: "egress: no rule on lb lets tcp 443 out to orthanc-instances" });
            expect(t.cell("internet", "instance:443").via).to.deep.equal([]);
            expect(t.findings).to.include("lb cannot reach orthanc-1 on 443 for target group lb-443 (egress: no rule on lb lets tcp 443 out to orthanc-instances): the target never turns healthy");
        });

        it("offers no path from the internet through an internal load balancer", () => {
            const t = table(loadBalancerPlan({ internal: true }));
            expect(t.cell("internet", "instance:443").via).to.deep.equal([]);
            expect(t.cell("lb:lb", "instance:443").verdict).to.equal("allowed");
        });
    });

    describe("DNS", () => {
        it("admits the Route 53 health checkers by their prefix list on exactly the checked ports", () => {
            const t = table(dnsPlan());
            expect(t.cell("route53HealthCheckers", "instance:443")).to.include({
                verdict: "allowed",
                reason: `by dns-healthcheckers-443 (prefix list ${CHECKERS.name}), dns-443-1 (0.0.0.0/0)`,
            });
            expect(t.cell("route53HealthCheckers", "instance:11112").rules).to.include("dns-healthcheckers-11112");
            expect(t.cell("route53HealthCheckers", "instance:22").verdict).to.equal("denied");
            expect(t.findings).to.deep.equal([]);
        });

        it("says so when the health checkers' rule is missing and the client blocks do not cover them", () => {
            const regs = dnsPlan({ withoutCheckerRules: true }).map((r) =>
                r.type === TYPES.ingressRule && r.name.startsWith("dns-") ? reg(TYPES.ingressRule, r.name, { ...r.inputs, cidrIpv4: "198.51.100.0/24" }) : r,
            );
            const t = table(regs, { webClientCidrs: ["198.51.100.0/24"], dicomClientCidrs: ["198.51.100.0/24"] });
            expect(t.cell("route53HealthCheckers", "instance:443")).to.include({ verdict: "denied", reason: "no rule on orthanc-instances admits it on tcp 443" });
            expect(t.findings.filter((f) => f.startsWith("Route 53 health check dns-1-https probes orthanc-1 on 443 but the health checkers cannot reach it"))).to.have.length(1);
            expect(t.findings.join("\n")).to.match(/Route 53 then treats every record as healthy and never fails over/);
        });
    });

    describe("client VPN", () => {
        it("admits VPN clients by the endpoint's group (Client VPN source-NATs them), and nobody from the internet", () => {
            const t = table(vpnPlan());
            expect(t.cell("vpnClients", "instance:443")).to.include({ verdict: "allowed", reason: "by vpn-443 (group vpn); out by vpn egress[0]" });
            expect(t.cell("vpnClients", "instance:11112").verdict).to.equal("allowed");
            expect(t.cell("vpnClients", "instance:22").verdict).to.equal("denied");
            expect(t.cell("vpnClients", "database:5432").verdict).to.equal("denied");
            expect(t.cell("internet", "instance:443").verdict).to.equal("denied");
            expect(t.cell("internet", "instance:443").via).to.deep.equal([]);
        });

        it("denies everything without an authorization rule, and says why", () => {
            const t = table(vpnPlan({ withoutAuthorization: true }));
            expect(t.cell("vpnClients", "instance:443")).to.include({ verdict: "denied", reason: "no Client VPN authorization rule (access is denied by default)" });
            expect(t.findings).to.include("Client VPN endpoint vpn has no authorization rule: every client is denied");
        });

        it("marks the VPN row not applicable when the endpoint has no subnet association", () => {
            const t = table(vpnPlan({ associations: 0 }));
            expect(t.cell("vpnClients", "instance:443")).to.include({ verdict: "n/a", reason: "vpn has no subnet association: clients cannot connect" });
        });

        it("marks the VPN row not applicable in a plan without an endpoint", () => {
            expect(table(directPlan()).cell("vpnClients", "instance:443")).to.include({ verdict: "n/a", reason: "no Client VPN endpoint" });
        });
    });

    it("lists every source against every destination port", () => {
        const t = table(loadBalancerPlan());
        expect(t.sources.map((s) => s.key)).to.deep.equal(["internet", "webClients", "dicomClients", "vpnClients", "onPremises", "lb:lb", "route53HealthCheckers", "internetEgress", "otherInstance"]);
        expect(t.destinations.map((d) => d.label)).to.deep.equal(["instance 443", "instance 11112", "database 5432", "instance 22"]);
        expect(t.cells).to.have.length(9 * 4);
    });
});

import { expect } from "chai";
import { buildReport, fitTable, groupByComponent, wrap } from "../plan/report";
import { renderJson, renderMarkdown, renderText } from "../plan/render";
import { TYPES } from "../plan/planModel";
import { context, directPlan, dnsPlan, loadBalancerPlan, reg, vpnPlan } from "./planFixtures";

describe("plan report sections (hand-made plans)", () => {
    describe("endpoints", () => {
        it("names the alias record of a load balancer, with TLS at the balancer for 443 and pass-through for DICOM", () => {
            const report = buildReport(loadBalancerPlan(), context());
            const web = report.endpoints.find((e) => e.kind === "web")!;
            expect(web).to.include({ frontDoor: "loadBalancer", address: "https://pacs.example.org/", resource: "lb", reachableFrom: "the internet (internet-facing)" });
            expect(web.tls).to.equal("TLS at lb (ACM certificate, ELBSecurityPolicy-TLS13-1-2-2021-06)");
            const dicom = report.endpoints.find((e) => e.kind === "dicom")!;
            expect(dicom).to.include({ address: "pacs.example.org:11112", aet: "ORTHANC", tls: "TLS pass-through: the instances' certificate" });
            expect(report.endpoints.filter((e) => e.frontDoor === "direct")).to.deep.equal([]);
            expect(report.pattern).to.equal("loadBalancer (network)");
        });

        it("gives one health-checked name for both kinds of traffic with DNS", () => {
            const report = buildReport(dnsPlan(), context());
            expect(report.endpoints.map((e) => e.address)).to.deep.equal(["https://pacs.example.org/", "pacs.example.org:11112"]);
            expect(report.endpoints[0].servedBy).to.equal("multivalue records dns-1, dns-2 -> orthanc-1, orthanc-2, TTL 60 s");
            expect(report.pattern).to.equal("dns");
        });

        it("gives each instance its public name with direct, and the VPN endpoint plus private names with a VPN", () => {
            expect(buildReport(directPlan(), context()).endpoints.map((e) => e.address)).to.deep.equal([
                "https://ec2-203-0-113-11.eu-west-1.compute.amazonaws.com/",
                "https://ec2-203-0-113-12.eu-west-1.compute.amazonaws.com/",
                "ec2-203-0-113-11.eu-west-1.compute.amazonaws.com:11112",
                "ec2-203-0-113-12.eu-west-1.compute.amazonaws.com:11112",
            ]);
            const vpn = buildReport(vpnPlan(), context());
            expect(vpn.endpoints[0]).to.include({ kind: "vpn", address: "cvpn-endpoint-0mock.prod.clientvpn.eu-west-1.amazonaws.com:443/udp" });
            expect(vpn.endpoints.slice(1).map((e) => e.address)).to.include.members(["https://ip-172-17-16-10.eu-west-1.compute.internal/", "ip-172-17-32-10.eu-west-1.compute.internal:11112"]);
            expect(vpn.pattern).to.equal("none + clientVpn");
        });
    });

    describe("failover", () => {
        it("is interval x unhealthy threshold behind a load balancer, per traffic kind", () => {
            const rows = buildReport(loadBalancerPlan({ crossZone: true }), context()).failover;
            expect(rows.map((r) => [r.traffic, r.automatic, r.worstCaseSeconds])).to.deep.equal([
                ["web", true, 20],
                ["dicom", true, 20],
            ]);
            expect(rows[0].detection).to.equal("HTTPS /healthz on 443 every 10 s; unhealthy after 2 failures");
            expect(rows[0].breakdown).to.equal("10 s x 2 failed checks = 20 s");
            expect(rows[1].assumptions.join(" ")).to.match(/associations open on the failed instance are lost/);
        });

        it("warns that an NLB without cross-zone load balancing strands clients of the failed AZ", () => {
            const rows = buildReport(loadBalancerPlan(), context()).failover;
            expect(rows[0].assumptions.some((a) => a.startsWith("cross-zone load balancing is off"))).to.equal(true);
        });

        it("never happens when the balancer cannot reach its targets", () => {
            const rows = buildReport(loadBalancerPlan({ withoutEgress: true }), context()).failover;
            expect(rows[0]).to.include({ automatic: false, worstCaseSeconds: null });
            expect(rows[0].breakdown).to.match(/^never: lb cannot reach the targets/);
        });

        it("adds an interval and the TTL with DNS: 10 x 2 + 10 + 60 = 90 s", () => {
            const rows = buildReport(dnsPlan(), context()).failover;
            expect(rows.map((r) => [r.traffic, r.worstCaseSeconds])).to.deep.equal([
                ["web", 90],
                ["dicom", 90],
            ]);
            expect(rows[0].detection).to.equal("calculated (HTTPS /healthz on 443 + TCP on 11112) every 10 s; unhealthy after 2 failures");
            expect(rows[1].assumptions[0]).to.match(/DICOM devices often keep an address until restarted/);
        });

        it("never happens with DNS when the health checkers are shut out: Route 53 fails open", () => {
            // Without their own rule, the checkers are shut out once the client rules name the hospital's block only.
            const narrowed = dnsPlan({ withoutCheckerRules: true }).map((r) =>
                r.type === TYPES.ingressRule && r.name.startsWith("dns-") ? reg(TYPES.ingressRule, r.name, { ...r.inputs, cidrIpv4: "198.51.100.0/24" }) : r,
            );
            const rows = buildReport(narrowed, context({ webClientCidrs: ["198.51.100.0/24"], dicomClientCidrs: ["198.51.100.0/24"] })).failover;
            expect(rows.map((r) => [r.traffic, r.automatic, r.worstCaseSeconds])).to.deep.equal([
                ["web", false, null],
                ["dicom", false, null],
            ]);
            expect(rows[0].breakdown).to.match(/^never: the health checkers cannot reach the instances .*Route 53 fails open/);
        });

        it("is manual with direct and through the VPN, and says what people have to do", () => {
            const direct = buildReport(directPlan(), context()).failover;
            expect(direct.map((r) => [r.traffic, r.automatic, r.worstCaseSeconds])).to.deep.equal([
                ["web", false, null],
                ["dicom", false, null],
            ]);
            expect(direct[1].breakdown).to.match(/^manual: re-point modalities to the other instance \(ec2-203-0-113-11/);
            expect(direct[0].assumptions).to.include("both instances share one database and one bucket, so either serves every study");
            expect(buildReport(vpnPlan(), context()).failover[0].path).to.equal("Client VPN: one private address per instance");
        });
    });

    describe("diagram", () => {
        it("draws clients -> load balancer -> instances -> database, with no edge from clients straight to the instances", () => {
            const d = buildReport(loadBalancerPlan(), context()).diagram;
            expect(d.startsWith("flowchart LR\n")).to.equal(true);
            expect(d).to.include('lb_lb["NLB lb<br/>internet-facing<br/>pacs.example.org"]');
            expect(d).to.include("web -->|443| lb_lb");
            expect(d).to.include("dicom -->|11112| lb_lb");
            expect(d).to.include("lb_lb -->|443, 11112| i_orthanc_1");
            expect(d).to.include("i_orthanc_2 -->|5432| db_orthanc_db");
            expect(d).to.not.match(/web -->\|443\| i_/);
            expect(d).to.not.include("checkers");
        });

        it("draws the health checkers and the DNS name's answers with DNS", () => {
            const d = buildReport(dnsPlan(), context()).diagram;
            expect(d).to.include("web -.->|DNS| dns_pacs_example_org");
            expect(d).to.include("dns_pacs_example_org -.->|answers| i_orthanc_1");
            expect(d).to.include("checkers -.->|check 443, check 11112| i_orthanc_2");
        });
    });

    describe("resources", () => {
        it("groups resources under the component whose name prefixes theirs", () => {
            const groups = groupByComponent(loadBalancerPlan());
            const lb = groups.find((g) => g.component === "lb")!;
            expect(lb.componentType).to.equal("orthweb:index:LoadBalancerFrontDoor");
            expect(lb.resources.map((r) => r.name)).to.include.members(["lb", "lb-443", "lb-11112", "lb-in-443"]);
            expect(groups.find((g) => g.component === "orthanc")!.resources.map((r) => r.name)).to.include("orthanc-1");
        });
    });

    describe("rendering", () => {
        it("keeps every text line within 100 columns", () => {
            for (const regs of [directPlan(), loadBalancerPlan({ type: "application" }), dnsPlan(), vpnPlan()]) {
                const text = renderText(buildReport(regs, context()));
                const long = text.split("\n").filter((l) => l.length > 100);
                expect(long, long.join("\n")).to.deep.equal([]);
            }
        });

        it("writes Markdown for a pull-request comment, with the diagram in a mermaid block", () => {
            const md = renderMarkdown(buildReport(dnsPlan(), context()));
            expect(md).to.match(/^## Offline plan: `fixture` \(eu-west-1\), pattern `dns`/);
            expect(md).to.include("| source | instance 443 | instance 11112 | database 5432 | instance 22 |");
            expect(md).to.include("| Route 53 health checkers | yes | yes | no | no |");
            expect(md).to.match(/```mermaid\nflowchart LR\n[\s\S]+?\n```/);
        });

        it("marks an instance port reached only through a load balancer 'via' that listener", () => {
            const text = renderText(buildReport(loadBalancerPlan(), context()));
            expect(text).to.match(/^\s+internet at large\s+via lb:443\s+via lb:11112\s+no\s+no$/m);
        });

        it("writes JSON with the six sections and the monthly total", () => {
            const json = JSON.parse(renderJson(buildReport(loadBalancerPlan({ type: "application" }), context())));
            expect(json).to.include.all.keys("resources", "endpoints", "reachability", "failover", "cost", "diagram");
            expect(json.cost.monthlyUsd).to.be.a("number").above(0);
            expect(json.reachability.cells).to.have.length(json.reachability.sources.length * 4);
            expect(json.reachability.sources.length).to.equal(9);
        });

        it("wraps long cells at spaces and narrows the widest column first", () => {
            expect(wrap("one two three four", 9)).to.deep.equal(["one two", "three", "four"]);
            expect(wrap("abcd,efgh,ijkl", 9)).to.deep.equal(["abcd,", "efgh,ijkl"]);
            expect(wrap("x".repeat(20), 8)).to.deep.equal(["xxxxxxxx", "xxxxxxxx", "xxxx"]);
            const t = fitTable([["a", "x".repeat(30), "b ".repeat(20).trim()]], { maxWidth: 60, keep: [1] });
            expect(t.split("\n").every((l) => l.length <= 60)).to.equal(true);
            expect(t.split("\n")).to.have.length(2);
            expect(t).to.include("x".repeat(30));
        });
    });
});

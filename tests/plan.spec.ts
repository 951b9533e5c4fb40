// The offline plan end to end: the real stack files through validation, the program under mocks and the report.
import { expect } from "chai";
import * as fs from "fs";
import * as path from "path";
import { main, parseArgs, PlanConfigError, planStack, reportOf } from "../plan/cli";
import { renderAll, renderJson, renderMarkdown, renderText, summaryOf } from "../plan/render";
import { PlanReport } from "../plan/report";
import { listStacks, SECRET_PLACEHOLDER } from "../stacks/stackFile";
import { plannedStack, stackBuilder } from "./harness";
import { BAD_STACK_FILE, projectWith } from "./planProjects";

const ROOT = path.resolve(__dirname, "..");

async function run(argv: string[]): Promise<{ code: number; out: string; err: string }> {
    let out = "";
    let err = "";
    const code = await main(argv, { out: (s) => (out += s), err: (s) => (err += s), builder: stackBuilder });
    return { code, out, err };
}

function cell(report: PlanReport, source: string, destination: string) {
    return report.reachability.cells.find((c) => c.source === source && c.destination === destination)!;
}

describe("npm run plan", () => {
    let dev: PlanReport;
    let prod: PlanReport;
    before(async () => {
        dev = reportOf(await plannedStack("dev"));
        prod = reportOf(await plannedStack("prod"));
    });

    describe("dev", () => {
        it("lists two instances in two AZs", () => {
            expect(dev.resources.instances.map((i) => [i.name, i.availabilityZone, i.subnet])).to.deep.equal([
                ["orthanc-1", "eu-west-1a", "public"],
                ["orthanc-2", "eu-west-1b", "public"],
            ]);
            const text = renderText(dev);
            expect(text).to.match(/orthanc-1\s+t3\.medium\s+eu-west-1a\s+public subnet/);
            expect(text).to.match(/orthanc-2\s+t3\.medium\s+eu-west-1b\s+public subnet/);
        });

        it("reads the direct pattern from its resources, and its endpoints are the stack outputs", () => {
            expect(dev.pattern).to.equal(dev.outputs.frontDoor);
            const web = dev.endpoints.filter((e) => e.kind === "web").map((e) => e.address);
            expect(web).to.deep.equal(dev.outputs.webUrls);
            const dicom = dev.endpoints.filter((e) => e.kind === "dicom").map((e) => ({ host: e.host, port: e.port, aet: e.aet, tls: true }));
            expect(dicom).to.deep.equal(dev.outputs.dicomEndpoints);
        });

        it("opens 443 and 11112 to everyone, 22 to no one, and the database to the instances only", () => {
            expect(cell(dev, "internet", "instance:443")).to.include({ verdict: "allowed", reason: "by direct-443-1 (0.0.0.0/0)" });
            expect(cell(dev, "internet", "instance:11112")).to.include({ verdict: "allowed", reason: "by direct-11112-1 (0.0.0.0/0)" });
            expect(dev.reachability.cells.filter((c) => c.destination === "instance:22").every((c) => c.verdict === "denied" || c.verdict === "n/a")).to.equal(true);
            const toDb = dev.reachability.cells.filter((c) => c.destination === "database:5432" && c.verdict === "allowed").map((c) => c.source);
            expect(toDb).to.deep.equal(["otherInstance"]);
            expect(dev.reachability.findings).to.deep.equal([]);
        });

        it("fails over by hand", () => {
            expect(dev.failover.map((f) => [f.traffic, f.automatic, f.worstCaseSeconds])).to.deep.equal([
                ["web", false, null],
                ["dicom", false, null],
            ]);
        });

        it("costs what its lines add up to, with two t3.medium and a Single-AZ db.t4g.small", () => {
            const items = dev.cost.lines.map((l) => l.item);
            expect(items).to.include.members(["EC2 instances", "RDS PostgreSQL", "Public IPv4 addresses"]);
            expect(dev.cost.lines.find((l) => l.item === "EC2 instances")!.detail).to.match(/^2 x t3\.medium/);
            expect(dev.cost.lines.find((l) => l.item === "RDS PostgreSQL")!.detail).to.match(/db\.t4g\.small, Single-AZ/);
            expect(dev.cost.lines.find((l) => l.item === "NAT gateways")).to.equal(undefined);
            expect(dev.cost.monthlyUsd).to.be.within(50, 200);
        });

        it("prints text for a terminal: every section, aligned, within 100 columns", () => {
            const text = renderText(dev);
            for (const section of ["Resources", "Endpoints", "Reachability", "Failover", "Cost", "Diagram", "Outputs"]) {
                expect(text).to.match(new RegExp(`^${section}\\n=+$`, "m"));
            }
            expect(text).to.match(/^\s+internet at large\s+yes\s+yes\s+no\s+no$/m);
            expect(text.split("\n").filter((l) => l.length > 100)).to.deep.equal([]);
        });

        it("writes Markdown and JSON with the same figures", () => {
            const md = renderMarkdown(dev);
            expect(md).to.include(`estimated $${dev.cost.monthlyUsd.toFixed(2)}/month`);
            expect(md).to.include("```mermaid\nflowchart LR");
            const json = JSON.parse(renderJson(dev));
            expect(Object.keys(json)).to.include.members(["resources", "endpoints", "reachability", "failover", "cost", "diagram"]);
            expect(json.cost.monthlyUsd).to.equal(dev.cost.monthlyUsd);
            expect(json.diagram).to.equal(dev.diagram);
        });
    });

    describe("prod", () => {
        it("reaches the private instances only through the load balancer, and only from the hospital's blocks", () => {
            expect(cell(prod, "webClients", "instance:443")).to.deep.include({ verdict: "denied", via: ["lb-nlb:443"] });
            expect(cell(prod, "dicomClients", "instance:11112")).to.deep.include({ verdict: "denied", via: ["lb-nlb:11112"] });
            // The internet at large gets through the load balancer only for the part of it the NLB admits.
            expect(cell(prod, "internet", "instance:443")).to.deep.include({ verdict: "denied", via: ["lb-nlb:443 (part)"] });
            expect(cell(prod, "internet", "instance:22").verdict).to.equal("denied");
            expect(cell(prod, "route53HealthCheckers", "instance:443").verdict).to.equal("denied");
        });

        it("admits the load balancer and the VPN clients on 443 and 11112, through their security groups", () => {
            for (const port of ["instance:443", "instance:11112"]) {
                expect(cell(prod, "vpnClients", port).verdict, port).to.equal("allowed");
                expect(prod.reachability.cells.find((c) => c.source.startsWith("lb") && c.destination === port)!.verdict, port).to.equal("allowed");
            }
        });

        it("keeps the database reachable from the instances only, with no findings", () => {
            const toDb = prod.reachability.cells.filter((c) => c.destination === "database:5432" && c.verdict !== "denied" && c.verdict !== "n/a").map((c) => c.source);
            expect(toDb).to.deep.equal(["otherInstance"]);
            expect(prod.reachability.findings).to.deep.equal([]);
        });

        it("fails over in interval x unhealthy threshold, as the stack output says", () => {
            const viaLoadBalancer = prod.failover.filter((r) => r.automatic);
            expect(viaLoadBalancer.map((r) => r.traffic).sort()).to.deep.equal(["dicom", "web"]);
            for (const row of viaLoadBalancer) expect(row.worstCaseSeconds, row.path).to.equal(10);
        });

        it("pays for a Multi-AZ database", () => {
            expect(prod.cost.lines.find((l) => l.item === "RDS PostgreSQL")!.detail).to.match(/db\.m7g\.large, Multi-AZ/);
            expect(prod.cost.monthlyUsd).to.be.greaterThan(dev.cost.monthlyUsd);
        });
    });

    describe("the command", () => {
        it("prints the dev report as JSON with --format json", async () => {
            const { code, out } = await run(["dev", "--format", "json"]);
            expect(code).to.equal(0);
            const json = JSON.parse(out);
            expect(json.stack).to.equal("dev");
            expect(json.cost.monthlyUsd).to.equal(dev.cost.monthlyUsd);
        });

        it("--all puts every stack side by side: pattern, endpoints, failover, monthly cost", async () => {
            const { code, out } = await run(["--all"]);
            expect(code).to.equal(0);
            // Every stack file gets a column, in the order listStacks gives.
            const header = out.split("\n").find((l) => new RegExp(`^\\s+${listStacks().join("\\s+")}\\s*$`).test(l));
            expect(header, out).to.not.equal(undefined);
            expect(out).to.match(/^\s+pattern\s+direct\s+loadBalancer \(network\) \+/m);
            expect(out).to.include(`$${dev.cost.monthlyUsd.toFixed(2)}`);
            expect(out).to.include(`$${prod.cost.monthlyUsd.toFixed(2)}`);
            expect(out).to.match(/failover web\s+manual/);
            const json = JSON.parse(renderAll([summaryOf(dev), summaryOf(prod)], "json"));
            expect(json.stacks.map((s: { stack: string; monthlyUsd: number }) => [s.stack, s.monthlyUsd])).to.deep.equal([
                ["dev", dev.cost.monthlyUsd],
                ["prod", prod.cost.monthlyUsd],
            ]);
        });

        it("rejects an unknown format and option with the allowed values", () => {
            expect(parseArgs(["dev", "--format", "yaml"])).to.equal('--format: got "yaml"; allowed: text | markdown | json');
            expect(parseArgs(["dev", "--verbose"])).to.equal("unknown option --verbose; allowed: --all, --format, --project-dir");
            expect(parseArgs([])).to.equal("name a stack, or --all");
        });
    });

    describe("bad config", () => {
        const BAD = BAD_STACK_FILE;

        it("fails with one message per bad key, each naming its key, even for wrong types deep inside", async () => {
            const dir = projectWith({ "Pulumi.bad.yaml": BAD });
            const { code, out, err } = await run(["bad", "--project-dir", dir]);
            expect(code).to.equal(1);
            expect(out).to.equal("");
            const messages = err.split("\n").filter((l) => l.startsWith("  - ")).map((l) => l.slice(4));
            const keys = messages.map((m) => m.split(": ")[0]);
            expect(keys).to.have.members([
                "aws:region",
                "orthweb:environment",
                "orthweb:network.vpcCidr",
                "orthweb:network.webClientCidrs[1]",
                "orthweb:network.webClientCidrs[2]",
                "orthweb:network.colour",
                "orthweb:orthanc",
                "orthweb:database.allocatedStorageGiB",
                "orthweb:traffic.frontDoor",
            ]);
            expect(err).to.match(/^.*Pulumi\.bad\.yaml: 9 problems$/m);
            expect(err).to.not.match(/\n\s+at /);
        });

        it("fails on a stack file that is not YAML, or whose config is not a mapping, naming the file and key", async () => {
            const dir = projectWith({ "Pulumi.broken.yaml": "config:\n  aws:region: [\n", "Pulumi.list.yaml": "config:\n  - orthweb:traffic\n" });
            const broken = await run(["broken", "--project-dir", dir]);
            expect(broken.code).to.equal(1);
            expect(broken.err).to.match(/Pulumi\.broken\.yaml: 1 problem\n {2}- not valid YAML: .*line 3, column 1/);
            const list = await run(["list", "--project-dir", dir]);
            expect(list.err).to.include('- config: got ["orthweb:traffic"]; allowed: a mapping of keys such as orthweb:traffic');
        });

        it("reports a bad stack among good ones with --all, and still exits 1", async () => {
            const dir = projectWith({ "Pulumi.bad.yaml": BAD, "Pulumi.good.yaml": fs.readFileSync(path.join(ROOT, "Pulumi.dev.yaml"), "utf8") });
            const { code, out, err } = await run(["--all", "--project-dir", dir]);
            expect(code).to.equal(1);
            expect(out).to.match(/pattern\s+invalid config: 9 problem\(s\)\s+direct/);
            expect(err).to.include("orthweb:environment: got \"staging\"");
        });

        it("throws PlanConfigError before any resource is registered", async () => {
            const dir = projectWith({ "Pulumi.bad.yaml": BAD });
            const error = await planStack("bad", dir).then(
                () => undefined,
                (e) => e,
            );
            expect(error).to.be.instanceOf(PlanConfigError);
            expect((error as PlanConfigError).problems).to.have.length(9);
        });
    });

    it("turns secure: values into placeholders and plans with them, printing no secret", async () => {
        const text = [
            fs.readFileSync(path.join(ROOT, "Pulumi.dev.yaml"), "utf8"),
            "  orthweb:tlsCertificatePem:",
            "    secure: v1:AAAAencryptedcert",
            "  orthweb:tlsPrivateKeyPem:",
            "    secure: v1:AAAAencryptedkey",
            "",
        ].join("\n");
        const dir = projectWith({ "Pulumi.sealed.yaml": text });
        const plan = await planStack("sealed", dir, stackBuilder);
        expect(plan.config.tls).to.deep.include({ certificatePem: SECRET_PLACEHOLDER, privateKeyPem: SECRET_PLACEHOLDER });
        const report = reportOf(plan);
        // The certificate is yours: no self-signed notice, no generated key (only the peer link's own CA and certificate).
        expect(report.outputs.certificateNotice).to.equal(undefined);
        const keys = report.resources.components.flatMap((c) => c.types.filter((t) => t.type === "tls:index/privateKey:PrivateKey").flatMap((t) => t.names));
        expect(keys).to.deep.equal(["orthanc-peer-ca", "orthanc-peer-server"]);
        const json = renderJson(report);
        expect(json).to.not.include("v1:AAAA");
    });
});

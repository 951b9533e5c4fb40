import { expect } from "chai";
import { costOf, CostEstimate, DEFAULT_USAGE } from "../plan/cost";
import { buildModel, TYPES } from "../plan/planModel";
import { PRICES } from "../plan/prices";
import { dnsPlan, loadBalancerPlan, pair, reg, vpnPlan, directPlan } from "./planFixtures";
import { build } from "./harness";

const H = PRICES.hoursPerMonth;

function line(cost: CostEstimate, item: string) {
    const found = cost.lines.filter((l) => l.item === item);
    if (found.length !== 1) throw new Error(`expected one ${item} line, found ${found.length}: ${cost.lines.map((l) => l.item).join(", ")}`);
    return found[0];
}

describe("cost estimate", () => {
    it("comes from one dated price table for one region, and says so", () => {
        const cost = costOf(buildModel(directPlan()), DEFAULT_USAGE, PRICES, "eu-west-1");
        expect(cost).to.include({ priceRegion: "us-east-1", priceDate: PRICES.date, currency: "USD", stackRegion: "eu-west-1" });
        expect(PRICES.date).to.match(/^\d{4}-\d{2}-\d{2}$/);
        expect(cost.assumptions.join("\n")).to.match(/us-east-1 list prices; the stack runs in eu-west-1/);
    });

    it("prices the direct pair line by line: instances, volumes, database, addresses, key, secrets, storage", () => {
        const cost = costOf(buildModel(directPlan()));
        expect(line(cost, "EC2 instances")).to.deep.include({ detail: "2 x t3.medium x $0.0416/h", monthlyUsd: 60.74 });
        expect(line(cost, "EBS volumes").monthlyUsd).to.equal(60 * PRICES.ebsGbMonth.gp3);
        expect(line(cost, "RDS PostgreSQL").monthlyUsd).to.equal(23.36);
        expect(line(cost, "RDS storage").monthlyUsd).to.equal(2.3);
        expect(line(cost, "Public IPv4 addresses")).to.deep.include({ detail: "2 Elastic IPs x $0.005/h", monthlyUsd: 7.3 });
        expect(line(cost, "KMS keys").monthlyUsd).to.equal(1);
        // Two of ours plus the one RDS keeps the master password in.
        expect(line(cost, "Secrets Manager")).to.deep.include({ detail: "3 secrets (1 managed by RDS) x $0.40", monthlyUsd: 1.2 });
        expect(cost.lines.map((l) => l.item)).to.not.include.members(["NAT gateways", "Network Load Balancer"]);
    });

    it("adds up to monthlyUsd", () => {
        for (const regs of [directPlan(), loadBalancerPlan(), dnsPlan(), vpnPlan()]) {
            const cost = costOf(buildModel(regs));
            const sum = cost.lines.reduce((s, l) => s + (l.monthlyUsd ?? 0), 0);
            expect(cost.monthlyUsd).to.be.closeTo(sum, 0.005);
        }
    });

    it("doubles the database and its storage with Multi-AZ", () => {
        const regs = pair("public").map((r) => (r.type === TYPES.rds ? reg(TYPES.rds, r.name, { ...r.inputs, multiAz: true }) : r));
        const cost = costOf(buildModel(regs));
        expect(line(cost, "RDS PostgreSQL").monthlyUsd).to.equal(2 * 23.36);
        expect(line(cost, "RDS storage").detail).to.match(/x 2 \(Multi-AZ\)/);
    });

    it("counts NAT gateways from the VPC's strategy: one with Single, one per AZ with OnePerAz", () => {
        const single = costOf(buildModel(pair("private", { nat: "Single" })));
        expect(line(single, "NAT gateways").monthlyUsd).to.equal(Math.round(PRICES.natGatewayHour * H * 100) / 100);
        const perAz = costOf(buildModel(pair("private", { nat: "OnePerAz" })));
        expect(line(perAz, "NAT gateways").detail).to.equal("2 x $0.045/h");
        expect(line(perAz, "Public IPv4 addresses").detail).to.equal("2 NAT x $0.005/h");
    });

    it("prices a network load balancer with its capacity units and the public addresses of its nodes", () => {
        const cost = costOf(buildModel(loadBalancerPlan()));
        expect(line(cost, "Network Load Balancer").monthlyUsd).to.equal(Math.round((PRICES.nlbHour + PRICES.nlbLcuHour) * H * 100) / 100);
        expect(line(cost, "Public IPv4 addresses").detail).to.equal("1 NAT + 2 load balancer x $0.005/h");
        expect(cost.assumptions).to.include("1 capacity unit per load balancer on average");
    });

    it("prices an application load balancer and its WAF web ACL by rule count", () => {
        const cost = costOf(buildModel(loadBalancerPlan({ type: "application" })));
        expect(line(cost, "Application Load Balancer").monthlyUsd).to.equal(Math.round((PRICES.albHour + PRICES.albLcuHour) * H * 100) / 100);
        expect(line(cost, "WAF web ACL")).to.deep.include({ detail: "lb-waf: $5.00 + 3 rules x $1.00", monthlyUsd: 8 });
        expect(cost.notIncluded.some((n) => n.startsWith("WAF requests"))).to.equal(true);
    });

    it("prices Route 53 health checks with their HTTPS and 10-second options", () => {
        const cost = costOf(buildModel(dnsPlan()));
        // Per instance: HTTPS (0.50 + 1 + 1), TCP (0.50 + 1), calculated (0.50).
        expect(line(cost, "Route 53 health checks").monthlyUsd).to.equal(2 * (2.5 + 1.5 + 0.5));
        expect(cost.assumptions).to.include("calculated health checks are billed as basic checks");
    });

    it("prices Client VPN associations per subnet-hour and the assumed connection hours", () => {
        const cost = costOf(buildModel(vpnPlan()), { ...DEFAULT_USAGE, vpnClients: 3 });
        expect(line(cost, "Client VPN associations").monthlyUsd).to.equal(Math.round(2 * PRICES.clientVpnAssociationHour * H * 100) / 100);
        expect(line(cost, "Client VPN connections")).to.deep.include({ detail: "3 clients x 176 h x $0.05/h", monthlyUsd: 26.4 });
    });

    it("leaves a size without a list price out of the total and says which file to extend", () => {
        const cost = costOf(buildModel(pair("public", { instanceType: "x2iedn.metal" })));
        const ec2 = line(cost, "EC2 instances");
        expect(ec2.monthlyUsd).to.equal(null);
        expect(ec2.note).to.equal("no list price for x2iedn.metal in plan/prices.ts (us-east-1); add it with its source");
        expect(cost.assumptions).to.include("lines without a list price are left out of the total");
    });

    it("prices the audit trail from the plan: data events, vended-log delivery, and log storage over the retention", async function () {
        this.timeout(20_000);
        const built = await build();
        const cost = costOf(buildModel(built.registrations));
        expect(line(cost, "CloudTrail data events")).to.deep.include({ detail: "1,000,000 study object reads/writes (assumed) x $0.10 per 100k", monthlyUsd: 1 });
        expect(line(cost, "Log delivery")).to.deep.include({ detail: "5 GB of flow logs (assumed) x $0.25/GB to S3", monthlyUsd: 1.25 });
        // dev keeps logs 30 days: one month of 5 + 1 + 1 GB.
        expect(line(cost, "Log storage")).to.deep.include({ detail: "7 GB at steady state (7 GB a month kept 30 days) x $0.023/GB", monthlyUsd: 0.16 });
        expect(cost.assumptions.some((a) => a.startsWith("1,000,000 study objects read or written a month"))).to.equal(true);
        expect(PRICES).to.include({ cloudTrailDataEventsPer100k: 0.1, vendedLogsToS3Gb: 0.25 });
    });

    it("has no audit lines for a plan without an audit trail", () => {
        const items = costOf(buildModel(directPlan())).lines.map((l) => l.item);
        for (const item of ["CloudTrail data events", "Log delivery", "Log storage"]) expect(items).to.not.include(item);
    });
});

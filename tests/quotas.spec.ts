import { expect } from "chai";
import { buildModel, TYPES as PLAN_TYPES } from "../plan/planModel";
import { DEFAULT_QUOTAS, quotasOf, regionQuotaWarnings } from "../plan/quotas";
import { buildReport } from "../plan/report";
import { renderAll, renderJson, renderMarkdown, renderText, summaryOf } from "../plan/render";
import { build, Built, withConfig } from "./harness";
import { context, directPlan, reg } from "./planFixtures";

const used = (b: Built, resource: string) => quotasOf(buildModel(b.registrations)).rows.find((r) => r.resource === resource)!.used;

describe("plan report: quotas", () => {
    let direct: Built;
    let prodLb: Built;
    let dns: Built;
    before(async () => {
        direct = await build();
        prodLb = await build(
            withConfig({
                "orthweb:environment": "prod",
                "orthweb:network": { webClientCidrs: ["198.51.100.0/24"], dicomClientCidrs: ["198.51.100.0/24"] },
                "orthweb:traffic": { frontDoor: "loadBalancer", clientVpn: { clientCidr: "10.200.0.0/22", clients: ["rr-1"] } },
            }),
            "prod",
        );
        dns = await build(withConfig({ "orthweb:traffic": { frontDoor: "dns", dns: { zoneName: "example.org", recordName: "pacs" } } }));
    });

    it("uses AWS's default quotas: 5 Elastic IPs and 5 VPCs per region, 5 NAT gateways per AZ, 5 Client VPN endpoints per region", () => {
        expect(DEFAULT_QUOTAS).to.deep.equal({ elasticIpsPerRegion: 5, vpcsPerRegion: 5, natGatewaysPerAz: 5, clientVpnEndpointsPerRegion: 5 });
    });

    it("counts one Elastic IP per instance with direct and dns, one per NAT gateway behind a load balancer", () => {
        expect(used(direct, "Elastic IP addresses")).to.equal(2);
        expect(used(dns, "Elastic IP addresses")).to.equal(2);
        expect(used(prodLb, "Elastic IP addresses")).to.equal(2);
        expect(used(prodLb, "NAT gateways")).to.equal(1);
        expect(used(direct, "NAT gateways")).to.equal(0);
        for (const b of [direct, prodLb, dns]) expect(used(b, "VPCs")).to.equal(1);
    });

    it("counts Client VPN endpoints and their subnet associations, with the connections they allow", () => {
        const rows = quotasOf(buildModel(prodLb.registrations)).rows;
        expect(rows.find((r) => r.resource === "Client VPN endpoints")!.used).to.equal(1);
        const associations = rows.find((r) => r.resource === "Client VPN subnet associations")!;
        expect(associations.used).to.equal(2);
        expect(associations.detail).to.equal("one subnet per AZ; 2 allow 36,500 concurrent connections");
        expect(used(direct, "Client VPN endpoints")).to.equal(0);
    });

    it("warns when one stack alone exceeds a default quota, and only then", () => {
        expect(quotasOf(buildModel(direct.registrations)).warnings).to.deep.equal([]);
        const six = [...directPlan(), ...[3, 4, 5, 6].map((i) => reg(PLAN_TYPES.eip, `extra-eip-${i}`, { domain: "vpc" }))];
        expect(quotasOf(buildModel(six)).warnings).to.deep.equal([
            "Elastic IP addresses: this stack alone needs 6 per region, above the default quota of 5; request an increase (Service Quotas) before deploying.",
        ]);
    });

    it("adds up the stacks of one region: dev 2 + prod's NAT 2 + a dns stack 2 = 6 Elastic IPs > 5", () => {
        const summaries = [
            { ...summaryOf(buildReport(direct.registrations, context({ stack: "dev" }))), stack: "dev" },
            { ...summaryOf(buildReport(prodLb.registrations, context({ stack: "prod" }))), stack: "prod" },
            { ...summaryOf(buildReport(dns.registrations, context({ stack: "dns" }))), stack: "dns" },
        ];
        expect(regionQuotaWarnings(summaries)).to.deep.equal([
            "Elastic IP addresses in eu-west-1: dev 2 + prod 2 + dns 2 = 6, above the default quota of 5 if these stacks share an account.",
        ]);
        expect(regionQuotaWarnings(summaries.slice(0, 2))).to.deep.equal([]);
        expect(regionQuotaWarnings([summaries[0], { ...summaries[2], region: "eu-central-1" }, summaries[1]])).to.deep.equal([]);
        const text = renderAll(summaries, "text");
        expect(text).to.match(/^  Elastic IPs\s+2\s+2\s+2$/m);
        expect(text).to.include("Quota warnings:\n  - Elastic IP addresses in eu-west-1: dev 2 + prod 2 + dns 2 = 6");
        expect(renderAll(summaries, "markdown")).to.include("- **Quota:** Elastic IP addresses in eu-west-1");
        expect(JSON.parse(renderAll(summaries, "json")).quotaWarnings).to.have.length(1);
    });

    it("is a section of the text, Markdown and JSON reports", () => {
        const report = buildReport(direct.registrations, context());
        expect(renderText(report)).to.match(/Quotas\n======\n[\s\S]*Elastic IP addresses\s+2 per region\s+5\s+2 instance addresses/);
        expect(renderText(report)).to.include("Warnings: none");
        expect(renderMarkdown(report)).to.include("| Elastic IP addresses | 2 per region | 5 | 2 instance addresses |");
        expect(JSON.parse(renderJson(report)).quotas.rows[0]).to.deep.equal({ resource: "Elastic IP addresses", scope: "region", used: 2, defaultQuota: 5, detail: "2 instance addresses" });
    });
});

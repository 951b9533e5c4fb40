// The offline plan of the site stack (Pulumi.site.yaml): site-to-site VPN, client VPN, no internet.
import { expect } from "chai";
import { reportOf } from "../plan/cli";
import { plannedStack } from "./harness";
import { renderJson, renderMarkdown, renderText } from "../plan/render";
import { PlanReport } from "../plan/report";
import { PRICES } from "../plan/prices";
import { awsEndpointsOf } from "../plan/awsEndpoints";
import { instanceEndpoints } from "../components/pair/endpoints";

describe("plan: site-to-site and no internet (Pulumi.site.yaml)", () => {
    let site: PlanReport;
    let dev: PlanReport;
    let prod: PlanReport;
    before(async () => {
        [site, dev, prod] = await Promise.all(["site", "dev", "prod"].map(async (s) => reportOf(await plannedStack(s))));
    });
    const cell = (r: PlanReport, source: string, destination: string) => r.reachability.cells.find((c) => c.source === source && c.destination === destination)!;

    it("names the pattern with the tunnel", () => {
        expect(site.pattern).to.equal("none + site-to-site + clientVpn");
        expect(dev.pattern).to.equal("direct");
    });

    it("lists each instance's private name as reachable from the site, with manual failover between them", () => {
        const site2site = site.endpoints.filter((e) => e.frontDoor === "siteToSite");
        expect(site2site.map((e) => e.address)).to.deep.equal([
            "https://172.19.128.16/",
            "172.19.128.16:11112",
            "https://172.19.192.16/",
            "172.19.192.16:11112",
        ]);
        expect(site2site[1]).to.include({ aet: "ORTHANC", reachableFrom: "the site (10.40.0.0/16) over site-connection" });
        expect(site.failover.map((f) => f.path)).to.include("site-to-site VPN: one private address per instance");
        expect(dev.endpoints.filter((e) => e.frontDoor === "siteToSite")).to.deep.equal([]);
    });

    it("lets the on-premises network reach 443 and 11112 by the site's rules, and nothing else", () => {
        const source = site.reachability.sources.find((s) => s.key === "onPremises")!;
        expect(source.label).to.equal("on-premises network (site-to-site)");
        expect(source.detail).to.equal("10.40.0.0/16 via site-connection (virtual private gateway site-vgw, static)");
        expect(cell(site, "onPremises", "instance:443")).to.include({ verdict: "allowed", reason: "by site-onprem-443-1 (10.40.0.0/16)" });
        expect(cell(site, "onPremises", "instance:11112")).to.include({ verdict: "allowed" });
        expect(cell(site, "onPremises", "database:5432").verdict).to.equal("denied");
        expect(cell(site, "onPremises", "instance:22").verdict).to.equal("denied");
        expect(cell(dev, "onPremises", "instance:443")).to.include({ verdict: "n/a", reason: "no site-to-site VPN connection" });
    });

    it("says where the instances' traffic leaves: nowhere without the internet, NAT behind a load balancer, public addresses direct", () => {
        expect(site.reachability.egress.kind).to.equal("none");
        const interfaces = instanceEndpoints("eu-west-1").filter((e) => e.type === "Interface").map((e) => e.service);
        expect(site.reachability.sources.find((s) => s.key === "internetEgress")!.detail).to.equal(`none: no internet gateway, no NAT; AWS only through VPC endpoints (s3 gateway; ${interfaces.join(", ")})`);
        expect(prod.reachability.egress).to.deep.equal({ kind: "nat", detail: "through 2 NAT gateways" });
        expect(dev.reachability.egress.kind).to.equal("public");
        expect(site.reachability.cells.filter((c) => c.source === "internetEgress").every((c) => c.verdict === "n/a")).to.equal(true);
        // Nothing from the internet, on any port.
        expect(site.reachability.cells.filter((c) => c.source === "internet").every((c) => c.verdict === "denied")).to.equal(true);
    });

    it("prices the VPN connection around the clock and every interface endpoint per AZ-hour; no NAT, no public address", () => {
        const line = (item: string) => site.cost.lines.find((l) => l.item === item);
        expect(line("Site-to-site VPN")!.monthlyUsd).to.equal(Math.round(PRICES.siteToSiteVpnConnectionHour * 730 * 100) / 100);
        // One interface endpoint per service the scripts and agents need, in both AZs (10 today: 20 AZ-hours, $146.00).
        const interfaces = site.vpcEndpoints.endpoints.filter((e) => e.type === "Interface").length;
        expect(interfaces).to.equal(instanceEndpoints("eu-west-1").filter((e) => e.type === "Interface").length);
        expect(line("VPC interface endpoints")).to.deep.include({ monthlyUsd: Math.round(interfaces * 2 * PRICES.interfaceEndpointAzHour * 730 * 100) / 100 });
        expect(line("VPC interface endpoints")!.detail).to.match(new RegExp(`^${interfaces} endpoints, ${interfaces * 2} AZ-hours per hour`));
        expect(line("NAT gateways")).to.equal(undefined);
        expect(line("Public IPv4 addresses")).to.equal(undefined);
        expect(site.cost.notIncluded).to.include("data leaving AWS through the VPN tunnels (billed as data transfer out)");
        expect(dev.cost.lines.find((l) => l.item === "Site-to-site VPN")).to.equal(undefined);
    });

    it("lists the VPC endpoints it creates, each limited to the account, with the script calls and agents that need it", () => {
        expect(site.vpcEndpoints.missing).to.deep.equal([]);
        const rows = Object.fromEntries(site.vpcEndpoints.endpoints.map((e) => [e.service, e]));
        expect(Object.keys(rows)).to.include.members(["s3", "autoscaling", "ec2", "tagging", "secretsmanager", "ecr.api", "ecr.dkr", "ssm", "ssmmessages", "ec2messages"]);
        expect(Object.keys(rows)).to.not.include.members(["logs", "sts", "kms"]);
        expect(rows.autoscaling.neededBy).to.deep.equal(["aws autoscaling describe-auto-scaling-instances, describe-auto-scaling-groups, describe-instance-refreshes, cancel-instance-refresh, start-instance-refresh, record-lifecycle-action-heartbeat, complete-lifecycle-action, terminate-instance-in-auto-scaling-group, describe-traffic-sources"]);
        expect(rows.ssm.neededBy).to.deep.equal(["SSM agent (registration, the rollout association)"]);
        for (const e of site.vpcEndpoints.endpoints) expect(e.policy, e.service).to.match(/^account 123456789012 \(principals and resources\) only/);
        expect(rows.s3.policy).to.include("read-only objects of al2023-repos-eu-west-1-de612dc2, prod-eu-west-1-starport-layer-bucket");
        expect(renderText(site)).to.match(/VPC endpoints\n=+\n/);
        expect(renderMarkdown(site)).to.include("### VPC endpoints");
        // With the internet, only the free S3 gateway endpoint, under the same policy; nothing can be missing.
        expect(dev.vpcEndpoints.endpoints.map((e) => [e.service, e.type])).to.deep.equal([["s3", "Gateway"]]);
        expect(dev.vpcEndpoints.missing).to.deep.equal([]);
    });

    it("flags a service the scripts call that has no endpoint, when there is no internet", async () => {
        const planned = await plannedStack("site");
        const withoutTagging = planned.registrations.filter((r) => !(r.type === "aws:ec2/vpcEndpoint:VpcEndpoint" && String(r.inputs.serviceName).endsWith(".tagging")));
        expect(awsEndpointsOf(withoutTagging, true).missing).to.deep.equal(["tagging"]);
        expect(awsEndpointsOf(withoutTagging, false).missing).to.deep.equal([]);
    });

    it("draws the tunnel from the site to its gateway, and the gateway's traffic onto the instances", () => {
        expect(site.diagram).to.include('site_site_connection(["On-premises network<br/>10.40.0.0/16<br/>gateway 198.51.100.10"])');
        expect(site.diagram).to.include("site_site_connection ==>|IPsec x2, IKEV2, AES256-GCM-16| vgw_site_connection");
        expect(site.diagram).to.include("vgw_site_connection -->|443, 11112| i_orthanc_1");
        expect(dev.diagram).to.not.include("IPsec");
    });

    it("shows the rows in text, markdown and JSON, and the output only as a secret", () => {
        expect(renderText(site)).to.match(/on-premises network \(site-to-site\)\s+yes\s+yes\s+no\s+no/).and.match(/internet egress\s+-\s+-\s+-\s+-/);
        expect(renderMarkdown(site)).to.include("on-premises network (site-to-site)").and.include("Site-to-site VPN");
        const json = JSON.parse(renderJson(site));
        expect(json.reachability.egress.kind).to.equal("none");
        expect(JSON.stringify(json)).to.not.match(/mock_password_site_psk/);
        expect(renderText(site)).to.match(/siteToSiteVpn\s+\[secret\]/);
    });
});

import { expect } from "chai";
import { derivedInsideCidrs, insideCidrProblem } from "../rules/siteToSite";
import { validateStackConfig } from "../stacks/config";
import { FRONT_DOORS } from "../stacks/schema";
import { withConfig } from "./harness";

const SITE = { customerGatewayIp: "198.51.100.10", onPremisesCidrs: ["10.40.0.0/16"] };
const CACHE_ARN = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:ecr-pullthroughcache/dockerhub-AbCdEf";

function problemsOf(traffic: Record<string, unknown>, extra: Record<string, unknown> = {}): string[] {
    return validateStackConfig(withConfig({ "orthweb:traffic": traffic, ...extra })).problems;
}

/** The one problem about `key`; fails when there is none or more than one. */
function problemAbout(problems: string[], key: string): string {
    const found = problems.filter((p) => p.startsWith(`orthweb:${key}:`));
    expect(found, `problems about ${key} in:\n${problems.join("\n")}`).to.have.length(1);
    return found[0];
}

describe("config: traffic.siteToSiteVpn", () => {
    it("combines with every front door and with the client VPN, with strong tunnel defaults", () => {
        const own: Record<string, Record<string, unknown>> = { dns: { dns: { zoneName: "example.org", recordName: "pacs" } } };
        for (const frontDoor of FRONT_DOORS) {
            for (const clientVpn of [undefined, { clients: ["reading-room-1"] }]) {
                const { config, problems } = validateStackConfig(withConfig({ "orthweb:traffic": { frontDoor, ...own[frontDoor], siteToSiteVpn: SITE, clientVpn } }));
                expect(problems, `${frontDoor} ${clientVpn ? "+ client VPN" : ""}`).to.deep.equal([]);
                expect(config!.traffic.siteToSiteVpn).to.deep.equal({
                    ...SITE,
                    tunnels: { encryption: ["AES256-GCM-16"], integrity: ["SHA2-384"], dhGroups: [20], insideCidrs: ["169.254.210.0/30", "169.254.210.4/30"] },
                });
            }
        }
    });

    it("lets frontDoor none stand on a site-to-site VPN alone", () => {
        expect(problemsOf({ frontDoor: "none", siteToSiteVpn: SITE })).to.deep.equal([]);
        expect(problemAbout(problemsOf({ frontDoor: "none" }), "traffic.clientVpn")).to.match(/a siteToSiteVpn section/);
    });

    it("rejects a customer gateway address that the internet cannot reach, naming the value", () => {
        for (const ip of ["10.1.2.3", "192.168.1.1", "100.64.0.1", "169.254.1.1", "not-an-ip", "198.51.100.10/32"]) {
            const p = problemAbout(problemsOf({ siteToSiteVpn: { ...SITE, customerGatewayIp: ip } }), "traffic.siteToSiteVpn.customerGatewayIp");
            expect(p, ip).to.include(JSON.stringify(ip)).and.match(/public IPv4 address/);
        }
    });

    it("rejects on-premises ranges that overlap the VPC, the client VPN's range or each other", () => {
        const problems = problemsOf(
            { siteToSiteVpn: { ...SITE, onPremisesCidrs: ["172.17.8.0/24", "192.168.0.0/16", "10.40.0.0/16", "10.40.3.0/24"] }, clientVpn: { clients: ["a"] } },
        );
        expect(problemAbout(problems, "traffic.siteToSiteVpn.onPremisesCidrs[0]")).to.match(/got "172\.17\.8\.0\/24".*orthweb:network\.vpcCidr 172\.17\.0\.0\/16/);
        expect(problemAbout(problems, "traffic.siteToSiteVpn.onPremisesCidrs[1]")).to.match(/orthweb:traffic\.clientVpn\.clientCidr 192\.168\.0\.0\/22/);
        expect(problemAbout(problems, "traffic.siteToSiteVpn.onPremisesCidrs[3]")).to.match(/onPremisesCidrs\[2\] 10\.40\.0\.0\/16/);
        expect(problems.filter((p) => p.includes("onPremisesCidrs[2]:"))).to.deep.equal([]);
    });

    it("rejects an on-premises range over the instances' container network (replies would stay on the Docker bridge)", () => {
        const p = problemAbout(problemsOf({ siteToSiteVpn: { ...SITE, onPremisesCidrs: ["198.18.0.0/15"] } }), "traffic.siteToSiteVpn.onPremisesCidrs[0]");
        expect(p).to.match(/got "198\.18\.0\.0\/15".*the instances' container network 198\.18\.0\.0\/24/);
        expect(problemsOf({ siteToSiteVpn: { ...SITE, onPremisesCidrs: ["198.18.1.0/24"] } })).to.deep.equal([]);
    });

    it("rejects more ranges than the security group has rules for", () => {
        const cidrs = Array.from({ length: 11 }, (_, i) => `10.${40 + i}.0.0/16`);
        expect(problemAbout(problemsOf({ siteToSiteVpn: { ...SITE, onPremisesCidrs: cidrs } }), "traffic.siteToSiteVpn.onPremisesCidrs")).to.match(/at most 10 blocks/);
        const many = Array.from({ length: 40 }, (_, i) => `203.0.113.${i}/32`);
        // 40 client blocks (the most allowed), 2 rules for the client VPN, 2 x 10 for the site: 62 of 60.
        const traffic = { frontDoor: "direct", siteToSiteVpn: { ...SITE, onPremisesCidrs: cidrs.slice(0, 10) }, clientVpn: { clients: ["a"] } };
        const p = problemsOf(traffic, { "orthweb:network": { webClientCidrs: many.slice(0, 20), dicomClientCidrs: many.slice(20) } });
        expect(problemAbout(p, "traffic.siteToSiteVpn.onPremisesCidrs")).to.match(/take 20 inbound rules; .* makes 62; allowed: 60 in all with frontDoor direct/);
        expect(problemsOf({ ...traffic, clientVpn: undefined }, { "orthweb:network": { webClientCidrs: many.slice(0, 20), dicomClientCidrs: many.slice(20) } })).to.deep.equal([]);
    });

    it("refuses weak or unknown tunnel algorithms and says what is allowed", () => {
        const p = problemsOf({ siteToSiteVpn: { ...SITE, tunnels: { integrity: ["SHA1"], dhGroups: [2], encryption: ["3DES"] } } });
        expect(problemAbout(p, "traffic.siteToSiteVpn.tunnels.integrity[0]")).to.match(/SHA1 is weak and refused/);
        expect(problemAbout(p, "traffic.siteToSiteVpn.tunnels.dhGroups[0]")).to.match(/below 14 and 22-24 are weak/);
        expect(problemAbout(p, "traffic.siteToSiteVpn.tunnels.encryption[0]")).to.match(/AES256-GCM-16 \| AES128-GCM-16/);
    });

    it("checks the tunnels' inside /30s against AWS's rules", () => {
        const cases: [string, RegExp][] = [
            ["169.254.1.0/30", /reserved by AWS/],
            ["169.254.10.0/29", /a \/29/],
            ["10.0.0.0/30", /outside 169\.254\.0\.0\/16/],
            ["169.254.10.1/30", /host bits are set/],
        ];
        for (const [cidr, why] of cases) {
            const p = problemsOf({ siteToSiteVpn: { ...SITE, tunnels: { insideCidrs: ["169.254.20.0/30", cidr] } } });
            expect(problemAbout(p, "traffic.siteToSiteVpn.tunnels.insideCidrs[1]"), cidr).to.match(why);
        }
        expect(problemAbout(problemsOf({ siteToSiteVpn: { ...SITE, tunnels: { insideCidrs: ["169.254.20.0/30", "169.254.20.0/30"] } } }), "traffic.siteToSiteVpn.tunnels.insideCidrs")).to.match(/two different/);
    });

    it("takes a BGP ASN other than Amazon's, and a transit gateway id", () => {
        expect(problemsOf({ siteToSiteVpn: { ...SITE, bgpAsn: 65010, transitGatewayId: "tgw-0123456789abcdef0", transitGatewayRouteTableId: "tgw-rtb-0123456789abcdef0", tunnels: { insideCidrs: ["169.254.20.0/30", "169.254.20.4/30"] } } })).to.deep.equal([]);
        expect(problemAbout(problemsOf({ siteToSiteVpn: { ...SITE, bgpAsn: 64512 } }), "traffic.siteToSiteVpn.bgpAsn")).to.match(/other than 64512/);
        expect(problemAbout(problemsOf({ siteToSiteVpn: { ...SITE, transitGatewayId: "tgw-x" } }), "traffic.siteToSiteVpn.transitGatewayId")).to.match(/tgw-0123456789abcdef0/);
    });

    it("asks for inside /30s of the connection's own on a shared transit gateway, suggesting a pair derived from it", () => {
        const p = problemsOf({ siteToSiteVpn: { ...SITE, transitGatewayId: "tgw-0123456789abcdef0", transitGatewayRouteTableId: "tgw-rtb-0123456789abcdef0" } });
        const suggestion = derivedInsideCidrs("tgw-0123456789abcdef0 198.51.100.10");
        expect(problemAbout(p, "traffic.siteToSiteVpn.tunnels.insideCidrs")).to.include(`required with transitGatewayId "tgw-0123456789abcdef0"`).and.include(JSON.stringify(suggestion)).and.include('["169.254.210.0/30","169.254.210.4/30"]');
        expect(problemsOf({ siteToSiteVpn: { ...SITE, transitGatewayId: "tgw-0123456789abcdef0", transitGatewayRouteTableId: "tgw-rtb-0123456789abcdef0", tunnels: { insideCidrs: suggestion } } })).to.deep.equal([]);
        // A virtual private gateway is the stack's own: the fixed default cannot collide there.
        expect(problemsOf({ siteToSiteVpn: SITE })).to.deep.equal([]);
        // Valid, stable, and different for another site on the same gateway.
        for (const seed of ["a", "b", "tgw-0123456789abcdef0 198.51.100.10", "tgw-0123456789abcdef0 198.51.100.11"]) {
            const pair = derivedInsideCidrs(seed);
            expect(pair.map(insideCidrProblem), seed).to.deep.equal([undefined, undefined]);
            expect(derivedInsideCidrs(seed)).to.deep.equal(pair);
        }
        expect(derivedInsideCidrs("tgw-0123456789abcdef0 198.51.100.11")).to.not.deep.equal(suggestion);
    });

    it("asks for the transit gateway's route table rather than assuming a default one, which may be disabled", () => {
        const missing = problemsOf({ siteToSiteVpn: { ...SITE, transitGatewayId: "tgw-0123456789abcdef0" } });
        expect(problemAbout(missing, "traffic.siteToSiteVpn.transitGatewayRouteTableId")).to.match(/required with transitGatewayId "tgw-0123456789abcdef0"; allowed: the id of the transit gateway route table/);
        const stray = problemsOf({ siteToSiteVpn: { ...SITE, transitGatewayRouteTableId: "tgw-rtb-0123456789abcdef0" } });
        expect(problemAbout(stray, "traffic.siteToSiteVpn.transitGatewayRouteTableId")).to.match(/without transitGatewayId; allowed: only with transitGatewayId/);
        expect(problemAbout(problemsOf({ siteToSiteVpn: { ...SITE, transitGatewayId: "tgw-0123456789abcdef0", transitGatewayRouteTableId: "rtb-1" } }), "traffic.siteToSiteVpn.transitGatewayRouteTableId")).to.match(/tgw-rtb-0123456789abcdef0/);
    });
});

describe("config: network.internetAccess false", () => {
    const noInternet = (extra: Record<string, unknown> = {}) => ({ "orthweb:network": { internetAccess: false }, "orthweb:orthanc": { pullThroughCache: { dockerHubCredentialsArn: CACHE_ARN } }, ...extra });

    it("is allowed with frontDoor none and either VPN", () => {
        for (const vpn of [{ siteToSiteVpn: SITE }, { clientVpn: { clients: ["a"] } }, { siteToSiteVpn: SITE, clientVpn: { clients: ["a"] } }]) {
            expect(problemsOf({ frontDoor: "none", ...vpn }, noInternet()), Object.keys(vpn).join("+")).to.deep.equal([]);
        }
    });

    it("is refused with any other front door, naming the front door", () => {
        for (const frontDoor of FRONT_DOORS.filter((f) => f !== "none")) {
            const traffic = { frontDoor, siteToSiteVpn: SITE, ...(frontDoor === "dns" ? { dns: { zoneName: "example.org", recordName: "pacs" } } : {}) };
            expect(problemAbout(problemsOf(traffic, noInternet()), "network.internetAccess"), frontDoor).to.include(`frontDoor "${frontDoor}"`);
        }
    });

    it("needs the ECR pull-through cache: not switched off, with its Docker Hub credentials", () => {
        const off = problemsOf({ frontDoor: "none", siteToSiteVpn: SITE }, noInternet({ "orthweb:orthanc": { pullThroughCache: { enabled: false } } }));
        expect(problemAbout(off, "orthanc.pullThroughCache.enabled")).to.match(/internetAccess false/);
        const bare = problemsOf({ frontDoor: "none", siteToSiteVpn: SITE }, { "orthweb:network": { internetAccess: false } });
        expect(problemAbout(bare, "orthanc.pullThroughCache.dockerHubCredentialsArn")).to.match(/internetAccess is false/);
        // In prod the cache is on anyway: the one problem comes from its own rule, not twice.
        // (Raw config, not withConfig: that fills in the credentials of a prod stack.)
        const prod = validateStackConfig({ "aws:region": "eu-west-1", "orthweb:environment": "prod", "orthweb:network": { internetAccess: false }, "orthweb:traffic": { frontDoor: "none", siteToSiteVpn: SITE } }).problems;
        expect(prod.filter((p) => p.startsWith("orthweb:orthanc.pullThroughCache.dockerHubCredentialsArn"))).to.have.length(1);
    });

    it("is the one way in when the internet is gone: no VPN, no stack", () => {
        const p = problemsOf({ frontDoor: "none" }, noInternet());
        expect(p.some((x) => /internetAccess: got false without a VPN/.test(x))).to.equal(true);
    });
});

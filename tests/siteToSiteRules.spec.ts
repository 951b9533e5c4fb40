import { expect } from "chai";
import {
    DEFAULT_TUNNEL_ALGORITHMS,
    insideAddresses,
    insideCidrProblem,
    isPublicIpv4,
    parameterSummary,
    presharedKeyFrom,
    PSK_PATTERN,
    strongswanProposals,
} from "../rules/siteToSite";
import { awsEndFrom, childBytes, childInstalled, renderAwsSwanctlConf } from "../twin/ipsec";
import { awsBirdConf, siteBgpSummary } from "../twin/scenarios/siteBgp";
import { siteToSiteSummary } from "../twin/scenarios/siteToSite";
import { FAILOVER_BOUND_SECONDS, tunnelFailoverSummary } from "../twin/scenarios/tunnelFailover";
import { build, withConfig } from "./harness";

describe("site-to-site rules (pure)", () => {
    it("maps AWS algorithm names to strongSwan proposals: a PRF for AEAD in IKE, nothing more in ESP", () => {
        expect(strongswanProposals(DEFAULT_TUNNEL_ALGORITHMS, "ike")).to.deep.equal(["aes256gcm16-prfsha384-ecp384"]);
        expect(strongswanProposals(DEFAULT_TUNNEL_ALGORITHMS, "esp")).to.deep.equal(["aes256gcm16-ecp384"]);
        const cbc = { encryption: ["AES256", "AES128-GCM-16"], integrity: ["SHA2-256"], dhGroups: [14, 19] } as const;
        expect(strongswanProposals(cbc, "ike")).to.deep.equal(["aes256-sha256-prfsha256-modp2048", "aes256-sha256-prfsha256-ecp256", "aes128gcm16-prfsha256-modp2048", "aes128gcm16-prfsha256-ecp256"]);
        expect(strongswanProposals(cbc, "esp")).to.deep.equal(["aes256-sha256-modp2048", "aes256-sha256-ecp256", "aes128gcm16-modp2048", "aes128gcm16-ecp256"]);
    });

    it("checks inside /30s as AWS does", () => {
        expect(insideCidrProblem("169.254.210.0/30")).to.equal(undefined);
        expect(insideCidrProblem("169.254.169.252/30")).to.match(/reserved/);
        expect(insideCidrProblem("169.254.5.0/30")).to.match(/reserved/);
        expect(insideCidrProblem("169.254.10.2/30")).to.match(/did you mean 169\.254\.10\.0\/30/);
        expect(insideAddresses("169.254.210.4/30")).to.deep.equal({ aws: "169.254.210.5", customer: "169.254.210.6" });
    });

    it("makes any random key over the PSK alphabet acceptable to AWS", () => {
        expect(presharedKeyFrom("0abc_DEF.123")).to.equal("Zabc_DEF.123");
        expect(presharedKeyFrom("abc_DEF.123")).to.equal("abc_DEF.123");
        for (const key of ["0abcdefgh", "abc", "a".repeat(65), "abc-defgh"]) expect(PSK_PATTERN.test(key), key).to.equal(false);
        expect(PSK_PATTERN.test(presharedKeyFrom("0".repeat(48)))).to.equal(true);
    });

    it("tells public addresses from private, shared and special ones", () => {
        expect(["198.51.100.10", "8.8.8.8", "203.0.113.5"].every(isPublicIpv4)).to.equal(true);
        expect(["10.0.0.1", "172.31.255.1", "192.168.1.1", "100.64.1.1", "127.0.0.1", "169.254.1.1", "224.0.0.1", "0.1.2.3", "300.1.1.1", "1.2.3"].some(isPublicIpv4)).to.equal(false);
    });

    it("summarises the parameters for any vendor's device", () => {
        const s = parameterSummary(DEFAULT_TUNNEL_ALGORITHMS, { amazonSideAsn: 64512, staticCidrs: ["10.40.0.0/16"] });
        expect(s.phase1).to.deep.equal({ encryption: ["AES256-GCM-16"], integrity: ["SHA2-384"], dhGroups: [20], lifetimeSeconds: 28800 });
        expect(s.phase2).to.deep.include({ protocol: "ESP", integrity: ["(none: AEAD)"], pfsDhGroups: [20], lifetimeSeconds: 3600 });
    });
});

describe("local twin: site-to-site (pure parts)", () => {
    it("configures the AWS end from the VpnConnection the program registers", async () => {
        const built = await build(withConfig({ "orthweb:traffic": { frontDoor: "none", siteToSiteVpn: { customerGatewayIp: "198.51.100.10", onPremisesCidrs: ["10.40.0.0/16"] } } }));
        const end = awsEndFrom(built.registrations);
        expect(end.customerGatewayIp).to.equal("198.51.100.10");
        expect(end.tunnels.map((t) => [t.outsideAddress, t.ikeVersions, t.phase1, t.startupAction])).to.deep.equal(
            ["192.0.2.11", "192.0.2.12"].map((a) => [a, ["ikev2"], DEFAULT_TUNNEL_ALGORITHMS, "add"]),
        );
        const conf = renderAwsSwanctlConf(end);
        expect(conf.match(/local_addrs = (\S+)/g)).to.deep.equal(["local_addrs = 192.0.2.11", "local_addrs = 192.0.2.12"]);
        expect(conf).to.include("version = 2").and.include("proposals = aes256gcm16-prfsha384-ecp384").and.include("start_action = none");
        expect(conf).to.include(`secret = "${end.tunnels[0].presharedKey}"`);
        // AWS's default traffic selectors: anything on either side, narrowed by the customer's proposal.
        expect(conf).to.include("local_ts = 0.0.0.0/0").and.include("remote_ts = 0.0.0.0/0");
        expect(renderAwsSwanctlConf({ ...end, tunnels: [{ ...end.tunnels[0], ikeVersions: ["ikev1", "ikev2"] }] })).to.include("version = 0");
    });

    it("reads tunnel state and ESP byte counters from swanctl --list-sas", () => {
        const listing = [
            "tunnel1: #1, ESTABLISHED, IKEv2, 37ec060aac8d762e_i* 9b8c50bf6e929ddd_r",
            "  tunnel1-net: #2, reqid 1, INSTALLED, TUNNEL-in-UDP, ESP:AES_GCM_16-256",
            "    in  ee632c9a,   2460 bytes,    10 packets,     5s ago",
            "    out b728dc9c,    802 bytes,    12 packets,     5s ago",
        ].join("\n");
        expect(childInstalled(listing, "tunnel1-net")).to.equal(true);
        expect(childInstalled(listing, "tunnel2-net")).to.equal(false);
        expect(childBytes(listing)).to.deep.equal({ in: 2460, out: 802 });
    });

    it("configures the AWS end's BGP speaker from the registered connection: inside CIDRs, the two ASNs", async () => {
        const built = await build(withConfig({ "orthweb:traffic": { frontDoor: "none", siteToSiteVpn: { customerGatewayIp: "198.51.100.10", onPremisesCidrs: ["10.40.0.0/16"], bgpAsn: 65010 } } }));
        const end = awsEndFrom(built.registrations);
        expect(end.bgp).to.deep.equal({ customerAsn: 65010, amazonAsn: 64512 });
        expect(end.tunnels.map((t) => t.insideCidr)).to.deep.equal(["169.254.210.0/30", "169.254.210.4/30"]);
        const conf = awsBirdConf({ site: { aws: end, vpcCidr: "10.251.0.0/16" } as any }, [{ insideAws: "169.254.210.1", insideSite: "169.254.210.2" }, { insideAws: "169.254.210.5", insideSite: "169.254.210.6" }]);
        expect(conf).to.include("local 169.254.210.1 as 64512;\n    neighbor 169.254.210.2 as 65010;").and.include("route 10.251.0.0/16 unreachable;");
        const stat = await build(withConfig({ "orthweb:traffic": { frontDoor: "none", siteToSiteVpn: { customerGatewayIp: "198.51.100.10", onPremisesCidrs: ["10.40.0.0/16"] } } }));
        expect(awsEndFrom(stat.registrations).bgp).to.equal(undefined);
    });

    it("prints the new scenarios' summary lines in the issue's form; the failover bound is DPD's plus 2 s", () => {
        expect(tunnelFailoverSummary(27, 0, 23.34)).to.equal("twin tunnel-failover: 27 stored, 0 lost, moved to tunnel 2 after 23.3s");
        expect(siteBgpSummary(4.71, 20, 0)).to.equal("twin site-bgp: routes learned in 4.7s, 20 stored, 0 lost");
        expect(FAILOVER_BOUND_SECONDS).to.equal(28.25);
    });

    it("prints the summary line in the issue's form", () => {
        expect(siteToSiteSummary(3.94, 20, 0)).to.equal("twin site-to-site: tunnel up in 3.9s, 20 stored over IPsec, 0 lost");
        expect(siteToSiteSummary(undefined, 0, 0)).to.equal("twin site-to-site: tunnel up in -s, 0 stored over IPsec, 0 lost");
    });
});

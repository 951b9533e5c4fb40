// The site gateway's files (rules/siteGateway.ts): what they say, and the real tools reading them: charon loading the
// swanctl.conf with the strongswan.conf drop-in (in a network namespace of its own), shellcheck on the tunnel script,
// systemd on its unit, BIRD parsing its configuration.
import { expect } from "chai";
import {
    deadPeerDetectionBoundSeconds,
    renderSiteSwanctlConf,
    retransmitSeconds,
    siteGatewayFiles,
    TUNNEL_INTERFACES,
} from "../rules/siteGateway";
import { BGP, STATIC } from "./siteGatewayFixtures";

/** The value of `key` in each block of a swanctl.conf, in order. */
const values = (conf: string, key: string) => [...conf.matchAll(new RegExp(`^\\s*${key} = (.+)$`, "gm"))].map((m) => m[1]);

describe("site gateway files (pure)", () => {
    it("renders route-based tunnels: both started and restarted, 0.0.0.0/0 selectors, one if_id per tunnel", () => {
        const conf = renderSiteSwanctlConf(STATIC);
        expect(values(conf, "start_action")).to.deep.equal(["start", "start"]);
        expect(values(conf, "dpd_action")).to.deep.equal(["restart", "restart"]);
        expect(values(conf, "close_action")).to.deep.equal(["restart", "restart"]);
        expect(values(conf, "keyingtries")).to.deep.equal(["0", "0"]);
        expect(values(conf, "local_ts")).to.deep.equal(["0.0.0.0/0", "0.0.0.0/0"]);
        expect(values(conf, "remote_ts")).to.deep.equal(["0.0.0.0/0", "0.0.0.0/0"]);
        expect(values(conf, "if_id_in")).to.deep.equal(TUNNEL_INTERFACES.map((i) => String(i.ifId)));
        expect(values(conf, "if_id_out")).to.deep.equal(TUNNEL_INTERFACES.map((i) => String(i.ifId)));
        expect(values(conf, "version")).to.deep.equal(["2", "2"]);
        expect(values(conf, "proposals")).to.deep.equal(["aes256gcm16-prfsha384-ecp384", "aes256gcm16-prfsha384-ecp384"]);
        expect(values(conf, "esp_proposals")).to.deep.equal(["aes256gcm16-ecp384", "aes256gcm16-ecp384"]);
        expect(conf).to.include('secret = "k\\"1\\\\x_abcdefgh"');
        expect(conf).to.not.match(/default|trap/);
    });

    it("works behind NAT: any local address, the public address as identity, NAT-T not refused", () => {
        const conf = renderSiteSwanctlConf(STATIC);
        expect(values(conf, "local_addrs")).to.deep.equal(["%any", "%any"]);
        expect(values(conf, "id")).to.deep.equal(["198.51.100.10", "192.0.2.1", "198.51.100.10", "192.0.2.2"]);
        expect(values(conf, "id-local")).to.deep.equal(["198.51.100.10", "198.51.100.10"]);
        expect(conf).to.not.match(/encap = no/);
    });

    it("bounds IKEv2 dead-peer detection with dpd_delay and the retransmission schedule (dpd_timeout is IKEv1 only)", () => {
        const files = siteGatewayFiles(STATIC);
        expect(files.swanctlConf).to.not.include("dpd_timeout");
        expect(files.swanctlConf).to.include("dpd_delay = 10s");
        // strongSwan's defaults (4 s, base 1.8, 5 tries) take 165 s; ours 2 s, 1.5, 3 tries: 16.25 s.
        expect(retransmitSeconds({ timeoutSeconds: 4, base: 1.8, tries: 5 })).to.be.closeTo(165.1, 0.1);
        expect(retransmitSeconds()).to.equal(16.25);
        expect(deadPeerDetectionBoundSeconds()).to.equal(26.25);
        expect(files.strongswanConf).to.include("retransmit_timeout = 2").and.include("retransmit_base = 1.5").and.include("retransmit_tries = 3").and.include("install_routes = no");
    });

    it("static routing: the routes to the VPC, tunnel 1 preferred, moved by the updown script", () => {
        const files = siteGatewayFiles(STATIC);
        expect(files.birdConf).to.equal(undefined);
        expect(files.staticRoutes).to.deep.equal([
            { destination: "172.17.0.0/16", device: "orthweb-aws1", metric: 100 },
            { destination: "172.17.0.0/16", device: "orthweb-aws2", metric: 200 },
        ]);
        expect(values(files.swanctlConf, "updown")).to.deep.equal(["/usr/local/sbin/orthweb-tunnels", "/usr/local/sbin/orthweb-tunnels"]);
        expect(files.tunnelScript).to.include("ip link add orthweb-aws1 type xfrm dev").and.include("if_id 4101");
        expect(files.tunnelScript).to.include("ip addr replace 169.254.20.6/30 dev orthweb-aws2");
        expect(files.tunnelScript).to.include("up-client) ip route replace 172.17.0.0/16 dev orthweb-aws1 metric 100 ;;");
        expect(files.tunnelScript).to.include("down-client) ip route del 172.17.0.0/16 dev orthweb-aws2 metric 200 2>/dev/null || true ;;");
        expect(files.systemdUnit).to.include("ExecStart=/usr/local/sbin/orthweb-tunnels setup").and.include("Before=strongswan.service");
    });

    it("BGP: BIRD peers over each tunnel's inside addresses, announces the site's ranges, prefers tunnel 1 both ways", () => {
        const files = siteGatewayFiles(BGP);
        expect(files.staticRoutes).to.equal(undefined);
        expect(values(files.swanctlConf, "updown")).to.deep.equal([]);
        const bird = files.birdConf!;
        expect(bird).to.include("local 169.254.20.2 as 65010;\n    neighbor 169.254.20.1 as 64512;");
        expect(bird).to.include("local 169.254.20.6 as 65010;\n    neighbor 169.254.20.5 as 64512;");
        expect(bird).to.include("route 10.40.0.0/16 unreachable;").and.include("route 10.41.0.0/24 unreachable;");
        expect(bird.match(/bgp_local_pref = (\d+)/g)).to.deep.equal(["bgp_local_pref = 200", "bgp_local_pref = 100"]);
        expect(bird.match(/bgp_path\.prepend\(65010\)/g)).to.have.length(1);
        expect(bird).to.include("hold time 30;").and.include("export where source = RTS_BGP;");
    });
});


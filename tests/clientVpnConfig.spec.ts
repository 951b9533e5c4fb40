import { expect } from "chai";
import { validateStackConfig } from "../stacks/config";
import { FRONT_DOORS } from "../stacks/schema";
import { loadStackFile } from "../stacks/stackFile";
import { withConfig } from "./harness";

function problemsOf(traffic: Record<string, unknown>, extra: Record<string, unknown> = {}): string[] {
    return validateStackConfig(withConfig({ "orthweb:traffic": traffic, ...extra })).problems;
}

function vpn(overrides: Record<string, unknown>): Record<string, unknown> {
    return { clients: ["reading-room-1"], ...overrides };
}

/** The one problem about `key`; fails when there is none or more than one. */
function problemAbout(problems: string[], key: string): string {
    const found = problems.filter((p) => p.startsWith(`orthweb:${key}:`));
    expect(found, `problems about ${key} in:\n${problems.join("\n")}`).to.have.length(1);
    return found[0];
}

describe("config: traffic.clientVpn and frontDoor none", () => {
    it("accepts a client VPN beside every front door, with the contract's defaults", () => {
        // What each front door needs of its own besides the VPN.
        const own: Record<string, Record<string, unknown>> = { dns: { dns: { zoneName: "example.org", recordName: "pacs" } } };
        for (const frontDoor of FRONT_DOORS) {
            const traffic = { frontDoor, ...own[frontDoor], clientVpn: { clients: ["reading-room-1"] } };
            const { config, problems } = validateStackConfig(withConfig({ "orthweb:traffic": traffic }));
            expect(problems, frontDoor).to.deep.equal([]);
            expect(config!.traffic.clientVpn).to.deep.equal({
                clientCidr: "192.168.0.0/22",
                certificateDomain: "vpn.orthweb.internal",
                certificateValidityDays: 825,
                clients: ["reading-room-1"],
                transport: "udp",
                port: 443,
                splitTunnel: true,
            });
        }
    });

    it("accepts every documented value", () => {
        const clientVpn = { clientCidr: "10.200.0.0/12", certificateDomain: "vpn.example.org", certificateValidityDays: 3650, clients: ["a", "ws-2"], transport: "tcp", port: 1194, splitTunnel: false };
        expect(problemsOf({ frontDoor: "none", clientVpn: { ...clientVpn, clientCidr: "10.192.0.0/12" } })).to.deep.equal([]);
        expect(problemsOf({ frontDoor: "none", clientVpn: { ...clientVpn, clientCidr: "10.200.4.0/22", certificateValidityDays: 90 } })).to.deep.equal([]);
    });

    it("lists none among the front doors", () => {
        expect(FRONT_DOORS).to.include("none");
        expect(problemAbout(problemsOf({ frontDoor: "vpn" }), "traffic.frontDoor")).to.match(/got "vpn"; allowed: .*\bnone\b/);
    });

    it("requires clientVpn with frontDoor none, and says so", () => {
        const p = problemAbout(problemsOf({ frontDoor: "none" }), "traffic.clientVpn");
        expect(p).to.match(/required when orthweb:traffic.frontDoor is none/).and.match(/allowed: a clientVpn section/);
    });

    it("keeps clientVpn optional with direct", () => {
        expect(problemsOf({ frontDoor: "direct" })).to.deep.equal([]);
    });

    it("rejects a client CIDR outside /12 to /22, naming the value and the range", () => {
        for (const cidr of ["10.200.0.0/23", "10.0.0.0/11", "10.200.0.0/32"]) {
            const p = problemAbout(problemsOf({ clientVpn: vpn({ clientCidr: cidr }) }), "traffic.clientVpn.clientCidr");
            expect(p).to.include(`got "${cidr}"`).and.match(/out of range; allowed: an IPv4 block from \/12 to \/22/);
        }
        expect(problemAbout(problemsOf({ clientVpn: vpn({ clientCidr: "10.200.0.1/22" }) }), "traffic.clientVpn.clientCidr")).to.match(/host bits are set \(did you mean 10.200.0.0\/22\?\)/);
        expect(problemAbout(problemsOf({ clientVpn: vpn({ clientCidr: "vpn" }) }), "traffic.clientVpn.clientCidr")).to.match(/not an IPv4 CIDR block/);
    });

    it("rejects a client CIDR that overlaps the VPC, naming both blocks", () => {
        const withDefaultVpc = problemAbout(problemsOf({ clientVpn: vpn({ clientCidr: "172.16.0.0/12" }) }), "traffic.clientVpn.clientCidr");
        expect(withDefaultVpc).to.include('got "172.16.0.0/12"').and.include("does not overlap orthweb:network.vpcCidr 172.17.0.0/16");
        const custom = problemsOf({ clientVpn: vpn({}) }, { "orthweb:network": { vpcCidr: "192.168.0.0/16" } });
        expect(problemAbout(custom, "traffic.clientVpn.clientCidr")).to.include('got "192.168.0.0/22"').and.include("vpcCidr 192.168.0.0/16");
        expect(problemsOf({ clientVpn: vpn({ clientCidr: "172.18.0.0/22" }) })).to.deep.equal([]);
    });

    it("requires certificateDomain to be a DNS name", () => {
        for (const domain of ["localhost", "VPN.example.org", "vpn..example.org", "-vpn.example.org", "vpn.example.org.", "vpn example.org", 42]) {
            const p = problemAbout(problemsOf({ clientVpn: vpn({ certificateDomain: domain }) }), "traffic.clientVpn.certificateDomain");
            expect(p).to.include(`got ${JSON.stringify(domain)}`).and.match(/allowed: a DNS name/);
        }
    });

    it("rejects a domain that makes a certificate CN longer than X.509 allows (64)", () => {
        const domain = `${"a".repeat(50)}.example.org`; // server.<domain> = 69 characters
        const p = problemAbout(problemsOf({ clientVpn: vpn({ certificateDomain: domain, clients: ["ws"] }) }), "traffic.clientVpn.certificateDomain");
        expect(p).to.include(`got "${domain}"; allowed: a domain of at most 57 characters`).and.match(/server\.a+\.example\.org has 69; X\.509 allows 64/);
        const long = problemsOf({ clientVpn: vpn({ certificateDomain: "vpn.example.org", clients: ["ok", "w".repeat(50)] }) });
        expect(problemAbout(long, "traffic.clientVpn.clients[1]")).to.match(/got "w+"; allowed: a name that keeps the CN w+\.vpn\.example\.org \(66 characters\) within 64/);
        expect(problemsOf({ clientVpn: vpn({ certificateDomain: `${"a".repeat(45)}.example.org`, clients: ["ws"] }) })).to.deep.equal([]);
    });

    it("requires at least one client, each a unique CN-safe name", () => {
        expect(problemAbout(problemsOf({ clientVpn: { clients: [] } }), "traffic.clientVpn.clients")).to.match(/got \[\]; allowed: a list of 1 to 100 names/);
        expect(problemAbout(problemsOf({ clientVpn: {} }), "traffic.clientVpn.clients")).to.match(/required; allowed: a list of 1 to 100 names/);
        for (const bad of ["Reading Room", "ws_1", "-ws", "ws-", "ws.1", "Ws1", ""]) {
            const p = problemAbout(problemsOf({ clientVpn: vpn({ clients: ["ok", bad] }) }), "traffic.clientVpn.clients[1]");
            expect(p).to.include(`got ${JSON.stringify(bad)}`).and.match(/allowed: a workstation name usable in a certificate CN/);
        }
        const dup = problemAbout(problemsOf({ clientVpn: vpn({ clients: ["ws-1", "ws-2", "ws-1"] }) }), "traffic.clientVpn.clients[2]");
        expect(dup).to.match(/got "ws-1"; listed twice; allowed: unique names/);
        expect(problemAbout(problemsOf({ clientVpn: vpn({ clients: "ws-1" }) }), "traffic.clientVpn.clients")).to.match(/got "ws-1"; allowed: a list of/);
    });

    it("keeps the VPN's own certificate names out of the client list", () => {
        for (const reserved of ["ca", "server", "chain"]) {
            const p = problemAbout(problemsOf({ clientVpn: vpn({ clients: ["ws", reserved] }) }), "traffic.clientVpn.clients[1]");
            expect(p).to.include(`got "${reserved}"`).and.match(/allowed: any name but ca, server, chain/);
        }
    });

    it("validates transport, port, splitTunnel and certificateValidityDays", () => {
        const cases: [string, unknown, RegExp][] = [
            ["transport", "icmp", /allowed: udp \| tcp/],
            ["port", 1195, /allowed: 443 \| 1194/],
            ["port", "443", /allowed: 443 \| 1194/],
            ["splitTunnel", "yes", /allowed: true \| false/],
            ["certificateValidityDays", 30, /allowed: a whole number of days from 90 to 3650/],
            ["certificateValidityDays", 825.5, /allowed: a whole number of days from 90 to 3650/],
            ["certificateValidityDays", 3651, /allowed: a whole number of days from 90 to 3650/],
        ];
        for (const [key, value, allowed] of cases) {
            const p = problemAbout(problemsOf({ clientVpn: vpn({ [key]: value }) }), `traffic.clientVpn.${key}`);
            expect(p, `${key}=${JSON.stringify(value)}`).to.include(`got ${JSON.stringify(value)}`).and.match(allowed);
        }
    });

    it("names the allowed keys for an unknown one", () => {
        const p = problemAbout(problemsOf({ clientVpn: vpn({ cidr: "10.0.0.0/22" }) }), "traffic.clientVpn.cidr");
        expect(p).to.match(/unknown key; allowed keys: clientCidr, certificateDomain, certificateValidityDays, clients, transport, port, splitTunnel/);
    });

    it("reports every problem at once", () => {
        const problems = problemsOf({ frontDoor: "none", clientVpn: { clientCidr: "172.17.0.0/22", certificateDomain: "x", clients: ["server", "A"], port: 80 } });
        expect(problems.map((p) => p.split(":")[1]).sort()).to.deep.equal([
            "traffic.clientVpn.certificateDomain",
            "traffic.clientVpn.clientCidr",
            "traffic.clientVpn.clients[0]",
            "traffic.clientVpn.clients[1]",
            "traffic.clientVpn.port",
        ]);
    });

    it("Pulumi.prod.yaml adds a client VPN for two reading rooms beside its front door", () => {
        const file = loadStackFile("prod");
        const { config, problems } = validateStackConfig(file.config, { opaqueKeys: file.encryptedKeys });
        expect(problems).to.deep.equal([]);
        expect(config!.traffic.clientVpn).to.include({ clientCidr: "10.200.0.0/22", transport: "udp", port: 443, splitTunnel: true });
        expect(config!.traffic.clientVpn!.clients).to.deep.equal(["reading-room-1", "reading-room-2"]);
    });
});

import { expect } from "chai";
import { remoteHost, renderOvpnProfile, renderOvpnProfiles } from "../components/ovpn";

const ENDPOINT = "*.cvpn-endpoint-0123456789abcdef0.prod.clientvpn.eu-west-1.amazonaws.com";
const CA = "-----BEGIN CERTIFICATE-----\nCA\n-----END CERTIFICATE-----\n";
const CERT = "-----BEGIN CERTIFICATE-----\nCLIENT\n-----END CERTIFICATE-----";
const KEY = "-----BEGIN RSA PRIVATE KEY-----\nKEY\n-----END RSA PRIVATE KEY-----\n";
const INPUT = { endpointDnsName: ENDPOINT, label: "k3x9q2mz", transport: "udp" as const, port: 443, caPem: CA, certPem: CERT, keyPem: KEY };

function lines(profile: string): string[] {
    return profile.split("\n");
}

describe(".ovpn profile (renderer)", () => {
    it("replaces the endpoint name's `*` with the label", () => {
        expect(remoteHost(ENDPOINT, "k3x9q2mz")).to.equal("k3x9q2mz.cvpn-endpoint-0123456789abcdef0.prod.clientvpn.eu-west-1.amazonaws.com");
    });

    it("refuses a label that is not a DNS label and a name that is not an endpoint's", () => {
        expect(() => remoteHost(ENDPOINT, "not a label")).to.throw(/not a DNS label/);
        expect(() => remoteHost("*.", "abc")).to.throw(/not a Client VPN endpoint name/);
    });

    it("has every directive AWS's own client configuration has, in order", () => {
        expect(lines(renderOvpnProfile(INPUT)).slice(0, 11)).to.deep.equal([
            "client",
            "dev tun",
            "proto udp",
            "remote k3x9q2mz.cvpn-endpoint-0123456789abcdef0.prod.clientvpn.eu-west-1.amazonaws.com 443",
            "remote-random-hostname",
            "resolv-retry infinite",
            "nobind",
            "remote-cert-tls server",
            "cipher AES-256-GCM",
            "verb 3",
            "reneg-sec 0",
        ]);
    });

    it("uses the configured transport and port", () => {
        const profile = renderOvpnProfile({ ...INPUT, transport: "tcp", port: 1194 });
        expect(lines(profile)).to.include("proto tcp").and.not.include("proto udp");
        expect(profile).to.match(/^remote \S+ 1194$/m);
    });

    it("inlines the CA, the client certificate and its key, each once, as complete PEM blocks", () => {
        const profile = renderOvpnProfile(INPUT);
        expect(profile).to.include(`<ca>\n${CA.trim()}\n</ca>\n<cert>\n${CERT}\n</cert>\n<key>\n${KEY.trim()}\n</key>\n`);
        expect(profile.match(/<key>/g)).to.have.length(1);
    });

    it("refuses to inline something that is not PEM", () => {
        expect(() => renderOvpnProfile({ ...INPUT, keyPem: "" })).to.throw(/<key> needs PEM text/);
    });

    it("renders one profile per client, each with its own certificate and key", () => {
        const profiles = renderOvpnProfiles(
            { endpointDnsName: ENDPOINT, label: "abc", transport: "udp", port: 443, caPem: CA },
            { a: { certPem: CERT.replace("CLIENT", "A"), keyPem: KEY }, b: { certPem: CERT.replace("CLIENT", "B"), keyPem: KEY } },
        );
        expect(Object.keys(profiles)).to.deep.equal(["a", "b"]);
        expect(profiles.a).to.include("\nA\n").and.not.include("\nB\n");
        expect(profiles.b).to.include("\nB\n");
    });
});


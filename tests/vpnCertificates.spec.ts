import { expect } from "chai";
import {
    allCertificates,
    certificateLifetimes,
    CLIENT_USES,
    lifetimeProblems,
    RESERVED_LABELS,
    SERVER_USES,
    vpnCertificatePlan,
} from "../rules/certificates";

const DOMAIN = "vpn.example.org";

describe("client VPN certificates (plan)", () => {
    it("a CA lives twice as long as its leaves and is renewed once a leaf would outlive it", () => {
        expect(certificateLifetimes(825)).to.deep.equal({
            caValidityHours: 2 * 825 * 24,
            caEarlyRenewalHours: 825 * 24,
            leafValidityHours: 825 * 24,
            leafEarlyRenewalHours: 30 * 24,
        });
    });

    it("the lifetime rule holds across the whole allowed range of certificateValidityDays", () => {
        for (const days of [90, 91, 365, 825, 3650]) expect(lifetimeProblems(certificateLifetimes(days)), String(days)).to.deep.equal([]);
    });

    it("the lifetime rule catches orthweb's CA that expires before its leaves (days passed as hours)", () => {
        const problems = lifetimeProblems({ caValidityHours: 3650, caEarlyRenewalHours: 0, leafValidityHours: 3650 * 24, leafEarlyRenewalHours: 0 });
        expect(problems.join("\n")).to.match(/would outlive it/);
    });

    it("the lifetime rule rejects renewal windows as long as the certificate (replaced on every run)", () => {
        expect(lifetimeProblems({ caValidityHours: 100, caEarlyRenewalHours: 100, leafValidityHours: 50, leafEarlyRenewalHours: 10 }).join()).to.match(/CA's validity/);
        expect(lifetimeProblems({ caValidityHours: 200, caEarlyRenewalHours: 100, leafValidityHours: 50, leafEarlyRenewalHours: 50 }).join()).to.match(/leaf's validity/);
    });

    it("names every certificate <label>.<domain>: ca, server (also in the SAN), chain, one per client", () => {
        const plan = vpnCertificatePlan(DOMAIN, ["reading-room-1", "modality-ct"], 825);
        expect(allCertificates(plan).map((c) => c.commonName)).to.deep.equal([
            "ca.vpn.example.org",
            "server.vpn.example.org",
            "chain.vpn.example.org",
            "reading-room-1.vpn.example.org",
            "modality-ct.vpn.example.org",
        ]);
        expect(plan.server.dnsNames).to.deep.equal(["server.vpn.example.org"]);
        expect(plan.clients.map((c) => c.resourceSuffix)).to.deep.equal(["client-reading-room-1", "client-modality-ct"]);
        expect(RESERVED_LABELS).to.have.members(["ca", "server", "chain"]);
    });

    it("gives the CA cert and CRL signing only, the server serverAuth, the clients and the chain clientAuth", () => {
        const plan = vpnCertificatePlan(DOMAIN, ["ws"], 825);
        expect(plan.ca.isCa).to.equal(true);
        expect([...plan.ca.allowedUses]).to.have.members(["cert_signing", "crl_signing"]);
        expect([...plan.server.allowedUses]).to.deep.equal([...SERVER_USES]).and.include("server_auth").and.not.include("client_auth");
        for (const spec of [plan.chain, ...plan.clients]) {
            expect([...spec.allowedUses]).to.deep.equal([...CLIENT_USES]).and.include("client_auth").and.not.include("server_auth");
            expect(spec.isCa).to.equal(false);
        }
    });
});


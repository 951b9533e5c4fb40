import { expect } from "chai";
import { execFileSync, spawnSync } from "child_process";
import { X509Certificate } from "crypto";
import { chainProblems, vpnCertificatePlan } from "../../rules/certificates";
import { needTool } from "../localTools";
import { IssuedChain, issueChain } from "../opensslChain";

const DOMAIN = "vpn.example.org";

describe("client VPN certificates, issued for real with openssl", function () {
    this.timeout(60_000);
    let chain: IssuedChain;

    before(function () {
        needTool(this, "openssl");
        chain = issueChain(vpnCertificatePlan(DOMAIN, ["reading-room-1", "reading-room-2"], 825), { keys: "vpn" });
    });
    after(() => chain?.cleanup());

    function verify(purpose: "sslserver" | "sslclient", resource: string) {
        return spawnSync("openssl", ["verify", "-x509_strict", "-CAfile", chain.ca.certFile, "-purpose", purpose, chain.byResource[resource].certFile], { encoding: "utf8" });
    }

    it("the server certificate verifies against the CA for TLS server use, and not for client use", () => {
        expect(verify("sslserver", "server").status, verify("sslserver", "server").stderr).to.equal(0);
        expect(verify("sslclient", "server").stdout + verify("sslclient", "server").stderr).to.match(/unsuitable certificate purpose/);
    });

    it("each client certificate (and the chain certificate) verifies for TLS client use, and not as a server", () => {
        for (const resource of ["client-reading-room-1", "client-reading-room-2", "chain"]) {
            const ok = verify("sslclient", resource);
            expect(ok.status, `${resource}: ${ok.stdout}${ok.stderr}`).to.equal(0);
            expect(verify("sslserver", resource).status, resource).to.not.equal(0);
        }
    });

    it("the CA is a CA with RSA 2048 keys throughout, and the server names server.<domain> in CN and SAN", () => {
        const ca = new X509Certificate(chain.ca.certPem);
        expect(ca.ca).to.equal(true);
        const server = new X509Certificate(chain.byResource.server.certPem);
        expect(server.subject).to.include("CN=server.vpn.example.org");
        expect(server.subjectAltName).to.equal("DNS:server.vpn.example.org");
        for (const issued of Object.values(chain.byResource)) {
            expect(new X509Certificate(issued.certPem).publicKey.asymmetricKeyDetails?.modulusLength, issued.spec.resourceSuffix).to.equal(2048);
        }
        const text = execFileSync("openssl", ["x509", "-in", chain.ca.certFile, "-noout", "-ext", "keyUsage,basicConstraints"], { encoding: "utf8" });
        expect(text).to.match(/Certificate Sign, CRL Sign/).and.match(/CA:TRUE/);
    });

    it("ACM can take the keys: unencrypted PEM well under its 5 KB limit", () => {
        for (const issued of Object.values(chain.byResource)) {
            expect(issued.keyPem).to.match(/^-----BEGIN (RSA )?PRIVATE KEY-----/);
            expect(Buffer.byteLength(issued.keyPem)).to.be.below(5 * 1024);
        }
    });

    it("the CA outlives every leaf it signed, and every leaf is signed by it", () => {
        const leaves = Object.fromEntries(Object.entries(chain.byResource).filter(([k]) => k !== "ca").map(([k, v]) => [k, v.certPem]));
        expect(Object.keys(leaves)).to.have.length(4);
        expect(chainProblems(chain.ca.certPem, leaves)).to.deep.equal([]);
    });

    it("the validity rule catches a CA that expires before its leaves", () => {
        // orthweb's mistake: the CA's validity in hours set to the number of days.
        const broken = issueChain(vpnCertificatePlan(DOMAIN, ["ws"], 825), { caValidityHours: 825, keys: "vpn" });
        try {
            const problems = chainProblems(broken.ca.certPem, { server: broken.byResource.server.certPem, "client-ws": broken.byResource["client-ws"].certPem });
            expect(problems).to.have.length(2);
            expect(problems[0]).to.match(/^server: valid until .* after its CA expires/);
        } finally {
            broken.cleanup();
        }
    });

    it("chainProblems notices a leaf from another CA", () => {
        // Another CA (its own key); the leaves may reuse the pool's keys.
        const other = issueChain(vpnCertificatePlan(DOMAIN, ["ws"], 90), { keys: "vpn", caKeys: "other" });
        try {
            expect(chainProblems(chain.ca.certPem, { stranger: other.byResource["client-ws"].certPem }).join()).to.match(/^stranger: not issued by/);
        } finally {
            other.cleanup();
        }
    });
});

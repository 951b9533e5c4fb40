import { expect } from "chai";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { build, TYPES, withConfig } from "../harness";
import { makeSelfSignedCertificate, needTool } from "../localTools";
import { dnsConfig, expectOneProblem, FQDN, problemsOf, withCertificate } from "../dnsFixtures";

describe("DnsFrontDoor", () => {
    describe("certificate", function () {
        let dir: string;
        let right: { cert: string; key: string };
        let wrong: { cert: string; key: string };
        let wildcard: { cert: string; key: string };

        before(function () {
            needTool(this, "openssl");
            dir = fs.mkdtempSync(path.join(os.tmpdir(), "orthweb-dns-tls-"));
            // Only the names differ here: one key for the three (each certificate is checked against its own key).
            right = makeSelfSignedCertificate(dir, "right", `DNS:${FQDN},DNS:pacs-admin.example.org`, 30, "pacs");
            wrong = makeSelfSignedCertificate(dir, "wrong", "DNS:other.example.org,DNS:pacs.example.com", 30, "pacs");
            wildcard = makeSelfSignedCertificate(dir, "wildcard", "DNS:*.example.org", 30, "pacs");
        });

        after(() => dir && fs.rmSync(dir, { recursive: true, force: true }));

        it("accepts your own certificate when its subjectAltName names the front-door name", () => {
            expect(problemsOf(withCertificate(right))).to.deep.equal([]);
        });

        it("rejects your own certificate when it does not, naming the key, the name and the names it has", () => {
            expectOneProblem(
                withCertificate(wrong),
                "orthweb:tlsCertificatePem",
                /does not name the front-door name pacs\.example\.org/,
                /its subjectAltName DNS names: other\.example\.org, pacs\.example\.com/,
                /allowed: a certificate whose subjectAltName lists pacs\.example\.org or \*\.example\.org/,
            );
        });

        it("accepts a wildcard for a name one label under it, and not deeper", () => {
            expect(problemsOf(withCertificate(wildcard))).to.deep.equal([]);
            expectOneProblem(withCertificate(wildcard, { recordName: "pacs.eu" }), "orthweb:tlsCertificatePem", /pacs\.eu\.example\.org/, /names: \*\.example\.org/);
        });

        it("does not check the front-door name for other front doors", () => {
            const raw = withConfig({ "orthweb:tlsCertificatePem": wrong.cert, "orthweb:tlsPrivateKeyPem": wrong.key });
            expect(problemsOf(raw)).to.deep.equal([]);
        });

        it("checks the certificate only against a valid front-door name", () => {
            expectOneProblem(withCertificate(right, { recordName: "pacs.example.org" }), "orthweb:traffic.dns.recordName", /did you mean pacs\?/);
            expectOneProblem(withCertificate(right, { zoneName: "localhost" }), "orthweb:traffic.dns.zoneName");
        });

        it("reports the name mismatch together with the other problems", () => {
            const problems = problemsOf(withCertificate(wrong, { ttl: 0 }));
            expect(problems).to.have.length(2);
            expect(problems.some((p) => p.startsWith("orthweb:traffic.dns.ttl:"))).to.equal(true);
            expect(problems.some((p) => p.startsWith("orthweb:tlsCertificatePem:"))).to.equal(true);
        });

        it("installs your certificate on both instances, as a secret, and generates none", async () => {
            const built = await build(withCertificate(right));
            // (The peer link's own CA is the only self-signed certificate: it is not what clients see.)
            expect(built.ofType(TYPES.selfSignedCert).map((r) => r.name)).to.deep.equal(["orthanc-peer-ca"]);
            const secret = built.one(TYPES.secretVersion, "orthanc-tls");
            const stored = JSON.parse(String(secret.inputs.secretString.value ?? secret.inputs.secretString));
            expect(stored.certificatePem).to.equal(right.cert);
            expect(stored.privateKeyPem).to.equal(right.key);
            expect(built.ofType(TYPES.autoscalingGroup).map((g) => g.inputs.launchTemplate.id)).to.deep.equal(["orthanc-lt-id", "orthanc-lt-id"]);
            expect(built.outputs.certificateNotice).to.equal(undefined);
        });

        it("without one, self-signs for the front-door name and both instance names, and says clients will not trust it", async () => {
            const built = await build(dnsConfig());
            const cert = built.one(TYPES.selfSignedCert, "orthanc-tls");
            const instanceNames = [1, 2].map((i) => built.one(TYPES.eip, `orthanc-eip-${i}`).state.publicDns);
            expect(cert.inputs.dnsNames).to.deep.equal([FQDN, ...instanceNames]);
            expect(cert.inputs.subject.commonName).to.equal(FQDN);
            expect(built.outputs.certificateNotice).to.match(/self-signed certificate: browsers and modalities will not trust it/);
        });
    });
});

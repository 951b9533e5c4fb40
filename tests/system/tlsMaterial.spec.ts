import { expect } from "chai";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { validateStackConfig } from "../../stacks/config";
import { certificateCovers, inspectCertificatePair, nameMatches, splitPemChain } from "../../stacks/tlsMaterial";
import { withConfig } from "../harness";
import { makeSelfSignedCertificate, needTool } from "../localTools";

describe("bring-your-own certificate checks", function () {
    let dir: string;
    let good: { cert: string; key: string };
    let other: { cert: string; key: string };

    before(function () {
        needTool(this, "openssl");
        dir = fs.mkdtempSync(path.join(os.tmpdir(), "orthweb-tls-"));
        good = makeSelfSignedCertificate(dir, "pacs", "DNS:pacs.example.org,DNS:*.imaging.example.org,IP:203.0.113.10");
        other = makeSelfSignedCertificate(dir, "other", "DNS:other.example.org");
    });

    after(() => dir && fs.rmSync(dir, { recursive: true, force: true }));

    it("reads the SANs, the expiry and the chain length of a real certificate", () => {
        const { facts, problems } = inspectCertificatePair(good.cert, good.key);
        expect(problems).to.deep.equal([]);
        expect(facts!.dnsNames).to.deep.equal(["pacs.example.org", "*.imaging.example.org"]);
        expect(facts!.ipAddresses).to.deep.equal(["203.0.113.10"]);
        expect(facts!.chainLength).to.equal(1);
        expect(facts!.notAfter.getTime()).to.be.greaterThan(Date.now());
    });

    it("matches names exactly or through a one-label wildcard", () => {
        const { facts } = inspectCertificatePair(good.cert, good.key);
        expect(certificateCovers(facts!, "pacs.example.org")).to.equal(true);
        expect(certificateCovers(facts!, "PACS.example.org")).to.equal(true);
        expect(certificateCovers(facts!, "web.imaging.example.org")).to.equal(true);
        expect(certificateCovers(facts!, "a.b.imaging.example.org")).to.equal(false);
        expect(certificateCovers(facts!, "example.org")).to.equal(false);
        expect(nameMatches("*.example.org", "example.org")).to.equal(false);
    });

    it("rejects a key that belongs to another certificate", () => {
        const { problems } = inspectCertificatePair(good.cert, other.key);
        expect(problems).to.have.length(1);
        expect(problems[0]).to.deep.include({ key: "tlsPrivateKeyPem" });
        expect(problems[0].message).to.match(/does not belong/);
    });

    it("rejects an expired certificate, naming the date", () => {
        const later = new Date(Date.now() + 40 * 24 * 3600 * 1000);
        const { problems } = inspectCertificatePair(good.cert, good.key, later);
        expect(problems.map((p) => p.message).join()).to.match(/expired on \d{4}-\d\d-\d\d/);
    });

    it("rejects text that is not PEM, for the certificate and for the key", () => {
        const { problems } = inspectCertificatePair("hello", "world");
        expect(problems.map((p) => p.key)).to.deep.equal(["tlsCertificatePem", "tlsPrivateKeyPem"]);
    });

    it("splits a chain, leaf first", () => {
        expect(splitPemChain(good.cert + other.cert)).to.have.length(2);
        expect(splitPemChain("no pem here")).to.deep.equal([]);
    });

    it("runs these checks in config validation and passes a good pair through as TLS material", () => {
        const ok = validateStackConfig(withConfig({ "orthweb:tlsCertificatePem": good.cert, "orthweb:tlsPrivateKeyPem": good.key }));
        expect(ok.problems).to.deep.equal([]);
        expect(ok.config!.tls!.facts!.dnsNames).to.include("pacs.example.org");
        const bad = validateStackConfig(withConfig({ "orthweb:tlsCertificatePem": good.cert, "orthweb:tlsPrivateKeyPem": other.key }));
        expect(bad.problems).to.have.length(1);
        expect(bad.problems[0]).to.match(/^orthweb:tlsPrivateKeyPem: does not belong/);
    });

    it("skips content checks for encrypted values it cannot read offline", () => {
        const opaque = new Set(["orthweb:tlsCertificatePem", "orthweb:tlsPrivateKeyPem"]);
        const r = validateStackConfig(withConfig({ "orthweb:tlsCertificatePem": "(encrypted)", "orthweb:tlsPrivateKeyPem": "(encrypted)" }), { opaqueKeys: opaque });
        expect(r.problems).to.deep.equal([]);
        expect(r.config!.tls!.facts).to.equal(undefined);
    });
});

// The dicom-senders scenario's pure parts and its certificates: config overrides merged into the prod stack, the
// client certificates openssl issues from the program's plan (checked against the plan's own chain rules), and
// the program rendered with the scenario's overrides.
import { expect } from "chai";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { chainProblems } from "../../rules/certificates";
import { modalityCertificatePlan } from "../../rules/modalities";
import { fromProgram, withOverrides } from "../../twin/fromProgram";
import { modalityNames, requiresClientCertificates } from "../../twin/pair";
import { dicomSenders } from "../../twin/scenarios/dicomSenders";
import { extensionLines, issueModalityCertificates, strangerCertificate } from "../../twin/senders";
import { needTool } from "../localTools";

describe("local twin: dicom-senders", function () {
    this.timeout(60000);

    it("merges overrides map by map: lists and values replace, sibling keys stay", () => {
        const raw = { "aws:region": "eu-west-1", "orthweb:orthanc": { aet: "ORTHANC", modalities: [{ name: "a" }] }, "orthweb:traffic": { frontDoor: "loadBalancer", loadBalancer: { type: "network" } } };
        const merged = withOverrides(raw, { "orthweb:orthanc": { modalities: [{ name: "b" }] }, "orthweb:traffic": { loadBalancer: { dicomTls: "passthrough" } } });
        expect(merged).to.deep.equal({
            "aws:region": "eu-west-1",
            "orthweb:orthanc": { aet: "ORTHANC", modalities: [{ name: "b" }] },
            "orthweb:traffic": { frontDoor: "loadBalancer", loadBalancer: { type: "network", dicomTls: "passthrough" } },
        });
        expect(raw["orthweb:traffic"].loadBalancer).to.deep.equal({ type: "network" });
    });

    it("renders the prod stack with the scenario's overrides: TCP on 11112 to nginx, which asks for the modalities' certificates", async () => {
        const program = await fromProgram(dicomSenders.configOverrides);
        expect(program.targetGroups.find((t) => t.port === 11112)?.protocol).to.equal("TCP");
        expect(requiresClientCertificates(program.bootstrap.nginxConf)).to.equal(true);
        expect(modalityNames(program.bootstrap.orthancTemplate)).to.deep.equal(["ct-1", "mr-1"]);
        const plain = await fromProgram();
        expect(requiresClientCertificates(plain.bootstrap.nginxConf)).to.equal(false);
        expect(modalityNames(plain.bootstrap.orthancTemplate)).to.deep.equal([]);
    });

    it("maps the plan's key usages onto openssl's extensions", () => {
        const plan = modalityCertificatePlan(["ct-1"]);
        expect(extensionLines(plan.ca)).to.deep.equal(["basicConstraints=critical,CA:TRUE", "keyUsage=critical,keyCertSign,cRLSign"]);
        expect(extensionLines(plan.clients[0])).to.deep.equal(["basicConstraints=critical,CA:FALSE", "keyUsage=critical,digitalSignature,keyEncipherment", "extendedKeyUsage=clientAuth"]);
    });

    it("issues certificates that the plan's chain rules accept, and a stranger's that they do not", async function () {
        needTool(this, "openssl");
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "orthweb-senders-"));
        try {
            const issued = await issueModalityCertificates(path.join(dir, "m"), ["ct-1", "mr-1"]);
            const pem = (f: string) => fs.readFileSync(f, "utf8");
            const ca = pem(issued.ca.cert);
            expect(chainProblems(ca, { "ct-1": pem(issued.clients["ct-1"].cert), "mr-1": pem(issued.clients["mr-1"].cert) })).to.deep.equal([]);
            const stranger = await strangerCertificate(path.join(dir, "s"));
            expect(chainProblems(ca, { stranger: pem(stranger.cert) })).to.have.length(1);
        } finally {
            fs.rmSync(dir, { recursive: true, force: true });
        }
    });
});

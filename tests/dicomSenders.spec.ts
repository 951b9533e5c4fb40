// Who may send studies: the modalities list, the blocks admitted on 11112, client certificates (nginx's check,
// the CA in the TLS secret, one certificate each as a secret output), and prod's explicit client blocks.
import { expect } from "chai";
import { renderNginxConf } from "../components/bootstrap/nginx";
import { dicomAccessKeys } from "../components/bootstrap/orthanc";
import { renderUserData, USER_DATA_LIMIT_BYTES } from "../components/bootstrap";
import { MAX_MODALITIES } from "../stacks/schema";
import { SAMPLE } from "./fixtures";
import { admittedDicomCidrs, MAX_AE_TITLES_PER_MODALITY, MAX_MODALITY_NAME_LENGTH, modalityCertificatePlan } from "../rules/modalities";
import { configWarnings, parseStackConfig, validateStackConfig } from "../stacks/config";
import { bootstrapFilesOf, build, Built, TYPES, userDataOf, withConfig } from "./harness";

const CT = { aet: "CT_ROOM_1", name: "ct-1", cidr: "203.0.113.7/32" };
const MR = { aet: "MR-3T", name: "mr-3t" };
const senders = (orthanc: Record<string, unknown>, more: Record<string, unknown> = {}) => withConfig({ "orthweb:orthanc": orthanc, ...more });
const problemsOf = (raw: Record<string, unknown>) => validateStackConfig(raw).problems;

describe("DICOM senders", () => {
    describe("config: orthweb:orthanc.modalities and dicomClientCertificates", () => {
        it("accepts modalities with and without a block, and defaults to none and no client certificates", () => {
            const config = parseStackConfig(senders({ modalities: [CT, MR] }));
            expect(config.orthanc.modalities).to.deep.equal([CT, MR]);
            expect(config.orthanc.dicomClientCertificates).to.equal(false);
            expect(parseStackConfig(withConfig({})).orthanc.modalities).to.deep.equal([]);
        });

        it("reports every bad modality at once, naming the key, the value and what is allowed", () => {
            const problems = problemsOf(
                senders({
                    modalities: [
                        { name: "CT 1", aet: "THIS_AE_TITLE_IS_TOO_LONG" },
                        { name: "x".repeat(MAX_MODALITY_NAME_LENGTH + 1), aet: "BAD\\AET" },
                        { name: "ok", aet: "OK", cidr: "10.0.0.1/8" },
                        { name: "ok2", aet: "OK2", port: 104 },
                    ],
                }),
            );
            const expectProblem = (key: string, pattern: RegExp) => expect(problems.some((p) => p.startsWith(`${key}:`) && pattern.test(p)), `${key} ${pattern} in ${JSON.stringify(problems)}`).to.equal(true);
            expectProblem("orthweb:orthanc.modalities[0].name", /got "CT 1"; allowed: a name usable in a certificate CN/);
            expectProblem("orthweb:orthanc.modalities[0].aet", /allowed: a DICOM AE title: 1 to 16 characters/);
            expectProblem("orthweb:orthanc.modalities[1].name", new RegExp(`1 to ${MAX_MODALITY_NAME_LENGTH} of a-z`));
            expectProblem("orthweb:orthanc.modalities[1].aet", /got "BAD\\\\AET"/);
            expectProblem("orthweb:orthanc.modalities[2].cidr", /host bits are set \(did you mean 10\.0\.0\.0\/8\?\)/);
            expectProblem("orthweb:orthanc.modalities[3].port", /unknown key; allowed keys: name, aet, cidr/);
        });

        it(`takes at most ${MAX_MODALITIES} modalities; that many of the longest kind fit a manual boot's user data with 1 KB to spare`, () => {
            const longest = (i: number, titles = MAX_AE_TITLES_PER_MODALITY) => ({
                name: `${i}`.padStart(MAX_MODALITY_NAME_LENGTH, "m"),
                aet: Array.from({ length: titles }, (_, j) => `${i}-${j}`.padStart(16, "A")),
            });
            const list = Array.from({ length: MAX_MODALITIES }, (_, i) => longest(i));
            const userData = (modalities: typeof list, dicomClientCertificates: boolean) => renderUserData({ ...SAMPLE, orthanc: { ...SAMPLE.orthanc, modalities }, dicomClientCertificates }).length;
            // With or without client certificates (and the sender gate's script they bring), 1 KB to spare.
            expect(userData(list, false)).to.be.below(USER_DATA_LIMIT_BYTES - 1024);
            expect(userData(list, true)).to.be.below(USER_DATA_LIMIT_BYTES - 1024);
            const problems = problemsOf(senders({ modalities: [...list, longest(MAX_MODALITIES)] }));
            expect(problems).to.have.length(1);
            expect(problems[0]).to.match(new RegExp(`^orthweb:orthanc\\.modalities: got .*; allowed: at most ${MAX_MODALITIES} modalities`));
        });

        it("rejects a repeated name, and an AE title repeated in another case (Orthanc compares them case-insensitively)", () => {
            const problems = problemsOf(senders({ modalities: [CT, { ...MR, name: "ct-1" }, { name: "ct-2", aet: "ct_room_1" }] }));
            expect(problems).to.have.length(2);
            expect(problems[0]).to.match(/^orthweb:orthanc\.modalities\[1\]\.name: got "ct-1"; used by another modality/);
            expect(problems[1]).to.match(/^orthweb:orthanc\.modalities\[2\]\.aet: got "ct_room_1"; used by another modality \(AE titles compare case-insensitively\)/);
        });

        it("with client certificates, a load balancer must pass DICOM TLS through (the default terminates it)", () => {
            const lb = (loadBalancer: Record<string, unknown>) => ({ "orthweb:traffic": { frontDoor: "loadBalancer", loadBalancer } });
            const terminate = problemsOf(senders({ modalities: [CT], dicomClientCertificates: true }, lb({})));
            expect(terminate).to.have.length(1);
            expect(terminate[0]).to.match(/^orthweb:traffic\.loadBalancer\.dicomTls: got "terminate" \(the default\) with orthweb:orthanc\.dicomClientCertificates true; allowed: passthrough/);
            expect(problemsOf(senders({ modalities: [CT], dicomClientCertificates: true }, lb({ dicomTls: "terminate" })))[0]).to.match(/got "terminate" with/);
            expect(problemsOf(senders({ modalities: [CT], dicomClientCertificates: true }, lb({ dicomTls: "passthrough" })))).to.deep.equal([]);
            expect(problemsOf(senders({ modalities: [CT], dicomClientCertificates: false }, lb({})))).to.deep.equal([]);
        });

        it("client certificates without any modality would admit nobody: an error naming both keys", () => {
            const problems = problemsOf(senders({ dicomClientCertificates: true }));
            expect(problems).to.have.length(1);
            expect(problems[0]).to.match(/^orthweb:orthanc\.modalities: required \(at least one\) when orthweb:orthanc\.dicomClientCertificates is true/);
        });

        it("prod requires both client block lists explicitly; 0.0.0.0/0 written out is allowed; none needs neither", () => {
            const prod = (network: Record<string, unknown> | null, frontDoor = "direct") => withConfig({ "orthweb:environment": "prod", "orthweb:network": network, "orthweb:traffic": { frontDoor, ...(frontDoor === "none" ? { clientVpn: { clients: ["ws-1"] } } : {}) } });
            const missing = problemsOf(prod(null));
            expect(missing).to.have.length(2);
            expect(missing[0]).to.match(/^orthweb:network\.webClientCidrs: required in prod \(environment prod\)/);
            expect(missing[1]).to.match(/^orthweb:network\.dicomClientCidrs: required in prod/);
            expect(problemsOf(prod({ webClientCidrs: ["198.51.100.0/24"] }))).to.have.length(1);
            expect(problemsOf(prod({ webClientCidrs: ["0.0.0.0/0"], dicomClientCidrs: ["0.0.0.0/0"] }))).to.deep.equal([]);
            expect(problemsOf(prod(null, "none"))).to.deep.equal([]);
            expect(problemsOf(withConfig({ "orthweb:network": null }))).to.deep.equal([]);
        });

        it("counts the modalities' blocks against the security group's rule quota", () => {
            const many = Array.from({ length: MAX_MODALITIES }, (_, i) => ({ name: `m${i}`, aet: `M${i}`, cidr: `198.51.100.${i}/32` }));
            const blocks = Array.from({ length: 28 }, (_, i) => `10.${i}.0.0/16`);
            const problems = problemsOf(senders({ modalities: many }, { "orthweb:network": { webClientCidrs: ["10.0.0.0/8"], dicomClientCidrs: blocks } }));
            expect(problems).to.have.length(1);
            expect(problems[0]).to.match(/got 1 \+ 40 blocks \(with orthanc\.modalities. cidr blocks\); allowed: 40 in all/);
            expect(problemsOf(senders({ modalities: many }, { "orthweb:network": { webClientCidrs: ["10.0.0.0/8"], dicomClientCidrs: blocks.slice(1) } }))).to.deep.equal([]);
        });

        it("warns in dev about the easy defaults and in prod about an empty list", () => {
            const dev = configWarnings(parseStackConfig(withConfig({})));
            expect(dev).to.have.length(3);
            expect(dev[0]).to.match(/^orthweb:orthanc\.modalities: none listed \(dev\): Orthanc accepts C-STORE from any calling AE title/);
            expect(dev[1]).to.match(/^orthweb:network\.webClientCidrs: 0\.0\.0\.0\/0 admits the whole internet on HTTPS 443/);
            expect(dev[2]).to.match(/^orthweb:network\.dicomClientCidrs: 0\.0\.0\.0\/0 admits the whole internet on DICOM 11112/);
            const network = { "orthweb:network": { webClientCidrs: ["198.51.100.0/24"], dicomClientCidrs: ["198.51.100.0/24"] } };
            const prod = configWarnings(parseStackConfig(withConfig({ "orthweb:environment": "prod", ...network })));
            expect(prod).to.have.length(1);
            expect(prod[0]).to.match(/^orthweb:orthanc\.modalities: none listed \(prod\)/);
            expect(configWarnings(parseStackConfig(senders({ modalities: [CT], pullThroughCache: { enabled: false } }, { "orthweb:environment": "prod", ...network })))).to.deep.equal([]);
        });
    });

    describe("pure rules", () => {
        it("admits the configured blocks, then each modality's block that none of them covers", () => {
            expect(admittedDicomCidrs(["0.0.0.0/0"], [CT, MR])).to.deep.equal(["0.0.0.0/0"]);
            expect(admittedDicomCidrs(["198.51.100.0/24"], [CT, MR, { name: "x", aet: "X", cidr: "198.51.100.9/32" }, { name: "y", aet: "Y", cidr: "203.0.113.7/32" }])).to.deep.equal([
                "198.51.100.0/24",
                "203.0.113.7/32",
            ]);
            expect(admittedDicomCidrs([], [])).to.deep.equal([]);
        });

        it("renders Orthanc's DICOM keys: open without modalities, only the listed AE titles and the called AE title with them", () => {
            expect(dicomAccessKeys([])).to.deep.equal({ DicomCheckCalledAet: false, DicomAlwaysAllowEcho: true, DicomAlwaysAllowStore: true });
            const keys = dicomAccessKeys([CT]);
            expect(keys.DicomCheckCalledAet).to.equal(true);
            for (const k of ["Echo", "Store", "Find", "FindWorklist", "Get", "Move"]) expect(keys[`DicomAlwaysAllow${k}`], k).to.equal(false);
            expect(keys.DicomCheckModalityHost).to.equal(false);
            expect(keys.DicomModalities).to.deep.equal({
                "ct-1": { AET: "CT_ROOM_1", Host: "0.0.0.0", Port: 104, AllowGet: false, AllowMove: false },
            });
        });

        it("plans one client certificate per modality under a CA that outlives them", () => {
            const plan = modalityCertificatePlan(["ct-1", "mr-3t"]);
            expect(plan.clients.map((c) => [c.resourceSuffix, c.commonName])).to.deep.equal([
                ["client-ct-1", "ct-1.modalities.orthweb.internal"],
                ["client-mr-3t", "mr-3t.modalities.orthweb.internal"],
            ]);
            expect(plan.clients[0].allowedUses).to.include("client_auth");
            expect(plan.ca.isCa).to.equal(true);
            expect(plan.ca.earlyRenewalHours).to.be.at.least(plan.clients[0].validityHours);
            expect(`${"x".repeat(MAX_MODALITY_NAME_LENGTH)}.modalities.orthweb.internal`).to.have.length(64);
        });

        it("renders nginx's client-certificate check on 11112 only when asked, and only in the stream server", () => {
            const base = { orthancHost: "198.18.0.10", certificatePath: "/c", keyPath: "/k" };
            // (The peer-only listeners check the peer link's own certificates, whatever this setting.)
            const dicomServer = (conf: string) => conf.slice(conf.indexOf("listen 11112 ssl;"), conf.indexOf("}", conf.indexOf("listen 11112 ssl;")));
            expect(dicomServer(renderNginxConf(base))).to.not.include("ssl_verify_client");
            const conf = renderNginxConf({ ...base, dicomClientCaPath: "/etc/nginx/tls/ca.crt" });
            const stream = conf.slice(conf.indexOf("\nstream {"));
            expect(conf.indexOf("ssl_client_certificate /etc/nginx/tls/ca.crt;")).to.be.greaterThan(conf.indexOf("\nstream {"));
            expect(dicomServer(conf)).to.include("ssl_verify_client on;");
            expect(stream).to.include("ssl_client_certificate /etc/nginx/tls/ca.crt;\n        ssl_verify_client on;");
        });
    });

    describe("the program under mocks", function () {
        this.timeout(30000);
        let withCerts: Built;
        let plain: Built;
        before(async () => {
            withCerts = await build(senders({ modalities: [CT, MR], dicomClientCertificates: true }, { "orthweb:network": { webClientCidrs: ["198.51.100.0/24"], dicomClientCidrs: ["198.51.100.0/24"] } }));
            plain = await build(withConfig({}));
        });

        it("admits each modality's block on 11112 beside the configured ones", () => {
            const dicomRules = withCerts.ofType(TYPES.ingressRule).filter((r) => r.inputs.fromPort === 11112);
            expect(dicomRules.map((r) => r.inputs.cidrIpv4)).to.deep.equal(["198.51.100.0/24", "203.0.113.7/32"]);
        });

        it("exports one certificate, key and CA per modality as a secret, and no such output without client certificates", () => {
            expect(withCerts.secretOutputs.has("modalityCertificates")).to.equal(true);
            const bundles = withCerts.outputs.modalityCertificates as Record<string, { certificate: string; key: string; ca: string }>;
            expect(Object.keys(bundles)).to.deep.equal(["ct-1", "mr-3t"]);
            for (const b of Object.values(bundles)) expect(b).to.have.all.keys("certificate", "key", "ca");
            const names = withCerts.registrations.filter((r) => r.name.startsWith("modalities-")).map((r) => `${r.type.split(":").pop()} ${r.name}`);
            expect(names).to.include.members(["SelfSignedCert modalities-ca", "LocallySignedCert modalities-client-ct-1", "LocallySignedCert modalities-client-mr-3t"]);
            expect(plain.outputs.modalityCertificates).to.equal(undefined);
        });

        it("puts the modalities' CA into the TLS secret and the check into nginx.conf; Orthanc knows the AE titles", () => {
            const tlsVersion = withCerts.ofType(TYPES.secretVersion).find((r) => r.name === "orthanc-tls");
            expect(JSON.parse(String(tlsVersion?.inputs.secretString.value))).to.have.all.keys("certificatePem", "privateKeyPem", "dicomClientCaPem", "peerCertificatePem", "peerPrivateKeyPem", "peerCaPem");
            const userData = userDataOf(withCerts);
            const files = bootstrapFilesOf(withCerts);
            const nginx = files.find((f) => f.path.endsWith("/nginx.conf"))!.content;
            expect(nginx).to.include("ssl_client_certificate /etc/nginx/tls/dicom-clients-ca.crt;");
            const orthanc = JSON.parse(files.find((f) => f.path.endsWith("/orthanc.template.json"))!.content);
            expect(Object.values(orthanc.DicomModalities).map((m) => (m as { AET: string }).AET)).to.deep.equal(["CT_ROOM_1", "MR-3T"]);
            expect(userData).to.not.match(/PRIVATE KEY/);
            const plainVersion = plain.ofType(TYPES.secretVersion).find((r) => r.name === "orthanc-tls");
            expect(JSON.parse(String(plainVersion?.inputs.secretString.value))).to.have.all.keys("certificatePem", "privateKeyPem", "peerCertificatePem", "peerPrivateKeyPem", "peerCaPem");
            // (The peer-only listeners check the peer link's certificates; 11112 checks none without modality certificates.)
            expect(userDataOf(plain)).to.not.include("ssl_client_certificate /etc/nginx/tls/dicom-clients-ca.crt");
        });
    });

});

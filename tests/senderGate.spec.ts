// nginx's DICOM sender gate (components/bootstrap/dicomSenderGate.ts): a modality's client certificate works only
// with that modality's calling AE titles. Rendering, the script's decisions (run here under node), and the real thing:
// Debian's nginx with its stream and njs modules, dcmtk's storescu/echoscu with the modalities' certificates, and
// storescp standing in for Orthanc.
import { expect } from "chai";
import { parse } from "yaml";
import { renderBootstrapFiles } from "../components/bootstrap";
import { RESTART_ON_CHANGE } from "../components/bootstrap/apply";
import { MAX_ASSOCIATE_RQ_BYTES, MAX_PREREAD_READS, NJS_STREAM_MODULE, PREREAD_TIMEOUT_SECONDS, renderDicomSenderGate, senderTitles } from "../components/bootstrap/dicomSenderGate";
import { DICOM_SENDER_GATE_FILE, NGINX_DICOM_SENDER_GATE } from "../rules/instanceFiles";
import { renderNginxConf } from "../components/bootstrap/nginx";
import { dicomAccessKeys } from "../components/bootstrap/orthanc";
import { MAX_AE_TITLES_PER_MODALITY } from "../rules/modalities";
import { parseStackConfig, validateStackConfig } from "../stacks/config";
import { SAMPLE } from "./fixtures";
import { withConfig } from "./harness";
import { associateRqHeader } from "./senderGateLab";

const CT = { name: "ct-1", aet: "CT_ROOM_1" };
const MR = { name: "mr-1", aet: ["MR_ROOM_1", "MR_3T"] };
const CT_DN = "CN=ct-1.modalities.orthweb.internal,O=Orthweb";

/** 0: wait for more bytes; else the decision (admit absent: refused before any certificate check). */
type Verdict = 0 | { admit?: boolean; why: string };
interface Gate {
    judge(data: Uint8Array, dn: string, reads: number): Verdict;
    preread(s: FakeSession): void;
}

/** The rendered script, run under node: its `export default` becomes the function's result. */
function loadGate(script: string): Gate {
    const body = script.replace(/^export default (\{.*\});\s*$/m, "return $1;");
    expect(body).to.not.equal(script);
    return new Function(body)() as Gate;
}

/** What njs gives a js_preread handler: `upstream` callbacks with everything read so far, and the verdict calls. */
class FakeSession {
    readonly calls: string[] = [];
    readonly variables = { ssl_client_s_dn: CT_DN };
    readonly remoteAddress = "192.0.2.7";
    handler: ((data: Uint8Array) => void) | undefined;
    on(event: string, cb: (data: Uint8Array) => void): void {
        expect(event).to.equal("upstream");
        this.handler = cb;
    }
    off(event: string): void {
        this.calls.push(`off ${event}`);
        this.handler = undefined;
    }
    done(): void {
        this.calls.push("done");
    }
    deny(): void {
        this.calls.push("deny");
    }
    warn(text: string): void {
        this.calls.push(`warn ${text}`);
    }
}

const gate = loadGate(renderDicomSenderGate([CT, MR]));
const judge = (bytes: Buffer, dn = CT_DN, reads = 1) => gate.judge(bytes, dn, reads);
const admitted = (v: Verdict) => v !== 0 && v.admit === true;
const refused = (v: Verdict) => v !== 0 && !v.admit;

describe("DICOM sender gate", () => {
    describe("config: a modality may call with several AE titles", () => {
        it("accepts one title or a list of them, and keeps a single title as written", () => {
            const config = parseStackConfig(withConfig({ "orthweb:orthanc": { modalities: [CT, MR] } }));
            expect(config.orthanc.modalities).to.deep.equal([CT, MR]);
        });

        it("reports an empty or too long list and a bad title in a list, naming the entry", () => {
            const problems = validateStackConfig(
                withConfig({
                    "orthweb:orthanc": {
                        modalities: [
                            { name: "a", aet: [] },
                            { name: "b", aet: Array.from({ length: MAX_AE_TITLES_PER_MODALITY + 1 }, (_, i) => `B${i}`) },
                            { name: "c", aet: ["C_OK", "BAD\\AET"] },
                        ],
                    },
                }),
            ).problems;
            expect(problems).to.have.length(3);
            expect(problems[0]).to.match(/^orthweb:orthanc\.modalities\[0\]\.aet: got \[\]; allowed: a DICOM AE title: .*, or a list of 1 to 4 of them/);
            expect(problems[1]).to.match(/^orthweb:orthanc\.modalities\[1\]\.aet: got \["B0",.*; allowed: .*or a list of 1 to 4 of them/);
            expect(problems[2]).to.match(/^orthweb:orthanc\.modalities\[2\]\.aet\[1\]: got "BAD\\\\AET"; allowed: a DICOM AE title/);
        });

        it("reports a title repeated within a modality or across modalities, in any case (one title, one certificate)", () => {
            const problems = validateStackConfig(
                withConfig({ "orthweb:orthanc": { modalities: [{ name: "c", aet: ["C_OK", "C2"] }, { name: "d", aet: ["D1", "d1"] }, { name: "e", aet: ["E1", "c_ok"] }, { name: "f", aet: "c2" }] } }),
            ).problems;
            expect(problems).to.deep.equal([
                'orthweb:orthanc.modalities[1].aet[1]: got "d1"; listed twice for this modality (AE titles compare case-insensitively); allowed: unique AE titles',
                'orthweb:orthanc.modalities[2].aet[1]: got "c_ok"; used by another modality (AE titles compare case-insensitively); allowed: unique AE titles',
                'orthweb:orthanc.modalities[3].aet: got "c2"; used by another modality (AE titles compare case-insensitively); allowed: unique AE titles',
            ]);
        });

        it("gives Orthanc one entry per title (its modalities hold one AE title each), the first under the modality's name", () => {
            const keys = dicomAccessKeys([CT, MR]).DicomModalities as Record<string, { AET: string }>;
            expect(Object.fromEntries(Object.entries(keys).map(([k, v]) => [k, v.AET]))).to.deep.equal({ "ct-1": "CT_ROOM_1", "mr-1": "MR_ROOM_1", "mr-1_2": "MR_3T" });
            // Orthanc refuses to start otherwise: "Only alphanumeric, dash characters and underscores are allowed in the
            // names of modalities/peers" (seen with a first rendering that used `mr-1.2`).
            for (const key of Object.keys(keys)) expect(key).to.match(/^[A-Za-z0-9_-]+$/);
        });
    });

    describe("rendering", () => {
        it("maps each modality's certificate CN (from the certificate plan) to its titles, upper-cased", () => {
            expect(senderTitles([CT, { name: "us-2", aet: ["us_a", "Us_B"] }])).to.deep.equal({
                "ct-1.modalities.orthweb.internal": ["CT_ROOM_1"],
                "us-2.modalities.orthweb.internal": ["US_A", "US_B"],
            });
            const script = renderDicomSenderGate([CT, MR]);
            expect(script).to.include('\n"mr-1.modalities.orthweb.internal": ["MR_ROOM_1","MR_3T"],\n');
            expect(script).to.include(`n > ${MAX_ASSOCIATE_RQ_BYTES - 6}`);
        });

        it("loads njs and runs the gate on 11112 only, before proxying, with a bounded preread; never without client certificates", () => {
            const base = { orthancHost: "198.18.0.10", certificatePath: "/c", keyPath: "/k", dicomClientCaPath: "/ca" };
            const conf = renderNginxConf({ ...base, dicomSenderGatePath: "/etc/nginx/njs/g.js" });
            expect(conf.split("\n")[1]).to.equal(`load_module ${NJS_STREAM_MODULE};`);
            const stream = conf.slice(conf.indexOf("\nstream {"));
            expect(stream).to.include("    js_import dicom_senders from /etc/nginx/njs/g.js;");
            const dicomServer = stream.slice(stream.indexOf("listen 11112 ssl;"), stream.indexOf("proxy_pass orthanc_dicom;"));
            expect(dicomServer).to.include(`ssl_verify_client on;`);
            expect(dicomServer).to.include(`js_preread dicom_senders.preread;\n        preread_buffer_size ${MAX_ASSOCIATE_RQ_BYTES};\n        preread_timeout ${PREREAD_TIMEOUT_SECONDS}s;`);
            expect(conf.match(/js_preread/g)).to.have.length(1);
            expect(renderNginxConf(base)).to.not.match(/js_|load_module|preread/);
            expect(() => renderNginxConf({ ...base, dicomClientCaPath: undefined, dicomSenderGatePath: "/g.js" })).to.throw(/needs dicomClientCaPath/);
        });

        it("with client certificates the instance gets the script, nginx mounts and imports it, and a change restarts nginx", () => {
            const params = { ...SAMPLE, orthanc: { ...SAMPLE.orthanc, modalities: [CT, MR] } };
            const withGate = renderBootstrapFiles({ ...params, dicomClientCertificates: true });
            const file = (files: typeof withGate, suffix: string) => files.find((f) => f.path.endsWith(suffix));
            expect(file(withGate, `/${DICOM_SENDER_GATE_FILE}`)?.content).to.equal(renderDicomSenderGate([CT, MR]));
            expect(file(withGate, "/nginx.conf")?.content).to.include(`js_import dicom_senders from ${NGINX_DICOM_SENDER_GATE};`);
            const compose = parse(file(withGate, "/docker-compose.yml")!.content);
            expect(compose.services.nginx.volumes).to.include(`/opt/orthweb/${DICOM_SENDER_GATE_FILE}:${NGINX_DICOM_SENDER_GATE}:ro`);
            expect(RESTART_ON_CHANGE[DICOM_SENDER_GATE_FILE]).to.equal("nginx");
            const without = renderBootstrapFiles({ ...params, dicomClientCertificates: false });
            expect(file(without, `/${DICOM_SENDER_GATE_FILE}`)).to.equal(undefined);
            expect(file(without, "/docker-compose.yml")!.content).to.not.include(DICOM_SENDER_GATE_FILE);
        });
    });

    describe("the script's decisions (run under node)", () => {
        it("waits for the whole A-ASSOCIATE-RQ, however it is split, then admits the certificate's own titles", () => {
            const rq = associateRqHeader("CT_ROOM_1");
            for (const cut of [0, 1, 5, 6, 26, 41, rq.length - 1]) expect(judge(rq.subarray(0, cut))).to.equal(0);
            expect(admitted(judge(rq))).to.equal(true);
            expect(admitted(judge(associateRqHeader(" ct_room_1")))).to.equal(true);
            expect(admitted(gate.judge(associateRqHeader("MR_3T"), "O=Orthweb,CN=mr-1.modalities.orthweb.internal", 1))).to.equal(true);
        });

        it("refuses another modality's title, an unlisted one, and a certificate that is no listed modality's", () => {
            expect(judge(associateRqHeader("MR_ROOM_1"))).to.deep.equal({ admit: false, why: `calling AE title MR_ROOM_1 with ${CT_DN} (its titles: CT_ROOM_1)` });
            expect(admitted(judge(associateRqHeader("CT_ROOM_10")))).to.equal(false);
            for (const dn of ["CN=ca.modalities.orthweb.internal,O=Orthweb", "CN=ct-1.modalities.orthweb.internal,CN=x,O=Orthweb", "CN=ct-1.modalities.orthweb.internal\\,x", "", "O=Orthweb"]) {
                expect(admitted(judge(associateRqHeader("CT_ROOM_1"), dn)), dn).to.equal(false);
            }
            expect(admitted(judge(associateRqHeader("CT_ROOM_1"), "CN=__proto__"))).to.equal(false);
        });

        it("refuses at once what is not an A-ASSOCIATE-RQ, one shorter than its fixed fields and one larger than the buffer", () => {
            expect(judge(Buffer.from([0x05, 0, 0, 0, 0, 4]))).to.deep.equal({ why: "PDU type 5, not an A-ASSOCIATE-RQ" });
            expect(refused(judge(Buffer.from([0x05])))).to.equal(true);
            expect(judge(associateRqHeader("CT_ROOM_1", 67).subarray(0, 6))).to.deep.equal({ why: "an A-ASSOCIATE-RQ of 67 bytes" });
            expect(refused(judge(associateRqHeader("CT_ROOM_1", MAX_ASSOCIATE_RQ_BYTES - 5).subarray(0, 6)))).to.equal(true);
            expect(judge(associateRqHeader("CT_ROOM_1", MAX_ASSOCIATE_RQ_BYTES - 6).subarray(0, 6))).to.equal(0);
            expect(judge(associateRqHeader("CT_ROOM_1", 0xffffffff).subarray(0, 6))).to.deep.equal({ why: "an A-ASSOCIATE-RQ of 4294967295 bytes" });
        });

        it(`refuses a request still incomplete after ${MAX_PREREAD_READS} reads (what a trickling sender makes nginx copy is bounded)`, () => {
            const rq = associateRqHeader("CT_ROOM_1", 200);
            expect(judge(rq.subarray(0, 100), CT_DN, MAX_PREREAD_READS - 1)).to.equal(0);
            expect(judge(rq.subarray(0, 100), CT_DN, MAX_PREREAD_READS)).to.deep.equal({ why: `no whole A-ASSOCIATE-RQ in ${MAX_PREREAD_READS} reads` });
            expect(refused(judge(rq.subarray(0, 3), CT_DN, MAX_PREREAD_READS))).to.equal(true);
        });

        it("stops reading once decided: the handler is removed before done() or deny(), and a refusal is logged", () => {
            const feed = (title: string) => {
                const s = new FakeSession();
                gate.preread(s);
                const rq = associateRqHeader(title);
                for (const cut of [10, 40, rq.length]) s.handler?.(rq.subarray(0, cut));
                return s.calls;
            };
            expect(feed("CT_ROOM_1")).to.deep.equal(["off upstream", "done"]);
            expect(feed("MR_ROOM_1")).to.deep.equal([
                "off upstream",
                `warn orthweb sender gate: refused 192.0.2.7: calling AE title MR_ROOM_1 with ${CT_DN} (its titles: CT_ROOM_1)`,
                "deny",
            ]);
        });
    });

});

// dicom-senders: who may put studies in. The pair runs the program rendered WITH modalities and client certificates
// (DICOM TLS passed through to nginx): a modality with its generated certificate stores, under each of its AE titles;
// no certificate, or one from another CA, fails the TLS handshake; nginx's sender gate refuses a certificate under
// another modality's AE title or an unlisted one, and a truncated or oversized A-ASSOCIATE-RQ, before Orthanc sees
// them; Orthanc rejects a wrong called AE title. Then nginx switches to the program's rendering with modalities but
// without client certificates: the AE-title checks hold again with anonymous TLS, and a bulk store through the gate
// (phase 1) ran as fast as without it. Summary line: `twin dicom-senders: <K> of <N> checks hold`.
import * as fs from "fs";
import * as path from "path";
import { now, rawTlsExchange, waitFor } from "../clients";
import { run } from "../lab";
import { associateRqHead, newUid, secondaryCapture } from "../dicom";
import { fromProgram } from "../fromProgram";
import { lineChanges } from "../debian";
import { IssuedFiles, strangerCertificate } from "../senders";
import { requiresClientCertificates, say, TwinFailure, TwinPair } from "../pair";
import { Measured, Scenario, ScenarioContext } from "../scenario";

const CT = { name: "ct-1", aet: "TWIN_CT" };
/** Two titles: its certificate works with either. */
const MR = { name: "mr-1", aet: ["TWIN_MR", "TWIN_MR_2"] };
const MODALITIES = [CT, MR];
/** The instances one bulk association stores, and their size (side x side bytes of pixels each). */
const BULK_INSTANCES = 40;
const BULK_SIDE = 256;
/** Through the gate, a bulk store keeps at least this share of the throughput without it (noise on a shared machine). */
const FULL_SPEED_SHARE = 0.6;
/** nginx's preread timeout (the rendered default) plus what a loaded machine may add. */
const TRUNCATED_CLOSE_MS = 20000;
const UNLISTED_AET = "STRANGER";
const WRONG_CALLED_AET = "NOT_THE_PACS";

const modalitiesOnly = { "orthweb:orthanc": { modalities: MODALITIES }, "orthweb:traffic": { loadBalancer: { dicomTls: "passthrough" } } };
const withClientCertificates = withCertificates(modalitiesOnly);

function withCertificates(base: typeof modalitiesOnly) {
    return { ...base, "orthweb:orthanc": { ...base["orthweb:orthanc"], dicomClientCertificates: true } };
}

interface Send {
    readonly callingAet: string;
    /** More than one: all in one association (storescu sends every file it is given over one). */
    readonly instances?: number;
    readonly calledAet: string;
    /** A client certificate; none: anonymous TLS (+tla). */
    readonly identity?: IssuedFiles;
}

interface Outcome {
    readonly stored: boolean;
    readonly output: string;
}

interface Check {
    readonly what: string;
    readonly holds: boolean;
    readonly detail: string;
}

async function run_(pair: TwinPair, ctx: ScenarioContext): Promise<Measured> {
    const checks: Check[] = [];
    const check = (what: string, holds: boolean, detail: string) => {
        checks.push({ what, holds, detail });
        say(`${holds ? "holds" : "FAILS"}: ${what}${detail ? ` (${detail})` : ""}`);
    };
    const certificates = pair.modalityCertificates;
    if (!certificates) throw new TwinFailure("the program rendered with dicomClientCertificates true asks nginx for no client certificate");
    const port = pair.dicomTargetGroup.port;
    let n = 0;

    /** C-STOREs through the front door, in one association; stored means Orthanc's shared index has them all afterwards. */
    const send = async (s: Send): Promise<Outcome & { seconds: number; bytes: number }> => {
        const uids: string[] = [];
        const files: string[] = [];
        const studyUid = newUid();
        const seriesUid = newUid();
        for (let i = 0; i < (s.instances ?? 1); i++) {
            n += 1;
            uids.push(newUid());
            files.push(path.join(ctx.dir, `probe-${n}.dcm`));
            const side = s.instances ? BULK_SIDE : undefined;
            fs.writeFileSync(files[i], secondaryCapture({ patientId: "TWIN-SENDERS", studyUid, seriesUid, sopInstanceUid: uids[i], instanceNumber: n }, undefined, side));
        }
        const bytes = files.reduce((sum, f) => sum + fs.statSync(f).size, 0);
        const tls = s.identity ? ["+tls", s.identity.key, s.identity.cert] : ["+tla"];
        const t0 = now();
        const r = await run("storescu", [...tls, "+cf", pair.files.cert, "-to", "5", "-ta", "5", "-td", "10", "-v", "-aet", s.callingAet, "-aec", s.calledAet, pair.plan.frontDoor, String(port), ...files], { timeoutMs: 120000 });
        const seconds = (now() - t0) / 1000;
        const output = `${r.stdout}${r.stderr}`;
        const indexed = await pair.indexedSopUids(0);
        return { stored: uids.every((u) => indexed.has(u)), output, seconds, bytes };
    };
    /** The gate's refusals in both instances' nginx logs that mention `text`. */
    const gateRefusals = (text: string) =>
        pair.plan.instances
            .map((i) => path.join(pair.files.logs, `nginx-${i.name}.log`))
            .filter((f) => fs.existsSync(f))
            .flatMap((f) => fs.readFileSync(f, "utf8").split("\n"))
            .filter((l) => l.includes("orthweb sender gate: refused") && l.includes(text)).length;
    const throughput = (o: { seconds: number; bytes: number }) => o.bytes / 1e6 / o.seconds;
    const lastError = (o: Outcome) => o.output.split("\n").filter((l) => /^[EF]:/.test(l)).slice(0, 2).join(" / ").trim();
    const rejected = (o: Outcome, reason: RegExp) => !o.stored && /Association Rejected/.test(o.output) && reason.test(o.output);
    // nginx ends the TLS handshake before any DICOM is spoken: the association request itself fails (nginx aborts),
    // unlike an Orthanc rejection, which answers with A-ASSOCIATE-RJ. The same command with the certificate stores.
    const handshakeFailed = (o: Outcome) => !o.stored && /Association Request Failed/.test(o.output) && !/Association (Accepted|Rejected)/.test(o.output);
    const [ct, mr] = [CT, MR];
    const [mrTitle, mrSecondTitle] = mr.aet;
    const ctIdentity = certificates.clients[ct.name];
    const mrIdentity = certificates.clients[mr.name];
    const target = { host: pair.plan.frontDoor, port, caPath: pair.files.cert };

    say(`phase 1: client certificates required on ${pair.plan.frontDoor}:${port} (TLS passed through to nginx), modalities ${MODALITIES.map((m) => `${m.name}=${m.aet}`).join(", ")}`);
    let o = await send({ callingAet: ct.aet, calledAet: pair.aet, identity: ctIdentity });
    check(`${ct.name} (${ct.aet}) with its generated certificate stores`, o.stored, o.stored ? "" : lastError(o));
    o = await send({ callingAet: mrTitle, calledAet: pair.aet, identity: mrIdentity });
    check(`${mr.name} (${mrTitle}) with its generated certificate stores`, o.stored, o.stored ? "" : lastError(o));
    o = await send({ callingAet: mrSecondTitle, calledAet: pair.aet, identity: mrIdentity });
    check(`${mr.name} with its second AE title (${mrSecondTitle}) stores too`, o.stored, o.stored ? "" : lastError(o));
    o = await send({ callingAet: mrTitle, calledAet: pair.aet, identity: ctIdentity });
    check(
        `${ct.name}'s certificate with ${mr.name}'s AE title (${mrTitle}) is refused by nginx's sender gate, before Orthanc`,
        handshakeFailed(o) && gateRefusals(`calling AE title ${mrTitle} with`) === 1,
        `${lastError(o)}; gate refusals logged: ${gateRefusals(`calling AE title ${mrTitle} with`)}`,
    );
    o = await send({ callingAet: ct.aet, calledAet: pair.aet });
    check("a sender without a client certificate fails the TLS handshake", handshakeFailed(o), lastError(o));
    const stranger = await strangerCertificate(path.join(ctx.dir, "stranger"));
    o = await send({ callingAet: ct.aet, calledAet: pair.aet, identity: stranger });
    check("a certificate from another CA fails the TLS handshake", handshakeFailed(o), lastError(o));
    o = await send({ callingAet: UNLISTED_AET, calledAet: pair.aet, identity: ctIdentity });
    check(`an unlisted calling AE title (${UNLISTED_AET}) is refused by the gate, even with a valid certificate`, handshakeFailed(o) && gateRefusals(`calling AE title ${UNLISTED_AET} with`) === 1, lastError(o));
    o = await send({ callingAet: ct.aet, calledAet: WRONG_CALLED_AET, identity: ctIdentity });
    check(`a wrong called AE title (${WRONG_CALLED_AET}) is rejected by Orthanc`, rejected(o, /Called AE Title Not Recognized/i), lastError(o));

    // Raw A-ASSOCIATE-RQs with ct-1's valid certificate: 30 of 206 bytes then silence, and one declaring 4 GB.
    const whole = associateRqHead(pair.aet, ct.aet, 200);
    const truncated = await rawTlsExchange(target, ctIdentity, [whole.subarray(0, 30)], TRUNCATED_CLOSE_MS + 5000);
    check(
        "a truncated A-ASSOCIATE-RQ is dropped by nginx within its preread timeout, unanswered",
        truncated.closedByServer && truncated.received === 0 && truncated.elapsedMs <= TRUNCATED_CLOSE_MS,
        `closed by the server: ${truncated.closedByServer}, ${truncated.received} bytes back, after ${(truncated.elapsedMs / 1000).toFixed(1)} s`,
    );
    const oversized = await rawTlsExchange(target, ctIdentity, [associateRqHead(pair.aet, ct.aet, 0xfffffff0)], 10000);
    check(
        "an oversized A-ASSOCIATE-RQ (declaring 4 GB) is refused at once, unanswered",
        oversized.closedByServer && oversized.received === 0 && oversized.elapsedMs < 2000 && gateRefusals("an A-ASSOCIATE-RQ of 4294967280 bytes") === 1,
        `closed by the server: ${oversized.closedByServer}, ${oversized.received} bytes back, after ${oversized.elapsedMs} ms`,
    );
    o = await send({ callingAet: ct.aet, calledAet: pair.aet, identity: ctIdentity });
    check("nginx keeps serving after them: the next valid association stores", o.stored, o.stored ? "" : lastError(o));
    const gated = await send({ callingAet: ct.aet, calledAet: pair.aet, identity: ctIdentity, instances: BULK_INSTANCES });
    say(`bulk through the gate: ${BULK_INSTANCES} instances, ${(gated.bytes / 1e6).toFixed(1)} MB in one association in ${gated.seconds.toFixed(2)} s (${throughput(gated).toFixed(1)} MB/s)`);

    const plain = await fromProgram(modalitiesOnly);
    const sameOrthanc = JSON.stringify(plain.bootstrap.orthancTemplate) === JSON.stringify(pair.program.bootstrap.orthancTemplate);
    check("orthanc.json is the same with and without client certificates (the AE-title rules do not depend on TLS)", sameOrthanc, "");
    const changed = lineChanges(plain.bootstrap.nginxConf, pair.program.bootstrap.nginxConf);
    const certificateLines = /^(ssl_(client_certificate|verify_client|verify_depth) |load_module \S+ngx_stream_js_module\.so;|js_import dicom_senders |js_preread dicom_senders\.preread;|preread_(buffer_size|timeout) )/;
    const onlyCertificates = changed.length === 8 && changed.every((c) => c.added !== undefined && certificateLines.test(c.added));
    check(
        "nginx.conf differs only by the client-certificate lines and the sender gate's",
        onlyCertificates && !requiresClientCertificates(plain.bootstrap.nginxConf) && plain.bootstrap.dicomSenderGate === undefined,
        changed.map((c) => c.added ?? `-${c.removed}`).join("; "),
    );

    say("phase 2: nginx reloaded with the program's rendering without client certificates (anonymous TLS)");
    pair.useNginxFrom(plain.bootstrap);
    const reloaded = await waitFor(async () => (await send({ callingAet: ct.aet, calledAet: pair.aet })).stored, 15000, 500);
    check(`${ct.name} (${ct.aet}) stores without a certificate once nginx no longer asks for one`, reloaded, "");
    o = await send({ callingAet: UNLISTED_AET, calledAet: pair.aet });
    check(`an unlisted calling AE title (${UNLISTED_AET}) is rejected`, rejected(o, /Calling AE Title Not Recognized/i), lastError(o));
    o = await send({ callingAet: ct.aet, calledAet: WRONG_CALLED_AET });
    check(`a wrong called AE title (${WRONG_CALLED_AET}) is rejected`, rejected(o, /Called AE Title Not Recognized/i), lastError(o));
    const ungated = await send({ callingAet: ct.aet, calledAet: pair.aet, instances: BULK_INSTANCES });
    check(
        "a valid association stores at full speed through the gate",
        gated.stored && ungated.stored && throughput(gated) >= FULL_SPEED_SHARE * throughput(ungated),
        `${throughput(gated).toFixed(1)} MB/s through the gate, ${throughput(ungated).toFixed(1)} MB/s without it (${BULK_INSTANCES} instances in one association, each way)`,
    );

    const held = checks.filter((c) => c.holds).length;
    return {
        summary: [`twin dicom-senders: ${held} of ${checks.length} checks hold`],
        reasons: checks.filter((c) => !c.holds).map((c) => `${c.what}${c.detail ? `: ${c.detail}` : ""}`),
    };
}

export const dicomSenders: Scenario = {
    name: "dicom-senders",
    description: "only listed modalities store: client certificates and their AE titles checked by nginx, AE titles by Orthanc",
    deadlineSeconds: 300,
    configOverrides: withClientCertificates,
    run: run_,
};

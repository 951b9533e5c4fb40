// dicom-senders: who may put studies in. The pair runs the program rendered WITH modalities and client certificates
// (DICOM TLS passed through to nginx): a modality with its generated certificate stores; no certificate, or one
// from another CA, fails the TLS handshake; an unlisted calling AE title and a wrong called AE title are rejected.
// Then nginx switches to the program's rendering with modalities but without client certificates: the AE-title
// checks hold again with anonymous TLS. Summary line: `twin dicom-senders: <K> of <N> checks hold`.
import * as fs from "fs";
import * as path from "path";
import { waitFor } from "../clients";
import { run } from "../lab";
import { newUid, secondaryCapture } from "../dicom";
import { fromProgram } from "../fromProgram";
import { lineChanges } from "../debian";
import { IssuedFiles, strangerCertificate } from "../senders";
import { requiresClientCertificates, say, TwinFailure, TwinPair } from "../pair";
import { Measured, Scenario, ScenarioContext } from "../scenario";

const MODALITIES = [
    { name: "ct-1", aet: "TWIN_CT" },
    { name: "mr-1", aet: "TWIN_MR" },
];
const UNLISTED_AET = "STRANGER";
const WRONG_CALLED_AET = "NOT_THE_PACS";

const modalitiesOnly = { "orthweb:orthanc": { modalities: MODALITIES }, "orthweb:traffic": { loadBalancer: { dicomTls: "passthrough" } } };
const withClientCertificates = withCertificates(modalitiesOnly);

function withCertificates(base: typeof modalitiesOnly) {
    return { ...base, "orthweb:orthanc": { ...base["orthweb:orthanc"], dicomClientCertificates: true } };
}

interface Send {
    readonly callingAet: string;
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

    /** One C-STORE through the front door; stored means Orthanc's shared index has the instance afterwards. */
    const send = async (s: Send): Promise<Outcome> => {
        n += 1;
        const uid = newUid();
        const file = path.join(ctx.dir, `probe-${n}.dcm`);
        fs.writeFileSync(file, secondaryCapture({ patientId: "TWIN-SENDERS", studyUid: newUid(), seriesUid: newUid(), sopInstanceUid: uid, instanceNumber: n }));
        const tls = s.identity ? ["+tls", s.identity.key, s.identity.cert] : ["+tla"];
        const r = await run("storescu", [...tls, "+cf", pair.files.cert, "-to", "5", "-ta", "5", "-td", "10", "-v", "-aet", s.callingAet, "-aec", s.calledAet, pair.plan.frontDoor, String(port), file], { timeoutMs: 25000 });
        const output = `${r.stdout}${r.stderr}`;
        const stored = (await pair.indexedSopUids(0)).has(uid);
        return { stored, output };
    };
    const lastError = (o: Outcome) => o.output.split("\n").filter((l) => /^[EF]:/.test(l)).slice(0, 2).join(" / ").trim();
    const rejected = (o: Outcome, reason: RegExp) => !o.stored && /Association Rejected/.test(o.output) && reason.test(o.output);
    // nginx ends the TLS handshake before any DICOM is spoken: the association request itself fails (nginx aborts),
    // unlike an Orthanc rejection, which answers with A-ASSOCIATE-RJ. The same command with the certificate stores.
    const handshakeFailed = (o: Outcome) => !o.stored && /Association Request Failed/.test(o.output) && !/Association (Accepted|Rejected)/.test(o.output);
    const [ct, mr] = MODALITIES;
    const ctIdentity = certificates.clients[ct.name];

    say(`phase 1: client certificates required on ${pair.plan.frontDoor}:${port} (TLS passed through to nginx), modalities ${MODALITIES.map((m) => `${m.name}=${m.aet}`).join(", ")}`);
    let o = await send({ callingAet: ct.aet, calledAet: pair.aet, identity: ctIdentity });
    check(`${ct.name} (${ct.aet}) with its generated certificate stores`, o.stored, o.stored ? "" : lastError(o));
    o = await send({ callingAet: mr.aet, calledAet: pair.aet, identity: certificates.clients[mr.name] });
    check(`${mr.name} (${mr.aet}) with its generated certificate stores`, o.stored, o.stored ? "" : lastError(o));
    o = await send({ callingAet: ct.aet, calledAet: pair.aet });
    check("a sender without a client certificate fails the TLS handshake", handshakeFailed(o), lastError(o));
    const stranger = await strangerCertificate(path.join(ctx.dir, "stranger"));
    o = await send({ callingAet: ct.aet, calledAet: pair.aet, identity: stranger });
    check("a certificate from another CA fails the TLS handshake", handshakeFailed(o), lastError(o));
    o = await send({ callingAet: UNLISTED_AET, calledAet: pair.aet, identity: ctIdentity });
    check(`an unlisted calling AE title (${UNLISTED_AET}) is rejected, even with a valid certificate`, rejected(o, /Calling AE Title Not Recognized/i), lastError(o));
    o = await send({ callingAet: ct.aet, calledAet: WRONG_CALLED_AET, identity: ctIdentity });
    check(`a wrong called AE title (${WRONG_CALLED_AET}) is rejected`, rejected(o, /Called AE Title Not Recognized/i), lastError(o));

    const plain = await fromProgram(modalitiesOnly);
    const sameOrthanc = JSON.stringify(plain.bootstrap.orthancTemplate) === JSON.stringify(pair.program.bootstrap.orthancTemplate);
    check("orthanc.json is the same with and without client certificates (the AE-title rules do not depend on TLS)", sameOrthanc, "");
    const changed = lineChanges(plain.bootstrap.nginxConf, pair.program.bootstrap.nginxConf);
    const onlyTls = changed.length === 3 && changed.every((c) => c.added !== undefined && /^ssl_(client_certificate|verify_client|verify_depth) /.test(c.added));
    check("nginx.conf differs only by the stream server's client-certificate lines", onlyTls && !requiresClientCertificates(plain.bootstrap.nginxConf), changed.map((c) => c.added ?? `-${c.removed}`).join("; "));

    say("phase 2: nginx reloaded with the program's rendering without client certificates (anonymous TLS)");
    pair.useNginxFrom(plain.bootstrap);
    const reloaded = await waitFor(async () => (await send({ callingAet: ct.aet, calledAet: pair.aet })).stored, 15000, 500);
    check(`${ct.name} (${ct.aet}) stores without a certificate once nginx no longer asks for one`, reloaded, "");
    o = await send({ callingAet: UNLISTED_AET, calledAet: pair.aet });
    check(`an unlisted calling AE title (${UNLISTED_AET}) is rejected`, rejected(o, /Calling AE Title Not Recognized/i), lastError(o));
    o = await send({ callingAet: ct.aet, calledAet: WRONG_CALLED_AET });
    check(`a wrong called AE title (${WRONG_CALLED_AET}) is rejected`, rejected(o, /Called AE Title Not Recognized/i), lastError(o));

    const held = checks.filter((c) => c.holds).length;
    return {
        summary: [`twin dicom-senders: ${held} of ${checks.length} checks hold`],
        reasons: checks.filter((c) => !c.holds).map((c) => `${c.what}${c.detail ? `: ${c.detail}` : ""}`),
    };
}

export const dicomSenders: Scenario = {
    name: "dicom-senders",
    description: "only listed modalities store: AE titles checked by Orthanc, client certificates by nginx",
    deadlineSeconds: 180,
    configOverrides: withClientCertificates,
    run: run_,
};

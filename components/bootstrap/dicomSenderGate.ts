// The DICOM sender gate: an njs script nginx runs on 11112 (stream js_preread) after it has verified the client
// certificate and before anything reaches Orthanc. It reads the A-ASSOCIATE-RQ (PS3.8 9.3.2) and admits the
// association only when its calling AE title is one of those listed for the certificate's modality
// (orthweb:orthanc.modalities); anything else is refused by closing the connection. Orthanc checks AE titles but never
// sees a certificate, and nginx checks certificates but not AE titles: only together do they tie one to the other.
//
// Why closing and not an A-ASSOCIATE-RJ: nginx's stream module lets njs send bytes to the client only from a
// js_filter, which runs once an upstream connection exists, and the refusal must come before Orthanc is connected.
// The modality sees its association request fail (dcmtk: "Association Request Failed"); nginx's log says why.
//
// Pure rendering. The script runs on Debian's njs 0.7.9 (the tests, the twin) and the pinned image's (nginx
// 1.28.0-alpine ships njs 0.8.10): it uses only what both have (`upstream` events with Buffers, s.off, s.done, s.deny,
// s.warn, s.variables), in ES5 with `var`.
import { modalityAeTitles, modalityCertificatePlan } from "../../rules/modalities";
import { DICOM_PORT } from "../../rules/ports";

/** Where nginx finds njs's stream module: the same path in Debian's libnginx-mod-stream-js and the official image. */
export const NJS_STREAM_MODULE = "/usr/lib/nginx/modules/ngx_stream_js_module.so";

/**
 * The largest A-ASSOCIATE-RQ the gate admits, header included: nginx's preread buffer. storescu proposing every
 * storage SOP class sends ~9.6 KB; 128 presentation contexts of three transfer syntaxes with 64-character UIDs stay
 * under 40 KB. (dcmtk, Orthanc's DICOM stack, refuses above 1 MB; the gate is stricter because it holds the request
 * in memory before deciding.)
 */
export const MAX_ASSOCIATE_RQ_BYTES = 64 * 1024;
/**
 * The request must be complete within this many reads. nginx hands njs a copy of everything read so far on each
 * read, so this bounds what a sender trickling bytes can make it copy (at most reads x buffer, 1 MiB).
 */
export const MAX_PREREAD_READS = 16;
/** How long a sender may take to send its whole A-ASSOCIATE-RQ after the TLS handshake. */
export const PREREAD_TIMEOUT_SECONDS = 15;

export interface GateModality {
    readonly name: string;
    readonly aet: string | readonly string[];
}

/**
 * Certificate CN -> the calling AE titles it may use, upper-cased (Orthanc compares AE titles case-insensitively, and
 * the config keeps them unique that way). CNs come from the modalities' certificate plan: `<name>.<domain>`.
 */
export function senderTitles(modalities: readonly GateModality[]): Record<string, string[]> {
    const plan = modalityCertificatePlan(modalities.map((m) => m.name));
    return Object.fromEntries(plan.clients.map((spec, i) => [spec.commonName, modalityAeTitles(modalities[i]).map((t) => t.toUpperCase())]));
}

/**
 * The script, kept short: a manual boot's cloud-config carries it within EC2's 16 KB of user data, so what it does
 * and why is explained here. `judge(bytes read so far, $ssl_client_s_dn, reads)` -> 0 (wait for more) or
 * { admit, why }:
 * - A-ASSOCIATE-RQ (PS3.8 9.3.2): type 0x01, reserved, 4-byte length, protocol version (2), reserved (2), called AE
 *   title (16), calling AE title (16), reserved (32), items. Another PDU type, a length below the 68 bytes of fixed
 *   fields or above the buffer is refused at once. The whole PDU must be in (within MAX_PREREAD_READS reads, and
 *   nginx's preread timeout) before the gate decides, so Orthanc never receives a truncated or oversized one.
 * - The calling AE title loses its padding spaces (PS3.8: not significant) and is compared upper-cased.
 * - The CN comes from nginx's RFC 2253 subject: our CA signs only `CN=<modality>.<domain>,O=...`, so a subject
 *   with an escape (`\`), or with more or less than one CN, is nobody's.
 * `preread(s)` removes its handler before done() or deny(): nginx then proxies without calling it again.
 */
export function renderDicomSenderGate(modalities: readonly GateModality[]): string {
    const entries = Object.entries(senderTitles(modalities)).map(([cn, list]) => `\n${JSON.stringify(cn)}: ${JSON.stringify(list)},`);
    return `// orthweb's DICOM sender gate on ${DICOM_PORT}: components/bootstrap/dicomSenderGate.ts says what and why.
var TITLES = {${entries.join("")}
};

function judge(d, dn, reads) {
    var n = d[2] * 16777216 + d[3] * 65536 + d[4] * 256 + d[5], cn = String(dn).split(","), aet = "";
    if (d.length && d[0] != 1) return { why: "PDU type " + d[0] + ", not an A-ASSOCIATE-RQ" };
    if (d.length > 5 && (n < 68 || n > ${MAX_ASSOCIATE_RQ_BYTES - 6})) return { why: "an A-ASSOCIATE-RQ of " + n + " bytes" };
    if (d.length < 6 || d.length < n + 6) return reads < ${MAX_PREREAD_READS} ? 0 : { why: "no whole A-ASSOCIATE-RQ in " + reads + " reads" };
    for (var i = 26; i < 42; i++) aet += String.fromCharCode(d[i]);
    aet = aet.replace(/^ +| +$/g, "").toUpperCase();
    cn = String(dn).indexOf("\\\\") < 0 ? cn.filter(function (p) { return p.indexOf("CN=") == 0; }) : [];
    cn = cn.length == 1 ? cn[0].substring(3) : "";
    var titles = TITLES.hasOwnProperty(cn) ? TITLES[cn] : [];
    return { admit: titles.indexOf(aet) >= 0, why: "calling AE title " + aet + " with " + dn + " (its titles: " + titles.join(", ") + ")" };
}

function preread(s) {
    var reads = 0;
    s.on("upstream", function (data) {
        var v = judge(data, s.variables.ssl_client_s_dn, ++reads);
        if (!v) return;
        s.off("upstream");
        if (v.admit) return s.done();
        s.warn("orthweb sender gate: refused " + s.remoteAddress + ": " + v.why.replace(/[^ -~]/g, "?"));
        s.deny();
    });
}

export default { preread: preread, judge: judge };
`;
}

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
import { MODALITY_CERTIFICATE_DOMAIN, modalityAeTitles, modalityCertificatePlan } from "../../rules/modalities";

/** The script's file name on the instance (next to nginx.conf) and in the nginx container. */
export const DICOM_SENDER_GATE_FILE = "dicom-senders.js";
export const NGINX_DICOM_SENDER_GATE = `/etc/nginx/njs/${DICOM_SENDER_GATE_FILE}`;
/** Where nginx finds njs's stream module: the same path in Debian's libnginx-mod-stream-js and the official image. */
export const NJS_STREAM_MODULE = "/usr/lib/nginx/modules/ngx_stream_js_module.so";

/**
 * The largest A-ASSOCIATE-RQ the gate admits, header included: nginx's preread buffer. storescu proposing every
 * storage SOP class sends ~9.6 KB; 128 presentation contexts with long UIDs stay under 40 KB. (dcmtk, Orthanc's DICOM
 * stack, refuses above 1 MB; the gate is stricter because it holds the request in memory before deciding.)
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

export function renderDicomSenderGate(modalities: readonly GateModality[]): string {
    const entries = Object.entries(senderTitles(modalities)).map(([cn, list]) => `\n    ${JSON.stringify(cn)}: ${JSON.stringify(list)},`);
    return `// Rendered by orthweb: the DICOM sender gate on 11112 (components/bootstrap/dicomSenderGate.ts).
// A verified client certificate of modality X may open an association only with one of X's calling AE titles.

// Certificate CN (<modality>.${MODALITY_CERTIFICATE_DOMAIN}) -> its calling AE titles, upper-cased.
var TITLES = {${entries.join("")}
};

// A-ASSOCIATE-RQ (PS3.8 9.3.2): type 0x01, reserved, 4-byte length, then protocol version (2), reserved (2),
// called AE title (16), calling AE title (16), reserved (32), variable items.
var ASSOCIATE_RQ = 0x01;
var HEADER_BYTES = 6;
var FIXED_FIELD_BYTES = 68;
var CALLING_AE_OFFSET = 26;
var AE_TITLE_BYTES = 16;
var MAX_PDU_BYTES = ${MAX_ASSOCIATE_RQ_BYTES};
var MAX_READS = ${MAX_PREREAD_READS};

// The CN of a subject as nginx prints it ($ssl_client_s_dn, RFC 2253: attributes separated by commas). Our CA signs
// only CN=<modality>.${MODALITY_CERTIFICATE_DOMAIN},O=...: a subject with an escape or more or less than one CN is
// nobody.
function commonName(dn) {
    if (typeof dn !== "string" || dn.indexOf("\\\\") !== -1) return "";
    var parts = dn.split(",");
    var found = [];
    for (var i = 0; i < parts.length; i++) {
        if (parts[i].indexOf("CN=") === 0) found.push(parts[i].substring(3));
    }
    return found.length === 1 ? found[0] : "";
}

function printable(text) {
    var out = "";
    for (var i = 0; i < text.length && i < 200; i++) {
        var c = text.charCodeAt(i);
        out += c >= 0x20 && c < 0x7f && c !== 0x22 ? text.charAt(i) : "?";
    }
    return out;
}

// The calling AE title, without the padding spaces (PS3.8: leading and trailing spaces are not significant).
function callingAeTitle(data) {
    var text = "";
    for (var i = CALLING_AE_OFFSET; i < CALLING_AE_OFFSET + AE_TITLE_BYTES; i++) text += String.fromCharCode(data[i]);
    return text.replace(/^ +| +$/g, "");
}

// What the bytes read so far allow: "more" (wait), or { admit, why }.
function judge(data, dn, reads) {
    if (data.length >= 1 && data[0] !== ASSOCIATE_RQ) return { admit: false, why: "the first PDU is not an A-ASSOCIATE-RQ (type " + data[0] + ")" };
    if (data.length < HEADER_BYTES) return reads >= MAX_READS ? { admit: false, why: "no PDU header within " + MAX_READS + " reads" } : "more";
    var length = data[2] * 16777216 + data[3] * 65536 + data[4] * 256 + data[5];
    if (length < FIXED_FIELD_BYTES) return { admit: false, why: "an A-ASSOCIATE-RQ of " + length + " bytes is shorter than its fixed fields" };
    if (length + HEADER_BYTES > MAX_PDU_BYTES) return { admit: false, why: "an A-ASSOCIATE-RQ of " + length + " bytes exceeds " + MAX_PDU_BYTES };
    if (data.length < length + HEADER_BYTES) return reads >= MAX_READS ? { admit: false, why: "the A-ASSOCIATE-RQ was not complete within " + MAX_READS + " reads" } : "more";
    var cn = commonName(dn);
    var calling = callingAeTitle(data);
    if (!Object.prototype.hasOwnProperty.call(TITLES, cn)) return { admit: false, why: "the certificate " + dn + " is no listed modality's" };
    if (TITLES[cn].indexOf(calling.toUpperCase()) === -1) return { admit: false, why: "calling AE title " + calling + " is not one of " + cn + "'s (" + TITLES[cn].join(", ") + ")" };
    return { admit: true, why: cn + " as " + calling };
}

function preread(s) {
    var reads = 0;
    // Called with everything read so far, each time more arrives; once decided, the handler is gone and nginx
    // proxies at full speed.
    s.on("upstream", function (data) {
        reads += 1;
        var verdict = judge(data, s.variables.ssl_client_s_dn, reads);
        if (verdict === "more") return;
        s.off("upstream");
        if (verdict.admit) {
            s.done();
            return;
        }
        s.warn("orthweb sender gate: refused " + s.remoteAddress + ": " + printable(verdict.why));
        s.deny();
    });
}

export default { preread: preread, judge: judge };
`;
}

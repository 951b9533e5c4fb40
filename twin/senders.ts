// The modalities' certificates (and the peer link's) for the twin, issued with openssl from the program's own plan (rules/modalities.ts):
// the same CNs, key usages and CA-outlives-leaf lifetimes ClientVpn-style issuing gives them on AWS.
import * as fs from "fs";
import * as path from "path";
import { CertificateSpec, ORGANIZATION, peerCertificatePlan, RSA_BITS } from "../rules/certificates";
import { modalityCertificatePlan } from "../rules/modalities";
import { must } from "./lab";

export interface IssuedFiles {
    readonly cert: string;
    readonly key: string;
}

export interface ModalityCertificateFiles {
    readonly ca: IssuedFiles;
    readonly clients: Record<string, IssuedFiles>;
}

/** @pulumi/tls's allowed_uses names -> openssl's extension values. */
const KEY_USAGE: Record<string, string> = { digital_signature: "digitalSignature", key_encipherment: "keyEncipherment", cert_signing: "keyCertSign", crl_signing: "cRLSign" };
const EXTENDED_KEY_USAGE: Record<string, string> = { client_auth: "clientAuth", server_auth: "serverAuth" };

/** The X.509 v3 extensions a spec asks for, as an openssl extension file's lines. */
export function extensionLines(spec: CertificateSpec): string[] {
    const usages = spec.allowedUses.map((u) => KEY_USAGE[u]).filter(Boolean);
    const extended = spec.allowedUses.map((u) => EXTENDED_KEY_USAGE[u]).filter(Boolean);
    return [
        `basicConstraints=critical,CA:${spec.isCa ? "TRUE" : "FALSE"}`,
        ...(usages.length ? [`keyUsage=critical,${usages.join(",")}`] : []),
        ...(extended.length ? [`extendedKeyUsage=${extended.join(",")}`] : []),
        ...(spec.dnsNames.length ? [`subjectAltName=${spec.dnsNames.map((n) => `DNS:${n}`).join(",")}`] : []),
    ];
}

const days = (hours: number) => String(Math.max(1, Math.floor(hours / 24)));

async function selfSigned(dir: string, label: string, spec: CertificateSpec): Promise<IssuedFiles> {
    const files = { cert: path.join(dir, `${label}.crt`), key: path.join(dir, `${label}.key`) };
    const extensions = extensionLines(spec).flatMap((line) => ["-addext", line]);
    await must("openssl", ["req", "-x509", "-newkey", `rsa:${RSA_BITS}`, "-nodes", "-keyout", files.key, "-out", files.cert, "-days", days(spec.validityHours), "-subj", `/CN=${spec.commonName}/O=${ORGANIZATION}`, ...extensions]);
    return files;
}

async function signed(dir: string, label: string, spec: CertificateSpec, ca: IssuedFiles): Promise<IssuedFiles> {
    const files = { cert: path.join(dir, `${label}.crt`), key: path.join(dir, `${label}.key`) };
    const csr = path.join(dir, `${label}.csr`);
    const ext = path.join(dir, `${label}.ext`);
    fs.writeFileSync(ext, [...extensionLines(spec), ""].join("\n"));
    await must("openssl", ["req", "-new", "-newkey", `rsa:${RSA_BITS}`, "-nodes", "-keyout", files.key, "-out", csr, "-subj", `/CN=${spec.commonName}/O=${ORGANIZATION}`]);
    await must("openssl", ["x509", "-req", "-in", csr, "-CA", ca.cert, "-CAkey", ca.key, "-CAcreateserial", "-out", files.cert, "-days", days(spec.validityHours), "-extfile", ext]);
    return files;
}

/** The modalities' CA and one client certificate per name, as files under `dir`. */
export async function issueModalityCertificates(dir: string, names: readonly string[]): Promise<ModalityCertificateFiles> {
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    const plan = modalityCertificatePlan(names);
    const ca = await selfSigned(dir, "ca", plan.ca);
    const clients: Record<string, IssuedFiles> = {};
    for (const spec of plan.clients) clients[spec.client] = await signed(dir, spec.resourceSuffix, spec, ca);
    return { ca, clients };
}

/** The peer link's CA and the one certificate both instances present (rules/certificates.ts peerCertificatePlan). */
export async function issuePeerCertificates(dir: string): Promise<{ ca: IssuedFiles; instance: IssuedFiles }> {
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    const plan = peerCertificatePlan();
    const ca = await selfSigned(dir, "peer-ca", plan.ca);
    return { ca, instance: await signed(dir, "peer", plan.instance, ca) };
}

/** A client certificate of the right kind from a CA nginx does not trust: what an outsider could make. */
export async function strangerCertificate(dir: string): Promise<IssuedFiles> {
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    const plan = modalityCertificatePlan(["stranger"]);
    const ca = await selfSigned(dir, "stranger-ca", { ...plan.ca, commonName: "ca.stranger.invalid" });
    return signed(dir, "stranger", plan.clients[0], ca);
}

// Checks on a bring-your-own certificate and key, with node's own X.509 support. Pure.
import { X509Certificate, createPrivateKey, KeyObject } from "crypto";

export interface CertificateFacts {
    readonly subject: string;
    readonly dnsNames: string[];
    readonly ipAddresses: string[];
    readonly notAfter: Date;
    readonly chainLength: number;
}

export interface PemProblem {
    readonly key: "tlsCertificatePem" | "tlsPrivateKeyPem";
    readonly message: string;
}

const PEM_CERT = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

/** Splits a PEM bundle (leaf first, then intermediates) into its certificates. */
export function splitPemChain(pem: string): string[] {
    return pem.match(PEM_CERT) ?? [];
}

function subjectAltNames(cert: X509Certificate): { dnsNames: string[]; ipAddresses: string[] } {
    const entries = (cert.subjectAltName ?? "").split(/,\s*/).filter(Boolean);
    return {
        dnsNames: entries.filter((e) => e.startsWith("DNS:")).map((e) => e.slice(4).toLowerCase()),
        ipAddresses: entries.filter((e) => e.startsWith("IP Address:")).map((e) => e.slice(11)),
    };
}

/** True when `hostname` is covered by a SAN entry (exact or a single-label wildcard). */
export function nameMatches(pattern: string, hostname: string): boolean {
    const p = pattern.toLowerCase();
    const h = hostname.toLowerCase();
    if (p === h) return true;
    if (!p.startsWith("*.")) return false;
    const dot = h.indexOf(".");
    return dot > 0 && h.slice(dot + 1) === p.slice(2);
}

export function certificateCovers(facts: CertificateFacts, hostname: string): boolean {
    return facts.dnsNames.some((pattern) => nameMatches(pattern, hostname));
}

/**
 * Reads a certificate chain and its private key; returns the facts and the problems found.
 */
export function inspectCertificatePair(
    certificatePem: string,
    privateKeyPem: string,
    now: Date = new Date(),
): { facts?: CertificateFacts; problems: PemProblem[] } {
    const problems: PemProblem[] = [];
    const cert = (message: string) => problems.push({ key: "tlsCertificatePem", message });
    const chain = splitPemChain(certificatePem);
    if (chain.length === 0) {
        cert("holds no PEM certificate; allowed: -----BEGIN CERTIFICATE----- blocks, leaf first, then intermediates");
    }
    let leaf: X509Certificate | undefined;
    try {
        if (chain.length > 0) leaf = new X509Certificate(chain[0]);
    } catch (e) {
        cert(`the first certificate cannot be parsed (${(e as Error).message})`);
    }
    let key: KeyObject | undefined;
    try {
        key = createPrivateKey(privateKeyPem);
    } catch {
        problems.push({ key: "tlsPrivateKeyPem", message: "not a private key; allowed: an unencrypted PEM private key (PKCS#1, PKCS#8 or SEC1)" });
    }
    if (!leaf) return { problems };
    if (key && !leaf.checkPrivateKey(key)) {
        problems.push({ key: "tlsPrivateKeyPem", message: "does not belong to the first certificate of orthweb:tlsCertificatePem; give the key of that certificate" });
    }
    const notAfter = new Date(leaf.validTo);
    if (notAfter.getTime() <= now.getTime()) {
        cert(`expired on ${notAfter.toISOString()}; give a certificate that is valid now`);
    }
    if (new Date(leaf.validFrom).getTime() > now.getTime()) {
        cert(`not valid before ${new Date(leaf.validFrom).toISOString()}; give a certificate that is valid now`);
    }
    const sans = subjectAltNames(leaf);
    return {
        facts: { subject: leaf.subject, ...sans, notAfter, chainLength: chain.length },
        problems,
    };
}

// Certificate plans as data (the client VPN's, the DICOM modalities'): which certificates exist, their names, key usages and lifetimes.
// Pure. ClientVpnAccess turns the plan into @pulumi/tls resources; the tests turn the same plan into real
// certificates with openssl, so the rules below are checked on what a TLS stack actually accepts.
import { X509Certificate } from "crypto";

export const RSA_BITS = 2048;
/** The subject's O on every certificate. */
export const ORGANIZATION = "Orthweb";
/** The CA signs certificates and CRLs, nothing else. */
export const CA_USES = ["cert_signing", "crl_signing"] as const;
/** AWS Client VPN wants EKU serverAuth on the server certificate ... */
export const SERVER_USES = ["digital_signature", "key_encipherment", "server_auth"] as const;
/** ... and clientAuth on every client certificate (OpenVPN's `remote-cert-tls client`). */
export const CLIENT_USES = ["digital_signature", "key_encipherment", "client_auth"] as const;
/** Leaves are re-issued by `pulumi up` once they are this close to expiry. */
export const LEAF_EARLY_RENEWAL_DAYS = 30;
/** X.509's upper bound for a common name (RFC 5280 ub-common-name). */
export const MAX_COMMON_NAME_LENGTH = 64;
/**
 * Labels of the certificates that are not workstations; a client may not take one of these names.
 * `chain` is the certificate that carries the CA into ACM for client authentication (rootCertificateChainArn).
 */
export const RESERVED_LABELS = ["ca", "server", "chain"] as const;

export type CertificateRole = "ca" | "server" | "chain" | "client";

export interface CertificateSpec {
    readonly role: CertificateRole;
    /** The Pulumi name suffix: `ca`, `server`, `chain`, `client-<name>`. */
    readonly resourceSuffix: string;
    readonly commonName: string;
    readonly dnsNames: string[];
    readonly allowedUses: readonly string[];
    readonly isCa: boolean;
    readonly validityHours: number;
    readonly earlyRenewalHours: number;
}

export interface CertificateLifetimes {
    readonly caValidityHours: number;
    readonly caEarlyRenewalHours: number;
    readonly leafValidityHours: number;
    readonly leafEarlyRenewalHours: number;
}

/**
 * What must hold between the lifetimes. A leaf issued while the CA is not yet due for renewal must expire before
 * the CA does (caEarlyRenewal >= leafValidity); a certificate whose renewal window covers its whole life would be
 * replaced on every `pulumi up`.
 */
export function lifetimeProblems(l: CertificateLifetimes): string[] {
    const problems: string[] = [];
    if (l.caEarlyRenewalHours < l.leafValidityHours) {
        problems.push(
            `the CA is renewed ${l.caEarlyRenewalHours} h before it expires, but leaves live ${l.leafValidityHours} h: ` +
                "a leaf issued just before the CA's renewal would outlive it",
        );
    }
    if (l.caValidityHours <= l.caEarlyRenewalHours) problems.push(`the CA's validity (${l.caValidityHours} h) must exceed its renewal window (${l.caEarlyRenewalHours} h)`);
    if (l.leafValidityHours <= l.leafEarlyRenewalHours) problems.push(`a leaf's validity (${l.leafValidityHours} h) must exceed its renewal window (${l.leafEarlyRenewalHours} h)`);
    return problems;
}

/**
 * Lifetimes for leaves valid `leafValidityDays`: the CA lives twice as long and is renewed once its remaining life
 * is shorter than a leaf's, so every leaf it signs expires before it does. (orthweb passed days where hours were
 * expected: its CA expired after ~152 days while its leaves lasted ten years.)
 */
export function certificateLifetimes(leafValidityDays: number): CertificateLifetimes {
    const leafValidityHours = leafValidityDays * 24;
    const lifetimes = {
        caValidityHours: 2 * leafValidityHours,
        caEarlyRenewalHours: leafValidityHours,
        leafValidityHours,
        leafEarlyRenewalHours: LEAF_EARLY_RENEWAL_DAYS * 24,
    };
    const problems = lifetimeProblems(lifetimes);
    if (problems.length > 0) throw new Error(`certificate lifetimes for ${leafValidityDays} days: ${problems.join("; ")}`);
    return lifetimes;
}

export interface VpnCertificatePlan {
    readonly ca: CertificateSpec;
    readonly server: CertificateSpec;
    readonly chain: CertificateSpec;
    readonly clients: ReadonlyArray<CertificateSpec & { readonly client: string }>;
}

/** The CA of a plan: CN `ca.<domain>`, living twice as long as its leaves (see certificateLifetimes). */
export function caSpec(domain: string, l: CertificateLifetimes): CertificateSpec {
    return {
        role: "ca",
        resourceSuffix: "ca",
        commonName: `ca.${domain}`,
        dnsNames: [],
        allowedUses: CA_USES,
        isCa: true,
        validityHours: l.caValidityHours,
        earlyRenewalHours: l.caEarlyRenewalHours,
    };
}

/** A leaf of a plan: CN `<label>.<domain>`; clients are named `client-<label>`, the others by their role. */
export function leafSpec(role: Exclude<CertificateRole, "ca">, label: string, domain: string, allowedUses: readonly string[], dnsNames: string[], l: CertificateLifetimes): CertificateSpec {
    return {
        role,
        resourceSuffix: role === "client" ? `client-${label}` : role,
        commonName: `${label}.${domain}`,
        dnsNames,
        allowedUses,
        isCa: false,
        validityHours: l.leafValidityHours,
        earlyRenewalHours: l.leafEarlyRenewalHours,
    };
}

/** Every certificate of a client VPN for `domain`: CN `<label>.<domain>` throughout. */
export function vpnCertificatePlan(domain: string, clients: readonly string[], leafValidityDays: number): VpnCertificatePlan {
    const l = certificateLifetimes(leafValidityDays);
    const leaf = (role: Exclude<CertificateRole, "ca">, label: string, allowedUses: readonly string[], dnsNames: string[]) => leafSpec(role, label, domain, allowedUses, dnsNames, l);
    return {
        ca: caSpec(domain, l),
        // AWS refuses a server certificate without a domain name in CN/SAN ("does not have a domain").
        server: leaf("server", "server", SERVER_USES, [`server.${domain}`]),
        chain: leaf("chain", "chain", CLIENT_USES, []),
        clients: clients.map((client) => ({ ...leaf("client", client, CLIENT_USES, []), client })),
    };
}

/** A CA and one client certificate per name (clientAuth): the client side of a mutual-TLS listener. */
export interface ClientCertificatePlan {
    readonly ca: CertificateSpec;
    readonly clients: ReadonlyArray<CertificateSpec & { readonly client: string }>;
}

export function clientCertificatePlan(domain: string, clients: readonly string[], leafValidityDays: number): ClientCertificatePlan {
    const l = certificateLifetimes(leafValidityDays);
    return { ca: caSpec(domain, l), clients: clients.map((client) => ({ ...leafSpec("client", client, domain, CLIENT_USES, [], l), client })) };
}

export function allCertificates(plan: VpnCertificatePlan): CertificateSpec[] {
    return [plan.ca, plan.server, plan.chain, ...plan.clients];
}

/**
 * Checks issued certificates against the CA that signed them: signature, and that the CA outlives each of them.
 * For certificates as they exist (tests build them with openssl; operators can check an exported profile).
 */
export function chainProblems(caPem: string, leafPems: Record<string, string>): string[] {
    const ca = new X509Certificate(caPem);
    const caEnd = new Date(ca.validTo);
    const problems: string[] = [];
    if (!ca.ca) problems.push(`${ca.subject}: not a CA certificate (basicConstraints CA:FALSE)`);
    for (const [label, pem] of Object.entries(leafPems)) {
        const leaf = new X509Certificate(pem);
        if (!leaf.checkIssued(ca) || !leaf.verify(ca.publicKey)) problems.push(`${label}: not issued by ${ca.subject.replace(/\n/g, ", ")}`);
        const leafEnd = new Date(leaf.validTo);
        if (leafEnd.getTime() > caEnd.getTime()) {
            problems.push(`${label}: valid until ${leafEnd.toISOString()}, after its CA expires (${caEnd.toISOString()})`);
        }
    }
    return problems;
}

/**
 * The pair's peer link (each instance's nginx relaying to the other's 8443 and 11113): a CA of its own and one
 * certificate that both instances present, as the server of the peer-only listeners and as the relay's client. Both
 * instances run the same files, so one identity ("an instance of this stack") is what there is to prove. nginx checks
 * a peer's certificate against a name, not an address: the relay asks for PEER_CERTIFICATE_NAME.
 */
export const PEER_CERTIFICATE_DOMAIN = "peer.orthweb.internal";
export const PEER_CERTIFICATE_NAME = `instance.${PEER_CERTIFICATE_DOMAIN}`;
/** As the modalities' and the client VPN's default: `pulumi up` renews the leaf in its last 30 days. */
export const PEER_CERTIFICATE_VALIDITY_DAYS = 825;
/** Server of 8443/11113 and client of the relay alike. */
export const PEER_USES = ["digital_signature", "key_encipherment", "server_auth", "client_auth"] as const;

export interface PeerCertificatePlan {
    readonly ca: CertificateSpec;
    readonly instance: CertificateSpec;
}

export function peerCertificatePlan(): PeerCertificatePlan {
    const l = certificateLifetimes(PEER_CERTIFICATE_VALIDITY_DAYS);
    return { ca: caSpec(PEER_CERTIFICATE_DOMAIN, l), instance: leafSpec("server", "instance", PEER_CERTIFICATE_DOMAIN, PEER_USES, [PEER_CERTIFICATE_NAME], l) };
}

// The rules of orthweb:tls and orthweb:traffic.direct that span keys: which source the certificate comes from, what
// acme needs (a zone the instances may write challenges in, the internet to reach the CA), and which names the
// certificate carries. Reads the raw input, so every problem is reported with the schema's, at once.
import { acmeDirectoryUrl, defaultAcmeDirectory, instanceNames, isInZone, PAIR_SLOTS, TlsSource } from "../rules/acme";
import { frontDoorName, isDnsName, MAX_DNS_NAME_LENGTH, normalizeDnsName, relativeNameMeant } from "../rules/dnsName";
import { OrthwebConfig } from "./schema";

const NS = "orthweb";

function isRecord(value: unknown): value is Record<string, unknown> {
    return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** The zone an acme certificate's challenges go to, and the names it carries, for a raw input (undefined: none). */
export function zoneNamesOf(traffic: Record<string, unknown>): { zoneName: string; names: string[]; key: string } | undefined {
    if (traffic.frontDoor === "dns" && isRecord(traffic.dns)) {
        const { zoneName, recordName } = traffic.dns;
        if (typeof zoneName !== "string" || typeof recordName !== "string" || !isDnsName(zoneName, 2) || !isDnsName(recordName)) return undefined;
        if (relativeNameMeant(zoneName, recordName) !== undefined) return undefined;
        return { zoneName: normalizeDnsName(zoneName), names: [frontDoorName({ zoneName, recordName })], key: "traffic.dns.zoneName" };
    }
    if ((traffic.frontDoor ?? "direct") === "direct" && isRecord(traffic.direct)) {
        const { zoneName, recordPrefix } = traffic.direct;
        if (typeof zoneName !== "string" || !isDnsName(zoneName, 2)) return undefined;
        const prefix = typeof recordPrefix === "string" ? recordPrefix : "pacs";
        return { zoneName: normalizeDnsName(zoneName), names: instanceNames(zoneName, prefix, PAIR_SLOTS), key: "traffic.direct.zoneName" };
    }
    return undefined;
}

/** The source when orthweb:tls.source is not set: provided with a PEM pair, else selfSigned. */
export function tlsSourceOf(source: unknown, certificatePem: unknown): TlsSource {
    if (source === "selfSigned" || source === "provided" || source === "acme") return source;
    return certificatePem !== undefined ? "provided" : "selfSigned";
}

/** Problems with the raw input (the schema reports wrong types and malformed values itself). */
export function tlsProblems(input: Record<string, unknown>): string[] {
    const problems: string[] = [];
    const tls = isRecord(input.tls) ? input.tls : {};
    const traffic = isRecord(input.traffic) ? input.traffic : {};
    const network = isRecord(input.network) ? input.network : {};
    const frontDoor = traffic.frontDoor ?? "direct";
    const hasPems = input.tlsCertificatePem !== undefined || input.tlsPrivateKeyPem !== undefined;
    const source = tlsSourceOf(tls.source, input.tlsCertificatePem ?? input.tlsPrivateKeyPem);

    if (traffic.direct !== undefined && frontDoor !== "direct") {
        problems.push(`${NS}:traffic.direct: got a section with frontDoor ${JSON.stringify(frontDoor)}; allowed: only with frontDoor direct (the dns front door names the pair in traffic.dns)`);
    }
    if (isRecord(traffic.direct) && typeof traffic.direct.zoneName === "string" && isDnsName(traffic.direct.zoneName, 2)) {
        const longest = instanceNames(traffic.direct.zoneName, typeof traffic.direct.recordPrefix === "string" ? traffic.direct.recordPrefix : "pacs", PAIR_SLOTS).at(-1)!;
        if (longest.length > MAX_DNS_NAME_LENGTH) {
            problems.push(`${NS}:traffic.direct.recordPrefix: makes ${longest} (${longest.length} characters); allowed: at most ${MAX_DNS_NAME_LENGTH} in all (<recordPrefix>-<slot>.<zoneName>)`);
        }
    }

    if (source === "provided" && !hasPems) {
        problems.push(`${NS}:tls.source: got "provided" without ${NS}:tlsCertificatePem and ${NS}:tlsPrivateKeyPem; allowed: provided with both set (pulumi config set --secret), or selfSigned | acme`);
    }
    if (source !== "provided" && hasPems) {
        problems.push(
            `${NS}:tls.source: got ${JSON.stringify(source)} while ${NS}:tlsCertificatePem/tlsPrivateKeyPem are set; allowed: provided with them, ` +
                `or remove them (pulumi config rm) to use ${source}`,
        );
    }
    if (source !== "acme") {
        if (tls.acme !== undefined) problems.push(`${NS}:tls.acme: got a section with tls.source ${JSON.stringify(source)}; allowed: only with tls.source acme`);
        return problems;
    }

    if (tls.acme === undefined) {
        problems.push(`${NS}:tls.acme: required when ${NS}:tls.source is acme; allowed: a map with email (the ACME account's contact), optionally directory and extraName`);
    }
    if (network.internetAccess === false) {
        problems.push(
            `${NS}:network.internetAccess: got false with tls.source acme; allowed: true with acme (the instances reach the ACME CA and Route 53 over ` +
                "the internet; Route 53 has no VPC endpoint), or tls.source provided | selfSigned without the internet",
        );
    }
    const zone = zoneNamesOf(traffic);
    if (!zone) {
        const hasZoneSection = (frontDoor === "dns" && traffic.dns !== undefined) || (frontDoor === "direct" && traffic.direct !== undefined);
        if (!hasZoneSection) {
            problems.push(
                `${NS}:tls.source: got "acme" with frontDoor ${JSON.stringify(frontDoor)}${frontDoor === "direct" ? " and no traffic.direct.zoneName" : ""}; ` +
                    "allowed: acme with frontDoor dns (traffic.dns), or frontDoor direct with traffic.direct.zoneName (the challenges are written in that Route 53 zone); " +
                    "a load balancer has ACM (traffic.loadBalancer.zoneName)",
            );
        }
        return problems;
    }
    const acme = isRecord(tls.acme) ? tls.acme : {};
    if (typeof acme.extraName === "string" && !isInZone(acme.extraName, zone.zoneName)) {
        problems.push(
            `${NS}:tls.acme.extraName: got ${JSON.stringify(acme.extraName)}, which is not in the zone ${zone.zoneName} (${NS}:${zone.key}); ` +
                `allowed: a name under ${zone.zoneName}, such as images.${zone.zoneName} (the instances may write challenges only there)`,
        );
    }
    return problems;
}

export interface AcmeSettings {
    readonly email: string;
    readonly directoryUrl: string;
    /** The zone the challenges are written in. */
    readonly zoneName: string;
    /** Every name of the certificate, the first one its subject. */
    readonly names: string[];
}

/** The certificate's source once validated, with what acme needs. */
export type CertificateSource = { readonly source: "selfSigned" | "provided" } | { readonly source: "acme"; readonly acme: AcmeSettings };

export function certificateSourceOf(config: Pick<OrthwebConfig, "environment" | "traffic" | "tls" | "tlsCertificatePem">): CertificateSource {
    const source = tlsSourceOf(config.tls.source, config.tlsCertificatePem);
    if (source !== "acme") return { source };
    const zone = zoneNamesOf(config.traffic as unknown as Record<string, unknown>);
    const acme = config.tls.acme;
    if (!zone || !acme) throw new Error("tls.source acme without a zone or tls.acme (tlsProblems reports this)");
    const directory = acme.directory ?? defaultAcmeDirectory(config.environment);
    return {
        source,
        acme: {
            email: acme.email,
            directoryUrl: acmeDirectoryUrl(directory),
            zoneName: zone.zoneName,
            names: [...new Set([...zone.names, ...(acme.extraName ? [acme.extraName] : [])])],
        },
    };
}

// Turns a stack's raw config (Pulumi runtime or a Pulumi.<stack>.yaml file) into a typed StackConfig,
// or into every problem at once, each naming the key, the bad value and what is allowed.
import { z } from "zod";
import { loadBalancerProblems } from "./loadBalancerRules";
import { stackSchema, OrthwebConfig, MAX_CLIENT_CIDR_RULES, DNS_MAX_CLIENT_CIDR_RULES } from "./schema";
import { CertificateFacts, certificateCovers, inspectCertificatePair } from "./tlsMaterial";
import { frontDoorName, isDnsName, relativeNameMeant, DNS_RECOMMENDED_MAX_TTL } from "../rules/dnsName";
import { dnsFailoverSeconds } from "../rules/failover";
import { clientVpnProblems } from "./clientVpnRules";
import { siteToSiteProblems } from "./siteToSiteRules";
import { rawModalityCidrCount, senderProblems, senderWarnings } from "./senderRules";
import { pullThroughCacheProblems } from "./imageCacheRules";
import { CertificateSource, certificateSourceOf, tlsProblems, zoneNamesOf } from "./tlsRules";

export const NAMESPACE = "orthweb";
const SECRET_KEYS = new Set(["tlsCertificatePem", "tlsPrivateKeyPem"]);
const AWS_REGION = /^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d$/;

export interface TlsMaterial {
    readonly certificatePem: string;
    readonly privateKeyPem: string;
    /** Absent when the values could not be read (encrypted `secure:` values in an offline plan). */
    readonly facts?: CertificateFacts;
}

export type StackConfig = Omit<OrthwebConfig, "tlsCertificatePem" | "tlsPrivateKeyPem" | "tls"> & {
    readonly region: string;
    /** The provided certificate and key (orthweb:tls.source provided). */
    readonly tls?: TlsMaterial;
    /** Where the instances' certificate comes from (orthweb:tls), with what acme needs. */
    readonly certificateSource: CertificateSource;
};

/** Raised with every problem found; its message lists them one per line. */
export class ConfigError extends Error {
    constructor(public readonly problems: string[]) {
        super(`Invalid stack configuration (${problems.length} problem${problems.length === 1 ? "" : "s"}):\n` + problems.map((p) => `  - ${p}`).join("\n"));
        this.name = "ConfigError";
    }
}

export interface ParseOptions {
    /** Keys whose values are opaque placeholders (encrypted secrets read offline): their content is not checked. */
    readonly opaqueKeys?: ReadonlySet<string>;
    readonly now?: Date;
}

function fullKey(path: ReadonlyArray<PropertyKey>): string {
    const body = path.reduce<string>((acc, part) => (typeof part === "number" ? `${acc}[${part}]` : acc ? `${acc}.${String(part)}` : String(part)), "");
    return `${NAMESPACE}:${body}`;
}

function show(value: unknown, path: ReadonlyArray<PropertyKey>): string {
    if (SECRET_KEYS.has(String(path[0]))) return "(secret value hidden)";
    const text = JSON.stringify(value);
    if (text === undefined) return String(value);
    return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

function formatIssue(issue: z.core.$ZodIssue): string[] {
    const key = fullKey(issue.path);
    if (issue.code === "unrecognized_keys") {
        return issue.keys.map((k) => `${fullKey([...issue.path, k])}: unknown key; ${issue.message.replace(/^unknown key; /, "")}`);
    }
    const input = (issue as { input?: unknown }).input;
    if (issue.code === "invalid_type" && input === undefined) {
        return [`${key}: required; ${issue.message}`];
    }
    return [`${key}: got ${show(input, issue.path)}; ${issue.message}`];
}

/** Parses config values that the Pulumi runtime hands over as JSON text. */
function decodeSection(value: unknown): unknown {
    if (typeof value !== "string") return value;
    const trimmed = value.trim();
    if (!trimmed.startsWith("{") && !trimmed.startsWith("[")) return value;
    try {
        return JSON.parse(trimmed);
    } catch {
        return value;
    }
}

function crossFieldProblems(input: Record<string, unknown>, options: ParseOptions): { problems: string[]; tlsFacts?: CertificateFacts } {
    const problems: string[] = [];
    const network = (input.network ?? {}) as Record<string, unknown>;
    const web = Array.isArray(network.webClientCidrs) ? network.webClientCidrs.length : 1;
    const dicom = (Array.isArray(network.dicomClientCidrs) ? network.dicomClientCidrs.length : 1) + rawModalityCidrCount(input);
    if (web + dicom > MAX_CLIENT_CIDR_RULES) {
        problems.push(
            `${NAMESPACE}:network.webClientCidrs + dicomClientCidrs: got ${web} + ${dicom} blocks${rawModalityCidrCount(input) > 0 ? " (with orthanc.modalities' cidr blocks)" : ""}; ` +
                `allowed: ${MAX_CLIENT_CIDR_RULES} in all (one security group rule each; AWS allows 60 inbound rules per group). Summarise the blocks into larger ones.`,
        );
    }

    const cert = input.tlsCertificatePem;
    const key = input.tlsPrivateKeyPem;
    if ((cert === undefined) !== (key === undefined)) {
        const missing = cert === undefined ? "tlsCertificatePem" : "tlsPrivateKeyPem";
        const given = cert === undefined ? "tlsPrivateKeyPem" : "tlsCertificatePem";
        problems.push(`${NAMESPACE}:${missing}: required when ${NAMESPACE}:${given} is set; give both (pulumi config set --secret) or neither`);
    }
    const opaque = options.opaqueKeys ?? new Set<string>();
    let tlsFacts: CertificateFacts | undefined;
    if (typeof cert === "string" && typeof key === "string" && !opaque.has(`${NAMESPACE}:tlsCertificatePem`) && !opaque.has(`${NAMESPACE}:tlsPrivateKeyPem`)) {
        const inspected = inspectCertificatePair(cert, key, options.now);
        tlsFacts = inspected.facts;
        problems.push(...inspected.problems.map((p) => `${NAMESPACE}:${p.key}: ${p.message}`));
    }
    problems.push(...dnsProblems(input, web + dicom, tlsFacts));
    problems.push(...clientVpnProblems(input));
    problems.push(...siteToSiteProblems(input));
    problems.push(...senderProblems(input));
    return { problems, tlsFacts };
}

function isRecord(value: unknown): value is Record<string, unknown> {
    return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** The front-door name of a raw `dns` section, when its names are valid (else the schema reports them). */
function rawFrontDoorName(dns: unknown): string | undefined {
    if (!isRecord(dns) || typeof dns.zoneName !== "string" || typeof dns.recordName !== "string") return undefined;
    const names = { zoneName: dns.zoneName, recordName: dns.recordName };
    if (!isDnsName(names.zoneName, 2) || !isDnsName(names.recordName) || relativeNameMeant(names.zoneName, names.recordName) !== undefined) return undefined;
    return frontDoorName(names);
}

/** Rules of the `dns` front door that span keys: its section, the rule quota, and the certificate's names. */
function dnsProblems(input: Record<string, unknown>, clientBlocks: number, tlsFacts: CertificateFacts | undefined): string[] {
    const traffic = isRecord(input.traffic) ? input.traffic : {};
    if (traffic.frontDoor !== "dns") return [];
    const problems: string[] = [];
    const dns = traffic.dns;
    if (dns === undefined) {
        problems.push(
            `${NAMESPACE}:traffic.dns: required when ${NAMESPACE}:traffic.frontDoor is dns; allowed: a map with zoneName (your public hosted zone, ` +
                "e.g. example.org) and recordName (e.g. pacs), optionally routing, ttl and healthCheck",
        );
    }
    // A client VPN beside the DNS name takes two more inbound rules (443 and 11112 from its endpoint's group).
    const vpnRules = traffic.clientVpn !== undefined ? 2 : 0;
    const limit = DNS_MAX_CLIENT_CIDR_RULES - vpnRules;
    if (clientBlocks > limit && clientBlocks <= MAX_CLIENT_CIDR_RULES) {
        problems.push(
            `${NAMESPACE}:network.webClientCidrs + dicomClientCidrs: got ${clientBlocks} blocks; allowed: ${limit} in all with ` +
                "frontDoor dns (the Route 53 health checkers' prefix list counts as 25 of the group's 60 inbound rules on each of 443 and 11112, " +
                "the instances' peer fallback takes 2" +
                (vpnRules ? ", and the client VPN takes 2" : "") +
                "). Summarise the blocks into larger ones.",
        );
    }
    const name = rawFrontDoorName(dns);
    if (tlsFacts && name) {
        if (!certificateCovers(tlsFacts, name)) {
            const found = tlsFacts.dnsNames.length > 0 ? tlsFacts.dnsNames.join(", ") : `none (subject ${tlsFacts.subject.replace(/\n/g, ", ")})`;
            problems.push(
                `${NAMESPACE}:tlsCertificatePem: does not name the front-door name ${name} (traffic.dns.recordName.zoneName); ` +
                    `its subjectAltName DNS names: ${found}; allowed: a certificate whose subjectAltName lists ${name} or *.${name.slice(name.indexOf(".") + 1)}`,
            );
        }
    }
    return problems;
}

/**
 * What is allowed but probably not meant, one line each, naming the key: shown by `pulumi preview`/`up`
 * (pulumi.log.warn) and the offline plan. Pure.
 */
export function configWarnings(config: StackConfig): string[] {
    const warnings: string[] = [];
    const dns = config.traffic.frontDoor === "dns" ? config.traffic.dns : undefined;
    if (dns && dns.ttl > DNS_RECOMMENDED_MAX_TTL) {
        const worst = dnsFailoverSeconds({ ...dns.healthCheck, ttlSeconds: dns.ttl });
        warnings.push(
            `${NAMESPACE}:traffic.dns.ttl: ${dns.ttl} s is above the ${DNS_RECOMMENDED_MAX_TTL} s AWS recommends for health-checked records: ` +
                `resolvers keep a failed instance's address that long, so failover takes up to ${worst} s. Set ${DNS_RECOMMENDED_MAX_TTL} or less to fail over faster.`,
        );
    }
    const zone = zoneNamesOf(config.traffic as unknown as Record<string, unknown>);
    if (zone && config.certificateSource.source === "selfSigned") {
        warnings.push(
            `${NAMESPACE}:tls.source: selfSigned while ${zone.names.join(", ")} ${zone.names.length === 1 ? "is" : "are"} in your zone ${zone.zoneName}: ` +
                `clients do not trust the certificate. Set ${NAMESPACE}:tls.source acme (with ${NAMESPACE}:tls.acme.email) for one they trust, renewed by the instances.`,
        );
    }
    warnings.push(...senderWarnings(config));
    return warnings;
}

/**
 * Validates a stack's config. `raw` maps full keys (`aws:region`, `orthweb:network`, ...) to values,
 * either parsed YAML or the JSON text the Pulumi runtime gives. Other namespaces are ignored.
 */
export function validateStackConfig(raw: Record<string, unknown>, options: ParseOptions = {}): { config?: StackConfig; problems: string[] } {
    const problems: string[] = [];
    const region = raw["aws:region"];
    if (region === undefined) {
        problems.push("aws:region: required; allowed: an AWS region such as eu-west-1 (pulumi config set aws:region eu-west-1)");
    } else if (typeof region !== "string" || !AWS_REGION.test(region)) {
        problems.push(`aws:region: got ${JSON.stringify(region)}; allowed: an AWS region such as eu-west-1`);
    }

    const input: Record<string, unknown> = {};
    for (const [fullName, value] of Object.entries(raw)) {
        const [namespace, ...rest] = fullName.split(":");
        if (namespace !== NAMESPACE) continue;
        input[rest.join(":")] = decodeSection(value);
    }

    const parsed = stackSchema.safeParse(input, { reportInput: true });
    if (!parsed.success) problems.push(...parsed.error.issues.flatMap(formatIssue));
    const cross = crossFieldProblems(input, options);
    problems.push(...cross.problems);
    problems.push(...loadBalancerProblems(input, region, cross.tlsFacts));
    problems.push(...pullThroughCacheProblems(input, region));
    problems.push(...tlsProblems(input));

    if (problems.length > 0 || !parsed.success) return { problems };
    const { tlsCertificatePem, tlsPrivateKeyPem, tls: tlsSection, ...rest } = parsed.data;
    const tls = tlsCertificatePem !== undefined && tlsPrivateKeyPem !== undefined ? { certificatePem: tlsCertificatePem, privateKeyPem: tlsPrivateKeyPem, facts: cross.tlsFacts } : undefined;
    const certificateSource = certificateSourceOf({ ...parsed.data, tls: tlsSection });
    return { config: { ...rest, region: region as string, tls, certificateSource }, problems };
}

/** Like validateStackConfig, but throws a ConfigError listing every problem. */
export function parseStackConfig(raw: Record<string, unknown>, options: ParseOptions = {}): StackConfig {
    const { config, problems } = validateStackConfig(raw, options);
    if (!config) throw new ConfigError(problems);
    return config;
}

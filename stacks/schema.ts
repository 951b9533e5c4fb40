// The config contract (namespace `orthweb`), as a zod schema: keys, types, ranges and defaults.
// Each leaf says what is allowed; that text is what a user reads when the value is wrong.
import { z } from "zod";
import { isPlausibleEmail } from "../rules/alarms";
import { DEFAULT_NONCURRENT_VERSION_DAYS } from "../rules/audit";
import { hostBitsSet, isPrivate, parseCidr, canonical } from "../rules/cidr";
import { DEFAULT_INSIDE_CIDRS, DEFAULT_TUNNEL_ALGORITHMS, insideCidrProblem, isPublicIpv4, TUNNEL_DH_GROUPS, TUNNEL_ENCRYPTION, TUNNEL_INTEGRITY } from "../rules/siteToSite";
import { AE_TITLE, MAX_AE_TITLES_PER_MODALITY, MAX_MODALITY_NAME_LENGTH, MODALITY_NAME, modalityAeTitles } from "../rules/modalities";
import { PEER_PORTS } from "../rules/ports";
import { ACME_DIRECTORIES, isAcmeDirectoryUrl, TLS_SOURCES } from "../rules/acme";
import { DNS_DEFAULT_TTL, DNS_RECOMMENDED_MAX_TTL, frontDoorName, isDnsName, LOWERCASE_DNS_NAME, LOWERCASE_RELATIVE_NAME, MAX_DNS_NAME_LENGTH, normalizeDnsName, relativeNameMeant } from "../rules/dnsName";

/** The traffic patterns this build can deploy. Later front doors add themselves here. */
export const FRONT_DOORS = ["direct", "dns", "loadBalancer", "none"] as const;
export type FrontDoor = (typeof FRONT_DOORS)[number];

export const DEFAULT_ORTHANC_IMAGE = "orthancteam/orthanc:25.12.3";
export const DEFAULT_NGINX_IMAGE = "nginx:1.28.0-alpine";

/** AWS allows 60 inbound rules per security group by default; leave room for front doors. */
export const MAX_CLIENT_CIDR_RULES = 40;

/** E-mail subscriptions on the alert topic: a handful of people or lists, not a directory. */
export const MAX_ALERT_EMAILS = 20;

function allowed(text: string) {
    return { error: `allowed: ${text}` };
}

/** A whole number from `min` to `max`; every way of missing says the same `allowed:` text. */
function wholeNumber(min: number, max: number, text: string) {
    return z.number(allowed(text)).int(allowed(text)).min(min, allowed(text)).max(max, allowed(text));
}

function cidrProblem(value: string, { privateOnly, minPrefix, maxPrefix }: { privateOnly: boolean; minPrefix: number; maxPrefix: number }): string | undefined {
    const cidr = parseCidr(value);
    if (!cidr) return "not an IPv4 CIDR block";
    if (hostBitsSet(cidr)) return `host bits are set (did you mean ${canonical(cidr)}?)`;
    if (cidr.prefix < minPrefix || cidr.prefix > maxPrefix) return `prefix /${cidr.prefix} is out of range`;
    if (privateOnly && !isPrivate(cidr)) return "not in private (RFC 1918) address space";
    return undefined;
}

function cidrSchema(opts: { privateOnly: boolean; minPrefix: number; maxPrefix: number }, allowedText: string) {
    return z.string(allowed(allowedText)).superRefine((value, ctx) => {
        const problem = cidrProblem(value, opts);
        if (problem) ctx.addIssue({ code: "custom", input: value, message: `${problem}; allowed: ${allowedText}` });
    });
}

/** A list refinement that reports each repeated entry, at its index. */
function rejectDuplicates(message: string) {
    return (list: readonly unknown[], ctx: z.RefinementCtx) => {
        const seen = new Set<unknown>();
        list.forEach((value, i) => {
            if (seen.has(value)) ctx.addIssue({ code: "custom", path: [i], input: value, message });
            seen.add(value);
        });
    };
}

const CLIENT_CIDR = "an IPv4 CIDR block such as 203.0.113.0/24 (0.0.0.0/0 for anywhere)";
const clientCidrList = z
    .array(cidrSchema({ privateOnly: false, minPrefix: 0, maxPrefix: 32 }, CLIENT_CIDR), allowed(`a list of ${CLIENT_CIDR}`))
    .superRefine(rejectDuplicates("listed twice; AWS rejects duplicate security group rules"));

/** An image reference pinned to a tag or digest: `latest` or no tag would change under a running stack. */
const pinnedImage = (example: string) =>
    z
        .string(allowed(`a pinned image reference such as ${example}`))
        .regex(/^[a-z0-9]+(?:[._\/-][a-z0-9]+)*(?::[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}|@sha256:[a-f0-9]{64})$/, allowed(`an image with a tag or digest, such as ${example}`))
        .refine((v) => !v.endsWith(":latest"), allowed(`a pinned tag, not latest, such as ${example}`));

/** A strict map of keys: unknown keys, and anything that is not a map, are errors listing the allowed keys. */
function section<T extends z.core.$ZodLooseShape>(shape: T) {
    const keys = Object.keys(shape).join(", ");
    return z.strictObject(shape, {
        error: (iss) => {
            if (iss.code === "unrecognized_keys") return `unknown key; allowed keys: ${keys}`;
            if (iss.code === "invalid_type") return `allowed: a map with the keys ${keys}`;
            return undefined;
        },
    });
}

export const networkSchema = section({
    vpcCidr: cidrSchema({ privateOnly: true, minPrefix: 16, maxPrefix: 22 }, "a private (RFC 1918) IPv4 block from /16 to /22, e.g. 172.17.0.0/16").default("172.17.0.0/16"),
    webClientCidrs: clientCidrList.default(["0.0.0.0/0"]),
    dicomClientCidrs: clientCidrList.default(["0.0.0.0/0"]),
    /** false: no internet gateway, NAT or public subnet; AWS services through VPC endpoints (stacks/siteToSiteRules.ts). */
    internetAccess: z
        .boolean(allowed("true | false (false: no internet gateway, NAT or public subnets; needs frontDoor none and a VPN)"))
        .default(true),
});

const MODALITY_NAME_TEXT = `a name usable in a certificate CN: 1 to ${MAX_MODALITY_NAME_LENGTH} of a-z 0-9 -, not starting or ending with -`;
const AE_TITLE_TEXT = "a DICOM AE title: 1 to 16 characters of A-Z a-z 0-9 space _ - . (no leading or trailing space)";
const AE_TITLES_TEXT = `${AE_TITLE_TEXT}, or a list of 1 to ${MAX_AE_TITLES_PER_MODALITY} of them (a modality that calls with several)`;
const aeTitleSchema = () => z.string(allowed(AE_TITLE_TEXT)).regex(AE_TITLE, allowed(AE_TITLE_TEXT));
/**
 * Each modality adds ~220 bytes to orthanc.json per AE title. The program delivers it in the config bundle (no size
 * limit), but the cloud-config for a manual boot (renderUserData, gzip-compressed as a whole) must stay under EC2's
 * 16 KB of user data: tests/dicomSenders.spec.ts renders this many of the longest kind, each with four AE titles, with
 * and without client certificates, and checks that they fit with 1 KB to spare.
 */
export const MAX_MODALITIES = 12;

function modalitySchema() {
    return section({
        name: z
            .string(allowed(MODALITY_NAME_TEXT))
            .max(MAX_MODALITY_NAME_LENGTH, allowed(MODALITY_NAME_TEXT))
            .regex(MODALITY_NAME, allowed(MODALITY_NAME_TEXT)),
        // One title, or several: nginx's sender gate admits the modality's certificate with any of them.
        aet: z.union(
            [
                aeTitleSchema(),
                z
                    .array(aeTitleSchema(), allowed(AE_TITLES_TEXT))
                    .min(1, allowed(AE_TITLES_TEXT))
                    .max(MAX_AE_TITLES_PER_MODALITY, allowed(AE_TITLES_TEXT)),
            ],
            allowed(AE_TITLES_TEXT),
        ),
        cidr: cidrSchema({ privateOnly: false, minPrefix: 0, maxPrefix: 32 }, "an IPv4 CIDR block such as 203.0.113.7/32: where this modality sends from").optional(),
    });
}

/** A list refinement that reports each entry whose `key` (as `normalize` sees it) an earlier entry already has. */
function rejectRepeated(key: string, normalize: (value: string) => string, message: string) {
    return (list: readonly Record<string, unknown>[], ctx: z.RefinementCtx) => {
        const seen = new Set<string>();
        list.forEach((entry, i) => {
            const value = entry?.[key];
            if (typeof value !== "string") return;
            if (seen.has(normalize(value))) ctx.addIssue({ code: "custom", path: [i, key], input: value, message });
            seen.add(normalize(value));
        });
    };
}
/**
 * Each calling AE title belongs to one modality and is listed once: Orthanc compares them case-insensitively
 * (StrictAetComparison false), and a title two certificates share would let either send as the other.
 */
function rejectRepeatedAeTitles(list: readonly { aet?: unknown }[], ctx: z.RefinementCtx) {
    const owner = new Map<string, number>();
    list.forEach((entry, i) => {
        const titles = entry?.aet;
        if (typeof titles !== "string" && !Array.isArray(titles)) return;
        modalityAeTitles({ aet: titles }).forEach((title, j) => {
            if (typeof title !== "string") return;
            const key = title.toUpperCase();
            const first = owner.get(key);
            if (first !== undefined) {
                const where = first === i ? "listed twice for this modality" : "used by another modality";
                const path = typeof titles === "string" ? [i, "aet"] : [i, "aet", j];
                ctx.addIssue({ code: "custom", path, input: title, message: `${where} (AE titles compare case-insensitively); allowed: unique AE titles` });
            } else {
                owner.set(key, i);
            }
        });
    });
}

const CACHE_CREDENTIALS_ARN =
    "the ARN of a Secrets Manager secret in this stack's region whose name starts with ecr-pullthroughcache/ " +
    '(holding {"username": ..., "accessToken": ...} of a Docker Hub account), such as arn:aws:secretsmanager:eu-west-1:123456789012:secret:ecr-pullthroughcache/dockerhub-AbCdEf';
/** `orthanc.pullThroughCache`: Docker Hub images through ECR. Cross-field rules: stacks/imageCacheRules.ts. */
export const pullThroughCacheSchema = section({
    enabled: z.boolean(allowed("true | false (default: true in prod, false in dev)")).optional(),
    dockerHubCredentialsArn: z
        .string(allowed(CACHE_CREDENTIALS_ARN))
        .regex(/^arn:aws(?:-cn|-us-gov)?:secretsmanager:[a-z]{2}(?:-gov)?-[a-z]+-\d:\d{12}:secret:ecr-pullthroughcache\/[A-Za-z0-9\/_+=.@-]+$/, allowed(CACHE_CREDENTIALS_ARN))
        .optional(),
});

export const orthancSchema = section({
    instanceType: z
        .string(allowed("an EC2 instance type such as t3.medium or m7g.large"))
        .regex(/^[a-z][a-z0-9-]*\.[a-z0-9]+$/, allowed("an EC2 instance type such as t3.medium or m7g.large"))
        .default("t3.medium"),
    image: pinnedImage(DEFAULT_ORTHANC_IMAGE).default(DEFAULT_ORTHANC_IMAGE),
    nginxImage: pinnedImage(DEFAULT_NGINX_IMAGE).default(DEFAULT_NGINX_IMAGE),
    aet: z
        .string(allowed("a DICOM AE title: 1 to 16 characters of A-Z a-z 0-9 space _ - ."))
        .regex(/^[A-Za-z0-9_.-](?:[A-Za-z0-9 _.-]{0,14}[A-Za-z0-9_.-])?$/, allowed("a DICOM AE title: 1 to 16 characters of A-Z a-z 0-9 space _ - . (no leading or trailing space)"))
        .default("ORTHANC"),
    modalities: z
        .array(modalitySchema(), allowed(`a list of modalities, each a map with name, aet and optionally cidr`))
        .max(MAX_MODALITIES, allowed(`at most ${MAX_MODALITIES} modalities (each is an orthanc.json entry and a certificate; the cloud-config for a manual boot must fit 16 KB)`))
        .superRefine(rejectRepeated("name", (v) => v, "used by another modality; allowed: unique names (each gets its own certificate)"))
        // Orthanc compares AE titles case-insensitively (StrictAetComparison false).
        .superRefine(rejectRepeatedAeTitles)
        .default([]),
    dicomClientCertificates: z.boolean(allowed("true | false (true: every DICOM sender presents its generated client certificate)")).default(false),
    pullThroughCache: pullThroughCacheSchema.prefault({}),
});

const ENGINE_VERSION = 'a PostgreSQL major version 14 to 17, or major.minor, as a string: "16" or "16.4"';
export const databaseSchema = section({
    instanceClass: z
        .string(allowed("an RDS instance class such as db.t4g.small"))
        .regex(/^db\.[a-z0-9]+\.[a-z0-9]+$/, allowed("an RDS instance class such as db.t4g.small"))
        .default("db.t4g.small"),
    // YAML reads an unquoted 16 as a number; accept it rather than make users quote it.
    engineVersion: z
        .preprocess((v) => (typeof v === "number" && Number.isInteger(v) ? String(v) : v), z.string(allowed(ENGINE_VERSION)))
        .pipe(
            z
                .string()
                .regex(/^(1[4-7])(\.\d+)?$/, allowed(ENGINE_VERSION)),
        )
        .default("16"),
    allocatedStorageGiB: wholeNumber(20, 65536, "a whole number of GiB from 20 to 65536").default(20),
});

const LB_ZONE_NAME = "a public hosted zone's domain name in lowercase, without the trailing dot, such as example.org";
const LB_RECORD_NAME = "a record name in the zone: lowercase letters, digits and hyphens, such as pacs";
const LB_CERTIFICATE_ARN = "an ACM certificate ARN such as arn:aws:acm:eu-west-1:123456789012:certificate/0a1b2c3d-...";
const lbRecordNameSchema = () => z.string(allowed(LB_RECORD_NAME)).regex(LOWERCASE_RELATIVE_NAME, allowed(LB_RECORD_NAME));
const LB_INTERVAL = "a whole number of seconds from 5 to 300";
const LB_THRESHOLD = "a whole number of consecutive checks from 2 to 10";

export const loadBalancerHealthCheckSchema = section({
    intervalSeconds: wholeNumber(5, 300, LB_INTERVAL).default(5),
    healthyThreshold: wholeNumber(2, 10, LB_THRESHOLD).default(3),
    unhealthyThreshold: wholeNumber(2, 10, LB_THRESHOLD).default(2),
});

/** `traffic.loadBalancer`: used when frontDoor is loadBalancer. Cross-field rules: stacks/loadBalancerRules.ts. */
export const loadBalancerSchema = section({
    type: z
        .enum(["network", "application"], allowed("network (DICOM and HTTPS on one NLB) | application (HTTPS on an ALB with WAF, DICOM on a companion NLB)"))
        .default("network"),
    scheme: z.enum(["internet-facing", "internal"], allowed("internet-facing | internal")).default("internet-facing"),
    zoneName: z
        .string(allowed(LB_ZONE_NAME))
        .regex(LOWERCASE_DNS_NAME, allowed(LB_ZONE_NAME))
        .optional(),
    recordName: lbRecordNameSchema().default("pacs"),
    certificateArn: z
        .string(allowed(LB_CERTIFICATE_ARN))
        .regex(/^arn:aws(?:-cn|-us-gov)?:acm:[a-z]{2}(?:-gov)?-[a-z]+-\d:\d{12}:certificate\/[A-Za-z0-9-]+$/, allowed(LB_CERTIFICATE_ARN))
        .optional(),
    waf: z.boolean(allowed("true | false (application only)")).default(true),
    dicomTls: z
        .enum(["terminate", "passthrough"], allowed("terminate (TLS ends at the load balancer, with its certificate) | passthrough (TCP to the instances' own TLS; keeps DICOM mutual TLS possible)"))
        .default("terminate"),
    dicomRecordName: lbRecordNameSchema().optional(),
    healthCheck: loadBalancerHealthCheckSchema.prefault({}),
});

/** How Route 53 answers for the front-door name; all three attach a health check to every record. */
export const DNS_ROUTINGS = ["multivalue", "weighted", "failover"] as const;
export const DNS_MAX_TTL = 300;
/**
 * A rule naming an AWS-managed prefix list counts as the list's max entries against the 60 inbound rules of a
 * security group; the Route 53 health checkers' list weighs 25 and is named twice (443 and 11112). The instances'
 * peer fallback takes one rule per peer-only port.
 */
export const ROUTE53_HEALTH_CHECKERS_RULE_WEIGHT = 25;
export const DNS_MAX_CLIENT_CIDR_RULES = 60 - 2 * ROUTE53_HEALTH_CHECKERS_RULE_WEIGHT - PEER_PORTS.length;

const ZONE_NAME = "the name of an existing public hosted zone in Route 53, such as example.org";
const RECORD_NAME = "a name relative to the zone, such as pacs (for pacs.example.org): labels of a-z 0-9 and inner -";
const TTL = `a whole number of seconds from 1 to ${DNS_MAX_TTL} (${DNS_RECOMMENDED_MAX_TTL} or less recommended with health checks)`;
const INTERVAL = "10 | 30 (seconds between checks; 10 costs $1 more per check and month; fixed once created)";
const THRESHOLD = "a whole number of failed checks from 1 to 10";

/** A public hosted zone's name: two labels or more, normalized (lowercase, no root dot). */
const zoneNameSchema = (text: string) => z.string(allowed(text)).refine((v) => isDnsName(v, 2), allowed(text)).transform(normalizeDnsName);

export const dnsSchema = section({
    zoneName: zoneNameSchema(ZONE_NAME),
    recordName: z
        .string(allowed(RECORD_NAME))
        .refine((v) => !v.endsWith(".") && isDnsName(v, 1), allowed(RECORD_NAME))
        .transform(normalizeDnsName),
    routing: z.enum(DNS_ROUTINGS, allowed(DNS_ROUTINGS.join(" | "))).default("multivalue"),
    ttl: wholeNumber(1, DNS_MAX_TTL, TTL).default(DNS_DEFAULT_TTL),
    healthCheck: section({
        intervalSeconds: z.literal([10, 30], allowed(INTERVAL)).default(10),
        failureThreshold: wholeNumber(1, 10, THRESHOLD).default(2),
    }).prefault({}),
}).superRefine((dns, ctx) => {
    // Runs even when a field failed: look only at fields that are valid names.
    if (typeof dns.zoneName !== "string" || typeof dns.recordName !== "string") return;
    if (!isDnsName(dns.zoneName, 2) || !isDnsName(dns.recordName, 1)) return;
    const meant = relativeNameMeant(dns.zoneName, dns.recordName);
    if (meant !== undefined) {
        const hint = meant ? `did you mean ${meant}?` : "the front door needs a name under the zone, such as pacs";
        ctx.addIssue({ code: "custom", path: ["recordName"], input: dns.recordName, message: `already ends with the zone ${dns.zoneName} (${hint}); allowed: ${RECORD_NAME}` });
        return;
    }
    const name = frontDoorName(dns);
    if (name.length > MAX_DNS_NAME_LENGTH) {
        ctx.addIssue({
            code: "custom",
            path: ["recordName"],
            input: dns.recordName,
            message: `makes ${name.length} characters with the zone; allowed: at most ${MAX_DNS_NAME_LENGTH} in all (recordName.zoneName)`,
        });
    }
});

export const MAX_VPN_CLIENTS = 100;
export const VPN_DEFAULTS = { clientCidr: "192.168.0.0/22", certificateDomain: "vpn.orthweb.internal", certificateValidityDays: 825 } as const;
const DNS_NAME = "a DNS name such as vpn.example.org (lowercase labels of a-z 0-9 -, at least two)";
const VPN_CLIENT = "a workstation name usable in a certificate CN: 1 to 63 of a-z 0-9 -, not starting or ending with -";
const VPN_VALIDITY = "a whole number of days from 90 to 3650";

export const clientVpnSchema = section({
    clientCidr: cidrSchema({ privateOnly: false, minPrefix: 12, maxPrefix: 22 }, "an IPv4 block from /12 to /22, e.g. 192.168.0.0/22, not overlapping orthweb:network.vpcCidr").default(VPN_DEFAULTS.clientCidr),
    certificateDomain: z
        .string(allowed(DNS_NAME))
        .regex(LOWERCASE_DNS_NAME, allowed(DNS_NAME))
        .default(VPN_DEFAULTS.certificateDomain),
    certificateValidityDays: wholeNumber(90, 3650, VPN_VALIDITY).default(VPN_DEFAULTS.certificateValidityDays),
    clients: z
        .array(z.string(allowed(VPN_CLIENT)).regex(/^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/, allowed(VPN_CLIENT)), allowed(`a list of 1 to ${MAX_VPN_CLIENTS} names, each ${VPN_CLIENT}`))
        .min(1, allowed(`a list of 1 to ${MAX_VPN_CLIENTS} names (one certificate and .ovpn profile each)`))
        .max(MAX_VPN_CLIENTS, allowed(`a list of 1 to ${MAX_VPN_CLIENTS} names`))
        .superRefine(rejectDuplicates("listed twice; allowed: unique names (each gets its own certificate)")),
    transport: z.enum(["udp", "tcp"], allowed("udp | tcp (tcp on 443 passes firewalls that block UDP)")).default("udp"),
    port: z.literal([443, 1194], allowed("443 | 1194")).default(443),
    splitTunnel: z.boolean(allowed("true | false (true: only VPC traffic goes through the VPN)")).default(true),
});

export const MAX_ON_PREMISES_CIDRS = 10;
const ON_PREM_CIDR = "an IPv4 CIDR block of the site's network, such as 10.40.0.0/16";
const CUSTOMER_GATEWAY_IP = "the public IPv4 address of the site's VPN device, such as 198.51.100.10";
const BGP_ASN = "a whole number from 1 to 4294967294 other than 64512 (the Amazon side's), such as 65010; omit for static routes";
const TGW_ID = "a transit gateway id such as tgw-0123456789abcdef0; omit to create a virtual private gateway";
const TGW_RTB = "the id of the transit gateway route table that gets the static routes to the site, such as tgw-rtb-0123456789abcdef0";
const listOf = <T extends z.ZodType>(item: T, text: string) =>
    z.array(item, allowed(`a list of ${text}`)).min(1, allowed(`at least one of ${text}`)).superRefine(rejectDuplicates("listed twice; allowed: each value once"));

const insideCidrSchema = () =>
    z.string(allowed("a /30 inside 169.254.0.0/16")).superRefine((value, ctx) => {
        const problem = insideCidrProblem(value);
        if (problem) ctx.addIssue({ code: "custom", input: value, message: `${problem}; allowed: a /30 inside 169.254.0.0/16, not one AWS reserves` });
    });

/** `traffic.siteToSiteVpn`: an IPsec connection from a site's firewall. Cross-field rules: stacks/siteToSiteRules.ts. */
export const siteToSiteVpnSchema = section({
    customerGatewayIp: z.string(allowed(CUSTOMER_GATEWAY_IP)).refine(isPublicIpv4, allowed(`${CUSTOMER_GATEWAY_IP} (not private, shared or special-use space)`)),
    onPremisesCidrs: listOf(cidrSchema({ privateOnly: false, minPrefix: 8, maxPrefix: 32 }, ON_PREM_CIDR), `1 to ${MAX_ON_PREMISES_CIDRS} blocks, each ${ON_PREM_CIDR}`).refine(
        (list) => list.length <= MAX_ON_PREMISES_CIDRS,
        allowed(`at most ${MAX_ON_PREMISES_CIDRS} blocks (two security group rules each); summarise them`),
    ),
    bgpAsn: z
        .number(allowed(BGP_ASN))
        .int(allowed(BGP_ASN))
        .min(1, allowed(BGP_ASN))
        .max(4294967294, allowed(BGP_ASN))
        .refine((n) => n !== 64512, allowed(BGP_ASN))
        .optional(),
    transitGatewayId: z.string(allowed(TGW_ID)).regex(/^tgw-[0-9a-f]{8,17}$/, allowed(TGW_ID)).optional(),
    /** Required with transitGatewayId (stacks/siteToSiteRules.ts): a gateway's default route table may be disabled. */
    transitGatewayRouteTableId: z.string(allowed(TGW_RTB)).regex(/^tgw-rtb-[0-9a-f]{8,17}$/, allowed(TGW_RTB)).optional(),
    tunnels: section({
        encryption: listOf(z.enum(TUNNEL_ENCRYPTION, allowed(TUNNEL_ENCRYPTION.join(" | "))), TUNNEL_ENCRYPTION.join(" | ")).default([...DEFAULT_TUNNEL_ALGORITHMS.encryption]),
        integrity: listOf(z.enum(TUNNEL_INTEGRITY, allowed(`${TUNNEL_INTEGRITY.join(" | ")} (SHA1 is weak and refused)`)), TUNNEL_INTEGRITY.join(" | ")).default([...DEFAULT_TUNNEL_ALGORITHMS.integrity]),
        dhGroups: listOf(z.literal(TUNNEL_DH_GROUPS, allowed(`Diffie-Hellman groups ${TUNNEL_DH_GROUPS.join(" | ")} (below 14 and 22-24 are weak and refused)`)), `groups ${TUNNEL_DH_GROUPS.join(" | ")}`).default([...DEFAULT_TUNNEL_ALGORITHMS.dhGroups]),
        insideCidrs: z
            .tuple([insideCidrSchema(), insideCidrSchema()], allowed("two /30 blocks inside 169.254.0.0/16, one per tunnel"))
            .refine(([a, b]) => a !== b, allowed("two different /30 blocks"))
            .default([...DEFAULT_INSIDE_CIDRS]),
    }).prefault({}),
});

const DIRECT_ZONE_NAME = "the name of an existing public hosted zone in Route 53, such as example.org (each instance gets a name in it)";
const RECORD_PREFIX = "a label of a-z 0-9 and inner -, at most 61 characters, such as pacs (for pacs-1 and pacs-2)";
/**
 * `traffic.direct`: with frontDoor direct, each instance by a name of the user's zone, `<recordPrefix>-<slot>.<zoneName>`
 * (an A record on the slot's Elastic IP), instead of its ec2-....amazonaws.com name. Optional. Cross-field rules:
 * stacks/tlsRules.ts.
 */
export const directSchema = section({
    zoneName: zoneNameSchema(DIRECT_ZONE_NAME),
    recordPrefix: z
        .string(allowed(RECORD_PREFIX))
        .regex(/^[a-z0-9](?:[a-z0-9-]{0,59}[a-z0-9])?$/, allowed(RECORD_PREFIX))
        .default("pacs"),
});

export const trafficSchema = section({
    frontDoor: z.enum(FRONT_DOORS, allowed(FRONT_DOORS.join(" | "))).default("direct"),
    direct: directSchema.optional(),
    loadBalancer: loadBalancerSchema.prefault({}),
    /** Required when frontDoor is dns (checked in stacks/config.ts, which sees the raw input). */
    dns: dnsSchema.optional(),
    clientVpn: clientVpnSchema.optional(),
    siteToSiteVpn: siteToSiteVpnSchema.optional(),
});

/** The study bucket's lifecycle. Noncurrent versions: what an overwrite or a delete leaves behind. */
const NONCURRENT_DAYS = "a whole number of days from 1 to 3650 that deleted or overwritten study objects stay recoverable";
export const storageSchema = section({
    noncurrentVersionDays: wholeNumber(1, 3650, NONCURRENT_DAYS).default(DEFAULT_NONCURRENT_VERSION_DAYS),
});

/** The audit trail's log storage. retentionDays defaults per environment (rules/audit.ts), so it stays optional here. */
const RETENTION_DAYS = "a whole number of days from 1 to 3653 that audit logs are kept (default 365 in prod, 30 in dev)";
export const auditSchema = section({
    retentionDays: wholeNumber(1, 3653, RETENTION_DAYS).optional(),
});

const EMAIL = "an e-mail address such as oncall@example.org";
/** Who is told when an alarm fires or a rollout stops (SNS e-mail subscriptions; each confirms by mail). */
export const alertsSchema = section({
    emails: z
        .array(z.string(allowed(EMAIL)).refine(isPlausibleEmail, allowed(EMAIL)), allowed(`a list of ${EMAIL}`))
        .max(MAX_ALERT_EMAILS, allowed(`at most ${MAX_ALERT_EMAILS} addresses`))
        .superRefine(rejectDuplicates("listed twice; give each address once"))
        .default([]),
});

const PEM_TEXT = "a PEM text (set it with `pulumi config set --secret`)";

const TLS_SOURCE =
    "selfSigned (a certificate made by pulumi up; no client trusts it) | provided (orthweb:tlsCertificatePem and tlsPrivateKeyPem) | " +
    "acme (issued and renewed by the instances from an ACME CA, by DNS-01 in your Route 53 zone)";
const ACME_EMAIL = "the contact e-mail address of the ACME account, such as pki@example.org";
const ACME_DIRECTORY = `${Object.keys(ACME_DIRECTORIES).join(" | ")} (Let's Encrypt; default staging in dev, production in prod) | the https:// directory URL of another ACME CA`;
const ACME_EXTRA_NAME = "one more DNS name for the certificate, in the stack's zone, such as images.example.org";
/** `orthweb:tls`: where the instances' certificate comes from. Cross-field rules: stacks/tlsRules.ts. */
export const tlsSchema = section({
    /** @default provided when orthweb:tlsCertificatePem is set, else selfSigned */
    source: z.enum(TLS_SOURCES, allowed(TLS_SOURCE)).optional(),
    acme: section({
        email: z.string(allowed(ACME_EMAIL)).refine(isPlausibleEmail, allowed(ACME_EMAIL)),
        /** @default staging in dev, production in prod */
        directory: z
            .string(allowed(ACME_DIRECTORY))
            .refine((v) => v in ACME_DIRECTORIES || isAcmeDirectoryUrl(v), allowed(ACME_DIRECTORY))
            .optional(),
        extraName: z.string(allowed(ACME_EXTRA_NAME)).regex(LOWERCASE_DNS_NAME, allowed(ACME_EXTRA_NAME)).optional(),
    }).optional(),
});

/** The whole `orthweb` namespace. `traffic` is the one required key. */
export const stackSchema = section({
    environment: z.enum(["dev", "prod"], allowed("dev | prod")).default("dev"),
    network: networkSchema.prefault({}),
    orthanc: orthancSchema.prefault({}),
    database: databaseSchema.prefault({}),
    storage: storageSchema.prefault({}),
    audit: auditSchema.prefault({}),
    traffic: trafficSchema,
    alerts: alertsSchema.prefault({}),
    tls: tlsSchema.prefault({}),
    tlsCertificatePem: z.string(allowed(PEM_TEXT)).optional(),
    tlsPrivateKeyPem: z.string(allowed(PEM_TEXT)).optional(),
});

export type OrthwebConfig = z.output<typeof stackSchema>;

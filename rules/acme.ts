// Certificates from an ACME CA (Let's Encrypt, or a private CA speaking ACME) by DNS-01 in the user's Route 53 zone:
// which names a stack's certificate carries, the renewal timeline, the challenge records the instances may write, and
// what the plan and the stack outputs say about who trusts the certificate. Pure: no Pulumi, no AWS.
import { normalizeDnsName } from "./dnsName";

/** Where the instances' certificate comes from (orthweb:tls.source). */
export const TLS_SOURCES = ["selfSigned", "provided", "acme"] as const;
export type TlsSource = (typeof TLS_SOURCES)[number];

/** Let's Encrypt's ACME v2 directories; any other https URL is a private CA's. */
export const ACME_DIRECTORIES = {
    production: "https://acme-v02.api.letsencrypt.org/directory",
    staging: "https://acme-staging-v02.api.letsencrypt.org/directory",
} as const;
export type AcmeDirectoryName = keyof typeof ACME_DIRECTORIES;

/** Staging in dev (its rate limits are generous and its certificates are not trusted), production in prod. */
export function defaultAcmeDirectory(environment: "dev" | "prod"): AcmeDirectoryName {
    return environment === "prod" ? "production" : "staging";
}

/** The directory URL for a configured value: a name of ACME_DIRECTORIES or a URL as given. */
export function acmeDirectoryUrl(directory: string): string {
    return directory in ACME_DIRECTORIES ? ACME_DIRECTORIES[directory as AcmeDirectoryName] : directory;
}

/** An https URL without spaces: what an ACME client can use as a directory. */
export function isAcmeDirectoryUrl(value: string): boolean {
    try {
        const url = new URL(value);
        return url.protocol === "https:" && url.hostname.length > 0 && !/\s/.test(value);
    } catch {
        return false;
    }
}

/**
 * Renewal starts this many days before expiry (Let's Encrypt's 90-day certificates: at 60 days of age, as the CA
 * recommends), so a failed renewal has 16 days of retries before the alarm.
 */
export const RENEW_BEFORE_DAYS = 30;
/** The alarm fires when the certificate an instance serves has fewer days left than this. */
export const ALARM_BELOW_DAYS = 14;
/** The renewal timer's interval: each run checks, renews when due, and reports the days left. */
export const ACME_CHECK_INTERVAL_SECONDS = 3600;
/** After a failed issuance the next try waits this long, doubling per failure up to ACME_MAX_BACKOFF_SECONDS. */
export const ACME_FIRST_BACKOFF_SECONDS = 3600;
export const ACME_MAX_BACKOFF_SECONDS = 24 * 3600;
/** A lock older than this is taken over: its holder died (lego's own run is bounded well below it). */
export const ACME_LOCK_TTL_SECONDS = 900;
/** The CloudWatch metric the renewal step publishes: the served certificate's days left, per slot. */
export const ACME_METRIC = { namespace: "Orthweb/Certificates", name: "DaysToExpiry", dimension: "Slot" } as const;

/**
 * The wait before try number `failures + 1` after `failures` failed issuances in a row: 1 h, 2 h, 4 h ... 24 h.
 * With an hourly timer that keeps a broken setup well inside the CA's failed-validation limits.
 */
export function backoffSeconds(failures: number): number {
    if (failures <= 0) return 0;
    return Math.min(ACME_FIRST_BACKOFF_SECONDS * 2 ** (failures - 1), ACME_MAX_BACKOFF_SECONDS);
}

/** The pair's slots: one instance each, each with its own name when the stack has a zone for them. */
export const PAIR_SLOTS = 2;

/** Instance `slot` (1-based) by name in the user's zone: `<prefix>-<slot>.<zone>`, e.g. pacs-1.example.org. */
export function instanceName(zoneName: string, recordPrefix: string, slot: number): string {
    return `${normalizeDnsName(recordPrefix)}-${slot}.${normalizeDnsName(zoneName)}`;
}

export function instanceNames(zoneName: string, recordPrefix: string, slots: number): string[] {
    return Array.from({ length: slots }, (_, i) => instanceName(zoneName, recordPrefix, i + 1));
}

/** The DNS-01 challenge record for a name (RFC 8555 section 8.4), as Route 53 normalizes it: lowercase, no dot. */
export function challengeRecordName(name: string): string {
    return `_acme-challenge.${normalizeDnsName(name)}`;
}

/** True when `name` is `zone` or under it. */
export function isInZone(name: string, zoneName: string): boolean {
    const n = normalizeDnsName(name);
    const z = normalizeDnsName(zoneName);
    return n === z || n.endsWith(`.${z}`);
}

/**
 * The Route 53 calls lego's route53 provider makes with AWS_HOSTED_ZONE_ID set (go-acme/lego
 * providers/dns/route53/route53.go): Present and CleanUp read the existing TXT values (ListResourceRecordSets),
 * UPSERT or DELETE the TXT record (ChangeResourceRecordSets) and wait for INSYNC (GetChange). Without the zone id it
 * would also call ListHostedZonesByName; the script always passes it.
 */
export const LEGO_ROUTE53_ACTIONS = ["route53:ListResourceRecordSets", "route53:ChangeResourceRecordSets", "route53:GetChange"] as const;
/** What lego changes: UPSERT to present a challenge, DELETE to clean it up. */
export const CHALLENGE_CHANGE_ACTIONS = ["UPSERT", "DELETE"] as const;

/**
 * The instance role's Route 53 statements: changes only in the zone, only TXT, only `_acme-challenge.<name>` for the
 * certificate's names, only UPSERT/DELETE (the ChangeResourceRecordSets condition keys; ForAllValues, so every change
 * of a batch must match, and a Null check so that a request without changes cannot pass on an empty set).
 */
export function challengeStatements(partition: string, zoneId: string, names: readonly string[]): Record<string, unknown>[] {
    const zoneArn = `arn:${partition}:route53:::hostedzone/${zoneId.replace(/^\/hostedzone\//, "")}`;
    return [
        {
            Sid: "AcmeChallengeRecords",
            Effect: "Allow",
            Action: "route53:ChangeResourceRecordSets",
            Resource: zoneArn,
            Condition: {
                "ForAllValues:StringEquals": {
                    "route53:ChangeResourceRecordSetsNormalizedRecordNames": [...new Set(names.map(challengeRecordName))],
                    "route53:ChangeResourceRecordSetsRecordTypes": ["TXT"],
                    "route53:ChangeResourceRecordSetsActions": [...CHALLENGE_CHANGE_ACTIONS],
                },
                Null: { "route53:ChangeResourceRecordSetsNormalizedRecordNames": "false" },
            },
        },
        { Sid: "AcmeReadChallengeRecords", Effect: "Allow", Action: "route53:ListResourceRecordSets", Resource: zoneArn },
        // A change id is not known in advance; GetChange only reads a change's status.
        { Sid: "AcmeWaitForChange", Effect: "Allow", Action: "route53:GetChange", Resource: `arn:${partition}:route53:::change/*` },
    ];
}

/** How a stack's instance certificate is made, as the program and the plan describe it. */
export interface CertificateTrust {
    readonly source: TlsSource;
    /** The names the certificate carries besides the instances' AWS names (self-signed) or as a whole (acme). */
    readonly names: readonly string[];
    /** acme: the directory URL. */
    readonly directoryUrl?: string;
}

/** Who trusts the instances' certificate, in a sentence for the plan and the stack output. */
export function trustText(t: CertificateTrust): string {
    const names = t.names.length > 0 ? t.names.join(", ") : "the instances' own names";
    switch (t.source) {
        case "selfSigned":
            return `a self-signed certificate for ${names}: no browser or modality trusts it until its certificate is imported`;
        case "provided":
            return "your own certificate (orthweb:tlsCertificatePem): trusted by whoever trusts its issuer; you renew it";
        case "acme": {
            const url = t.directoryUrl ?? "";
            const who =
                url === ACME_DIRECTORIES.production
                    ? "trusted by browsers and the usual trust stores (Let's Encrypt)"
                    : url === ACME_DIRECTORIES.staging
                      ? "Let's Encrypt STAGING: trusted by no one (set orthweb:tls.acme.directory production to be trusted)"
                      : `trusted by clients that trust the CA of ${url}`;
            return `an ACME certificate for ${names}, renewed by the instances ${RENEW_BEFORE_DAYS} days before expiry: ${who}`;
        }
    }
}

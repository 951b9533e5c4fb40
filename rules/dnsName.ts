// DNS names as the `dns` front door uses them: a public hosted zone and a name relative to it. Pure.

/** One DNS label as Route 53 accepts it for an A record: letters, digits and inner hyphens, at most 63 characters. */
const LABEL = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/i;
/** RFC 1035: a full name, without the root dot, has at most 253 characters. */
export const MAX_DNS_NAME_LENGTH = 253;

const LOWERCASE_LABEL = "[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?";
/** A full lowercase name of two labels or more, without the root dot, at most 253 characters: example.org. */
export const LOWERCASE_DNS_NAME = new RegExp(`^(?=.{1,${MAX_DNS_NAME_LENGTH}}$)${LOWERCASE_LABEL}(?:\\.${LOWERCASE_LABEL})+$`);
/** A lowercase name relative to a zone, one label or more: pacs, or pacs.imaging. */
export const LOWERCASE_RELATIVE_NAME = new RegExp(`^${LOWERCASE_LABEL}(?:\\.${LOWERCASE_LABEL})*$`);

/** Lower case and no trailing root dot: `Example.ORG.` -> `example.org`. */
export function normalizeDnsName(name: string): string {
    return name.replace(/\.$/, "").toLowerCase();
}

/** True when `name` (a trailing root dot allowed) is made of at least `minLabels` valid labels. */
export function isDnsName(name: string, minLabels = 1): boolean {
    const labels = name.replace(/\.$/, "").split(".");
    return labels.length >= minLabels && labels.every((label) => LABEL.test(label));
}

/** The name clients use: `recordName` under `zoneName`, e.g. pacs + example.org -> pacs.example.org. */
export function frontDoorName(dns: { readonly zoneName: string; readonly recordName: string }): string {
    return `${normalizeDnsName(dns.recordName)}.${normalizeDnsName(dns.zoneName)}`;
}

/**
 * A recordName that already ends with its zone (pacs.example.org in example.org) would become
 * pacs.example.org.example.org: returns the relative name the user meant, else undefined.
 */
export function relativeNameMeant(zoneName: string, recordName: string): string | undefined {
    const zone = normalizeDnsName(zoneName);
    const record = normalizeDnsName(recordName);
    if (record === zone) return "";
    return record.endsWith(`.${zone}`) ? record.slice(0, -(zone.length + 1)) : undefined;
}

/** AWS recommends a TTL of 60 s or less on health-checked records; up to 300 s is accepted with a warning. */
export const DNS_RECOMMENDED_MAX_TTL = 60;
/**
 * The default TTL: half the recommended maximum, so that the default worst case (10 s x 2 checks + 10 s + 30 s,
 * rules/failover.ts) stays within a minute.
 */
export const DNS_DEFAULT_TTL = 30;

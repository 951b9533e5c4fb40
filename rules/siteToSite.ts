// Site-to-site VPN facts both sides need: the AWS tunnel option vocabulary, what counts as weak, the shape of
// pre-shared keys and inside CIDRs AWS accepts, and strongSwan's names for the algorithms (rules/siteGateway.ts renders the
// software customer gateway's files).
// Pure; no dependency on Pulumi.
import { contains, ipv4ToString, isIpv4Address, parseCidr } from "./cidr";

/** Tunnel encryption algorithms AWS offers, strongest first, as AWS names them. */
export const TUNNEL_ENCRYPTION = ["AES256-GCM-16", "AES128-GCM-16", "AES256", "AES128"] as const;
export type TunnelEncryption = (typeof TUNNEL_ENCRYPTION)[number];
/** Integrity algorithms this program admits (AWS also offers SHA1, which the policy rejects). */
export const TUNNEL_INTEGRITY = ["SHA2-384", "SHA2-512", "SHA2-256"] as const;
export type TunnelIntegrity = (typeof TUNNEL_INTEGRITY)[number];
/** Diffie-Hellman groups this program admits: 14 and up, without 22-24 (MODP groups with small subgroups, RFC 8247). */
export const TUNNEL_DH_GROUPS = [20, 19, 21, 14, 15, 16, 17, 18] as const;
export type TunnelDhGroup = (typeof TUNNEL_DH_GROUPS)[number];

export interface TunnelAlgorithms {
    readonly encryption: readonly TunnelEncryption[];
    readonly integrity: readonly TunnelIntegrity[];
    readonly dhGroups: readonly TunnelDhGroup[];
}

export const DEFAULT_TUNNEL_ALGORITHMS: TunnelAlgorithms = { encryption: ["AES256-GCM-16"], integrity: ["SHA2-384"], dhGroups: [20] };
/** Inside /30s of the two tunnels, unless configured: fixed so that the customer side's config does not change. */
export const DEFAULT_INSIDE_CIDRS = ["169.254.210.0/30", "169.254.210.4/30"] as const;
/** AWS defaults kept explicit, so that the rendered customer configuration matches them. */
export const PHASE1_LIFETIME_SECONDS = 28800;
export const PHASE2_LIFETIME_SECONDS = 3600;
/** AWS's dead-peer detection timeout on its end (the site's own bound: rules/siteGateway.ts). */
export const DPD_TIMEOUT_SECONDS = 30;
/** The Amazon side's ASN when none is given (AWS default for a virtual private gateway). */
export const AMAZON_SIDE_ASN = 64512;
/** AWS ties a customer gateway to an ASN even for static routing; this is its default then. */
export const STATIC_CUSTOMER_ASN = 65000;

/** The /30s AWS reserves inside 169.254.0.0/16 (VPN user guide, tunnel options). */
export const RESERVED_INSIDE_CIDRS = ["169.254.0.0/30", "169.254.1.0/30", "169.254.2.0/30", "169.254.3.0/30", "169.254.4.0/30", "169.254.5.0/30", "169.254.169.252/30"] as const;
const LINK_LOCAL = parseCidr("169.254.0.0/16")!;

/** Why AWS would refuse this tunnel inside CIDR, or undefined when it is fine. */
export function insideCidrProblem(text: string): string | undefined {
    const cidr = parseCidr(text);
    if (!cidr) return "not an IPv4 CIDR block";
    if (cidr.prefix !== 30) return `a /${cidr.prefix}; a tunnel's inside block is a /30`;
    if (cidr.address !== cidr.network) return `host bits are set (did you mean ${ipv4ToString(cidr.network)}/30?)`;
    if (!contains(LINK_LOCAL, cidr)) return "outside 169.254.0.0/16";
    if (RESERVED_INSIDE_CIDRS.includes(text as (typeof RESERVED_INSIDE_CIDRS)[number])) return `reserved by AWS (${RESERVED_INSIDE_CIDRS.join(", ")})`;
    return undefined;
}

/** The two inside addresses of a tunnel's /30: AWS takes the first usable, the customer gateway the second. */
export function insideAddresses(insideCidr: string): { aws: string; customer: string } {
    const cidr = parseCidr(insideCidr);
    if (!cidr) throw new Error(`not an IPv4 CIDR: ${insideCidr}`);
    return { aws: ipv4ToString(cidr.network + 1), customer: ipv4ToString(cidr.network + 2) };
}

/** AWS: 8 to 64 characters of A-Z a-z 0-9 _ . , not starting with 0. */
export const PSK_PATTERN = /^[A-Za-z1-9_.][A-Za-z0-9_.]{7,63}$/;
export const PSK_LENGTH = 48;
export const PSK_SPECIALS = "_.";

/** A random string over the PSK alphabet made acceptable to AWS: a leading 0 becomes Z. */
export function presharedKeyFrom(random: string): string {
    return random.startsWith("0") ? `Z${random.slice(1)}` : random;
}

const UNROUTABLE = ["0.0.0.0/8", "10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16", "172.16.0.0/12", "192.168.0.0/16", "224.0.0.0/4", "240.0.0.0/4"].map((t) => parseCidr(t)!);

/** A customer gateway is reached over the internet: a unicast address outside private, shared and special space. */
export function isPublicIpv4(text: string): boolean {
    if (!isIpv4Address(text)) return false;
    const cidr = parseCidr(`${text}/32`)!;
    return !UNROUTABLE.some((range) => contains(range, cidr));
}

// AWS names -> strongSwan proposal keywords (strongSwan wiki, "IKEv2 Cipher Suites").
const STRONGSWAN_ENCRYPTION: Record<TunnelEncryption, string> = { "AES256-GCM-16": "aes256gcm16", "AES128-GCM-16": "aes128gcm16", AES256: "aes256", AES128: "aes128" };
const STRONGSWAN_INTEGRITY: Record<TunnelIntegrity, string> = { "SHA2-256": "sha256", "SHA2-384": "sha384", "SHA2-512": "sha512" };
const STRONGSWAN_PRF: Record<TunnelIntegrity, string> = { "SHA2-256": "prfsha256", "SHA2-384": "prfsha384", "SHA2-512": "prfsha512" };
const STRONGSWAN_DH: Record<TunnelDhGroup, string> = { 14: "modp2048", 15: "modp3072", 16: "modp4096", 17: "modp6144", 18: "modp8192", 19: "ecp256", 20: "ecp384", 21: "ecp521" };

const isAead = (e: TunnelEncryption) => e.includes("GCM");

/** One strongSwan proposal per combination, in preference order: IKE (`esp` false) or ESP with PFS. */
export function strongswanProposals(algorithms: TunnelAlgorithms, kind: "ike" | "esp"): string[] {
    const out: string[] = [];
    for (const e of algorithms.encryption) {
        for (const i of algorithms.integrity) {
            for (const g of algorithms.dhGroups) {
                // AEAD ciphers carry their own integrity: IKE still needs a PRF, ESP needs nothing more.
                const mac = kind === "ike" ? (isAead(e) ? STRONGSWAN_PRF[i] : `${STRONGSWAN_INTEGRITY[i]}-${STRONGSWAN_PRF[i]}`) : isAead(e) ? undefined : STRONGSWAN_INTEGRITY[i];
                out.push([STRONGSWAN_ENCRYPTION[e], mac, STRONGSWAN_DH[g]].filter(Boolean).join("-"));
            }
        }
    }
    return [...new Set(out)];
}

export interface ParameterSummary {
    readonly ikeVersion: "IKEv2";
    readonly authentication: "pre-shared key";
    readonly phase1: { readonly encryption: readonly string[]; readonly integrity: readonly string[]; readonly dhGroups: readonly number[]; readonly lifetimeSeconds: number };
    readonly phase2: { readonly protocol: "ESP"; readonly encryption: readonly string[]; readonly integrity: readonly string[]; readonly pfsDhGroups: readonly number[]; readonly lifetimeSeconds: number };
    readonly deadPeerDetection: { readonly intervalSeconds: number; readonly timeoutSeconds: number };
    readonly routing: string;
    readonly natTraversal: string;
    /** What to set on the customer device's tunnel interfaces and TCP traffic. */
    readonly mtu: number;
    readonly tcpMss: number;
}

/** Inside MTU and TCP MSS AWS recommends for its VPN tunnels (VPN user guide, customer gateway device requirements). */
export const TUNNEL_MTU = 1399;
export const TUNNEL_MSS = 1359;

/** Vendor-neutral tunnel parameters, what any network team can type into its firewall. */
export function parameterSummary(algorithms: TunnelAlgorithms, routing: { bgpAsn?: number; amazonSideAsn: number; staticCidrs: readonly string[] }): ParameterSummary {
    return {
        ikeVersion: "IKEv2",
        authentication: "pre-shared key",
        phase1: { encryption: algorithms.encryption, integrity: algorithms.integrity, dhGroups: algorithms.dhGroups, lifetimeSeconds: PHASE1_LIFETIME_SECONDS },
        phase2: {
            protocol: "ESP",
            encryption: algorithms.encryption,
            integrity: algorithms.encryption.every(isAead) ? ["(none: AEAD)"] : algorithms.integrity,
            pfsDhGroups: algorithms.dhGroups,
            lifetimeSeconds: PHASE2_LIFETIME_SECONDS,
        },
        deadPeerDetection: { intervalSeconds: 10, timeoutSeconds: DPD_TIMEOUT_SECONDS },
        routing:
            routing.bgpAsn !== undefined
                ? `BGP: customer ASN ${routing.bgpAsn}, Amazon ASN ${routing.amazonSideAsn}, peering over each tunnel's inside addresses; advertise the on-premises ranges`
                : `static: the on-premises ranges ${routing.staticCidrs.join(", ")} are routed to the tunnels; route the VPC's range into them`,
        natTraversal: "UDP 500 and 4500 from the customer gateway's public address; NAT-T when behind NAT",
        mtu: TUNNEL_MTU,
        tcpMss: TUNNEL_MSS,
    };
}

/**
 * The tunnel alarms' texts. AWS's TunnelState is 1 for a static tunnel whose IPsec SA is up, and for a BGP tunnel
 * only while its BGP session is established: with BGP, "down" means BGP is down (the SA may be up).
 */
export function tunnelAlarmTexts(p: { connectionId: string; awsAddresses: readonly [string, string]; insideCidrs: readonly [string, string]; bgp: boolean }): { tunnel: [string, string]; both: string } {
    const what = (n: 1 | 2) =>
        p.bgp
            ? `the BGP session over tunnel ${n} (AWS ${p.awsAddresses[n - 1]}, inside ${p.insideCidrs[n - 1]}) is down, so AWS sends nothing by it`
            : `tunnel ${n} (AWS ${p.awsAddresses[n - 1]}) is down`;
    const tunnel = ([1, 2] as const).map(
        (n) =>
            `Site-to-site VPN ${p.connectionId}: ${what(n)}. The site runs on tunnel ${3 - n} alone, unless the both-tunnels alarm fires too; ` +
            `AWS's tunnel maintenance takes one tunnel at a time and assumes the other is up: restore it (site gateway's ${p.bgp ? "BGP speaker and " : ""}IPsec status).`,
    ) as [string, string];
    const both =
        `Site-to-site VPN ${p.connectionId}: both tunnels are down${p.bgp ? " (no BGP session established on either)" : ""}: ` +
        "the site cannot reach the Orthanc pair. Check the site gateway, its internet uplink and the tunnel status in the AWS console.";
    return { tunnel, both };
}

/**
 * The site's blocks admitted on 11112. With modalities listed, each with its own block, only those of their blocks
 * that lie in the site's ranges (a modality elsewhere reaches the pair some other way, or not at all); a modality
 * without a block could send from anywhere in the site, so then the site's ranges stay admitted whole.
 */
export function siteDicomCidrs(onPremisesCidrs: readonly string[], modalities: readonly { readonly cidr?: string }[]): string[] {
    if (modalities.length === 0 || modalities.some((m) => m.cidr === undefined)) return [...onPremisesCidrs];
    const site = onPremisesCidrs.map((c) => parseCidr(c)!);
    const inside = [...new Set(modalities.map((m) => m.cidr as string))].filter((text) => site.some((range) => contains(range, parseCidr(text)!)));
    // A block inside another admitted one adds nothing (and AWS refuses duplicate rules).
    return inside.filter((text, i) => !inside.some((other, j) => j !== i && contains(parseCidr(other)!, parseCidr(text)!) && (other !== text || j < i)));
}

/**
 * Two adjacent inside /30s (one /29) picked by a stable hash (FNV-1a) of `seed`, among the /29s from 169.254.6.0 up
 * that hold no /30 AWS reserves: a suggestion that differs between connections on one gateway (8000 choices).
 */
export function derivedInsideCidrs(seed: string): [string, string] {
    let hash = 0x811c9dc5;
    for (const byte of Buffer.from(seed, "utf8")) hash = Math.imul(hash ^ byte, 0x01000193) >>> 0;
    const blocks = insideBlocks();
    const base = blocks[hash % blocks.length];
    return [`${ipv4ToString(base)}/30`, `${ipv4ToString(base + 4)}/30`];
}

let insideBlockList: readonly number[] | undefined;

/** The /29s derivedInsideCidrs picks from, worked out once (8,000 pairs of /30s checked against AWS's reservations). */
function insideBlocks(): readonly number[] {
    if (insideBlockList) return insideBlockList;
    const first = parseCidr("169.254.6.0/29")!.network;
    const last = parseCidr("169.254.255.248/29")!.network;
    const blocks: number[] = [];
    for (let base = first; base <= last; base += 8) {
        const pair = [ipv4ToString(base), ipv4ToString(base + 4)].map((a) => `${a}/30`);
        if (pair.every((c) => insideCidrProblem(c) === undefined)) blocks.push(base);
    }
    insideBlockList = Object.freeze(blocks);
    return insideBlockList;
}

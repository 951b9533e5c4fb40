// IPv4 CIDR arithmetic for config validation. Pure; no dependency on Pulumi.

export interface Ipv4Cidr {
    /** The network address as an unsigned 32-bit integer. */
    readonly network: number;
    readonly prefix: number;
    readonly text: string;
}

const IPV4_CIDR = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/;

function maskOf(prefix: number): number {
    return prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
}

export function ipv4ToString(address: number): string {
    return [24, 16, 8, 0].map((shift) => (address >>> shift) & 0xff).join(".");
}

/** Parses "a.b.c.d/n"; undefined when it is not an IPv4 CIDR at all. Host bits are kept (see hostBitsSet). */
export function parseCidr(text: string): (Ipv4Cidr & { address: number }) | undefined {
    const m = IPV4_CIDR.exec(text);
    if (!m) return undefined;
    const octets = m.slice(1, 5).map(Number);
    const prefix = Number(m[5]);
    if (octets.some((o) => o > 255) || prefix > 32) return undefined;
    const address = octets.reduce((acc, o) => ((acc << 8) | o) >>> 0, 0);
    const network = (address & maskOf(prefix)) >>> 0;
    return { address, network, prefix, text };
}

/** A single IPv4 address written as a dotted quad ("10.0.1.16"), not a block or a name. */
export function isIpv4Address(text: string | undefined): boolean {
    return text !== undefined && !text.includes("/") && parseCidr(`${text}/32`) !== undefined;
}

/** "172.17.0.5/16" has host bits set; AWS rejects or silently rewrites such blocks. */
export function hostBitsSet(cidr: { address: number; network: number }): boolean {
    return cidr.address !== cidr.network;
}

export function canonical(cidr: Ipv4Cidr): string {
    return `${ipv4ToString(cidr.network)}/${cidr.prefix}`;
}

function lastAddress(cidr: Ipv4Cidr): number {
    return (cidr.network + 2 ** (32 - cidr.prefix) - 1) >>> 0;
}

export function overlaps(a: Ipv4Cidr, b: Ipv4Cidr): boolean {
    return a.network <= lastAddress(b) && b.network <= lastAddress(a);
}

export function contains(outer: Ipv4Cidr, inner: Ipv4Cidr): boolean {
    return outer.prefix <= inner.prefix && outer.network <= inner.network && lastAddress(inner) <= lastAddress(outer);
}

const PRIVATE_RANGES = ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"].map((t) => parseCidr(t)!);

/** RFC 1918 private space: where a VPC belongs. */
export function isPrivate(cidr: Ipv4Cidr): boolean {
    return PRIVATE_RANGES.some((range) => contains(range, cidr));
}

/** Any address of the block in RFC 1918 space (where a VPC may lie). */
export function overlapsPrivate(cidr: Ipv4Cidr): boolean {
    return PRIVATE_RANGES.some((range) => overlaps(range, cidr));
}

/** The Amazon-provided DNS resolver of a VPC: its base address plus two. */
export function vpcResolver(vpcCidr: string): string {
    const cidr = parseCidr(vpcCidr);
    if (!cidr) throw new Error(`not an IPv4 CIDR: ${vpcCidr}`);
    return ipv4ToString((cidr.network + 2) >>> 0);
}

// Address and port arithmetic for the rules. The pack imports nothing from the program, so that the
// policy/ directory can be run (`--policy-pack policy`) or published (`pulumi policy publish`) on its own.

interface Ipv4Range {
    readonly first: number;
    readonly last: number;
}

const IPV4_CIDR = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/;

function ipv4Range(cidr: string): Ipv4Range | undefined {
    const m = IPV4_CIDR.exec(cidr.trim());
    if (!m) return undefined;
    const octets = m.slice(1, 5).map(Number);
    const prefix = Number(m[5]);
    if (octets.some((o) => o > 255) || prefix > 32) return undefined;
    const address = octets.reduce((acc, o) => acc * 256 + o, 0);
    const size = 2 ** (32 - prefix);
    const first = Math.floor(address / size) * size;
    return { first, last: first + size - 1 };
}

/** A block that admits every address: 0.0.0.0/0 or ::/0 (any prefix length 0). */
export function isWorld(cidr: string): boolean {
    return /\/0$/.test(cidr.trim());
}

/** True when `cidr` (IPv4) lies wholly inside one of `within`. IPv6 blocks never do: our VPCs are IPv4 only. */
export function insideAny(cidr: string, within: readonly string[]): boolean {
    const inner = ipv4Range(cidr);
    if (!inner) return false;
    return within.some((w) => {
        const outer = ipv4Range(w);
        return outer !== undefined && outer.first <= inner.first && inner.last <= outer.last;
    });
}

/** RFC 1918: what "inside the VPC" falls back to when a stack declares no VPC of its own. */
export const PRIVATE_IPV4 = ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"];

/** One security group permission as AWS evaluates it: protocol and port range. */
export interface PortRange {
    readonly protocol?: string;
    readonly fromPort?: number;
    readonly toPort?: number;
}

/** Whether a permission admits TCP traffic to `port`. Protocol -1/all admits every port. */
export function admitsTcpPort(range: PortRange, port: number): boolean {
    const protocol = String(range.protocol ?? "").toLowerCase();
    if (protocol === "-1" || protocol === "all") return true;
    if (protocol !== "tcp" && protocol !== "6") return false;
    // A TCP permission without ports is rejected by AWS; read it as the widest thing it could mean.
    const from = typeof range.fromPort === "number" ? range.fromPort : 0;
    const to = typeof range.toPort === "number" ? range.toPort : 65535;
    if (from === -1 && to === -1) return true;
    return from <= port && port <= to;
}

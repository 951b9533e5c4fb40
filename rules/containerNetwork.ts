// The instance's compose network: one fixed block, fixed addresses for the containers nginx talks to. nginx resolves
// a name in `proxy_pass`/`server` once, at start, and exits ("host not found in upstream") when the container behind
// it is not running then; with addresses it starts and serves (the fallback, /healthz's 5xx) whatever else is up, and
// a recreated container comes back at the same address. The metadata guard names Orthanc's address too. Pure.
import { contains, overlaps, overlapsPrivate, parseCidr } from "./cidr";

/** The compose network's bridge: a fixed name, so that the metadata guard's rule can name it. */
export const CONTAINER_BRIDGE = "orthweb0";
/**
 * RFC 2544's benchmarking range: never a VPC block (the VPC must be RFC 1918, stacks/schema.ts), never an AWS
 * service's address, never a host on the internet, and outside Docker's own default pools; so the containers still
 * reach the database, S3, KMS and Secrets Manager, and docker0 never takes it.
 */
export const CONTAINER_SUBNET = "198.18.0.0/24";
export const ORTHANC_CONTAINER_ADDRESS = "198.18.0.10";
/** The health checker's (components/bootstrap/healthChecker.ts): nginx's /healthz asks it here. */
export const HEALTHZ_CONTAINER_ADDRESS = "198.18.0.11";
/** Where Docker picks the other containers' addresses: never a pinned one, whatever order they start in. */
export const DYNAMIC_ADDRESS_RANGE = "198.18.0.128/25";
/**
 * Docker's default address pools (moby's libnetwork ipamutils: 172.17.0.0/16 to 172.31.0.0/16 whole, 192.168.0.0/16
 * in /20s), where docker0 and every network without a subnet of its own get their block.
 */
export const DOCKER_DEFAULT_POOLS: readonly string[] = [...Array.from({ length: 15 }, (_, i) => `172.${17 + i}.0.0/16`), "192.168.0.0/16"];

export interface ContainerNetwork {
    readonly subnet: string;
    readonly dynamicRange: string;
    /** Service name -> its pinned address. */
    readonly pinned: Readonly<Record<string, string>>;
}

export const CONTAINER_NETWORK: ContainerNetwork = {
    subnet: CONTAINER_SUBNET,
    dynamicRange: DYNAMIC_ADDRESS_RANGE,
    pinned: { orthanc: ORTHANC_CONTAINER_ADDRESS, healthz: HEALTHZ_CONTAINER_ADDRESS },
};

/**
 * What would make a container network clash: with a VPC (any RFC 1918 block may be one), with Docker's default pools,
 * or pinned addresses outside the block, inside the dynamic range, or shared. Empty when none.
 */
export function containerNetworkProblems(n: ContainerNetwork): string[] {
    const subnet = parseCidr(n.subnet);
    const dynamic = parseCidr(n.dynamicRange);
    if (!subnet || !dynamic) return [`not an IPv4 block: ${!subnet ? n.subnet : n.dynamicRange}`];
    const problems: string[] = [];
    if (overlapsPrivate(subnet)) {
        problems.push(`${n.subnet} overlaps RFC 1918 space, where the VPC (orthweb:network.vpcCidr) lives`);
    }
    for (const pool of DOCKER_DEFAULT_POOLS) if (overlaps(parseCidr(pool)!, subnet)) problems.push(`${n.subnet} overlaps Docker's default pool ${pool}`);
    if (!contains(subnet, dynamic)) problems.push(`the dynamic range ${n.dynamicRange} is not inside ${n.subnet}`);
    const seen = new Map<string, string>();
    for (const [service, address] of Object.entries(n.pinned)) {
        const at = parseCidr(`${address}/32`);
        if (!at || !contains(subnet, at)) problems.push(`${service}'s address ${address} is not inside ${n.subnet}`);
        else if (contains(dynamic, at)) problems.push(`${service}'s address ${address} is inside the dynamic range ${n.dynamicRange}: another container could take it`);
        if (seen.has(address)) problems.push(`${service} and ${seen.get(address)} share ${address}`);
        seen.set(address, service);
    }
    return problems;
}

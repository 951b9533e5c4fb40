// Cross-field rules of `traffic.siteToSiteVpn` and `network.internetAccess`, on the raw config (before defaults),
// guarded against wrong types so that they add to the schema's problems instead of hiding behind them.
import { overlaps, parseCidr } from "../rules/cidr";
import { CONTAINER_SUBNET } from "../rules/containerNetwork";
import { DEFAULT_INSIDE_CIDRS, derivedInsideCidrs } from "../rules/siteToSite";
import { pullThroughCacheEnabled } from "./imageCacheRules";
import { DNS_MAX_CLIENT_CIDR_RULES, networkSchema, OrthwebConfig, VPN_DEFAULTS } from "./schema";

const NS = "orthweb";
/** AWS allows 60 inbound rules per security group. */
const SECURITY_GROUP_RULES = 60;

function record(value: unknown): Record<string, unknown> | undefined {
    return typeof value === "object" && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
}

function cidrs(value: unknown): { text: string; index: number; cidr: NonNullable<ReturnType<typeof parseCidr>> }[] {
    if (!Array.isArray(value)) return [];
    return value.flatMap((text, index) => {
        const cidr = typeof text === "string" ? parseCidr(text) : undefined;
        return cidr ? [{ text: text as string, index, cidr }] : [];
    });
}

export function siteToSiteProblems(input: Record<string, unknown>): string[] {
    const problems: string[] = [];
    const traffic = record(input.traffic) ?? {};
    const network = record(input.network) ?? {};
    const site = record(traffic.siteToSiteVpn);
    const clientVpn = record(traffic.clientVpn);

    if (site) {
        const vpcText = "vpcCidr" in network ? network.vpcCidr : networkSchema.parse({}).vpcCidr;
        const vpc = typeof vpcText === "string" ? parseCidr(vpcText) : undefined;
        const clientText = clientVpn ? ("clientCidr" in clientVpn ? clientVpn.clientCidr : VPN_DEFAULTS.clientCidr) : undefined;
        const client = typeof clientText === "string" ? parseCidr(clientText) : undefined;
        const onPrem = cidrs(site.onPremisesCidrs);
        for (const block of onPrem) {
            const key = `${NS}:traffic.siteToSiteVpn.onPremisesCidrs[${block.index}]`;
            const clash = (what: string) =>
                problems.push(`${key}: got ${JSON.stringify(block.text)}; allowed: a block that does not overlap ${what} (the route tables could not tell the two apart)`);
            if (vpc && overlaps(block.cidr, vpc)) clash(`${NS}:network.vpcCidr ${vpcText}`);
            if (client && overlaps(block.cidr, client)) clash(`${NS}:traffic.clientVpn.clientCidr ${clientText}`);
            // Replies to such a source would stay on the instances' container bridge instead of leaving the instance.
            if (overlaps(block.cidr, parseCidr(CONTAINER_SUBNET)!)) clash(`the instances' container network ${CONTAINER_SUBNET}`);
            const earlier = onPrem.find((other) => other.index < block.index && overlaps(other.cidr, block.cidr));
            if (earlier) clash(`onPremisesCidrs[${earlier.index}] ${earlier.text}`);
        }
        // Static routes on a transit gateway need a route table; its default one may be disabled, which nothing offline can tell.
        const tgw = site.transitGatewayId;
        const table = site.transitGatewayRouteTableId;
        if (tgw !== undefined && table === undefined) {
            problems.push(
                `${NS}:traffic.siteToSiteVpn.transitGatewayRouteTableId: required with transitGatewayId ${JSON.stringify(tgw)}; allowed: the id of the transit ` +
                    "gateway route table that routes to the site (tgw-rtb-...; its default association table if it has one: aws ec2 describe-transit-gateways " +
                    "--query 'TransitGateways[0].Options.AssociationDefaultRouteTableId'). A gateway with default association disabled has none, so it is never assumed",
            );
        }
        // Inside /30s must differ between the connections of one gateway; a transit gateway is shared, and the fixed default is not.
        const tunnels = record(site.tunnels);
        if (tgw !== undefined && !(tunnels && "insideCidrs" in tunnels)) {
            const suggestion = derivedInsideCidrs(`${String(tgw)} ${String(site.customerGatewayIp)}`);
            problems.push(
                `${NS}:traffic.siteToSiteVpn.tunnels.insideCidrs: required with transitGatewayId ${JSON.stringify(tgw)}; allowed: two /30s inside 169.254.0.0/16 ` +
                    `that no other VPN connection on the gateway uses, such as ${JSON.stringify(suggestion)} (derived from the gateway and customerGatewayIp). ` +
                    `A connection created before this rule has ${JSON.stringify(DEFAULT_INSIDE_CIDRS)}: set those to keep it (a change replaces the connection)`,
            );
        }
        if (tgw === undefined && table !== undefined) {
            problems.push(`${NS}:traffic.siteToSiteVpn.transitGatewayRouteTableId: got ${JSON.stringify(table)} without transitGatewayId; allowed: only with transitGatewayId (a virtual private gateway has no route table of its own)`);
        }
        // Direct and dns put every client block on the instance group too; site-to-site adds two rules per block.
        const frontDoor = traffic.frontDoor ?? "direct";
        if (frontDoor === "direct" || frontDoor === "dns") {
            const count = (key: string) => (Array.isArray(network[key]) ? (network[key] as unknown[]).length : 1);
            const used = count("webClientCidrs") + count("dicomClientCidrs") + (clientVpn ? 2 : 0) + 2 * onPrem.length;
            const limit = frontDoor === "dns" ? DNS_MAX_CLIENT_CIDR_RULES : SECURITY_GROUP_RULES;
            if (used > limit) {
                problems.push(
                    `${NS}:traffic.siteToSiteVpn.onPremisesCidrs: ${onPrem.length} blocks take ${2 * onPrem.length} inbound rules; with the client blocks ` +
                        `that makes ${used}; allowed: ${limit} in all with frontDoor ${frontDoor}. Summarise the blocks into larger ones.`,
                );
            }
        }
    }

    if (network.internetAccess === false) {
        if ((traffic.frontDoor ?? "direct") !== "none") {
            problems.push(
                `${NS}:network.internetAccess: got false with ${NS}:traffic.frontDoor ${JSON.stringify(traffic.frontDoor ?? "direct")}; allowed: false only with ` +
                    "frontDoor none (every other front door is reached from the internet); set frontDoor none or internetAccess true",
            );
        }
        // Without the internet, Docker Hub is out of reach: the images come through the ECR pull-through cache.
        const orthanc = record(input.orthanc) ?? {};
        const cache = record(orthanc.pullThroughCache) ?? {};
        if (cache.enabled === false) {
            problems.push(
                `${NS}:orthanc.pullThroughCache.enabled: got false with ${NS}:network.internetAccess false; allowed: true or unset ` +
                    "(without the internet the instances get their images only through the ECR pull-through cache)",
            );
        } else if (cache.dockerHubCredentialsArn === undefined && !pullThroughCacheEnabled(input.environment ?? "dev", cache.enabled)) {
            // (When the cache is on by itself, stacks/imageCacheRules.ts already asks for the credentials.)
            problems.push(
                `${NS}:orthanc.pullThroughCache.dockerHubCredentialsArn: required when ${NS}:network.internetAccess is false: the images come ` +
                    "through the ECR pull-through cache, which needs a Docker Hub account. Store its user name and access token in Secrets Manager " +
                    'as a secret named ecr-pullthroughcache/<name> ({"username": ..., "accessToken": ...}) and set its ARN here',
            );
        }
        if (!site && !clientVpn) {
            problems.push(
                `${NS}:network.internetAccess: got false without a VPN; allowed: false only with traffic.siteToSiteVpn or traffic.clientVpn ` +
                    "(without the internet, a VPN is the only way in)",
            );
        }
    }
    return problems;
}

/** The pull-through cache settings the pair gets: forced on without the internet, else as configured. */
export function imageCacheFor(config: Pick<OrthwebConfig, "environment" | "orthanc" | "network">, configured: { readonly dockerHubCredentialsArn: string } | undefined) {
    const arn = config.orthanc.pullThroughCache.dockerHubCredentialsArn;
    if (config.network.internetAccess === false && arn !== undefined) return { dockerHubCredentialsArn: arn };
    return configured;
}

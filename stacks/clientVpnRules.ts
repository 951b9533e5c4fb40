// Cross-field rules of `traffic.clientVpn`, on the raw config (before defaults), guarded against wrong types so
// that they add to the schema's problems instead of hiding behind them.
import { MAX_COMMON_NAME_LENGTH, RESERVED_LABELS, vpnCertificatePlan } from "../rules/certificates";
import { overlaps, parseCidr } from "../rules/cidr";
import { networkSchema, VPN_DEFAULTS } from "./schema";

const NS = "orthweb";

function record(value: unknown): Record<string, unknown> | undefined {
    return typeof value === "object" && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
}

/** The value of `key`, or its schema default when the key is absent. */
function orDefault(section: Record<string, unknown>, key: string, fallback: unknown): unknown {
    return key in section ? section[key] : fallback;
}

export function clientVpnProblems(input: Record<string, unknown>): string[] {
    const problems: string[] = [];
    const traffic = record(input.traffic) ?? {};
    const vpn = record(traffic.clientVpn);
    if (traffic.frontDoor === "none" && traffic.clientVpn === undefined && traffic.siteToSiteVpn === undefined) {
        problems.push(
            `${NS}:traffic.clientVpn: required when ${NS}:traffic.frontDoor is none (a VPN is then the only way in); ` +
                "allowed: a clientVpn section with at least `clients`, a siteToSiteVpn section, or another frontDoor",
        );
    }
    if (!vpn) return problems;

    const network = record(input.network) ?? {};
    const vpcText = orDefault(network, "vpcCidr", networkSchema.parse({}).vpcCidr);
    const clientText = orDefault(vpn, "clientCidr", VPN_DEFAULTS.clientCidr);
    const vpc = typeof vpcText === "string" ? parseCidr(vpcText) : undefined;
    const clientCidr = typeof clientText === "string" ? parseCidr(clientText) : undefined;
    if (vpc && clientCidr && overlaps(vpc, clientCidr)) {
        problems.push(
            `${NS}:traffic.clientVpn.clientCidr: got ${JSON.stringify(clientText)}; allowed: a block that does not overlap ` +
                `${NS}:network.vpcCidr ${vpcText} (client addresses must not collide with the VPC's; AWS rejects it and cannot change it later)`,
        );
    }

    const domain = orDefault(vpn, "certificateDomain", VPN_DEFAULTS.certificateDomain);
    const listed: unknown[] = Array.isArray(vpn.clients) ? vpn.clients : [];
    listed.forEach((client, i) => {
        if ((RESERVED_LABELS as readonly unknown[]).includes(client)) {
            problems.push(
                `${NS}:traffic.clientVpn.clients[${i}]: got ${JSON.stringify(client)}; ` +
                    `allowed: any name but ${RESERVED_LABELS.join(", ")} (the VPN's own certificates use those)`,
            );
        }
    });
    if (typeof domain === "string") {
        const plan = vpnCertificatePlan(domain, [], VPN_DEFAULTS.certificateValidityDays);
        const longestOwn = [plan.ca, plan.server, plan.chain].reduce((a, b) => (b.commonName.length > a.commonName.length ? b : a));
        if (longestOwn.commonName.length > MAX_COMMON_NAME_LENGTH) {
            problems.push(
                `${NS}:traffic.clientVpn.certificateDomain: got ${JSON.stringify(domain)}; allowed: a domain of at most ` +
                    `${MAX_COMMON_NAME_LENGTH - (longestOwn.commonName.length - domain.length)} characters (the ${longestOwn.role} certificate's CN ` +
                    `${longestOwn.commonName} has ${longestOwn.commonName.length}; X.509 allows ${MAX_COMMON_NAME_LENGTH})`,
            );
        }
        listed.forEach((client, i) => {
            const cn = typeof client === "string" ? `${client}.${domain}` : "";
            if (cn.length > MAX_COMMON_NAME_LENGTH) {
                problems.push(
                    `${NS}:traffic.clientVpn.clients[${i}]: got ${JSON.stringify(client)}; allowed: a name that keeps the CN ${cn} ` +
                        `(${cn.length} characters) within ${MAX_COMMON_NAME_LENGTH}; use a shorter name or certificateDomain`,
                );
            }
        });
    }
    return problems;
}

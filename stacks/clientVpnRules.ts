// Cross-field rules of `traffic.clientVpn`, on the raw config (before defaults), guarded against wrong types so
// that they add to the schema's problems instead of hiding behind them.
import { allCertificates, MAX_COMMON_NAME_LENGTH, RESERVED_LABELS, vpnCertificatePlan } from "../components/vpnCertificates";
import { overlaps, parseCidr } from "./cidr";
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
    if (traffic.frontDoor === "none" && traffic.clientVpn === undefined) {
        problems.push(
            `${NS}:traffic.clientVpn: required when ${NS}:traffic.frontDoor is none (the client VPN is then the only way in); ` +
                "allowed: a clientVpn section with at least `clients`, or another frontDoor",
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
    const clients = listed.filter((c): c is string => typeof c === "string");
    if (typeof domain === "string") {
        const plan = vpnCertificatePlan(domain, clients, VPN_DEFAULTS.certificateValidityDays);
        for (const cert of allCertificates(plan)) {
            if (cert.commonName.length > MAX_COMMON_NAME_LENGTH) {
                const key = cert.role === "client" ? "clients + certificateDomain" : "certificateDomain";
                problems.push(
                    `${NS}:traffic.clientVpn.${key}: the ${cert.role} certificate's CN ${JSON.stringify(cert.commonName)} has ${cert.commonName.length} characters; ` +
                        `allowed: at most ${MAX_COMMON_NAME_LENGTH} (X.509). Use a shorter domain or name.`,
                );
            }
        }
    }
    return problems;
}

// The twin's two IPsec ends, both strongSwan (charon + swanctl) with userspace ESP (kernel-libipsec over
// /dev/net/tun, since this kernel refuses ESP states): the AWS end rendered from the tunnel options the program
// registers on its VpnConnection, the customer end from the swanctl.conf the program renders for the network team.
// Pure, except siteToSiteFromProgram, which runs the program under mocks.
import { buildStack } from "../plan/build";
import type { Registration } from "../plan/mockRuntime";
import { plain } from "../plan/planModel";
import { DICOM_PORT, WEB_PORT } from "../rules/ports";
import { strongswanProposals, TunnelAlgorithms, TunnelDhGroup, TunnelEncryption, TunnelIntegrity } from "../rules/siteToSite";
import { validateStackConfig } from "../stacks/config";
import { loadStackFile } from "../stacks/stackFile";

export const SITE_STACK = "site";
/**
 * The plugins charon needs here, and no others (no bypass-lan: it would route the peers' own link into the TUN);
 * updown runs the site's rendered tunnel script on CHILD_SA up and down.
 */
export const CHARON_PLUGINS = "random nonce openssl gcm aes sha2 hmac kdf pem pkcs1 pubkey kernel-libipsec kernel-netlink socket-default vici updown";

/** A charon of its own: its log, its vici socket, nothing else loaded. */
export function renderStrongswanConf(p: { logPath: string; viciSocket: string; include?: string }): string {
    return `charon {
    load = ${CHARON_PLUGINS}
    # A twin end is one of two charons on the machine: each in its own mount namespace (pid files), with its own socket.
    filelog {
        log {
            path = ${p.logPath}
            default = 1
            ike = 2
            time_format = %H:%M:%S
        }
    }
    plugins {
        vici {
            socket = unix://${p.viciSocket}
        }
        bypass-lan {
            load = no
        }
    }
}
swanctl {
    load = pem pkcs1 pubkey openssl random
}
${p.include ? `include ${p.include}\n` : ""}`;
}

export interface AwsTunnel {
    readonly n: 1 | 2;
    /** The AWS end's outside address (tunnelNAddress). */
    readonly outsideAddress: string;
    readonly presharedKey: string;
    readonly ikeVersions: string[];
    readonly phase1: TunnelAlgorithms;
    readonly phase2: TunnelAlgorithms;
    readonly phase1LifetimeSeconds?: number;
    readonly phase2LifetimeSeconds?: number;
    readonly startupAction?: string;
    /** tunnelNInsideCidr: the /30 whose first address is AWS's BGP speaker, the second the site's. */
    readonly insideCidr?: string;
}

export interface AwsEnd {
    readonly customerGatewayIp: string;
    readonly tunnels: AwsTunnel[];
    /** localIpv4NetworkCidr / remoteIpv4NetworkCidr of the connection (AWS default: 0.0.0.0/0 both). */
    readonly customerNetwork: string;
    readonly awsNetwork: string;
    /** BGP (staticRoutesOnly false): the customer gateway's ASN and the Amazon side's (the gateway's amazonSideAsn). */
    readonly bgp?: { readonly customerAsn: number; readonly amazonAsn: number };
}

const list = (v: unknown): unknown[] => (Array.isArray(plain(v)) ? (plain(v) as unknown[]) : []);

/** The AWS end as the program registered it: the VpnConnection's inputs and the addresses AWS assigns. */
export function awsEndFrom(registrations: readonly Registration[]): AwsEnd {
    const connections = registrations.filter((r) => r.type === "aws:ec2/vpnConnection:VpnConnection");
    if (connections.length !== 1) throw new Error(`the program registered ${connections.length} site-to-site VPN connections; the twin expects one`);
    const c = connections[0];
    const cgw = registrations.find((r) => r.type === "aws:ec2/customerGateway:CustomerGateway" && r.id === plain(c.inputs.customerGatewayId));
    if (!cgw) throw new Error("the VPN connection names no customer gateway of the program");
    const algorithms = (n: 1 | 2, phase: 1 | 2): TunnelAlgorithms => ({
        encryption: list(c.inputs[`tunnel${n}Phase${phase}EncryptionAlgorithms`]) as TunnelEncryption[],
        integrity: list(c.inputs[`tunnel${n}Phase${phase}IntegrityAlgorithms`]) as TunnelIntegrity[],
        dhGroups: list(c.inputs[`tunnel${n}Phase${phase}DhGroupNumbers`]).map(Number) as TunnelDhGroup[],
    });
    const tunnels = ([1, 2] as const).map((n): AwsTunnel => {
        const psk = plain(c.inputs[`tunnel${n}PresharedKey`]);
        const address = plain(c.state[`tunnel${n}Address`]);
        if (typeof psk !== "string" || typeof address !== "string") throw new Error(`tunnel ${n}: no pre-shared key or outside address in the program's VPN connection`);
        return {
            n,
            outsideAddress: address,
            presharedKey: psk,
            ikeVersions: list(c.inputs[`tunnel${n}IkeVersions`]).map(String),
            phase1: algorithms(n, 1),
            phase2: algorithms(n, 2),
            phase1LifetimeSeconds: plain(c.inputs[`tunnel${n}Phase1LifetimeSeconds`]),
            phase2LifetimeSeconds: plain(c.inputs[`tunnel${n}Phase2LifetimeSeconds`]),
            startupAction: plain(c.inputs[`tunnel${n}StartupAction`]),
            insideCidr: plain(c.inputs[`tunnel${n}InsideCidr`]),
        };
    });
    const vgw = registrations.find((r) => r.type === "aws:ec2/vpnGateway:VpnGateway" && r.id === plain(c.inputs.vpnGatewayId));
    const bgp =
        plain(c.inputs.staticRoutesOnly) === true ? undefined : { customerAsn: Number(plain(cgw.inputs.bgpAsn)), amazonAsn: Number(plain(vgw?.inputs.amazonSideAsn) ?? 64512) };
    return {
        customerGatewayIp: String(plain(cgw.inputs.ipAddress)),
        tunnels,
        customerNetwork: plain(c.inputs.localIpv4NetworkCidr) ?? "0.0.0.0/0",
        awsNetwork: plain(c.inputs.remoteIpv4NetworkCidr) ?? "0.0.0.0/0",
        ...(bgp ? { bgp } : {}),
    };
}

/**
 * swanctl.conf of the AWS end: one connection per tunnel on its own outside address, exactly the registered
 * IKE versions and algorithms (nothing else is accepted), responder only when AWS's startup action is `add`.
 */
export function renderAwsSwanctlConf(end: AwsEnd): string {
    const out = ["connections {"];
    for (const t of end.tunnels) {
        const version = t.ikeVersions.length === 1 ? (t.ikeVersions[0] === "ikev2" ? 2 : 1) : 0;
        out.push(
            `    aws-tunnel${t.n} {`,
            `        version = ${version}`,
            `        local_addrs = ${t.outsideAddress}`,
            `        remote_addrs = ${end.customerGatewayIp}`,
            `        proposals = ${strongswanProposals(t.phase1, "ike").join(",")}`,
            ...(t.phase1LifetimeSeconds ? [`        rekey_time = ${t.phase1LifetimeSeconds}s`] : []),
            `        local {`,
            `            auth = psk`,
            `            id = ${t.outsideAddress}`,
            `        }`,
            `        remote {`,
            `            auth = psk`,
            `            id = ${end.customerGatewayIp}`,
            `        }`,
            `        children {`,
            `            aws-tunnel${t.n}-net {`,
            `                local_ts = ${end.awsNetwork}`,
            `                remote_ts = ${end.customerNetwork}`,
            `                esp_proposals = ${strongswanProposals(t.phase2, "esp").join(",")}`,
            ...(t.phase2LifetimeSeconds ? [`                life_time = ${t.phase2LifetimeSeconds}s`] : []),
            `                start_action = ${t.startupAction === "start" ? "start" : "none"}`,
            `            }`,
            `        }`,
            `    }`,
        );
    }
    out.push("}", "secrets {");
    for (const t of end.tunnels) {
        out.push(`    ike-aws-tunnel${t.n} {`, `        id-local = ${t.outsideAddress}`, `        id-remote = ${end.customerGatewayIp}`, `        secret = "${t.presharedKey.replace(/["\\]/g, "\\$&")}"`, `    }`);
    }
    out.push("}", "");
    return out.join("\n");
}

/** The customer end's identity, local addresses, outside addresses of AWS and selectors, read back from the rendered swanctl.conf. */
export function customerEndOf(swanctlConf: string): { identity: string; localAddrs: string[]; remoteAddresses: string[]; localNetworks: string[]; remoteNetworks: string[]; startActions: string[] } {
    const all = (key: string) => [...swanctlConf.matchAll(new RegExp(`^\\s*${key} = (.+)$`, "gm"))].map((m) => m[1].trim());
    const identity = [...new Set(all("id-local"))];
    if (identity.length !== 1) throw new Error(`the rendered swanctl.conf has ${identity.length} local identities; expected one`);
    const split = (values: string[]) => [...new Set(values.flatMap((v) => v.split(",").map((s) => s.trim())))];
    return {
        identity: identity[0],
        localAddrs: split(all("local_addrs")),
        remoteAddresses: split(all("remote_addrs")),
        localNetworks: split(all("local_ts")),
        remoteNetworks: split(all("remote_ts")),
        startActions: all("start_action"),
    };
}

/** The CHILD_SA of `child` is INSTALLED in `swanctl --list-sas` output. */
export function childInstalled(listSas: string, child: string): boolean {
    return new RegExp(`^\\s*${child}: #\\d+, reqid \\d+, INSTALLED`, "m").test(listSas);
}

/** Bytes through the CHILD_SAs in `swanctl --list-sas` output: in and out, summed. */
export function childBytes(listSas: string): { in: number; out: number } {
    const sum = (dir: string) => [...listSas.matchAll(new RegExp(`^\\s*${dir}\\s+[0-9a-f]+(?:_i)?(?:\\s+\\([^)]*\\))?,\\s+(\\d+) bytes`, "gm"))].reduce((n, m) => n + Number(m[1]), 0);
    return { in: sum("in"), out: sum("out") };
}

export interface SiteFromProgram {
    readonly aws: AwsEnd;
    readonly customerSwanctlConf: string;
    /** The rendered strongswan.conf drop-in, and BIRD's configuration with BGP. */
    readonly customerStrongswanConf: string;
    readonly customerTunnelScript: string;
    readonly customerBirdConf?: string;
    readonly onPremisesCidrs: string[];
    /** The ranges the program admits on 443 and 11112, from its ingress rules for the site. */
    readonly admitted: { readonly port: number; readonly cidr: string }[];
    readonly vpcCidr: string;
    readonly note: string;
}

/** Pulumi.site.yaml with its VPC moved onto the twin's block, so that the instances' twin addresses lie inside it. */
export async function siteToSiteFromProgram(twinVpcCidr: string, siteOverrides: Record<string, unknown> = {}): Promise<SiteFromProgram> {
    const file = loadStackFile(SITE_STACK);
    const network = { ...((file.config["orthweb:network"] as Record<string, unknown>) ?? {}), vpcCidr: twinVpcCidr };
    const traffic = (file.config["orthweb:traffic"] as Record<string, unknown>) ?? {};
    const siteConfig = { ...((traffic.siteToSiteVpn as Record<string, unknown>) ?? {}), ...siteOverrides };
    const raw = { ...file.config, "orthweb:network": network, "orthweb:traffic": { ...traffic, siteToSiteVpn: siteConfig } };
    const { config, problems } = validateStackConfig(raw, { opaqueKeys: file.encryptedKeys });
    if (!config) throw new Error(`Pulumi.${SITE_STACK}.yaml with vpcCidr ${twinVpcCidr}: ${problems.join("; ")}`);
    const site = config.traffic.siteToSiteVpn;
    if (!site) throw new Error(`Pulumi.${SITE_STACK}.yaml has no traffic.siteToSiteVpn`);
    const run = await buildStack(SITE_STACK, config);
    const output = run.outputs.siteToSiteVpn as { swanctlConf?: string; strongswanConf?: string; tunnelScript?: string; birdConf?: string } | undefined;
    if (!output?.swanctlConf || !output.strongswanConf || !output.tunnelScript) throw new Error("the program's siteToSiteVpn output has no swanctlConf, strongswanConf or tunnelScript");
    const admitted = run.registrations
        .filter((r) => r.type === "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule" && r.name.startsWith("site-onprem-"))
        .map((r) => ({ port: Number(plain(r.inputs.fromPort)), cidr: String(plain(r.inputs.cidrIpv4)) }))
        .filter((r) => r.port === WEB_PORT || r.port === DICOM_PORT);
    return {
        aws: awsEndFrom(run.registrations),
        customerSwanctlConf: output.swanctlConf,
        customerStrongswanConf: output.strongswanConf,
        customerTunnelScript: output.tunnelScript,
        ...(output.birdConf ? { customerBirdConf: output.birdConf } : {}),
        onPremisesCidrs: [...site.onPremisesCidrs],
        admitted,
        vpcCidr: twinVpcCidr,
        note: `stack ${SITE_STACK} (Pulumi.${SITE_STACK}.yaml) with vpcCidr ${twinVpcCidr}, the twin's block${Object.keys(siteOverrides).length ? ` and siteToSiteVpn ${JSON.stringify(siteOverrides)}` : ""}`,
    };
}

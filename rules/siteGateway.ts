// The site's end of the two tunnels, as a Linux software gateway runs it unattended: strongSwan route-based
// tunnels (one XFRM interface per tunnel, 0.0.0.0/0 selectors, both started, restarted when they die), the charon
// retransmission settings that bound IKEv2 dead-peer detection, a script and systemd unit that create the tunnel
// interfaces and keep the routes to the VPC on the tunnel that is up, and, with BGP, a BIRD 2 configuration peering
// over each tunnel's inside addresses. Pure: text in, text out.
import { insideAddresses, PHASE1_LIFETIME_SECONDS, PHASE2_LIFETIME_SECONDS, strongswanProposals, TUNNEL_MSS, TUNNEL_MTU, TunnelAlgorithms } from "./siteToSite";

/** Where the network team puts each rendered file (the docs and the script name them). */
export const SITE_GATEWAY_PATHS = {
    swanctlConf: "/etc/swanctl/conf.d/orthweb.conf",
    strongswanConf: "/etc/strongswan.d/charon-orthweb.conf",
    tunnelScript: "/usr/local/sbin/orthweb-tunnels",
    systemdUnit: "/etc/systemd/system/orthweb-tunnels.service",
    birdConf: "/etc/bird/bird.conf",
} as const;

/** One XFRM interface per tunnel: its name and the if_id that ties the tunnel's SAs and policies to it. */
export const TUNNEL_INTERFACES = [
    { name: "orthweb-aws1", ifId: 4101, metric: 100 },
    { name: "orthweb-aws2", ifId: 4102, metric: 200 },
] as const;

/** IKEv2 liveness: a DPD exchange after this much silence from the peer (swanctl `dpd_delay`). */
export const DPD_DELAY_SECONDS = 10;
/**
 * charon's retransmission schedule, which is what ends an IKEv2 DPD exchange (swanctl's `dpd_timeout` is IKEv1
 * only): a retransmit after timeout * base^k seconds for k = 0..tries-1, then timeout * base^tries more before the
 * peer is declared dead. strongSwan's defaults (4 s, 1.8, 5 tries) make that 165 s.
 */
export const RETRANSMIT = { timeoutSeconds: 2, base: 1.5, tries: 3 } as const;

/** Seconds of retransmission before charon gives up on an exchange. */
export function retransmitSeconds(r: { timeoutSeconds: number; base: number; tries: number } = RETRANSMIT): number {
    let total = 0;
    for (let k = 0; k <= r.tries; k++) total += r.timeoutSeconds * r.base ** k;
    return total;
}

/** The longest a dead AWS end goes unnoticed by the site: silence for dpd_delay, then the retransmissions. */
export function deadPeerDetectionBoundSeconds(): number {
    return DPD_DELAY_SECONDS + retransmitSeconds();
}

export interface SiteTunnel {
    /** AWS's outside address of the tunnel. */
    readonly awsAddress: string;
    readonly presharedKey: string;
    readonly insideCidr: string;
}

export interface SiteGatewayParams {
    /** The customer gateway's public IPv4 address: the site's IKE identity (it may sit behind NAT). */
    readonly customerGatewayIp: string;
    readonly tunnels: readonly [SiteTunnel, SiteTunnel];
    readonly algorithms: TunnelAlgorithms;
    readonly onPremisesCidrs: readonly string[];
    readonly vpcCidr: string;
    /** BGP: the site's ASN and Amazon's. Absent: static routes. */
    readonly bgp?: { readonly asn: number; readonly amazonAsn: number };
}

const swanString = (s: string) => `"${s.replace(/\\/g, "\\\\").replace(/"/g, '\\"')}"`;

/**
 * swanctl.conf for the site: IKEv2 only, the given proposals only, PSK; route-based (0.0.0.0/0 selectors, the SAs
 * bound to the tunnel's XFRM interface by if_id); both tunnels started at load and restarted when closed or dead;
 * any local address (behind NAT, charon sends from whatever address routes to AWS, and NAT-T takes over), with the
 * public address as identity. The updown script moves the static routes (BGP moves its own).
 */
export function renderSiteSwanctlConf(p: SiteGatewayParams): string {
    const ike = strongswanProposals(p.algorithms, "ike").join(",");
    const esp = strongswanProposals(p.algorithms, "esp").join(",");
    const lines: string[] = ["# Rendered by orthweb: the site's end of the two site-to-site VPN tunnels (IKEv2, PSK, route-based).", "connections {"];
    p.tunnels.forEach((t, i) => {
        const n = i + 1;
        const iface = TUNNEL_INTERFACES[i];
        lines.push(
            `    tunnel${n} {`,
            "        version = 2",
            "        local_addrs = %any",
            `        remote_addrs = ${t.awsAddress}`,
            `        proposals = ${ike}`,
            `        rekey_time = ${PHASE1_LIFETIME_SECONDS - 900}s`,
            "        over_time = 900s",
            `        dpd_delay = ${DPD_DELAY_SECONDS}s`,
            // Never give up on (re)establishing: AWS may be unreachable for a while (maintenance, the site's uplink).
            "        keyingtries = 0",
            "        mobike = no",
            `        if_id_in = ${iface.ifId}`,
            `        if_id_out = ${iface.ifId}`,
            "        local {",
            "            auth = psk",
            `            id = ${p.customerGatewayIp}`,
            "        }",
            "        remote {",
            "            auth = psk",
            `            id = ${t.awsAddress}`,
            "        }",
            "        children {",
            `            tunnel${n}-net {`,
            "                local_ts = 0.0.0.0/0",
            "                remote_ts = 0.0.0.0/0",
            `                esp_proposals = ${esp}`,
            `                rekey_time = ${PHASE2_LIFETIME_SECONDS - 540}s`,
            `                life_time = ${PHASE2_LIFETIME_SECONDS}s`,
            ...(p.bgp ? [] : [`                updown = ${SITE_GATEWAY_PATHS.tunnelScript}`]),
            "                start_action = start",
            "                dpd_action = restart",
            "                close_action = restart",
            "            }",
            "        }",
            "    }",
        );
    });
    lines.push("}", "secrets {");
    p.tunnels.forEach((t, i) => {
        lines.push(`    ike-tunnel${i + 1} {`, `        id-local = ${p.customerGatewayIp}`, `        id-remote = ${t.awsAddress}`, `        secret = ${swanString(t.presharedKey)}`, "    }");
    });
    lines.push("}", "");
    return lines.join("\n");
}

/**
 * A strongswan.conf drop-in: the retransmission schedule that bounds IKEv2 dead-peer detection, and no routes of
 * charon's own (with 0.0.0.0/0 selectors they would swallow all traffic; the tunnel interfaces carry the routes).
 */
export function renderSiteStrongswanConf(): string {
    return [
        "# Rendered by orthweb: dead-peer detection within " + `${deadPeerDetectionBoundSeconds()} s (dpd_delay ${DPD_DELAY_SECONDS} s + retransmissions ${retransmitSeconds()} s).`,
        "charon {",
        "    install_routes = no",
        `    retransmit_timeout = ${RETRANSMIT.timeoutSeconds}`,
        `    retransmit_base = ${RETRANSMIT.base}`,
        `    retransmit_tries = ${RETRANSMIT.tries}`,
        "}",
        "",
    ].join("\n");
}

/** A route the site installs: the VPC's block into a tunnel's interface, tunnel 1 preferred by its lower metric. */
export interface SiteRoute {
    readonly destination: string;
    readonly device: string;
    readonly metric: number;
}

/** Static routing: the VPC's block on both tunnel interfaces, tunnel 1 preferred. */
export function siteStaticRoutes(vpcCidr: string): SiteRoute[] {
    return TUNNEL_INTERFACES.map((i) => ({ destination: vpcCidr, device: i.name, metric: i.metric }));
}

/**
 * /usr/local/sbin/orthweb-tunnels: `setup` (the systemd unit, before strongSwan) creates the two XFRM interfaces with
 * the inside addresses, MTU and MSS clamping; as charon's updown script (static routing) it installs the tunnel's
 * route to the VPC when its CHILD_SA comes up and removes it when it goes down, so traffic leaves by tunnel 1 while
 * it is up (metric) and by tunnel 2 otherwise.
 */
export function renderTunnelScript(p: SiteGatewayParams): string {
    const routes = p.bgp ? [] : siteStaticRoutes(p.vpcCidr);
    const ifaces = TUNNEL_INTERFACES.map((iface, i) => {
        const inside = insideAddresses(p.tunnels[i].insideCidr);
        return { ...iface, local: inside.customer, peer: inside.aws, prefix: p.tunnels[i].insideCidr.split("/")[1], aws: p.tunnels[i].awsAddress };
    });
    const route = (r: SiteRoute, verb: "replace" | "del") => `ip route ${verb} ${r.destination} dev ${r.device} metric ${r.metric}`;
    return [
        "#!/bin/sh",
        "# Rendered by orthweb: the site's tunnel interfaces and, with static routing, its routes to the VPC.",
        `#   ${SITE_GATEWAY_PATHS.tunnelScript} setup   create the XFRM interfaces (${SITE_GATEWAY_PATHS.systemdUnit} runs it before strongSwan)`,
        "#   as charon's updown script (PLUTO_VERB set): move the VPC's route with the tunnel's CHILD_SA",
        "set -eu",
        "",
        "uplink() {",
        "    # The interface towards the AWS tunnel endpoint (behind NAT too: the default route).",
        `    ip -o route get "$1" | sed -n 's/.* dev \\([^ ]*\\).*/\\1/p'`,
        "}",
        "",
        "setup() {",
        ...ifaces.flatMap((f) => [
            `    ip link show ${f.name} >/dev/null 2>&1 || ip link add ${f.name} type xfrm dev "$(uplink ${f.aws})" if_id ${f.ifId}`,
            `    ip addr replace ${f.local}/${f.prefix} dev ${f.name}`,
            `    ip link set ${f.name} mtu ${TUNNEL_MTU} up`,
        ]),
        `    # TCP MSS ${TUNNEL_MSS} into the tunnels (DICOM PDUs are large; a lost fragment stalls a C-STORE).`,
        ...ifaces.map(
            (f) =>
                `    iptables -t mangle -C FORWARD -o ${f.name} -p tcp --tcp-flags SYN,RST SYN -j TCPMSS --set-mss ${TUNNEL_MSS} 2>/dev/null || iptables -t mangle -A FORWARD -o ${f.name} -p tcp --tcp-flags SYN,RST SYN -j TCPMSS --set-mss ${TUNNEL_MSS}`,
        ),
        "}",
        "",
        "updown() {",
        '    case "${PLUTO_CONNECTION:-}" in',
        ...ifaces.flatMap((f, i) => {
            const mine = routes.filter((r) => r.device === f.name);
            return [
                `    tunnel${i + 1}-net)`,
                '        case "$PLUTO_VERB" in',
                `            up-client) ${mine.length ? mine.map((r) => route(r, "replace")).join("; ") : ":"} ;;`,
                `            down-client) ${mine.length ? mine.map((r) => `${route(r, "del")} 2>/dev/null || true`).join("; ") : ":"} ;;`,
                "        esac ;;",
            ];
        }),
        "    esac",
        "}",
        "",
        'if [ -n "${PLUTO_VERB:-}" ]; then',
        "    updown",
        'elif [ "${1:-}" = setup ]; then',
        "    setup",
        "else",
        `    echo "usage: $0 setup (or as strongSwan's updown script)" >&2`,
        "    exit 2",
        "fi",
        "",
    ].join("\n");
}

/** The systemd unit that runs `orthweb-tunnels setup` at boot, before strongSwan loads the tunnels. */
export function renderSystemdUnit(): string {
    return [
        "[Unit]",
        "Description=orthweb site-to-site tunnel interfaces (XFRM) for strongSwan",
        "After=network-online.target",
        "Wants=network-online.target",
        "Before=strongswan.service",
        "",
        "[Service]",
        "Type=oneshot",
        "RemainAfterExit=yes",
        `ExecStart=${SITE_GATEWAY_PATHS.tunnelScript} setup`,
        "",
        "[Install]",
        "WantedBy=multi-user.target",
        "RequiredBy=strongswan.service",
        "",
    ].join("\n");
}

/** AWS's BGP timers for VPN tunnels: keepalive 10 s, hold 30 s. */
export const BGP_HOLD_SECONDS = 30;

/**
 * BIRD 2 for the site gateway: one session per tunnel over the inside addresses, the on-premises ranges announced
 * (tunnel 2's with the site's ASN prepended, so that AWS sends return traffic by tunnel 1 too), what AWS announces
 * preferred from tunnel 1 (local preference) and written to the kernel's table. A session is down after the hold
 * time, and its routes with it: traffic moves to the other tunnel.
 */
export function renderBirdConf(p: { routerId: string; asn: number; announce: readonly string[]; peers: readonly { name: string; local: string; neighbor: string; neighborAsn: number; preference: number; prepend: boolean }[] }): string {
    const set = p.announce.join(", ");
    return [
        "# Rendered by orthweb: BGP over the site-to-site VPN tunnels' inside addresses.",
        `router id ${p.routerId};`,
        "",
        "protocol device {",
        "    scan time 10;",
        "}",
        "",
        "# The announced ranges exist only inside BIRD (never written to the kernel).",
        "protocol static announced {",
        "    ipv4;",
        ...p.announce.map((c) => `    route ${c} unreachable;`),
        "}",
        "",
        "protocol kernel {",
        "    ipv4 {",
        "        import none;",
        "        export where source = RTS_BGP;",
        "    };",
        "}",
        "",
        ...p.peers.flatMap((peer) => [
            `protocol bgp ${peer.name} {`,
            `    local ${peer.local} as ${p.asn};`,
            `    neighbor ${peer.neighbor} as ${peer.neighborAsn};`,
            `    hold time ${BGP_HOLD_SECONDS};`,
            `    keepalive time ${BGP_HOLD_SECONDS / 3};`,
            "    connect retry time 5;",
            "    ipv4 {",
            `        import filter { bgp_local_pref = ${peer.preference}; accept; };`,
            `        export filter { if proto = "announced" && net ~ [ ${set} ] then { ${peer.prepend ? `bgp_path.prepend(${p.asn}); ` : ""}accept; } reject; };`,
            "    };",
            "}",
            "",
        ]),
    ].join("\n");
}

/** BIRD for the site gateway from the connection's tunnels. */
export function renderSiteBirdConf(p: SiteGatewayParams & { bgp: NonNullable<SiteGatewayParams["bgp"]> }): string {
    const inside = p.tunnels.map((t) => insideAddresses(t.insideCidr));
    return renderBirdConf({
        routerId: inside[0].customer,
        asn: p.bgp.asn,
        announce: p.onPremisesCidrs,
        peers: inside.map((a, i) => ({ name: `aws${i + 1}`, local: a.customer, neighbor: a.aws, neighborAsn: p.bgp.amazonAsn, preference: i === 0 ? 200 : 100, prepend: i === 1 })),
    });
}

/** Everything the site's software gateway runs, by the path it goes to. */
export interface SiteGatewayFiles {
    readonly swanctlConf: string;
    readonly strongswanConf: string;
    readonly tunnelScript: string;
    readonly systemdUnit: string;
    /** With BGP only. */
    readonly birdConf?: string;
    /** With static routing only: what the script installs. */
    readonly staticRoutes?: SiteRoute[];
}

export function siteGatewayFiles(p: SiteGatewayParams): SiteGatewayFiles {
    return {
        swanctlConf: renderSiteSwanctlConf(p),
        strongswanConf: renderSiteStrongswanConf(),
        tunnelScript: renderTunnelScript(p),
        systemdUnit: renderSystemdUnit(),
        ...(p.bgp ? { birdConf: renderSiteBirdConf({ ...p, bgp: p.bgp }) } : { staticRoutes: siteStaticRoutes(p.vpcCidr) }),
    };
}

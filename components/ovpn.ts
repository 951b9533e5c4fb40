// The OpenVPN client profile (.ovpn) for one workstation of the client VPN. Pure.
// It is what AWS's "Download client configuration" gives, with the client's certificate and key inlined, so the
// file alone connects: OpenVPN (openvpn --config) and the AWS VPN Client both import it.

export type VpnTransport = "udp" | "tcp";

export interface OvpnProfileInput {
    /** The endpoint's `dnsName` as AWS reports it: `*.cvpn-endpoint-<id>.prod.clientvpn.<region>.amazonaws.com`. */
    readonly endpointDnsName: string;
    /** A DNS label that stands in for the `*`. */
    readonly label: string;
    readonly transport: VpnTransport;
    readonly port: number;
    readonly caPem: string;
    readonly certPem: string;
    readonly keyPem: string;
}

const DNS_LABEL = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/i;

/** The host a client connects to: the endpoint's wildcard name with its `*` replaced by `label`. */
export function remoteHost(endpointDnsName: string, label: string): string {
    if (!DNS_LABEL.test(label)) throw new Error(`not a DNS label: ${JSON.stringify(label)}`);
    const base = endpointDnsName.replace(/^\*\./, "");
    if (base === "" || base.includes("*")) throw new Error(`not a Client VPN endpoint name: ${JSON.stringify(endpointDnsName)}`);
    return `${label}.${base}`;
}

function inline(tag: string, pem: string): string {
    const body = pem.trim();
    if (!body.startsWith("-----BEGIN ")) throw new Error(`<${tag}> needs PEM text`);
    return `<${tag}>\n${body}\n</${tag}>`;
}

export function renderOvpnProfile(p: OvpnProfileInput): string {
    return [
        "client",
        "dev tun",
        `proto ${p.transport}`,
        `remote ${remoteHost(p.endpointDnsName, p.label)} ${p.port}`,
        // The endpoint name is a wildcard: a fresh random prefix on each connection avoids stale DNS answers.
        "remote-random-hostname",
        "resolv-retry infinite",
        "nobind",
        "remote-cert-tls server",
        "cipher AES-256-GCM",
        "verb 3",
        // As in the configuration AWS generates: the endpoint, not the client, decides when to renegotiate.
        "reneg-sec 0",
        inline("ca", p.caPem),
        inline("cert", p.certPem),
        inline("key", p.keyPem),
        "",
    ].join("\n");
}

/** One profile per client, keyed by client name. */
export function renderOvpnProfiles(
    common: Omit<OvpnProfileInput, "certPem" | "keyPem">,
    clients: Record<string, { readonly certPem: string; readonly keyPem: string }>,
): Record<string, string> {
    return Object.fromEntries(Object.entries(clients).map(([client, c]) => [client, renderOvpnProfile({ ...common, ...c })]));
}

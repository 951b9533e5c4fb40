// What the plan says about private connections and the way out: site-to-site VPN connections (customer gateway,
// gateway, routing) and the instances' internet egress (public address, NAT, or none). Pure; read from the model.
import { PlanModel, plain } from "./planModel";

export const SITE_TYPES = {
    customerGateway: "aws:ec2/customerGateway:CustomerGateway",
    vpnConnection: "aws:ec2/vpnConnection:VpnConnection",
    vpnGateway: "aws:ec2/vpnGateway:VpnGateway",
    propagation: "aws:ec2/vpnGatewayRoutePropagation:VpnGatewayRoutePropagation",
    staticRoute: "aws:ec2/vpnConnectionRoute:VpnConnectionRoute",
    route: "aws:ec2/route:Route",
    tgwAttachment: "aws:ec2transitgateway/vpcAttachment:VpcAttachment",
    vpcEndpoint: "aws:ec2/vpcEndpoint:VpcEndpoint",
} as const;

export interface SiteConnectionInfo {
    readonly name: string;
    readonly customerGatewayIp?: string;
    /** "virtual private gateway <name>" or "transit gateway <id>". */
    readonly gateway: string;
    readonly routing: "static" | "BGP";
    readonly bgpAsn?: string;
    readonly tunnels: { readonly ikeVersions: string[]; readonly encryption: string[]; readonly integrity: string[]; readonly dhGroups: number[]; readonly insideCidr?: string }[];
    /** Route tables that learn the site's ranges (propagation or static routes to the transit gateway). */
    readonly routeTables: number;
}

const strings = (v: unknown): string[] => (Array.isArray(plain(v)) ? (plain(v) as unknown[]).map(String) : []);

export function siteConnectionsOf(model: PlanModel): SiteConnectionInfo[] {
    return model.ofType(SITE_TYPES.vpnConnection).map((c) => {
        const cgw = model.resolve(c.inputs.customerGatewayId);
        const vgw = model.resolve(c.inputs.vpnGatewayId);
        const tgw = plain(c.inputs.transitGatewayId) as string | undefined;
        const propagations = model.ofType(SITE_TYPES.propagation).filter((p) => vgw && plain(p.inputs.vpnGatewayId) === vgw.id).length;
        const tgwRoutes = new Set(model.ofType(SITE_TYPES.route).filter((r) => tgw && plain(r.inputs.transitGatewayId) === tgw).map((r) => String(plain(r.inputs.routeTableId)))).size;
        const tunnel = (n: 1 | 2) => ({
            ikeVersions: strings(c.inputs[`tunnel${n}IkeVersions`]),
            encryption: strings(c.inputs[`tunnel${n}Phase1EncryptionAlgorithms`]),
            integrity: strings(c.inputs[`tunnel${n}Phase1IntegrityAlgorithms`]),
            dhGroups: strings(c.inputs[`tunnel${n}Phase1DhGroupNumbers`]).map(Number),
            insideCidr: plain(c.inputs[`tunnel${n}InsideCidr`]) as string | undefined,
        });
        const staticOnly = plain(c.inputs.staticRoutesOnly) === true;
        return {
            name: c.name,
            customerGatewayIp: cgw ? (plain(cgw.inputs.ipAddress) as string) : undefined,
            gateway: vgw ? `virtual private gateway ${vgw.name}` : tgw ? `transit gateway ${tgw}` : "no gateway",
            routing: staticOnly ? "static" : "BGP",
            bgpAsn: staticOnly || !cgw ? undefined : String(plain(cgw.inputs.bgpAsn)),
            tunnels: [tunnel(1), tunnel(2)],
            routeTables: vgw ? propagations : tgwRoutes,
        };
    });
}

export interface Egress {
    readonly kind: "public" | "nat" | "none";
    readonly detail: string;
}

/** How the instances reach the internet: their own public addresses, NAT, or not at all (endpoints only). */
export function egressOf(model: PlanModel): Egress {
    const interfaces = model
        .ofType(SITE_TYPES.vpcEndpoint)
        .filter((e) => plain(e.inputs.vpcEndpointType) === "Interface")
        .map((e) => String(plain(e.inputs.serviceName) ?? "").split(".").slice(3).join("."));
    const subnets = new Set(model.instances.map((i) => i.subnet?.kind));
    if (subnets.has("public")) return { kind: "public", detail: "from the instances' public addresses, through the internet gateway" };
    if (subnets.has("private") && model.natGateways > 0) return { kind: "nat", detail: `through ${model.natGateways} NAT gateway${model.natGateways === 1 ? "" : "s"}` };
    return {
        kind: "none",
        detail: `none: no internet gateway, no NAT${interfaces.length > 0 ? `; AWS only through VPC endpoints (s3 gateway; ${interfaces.join(", ")})` : ""}`,
    };
}

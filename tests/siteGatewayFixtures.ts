// The site gateway's parameters that its specs share (tests/siteGateway.spec.ts and tests/system/siteGateway.spec.ts).
import { SiteGatewayParams } from "../rules/siteGateway";
import { DEFAULT_TUNNEL_ALGORITHMS } from "../rules/siteToSite";

export const STATIC: SiteGatewayParams = {
    customerGatewayIp: "198.51.100.10",
    tunnels: [
        { awsAddress: "192.0.2.1", presharedKey: 'k"1\\x_abcdefgh', insideCidr: "169.254.20.0/30" },
        { awsAddress: "192.0.2.2", presharedKey: "k2_abcdefgh", insideCidr: "169.254.20.4/30" },
    ],
    algorithms: DEFAULT_TUNNEL_ALGORITHMS,
    onPremisesCidrs: ["10.40.0.0/16", "10.41.0.0/24"],
    vpcCidr: "172.17.0.0/16",
};
export const BGP: SiteGatewayParams = { ...STATIC, bgp: { asn: 65010, amazonAsn: 64512 } };

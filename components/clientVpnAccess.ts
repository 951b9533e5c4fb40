// ClientVpnAccess: AWS Client VPN into the Orthanc VPC, with mutual TLS. The CA, server and client certificates
// are made here with @pulumi/tls (no easyrsa), the server certificate and the CA chain are imported into ACM, and
// every workstation gets a complete .ovpn profile (a secret stack output).
//
// Replacement: AWS cannot change an endpoint's client CIDR, transport or authentication options; Pulumi replaces
// the endpoint instead, which gives it a new DNS name and invalidates every profile. So the root chain named in the
// authentication options comes from an ACM import of its own (`chain`), not from the server certificate: renewing
// or replacing the server certificate only changes serverCertificateArn, which AWS updates in place. Re-issued
// certificates are re-imported into the same ACM ARN.
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import { vpcResolver } from "../rules/cidr";
import { Tags, tagsFor } from "./naming";
import { renderOvpnProfiles, VpnTransport } from "./ovpn";
import { CertificateSpec, vpnCertificatePlan } from "../rules/certificates";
import { issueCertificateAuthority, issueLeafCertificate } from "./certificateIssuer";
import { DICOM_PORT, WEB_PORT } from "../rules/ports";

/** AWS takes minutes per association and sometimes far longer (terraform-provider-aws #15680, #18542). */
export const ASSOCIATION_TIMEOUT = "30m";
/** How long connection logs are kept. */
export const CONNECTION_LOG_RETENTION_DAYS = 365;
export const SESSION_TIMEOUT_HOURS = 24;

export interface ClientVpnAccessArgs {
    readonly vpcId: pulumi.Input<string>;
    /** The VPC's block: the authorization rule's target, and where the DNS resolver is (base + 2). */
    readonly vpcCidr: string;
    /** Private subnets of the VPC, one per AZ: one association each. */
    readonly subnetIds: pulumi.Input<string>[];
    /** The OrthancPair's instance security group: gets 443/11112 from the endpoint's group. */
    readonly instanceSecurityGroupId: pulumi.Input<string>;
    /** Addresses handed to clients; /12 to /22, outside the VPC. Immutable in AWS. */
    readonly clientCidr: string;
    /** CN suffix of every certificate: `ca.`, `server.`, `chain.`, `<client>.` + this. */
    readonly certificateDomain: string;
    /** Lifetime of the server and client certificates; the CA lives twice as long. */
    readonly certificateValidityDays: number;
    /** One client certificate and profile per name. */
    readonly clients: readonly string[];
    /** Immutable in AWS. @default "udp" */
    readonly transport?: VpnTransport;
    /** @default 443 */
    readonly port?: 443 | 1194;
    /** @default true: only traffic for the VPC goes through the tunnel */
    readonly splitTunnel?: boolean;
    readonly tags?: Tags;
}

export class ClientVpnAccess extends pulumi.ComponentResource {
    public readonly endpointId: pulumi.Output<string>;
    /** `*.cvpn-endpoint-...amazonaws.com` */
    public readonly dnsName: pulumi.Output<string>;
    public readonly securityGroupId: pulumi.Output<string>;
    /** Client name -> complete .ovpn text. A secret: each holds a private key. */
    public readonly profiles: pulumi.Output<Record<string, string>>;

    constructor(name: string, args: ClientVpnAccessArgs, opts: pulumi.ComponentResourceOptions = {}) {
        super("orthweb:index:ClientVpnAccess", name, {}, opts);
        const transport = args.transport ?? "udp";
        const port = args.port ?? 443;
        const splitTunnel = args.splitTunnel ?? true;
        const tags = args.tags ?? {};
        const parent = { parent: this };

        const plan = vpnCertificatePlan(args.certificateDomain, args.clients, args.certificateValidityDays);
        const ca = issueCertificateAuthority(name, plan.ca, this);
        const issue = (spec: CertificateSpec) => issueLeafCertificate(name, spec, ca, this);
        const server = issue(plan.server);
        const chain = issue(plan.chain);
        const clients = plan.clients.map((spec) => ({ client: spec.client, ...issue(spec) }));

        const importToAcm = (role: string, leaf: { certPem: pulumi.Output<string>; keyPem: pulumi.Output<string> }) =>
            new aws.acm.Certificate(
                `${name}-${role}`,
                { privateKey: leaf.keyPem, certificateBody: leaf.certPem, certificateChain: ca.certPem, tags: tagsFor(`${name}-${role}`, tags) },
                parent,
            );
        const serverAcm = importToAcm(plan.server.resourceSuffix, server);
        const chainAcm = importToAcm(plan.chain.resourceSuffix, chain);

        const logGroup = new aws.cloudwatch.LogGroup(
            `${name}-connections`,
            { namePrefix: `/orthweb/${name}/connections-`, retentionInDays: CONNECTION_LOG_RETENTION_DAYS, tags: tagsFor(`${name}-connections`, tags) },
            parent,
        );
        const logStream = new aws.cloudwatch.LogStream(`${name}-connections`, { logGroupName: logGroup.name, name: "connections" }, parent);

        // Client VPN source-NATs every client to the endpoint's address in the VPC: the instances see this group,
        // never the client CIDR.
        const endpointSg = new aws.ec2.SecurityGroup(
            `${name}-endpoint`,
            {
                vpcId: args.vpcId,
                description: `${name}: Client VPN endpoint; reaches the Orthanc instances only`,
                egress: [
                    { protocol: "tcp", fromPort: WEB_PORT, toPort: WEB_PORT, securityGroups: [args.instanceSecurityGroupId], description: "HTTPS to the Orthanc instances" },
                    { protocol: "tcp", fromPort: DICOM_PORT, toPort: DICOM_PORT, securityGroups: [args.instanceSecurityGroupId], description: "DICOM TLS to the Orthanc instances" },
                ],
                tags: tagsFor(`${name}-endpoint`, tags),
            },
            parent,
        );
        for (const [instancePort, what] of [[WEB_PORT, "HTTPS"], [DICOM_PORT, "DICOM TLS"]] as const) {
            new aws.vpc.SecurityGroupIngressRule(
                `${name}-${instancePort}`,
                {
                    securityGroupId: args.instanceSecurityGroupId,
                    referencedSecurityGroupId: endpointSg.id,
                    ipProtocol: "tcp",
                    fromPort: instancePort,
                    toPort: instancePort,
                    description: `${what} from Client VPN workstations`,
                    tags: tagsFor(`${name}-${instancePort}`, tags),
                },
                parent,
            );
        }

        const endpoint = new aws.ec2clientvpn.Endpoint(
            `${name}-endpoint`,
            {
                description: `${name}: Orthanc over Client VPN (mutual TLS)`,
                serverCertificateArn: serverAcm.arn,
                authenticationOptions: [{ type: "certificate-authentication", rootCertificateChainArn: chainAcm.arn }],
                clientCidrBlock: args.clientCidr,
                vpcId: args.vpcId,
                securityGroupIds: [endpointSg.id],
                splitTunnel,
                transportProtocol: transport,
                vpnPort: port,
                dnsServers: [vpcResolver(args.vpcCidr)],
                connectionLogOptions: { enabled: true, cloudwatchLogGroup: logGroup.name, cloudwatchLogStream: logStream.name },
                // The portal needs SAML; with certificates the profiles below are how clients get their configuration.
                selfServicePortal: "disabled",
                sessionTimeoutHours: SESSION_TIMEOUT_HOURS,
                tags: tagsFor(`${name}-endpoint`, tags),
            },
            parent,
        );

        args.subnetIds.forEach(
            (subnetId, i) =>
                new aws.ec2clientvpn.NetworkAssociation(
                    `${name}-subnet-${i + 1}`,
                    { clientVpnEndpointId: endpoint.id, subnetId },
                    { parent: this, customTimeouts: { create: ASSOCIATION_TIMEOUT, delete: ASSOCIATION_TIMEOUT } },
                ),
        );
        // Access is denied until a rule allows it.
        new aws.ec2clientvpn.AuthorizationRule(
            `${name}-vpc`,
            { clientVpnEndpointId: endpoint.id, targetNetworkCidr: args.vpcCidr, authorizeAllGroups: true, description: "Every certificate holder may reach the VPC" },
            parent,
        );

        // Stands in for the `*` of the endpoint's name; kept in state so profiles do not change on every run.
        const label = new random.RandomString(`${name}-label`, { length: 8, upper: false, special: false }, parent);
        const material: Record<string, pulumi.Output<{ certPem: string; keyPem: string }>> = {};
        for (const c of clients) material[c.client] = pulumi.all([c.certPem, c.keyPem]).apply(([certPem, keyPem]) => ({ certPem, keyPem }));
        this.profiles = pulumi.secret(
            pulumi
                .all([endpoint.dnsName, label.result, ca.certPem, pulumi.all(material)])
                .apply(([endpointDnsName, labelText, caPem, clientPems]) =>
                    renderOvpnProfiles({ endpointDnsName, label: labelText, transport, port, caPem }, clientPems),
                ),
        );
        this.endpointId = endpoint.id;
        this.dnsName = endpoint.dnsName;
        this.securityGroupId = endpointSg.id;
        this.registerOutputs({ endpointId: this.endpointId, dnsName: this.dnsName, securityGroupId: this.securityGroupId });
    }
}

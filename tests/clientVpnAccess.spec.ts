import { specialSecretSig, specialSigKey } from "@pulumi/pulumi/runtime/rpc";
import { expect } from "chai";
import { ASSOCIATION_TIMEOUT } from "../components/clientVpnAccess";
import { MOCK_CERT_PEM, MOCK_PRIVATE_KEY_PEM } from "../plan/mockRuntime";
import { build, Built, REGION, TYPES, withConfig } from "./harness";

const WORKSTATIONS = ["reading-room-1", "reading-room-2"];
const NONE = withConfig({
    "orthweb:network": { vpcCidr: "10.20.0.0/16" },
    "orthweb:traffic": { frontDoor: "none", clientVpn: { clientCidr: "192.168.100.0/22", certificateDomain: "vpn.example.org", clients: WORKSTATIONS } },
});
const ENDPOINT_DNS = `*.cvpn-endpoint-0mock.prod.clientvpn.${REGION}.amazonaws.com`;

/** How a secret input reaches the engine. */
const secret = (value: string) => ({ [specialSigKey]: specialSecretSig, value });

/** The endpoint's inputs AWS cannot change in place: a change replaces the endpoint and its DNS name. */
const REPLACE_ONLY = ["authenticationOptions", "clientCidrBlock", "transportProtocol"];

describe("ClientVpnAccess", () => {
    let none: Built;
    before(async () => {
        none = await build(NONE);
    });

    const endpoint = () => none.one(TYPES.vpnEndpoint, "vpn-endpoint");
    const sgIdOf = (b: Built, name: string) => b.one(TYPES.securityGroup, name).id;

    it("authenticates clients by certificate, with a root chain from an ACM import of the same CA", () => {
        const chainAcm = none.one(TYPES.acmCertificate, "vpn-chain");
        expect(endpoint().inputs.authenticationOptions).to.deep.equal([{ type: "certificate-authentication", rootCertificateChainArn: chainAcm.state.arn }]);
        expect(endpoint().options!.propertyDependencies.authenticationOptions).to.deep.equal([`${TYPES.acmCertificate}::vpn-chain`]);
        const chainCert = none.one(TYPES.locallySignedCert, "vpn-chain");
        expect(chainCert.options!.propertyDependencies.caCertPem).to.deep.equal([`${TYPES.selfSignedCert}::vpn-ca`]);
    });

    it("presents the server certificate from ACM", () => {
        expect(endpoint().inputs.serverCertificateArn).to.equal(none.one(TYPES.acmCertificate, "vpn-server").state.arn);
    });

    it("imports the server and chain certificates into ACM with their key (a secret) and the CA as chain", () => {
        const acm = none.ofType(TYPES.acmCertificate);
        expect(acm.map((c) => c.name).sort()).to.deep.equal(["vpn-chain", "vpn-server"]);
        for (const cert of acm) {
            expect(cert.inputs, cert.name).to.include({ certificateBody: MOCK_CERT_PEM, certificateChain: MOCK_CERT_PEM });
            expect(cert.inputs.privateKey, cert.name).to.deep.equal(secret(MOCK_PRIVATE_KEY_PEM));
            // An import (no domainName/validationMethod): re-imported in place when the certificate changes.
            expect(cert.inputs, cert.name).to.not.have.any.keys("domainName", "validationMethod");
            const deps = cert.options!.propertyDependencies;
            expect(deps.certificateBody).to.deep.equal([`${TYPES.locallySignedCert}::${cert.name}`]);
            expect(deps.privateKey).to.deep.equal([`${TYPES.privateKey}::${cert.name}`]);
            expect(deps.certificateChain).to.deep.equal([`${TYPES.selfSignedCert}::vpn-ca`]);
        }
    });

    it("renewing or replacing the server certificate cannot replace the endpoint", () => {
        // Only serverCertificateArn (updated in place by AWS) may depend on the server certificate.
        const deps = endpoint().options!.propertyDependencies;
        for (const input of REPLACE_ONLY) {
            expect(deps[input] ?? [], input).to.not.satisfy((list: string[]) => list.some((d) => d.endsWith("::vpn-server")));
        }
        expect(deps.serverCertificateArn).to.deep.equal([`${TYPES.acmCertificate}::vpn-server`]);
        expect(endpoint().inputs.authenticationOptions[0].rootCertificateChainArn).to.not.equal(endpoint().inputs.serverCertificateArn);
        expect(endpoint().options!.replaceOnChanges).to.deep.equal([]);
    });

    it("hands out addresses from the configured client CIDR, with split tunnel, transport and port", () => {
        expect(endpoint().inputs).to.include({ clientCidrBlock: "192.168.100.0/22", splitTunnel: true, transportProtocol: "udp", vpnPort: 443 });
    });

    it("resolves names with the VPC's resolver (VPC base + 2)", () => {
        expect(endpoint().inputs.dnsServers).to.deep.equal(["10.20.0.2"]);
    });

    it("logs every connection to its own CloudWatch log group and stream", () => {
        const group = none.one(TYPES.logGroup, "vpn-connections");
        const stream = none.one(TYPES.logStream, "vpn-connections");
        expect(endpoint().inputs.connectionLogOptions).to.deep.equal({ enabled: true, cloudwatchLogGroup: group.state.name, cloudwatchLogStream: stream.inputs.name });
        expect(stream.inputs.logGroupName).to.equal(group.state.name);
        expect(group.inputs.retentionInDays).to.be.a("number").and.at.least(365);
    });

    it("sits in the VPC with its own security group, whose only egress is 443/11112 to the instances", () => {
        const vpcId = none.one(TYPES.vpc, "orthanc-vpc").state.vpcId;
        expect(endpoint().inputs.vpcId).to.equal(vpcId);
        expect(endpoint().inputs.securityGroupIds).to.deep.equal([sgIdOf(none, "vpn-endpoint")]);
        const sg = none.one(TYPES.securityGroup, "vpn-endpoint");
        expect(sg.inputs.vpcId).to.equal(vpcId);
        expect(sg.inputs.ingress ?? []).to.deep.equal([]);
        expect(sg.inputs.egress.map((e: any) => [e.protocol, e.fromPort, e.toPort, e.securityGroups, e.cidrBlocks])).to.deep.equal([
            ["tcp", 443, 443, [sgIdOf(none, "orthanc-instances")], undefined],
            ["tcp", 11112, 11112, [sgIdOf(none, "orthanc-instances")], undefined],
        ]);
    });

    it("associates one private subnet per AZ, with 30-minute create and delete timeouts", () => {
        const associations = none.ofType(TYPES.vpnAssociation);
        const privateSubnets = none.one(TYPES.vpc, "orthanc-vpc").state.privateSubnetIds;
        expect(privateSubnets).to.have.length(2);
        expect(associations.map((a) => a.inputs.subnetId)).to.deep.equal(privateSubnets);
        for (const a of associations) {
            expect(a.inputs.clientVpnEndpointId).to.equal(endpoint().id);
            expect(a.options!.customTimeouts).to.include({ create: ASSOCIATION_TIMEOUT, delete: ASSOCIATION_TIMEOUT });
        }
        expect(ASSOCIATION_TIMEOUT).to.equal("30m");
    });

    it("authorizes every certificate holder for the VPC CIDR, and adds no routes of its own", () => {
        const rules = none.ofType(TYPES.vpnAuthorization);
        expect(rules).to.have.length(1);
        expect(rules[0].inputs).to.include({ clientVpnEndpointId: endpoint().id, targetNetworkCidr: "10.20.0.0/16", authorizeAllGroups: true });
        // The associations add the VPC route; Client VPN allows 10 routes per endpoint.
        expect(none.ofType(TYPES.vpnRoute)).to.deep.equal([]);
    });

    it("keeps the self-service portal off (it needs SAML) and the session timeout at 24 h", () => {
        expect(endpoint().inputs).to.include({ selfServicePortal: "disabled", sessionTimeoutHours: 24 });
    });

    it("makes a CA with RSA 2048 that signs certificates and CRLs and outlives every leaf", () => {
        const ca = none.one(TYPES.selfSignedCert, "vpn-ca");
        expect(ca.inputs).to.include({ isCaCertificate: true });
        expect(ca.inputs.allowedUses).to.have.members(["cert_signing", "crl_signing"]);
        expect(ca.inputs.subject.commonName).to.equal("ca.vpn.example.org");
        for (const key of none.ofType(TYPES.privateKey).filter((k) => k.name.startsWith("vpn-"))) {
            expect(key.inputs, key.name).to.include({ algorithm: "RSA", rsaBits: 2048 });
        }
        const leaves = none.ofType(TYPES.locallySignedCert).filter((c) => c.name.startsWith("vpn-"));
        expect(leaves).to.have.length(2 + WORKSTATIONS.length);
        for (const leaf of leaves) {
            // A leaf issued just before the CA's renewal window still expires before the CA.
            expect(ca.inputs.earlyRenewalHours, leaf.name).to.be.at.least(leaf.inputs.validityPeriodHours);
            expect(ca.inputs.validityPeriodHours, leaf.name).to.be.above(ca.inputs.earlyRenewalHours);
            expect(leaf.inputs.validityPeriodHours).to.equal(825 * 24);
            expect(leaf.inputs.earlyRenewalHours).to.be.above(0).and.below(leaf.inputs.validityPeriodHours);
        }
    });

    it("issues the server certificate for server.<domain> (CN and SAN) with serverAuth", () => {
        const request = none.one(TYPES.certRequest, "vpn-server");
        expect(request.inputs.subject.commonName).to.equal("server.vpn.example.org");
        expect(request.inputs.dnsNames).to.deep.equal(["server.vpn.example.org"]);
        const cert = none.one(TYPES.locallySignedCert, "vpn-server");
        expect(cert.inputs.allowedUses).to.include("server_auth").and.not.include("client_auth");
    });

    it("issues one client certificate per workstation, CN <client>.<domain>, with clientAuth", () => {
        for (const ws of WORKSTATIONS) {
            expect(none.one(TYPES.certRequest, `vpn-client-${ws}`).inputs.subject.commonName).to.equal(`${ws}.vpn.example.org`);
            const cert = none.one(TYPES.locallySignedCert, `vpn-client-${ws}`);
            expect(cert.inputs.allowedUses).to.include("client_auth").and.not.include("server_auth");
            expect(cert.inputs.isCaCertificate ?? false).to.equal(false);
        }
    });

    it("with frontDoor none, the instances are private and reachable only from the endpoint's security group", () => {
        expect(none.ofType(TYPES.eip)).to.deep.equal([]);
        const vpc = none.one(TYPES.vpc, "orthanc-vpc");
        expect(vpc.inputs.subnetSpecs.map((s: any) => s.type)).to.deep.equal(["Public", "Private"]);
        for (const instance of none.ofType(TYPES.instance)) expect(vpc.state.privateSubnetIds).to.include(instance.inputs.subnetId);
        const instanceSg = sgIdOf(none, "orthanc-instances");
        // Besides the pair's own peer-fallback rules (from the group itself; orthancPair.spec.ts).
        const ingress = none.ofType(TYPES.ingressRule).filter((r) => r.inputs.securityGroupId === instanceSg && r.inputs.referencedSecurityGroupId !== instanceSg);
        expect(ingress.map((r) => [r.inputs.fromPort, r.inputs.toPort, r.inputs.referencedSecurityGroupId, r.inputs.cidrIpv4])).to.deep.equal([
            [443, 443, sgIdOf(none, "vpn-endpoint"), undefined],
            [11112, 11112, sgIdOf(none, "vpn-endpoint"), undefined],
        ]);
        expect(none.one(TYPES.securityGroup, "orthanc-instances").inputs.ingress ?? []).to.deep.equal([]);
    });

    it("publishes the slots' reserved private addresses as the entry (reached over the VPN; a replacement keeps them)", () => {
        expect(none.outputs.frontDoor).to.equal("none");
        const reserved = none.ofType(TYPES.subnetCidrReservation).map((r) => r.inputs.cidrBlock.replace(/\/28$/, ""));
        expect(reserved).to.have.length(2);
        expect(none.outputs.webUrls).to.deep.equal(reserved.map((ip) => `https://${ip}/`));
    });

    it("outputs one complete profile per workstation, as a secret, and the endpoint id", () => {
        expect(none.outputs.vpnEndpointId).to.equal(endpoint().id);
        expect(none.secretOutputs.has("vpnProfiles")).to.equal(true);
        expect(Object.keys(none.outputs.vpnProfiles)).to.deep.equal(WORKSTATIONS);
        const label = none.one(TYPES.randomString, "vpn-label").state.result;
        for (const profile of Object.values<string>(none.outputs.vpnProfiles)) {
            expect(profile).to.include(`remote ${label}.${ENDPOINT_DNS.slice(2)} 443\n`).and.include("proto udp\n");
            expect(profile).to.match(/<ca>\n-----BEGIN CERTIFICATE-----[\s\S]+<\/ca>\n<cert>\n-----BEGIN CERTIFICATE-----[\s\S]+<\/cert>\n<key>\n-----BEGIN PRIVATE KEY-----[\s\S]+<\/key>\n$/);
        }
        expect(none.one(TYPES.randomString, "vpn-label").inputs).to.include({ upper: false, special: false });
    });

    it("keeps private keys out of every plain output", () => {
        for (const [key, value] of Object.entries(none.outputs)) {
            if (none.secretOutputs.has(key)) continue;
            expect(JSON.stringify(value) ?? "", key).to.not.include("MOCK-PRIVATE-KEY");
        }
    });

    it("names every child after the component", () => {
        const types: string[] = Object.values(TYPES).filter((t) => /ec2clientvpn|acm|cloudwatch\/log|randomString|certRequest|locallySigned/.test(t));
        // (The pair's peer link has certificates of its own, named after the pair.)
        for (const r of none.registrations.filter((r) => types.includes(r.type) && !r.name.startsWith("orthanc-peer-"))) expect(r.name, r.type).to.match(/^vpn-/);
    });

    it("uses tcp, port 1194 and a full tunnel when configured, in the endpoint and the profiles", async () => {
        const b = await build(
            withConfig({ "orthweb:traffic": { frontDoor: "none", clientVpn: { clients: ["ws"], transport: "tcp", port: 1194, splitTunnel: false } } }),
        );
        expect(b.one(TYPES.vpnEndpoint, "vpn-endpoint").inputs).to.include({ transportProtocol: "tcp", vpnPort: 1194, splitTunnel: false });
        expect(b.outputs.vpnProfiles.ws).to.include("proto tcp\n").and.match(/^remote \S+ 1194$/m);
    });

    it("is added beside another front door: direct keeps its CIDR rules, the VPN uses the private subnets", async () => {
        const b = await build(withConfig({ "orthweb:traffic": { frontDoor: "direct", clientVpn: { clients: ["ws"] } } }));
        const instanceSg = sgIdOf(b, "orthanc-instances");
        const ingress = b.ofType(TYPES.ingressRule).filter((r) => r.inputs.securityGroupId === instanceSg);
        expect(ingress.filter((r) => r.inputs.cidrIpv4 === "0.0.0.0/0").map((r) => r.inputs.fromPort)).to.have.members([443, 11112]);
        expect(ingress.filter((r) => r.inputs.referencedSecurityGroupId === sgIdOf(b, "vpn-endpoint")).map((r) => r.inputs.fromPort)).to.have.members([443, 11112]);
        expect(b.ofType(TYPES.eip)).to.have.length(2);
        // The instances are public here; the VPN still lands in the VPC's private (internal) tier.
        const vpc = b.one(TYPES.vpc, "orthanc-vpc").state;
        const associated = b.ofType(TYPES.vpnAssociation).map((a) => a.inputs.subnetId);
        expect(associated).to.have.length(2).and.to.have.members([...(vpc.privateSubnetIds ?? []), ...(vpc.isolatedSubnetIds ?? [])]);
        expect(associated.filter((id: string) => vpc.publicSubnetIds.includes(id))).to.deep.equal([]);
        expect(b.outputs.frontDoor).to.equal("direct");
        expect(Object.keys(b.outputs.vpnProfiles)).to.deep.equal(["ws"]);
    });

    it("adds nothing without a clientVpn section", async () => {
        const b = await build(withConfig({ "orthweb:traffic": { frontDoor: "direct" } }));
        expect(b.registrations.filter((r) => r.name === "vpn" || r.name.startsWith("vpn-"))).to.deep.equal([]);
        expect(b.outputs).to.not.have.any.keys("vpnEndpointId", "vpnProfiles");
    });
});

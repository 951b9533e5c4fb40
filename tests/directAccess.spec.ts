import { expect } from "chai";
import { clientCidrIngress } from "../components/ingress";
import { build, Built, TYPES, withConfig } from "./harness";

describe("direct pattern (DirectAccess)", () => {
    let built: Built;
    const web = ["198.51.100.0/24", "192.0.2.0/24"];
    const dicom = ["203.0.113.64/27"];

    before(async () => {
        built = await build(withConfig({ "orthweb:network": { webClientCidrs: web, dicomClientCidrs: dicom } }));
    });

    const instanceIngress = () => {
        const sg = built.one(TYPES.securityGroup, "orthanc-instances");
        // Besides the pair's own peer-fallback rules (from the group itself; orthancPair.spec.ts).
        return built.ofType(TYPES.ingressRule).filter((r) => r.inputs.securityGroupId === sg.id && r.inputs.referencedSecurityGroupId !== sg.id);
    };

    it("opens 443 to exactly the web client blocks and 11112 to exactly the DICOM client blocks", () => {
        const rules = instanceIngress().map((r) => [r.inputs.fromPort, r.inputs.toPort, r.inputs.cidrIpv4, r.inputs.ipProtocol]);
        expect(rules).to.have.deep.members([
            [443, 443, "198.51.100.0/24", "tcp"],
            [443, 443, "192.0.2.0/24", "tcp"],
            [11112, 11112, "203.0.113.64/27", "tcp"],
        ]);
    });

    it("describes every rule with its purpose and source", () => {
        for (const r of instanceIngress()) expect(r.inputs.description).to.match(/^(HTTPS from web clients|DICOM TLS from modalities) \d+\.\d+\.\d+\.\d+\/\d+$/);
    });

    it("opens nothing else: no 22, no 8042, no 4242, no security-group or prefix-list sources", () => {
        for (const r of instanceIngress()) {
            expect([443, 11112]).to.include(r.inputs.fromPort);
            expect(r.inputs).to.not.have.any.keys("referencedSecurityGroupId", "prefixListId");
        }
    });

    it("publishes one URL and one DICOM endpoint per instance, on the Elastic IPs' names", () => {
        const names = built.ofType(TYPES.eip).map((e) => e.state.publicDns);
        expect(built.outputs.frontDoor).to.equal("direct");
        expect(built.outputs.webUrls).to.deep.equal(names.map((n) => `https://${n}/`));
        expect(built.outputs.dicomEndpoints).to.deep.equal(names.map((host) => ({ host, port: 11112, aet: "ORTHANC", tls: true })));
    });

    it("tells the user the certificate is self-signed", () => {
        expect(built.outputs.certificateNotice).to.match(/self-signed/);
    });

    it("maps client blocks to rules as a pure function", () => {
        expect(clientCidrIngress(["0.0.0.0/0"], [])).to.deep.equal([{ port: 443, cidr: "0.0.0.0/0", description: "HTTPS from web clients 0.0.0.0/0" }]);
        expect(clientCidrIngress([], [])).to.deep.equal([]);
    });
});

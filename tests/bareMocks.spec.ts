// The program under bare mocks, as someone else's test suite would run it: every resource's state is just its
// inputs, and the awsx Vpc gives only vpcId, publicSubnetIds and privateSubnetIds. Nothing may crash, and the
// properties the design promises must be visible from the inputs alone.
import { expect } from "chai";
import { createInfrastructure } from "../program";
import { parseStackConfig } from "../stacks/config";
import { Registration, resolveOutputs, runUnderMocks } from "../plan/mockRuntime";
import { REGION, TYPES, withConfig } from "./harness";
import { parseBundle } from "../rules/rollout";

describe("under bare mocks (inputs echoed as state)", () => {
    let regs: Registration[];
    const unhandled: unknown[] = [];
    const onUnhandled = (e: unknown) => unhandled.push(e);

    before(async () => {
        process.on("unhandledRejection", onUnhandled);
        const config = parseStackConfig(withConfig({ "orthweb:network": { webClientCidrs: ["198.51.100.0/24"], dicomClientCidrs: ["203.0.113.0/24"] } }));
        const run = await runUnderMocks({ stack: "bare", region: REGION, minimal: true }, () => createInfrastructure(config));
        await resolveOutputs(run.result as unknown as Record<string, unknown>);
        regs = run.registrations;
    });

    after(() => process.off("unhandledRejection", onUnhandled));

    const of = (type: string) => regs.filter((r) => r.type === type);

    it("completes without an error anywhere in the program", () => {
        expect(unhandled.map((e) => (e as Error).message)).to.deep.equal([]);
    });

    it("still places two instances in two different subnets with IMDSv2 and encrypted root volumes", () => {
        const slots = of(TYPES.autoscalingGroup);
        expect(slots).to.have.length(2);
        expect(new Set(slots.map((g) => g.inputs.vpcZoneIdentifiers[0])).size).to.equal(2);
        const [lt] = of(TYPES.launchTemplate);
        expect(lt.inputs.metadataOptions.httpTokens).to.equal("required");
        expect(lt.inputs.blockDeviceMappings[0].ebs.encrypted).to.equal("true");
    });

    it("still renders the config bundle with no private key in it, and a launch template with no user data", () => {
        const [bundle] = of(TYPES.bucketObject);
        const files = parseBundle(String(bundle.inputs.content));
        expect(files.map((f) => f.path)).to.include("/opt/orthweb/orthanc.template.json");
        expect(String(bundle.inputs.content)).to.not.include("PRIVATE KEY");
        expect(of(TYPES.launchTemplate)[0].inputs.userData).to.equal(undefined);
    });

    it("still shows an encrypted private database with a managed password and a locked-down bucket", () => {
        const [db] = of(TYPES.rds);
        expect(db.inputs).to.deep.include({ storageEncrypted: true, publiclyAccessible: false, manageMasterUserPassword: true });
        expect(db.inputs).to.not.have.property("password");
        expect(of(TYPES.bucketPublicAccess)[0].inputs).to.include({ blockPublicAcls: true, restrictPublicBuckets: true });
        expect(of(TYPES.bucketEncryption).find((e) => e.name === "orthanc-bucket")!.inputs.rules[0].applyServerSideEncryptionByDefault.sseAlgorithm).to.equal("aws:kms");
    });

    it("still admits only 443 from the web blocks and 11112 from the DICOM blocks to the instances", () => {
        const sg = regs.find((r) => r.type === TYPES.securityGroup && r.name === "orthanc-instances")!;
        // Besides the pair's own peer-fallback rules (from the group itself; orthancPair.spec.ts).
        const rules = of(TYPES.ingressRule).filter((r) => r.inputs.securityGroupId === sg.id && r.inputs.referencedSecurityGroupId !== sg.id);
        expect(rules.map((r) => [r.inputs.fromPort, r.inputs.cidrIpv4])).to.have.deep.members([
            [443, "198.51.100.0/24"],
            [11112, "203.0.113.0/24"],
        ]);
    });
});

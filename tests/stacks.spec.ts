import { expect } from "chai";
import { validateStackConfig } from "../stacks/config";
import { listStacks, loadStackFile, parseStackFileText, SECRET_PLACEHOLDER } from "../stacks/stackFile";
import { build, TYPES } from "./harness";

describe("stack files", () => {
    const stacks = listStacks();

    it("include a dev and a prod stack", () => {
        expect(stacks).to.include.members(["dev", "prod"]);
    });

    for (const stack of stacks) {
        describe(`Pulumi.${stack}.yaml`, () => {
            it("is valid against the config contract", () => {
                const file = loadStackFile(stack);
                expect(validateStackConfig(file.config, { opaqueKeys: file.encryptedKeys }).problems).to.deep.equal([]);
            });

            it("builds under mocks: two instance slots, unique resource names, no unmodelled lookups", async () => {
                const file = loadStackFile(stack);
                const built = await build(file.config, stack);
                expect(built.ofType(TYPES.autoscalingGroup)).to.have.length(2);
                const keys = built.registrations.map((r) => `${r.type}::${r.name}`);
                expect(keys.length).to.equal(new Set(keys).size);
                expect(built.outputs.webUrls).to.be.an("array").that.is.not.empty;
                expect(built.outputs.dicomEndpoints).to.be.an("array").that.is.not.empty;
            });
        });
    }

    it("dev is the cheap direct stack", async () => {
        const built = await build(loadStackFile("dev").config, "dev");
        expect(built.config.environment).to.equal("dev");
        expect(built.outputs.frontDoor).to.equal("direct");
        expect(built.one(TYPES.rds, "orthanc-db").inputs.multiAz).to.equal(false);
    });

    it("prod protects its data and narrows who may connect", async () => {
        const built = await build(loadStackFile("prod").config, "prod");
        expect(built.config.environment).to.equal("prod");
        expect(built.one(TYPES.rds, "orthanc-db").inputs).to.deep.include({ multiAz: true, deletionProtection: true });
        expect(built.config.network.webClientCidrs).to.not.include("0.0.0.0/0");
        expect(built.config.network.dicomClientCidrs).to.not.include("0.0.0.0/0");
    });

    it("turns encrypted values into placeholders and remembers which they were", () => {
        const file = parseStackFileText("x", "Pulumi.x.yaml", "config:\n  aws:region: eu-west-1\n  orthweb:tlsPrivateKeyPem:\n    secure: v1:abc\n");
        expect(file.config["orthweb:tlsPrivateKeyPem"]).to.equal(SECRET_PLACEHOLDER);
        expect([...file.encryptedKeys]).to.deep.equal(["orthweb:tlsPrivateKeyPem"]);
        expect(file.config["aws:region"]).to.equal("eu-west-1");
    });

    it("names the known stacks when asked for one that does not exist", () => {
        expect(() => loadStackFile("staging")).to.throw(/No stack file Pulumi\.staging\.yaml; stacks in this project: .*dev.*prod/);
    });
});

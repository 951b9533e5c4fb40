// index.ts as `pulumi up` runs it: config from the Pulumi runtime (JSON text for sections), errors as RunError.
import { expect } from "chai";
import * as pulumi from "@pulumi/pulumi";
import { runUnderMocks } from "../plan/mockRuntime";
import { promiseOf } from "../plan/mockRuntime";

function loadIndex(): Record<string, unknown> {
    const path = require.resolve("../index");
    delete require.cache[path];
    return require(path);
}

describe("index.ts (the Pulumi entry point)", () => {
    it("stops bad config before registering anything, with one line per problem and no stack trace", async () => {
        pulumi.runtime.setAllConfig({
            "aws:region": "eu-west-1",
            "orthweb:environment": "staging",
            "orthweb:network": JSON.stringify({ vpcCidr: "10.0.0.0/8" }),
            "orthweb:traffic": JSON.stringify({ frontDoor: "cdn" }),
        });
        let error: unknown;
        const run = await runUnderMocks({ stack: "bad", region: "eu-west-1" }, () => {
            try {
                loadIndex();
            } catch (e) {
                error = e;
            }
        });
        expect(run.registrations).to.deep.equal([]);
        expect(pulumi.RunError.isInstance(error), "a RunError, which Pulumi prints without a stack trace").to.equal(true);
        const lines = (error as Error).message.split("\n");
        expect(lines[0]).to.equal("Invalid stack configuration (3 problems):");
        expect(lines.slice(1).map((l) => l.split(":").slice(0, 2).join(":").trim())).to.deep.equal(["- orthweb:environment", "- orthweb:network.vpcCidr", "- orthweb:traffic.frontDoor"]);
    });

    it("builds the stack from runtime config and exports the contract's outputs", async () => {
        pulumi.runtime.setAllConfig({
            "aws:region": "eu-west-1",
            "orthweb:environment": "dev",
            "orthweb:network": JSON.stringify({ vpcCidr: "172.17.0.0/16" }),
            "orthweb:traffic": JSON.stringify({ frontDoor: "direct" }),
        });
        let exports: Record<string, unknown> = {};
        const run = await runUnderMocks({ stack: "good", region: "eu-west-1" }, () => {
            exports = loadIndex();
        });
        expect(run.registrations.filter((r) => r.type === "aws:autoscaling/group:Group")).to.have.length(2);
        for (const key of ["frontDoor", "webUrls", "dicomEndpoints", "instanceIds", "databaseEndpoint", "bucketName"]) expect(exports, key).to.have.property(key);
        expect(exports.frontDoor).to.equal("direct");
        // The instance each slot's group launched (looked up once the slot's apply succeeded).
        expect(await promiseOf(exports.instanceIds as pulumi.Output<string[]>)).to.deep.equal(["i-orthanc-1-0mock", "i-orthanc-2-0mock"]);
    });
});

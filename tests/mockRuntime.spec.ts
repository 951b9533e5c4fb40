// The mock runtime's own promises about the SDK: what it changes for the length of a run, and what it keeps.
import { expect } from "chai";
import { DebuggablePromise, runUnderMocks } from "../plan/mockRuntime";

// eslint-disable-next-line @typescript-eslint/no-var-requires
const debuggable = require("@pulumi/pulumi/runtime/debuggable") as { debuggablePromise: DebuggablePromise };
// eslint-disable-next-line @typescript-eslint/no-var-requires
const state = require("@pulumi/pulumi/runtime/state") as { getStore(): { leakCandidates: Set<Promise<unknown>> } };

/** Inside a run: a promise through the SDK's debuggablePromise, whether it is a leak candidate, and its debug properties. */
async function debuggableInRun(): Promise<{ candidate: boolean; settledCandidate: boolean; debugProperties: string[] }> {
    const run = await runUnderMocks({ stack: "mock-runtime", region: "eu-west-1" }, async () => {
        let settle!: () => void;
        const pending = new Promise<void>((resolve) => (settle = resolve));
        const wrapped = debuggable.debuggablePromise(pending, "a spec's promise");
        const candidate = state.getStore().leakCandidates.has(pending);
        settle();
        await wrapped;
        const debugProperties = ["_debugId", "_debugCtx", "_debugStackTrace"].filter((k) => Object.getOwnPropertyDescriptor(pending, k) !== undefined);
        return { candidate, settledCandidate: state.getStore().leakCandidates.has(pending), debugProperties };
    });
    return run.result;
}

describe("mockRuntime: the SDK's promise bookkeeping", () => {
    it("keeps each promise a leak candidate until it settles, as the SDK's exit check needs, without the debug properties", async () => {
        const before = debuggable.debuggablePromise;
        expect(await debuggableInRun()).to.deep.equal({ candidate: true, settledCandidate: false, debugProperties: [] });
        expect(debuggable.debuggablePromise, "the SDK's own function is back after the run").to.equal(before);
    });

    it("leaves the SDK's debuggablePromise alone when PULUMI_DEBUG_PROMISE_LEAKS asks for the debug properties", async () => {
        process.env.PULUMI_DEBUG_PROMISE_LEAKS = "1";
        try {
            expect(await debuggableInRun()).to.deep.equal({ candidate: true, settledCandidate: false, debugProperties: ["_debugId", "_debugCtx", "_debugStackTrace"] });
        } finally {
            delete process.env.PULUMI_DEBUG_PROMISE_LEAKS;
        }
    });
});

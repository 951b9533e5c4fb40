// A validated stack config built under Pulumi mocks: the registrations and resolved outputs that the offline plan
// reports from and that the local twin takes the instances' files from (the config bundle, the SSM document). The
// program and the mocks are loaded on first use: they load the Pulumi SDKs (about a second of CPU), which only a valid
// stack config needs; a bad stack file is reported without them.
import type { StackConfig } from "../stacks/config";
import type { Invocation, Registration } from "./mockRuntime";

export interface BuiltStack {
    readonly registrations: Registration[];
    readonly invocations: Invocation[];
    readonly outputs: Record<string, unknown>;
    readonly secretOutputs: Set<string>;
    /** What `pulumi up` would print as warnings (configWarnings). */
    readonly warnings: readonly string[];
}

export function programUnderMocks(): { program: typeof import("../program"); mocks: typeof import("./mockRuntime") } {
    /* eslint-disable @typescript-eslint/no-var-requires */
    return { program: require("../program"), mocks: require("./mockRuntime") };
    /* eslint-enable @typescript-eslint/no-var-requires */
}

/** The program run under mocks for `config`, as stack `stack`: every registration, and the outputs resolved. */
export async function buildStack(stack: string, config: StackConfig): Promise<BuiltStack> {
    const { program, mocks } = programUnderMocks();
    const run = await mocks.runUnderMocks({ stack, region: config.region }, () => program.createInfrastructure(config));
    const { values, secrets } = await mocks.resolveOutputs(run.result as unknown as Record<string, unknown>);
    return { registrations: run.registrations, invocations: run.invocations, outputs: values, secretOutputs: secrets, warnings: run.warnings };
}

// npm run plan -- <stack>: what a stack would deploy, offline. Reads Pulumi.<stack>.yaml, validates it,
// runs the program under mocks and prints the resources by component and the stack outputs.
// Exit 1 with one line per problem on bad config; never a stack trace.
import { createInfrastructure } from "../program";
import { validateStackConfig } from "../stacks/config";
import { listStacks, loadStackFile } from "../stacks/stackFile";
import { Registration, resolveOutputs, runUnderMocks } from "./mockRuntime";
import { groupByComponent, shortType, table } from "./report";

export interface PlanResult {
    readonly stack: string;
    readonly registrations: Registration[];
    readonly outputs: Record<string, unknown>;
    readonly secretOutputs: Set<string>;
}

export class PlanConfigError extends Error {
    constructor(public readonly stack: string, public readonly file: string, public readonly problems: string[]) {
        super(`${file}: ${problems.length} problem${problems.length === 1 ? "" : "s"}\n` + problems.map((p) => `  - ${p}`).join("\n"));
    }
}

/** Validates a stack file and builds it under mocks. Throws PlanConfigError on bad config. */
export async function planStack(stack: string, projectDir?: string): Promise<PlanResult> {
    const file = loadStackFile(stack, projectDir);
    const { config, problems } = validateStackConfig(file.config, { opaqueKeys: file.encryptedKeys });
    if (!config) throw new PlanConfigError(stack, file.file, problems);
    const run = await runUnderMocks({ stack, region: config.region }, () => createInfrastructure(config));
    const { values, secrets } = await resolveOutputs(run.result as unknown as Record<string, unknown>);
    return { stack, registrations: run.registrations, outputs: values, secretOutputs: secrets };
}

function showOutput(value: unknown): string {
    return typeof value === "string" ? value : JSON.stringify(value);
}

export function renderText(plan: PlanResult): string {
    const groups = groupByComponent(plan.registrations);
    const total = groups.reduce((n, g) => n + g.resources.length, 0);
    const lines = [`Stack ${plan.stack}: ${total} resources in ${groups.length} components (offline plan, Pulumi mocks)`, ""];
    for (const g of groups) {
        lines.push(`${g.component} (${g.componentType || "no component"}): ${g.resources.length} resources`);
        const rows = Object.entries(g.counts)
            .sort(([a], [b]) => a.localeCompare(b))
            .map(([type, n]) => [String(n).padStart(3), shortType(type), g.resources.filter((r) => r.type === type).map((r) => r.name).join(", ")]);
        lines.push(table(rows), "");
    }
    lines.push("Outputs:");
    lines.push(
        table(
            Object.entries(plan.outputs).map(([k, v]) => [k, plan.secretOutputs.has(k) ? "[secret]" : showOutput(v)]),
        ),
    );
    return lines.join("\n") + "\n";
}

async function main(argv: string[]): Promise<number> {
    const args = argv.filter((a) => !a.startsWith("--"));
    const stacks = argv.includes("--all") ? listStacks() : args;
    if (stacks.length === 0) {
        process.stderr.write(`usage: npm run plan -- <stack>   (stacks: ${listStacks().join(", ")})\n`);
        return 2;
    }
    let failed = false;
    for (const stack of stacks) {
        try {
            process.stdout.write(renderText(await planStack(stack)));
        } catch (e) {
            failed = true;
            process.stderr.write(`${(e as Error).message}\n`);
        }
    }
    return failed ? 1 : 0;
}

if (require.main === module) {
    main(process.argv.slice(2)).then(
        (code) => process.exit(code),
        (e) => {
            process.stderr.write(`plan failed: ${(e as Error).message}\n`);
            process.exit(1);
        },
    );
}

// npm run plan -- <stack> [--format text|markdown|json]   |   npm run plan -- --all [--format ...]
// What a stack would deploy, offline: reads Pulumi.<stack>.yaml, validates it, runs the program under Pulumi mocks
// and reports from the registered resources: resources by component, endpoints, reachability, failover, cost and
// a Mermaid diagram. Bad config: exit 1 with one line per problem, each naming its key; never a stack trace.
import { StackConfig, validateStackConfig } from "../stacks/config";
import { trustText } from "../rules/acme";
import { listStacks, loadStackFile, StackFileError } from "../stacks/stackFile";
import { BuiltStack, buildStack, programUnderMocks } from "./build";
import { DEFAULT_USAGE } from "./cost";
import type { Invocation, Registration } from "./mockRuntime";
import { Format, FORMATS, render, renderAll, StackSummary, summaryOf } from "./render";
import { buildReport, PlanReport, prefixListsOf } from "./report";

export interface PlanResult {
    readonly stack: string;
    readonly config: StackConfig;
    readonly registrations: Registration[];
    readonly invocations: Invocation[];
    readonly outputs: Record<string, unknown>;
    readonly secretOutputs: Set<string>;
}

export class PlanConfigError extends Error {
    constructor(public readonly stack: string, public readonly file: string, public readonly problems: string[]) {
        super(`${file}: ${problems.length} problem${problems.length === 1 ? "" : "s"}\n` + problems.map((p) => `  - ${p}`).join("\n"));
        this.name = "PlanConfigError";
    }
}

/** Builds a validated config under mocks, the way planStack does (the specs pass one that remembers its builds). */
export type StackBuilder = (stack: string, config: StackConfig) => Promise<BuiltStack>;

/** Validates a stack file and builds it under mocks. Throws PlanConfigError on a bad or unreadable stack file. */
export async function planStack(stack: string, projectDir?: string, builder: StackBuilder = buildStack): Promise<PlanResult> {
    let file;
    try {
        file = loadStackFile(stack, projectDir);
    } catch (e) {
        if (e instanceof StackFileError) throw new PlanConfigError(stack, e.file, [e.problem]);
        throw e;
    }
    const { config, problems } = validateStackConfig(file.config, { opaqueKeys: file.encryptedKeys });
    if (!config) throw new PlanConfigError(stack, file.file, problems);
    const built = await builder(stack, config);
    // What `pulumi up` would print as warnings (configWarnings): on stderr, apart from the report.
    for (const warning of built.warnings) process.stderr.write(`warning: ${warning}\n`);
    return { stack, config, registrations: built.registrations, invocations: built.invocations, outputs: built.outputs, secretOutputs: built.secretOutputs };
}

/** How many VPN users the config names, when the stack has a client VPN (the cost of their connection hours). */
function vpnClientsOf(config: StackConfig): number {
    const vpn = (config.traffic as Record<string, unknown>).clientVpn as { clients?: unknown } | undefined;
    return Array.isArray(vpn?.clients) ? vpn!.clients.length : 0;
}

/** Which names the instances' certificate carries and who trusts it, from the stack's orthweb:tls. */
export function instanceCertificateOf(config: StackConfig, selfSignedNames: readonly string[]): string {
    const source = config.certificateSource;
    if (source.source === "acme") return trustText({ source: "acme", names: source.acme.names, directoryUrl: source.acme.directoryUrl });
    return trustText({ source: source.source, names: source.source === "selfSigned" ? selfSignedNames : [] });
}

export function reportOf(plan: PlanResult): PlanReport {
    const { config } = plan;
    return buildReport(
        plan.registrations,
        {
            stack: plan.stack,
            region: config.region,
            webClientCidrs: config.network.webClientCidrs,
            dicomClientCidrs: programUnderMocks().program.dicomCidrsFor(config),
            aet: config.orthanc.aet,
            instanceCertificate: instanceCertificateOf(config, programUnderMocks().program.certificateNamesFor(config)),
            prefixLists: prefixListsOf(plan.invocations),
            usage: { ...DEFAULT_USAGE, vpnClients: vpnClientsOf(config) },
            onPremisesCidrs: config.traffic.siteToSiteVpn?.onPremisesCidrs,
        },
        plan.outputs,
        plan.secretOutputs,
    );
}

export interface CliOptions {
    readonly stacks: string[];
    readonly all: boolean;
    readonly format: Format;
    readonly projectDir?: string;
}

const USAGE = "usage: npm run plan -- <stack>... [--format text|markdown|json] [--project-dir DIR]\n       npm run plan -- --all [--format ...]";

/** Parses the command line; returns a usage message instead when it cannot. */
export function parseArgs(argv: string[]): CliOptions | string {
    const stacks: string[] = [];
    let all = false;
    let format: Format = "text";
    let projectDir: string | undefined;
    for (let i = 0; i < argv.length; i++) {
        const arg = argv[i];
        const [flag, inline] = arg.startsWith("--") ? arg.split(/=(.*)/s, 2) : [arg, undefined];
        const value = () => inline ?? argv[++i];
        if (flag === "--all") all = true;
        else if (flag === "--format") {
            const f = value();
            if (!FORMATS.includes(f as Format)) return `--format: got ${JSON.stringify(f ?? null)}; allowed: ${FORMATS.join(" | ")}`;
            format = f as Format;
        } else if (flag === "--project-dir") {
            projectDir = value();
            if (!projectDir) return "--project-dir: a directory is required";
        } else if (flag.startsWith("-")) return `unknown option ${flag}; allowed: --all, --format, --project-dir`;
        else stacks.push(arg);
    }
    if (!all && stacks.length === 0) return "name a stack, or --all";
    return { stacks, all, format, projectDir };
}

export async function main(argv: string[], io: { out: (s: string) => void; err: (s: string) => void; builder?: StackBuilder }): Promise<number> {
    const options = parseArgs(argv);
    if (typeof options === "string") {
        io.err(`${options}\n${USAGE}\n`);
        return 2;
    }
    const stacks = options.all ? listStacks(options.projectDir) : options.stacks;
    if (stacks.length === 0) {
        io.err(`no Pulumi.<stack>.yaml in ${options.projectDir ?? "the project"}\n`);
        return 1;
    }
    let failed = false;
    const summaries: StackSummary[] = [];
    for (const stack of stacks) {
        try {
            const report = reportOf(await planStack(stack, options.projectDir, io.builder));
            if (options.all) summaries.push(summaryOf(report));
            else io.out(render(report, options.format));
        } catch (e) {
            failed = true;
            if (e instanceof PlanConfigError) {
                io.err(`${e.message}\n`);
                summaries.push({ stack, problems: e.problems });
            } else {
                const message = (e as Error)?.message ?? String(e);
                io.err(`${stack}: ${message.split("\n")[0]}\n`);
                summaries.push({ stack, problems: [message.split("\n")[0]] });
            }
        }
    }
    if (options.all) io.out(renderAll(summaries, options.format));
    return failed ? 1 : 0;
}

if (require.main === module) {
    // A failure inside a Pulumi callback surfaces here, not as a stack trace.
    const fail = (e: unknown) => {
        process.stderr.write(`plan failed: ${(e as Error)?.message ?? String(e)}\n`);
        process.exit(1);
    };
    process.on("unhandledRejection", fail);
    process.on("uncaughtException", fail);
    main(process.argv.slice(2), { out: (s) => process.stdout.write(s), err: (s) => process.stderr.write(s) }).then(
        (code) => process.stdout.write("", () => process.exit(code)),
        fail,
    );
}

// Starts policy/ the way the Pulumi CLI does for `--policy-pack policy` (node runs @pulumi/pulumi's
// run-policy-pack in the pack's directory, ts-node type-checks index.ts, the pack prints its gRPC port)
// and talks to it over the analyzer protocol, as the engine does.
import { ChildProcess } from "child_process";
import * as path from "path";
import { EnforcementLevel } from "@pulumi/policy";
import { Subject, Violation } from "../plan/policyRun";
import { runPackPort, spawnPolicyPack } from "./runFixtures";

// The protocol stubs, gRPC and protobuf runtime exactly as @pulumi/pulumi (and so the pack's server) loads them.
const PULUMI_DIR = path.dirname(require.resolve("@pulumi/pulumi/package.json"));
const fromPulumi = (id: string) => require(require.resolve(id, { paths: [PULUMI_DIR] }));
const rpc = fromPulumi("@pulumi/pulumi/proto/analyzer_grpc_pb");
const pb = fromPulumi("@pulumi/pulumi/proto/analyzer_pb");
const grpc = fromPulumi("@grpc/grpc-js");
const { Struct } = fromPulumi("google-protobuf/google/protobuf/struct_pb");
const { Empty } = fromPulumi("google-protobuf/google/protobuf/empty_pb");

const LEVELS: Record<EnforcementLevel, number> = {
    advisory: pb.EnforcementLevel.ADVISORY,
    mandatory: pb.EnforcementLevel.MANDATORY,
    remediate: pb.EnforcementLevel.REMEDIATE,
    disabled: pb.EnforcementLevel.DISABLED,
};
const LEVEL_NAMES = Object.fromEntries(Object.entries(LEVELS).map(([k, v]) => [v, k as EnforcementLevel]));

export interface PackInfo {
    readonly name: string;
    readonly policies: { name: string; description: string; enforcementLevel: EnforcementLevel; configSchema?: Record<string, unknown> }[];
}

function unary<T>(client: any, method: string, request: unknown): Promise<T> {
    return new Promise((resolve, reject) => client[method](request, (err: Error | null, res: T) => (err ? reject(err) : resolve(res))));
}

/** JSON-safe copy (protobuf Structs take no undefined). */
function plain(value: unknown): Record<string, unknown> {
    return JSON.parse(JSON.stringify(value ?? {}));
}

function options() {
    const o = new pb.AnalyzerResourceOptions();
    o.setProtect(false);
    return o;
}

export class RunningPack {
    private constructor(private readonly child: ChildProcess | undefined, private readonly client: any) {}

    /** Spawns the pack and waits for the port it announces. */
    static async start(timeoutMs = 240_000): Promise<RunningPack> {
        const { child, port } = spawnPolicyPack(timeoutMs);
        return new RunningPack(child, RunningPack.client(await port));
    }

    /** Talks to a pack another process started (mochaGlobalSetup's); stop() then leaves the process alone. */
    static connect(port: number): RunningPack {
        return new RunningPack(undefined, RunningPack.client(port));
    }

    private static client(port: number): any {
        return new rpc.AnalyzerClient(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
    }

    async info(): Promise<PackInfo> {
        const res = await unary<any>(this.client, "getAnalyzerInfo", new Empty());
        return {
            name: res.getName(),
            policies: res.getPoliciesList().map((p: any) => ({
                name: p.getName(),
                description: p.getDescription(),
                enforcementLevel: LEVEL_NAMES[p.getEnforcementlevel()],
                configSchema: p.getConfigschema()?.getProperties()?.toJavaScript(),
            })),
        };
    }

    /** Sends a policy config as the CLI does: every configured policy with its effective level. */
    async configure(config: Record<string, { enforcementLevel: EnforcementLevel; properties: Record<string, unknown> }>): Promise<void> {
        const req = new pb.ConfigureAnalyzerRequest();
        for (const [name, entry] of Object.entries(config)) {
            const pc = new pb.PolicyConfig();
            pc.setEnforcementlevel(LEVELS[entry.enforcementLevel]);
            pc.setProperties(Struct.fromJavaScript(plain(entry.properties)));
            req.getPolicyconfigMap().set(name, pc);
        }
        await unary(this.client, "configure", req);
    }

    /**
     * Analyze for every custom resource (its inputs), then AnalyzeStack (every resource's outputs). The pack
     * prefixes each message with the policy's description (what the CLI prints) and leaves the URN of a resource
     * rule's violation to the engine, which knows which resource it asked about: both are undone here.
     */
    async analyze(subjects: readonly Subject[]): Promise<Violation[]> {
        const descriptions = new Map((await this.info()).policies.map((p) => [p.name, p.description]));
        const diagnostics: { d: any; urn?: string }[] = [];
        for (const s of subjects.filter((x) => x.custom)) {
            const req = new pb.AnalyzeRequest();
            req.setType(s.type);
            req.setName(s.name);
            req.setUrn(s.urn);
            req.setProperties(Struct.fromJavaScript(plain(s.inputs)));
            req.setOptions(options());
            diagnostics.push(...(await unary<any>(this.client, "analyze", req)).getDiagnosticsList().map((d: any) => ({ d, urn: s.urn })));
        }
        const stack = new pb.AnalyzeStackRequest();
        stack.setResourcesList(
            subjects.map((s) => {
                const r = new pb.AnalyzerResource();
                r.setType(s.type);
                r.setName(s.name);
                r.setUrn(s.urn);
                r.setProperties(Struct.fromJavaScript(plain(s.outputs)));
                r.setOptions(options());
                for (const [property, urns] of Object.entries(s.propertyDependencies ?? {})) {
                    const deps = new pb.AnalyzerPropertyDependencies();
                    deps.setUrnsList(urns);
                    r.getPropertydependenciesMap().set(property, deps);
                }
                return r;
            }),
        );
        diagnostics.push(...(await unary<any>(this.client, "analyzeStack", stack)).getDiagnosticsList().map((d: any) => ({ d })));
        return diagnostics.map(({ d, urn }) => {
            const prefix = `${descriptions.get(d.getPolicyname())}\n`;
            const shown: string = d.getMessage();
            if (!shown.startsWith(prefix)) throw new Error(`unexpected diagnostic from ${d.getPolicyname()}: ${shown}`);
            return { policy: d.getPolicyname(), enforcementLevel: LEVEL_NAMES[d.getEnforcementlevel()], message: shown.slice(prefix.length), urn: d.getUrn() || urn };
        });
    }

    stop(): void {
        this.client.close();
        this.child?.kill();
    }
}

let shared: Promise<RunningPack> | undefined;

/**
 * One pack process for the whole run. Starting it takes seconds of type-checking in the child, so mochaGlobalSetup
 * (tests/rootHooks.ts) starts it before the workers and the other specs run meanwhile; without it (a run that did
 * not name the pack's spec), this process starts its own.
 */
export function sharedPack(): Promise<RunningPack> {
    shared ??= runPackPort().then((port) => (port === undefined ? RunningPack.start() : RunningPack.connect(port)));
    return shared;
}

export async function stopSharedPack(): Promise<void> {
    if (!shared) return;
    const started = shared;
    shared = undefined;
    (await started.catch(() => undefined))?.stop();
}

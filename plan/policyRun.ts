// Runs the policy pack in-process, the way the Pulumi engine's analyzer does, over resources recorded under
// mocks (or built by hand in tests): resource rules see each custom resource's inputs, stack rules see
// every resource's outputs. Secrets arrive unwrapped and values sit behind the SDK's unknown-checking proxy,
// as they do in `pulumi preview`. Also a CLI: `npm run policy -- <stack>` (or `--all`), offline.
import * as fs from "fs";
import * as path from "path";
import {
    EnforcementLevel,
    PolicyResource,
    PolicyResourceOptions,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
    unknownCheckingProxy,
    UnknownValueError,
} from "@pulumi/policy";
import { specialSecretSig, specialSigKey } from "@pulumi/pulumi/runtime/rpc";
import { PACK_ENFORCEMENT, policies as PACK } from "../policy/rules";
import { listStacks } from "../stacks/stackFile";
import { Registration } from "./mockRuntime";

export type Policy = ResourceValidationPolicy | StackValidationPolicy;
export type PolicyConfig = Record<string, EnforcementLevel | ({ enforcementLevel?: EnforcementLevel } & Record<string, unknown>)>;

export interface Violation {
    readonly policy: string;
    readonly enforcementLevel: EnforcementLevel;
    readonly message: string;
    readonly urn?: string;
}

/** One resource as the engine sends it to an analyzer: secret values still wrapped. */
export interface Subject {
    readonly type: string;
    readonly name: string;
    readonly urn: string;
    /** Component resources are not custom; resource rules only ever see custom resources. */
    readonly custom: boolean;
    readonly inputs: Record<string, unknown>;
    readonly outputs: Record<string, unknown>;
    /** Property name -> URNs it depends on, as the engine reports them. */
    readonly propertyDependencies?: Record<string, string[]>;
}

export const PROJECT = "orthweb";

export function urnOf(stack: string, type: string, name: string): string {
    return `urn:pulumi:${stack}::${PROJECT}::${type}::${name}`;
}

/** The resource class's type token, as the policy SDK reads it. */
function typeTokenOf(resourceClass: unknown): string | undefined {
    return (resourceClass as { __pulumiType?: string }).__pulumiType;
}

function isTypeFor(type: string) {
    return (resourceClass: unknown) => typeTokenOf(resourceClass) === type;
}

/** What `args.notApplicable()` throws; the engine records the reason and moves on to the next validation. */
export class NotApplicableError extends Error {}

function notApplicable(reason?: string): never {
    throw new NotApplicableError(reason ?? "not applicable");
}

/** What a policy reads from its config: everything but the enforcement level. */
function configOf(config: PolicyConfig, policy: string): Record<string, unknown> {
    const entry = config[policy];
    if (typeof entry !== "object" || entry === null) return {};
    const { enforcementLevel: _level, ...rest } = entry;
    return rest;
}

export function enforcementOf(policy: Policy, config: PolicyConfig): EnforcementLevel {
    const entry = config[policy.name];
    const fromConfig = typeof entry === "string" ? entry : entry?.enforcementLevel;
    return fromConfig ?? policy.enforcementLevel ?? PACK_ENFORCEMENT;
}

/** The resource options of a resource declared without any. */
function defaultOptions(): PolicyResourceOptions {
    return { protect: false, ignoreChanges: [], aliases: [], customTimeouts: { createSeconds: 0, updateSeconds: 0, deleteSeconds: 0 }, additionalSecretOutputs: [] };
}

/** Resource validation args built by hand, as the SDK's server builds them. */
export function resourceArgs(subject: { type: string; name: string; props: Record<string, unknown>; urn?: string }, config: Record<string, unknown> = {}): ResourceValidationArgs {
    const props = unknownCheckingProxy(subject.props) as Record<string, any>;
    return {
        type: subject.type,
        name: subject.name,
        urn: subject.urn ?? urnOf("test", subject.type, subject.name),
        props,
        opts: defaultOptions(),
        stackTags: new Map(),
        isType: isTypeFor(subject.type),
        asType: ((resourceClass: unknown) => (isTypeFor(subject.type)(resourceClass) ? props : undefined)) as ResourceValidationArgs["asType"],
        getConfig: <T extends object>() => config as T,
        notApplicable,
    };
}

/** Stack resources built by hand; property dependencies are resolved to the resources they name. */
export function policyResources(
    subjects: readonly { type: string; name: string; props: Record<string, unknown>; urn?: string; propertyDependencies?: Record<string, string[]>; parent?: string }[],
): PolicyResource[] {
    const resources = subjects.map((s) => {
        const props = unknownCheckingProxy(s.props) as Record<string, any>;
        const resource: PolicyResource = {
            type: s.type,
            name: s.name,
            urn: s.urn ?? urnOf("test", s.type, s.name),
            props,
            opts: defaultOptions(),
            dependencies: [],
            propertyDependencies: {},
            isType: isTypeFor(s.type),
            asType: ((resourceClass: unknown) => (isTypeFor(s.type)(resourceClass) ? props : undefined)) as PolicyResource["asType"],
        };
        return resource;
    });
    const byUrn = new Map(resources.map((r) => [r.urn, r]));
    subjects.forEach((s, i) => {
        if (s.parent !== undefined) resources[i].parent = byUrn.get(s.parent);
        for (const [property, urns] of Object.entries(s.propertyDependencies ?? {})) {
            resources[i].propertyDependencies[property] = urns.map((u) => byUrn.get(u)).filter((r): r is PolicyResource => r !== undefined);
        }
    });
    return resources;
}

export function stackArgs(resources: PolicyResource[], config: Record<string, unknown> = {}): StackValidationArgs {
    return { resources, stackTags: new Map(), getConfig: <T extends object>() => config as T, notApplicable };
}

/** Secret values as the policy SDK hands them to policies: unwrapped. */
export function unwrapSecrets(value: unknown): unknown {
    if (Array.isArray(value)) return value.map(unwrapSecrets);
    if (typeof value !== "object" || value === null) return value;
    const record = value as Record<string, unknown>;
    if (record[specialSigKey] === specialSecretSig) return unwrapSecrets(record.value);
    return Object.fromEntries(Object.entries(record).filter(([, v]) => v !== undefined).map(([k, v]) => [k, unwrapSecrets(v)]));
}

/** The resources of a mock run, as the engine would send them to the pack after `pulumi up`. */
export function subjectsOf(registrations: readonly Registration[], stack: string): Subject[] {
    return registrations.map((r) => ({
        type: r.type,
        name: r.name,
        urn: urnOf(stack, r.type, r.name),
        custom: r.custom,
        inputs: r.inputs,
        // Bridged providers report a resource's id among its outputs.
        outputs: { ...r.state, ...(r.custom ? { id: r.id } : {}) },
    }));
}

function isResourcePolicy(p: Policy): p is ResourceValidationPolicy {
    return "validateResource" in p && p.validateResource !== undefined;
}

/** Runs every enabled policy over the subjects, as the engine does during an update. */
export async function evaluate(pack: readonly Policy[], subjects: readonly Subject[], config: PolicyConfig = {}): Promise<Violation[]> {
    const violations: Violation[] = [];
    // What stack policies read: every subject's outputs as the SDK hands them over (secrets unwrapped), made once.
    let unwrapped: { type: string; name: string; urn: string; props: Record<string, unknown>; propertyDependencies?: Record<string, string[]> }[] | undefined;
    const stackSubjects = () =>
        (unwrapped ??= subjects.map((s) => ({ type: s.type, name: s.name, urn: s.urn, props: unwrapSecrets(s.outputs) as Record<string, unknown>, propertyDependencies: s.propertyDependencies })));
    for (const policy of pack) {
        const level = enforcementOf(policy, config);
        if (level === "disabled") continue;
        const enforcementLevel = level === "remediate" ? "mandatory" : level;
        const run = async (validate: () => Promise<void> | void, urn?: string) => {
            try {
                await validate();
            } catch (e) {
                if (e instanceof NotApplicableError) return;
                // The engine downgrades a rule that reads a value unknown during preview to an advisory note.
                if (e instanceof UnknownValueError) violations.push({ policy: policy.name, enforcementLevel: "advisory", message: `can't run during preview: ${(e as Error).message}`, urn });
                else throw e;
            }
        };
        if (isResourcePolicy(policy)) {
            const validations = Array.isArray(policy.validateResource) ? policy.validateResource : [policy.validateResource!];
            for (const s of subjects.filter((x) => x.custom)) {
                const report = (message: string) => violations.push({ policy: policy.name, enforcementLevel, message, urn: s.urn });
                for (const validation of validations) {
                    // A validation made by validateResourceOfType carries its type: for another type it would only
                    // report itself not applicable (the engine skips it the same way when it is a policy's only one).
                    const only = typeTokenOf(validation);
                    if (only !== undefined && only !== s.type) continue;
                    const props = unwrapSecrets(s.inputs) as Record<string, unknown>;
                    await run(() => validation(resourceArgs({ type: s.type, name: s.name, props, urn: s.urn }, configOf(config, policy.name)), report), s.urn);
                }
            }
        } else {
            const resources = policyResources(stackSubjects());
            const report = (message: string, urn?: string) => violations.push({ policy: policy.name, enforcementLevel, message, urn });
            await run(() => policy.validateStack(stackArgs(resources, configOf(config, policy.name)), report));
        }
    }
    return violations;
}

export const POLICY_DIR = path.resolve(__dirname, "..", "policy");

/** policy/config/<stack>.json, the file CI passes as --policy-pack-config; {} when the stack has none. */
export function policyConfigFor(stack: string, dir: string = POLICY_DIR): PolicyConfig {
    const file = path.join(dir, "config", `${stack}.json`);
    return fs.existsSync(file) ? (JSON.parse(fs.readFileSync(file, "utf8")) as PolicyConfig) : {};
}

function nameOf(urn: string | undefined): string {
    return urn ? urn.split("::").slice(-1)[0] : "(stack)";
}

async function main(argv: string[]): Promise<number> {
    // Loaded here so that importing this module for its helpers does not pull in the whole program.
    const { planStack } = await import("./cli");
    const stacks = argv.includes("--all") ? listStacks() : argv.filter((a) => !a.startsWith("--"));
    if (stacks.length === 0) {
        process.stderr.write(`usage: npm run policy -- <stack>   (stacks: ${listStacks().join(", ")})\n`);
        return 2;
    }
    let mandatory = 0;
    for (const stack of stacks) {
        const plan = await planStack(stack);
        const violations = await evaluate(PACK, subjectsOf(plan.registrations, stack), policyConfigFor(stack));
        mandatory += violations.filter((v) => v.enforcementLevel === "mandatory").length;
        process.stdout.write(`Stack ${stack}: ${PACK.length} policies, ${violations.length} violation${violations.length === 1 ? "" : "s"} (offline, Pulumi mocks)\n`);
        for (const v of violations) process.stdout.write(`  [${v.enforcementLevel}] ${v.policy}: ${nameOf(v.urn)}: ${v.message}\n`);
    }
    return mandatory > 0 ? 1 : 0;
}

if (require.main === module) {
    main(process.argv.slice(2)).then(
        (code) => process.exit(code),
        (e) => {
            process.stderr.write(`policy check failed: ${(e as Error).message}\n`);
            process.exit(1);
        },
    );
}

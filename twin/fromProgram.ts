// What the twin takes from the program itself, by building a stack under Pulumi mocks (plan/build.ts): the load
// balancer's target groups, the files an instance gets (orthanc.json template, nginx.conf, the scripts... out of the
// config bundle that the SSM association applies; a cloud-config user data is read the same way), the apply script
// out of the SSM document, and for the acme scenario the renewal script and the role's Route 53 statement. The twin
// never renders a file itself: where it must, it re-points the program's (twin/repoint.ts).
import { parse } from "yaml";
import { userDataText } from "../rules/userData";
import { CONFIG_PREFIX, parseBundle } from "../rules/rollout";
import { validateStackConfig } from "../stacks/config";
import { loadStackFile } from "../stacks/stackFile";
import { buildStack } from "../plan/build";
import type { Registration } from "../plan/mockRuntime";
import { plain } from "../plan/planModel";
import { networkLoadBalancerStack, TargetGroupError, targetGroupsFrom, TargetGroupSpec } from "./targetGroups";

export const BUCKET_OBJECT_TYPE = "aws:s3/bucketObjectv2:BucketObjectv2";

export interface BootstrapFromProgram {
    /** orthanc.template.json as written to the instance: no secrets yet. */
    readonly orthancTemplate: Record<string, unknown>;
    /** nginx.conf as written to the instance. */
    readonly nginxConf: string;
    /** The health checker (healthz.py) as written to the instance. */
    readonly healthChecker: string;
    /** The database setup the start script runs with the master login (database-setup.sql). */
    readonly databaseSetupSql: string;
    /** nginx's DICOM sender gate (dicom-senders.js), written only with client certificates. */
    readonly dicomSenderGate?: string;
    /** docker-compose.yml: the containers' capabilities and commands, which the twin gives its processes. */
    readonly compose: string;
    /** start.sh: the jq filter that puts the secrets into orthanc.json. */
    readonly startScript: string;
    /** claim.sh, which keeps a slot's address (absent from a manual boot's user data: that instance holds no slot). */
    readonly claimScript?: string;
    /** acme.sh, written only with tls.source acme. */
    readonly acmeScript?: string;
}

function bootstrapFromFiles(files: readonly { path: string; content: string }[], where: string): BootstrapFromProgram {
    const file = (suffix: string) => {
        const found = files.filter((f) => f.path.endsWith(suffix));
        if (found.length !== 1) throw new Error(`${where} writes ${found.length} files named *${suffix}; expected one`);
        return found[0].content;
    };
    return {
        orthancTemplate: JSON.parse(file("/orthanc.template.json")) as Record<string, unknown>,
        nginxConf: file("/nginx.conf"),
        healthChecker: file("/healthz.py"),
        databaseSetupSql: file("/database-setup.sql"),
        dicomSenderGate: files.find((f) => f.path.endsWith("/dicom-senders.js"))?.content,
        compose: file("/docker-compose.yml"),
        startScript: file("/start.sh"),
        claimScript: files.find((f) => f.path.endsWith("/claim.sh"))?.content,
        acmeScript: files.find((f) => f.path.endsWith("/acme.sh"))?.content,
    };
}

/** The orthanc.json template and nginx.conf inside a cloud-config user data. */
export function bootstrapFromUserData(userData: Buffer | string): BootstrapFromProgram {
    const doc = (parse(userDataText(userData)) ?? {}) as { write_files?: { path: string; content: string }[] };
    return bootstrapFromFiles((doc.write_files ?? []).map((f) => ({ path: f.path, content: f.content })), "the user data");
}

/** The orthanc.json template and nginx.conf inside the config bundle (rules/rollout.ts renderBundle). */
export function bootstrapFromBundle(bundle: string): BootstrapFromProgram {
    return bootstrapFromFiles(parseBundle(bundle), "the config bundle");
}

/** What the instances get: the pair's one config bundle in its bucket, exactly as the SSM association applies it. */
export function bootstrapFromRegistrations(registrations: readonly Registration[]): BootstrapFromProgram {
    const bundles = registrations.filter((r) => r.type === BUCKET_OBJECT_TYPE && String(r.inputs.key ?? "").startsWith(CONFIG_PREFIX));
    if (bundles.length !== 1) throw new Error(`the program registered ${bundles.length} config bundles (${CONFIG_PREFIX}*); the twin expects the pair's one`);
    return bootstrapFromBundle(String(bundles[0].inputs.content));
}

export const SSM_DOCUMENT_TYPE = "aws:ssm/document:Document";

/** The apply script as the SSM document carries it (`{{ name }}` placeholders), with each parameter's allowedPattern. */
export interface ApplyDocument {
    readonly script: string;
    readonly patterns: Record<string, string | undefined>;
}

interface CommandDocument {
    readonly parameters?: Record<string, { allowedPattern?: string }>;
    readonly mainSteps?: { action?: string; name?: string; inputs?: { runCommand?: string[] } }[];
}

/** The one SSM document with a shell step named apply: what the pair's associations run on each instance. */
export function applyDocumentFrom(registrations: readonly Registration[]): ApplyDocument {
    const found = registrations
        .filter((r) => r.type === SSM_DOCUMENT_TYPE)
        .map((r) => JSON.parse(String(plain(r.inputs.content))) as CommandDocument)
        .flatMap((doc) => (doc.mainSteps ?? []).filter((s) => s.action === "aws:runShellScript" && s.name === "apply").map((step) => ({ doc, step })));
    if (found.length !== 1) throw new Error(`the program registered ${found.length} SSM documents with an apply step; the twin expects one`);
    const { doc, step } = found[0];
    return { script: (step.inputs?.runCommand ?? []).join("\n"), patterns: Object.fromEntries(Object.entries(doc.parameters ?? {}).map(([name, p]) => [name, p.allowedPattern])) };
}

export interface ProgramInputs {
    readonly targetGroups: TargetGroupSpec[];
    /** Where the target groups came from. */
    readonly source: string;
    readonly stackNote: string;
    readonly bootstrap: BootstrapFromProgram;
    readonly applyDocument: ApplyDocument;
}

export class ProgramInputError extends Error {}

async function registrationsOf(raw: Record<string, unknown>, encryptedKeys: ReadonlySet<string>): Promise<{ registrations?: Registration[]; problems: string[] }> {
    const { config, problems } = validateStackConfig(raw, { opaqueKeys: encryptedKeys });
    if (!config) return { problems };
    return { registrations: (await buildStack("prod", config)).registrations, problems: [] };
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
    return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** `overrides` over `raw`, maps merged key by key (lists and values replace). Pure. */
export function withOverrides(raw: Record<string, unknown>, overrides: Record<string, unknown>): Record<string, unknown> {
    const merged: Record<string, unknown> = { ...raw };
    for (const [key, value] of Object.entries(overrides)) {
        merged[key] = isPlainObject(value) && isPlainObject(merged[key]) ? withOverrides(merged[key] as Record<string, unknown>, value) : value;
    }
    return merged;
}

/**
 * The prod stack with a network load balancer front door, under mocks: its target groups and the instances' files.
 * Fails, naming why, when the program registers no usable target group: the twin never invents settings.
 */
export async function fromProgram(overrides: Record<string, unknown> = {}): Promise<ProgramInputs> {
    const prod = loadStackFile("prod");
    const nlb = networkLoadBalancerStack(withOverrides(prod.config, overrides));
    const built = await registrationsOf(nlb.raw, prod.encryptedKeys);
    const problems = built.problems.map((p) => `stack config: ${p}`);
    if (built.registrations) {
        try {
            const targetGroups = targetGroupsFrom(built.registrations);
            return {
                targetGroups,
                source: "the program (prod stack under mocks)",
                stackNote: nlb.note,
                bootstrap: bootstrapFromRegistrations(built.registrations),
                applyDocument: applyDocumentFrom(built.registrations),
            };
        } catch (e) {
            if (!(e instanceof TargetGroupError)) throw e;
            problems.push(...e.problems);
        }
    }
    throw new ProgramInputError([`the program gives the twin no load balancer to stand in for (prod stack; ${nlb.note}):`, ...problems.map((p) => `  ${p}`)].join("\n"));
}

/** What the acme scenario takes from a stack with tls.source acme. */
export interface AcmeFromProgram {
    /** acme.sh as the instances get it. */
    readonly script: string;
    /** The instance role's route53:ChangeResourceRecordSets statement, as the program writes it. */
    readonly changeStatement: Record<string, any>;
    readonly note: string;
}

export interface AcmeStackSettings {
    readonly zoneName: string;
    readonly recordName: string;
    readonly email: string;
    /** The ACME CA's directory (the twin's pebble). */
    readonly directoryUrl: string;
}

/**
 * The prod stack with a dns front door (`recordName`.`zoneName`) and tls.source acme, under mocks: its renewal script
 * and the role's Route 53 statement. acme needs a zone the instances write their challenges in, which the load
 * balancer stack the pair is built from has not, so this is a second build, used for these two only.
 */
export async function acmeFromProgram(s: AcmeStackSettings): Promise<AcmeFromProgram> {
    const prod = loadStackFile("prod");
    const overrides = {
        "orthweb:traffic": { frontDoor: "dns", dns: { zoneName: s.zoneName, recordName: s.recordName } },
        "orthweb:tls": { source: "acme", acme: { email: s.email, directory: s.directoryUrl } },
    };
    const note = `prod stack with ${JSON.stringify(overrides)}`;
    const built = await registrationsOf({ ...prod.config, ...overrides }, prod.encryptedKeys);
    if (!built.registrations) throw new ProgramInputError([`the program rejects the ${note}:`, ...built.problems.map((p) => `  ${p}`)].join("\n"));
    const script = bootstrapFromRegistrations(built.registrations).acmeScript;
    if (script === undefined) throw new ProgramInputError(`the ${note} delivers no acme.sh`);
    const statements = built.registrations
        .filter((r) => r.type === "aws:iam/rolePolicy:RolePolicy")
        .flatMap((r) => [JSON.parse(String(plain(r.inputs.policy))).Statement ?? []].flat() as Record<string, any>[])
        .filter((st) => [st.Action].flat().includes("route53:ChangeResourceRecordSets"));
    if (statements.length !== 1) throw new ProgramInputError(`the ${note}: ${statements.length} role statements allow route53:ChangeResourceRecordSets; the twin expects one`);
    return { script, changeStatement: statements[0], note };
}

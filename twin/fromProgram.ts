// What the twin takes from the program itself, by running it under Pulumi mocks: the load balancer's target
// groups and the files an instance boots from (orthanc.json template and nginx.conf, out of the user data).
import { parse } from "yaml";
import { writtenContent } from "../components/bootstrap";
import { createInfrastructure } from "../program";
import { validateStackConfig } from "../stacks/config";
import { loadStackFile } from "../stacks/stackFile";
import { Registration, runUnderMocks } from "../plan/mockRuntime";
import { networkLoadBalancerStack, TargetGroupError, targetGroupsFrom, TargetGroupSpec } from "./targetGroups";

export const LAUNCH_TEMPLATE_TYPE = "aws:ec2/launchTemplate:LaunchTemplate";

export interface BootstrapFromProgram {
    /** orthanc.template.json as written to the instance: no secrets yet. */
    readonly orthancTemplate: Record<string, unknown>;
    /** nginx.conf as written to the instance. */
    readonly nginxConf: string;
    /** The health checker (healthz.py) as written to the instance. */
    readonly healthChecker: string;
    /** The database setup the start script runs with the master login (database-setup.sql). */
    readonly databaseSetupSql: string;
}

/** The orthanc.json template and nginx.conf inside a cloud-config user data. */
export function bootstrapFromUserData(userData: string): BootstrapFromProgram {
    const doc = (parse(userData) ?? {}) as { write_files?: { path: string; content: string; encoding?: string }[] };
    const file = (suffix: string) => {
        const found = (doc.write_files ?? []).filter((f) => f.path.endsWith(suffix));
        if (found.length !== 1) throw new Error(`the user data writes ${found.length} files named *${suffix}; expected one`);
        return writtenContent(found[0]);
    };
    return {
        orthancTemplate: JSON.parse(file("/orthanc.template.json")) as Record<string, unknown>,
        nginxConf: file("/nginx.conf"),
        healthChecker: file("/healthz.py"),
        databaseSetupSql: file("/database-setup.sql"),
    };
}

export function bootstrapFromRegistrations(registrations: readonly Registration[]): BootstrapFromProgram {
    const templates = registrations.filter((r) => r.type === LAUNCH_TEMPLATE_TYPE);
    if (templates.length !== 1) throw new Error(`the program registered ${templates.length} launch templates; the twin expects the pair's one`);
    return bootstrapFromUserData(Buffer.from(String(templates[0].inputs.userData), "base64").toString("utf8"));
}

export interface ProgramInputs {
    readonly targetGroups: TargetGroupSpec[];
    /** Where the target groups came from. */
    readonly source: string;
    readonly stackNote: string;
    readonly bootstrap: BootstrapFromProgram;
}

export class ProgramInputError extends Error {}

async function registrationsOf(raw: Record<string, unknown>, encryptedKeys: ReadonlySet<string>): Promise<{ registrations?: Registration[]; problems: string[] }> {
    const { config, problems } = validateStackConfig(raw, { opaqueKeys: encryptedKeys });
    if (!config) return { problems };
    const run = await runUnderMocks({ stack: "prod", region: config.region }, () => createInfrastructure(config));
    return { registrations: run.registrations, problems: [] };
}

/**
 * The prod stack with a network load balancer front door, under mocks: its target groups and the instances' files.
 * Fails, naming why, when the program registers no usable target group: the twin never invents settings.
 */
export async function fromProgram(): Promise<ProgramInputs> {
    const prod = loadStackFile("prod");
    const nlb = networkLoadBalancerStack(prod.config);
    const built = await registrationsOf(nlb.raw, prod.encryptedKeys);
    const problems = built.problems.map((p) => `stack config: ${p}`);
    if (built.registrations) {
        try {
            const targetGroups = targetGroupsFrom(built.registrations);
            return { targetGroups, source: "the program (prod stack under mocks)", stackNote: nlb.note, bootstrap: bootstrapFromRegistrations(built.registrations) };
        } catch (e) {
            if (!(e instanceof TargetGroupError)) throw e;
            problems.push(...e.problems);
        }
    }
    throw new ProgramInputError([`the program gives the twin no load balancer to stand in for (prod stack; ${nlb.note}):`, ...problems.map((p) => `  ${p}`)].join("\n"));
}

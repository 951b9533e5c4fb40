// How a change reaches the two instances: the content-addressed config bundle, the rollout's timing bounds,
// what each kind of change restarts or replaces (the plan's "Changes" section), and the final snapshot's name.
// Pure: the pair, the offline plan, the twin and the tests share it.
import { createHash } from "crypto";

/** Where the instances' files live in the pair's bucket; Orthanc's own objects never use this prefix. */
export const CONFIG_PREFIX = "config/";

/** The rollout's bounds, in seconds. The SSM document and the twin read the same figures. */
export const ROLLOUT_TIMING = {
    /** After deregistration, before the restart: new connections go elsewhere, short ones finish. */
    drainSeconds: 30,
    /** From the restart until /healthz answers 200 on the instance itself. */
    healthySeconds: 300,
    /** From re-registration until the instance is healthy in every target group it belongs to. */
    targetHealthySeconds: 300,
    /** How long `pulumi up` waits for one instance's association: the sum above plus the image pulls. */
    associationWaitSeconds: 1200,
} as const;

export interface BundleFile {
    readonly path: string;
    readonly permissions: string;
    readonly content: string;
}

/** The bundle the instances apply: every file of renderBootstrapFiles(), as JSON. Stable for stable files. */
export function renderBundle(files: readonly BundleFile[]): string {
    return JSON.stringify({ version: 1, files: files.map((f) => ({ path: f.path, permissions: f.permissions, content: f.content })) }, null, 1) + "\n";
}

/** The files of a bundle, checked: every entry an absolute path, an octal mode and a text. */
export function parseBundle(text: string): BundleFile[] {
    const doc = JSON.parse(text) as { version?: unknown; files?: unknown };
    if (doc.version !== 1 || !Array.isArray(doc.files)) throw new Error("not an orthweb config bundle (version 1 with files)");
    return doc.files.map((f: { path?: unknown; permissions?: unknown; content?: unknown }, i: number) => {
        if (typeof f.path !== "string" || !f.path.startsWith("/") || typeof f.permissions !== "string" || !/^0[0-7]{3}$/.test(f.permissions) || typeof f.content !== "string") {
            throw new Error(`bundle file ${i}: needs an absolute path, an octal mode such as 0644 and a text content`);
        }
        return { path: f.path, permissions: f.permissions, content: f.content };
    });
}

/** The bundle's object key: named by its content, so a change is a new key and a new rollout, never an edit. */
export function bundleKey(bundle: string): string {
    return `${CONFIG_PREFIX}${createHash("sha256").update(bundle, "utf8").digest("hex")}.json`;
}

export type Pattern = "direct" | "dns" | "loadBalancer" | "none";

export interface ChangeRow {
    /** The config key (or kind of change) this row is about. */
    readonly change: string;
    /** in place | resized in place | replaced | database | none */
    readonly effect: string;
    /** What happens, in what order. */
    readonly order: string;
    /** What clients should expect. */
    readonly clients: string;
}

export interface ClientImpactFigures {
    /** Worst case until the front door stops sending clients to an instance that went away (rules/failover.ts). */
    readonly failoverSeconds?: number;
}

/** What clients see while one instance is out, per pattern. */
function oneInstanceOut(pattern: Pattern, figures: ClientImpactFigures, drained: boolean): string {
    const failover = figures.failoverSeconds !== undefined ? ` (up to ${figures.failoverSeconds} s)` : "";
    switch (pattern) {
        case "loadBalancer":
            return drained
                ? "no interruption behind a load balancer: each instance is deregistered and drained before it restarts"
                : `connections open to the instance being stopped are cut; new ones go to the other instance after the health checks notice${failover}`;
        case "dns":
            return `clients resolved to the restarting instance fail until Route 53 withdraws its record${failover} plus their own DNS caching; the other instance serves throughout`;
        case "direct":
            return "each instance's own name is unavailable while that instance restarts (about a minute); the other name serves throughout";
        case "none":
            return "over the client VPN: each instance's own name is unavailable while that instance restarts; the other serves throughout";
    }
}

/**
 * For each kind of config change: what is restarted or replaced, in what order, and what clients should expect.
 * The mechanism (docs/operations.md): files in place through one SSM association per instance, chained.
 */
export function rolloutChanges(pattern: Pattern, figures: ClientImpactFigures = {}): ChangeRow[] {
    const inPlace = "in place, one instance at a time: instance 1 gets the new files and restarts what changed, must answer /healthz 200" +
        (pattern === "loadBalancer" ? " and be healthy in every target group" : "") + " before instance 2 is touched; a failure stops there and fails `pulumi up`";
    const restartClients = oneInstanceOut(pattern, figures, true);
    const row = (change: string, effect: string, order: string, clients: string): ChangeRow => ({ change, effect, order, clients });
    return [
        row("orthanc.image", "in place", `${inPlace}; the Orthanc container is recreated with the new image`, restartClients),
        row("orthanc.nginxImage", "in place", `${inPlace}; the nginx container is recreated with the new image`, restartClients),
        row("orthanc.aet", "in place", `${inPlace}; Orthanc restarts with the new orthanc.json`, restartClients),
        row("Orthanc / nginx settings (a new program version)", "in place", `${inPlace}; only the containers whose files changed restart`, restartClients),
        row("tlsCertificatePem / tlsPrivateKeyPem (or the self-signed renewal)", "in place", `the secret is updated, then ${inPlace}; nginx restarts with the new certificate`, restartClients),
        row(
            "orthanc.instanceType",
            "resized in place",
            "instance 1 is stopped, resized and started (same id, addresses, Elastic IP and target registrations), and must pass the same gate before instance 2 is stopped; " +
                "a change of architecture (e.g. t3 to t4g) needs another image: the instances are replaced instead, in the same order",
            oneInstanceOut(pattern, figures, false),
        ),
        row(
            "the boot template (launch template) or the subnets",
            "replaced",
            "instance 1 is replaced (new machine, same name: its Elastic IP or target registrations move to it) and must pass the gate before instance 2 is replaced; the old machines are terminated at the end",
            oneInstanceOut(pattern, figures, false),
        ),
        row("Amazon Linux release", "none", "resolved when a machine is launched: running instances keep theirs until they are replaced", "nothing"),
        row("database.*", "database", "RDS applies it (multi-AZ in prod: a failover of about a minute); the instances are not touched", "prod: about a minute of failed index reads; dev: the database restarts"),
    ];
}

/** Letters, digits and single hyphens, starting with a letter: what RDS accepts in a snapshot identifier. */
function rdsIdentifierPart(text: string): string {
    return text.toLowerCase().replace(/[^a-z0-9]+/g, "-").replace(/^-+|-+$/g, "");
}

/**
 * The final snapshot's identifier: unique per stack (project and stack name) and per destroy (a random suffix
 * that is created with the database and goes with it). RDS allows 255 characters.
 */
export function finalSnapshotIdentifier(project: string, stack: string, name: string, suffix: string): string {
    const parts = [project, stack, name, "final", suffix].map(rdsIdentifierPart).filter(Boolean);
    let id = parts.join("-");
    if (!/^[a-z]/.test(id)) id = `s-${id}`;
    return id.slice(0, 255).replace(/-+$/, "");
}

// How a change reaches the two instances: the content-addressed config bundle, the rollout's timing bounds,
// what each kind of change restarts or replaces (the plan's "Changes" section), and the final snapshot's name.
// Pure: the pair, the offline plan, the twin and the tests share it.
import { createHash } from "crypto";
import { ipv4ToString, parseCidr } from "./cidr";

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
    /** How long an instance its group is replacing waits for its successor to be in service (a new machine boots). */
    successorSeconds: 1080,
} as const;

/**
 * Each instance is a slot: an Auto Scaling group of exactly one, in one subnet, on the pair's launch template. The
 * group replaces its instance when EC2 says it is gone or impaired (status checks: `healthCheckType` EC2), never
 * for /healthz, so an outage of the shared database never turns into churn. A new instance waits in the launch
 * hook (not in service, not registered) until the apply script has found it healthy and moved the slot's address
 * to it; the hook's timeout CONTINUEs rather than abandons, again so that a shared outage cannot cause churn. A
 * refresh (new instance type) launches before it terminates (min healthy 100 %, max 200 %).
 */
export const SLOT_GROUP = {
    minSize: 1,
    /** Room for the new instance next to the old one during a refresh. */
    maxSize: 2,
    desiredCapacity: 1,
    healthCheckType: "EC2",
    healthCheckGracePeriodSeconds: 300,
    launchHookName: "orthweb-gate",
    /** As long as `pulumi up` waits for one instance's apply: the hook is completed by that apply. */
    launchHookHeartbeatSeconds: ROLLOUT_TIMING.associationWaitSeconds,
    launchHookDefaultResult: "CONTINUE",
    refresh: { minHealthyPercentage: 100, maxHealthyPercentage: 200, instanceWarmupSeconds: 60 },
    /** The group metrics the slot alarms read (published every minute). */
    metrics: ["GroupInServiceInstances", "GroupPendingInstances", "GroupTerminatingInstances"],
} as const;

/** Tags every instance of a slot carries (propagated by its group), read by the apply and claim scripts. */
export const SLOT_TAGS = {
    /** The slot's name (`<pair>-1`): what the slot's SSM association targets. */
    slot: "orthweb:slot",
    /** What the slot's instance takes over: an Elastic IP allocation (public) or a reserved private address. */
    address: "orthweb:address",
} as const;

/** How often an instance checks that it holds its slot's address (and takes it when nobody running does). */
export const CLAIM_INTERVAL_SECONDS = 60;

/**
 * The block reserved (explicit subnet CIDR reservation) in each private instance subnet, and the slot's address in
 * it: AWS never hands these to another interface, so a replacement instance can take the same address. The block
 * starts 16 addresses in, clear of the four AWS keeps at the start of every subnet.
 */
export const SLOT_RESERVATION = { offset: 16, prefix: 28 } as const;

export function slotAddress(subnetCidr: string): { readonly reservation: string; readonly address: string } {
    const subnet = parseCidr(subnetCidr);
    if (!subnet) throw new Error(`not an IPv4 subnet: ${subnetCidr}`);
    // The reservation must fit inside the subnet with room for AWS's first four and last address.
    if (subnet.prefix > 26) throw new Error(`subnet ${subnetCidr} is too small for a reserved slot address (at least /26)`);
    const start = ipv4ToString((subnet.network + SLOT_RESERVATION.offset) >>> 0);
    return { reservation: `${start}/${SLOT_RESERVATION.prefix}`, address: start };
}

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
    /** in place | replaced | database | none */
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
function oneInstanceOut(pattern: Pattern, figures: ClientImpactFigures): string {
    const failover = figures.failoverSeconds !== undefined ? ` (up to ${figures.failoverSeconds} s)` : "";
    switch (pattern) {
        case "loadBalancer":
            return "no interruption behind a load balancer: each instance is deregistered and drained before it restarts";
        case "dns":
            return `clients resolved to the restarting instance fail until Route 53 withdraws its record${failover} plus their own DNS caching; the other instance serves throughout`;
        case "direct":
            return "each instance's own name is unavailable while that instance restarts (about a minute); the other name serves throughout";
        case "none":
            return "over the client VPN: each instance's own name is unavailable while that instance restarts; the other serves throughout";
    }
}

/** What clients see while a slot's machine is replaced by a refresh. */
function refreshClients(pattern: Pattern): string {
    switch (pattern) {
        case "loadBalancer":
            return "no interruption behind a load balancer: the new instance is healthy in the target groups before the old one is drained";
        case "dns":
        case "direct":
            return "connections open to the old instance are cut when its Elastic IP moves to the new, already healthy one; new connections succeed at once";
        case "none":
            return "over the client VPN: connections open to the old instance are cut when its reserved address moves to the new, already healthy one";
    }
}

/**
 * For each kind of config change: what is restarted or replaced, in what order, and what clients should expect.
 * The mechanism (docs/operations.md): files in place through one SSM association per instance, chained.
 */
export function rolloutChanges(pattern: Pattern, figures: ClientImpactFigures = {}): ChangeRow[] {
    const inPlace = "in place, one instance at a time: instance 1 gets the new files and restarts what changed, must answer /healthz 200" +
        (pattern === "loadBalancer" ? " and be healthy in every target group" : "") + " before instance 2 is touched; a failure stops there and fails `pulumi up`";
    const restartClients = oneInstanceOut(pattern, figures);
    const row = (change: string, effect: string, order: string, clients: string): ChangeRow => ({ change, effect, order, clients });
    const refresh =
        "slot 1's group launches a new machine next to the old one (instance refresh: launch before terminate); the new one stays out of service " +
        "until it answers /healthz 200 and has taken the slot's address" + (pattern === "loadBalancer" ? ", then is registered and healthy in the target groups" : "") +
        "; the old one serves untouched until then, and is drained and terminated after; slot 2's group gets the new template only once slot 1's new " +
        "instance is in service, and goes the same way; a failure stops there and fails `pulumi up`";
    return [
        row("orthanc.image", "in place", `${inPlace}; the Orthanc container is recreated with the new image`, restartClients),
        row("orthanc.nginxImage", "in place", `${inPlace}; the nginx container is recreated with the new image`, restartClients),
        row("orthanc.aet", "in place", `${inPlace}; Orthanc restarts with the new orthanc.json`, restartClients),
        row("Orthanc / nginx settings (a new program version)", "in place", `${inPlace}; only the containers whose files changed restart`, restartClients),
        row("tlsCertificatePem / tlsPrivateKeyPem (or the self-signed renewal)", "in place", `the secret is updated, then ${inPlace}; nginx reloads with the new certificate (open connections finish on the old one)`, restartClients),
        row("orthanc.instanceType", "replaced", refresh, refreshClients(pattern)),
        row("the boot template (launch template)", "replaced", refresh, refreshClients(pattern)),
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

// How a change reaches the two instances: the content-addressed config bundle, the rollout's timing bounds,
// what each kind of change restarts or replaces (the plan's "Changes" section), and the final snapshot's name.
// Pure: the pair, the offline plan, the twin and the tests share it.
import { createHash } from "crypto";
import { ipv4ToString, parseCidr } from "./cidr";

/** Where the instances' files live in the pair's bucket; Orthanc's own objects never use this prefix. */
export const CONFIG_PREFIX = "config/";

/**
 * A new instance's first boot, step by step, from the launch to the moment it may enter service: what a new slot's
 * `pulumi up` wait, the old instance's wait for its successor and the launch hook must cover. Each figure is the
 * allowance for the step; where the apply script bounds a step itself, the allowance is that bound.
 */
export const FIRST_BOOT_STEPS: readonly { readonly step: string; readonly seconds: number; readonly basis: string }[] = [
    { step: "EC2 launch, Amazon Linux 2023 boot, SSM agent registered", seconds: 120, basis: "AL2023 boots in under a minute; the agent registers within a minute of boot" },
    { step: "State Manager runs the slot's association on the new instance", seconds: 60, basis: "an association applies to a matching instance when it registers" },
    { step: "packages: dnf install docker jq postgresql15", seconds: 120, basis: "about 60 MB of RPMs from the regional AL2023 mirror, retried once" },
    { step: "compose plugin: download and checksum", seconds: 30, basis: "one 60 MB binary (GitHub or the pair's bucket)" },
    { step: "image pulls: Orthanc, nginx, health checker", seconds: 240, basis: "about 500 MB compressed in all, pulled and extracted on a t3.medium's EBS" },
    { step: "containers up, Orthanc opens its index, /healthz 200", seconds: 300, basis: "the apply script's own bound (healthySeconds)" },
    { step: "target groups report it healthy after the hook", seconds: 300, basis: "the apply script's own bound (targetHealthySeconds)" },
];

/** The first boot's budget: the sum of its steps (docs/operations.md quotes it). */
export const FIRST_BOOT_SECONDS = FIRST_BOOT_STEPS.reduce((sum, s) => sum + s.seconds, 0);

/** The rollout's bounds, in seconds. The SSM document, the groups and the twin read the same figures. */
export const ROLLOUT_TIMING = {
    /** After deregistration, before the restart: new connections go elsewhere, short ones finish. */
    drainSeconds: 30,
    /** From the restart until /healthz answers 200 on the instance itself. */
    healthySeconds: 300,
    /** From re-registration until the instance is healthy in every target group it belongs to. */
    targetHealthySeconds: 300,
    /** How long an instance its group is replacing waits for its successor to be in service: one first boot. */
    successorSeconds: FIRST_BOOT_SECONDS,
    /** How long `pulumi up` waits for one slot's association (and the document's own timeout): a successor's first boot and a margin. */
    associationWaitSeconds: FIRST_BOOT_SECONDS + 300,
    /**
     * How long `pulumi up` waits, when it creates a slot's group, for its instance to be in service: a first boot.
     * Shorter than the launch hook's timeout, so only a completed apply, never the hook's timeout, satisfies it.
     */
    capacityWaitSeconds: FIRST_BOOT_SECONDS,
} as const;

/**
 * Each instance is a slot: an Auto Scaling group of exactly one, in one subnet, on the pair's launch template. The
 * group replaces its instance when EC2 says it is gone or impaired (status checks: `healthCheckType` EC2), never
 * for /healthz, so an outage of the shared database never turns into churn. A new instance waits in the launch
 * hook (not in service, not registered) until its apply has found it healthy; a new instance that fails next to a
 * serving one is abandoned by its own apply, and an old instance waiting for its successor keeps the successor's
 * hook from timing out (and abandons it at its own deadline), so the hook's timeout (CONTINUE) only ever admits an
 * instance that has no serving predecessor: a replacement while the database is down, which must not churn. A
 * refresh (new instance type) launches before it terminates (min healthy 100 %, max 200 %), without AWS's rollback.
 */
export const SLOT_GROUP = {
    minSize: 1,
    /** Room for the new instance next to the old one during a refresh. */
    maxSize: 2,
    desiredCapacity: 1,
    healthCheckType: "EC2",
    healthCheckGracePeriodSeconds: 300,
    launchHookName: "orthweb-gate",
    /** Outlasts `pulumi up`'s wait for a new group (capacityWaitSeconds), so a timeout never counts as success. */
    launchHookHeartbeatSeconds: ROLLOUT_TIMING.capacityWaitSeconds + 300,
    launchHookDefaultResult: "CONTINUE",
    /**
     * The warmup outlasts the new instance's target-group gate: the refresh terminates the old instance only after
     * it, so a new instance that fails the gate ends the refresh first. autoRollback is off: the provider points the
     * group at the new template before it starts the refresh (hashicorp/terraform-provider-aws#34189), and AWS does
     * not roll back a template whose image is an SSM parameter; the apply script keeps the old instance instead.
     */
    refresh: { minHealthyPercentage: 100, maxHealthyPercentage: 200, instanceWarmupSeconds: ROLLOUT_TIMING.targetHealthySeconds + 60, autoRollback: false },
    /** Deleting a group waits for an instance held in the launch hook: the provider's 10-minute default is too short. */
    deleteTimeoutSeconds: ROLLOUT_TIMING.capacityWaitSeconds + 300 + 600,
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
        (pattern === "loadBalancer" ? " and be healthy in every target group" : "") + " before instance 2 is touched; a failure puts instance 1's previous files " +
        "back (it serves the previous version again), stops there and fails `pulumi up`";
    const restartClients = oneInstanceOut(pattern, figures);
    const row = (change: string, effect: string, order: string, clients: string): ChangeRow => ({ change, effect, order, clients });
    const refresh =
        "slot 1's group launches a new machine next to the old one (instance refresh: launch before terminate); the new one stays out of service " +
        "until it answers /healthz 200" + (pattern === "loadBalancer" ? ", then is registered and healthy in the target groups" : "") +
        ", and only then takes the slot's address; the old one serves untouched until then, and is drained and terminated after; slot 2's group " +
        "gets the new template only once slot 1's new instance is in service, and goes the same way; a new instance that fails ends the refresh " +
        "and is abandoned: the old one keeps serving with its address, slot 2 is not touched, and `pulumi up` fails";
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

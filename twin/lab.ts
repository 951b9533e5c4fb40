// The twin's machine room: network namespaces joined by veth pairs, and the processes started in them.
// Nothing here routes anywhere but between the twin's own namespaces: no namespace has a default route, and
// the host side has one /30 to the load balancer's namespace, checked before any packet is sent.
import { ChildProcess, execFile, spawn, spawnSync } from "child_process";
import * as fs from "fs";
import { Ipv4Cidr, overlaps, parseCidr } from "../rules/cidr";

/** Debian packages the twin runs (also in .ci/debian-packages.txt). */
export const TWIN_PACKAGES = [
    "orthanc", "orthanc-postgresql", "postgresql", "nginx", "libnginx-mod-stream", "libnginx-mod-stream-js", "haproxy", "dcmtk", "openssl", "iproute2", "jq", "curl",
    // site-to-site: strongSwan with userspace ESP (kernel-libipsec), and the VPC's forwarding filter.
    "strongswan-charon", "strongswan-swanctl", "libcharon-extra-plugins", "libstrongswan-standard-plugins", "iptables",
    // site-bgp: BIRD at both ends.
    "bird2",
    // acme: an ACME CA (pebble) and the ACME client the instances run as an image (lego).
    "pebble", "lego",
];

/** The twin takes one /24 of this block, chosen to overlap no route or address of the machine. */
export const TWIN_BLOCK = "10.251";

export interface Link {
    /** Namespace of each end; "host" is the machine's own namespace. */
    readonly a: { readonly ns: string; readonly dev: string; readonly address: string };
    readonly b: { readonly ns: string; readonly dev: string; readonly address: string };
}

export interface AddressPlan {
    readonly subnet: string;
    readonly namespaces: { readonly db: string; readonly lb: string; readonly instances: readonly string[] };
    /** Where clients reach the load balancer (in the lb namespace). */
    readonly frontDoor: string;
    /** The host end of the client link. */
    readonly client: string;
    /**
     * Per instance: nginx's address (towards the load balancer), PostgreSQL's address as the instance reaches it, and
     * the instance's own address on the link between the two instances (the peer fallback's path).
     */
    readonly instances: readonly { readonly name: string; readonly ns: string; readonly address: string; readonly databaseAddress: string; readonly peerAddress: string }[];
    readonly links: readonly Link[];
}

/**
 * /30 links in 10.251.<n>.0/24: host-lb (client to front door), lb-instance (targets), db-instance (the database
 * subnet), instance-instance (the peer fallback, as the instances' shared security group allows it). Namespace and device names carry n, so two runs on one machine do not collide.
 */
export function addressPlan(n: number): AddressPlan {
    if (!Number.isInteger(n) || n < 1 || n > 254) throw new Error(`addressPlan: subnet number ${n} is not 1..254`);
    const ip = (host: number) => `${TWIN_BLOCK}.${n}.${host}`;
    const ns = { db: `otw${n}-db`, lb: `otw${n}-lb`, instances: [`otw${n}-i1`, `otw${n}-i2`] };
    const link = (nsA: string, devA: string, nsB: string, devB: string, base: number): Link => ({
        a: { ns: nsA, dev: devA, address: `${ip(base + 1)}/30` },
        b: { ns: nsB, dev: devB, address: `${ip(base + 2)}/30` },
    });
    const links = [
        link("host", `otw${n}hl`, ns.lb, `otw${n}lh`, 0),
        link(ns.lb, `otw${n}l1`, ns.instances[0], `otw${n}1l`, 4),
        link(ns.lb, `otw${n}l2`, ns.instances[1], `otw${n}2l`, 8),
        link(ns.db, `otw${n}d1`, ns.instances[0], `otw${n}1d`, 12),
        link(ns.db, `otw${n}d2`, ns.instances[1], `otw${n}2d`, 16),
        link(ns.instances[0], `otw${n}1p`, ns.instances[1], `otw${n}2p`, 20),
    ];
    return {
        subnet: `${TWIN_BLOCK}.${n}.0/24`,
        namespaces: ns,
        frontDoor: ip(2),
        client: ip(1),
        instances: [
            { name: "orthanc-1", ns: ns.instances[0], address: ip(6), databaseAddress: ip(13), peerAddress: ip(21) },
            { name: "orthanc-2", ns: ns.instances[1], address: ip(10), databaseAddress: ip(17), peerAddress: ip(22) },
        ],
        links,
    };
}

/** The first subnet number from `preferred` on whose /24 no route or address lies and whose namespace names are free. */
export function pickSubnetNumber(usedCidrs: readonly string[], preferred: number, namespaces: readonly string[] = []): number {
    const used = usedCidrs.map((c) => parseCidr(c.includes("/") ? c : `${c}/32`)).filter((c): c is Ipv4Cidr & { address: number } => c !== undefined);
    for (let k = 0; k < 254; k++) {
        const n = ((preferred - 1 + k) % 254) + 1;
        const mine = parseCidr(`${TWIN_BLOCK}.${n}.0/24`)!;
        if (namespaces.some((ns) => ns.startsWith(`otw${n}-`))) continue;
        if (!used.some((u) => u.prefix > 0 && overlaps(u, mine))) return n;
    }
    throw new Error(`no free /24 in ${TWIN_BLOCK}.0.0/16: every one overlaps a route or address of this machine`);
}

export interface RunResult {
    readonly code: number | null;
    readonly stdout: string;
    readonly stderr: string;
}

/** Runs a command to completion (bounded), never throwing on a non-zero exit. */
export function run(cmd: string, args: readonly string[], opts: { timeoutMs?: number; input?: string; env?: NodeJS.ProcessEnv } = {}): Promise<RunResult> {
    return new Promise((resolve) => {
        const child = execFile(cmd, [...args], { timeout: opts.timeoutMs ?? 30000, maxBuffer: 64 * 1024 * 1024, env: opts.env ?? process.env, killSignal: "SIGKILL" }, (err, stdout, stderr) => {
            const code = err ? (typeof (err as { code?: unknown }).code === "number" ? ((err as { code: number }).code) : null) : 0;
            resolve({ code, stdout: String(stdout), stderr: String(stderr) + (err && code === null ? `\n${err.message}` : "") });
        });
        if (opts.input !== undefined) child.stdin?.end(opts.input);
    });
}

/** Like run, but throws with the command's output when it fails. */
export async function must(cmd: string, args: readonly string[], opts: { timeoutMs?: number; input?: string; env?: NodeJS.ProcessEnv } = {}): Promise<string> {
    const r = await run(cmd, args, opts);
    if (r.code !== 0) throw new Error(`${cmd} ${args.join(" ")} failed (exit ${r.code}): ${(r.stderr || r.stdout).trim().slice(-2000)}`);
    return r.stdout;
}

export function inNs(ns: string, cmd: string, args: readonly string[]): [string, string[]] {
    return ns === "host" ? [cmd, [...args]] : ["ip", ["netns", "exec", ns, cmd, ...args]];
}

interface Supervised {
    readonly name: string;
    child: ChildProcess;
    exited: Promise<void>;
    alive: boolean;
    readonly stopSignal: NodeJS.Signals;
}

/** The twin's namespaces and long-running processes; stop() undoes everything, and is safe to call twice. */
export class Lab {
    private readonly procs = new Map<string, Supervised>();
    private readonly namespaces: string[] = [];
    /** veth devices created in the host namespace: gone with their namespace once moved, else deleted here. */
    private readonly hostDevices: string[] = [];
    private stopped = false;

    constructor(public readonly plan: AddressPlan, private readonly logDir: string) {}

    async createNetwork(): Promise<void> {
        const { namespaces: ns } = this.plan;
        for (const name of [ns.db, ns.lb, ...ns.instances]) {
            await must("ip", ["netns", "add", name]);
            this.namespaces.push(name);
            await must("ip", ["-n", name, "link", "set", "lo", "up"]);
        }
        for (const l of this.plan.links) {
            await must("ip", ["link", "add", l.a.dev, "type", "veth", "peer", "name", l.b.dev]);
            this.hostDevices.push(l.a.dev, l.b.dev);
            for (const end of [l.a, l.b]) {
                if (end.ns !== "host") await must("ip", ["link", "set", end.dev, "netns", end.ns]);
                const n = end.ns === "host" ? [] : ["-n", end.ns];
                await must("ip", [...n, "addr", "add", end.address, "dev", end.dev]);
                await must("ip", [...n, "link", "set", end.dev, "up"]);
            }
        }
        // The one path out of the host namespace must be the twin's own link, or nothing is sent at all.
        const hostDev = this.plan.links[0].a.dev;
        const route = await must("ip", ["-4", "route", "get", this.plan.frontDoor]);
        if (!new RegExp(`\\bdev ${hostDev}\\b`).test(route)) throw new Error(`route to the front door ${this.plan.frontDoor} does not use ${hostDev}: ${route.trim()}`);
    }

    /** One more namespace (loopback up), deleted by stop() like the plan's own. */
    async addNamespace(name: string): Promise<void> {
        await must("ip", ["netns", "add", name]);
        this.namespaces.push(name);
        await must("ip", ["-n", name, "link", "set", "lo", "up"]);
    }

    /** A veth pair between two namespaces with one /32 address on each end and a device route to the other's. */
    async addPointToPoint(a: { ns: string; dev: string; address: string }, b: { ns: string; dev: string; address: string }): Promise<void> {
        await must("ip", ["link", "add", a.dev, "type", "veth", "peer", "name", b.dev]);
        this.hostDevices.push(a.dev, b.dev);
        for (const end of [a, b]) {
            await must("ip", ["link", "set", end.dev, "netns", end.ns]);
            await must("ip", ["-n", end.ns, "addr", "add", `${end.address}/32`, "dev", end.dev]);
            await must("ip", ["-n", end.ns, "link", "set", end.dev, "up"]);
        }
        for (const [end, other] of [[a, b], [b, a]] as const) await must("ip", ["-n", end.ns, "route", "add", `${other.address}/32`, "dev", end.dev]);
    }

    /** Starts a long-running process in a namespace, in its own process group, output to logs/<name>.log. */
    start(name: string, ns: string, cmd: string, args: readonly string[], stopSignal: NodeJS.Signals = "SIGTERM"): void {
        const existing = this.procs.get(name);
        if (existing?.alive) throw new Error(`${name} is already running`);
        const log = fs.openSync(`${this.logDir}/${name}.log`, "a");
        const [c, a] = inNs(ns, cmd, args);
        const child = spawn(c, a, { detached: true, stdio: ["ignore", log, log] });
        fs.closeSync(log);
        const entry: Supervised = { name, child, alive: true, stopSignal, exited: Promise.resolve() };
        entry.exited = new Promise((resolve) => child.once("exit", () => {
            entry.alive = false;
            resolve();
        }));
        child.once("error", () => (entry.alive = false));
        this.procs.set(name, entry);
    }

    isRunning(name: string): boolean {
        return this.procs.get(name)?.alive ?? false;
    }

    /** Sends a signal to the whole process group (the process and the children it forked). */
    signal(name: string, signal: NodeJS.Signals): void {
        const p = this.procs.get(name);
        if (!p?.alive || p.child.pid === undefined) return;
        try {
            process.kill(-p.child.pid, signal);
        } catch {
            // Already gone.
        }
    }

    /** Kills a process group outright (a crash, not a shutdown) and waits until the process is gone. */
    async crash(name: string): Promise<void> {
        this.signal(name, "SIGKILL");
        await this.waitExit(name, 5000);
    }

    async waitExit(name: string, timeoutMs: number): Promise<boolean> {
        const p = this.procs.get(name);
        if (!p) return true;
        let timer: NodeJS.Timeout | undefined;
        const done = await Promise.race([p.exited.then(() => true), new Promise<boolean>((r) => (timer = setTimeout(() => r(false), timeoutMs)))]);
        clearTimeout(timer);
        return done;
    }

    /** Stops every process (its stop signal, then SIGKILL), kills anything left in the namespaces, deletes them. */
    async stop(): Promise<void> {
        if (this.stopped) return;
        this.stopped = true;
        const procs = [...this.procs.values()].filter((p) => p.alive).reverse();
        for (const p of procs) this.signal(p.name, p.stopSignal);
        await Promise.all(procs.map((p) => this.waitExit(p.name, 5000)));
        for (const p of procs) this.signal(p.name, "SIGKILL");
        await Promise.all(procs.map((p) => this.waitExit(p.name, 2000)));
        for (const ns of [...this.namespaces].reverse()) {
            const pids = await run("ip", ["netns", "pids", ns], { timeoutMs: 5000 });
            for (const pid of pids.stdout.split(/\s+/).filter(Boolean).map(Number)) {
                try {
                    process.kill(pid, "SIGKILL");
                } catch {
                    // Exited meanwhile.
                }
            }
            await run("ip", ["netns", "del", ns], { timeoutMs: 5000 });
        }
        this.namespaces.length = 0;
        for (const dev of this.hostDevices) {
            if ((await run("ip", ["link", "show", dev], { timeoutMs: 5000 })).code === 0) await run("ip", ["link", "del", dev], { timeoutMs: 5000 });
        }
    }

    /** Last resort on process exit (synchronous): kill every group still alive, delete the namespaces. */
    stopSync(): void {
        if (this.stopped) return;
        for (const p of this.procs.values()) if (p.alive) this.signal(p.name, "SIGKILL");
        for (const ns of this.namespaces) {
            const pids = spawnSync("ip", ["netns", "pids", ns], { encoding: "utf8" }).stdout ?? "";
            for (const pid of pids.split(/\s+/).filter(Boolean).map(Number)) {
                try {
                    process.kill(pid, "SIGKILL");
                } catch {
                    // Exited meanwhile.
                }
            }
            spawnSync("ip", ["netns", "del", ns]);
        }
        for (const dev of this.hostDevices) if (spawnSync("ip", ["link", "show", dev]).status === 0) spawnSync("ip", ["link", "del", dev]);
        this.stopped = true;
    }
}

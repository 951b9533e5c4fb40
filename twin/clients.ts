// The twin's clients: a modality sending C-STOREs over TLS at a steady rate (dcmtk's storescu, one association
// per instance, failed ones retried), a browser-like HTTPS poller, and a reader of HAProxy's server states.
import { ChildProcess, execFile } from "child_process";
import * as fs from "fs";
import * as http from "http";
import * as https from "https";
import * as path from "path";
import * as tls from "tls";
import { newUid, secondaryCapture } from "./dicom";
import { Attempt } from "./summary";

export const now = (): number => performance.now();

export interface StoreAttempt extends Attempt {
    readonly uid: string;
    readonly attempt: number;
    readonly detail: string;
}

export interface StoreTarget {
    readonly host: string;
    readonly port: number;
    readonly calledAet: string;
    readonly caPath: string;
}

/** storescu with anonymous TLS (no client certificate), the server's certificate verified against caPath. */
export function storescuArgs(t: StoreTarget, file: string): string[] {
    return ["+tla", "+cf", t.caPath, "-to", "5", "-ta", "5", "-td", "10", "-v", "-aet", "ORTHWEB_TWIN", "-aec", t.calledAet, t.host, String(t.port), file];
}

/** Acknowledged means: storescu exited 0 and reported the C-STORE response status Success. */
export function acknowledged(exitCode: number | null, output: string): boolean {
    return exitCode === 0 && /Received Store Response \(Success\)/.test(output);
}

export function runStorescu(cmdPrefix: readonly string[], t: StoreTarget, file: string, onChild?: (c: ChildProcess) => void): Promise<{ ok: boolean; detail: string }> {
    const [cmd, ...pre] = [...cmdPrefix, "storescu"];
    return new Promise((resolve) => {
        const child = execFile(cmd, [...pre, ...storescuArgs(t, file)], { timeout: 20000, killSignal: "SIGKILL" }, (err, stdout, stderr) => {
            const code = err ? (typeof (err as { code?: unknown }).code === "number" ? (err as { code: number }).code : null) : 0;
            const output = `${stdout}${stderr}`;
            const ok = acknowledged(code, output);
            const lastError = output.split("\n").filter((l) => /^[EF]:/.test(l)).slice(-1)[0] ?? "";
            resolve({ ok, detail: ok ? "" : `exit ${code}: ${lastError.trim() || output.trim().split("\n").slice(-1)[0] || err?.message || "no output"}` });
        });
        onChild?.(child);
    });
}

interface Item {
    readonly uid: string;
    readonly file: string;
    tries: number;
    dueMs: number;
}

export interface DicomClientOptions {
    readonly dir: string;
    readonly target: StoreTarget;
    readonly periodMs: number;
    readonly maxInFlight: number;
    readonly maxInstances: number;
    readonly maxTries: number;
    readonly retryDelayMs: number;
    readonly patientId: string;
    /** The network namespace storescu runs in (a site's network, say). @default the machine's own */
    readonly namespace?: string;
}

/** Sends a new instance every periodMs (fewer when maxInFlight associations are open); retries failures first. */
export class DicomClient {
    readonly attempts: StoreAttempt[] = [];
    readonly acknowledged = new Set<string>();
    readonly abandoned = new Set<string>();
    retried = 0;
    private readonly retryQueue: Item[] = [];
    private readonly children = new Set<ChildProcess>();
    private inFlight = 0;
    private created = 0;
    private timer?: NodeJS.Timeout;
    private stopping = false;
    private readonly studyUid = newUid();
    private readonly seriesUid = newUid();

    constructor(private readonly o: DicomClientOptions) {}

    start(): void {
        this.timer = setInterval(() => this.tick(), this.o.periodMs);
    }

    /** Stops starting new instances; keeps retrying the failed ones until `deadlineMs`, then waits for open ones. */
    async drain(deadlineMs: number): Promise<void> {
        this.stopping = true;
        while ((this.retryQueue.length > 0 || this.inFlight > 0) && now() < deadlineMs) await sleep(100);
        if (this.timer) clearInterval(this.timer);
        for (const c of this.children) c.kill("SIGKILL");
        while (this.inFlight > 0) await sleep(50);
        for (const item of this.retryQueue.splice(0)) this.abandoned.add(item.uid);
    }

    /** Kills open associations (used on abort). */
    abort(): void {
        if (this.timer) clearInterval(this.timer);
        this.stopping = true;
        for (const c of this.children) c.kill("SIGKILL");
    }

    private next(): Item | undefined {
        const t = now();
        const due = this.retryQueue.findIndex((i) => i.dueMs <= t);
        if (due >= 0) return this.retryQueue.splice(due, 1)[0];
        if (this.stopping || this.created >= this.o.maxInstances) return undefined;
        this.created++;
        const uid = newUid();
        const file = path.join(this.o.dir, `${this.created}.dcm`);
        fs.writeFileSync(file, secondaryCapture({ patientId: this.o.patientId, studyUid: this.studyUid, seriesUid: this.seriesUid, sopInstanceUid: uid, instanceNumber: this.created }));
        return { uid, file, tries: 0, dueMs: t };
    }

    private tick(): void {
        if (this.inFlight >= this.o.maxInFlight) return;
        const item = this.next();
        if (!item) return;
        item.tries++;
        if (item.tries > 1) this.retried++;
        this.inFlight++;
        const startMs = now();
        const track = (c: ChildProcess) => {
            this.children.add(c);
            c.once("exit", () => this.children.delete(c));
        };
        runStorescu(this.o.namespace ? ["ip", "netns", "exec", this.o.namespace] : [], this.o.target, item.file, track).then(({ ok, detail }) => {
            const endMs = now();
            this.inFlight--;
            this.attempts.push({ uid: item.uid, attempt: item.tries, startMs, endMs, ok, detail });
            if (ok) this.acknowledged.add(item.uid);
            else if (item.tries >= this.o.maxTries) this.abandoned.add(item.uid);
            else this.retryQueue.push({ ...item, dueMs: endMs + this.o.retryDelayMs });
        });
    }
}

export interface WebAttempt extends Attempt {
    readonly path: string;
    readonly status: number;
}

export interface WebTarget {
    readonly host: string;
    readonly port: number;
    readonly ca: Buffer;
    readonly authorization: string;
}

/** One HTTPS request on a new connection (so the load balancer places each one), certificate verified. */
export function httpsStatus(t: WebTarget, urlPath: string, authenticated: boolean, timeoutMs = 3000): Promise<number> {
    return new Promise((resolve) => {
        const req = https.get(
            { host: t.host, port: t.port, path: urlPath, ca: t.ca, agent: false, timeout: timeoutMs, headers: authenticated ? { Authorization: t.authorization } : {} },
            (res) => {
                res.resume();
                res.on("end", () => resolve(res.statusCode ?? 0));
                res.on("error", () => resolve(0));
            },
        );
        req.on("timeout", () => req.destroy(new Error("timeout")));
        req.on("error", () => resolve(0));
    });
}

/** GET /healthz (no credentials) and an authenticated GET /system every periodMs through the front door. */
export class WebPoller {
    readonly attempts: WebAttempt[] = [];
    private timer?: NodeJS.Timeout;
    private inFlight = 0;

    constructor(private readonly target: WebTarget, private readonly periodMs: number) {}

    start(): void {
        this.timer = setInterval(() => {
            if (this.inFlight > 4) return;
            for (const [p, auth] of [["/healthz", false], ["/system", true]] as const) {
                this.inFlight++;
                const startMs = now();
                httpsStatus(this.target, p, auth).then((status) => {
                    this.inFlight--;
                    this.attempts.push({ path: p, status, startMs, endMs: now(), ok: status === 200 });
                });
            }
        }, this.periodMs);
    }

    async stop(): Promise<void> {
        if (this.timer) clearInterval(this.timer);
        const until = now() + 5000;
        while (this.inFlight > 0 && now() < until) await sleep(50);
    }
}

export interface ServerState {
    readonly backend: string;
    readonly server: string;
    /** UP, DOWN, "UP 1/2" (going down), "DOWN 1/3" (going up), ... */
    readonly status: string;
    readonly checkStatus: string;
    /** Sessions the server has had in total. */
    readonly sessions: number;
}

/** HAProxy's stats CSV (`show stat`), server rows only. */
export function parseStatsCsv(csv: string): ServerState[] {
    const lines = csv.split("\n").filter((l) => l.trim() !== "");
    if (lines.length === 0 || !lines[0].startsWith("# ")) return [];
    const header = lines[0].slice(2).split(",");
    const col = (name: string) => header.indexOf(name);
    const [px, sv, st, chk, stot] = ["pxname", "svname", "status", "check_status", "stot"].map(col);
    return lines
        .slice(1)
        .map((l) => l.split(","))
        .filter((f) => f[sv] !== "FRONTEND" && f[sv] !== "BACKEND" && f[px] !== "twin-stats")
        .map((f) => ({ backend: f[px], server: f[sv], status: f[st], checkStatus: f[chk], sessions: Number(f[stot]) || 0 }));
}

/** A server takes new connections while HAProxy counts it up, including "UP 1/2" (one failed check so far). */
export const routed = (s: ServerState): boolean => s.status.startsWith("UP");

export interface StateChange {
    readonly atMs: number;
    readonly backend: string;
    readonly server: string;
    readonly from: string;
    readonly to: string;
}

/** Polls HAProxy's stats page and records every status change with the time it was first seen. */
export class StatsWatcher {
    latest: ServerState[] = [];
    readonly changes: StateChange[] = [];
    private timer?: NodeJS.Timeout;
    private busy = false;

    constructor(private readonly url: string, private readonly periodMs = 200) {}

    read(): Promise<ServerState[]> {
        return new Promise((resolve) => {
            const req = http.get(this.url, { timeout: 2000 }, (res) => {
                let body = "";
                res.setEncoding("utf8");
                res.on("data", (d) => (body += d));
                res.on("end", () => resolve(parseStatsCsv(body)));
            });
            req.on("timeout", () => req.destroy(new Error("timeout")));
            req.on("error", () => resolve([]));
        });
    }

    async poll(): Promise<ServerState[]> {
        const states = await this.read();
        if (states.length === 0) return this.latest;
        const t = now();
        for (const s of states) {
            const before = this.latest.find((l) => l.backend === s.backend && l.server === s.server);
            if (before && before.status !== s.status) this.changes.push({ atMs: t, backend: s.backend, server: s.server, from: before.status, to: s.status });
        }
        this.latest = states;
        return states;
    }

    start(): void {
        this.timer = setInterval(() => {
            if (this.busy) return;
            this.busy = true;
            this.poll().finally(() => (this.busy = false));
        }, this.periodMs);
    }

    stop(): void {
        if (this.timer) clearInterval(this.timer);
    }

    of(server: string): ServerState[] {
        return this.latest.filter((s) => s.server === server);
    }
}

export function sleep(ms: number): Promise<void> {
    return new Promise((r) => setTimeout(r, ms));
}

/** Polls `probe` every intervalMs until it returns true or timeoutMs passes; returns whether it did. */
export async function waitFor(probe: () => Promise<boolean> | boolean, timeoutMs: number, intervalMs = 250): Promise<boolean> {
    const until = now() + timeoutMs;
    for (;;) {
        if (await probe()) return true;
        if (now() >= until) return false;
        await sleep(intervalMs);
    }
}

export interface RawExchange {
    /** The TLS handshake succeeded, then the server closed the connection before `holdMs` was up. */
    readonly closedByServer: boolean;
    /** Bytes the server sent back. */
    readonly received: number;
    /** From the end of the TLS handshake (the first write) to the close, or to `holdMs`. */
    readonly elapsedMs: number;
}

/**
 * Raw bytes over TLS with a client certificate: writes `chunks` (50 ms apart, so each is its own TLS record), then
 * keeps the connection open until the server closes it or `holdMs` is up. What a broken or hostile modality does.
 */
export function rawTlsExchange(t: { host: string; port: number; caPath: string }, identity: { key: string; cert: string }, chunks: readonly Buffer[], holdMs: number): Promise<RawExchange> {
    return new Promise((resolve) => {
        let t0 = now();
        let received = 0;
        let settled = false;
        let connected = false;
        const socket = tls.connect({ host: t.host, port: t.port, key: fs.readFileSync(identity.key), cert: fs.readFileSync(identity.cert), ca: fs.readFileSync(t.caPath), checkServerIdentity: () => undefined }, async () => {
            connected = true;
            t0 = now();
            for (const chunk of chunks) {
                socket.write(chunk);
                await sleep(50);
            }
        });
        const finish = (closedByServer: boolean) => {
            if (settled) return;
            settled = true;
            clearTimeout(timer);
            socket.destroy();
            resolve({ closedByServer: closedByServer && connected, received, elapsedMs: Math.round(now() - t0) });
        };
        const timer = setTimeout(() => finish(false), holdMs);
        socket.on("data", (d: Buffer) => (received += d.length));
        socket.on("error", () => finish(true));
        socket.on("close", () => finish(true));
    });
}

/**
 * Times `count` associations one after the other, in process: TLS handshake with a client certificate, `associateRq`,
 * until the first byte of the answer (A-ASSOCIATE-AC is type 2), then an orderly release. Milliseconds per association
 * from connect to the answer; throws when an answer is not an AC.
 */
export async function timeAssociations(t: { host: string; port: number; caPath: string }, identity: { key: string; cert: string }, associateRq: Buffer, releaseRq: Buffer, count: number): Promise<number[]> {
    const key = fs.readFileSync(identity.key);
    const cert = fs.readFileSync(identity.cert);
    const ca = fs.readFileSync(t.caPath);
    const times: number[] = [];
    for (let i = 0; i < count; i++) {
        times.push(
            await new Promise<number>((resolve, reject) => {
                const t0 = now();
                let answered = -1;
                const socket = tls.connect({ host: t.host, port: t.port, key, cert, ca, checkServerIdentity: () => undefined }, () => socket.write(associateRq));
                socket.on("data", (d: Buffer) => {
                    if (answered >= 0) return;
                    if (d[0] !== 0x02) return reject(new Error(`association ${i + 1}: answered with PDU type ${d[0]}`));
                    answered = now() - t0;
                    socket.write(releaseRq);
                    socket.end();
                });
                socket.on("error", reject);
                socket.on("close", () => (answered >= 0 ? resolve(answered) : reject(new Error(`association ${i + 1}: closed unanswered`))));
            }),
        );
    }
    return times;
}

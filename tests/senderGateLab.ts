// A bench for nginx's DICOM sender gate with real software: Debian's nginx (stream + njs modules) rendering the
// program's nginx.conf and gate script, dcmtk's storescp as the Orthanc stand-in behind it, and dcmtk's
// storescu/echoscu with the modalities' client certificates (issued with openssl from the program's plan), all in a
// network namespace of their own (nginx's fixed listeners cannot collide with anything else on the machine).
// Used by tests/senderGate.spec.ts and tools/bench-sender-gate.ts. Needs root (ip netns).
import { ChildProcess, spawn } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { renderDicomSenderGate, GateModality } from "../components/bootstrap/dicomSenderGate";
import { renderNginxConf } from "../components/bootstrap/nginx";
import { DICOM_PORT } from "../rules/ports";
import { RawExchange, waitFor } from "../twin/clients";
import { DEBIAN_STREAM_MODULE } from "../twin/debian";
import { associateRqHead, newUid, RELEASE_RQ, secondaryCapture, verificationAssociateRq } from "../twin/dicom";
import { must, run, RunResult } from "../twin/lab";
import { issueModalityCertificates, ModalityCertificateFiles } from "../twin/senders";

export const CALLED_AET = "ORTHANC";
/** Where the Orthanc stand-in listens in the namespace. */
const SCP_PORT = 4242;
export const LOOPBACK = "127.0.0.1";

export interface GateLabOptions {
    readonly modalities: readonly GateModality[];
    /** false: today's nginx.conf without the gate (client certificates only), to compare. */
    readonly gate: boolean;
    /** How long nginx waits for a whole A-ASSOCIATE-RQ. @default the rendered default */
    readonly prereadSeconds?: number;
}

export interface Association {
    readonly ok: boolean;
    readonly output: string;
}

let labs = 0;

export class SenderGateLab {
    readonly ns: string;
    readonly certificates: ModalityCertificateFiles;
    readonly serverCert: string;
    private readonly procs: ChildProcess[] = [];
    private stopped = false;

    private constructor(readonly dir: string, ns: string, certificates: ModalityCertificateFiles, serverCert: string) {
        this.ns = ns;
        this.certificates = certificates;
        this.serverCert = serverCert;
    }

    static async start(o: GateLabOptions): Promise<SenderGateLab> {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "orthweb-sender-gate-"));
        const ns = `ogate${process.pid}-${++labs}`;
        const f = (name: string) => path.join(dir, name);
        await must("openssl", ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", f("server.key"), "-out", f("server.crt"), "-days", "2", "-subj", "/CN=pacs", "-addext", `subjectAltName=IP:${LOOPBACK}`]);
        const certificates = await issueModalityCertificates(f("modalities"), o.modalities.map((m) => m.name));
        const lab = new SenderGateLab(dir, ns, certificates, f("server.crt"));
        try {
            await must("ip", ["netns", "add", ns]);
            await must("ip", ["-n", ns, "link", "set", "lo", "up"]);
            fs.mkdirSync(f("peer"));
            // The Orthanc stand-in accepts any calling AE title: what it receives is what nginx let through. It answers
            // each C-STORE with success but keeps nothing (--ignore): the disk must not be what a bench measures.
            lab.spawn("storescp", ["-v", "--ignore", "-aet", CALLED_AET, String(SCP_PORT)], f("storescp.log"));
            if (o.gate) fs.writeFileSync(f("dicom-senders.js"), renderDicomSenderGate(o.modalities));
            const conf = renderNginxConf({
                orthancHost: LOOPBACK,
                orthancDicomPort: SCP_PORT,
                certificatePath: f("server.crt"),
                keyPath: f("server.key"),
                pidPath: f("nginx.pid"),
                listenAddress: LOOPBACK,
                peerMapGlob: path.join(f("peer"), "*.map"),
                dicomClientCaPath: certificates.ca.cert,
                dicomSenderGatePath: o.gate ? f("dicom-senders.js") : undefined,
                dicomPrereadSeconds: o.prereadSeconds,
                // The peer link's listeners need a certificate and a CA to start; the server's serve here (no peer runs).
                peerTls: { certificatePath: f("server.crt"), keyPath: f("server.key"), caPath: certificates.ca.cert },
            });
            fs.writeFileSync(f("nginx.conf"), `load_module ${DEBIAN_STREAM_MODULE};\n${conf}`);
            lab.spawn("nginx", ["-p", dir, "-e", "stderr", "-c", f("nginx.conf"), "-g", "daemon off;"], f("nginx.log"));
            const listening = () => lab.exec("bash", ["-c", `exec 3<>/dev/tcp/${LOOPBACK}/${DICOM_PORT} && exec 3<>/dev/tcp/${LOOPBACK}/${SCP_PORT}`], 2000).then((r) => r.code === 0);
            if (!(await waitFor(listening, 10000, 100))) throw new Error(`nginx or storescp did not listen: ${lab.log("nginx")}${lab.log("storescp")}`);
        } catch (e) {
            await lab.stop();
            throw e;
        }
        return lab;
    }

    private spawn(cmd: string, args: readonly string[], logFile: string): void {
        const log = fs.openSync(logFile, "a");
        const child = spawn("ip", ["netns", "exec", this.ns, cmd, ...args], { detached: true, stdio: ["ignore", log, log] });
        fs.closeSync(log);
        this.procs.push(child);
    }

    /** A command in the lab's namespace. */
    exec(cmd: string, args: readonly string[], timeoutMs = 20000): Promise<RunResult> {
        return run("ip", ["netns", "exec", this.ns, cmd, ...args], { timeoutMs });
    }

    log(name: "nginx" | "storescp"): string {
        const file = path.join(this.dir, `${name}.log`);
        return fs.existsSync(file) ? fs.readFileSync(file, "utf8") : "";
    }

    /** CPU time (user + system, ms) nginx's processes in the lab have used so far: steadier than wall time on a busy machine. */
    async nginxCpuMs(): Promise<number> {
        const pids = (await run("ip", ["netns", "pids", this.ns], { timeoutMs: 5000 })).stdout.split(/\s+/).filter(Boolean);
        let ticks = 0;
        for (const pid of pids) {
            const stat = fs.existsSync(`/proc/${pid}/stat`) ? fs.readFileSync(`/proc/${pid}/stat`, "utf8") : "";
            // Fields after the command (which may hold spaces): state is field 3, utime 14 and stime 15.
            const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
            if (/\(nginx\)/.test(stat)) ticks += Number(fields[11]) + Number(fields[12]);
        }
        return ticks * 10; // USER_HZ is 100 on Linux
    }

    /** Associations the Orthanc stand-in has received so far. */
    associationsReceived(): number {
        return (this.log("storescp").match(/Association Received/g) ?? []).length;
    }

    private tlsArgs(modality: string): string[] {
        const id = this.certificates.clients[modality];
        if (!id) throw new Error(`no certificate for ${modality}`);
        return ["+tls", id.key, id.cert, "+cf", this.serverCert];
    }

    /** One C-STORE of a fresh instance with `modality`'s certificate, calling as `callingAet`. */
    async store(modality: string, callingAet: string): Promise<Association> {
        const file = path.join(this.dir, `probe-${newUid()}.dcm`);
        fs.writeFileSync(file, secondaryCapture({ patientId: "GATE", studyUid: newUid(), seriesUid: newUid(), sopInstanceUid: newUid(), instanceNumber: 1 }));
        const r = await this.exec("storescu", [...this.tlsArgs(modality), "-to", "5", "-ta", "5", "-td", "10", "-v", "-aet", callingAet, "-aec", CALLED_AET, LOOPBACK, String(DICOM_PORT), file]);
        fs.rmSync(file, { force: true });
        const output = `${r.stdout}${r.stderr}`;
        return { ok: r.code === 0 && /Received Store Response \(Success\)/.test(output), output };
    }

    /** One C-ECHO with `modality`'s certificate, calling as `callingAet`. */
    async echo(modality: string, callingAet: string): Promise<Association> {
        const r = await this.exec("echoscu", [...this.tlsArgs(modality), "-to", "5", "-ta", "5", "-td", "10", "-v", "-aet", callingAet, "-aec", CALLED_AET, LOOPBACK, String(DICOM_PORT)]);
        const output = `${r.stdout}${r.stderr}`;
        return { ok: r.code === 0 && /Received Echo Response \(Success\)/.test(output), output };
    }

    /** Calls a function of twin/clients.ts in node in the lab's namespace, with JSON-able arguments (Buffers as base64). */
    private async clientCall<T>(name: "rawTlsExchange" | "timeAssociations", args: readonly unknown[], timeoutMs: number): Promise<T> {
        const encoded = JSON.stringify(args, (_k, v: unknown) => (v && typeof v === "object" && (v as { type?: string }).type === "Buffer" ? { base64: Buffer.from((v as { data: number[] }).data).toString("base64") } : v));
        const script =
            `require("sucrase/register/ts"); const args = JSON.parse(${JSON.stringify(encoded)}, (k, v) => (v && v.base64 !== undefined ? Buffer.from(v.base64, "base64") : v));` +
            `require(${JSON.stringify(path.resolve(__dirname, "../twin/clients"))}).${name}(...args).then((r) => console.log(JSON.stringify(r)))`;
        const r = await this.exec(process.execPath, ["-e", script], timeoutMs);
        if (r.code !== 0) throw new Error(`${name} failed in ${this.ns}: ${r.stderr}`);
        return JSON.parse(r.stdout.trim().split("\n").pop() ?? "null") as T;
    }

    private target() {
        return { host: LOOPBACK, port: DICOM_PORT, caPath: this.serverCert };
    }

    /** twin/clients.ts rawTlsExchange with `modality`'s certificate. */
    raw(modality: string, chunks: readonly Buffer[], holdMs: number): Promise<RawExchange> {
        return this.clientCall<RawExchange>("rawTlsExchange", [this.target(), this.certificates.clients[modality], chunks, holdMs], holdMs + 20000);
    }

    /** twin/clients.ts timeAssociations: `count` C-ECHO-ready associations in one process, ms to the A-ASSOCIATE-AC each. */
    associations(modality: string, callingAet: string, count: number): Promise<number[]> {
        return this.clientCall<number[]>("timeAssociations", [this.target(), this.certificates.clients[modality], verificationAssociateRq(CALLED_AET, callingAet), RELEASE_RQ, count], 120000);
    }

    async stop(): Promise<void> {
        if (this.stopped) return;
        this.stopped = true;
        for (const p of this.procs) {
            try {
                if (p.pid !== undefined && p.exitCode === null) process.kill(-p.pid, "SIGKILL");
            } catch {
                // Already gone.
            }
        }
        const pids = await run("ip", ["netns", "pids", this.ns], { timeoutMs: 5000 });
        for (const pid of pids.stdout.split(/\s+/).filter(Boolean).map(Number)) {
            try {
                process.kill(pid, "SIGKILL");
            } catch {
                // Exited meanwhile.
            }
        }
        await run("ip", ["netns", "del", this.ns], { timeoutMs: 5000 });
        fs.rmSync(this.dir, { recursive: true, force: true });
    }
}

/** An A-ASSOCIATE-RQ's fixed part calling as `callingAet`, declaring `length` bytes. */
export function associateRqHeader(callingAet: string, length = 68): Buffer {
    return associateRqHead(CALLED_AET, callingAet, length);
}

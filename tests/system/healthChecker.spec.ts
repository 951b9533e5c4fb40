// The rendered health checker, run with python3 against a stand-in Orthanc on loopback: 200 only while an
// authenticated index read succeeds, 503 within seconds when Orthanc fails or hangs, 200 again when it recovers.
import { expect } from "chai";
import { ChildProcess, spawn, spawnSync } from "child_process";
import * as fs from "fs";
import * as http from "http";
import { AddressInfo } from "net";
import * as os from "os";
import * as path from "path";
import { healthCheckerArgs, PROBE_LOOP_DIED_EXIT_CODE, renderHealthChecker } from "../../components/bootstrap/healthChecker";
import { PROBE_INTERVAL_SECONDS, PROBE_TIMEOUT_SECONDS } from "../../rules/healthProbe";
import { HEALTH_USER } from "../../rules/logins";
import { HEALTH_PATH } from "../../rules/ports";

type Mode = "ok" | "fail" | "hang";

function get(port: number): Promise<number> {
    return new Promise((resolve) => {
        const req = http.get({ host: "127.0.0.1", port, path: HEALTH_PATH, timeout: 3000 }, (res) => {
            res.resume();
            resolve(res.statusCode ?? 0);
        });
        req.on("error", () => resolve(0));
        req.on("timeout", () => req.destroy());
    });
}

async function until(port: number, want: number, boundMs: number): Promise<number | undefined> {
    const start = Date.now();
    while (Date.now() - start < boundMs) {
        if ((await get(port)) === want) return (Date.now() - start) / 1000;
        await new Promise((r) => setTimeout(r, 100));
    }
    return undefined;
}

describe("health checker (healthz.py)", function () {
    this.timeout(30000);
    let dir: string;
    let orthanc: http.Server;
    let checker: ChildProcess;
    let checkerPort: number;
    let mode: Mode = "ok";
    const seen: { path?: string; auth?: string }[] = [];
    const password = "s3cret-health";

    before(async function () {
        if (spawnSync("sh", ["-c", "command -v python3"]).status !== 0) {
            if (process.env.REQUIRE_TOOLS) throw new Error("python3 is required");
            this.skip();
        }
        dir = fs.mkdtempSync(path.join(os.tmpdir(), "healthz-spec-"));
        orthanc = http.createServer((req, res) => {
            seen.push({ path: req.url, auth: req.headers.authorization });
            if (mode === "hang") return; // never answers, like Orthanc waiting on a dead database
            const ok = mode === "ok" && req.headers.authorization === `Basic ${Buffer.from(`${HEALTH_USER}:${password}`).toString("base64")}`;
            res.writeHead(ok ? 200 : mode === "fail" ? 503 : 401).end(ok ? "{}" : "");
        });
        await new Promise<void>((r) => orthanc.listen(0, "127.0.0.1", r));
        const free = http.createServer();
        await new Promise<void>((r) => free.listen(0, "127.0.0.1", r));
        checkerPort = (free.address() as AddressInfo).port;
        await new Promise<void>((r) => free.close(() => r()));
        const script = path.join(dir, "healthz.py");
        fs.writeFileSync(script, renderHealthChecker());
        fs.writeFileSync(path.join(dir, "auth"), `${HEALTH_USER}:${password}\n`, { mode: 0o600 });
        const args = healthCheckerArgs({ listen: `127.0.0.1:${checkerPort}`, orthancUrl: `http://127.0.0.1:${(orthanc.address() as AddressInfo).port}`, credentialsFile: path.join(dir, "auth") });
        checker = spawn("python3", [script, ...args], { stdio: "ignore" });
    });

    after(() => {
        checker?.kill("SIGKILL");
        orthanc?.closeAllConnections?.();
        orthanc?.close();
        if (dir) fs.rmSync(dir, { recursive: true, force: true });
    });

    it("answers 200 once an authenticated read of the index (/statistics) succeeded, with its own login", async () => {
        expect(await until(checkerPort, 200, 8000)).to.not.equal(undefined);
        const probe = seen[seen.length - 1];
        expect(probe.path).to.equal("/statistics");
        expect(probe.auth).to.equal(`Basic ${Buffer.from(`${HEALTH_USER}:${password}`).toString("base64")}`);
    });

    it("answers 503 within seconds when Orthanc hangs, and 200 again when it answers", async () => {
        mode = "hang";
        const down = await until(checkerPort, 503, 8000);
        expect(down, "503 while Orthanc hangs").to.not.equal(undefined);
        expect(down!).to.be.at.most(PROBE_INTERVAL_SECONDS + PROBE_TIMEOUT_SECONDS + 1);
        // One probe at a time, whoever asks: the hung requests do not pile up.
        const before = seen.length;
        await Promise.all(Array.from({ length: 20 }, () => get(checkerPort)));
        expect(seen.length - before).to.be.at.most(2);
        mode = "ok";
        expect(await until(checkerPort, 200, 8000), "200 after recovery").to.not.equal(undefined);
    });

    it("answers 503 when Orthanc answers 503 (its database is gone) or refuses the login", async () => {
        mode = "fail";
        expect(await until(checkerPort, 503, 5000)).to.not.equal(undefined);
        mode = "ok";
        expect(await until(checkerPort, 200, 5000)).to.not.equal(undefined);
        fs.writeFileSync(path.join(dir, "auth"), `${HEALTH_USER}:wrong\n`);
        expect(await until(checkerPort, 503, 5000), "503 with a login Orthanc refuses").to.not.equal(undefined);
        fs.writeFileSync(path.join(dir, "auth"), `${HEALTH_USER}:${password}\n`);
    });
});

/**
 * Docker's restart policy as the spec's own loop: whenever the process exits, start it again after a delay that
 * doubles from 100 ms (Docker's backoff; it resets once a run lasted 10 s, longer than this spec waits).
 */
class Supervisor {
    readonly exits: (number | null)[] = [];
    private child?: ChildProcess;
    private stopped = false;
    private delayMs = 100;

    constructor(private readonly argv: string[]) {}

    start(): void {
        const child = spawn("python3", this.argv, { stdio: "ignore" });
        this.child = child;
        child.on("exit", (code) => {
            this.exits.push(code);
            if (this.stopped) return;
            setTimeout(() => !this.stopped && this.start(), this.delayMs);
            this.delayMs *= 2;
        });
    }

    stop(): void {
        this.stopped = true;
        this.child?.kill("SIGKILL");
    }
}

describe("health checker (healthz.py) under a restart policy", function () {
    this.timeout(40000);
    let dir: string;
    let orthanc: http.Server;
    let supervisor: Supervisor | undefined;
    const password = "s3cret-restart";

    before(function () {
        if (spawnSync("sh", ["-c", "command -v python3"]).status !== 0) {
            if (process.env.REQUIRE_TOOLS) throw new Error("python3 is required");
            this.skip();
        }
    });

    after(() => {
        supervisor?.stop();
        orthanc?.closeAllConnections?.();
        orthanc?.close();
        if (dir) fs.rmSync(dir, { recursive: true, force: true });
    });

    it("exits when its probe loop dies (the credentials file gone for 2 s), so a restart brings /healthz back to 200", async () => {
        dir = fs.mkdtempSync(path.join(os.tmpdir(), "healthz-restart-"));
        const login = `Basic ${Buffer.from(`${HEALTH_USER}:${password}`).toString("base64")}`;
        orthanc = http.createServer((req, res) => res.writeHead(req.headers.authorization === login ? 200 : 401).end("{}"));
        await new Promise<void>((r) => orthanc.listen(0, "127.0.0.1", r));
        const free = http.createServer();
        await new Promise<void>((r) => free.listen(0, "127.0.0.1", r));
        const port = (free.address() as AddressInfo).port;
        await new Promise<void>((r) => free.close(() => r()));
        const script = path.join(dir, "healthz.py");
        const auth = path.join(dir, "auth");
        fs.writeFileSync(script, renderHealthChecker());
        fs.writeFileSync(auth, `${HEALTH_USER}:${password}\n`, { mode: 0o600 });
        supervisor = new Supervisor([script, ...healthCheckerArgs({ listen: `127.0.0.1:${port}`, orthancUrl: `http://127.0.0.1:${(orthanc.address() as AddressInfo).port}`, credentialsFile: auth })]);
        supervisor.start();
        expect(await until(port, 200, 8000), "200 at first").to.not.equal(undefined);

        fs.renameSync(auth, `${auth}.away`);
        await new Promise((r) => setTimeout(r, 2000));
        fs.renameSync(`${auth}.away`, auth);
        const back = await until(port, 200, 10000);

        expect(supervisor.exits.length, "the process exited while its input was gone").to.be.at.least(1);
        expect(supervisor.exits.every((code) => code === PROBE_LOOP_DIED_EXIT_CODE), `exit statuses ${supervisor.exits.join(", ")}`).to.equal(true);
        expect(back, "/healthz 200 again within 10 s of the file's return").to.not.equal(undefined);
    });
});

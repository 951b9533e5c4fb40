// A throw-away PostgreSQL cluster for specs, the way the twin starts its RDS stand-in (twin/pair.ts): Debian's
// server run as the postgres user on a directory of its own, TLS on (RDS with rds.force_ssl; the start script's psql
// says sslmode=require), password logins over TCP on 127.0.0.1, the superuser only over the unix socket.
import { spawn, spawnSync } from "child_process";
import * as fs from "fs";
import * as net from "net";
import * as os from "os";
import * as path from "path";
import { makeSelfSignedCertificate } from "./localTools";

function freePort(): Promise<number> {
    return new Promise((resolve, reject) => {
        const server = net.createServer();
        server.on("error", reject);
        server.listen(0, "127.0.0.1", () => {
            const port = (server.address() as net.AddressInfo).port;
            server.close(() => resolve(port));
        });
    });
}

export class ScratchPostgres {
    readonly dir: string;
    readonly socketDir: string;
    port = 0;
    private readonly data: string;

    /** `netns`: a network namespace (ip netns) the server listens in and every client here runs in. */
    constructor(readonly bin: string, label: string, readonly netns?: string) {
        this.dir = fs.mkdtempSync(path.join(os.tmpdir(), `orthweb-${label}-`));
        this.socketDir = path.join(this.dir, "sock");
        this.data = path.join(this.dir, "data");
    }

    /** [command, args] run in the cluster's network namespace, if it has one. */
    inNetns(command: string, args: string[]): [string, string[]] {
        return this.netns ? ["ip", ["netns", "exec", this.netns, command, ...args]] : [command, args];
    }

    private asPostgres(command: string, args: string[]): void {
        const r = spawnSync("setpriv", ["--reuid=postgres", "--regid=postgres", "--init-groups", command, ...args], { encoding: "utf8", timeout: 60000 });
        if (r.status !== 0) throw new Error(`${path.basename(command)} failed: ${r.stderr}${r.stdout}`);
    }

    /** initdb, TLS material, then the server; resolves once it accepts connections. */
    async start(): Promise<void> {
        // A free port of its own: several specs (and engineers) may run clusters at once.
        this.port = this.netns ? 5432 : await freePort();
        fs.mkdirSync(this.socketDir, { mode: 0o700 });
        fs.chmodSync(this.dir, 0o755);
        spawnSync("chown", ["-R", "postgres:postgres", this.dir]);
        this.asPostgres(`${this.bin}/initdb`, ["-D", this.data, "-U", "postgres", "--auth=trust", "-E", "UTF8"]);
        const tls = makeSelfSignedCertificate(this.dir, "scratch-postgres", "IP:127.0.0.1");
        fs.writeFileSync(path.join(this.data, "server.crt"), tls.cert);
        fs.writeFileSync(path.join(this.data, "server.key"), tls.key, { mode: 0o600 });
        spawnSync("chown", ["postgres:postgres", path.join(this.data, "server.crt"), path.join(this.data, "server.key")]);
        fs.appendFileSync(
            path.join(this.data, "postgresql.conf"),
            ["listen_addresses = '127.0.0.1'", `port = ${this.port}`, `unix_socket_directories = '${this.socketDir}'`, "ssl = on", "max_connections = 20", "fsync = off", ""].join("\n"),
        );
        fs.writeFileSync(path.join(this.data, "pg_hba.conf"), ["local all postgres trust", "hostssl all all 127.0.0.1/32 scram-sha-256", ""].join("\n"));
        const [command, args] = this.inNetns("setpriv", ["--reuid=postgres", "--regid=postgres", "--init-groups", `${this.bin}/pg_ctl`, "-D", this.data, "-l", path.join(this.dir, "log"), "-w", "start"]);
        const server = spawn(command, args, { stdio: "ignore" });
        await new Promise<void>((resolve, reject) => server.on("exit", (code) => (code === 0 ? resolve() : reject(new Error(`pg_ctl start: ${code}: ${this.log()}`)))));
    }

    log(): string {
        const file = path.join(this.dir, "log");
        return fs.existsSync(file) ? fs.readFileSync(file, "utf8") : "";
    }

    /** Runs SQL as the superuser over the unix socket in `database`; returns the unaligned, tuples-only output. */
    superuser(sql: string, database = "postgres"): string {
        return this.psqlRaw(["-h", this.socketDir, "-U", "postgres", "-d", database], sql, {});
    }

    /** Runs SQL as `user` with `password` over TLS on 127.0.0.1 (the way an instance reaches RDS). */
    as(user: string, password: string, database: string, sql: string): string {
        return this.psqlRaw(["-h", "127.0.0.1", "-U", user, "-d", database], sql, { PGPASSWORD: password, PGSSLMODE: "require" });
    }

    private psqlRaw(args: string[], sql: string, env: Record<string, string>): string {
        const [command, all] = this.inNetns(`${this.bin}/psql`, [...args, "-p", String(this.port), "--no-psqlrc", "-X", "-q", "-At", "-v", "ON_ERROR_STOP=1", "-f", "-"]);
        const r = spawnSync(command, all, {
            input: sql,
            encoding: "utf8",
            env: { ...process.env, ...env },
            timeout: 30000,
        });
        if (r.status !== 0) throw new Error(`psql as ${args[3]}: ${r.stderr}`);
        return r.stdout;
    }

    stop(): void {
        if (fs.existsSync(path.join(this.data, "postmaster.pid"))) {
            const [command, args] = this.inNetns("setpriv", ["--reuid=postgres", "--regid=postgres", "--init-groups", `${this.bin}/pg_ctl`, "-D", this.data, "-m", "immediate", "-w", "stop"]);
            spawnSync(command, args, { stdio: "ignore", timeout: 30000 });
        }
        fs.rmSync(this.dir, { recursive: true, force: true });
    }
}

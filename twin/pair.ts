// The twin's Orthanc pair, set up fresh for each scenario: PostgreSQL (the RDS stand-in), two Orthancs with the
// program's rendered orthanc.json behind nginx with its rendered nginx.conf (both out of the plan's config bundle,
// re-pointed at the twin's files by checked substitutions, twin/repoint.ts), each in a namespace of its own, and
// HAProxy in front with the program's target groups. Scenarios (twin/scenarios/) get a TwinPair and break it.
import { spawnSync } from "child_process";
import { randomBytes } from "crypto";
import * as fs from "fs";
import * as net from "net";
import * as path from "path";
import { DATABASE_APP_PASSWORD_ENV, DATABASE_APP_USER, DATABASE_CHECK_VARIABLE, DATABASE_NAME, DATABASE_USER, TIMEOUTS_ONLY_URI } from "../rules/database";
import { PEER_MAP_FILE } from "../rules/instanceFiles";
import { ADMIN_USER, HEALTH_USER } from "../rules/logins";
import { DATABASE_PORT, DICOM_PORT, HEALTH_CHECKER_PORT, ORTHANC_HTTP_PORT, WEB_PORT } from "../rules/ports";
import { DicomClient, DicomClientOptions, now, ServerState, StatsWatcher, WebPoller, waitFor } from "./clients";
import { DEBIAN_STREAM_MODULE, debianNginxConf, debianOrthancConfig, INERT_ON_DEBIAN, secretsFilter } from "./debian";
import { CREATE_TRIGRAM_EXTENSION, DROP_FIRST_RELEASE_OBJECTS, FIRST_RELEASE_ALL_OWNED, FIRST_RELEASE_OBJECTS, FIRST_RELEASE_OWNED, notOwnedBySql, USE_FIRST_RELEASE_OBJECTS } from "./databaseChecks";
import { BootstrapFromProgram, ProgramInputs } from "./fromProgram";
import { boundingSet, composeCommand, withCapabilitiesOf } from "./capabilities";
import { describeSubstitutions, nginxSubstitutions, substitute, Substitution, withFlagValues } from "./repoint";
import { imageEnvsubst } from "./orthancImage";
import { issueModalityCertificates, issuePeerCertificates, IssuedFiles, ModalityCertificateFiles } from "./senders";
import { renderHaproxyConfig } from "./haproxy";
import { AddressPlan, inNs, Lab, must, run } from "./lab";
import { modeledFailoverSeconds, TargetGroupSpec } from "./targetGroups";

/** A failure the twin explains in one sentence (no stack trace). */
export class TwinFailure extends Error {}

export const STATS_PORT = 8404;

export type Instance = AddressPlan["instances"][number];

let t0 = now();
/** Restarts the clock of `say` (each scenario's log starts at 0 s). */
export function resetClock(): void {
    t0 = now();
}
export const elapsed = (): string => `${((now() - t0) / 1000).toFixed(1).padStart(5)}s`;
export const say = (msg: string): void => void process.stdout.write(`[${elapsed()}] ${msg}\n`);

export const secret = (): string => randomBytes(18).toString("base64url");

export interface Files {
    readonly dir: string;
    readonly logs: string;
    readonly cert: string;
    readonly key: string;
    /** curl -K file with the Orthanc admin login. */
    readonly curlAuth: string;
}

export function postgresBin(): string {
    const root = "/usr/lib/postgresql";
    const versions = fs.existsSync(root) ? fs.readdirSync(root).filter((v) => /^\d+$/.test(v)).sort((a, b) => Number(b) - Number(a)) : [];
    if (versions.length === 0) throw new TwinFailure("no PostgreSQL server under /usr/lib/postgresql (package postgresql)");
    return `${root}/${versions[0]}/bin`;
}

export async function makeCertificate(dir: string, plan: AddressPlan): Promise<{ cert: string; key: string }> {
    const cert = path.join(dir, "tls", "server.crt");
    const key = path.join(dir, "tls", "server.key");
    fs.mkdirSync(path.dirname(cert), { mode: 0o700 });
    const sans = ["DNS:orthweb-twin.invalid", `IP:${plan.frontDoor}`, ...plan.instances.map((i) => `IP:${i.address}`)].join(",");
    await must("openssl", ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", cert, "-days", "1", "-subj", "/CN=orthweb-twin.invalid/O=Orthweb twin", "-addext", `subjectAltName=${sans}`, "-addext", "extendedKeyUsage=serverAuth"]);
    fs.chmodSync(key, 0o600);
    return { cert, key };
}

export async function httpCodeIn(ns: string, args: string[]): Promise<string> {
    const [cmd, a] = inNs(ns, "curl", ["-s", "-o", "/dev/null", "-w", "%{http_code}", "--max-time", "3", ...args]);
    return (await run(cmd, a, { timeoutMs: 5000 })).stdout.trim();
}

export const states = (list: readonly ServerState[]): string => list.map((s) => `${s.backend}/${s.server} ${s.status} (check ${s.checkStatus})`).join(", ") || "no state read";

export function describeTargetGroup(tg: TargetGroupSpec): string {
    const hc = tg.healthCheck;
    const port = hc.port === "traffic-port" ? `traffic port ${tg.port}` : `port ${hc.port}`;
    return (
        `${tg.name}: ${tg.protocol} ${tg.port}; check ${hc.protocol} ${hc.path ?? ""} on ${port} every ${hc.intervalSeconds}s, ` +
        `healthy after ${hc.healthyThreshold}, unhealthy after ${hc.unhealthyThreshold}, timeout ${hc.timeoutSeconds}s (${hc.timeoutFrom})` +
        `${hc.path ? `, codes ${hc.matcher}` : ""}; modeled failover ${modeledFailoverSeconds(tg)}s`
    );
}

/** nginx -t; nginx opens /dev/stdout for its access log, which must then be a file, not node's pipe. */
function nginxTest(ns: string, file: string, files: Files): void {
    const out = fs.openSync(path.join(files.logs, "nginx-t.log"), "a");
    try {
        // In the instance's namespace: nginx -t binds the listen addresses.
        const [cmd, args] = inNs(ns, "nginx", ["-t", "-q", "-p", path.dirname(file), "-e", "stderr", "-c", file]);
        const r = spawnSync(cmd, args, { stdio: ["ignore", out, "pipe"], encoding: "utf8", timeout: 10000 });
        if (r.status !== 0) throw new TwinFailure(`nginx -t rejects ${file}: ${r.stderr}`);
    } finally {
        fs.closeSync(out);
    }
}

/** The rendered nginx.conf asks DICOM senders for a client certificate. */
export function requiresClientCertificates(nginxConf: string): boolean {
    // In the DICOM listener's own server block: the peer-only listeners verify the peer link's certificates, always.
    const at = nginxConf.search(new RegExp(`listen \\S*\\b${DICOM_PORT} ssl;`));
    return at >= 0 && /^\s*ssl_verify_client on;/m.test(nginxConf.slice(at, nginxConf.indexOf("}", at)));
}

/** The modality names of a rendered orthanc.json (DicomModalities' keys). */
export function modalityNames(orthancTemplate: Record<string, unknown>): string[] {
    // A modality's further AE titles are entries of their own, `<name>_2` and on (a name holds no `_`).
    return Object.keys((orthancTemplate.DicomModalities ?? {}) as Record<string, unknown>).filter((key) => !key.includes("_"));
}

/** A running pair behind HAProxy, and what scenarios do to it. */
export class TwinPair {
    readonly plan: AddressPlan;
    /** The pair's orthanc.json and nginx.conf files, by instance index. */
    readonly orthancConfigs: string[] = [];
    readonly nginxConfigs: { file: string; conf: string }[] = [];
    readonly targetGroups: TargetGroupSpec[];
    readonly dicomTargetGroup: TargetGroupSpec;
    readonly webTargetGroup?: TargetGroupSpec;
    readonly watcher: StatsWatcher;
    /** The modalities' CA and client certificates, issued from the program's plan when its nginx.conf asks for them. */
    modalityCertificates?: ModalityCertificateFiles;
    /** The peer link's CA and certificate (mutual TLS between the two nginx), issued from the program's plan. */
    peerCertificates?: { ca: IssuedFiles; instance: IssuedFiles };
    private readonly bin = postgresBin();

    constructor(
        readonly lab: Lab,
        readonly program: ProgramInputs,
        readonly files: Files,
        /** database: the RDS master stand-in's (it may rotate); databaseApp: Orthanc's own login's. */
        readonly passwords: { readonly admin: string; database: string; readonly databaseApp: string; readonly superuser: string },
    ) {
        this.plan = lab.plan;
        this.targetGroups = program.targetGroups;
        const dicom = this.targetGroups.find((t) => t.port === DICOM_PORT);
        if (!dicom) throw new TwinFailure(`no target group on the DICOM port ${DICOM_PORT} (target groups: ${this.targetGroups.map((t) => `${t.name} ${t.port}`).join(", ")}): nothing to send C-STOREs through`);
        this.dicomTargetGroup = dicom;
        this.webTargetGroup = this.targetGroups.find((t) => t.port === WEB_PORT);
        this.watcher = new StatsWatcher(`http://${this.plan.frontDoor}:${STATS_PORT}/stats;csv`);
    }

    /** The called AE title the program renders. */
    get aet(): string {
        return String(this.program.bootstrap.orthancTemplate.DicomAet);
    }

    /** Network, PostgreSQL, both Orthancs behind nginx, HAProxy; returns once every target passed its first check. */
    async setUp(): Promise<void> {
        const { plan, program, files } = this;
        const [first, second] = plan.instances;
        const setupStart = now();
        await this.lab.createNetwork();
        say(`network: namespaces ${[plan.namespaces.db, plan.namespaces.lb, ...plan.namespaces.instances].join(", ")}; front door ${plan.frontDoor}, ` +
            plan.instances.map((i) => `${i.name} ${i.address} (database via ${i.databaseAddress})`).join(", "));

        await this.startPostgres();
        say(`PostgreSQL (RDS stand-in): TLS-only (hostssl) on ${plan.instances.map((i) => i.databaseAddress).join(", ")}:${DATABASE_PORT}, database ${DATABASE_NAME}`);
        await this.psqlAs(0, DATABASE_USER, this.passwords.database, FIRST_RELEASE_OBJECTS);
        await this.runDatabaseSetup(0);
        say(`database setup: the program's database-setup.sql as the master ${DATABASE_USER} (not a superuser, CREATEROLE like RDS's) over TLS: Orthanc logs in as ${DATABASE_APP_USER}`);
        await this.checkDatabase();
        say(`database checks as ${DATABASE_APP_USER}: "${CREATE_TRIGRAM_EXTENSION}" is a no-op; it owns every object in public and every large object, ` +
            "also a first release's (tables, sequences, a function, types, a view, a large object, made by the master) and may use and drop them; the setup run again changes nothing; the start script's check passes");

        const deviations = [];
        for (const instance of plan.instances) {
            const written = await this.writeOrthancConfig(instance);
            this.orthancConfigs.push(written.file);
            deviations.push(written.deviations);
        }
        say("orthanc.json: the program's rendered template (config bundle), secrets filled with the jq filter read out of the program's start.sh, then the orthancteam image's envsubst rule; deviations for Debian's Orthanc 1.10.1:");
        for (const d of deviations[0]) say(`  ${d.path}: ${JSON.stringify(d.from)} -> ${JSON.stringify(d.to)}  (${d.why})`);
        for (const d of deviations[1].filter((d) => d.path === ".PostgreSQL.Host")) say(`  ${d.path} (${second.name}): ${JSON.stringify(d.to)}`);
        for (const note of INERT_ON_DEBIAN) say(`  ${note}`);

        if (requiresClientCertificates(program.bootstrap.nginxConf)) {
            const names = modalityNames(program.bootstrap.orthancTemplate);
            this.modalityCertificates = await issueModalityCertificates(path.join(files.dir, "modalities"), names);
            say(`modalities' certificates from the program's plan (openssl): CA and ${names.join(", ")}`);
        }
        this.peerCertificates = await issuePeerCertificates(path.join(files.dir, "peer-link"));
        say("peer link: its CA and the instances' certificate from the program's plan (openssl): the relay verifies the peer, the peer-only ports require the certificate");
        const written = plan.instances.map((instance) => this.writeNginxConfig(instance, program.bootstrap));
        this.nginxConfigs.push(...written.map(({ file, conf }) => ({ file, conf })));
        say(`nginx.conf: the program's (config bundle), re-pointed by checked substitutions (${first.name}'s; ${second.name}'s alike with its own files and address):`);
        for (const line of describeSubstitutions(written[0].substitutions)) say(`  ${line}`);
        say(`  + load_module ${DEBIAN_STREAM_MODULE}; first: Debian builds nginx's stream module separately (libnginx-mod-stream), the pinned image has it built in`);
        plan.instances.forEach((instance, i) => this.writePeerMap(instance, plan.instances[1 - i]));
        say(`peer fallback: each instance's ${PEER_MAP_FILE} names the other's address on the instance link (${plan.instances.map((i) => `${i.name} ${i.peerAddress}`).join(", ")}), ` +
            "written by the twin where peer.sh writes what the EC2 API answers");
        this.nginxConfigs.forEach((n, i) => nginxTest(plan.instances[i].ns, n.file, files));

        // Each process gets only the capabilities compose gives its container; binding 443 as root without
        // NET_BIND_SERVICE then needs what Docker sets in every container's network namespace.
        for (const instance of plan.instances) await must("ip", ["netns", "exec", instance.ns, "sysctl", "-qw", "net.ipv4.ip_unprivileged_port_start=0"]);
        say(`capabilities as compose gives them (setpriv): ${["orthanc", "healthz", "nginx"].map((s) => `${s} ${boundingSet(program.bootstrap.compose, s) ?? "Docker's default set"}`).join(", ")}; ` +
            "ip_unprivileged_port_start=0 in the instance namespaces, as Docker sets it in a container's");

        // The first Orthanc creates the schema; the second joins it (both with Lock false).
        for (const index of plan.instances.keys()) {
            this.startOrthanc(index);
            if (!(await waitFor(() => this.orthancReady(index), 40000, 300))) throw new TwinFailure(`${plan.instances[index].name} did not answer /system (logs: ${files.logs}/${plan.instances[index].name}.log)`);
        }
        for (const index of plan.instances.keys()) this.startHealthChecker(index);
        say(`healthz.py: the program's, run with the command compose gives it, re-pointed (${first.name}'s):`);
        for (const line of describeSubstitutions(this.healthCheckerCommand(0).substitutions)) say(`  ${line}`);
        for (const index of plan.instances.keys()) this.startNginx(index);
        for (const index of plan.instances.keys()) {
            if (!(await waitFor(() => this.nginxReady(index), 15000, 200))) throw new TwinFailure(`nginx of ${plan.instances[index].name} did not answer /healthz (logs: ${files.logs}/nginx-${plan.instances[index].name}.log)`);
        }
        say(`Orthanc x2 (shared index and storage in PostgreSQL) behind nginx: /healthz 200 on ${plan.instances.map((i) => i.address).join(", ")}`);

        await this.startHaproxy();
        say(`HAProxy (NLB stand-in), target groups from ${program.source}:`);
        for (const tg of this.targetGroups) say(`  ${describeTargetGroup(tg)}`);
        say(`every target passed its first health check; setup took ${((now() - setupStart) / 1000).toFixed(1)}s`);
    }

    private async startPostgres(): Promise<void> {
        const { plan, files, bin } = this;
        const pgDir = path.join(files.dir, "pg");
        const data = path.join(pgDir, "data");
        const sock = this.postgresSocket;
        fs.mkdirSync(sock, { recursive: true, mode: 0o700 });
        fs.writeFileSync(path.join(pgDir, "pw"), this.passwords.superuser, { mode: 0o600 });
        await must("chown", ["-R", "postgres:postgres", pgDir]);
        await must("setpriv", ["--reuid=postgres", "--regid=postgres", "--init-groups", `${bin}/initdb`, "-D", data, "-U", "postgres", "--auth=scram-sha-256", `--pwfile=${pgDir}/pw`, "-E", "UTF8"], { timeoutMs: 60000 });
        fs.copyFileSync(files.cert, path.join(data, "server.crt"));
        fs.copyFileSync(files.key, path.join(data, "server.key"));
        await must("chown", ["postgres:postgres", path.join(data, "server.crt"), path.join(data, "server.key")]);
        fs.chmodSync(path.join(data, "server.key"), 0o600);
        const listen = plan.instances.map((i) => i.databaseAddress).join(",");
        fs.appendFileSync(
            path.join(data, "postgresql.conf"),
            [`listen_addresses = '${listen}'`, `port = ${DATABASE_PORT}`, `unix_socket_directories = '${sock}'`, "ssl = on", "max_connections = 60", "logging_collector = off", ""].join("\n"),
        );
        // TLS only from the instances' subnets, like RDS with rds.force_ssl: the rendered EnableSsl must hold.
        // samenet: the database namespace's only subnets are its links to the two instances.
        const hba = ["local all postgres scram-sha-256", `hostssl ${DATABASE_NAME} all samenet scram-sha-256`, ""];
        fs.writeFileSync(path.join(data, "pg_hba.conf"), hba.join("\n"));
        this.startPostgresProcess();
        const ready = await waitFor(async () => (await run(`${bin}/pg_isready`, ["-h", sock, "-p", String(DATABASE_PORT)], { timeoutMs: 3000 })).code === 0, 20000);
        if (!ready) throw new TwinFailure(`PostgreSQL did not start (logs: ${files.logs}/postgres.log)`);
        // The RDS master stand-in: no superuser, CREATEROLE (RDS's master has it), owner of the database.
        await this.psql(`CREATE ROLE ${DATABASE_USER} LOGIN CREATEROLE PASSWORD :'pw';\nCREATE DATABASE ${DATABASE_NAME} OWNER ${DATABASE_USER};\n`, { pw: this.passwords.database });
    }

    /**
     * psql from an instance's namespace to the database as the start script's psql_as runs it: login from the
     * environment (and `env`), TLS required, the program's connection timeouts.
     */
    private psqlFrom(index: number, user: string, password: string, args: string[], input = "", env: Record<string, string> = {}) {
        const instance = this.plan.instances[index];
        const login = { ...process.env, PGHOST: instance.databaseAddress, PGPORT: String(DATABASE_PORT), PGDATABASE: DATABASE_NAME, PGUSER: user, PGPASSWORD: password, PGSSLMODE: "require", ...env };
        const [cmd, a] = inNs(instance.ns, `${this.bin}/psql`, ["--no-psqlrc", "--quiet", "-v", "ON_ERROR_STOP=1", `--dbname=${TIMEOUTS_ONLY_URI}`, ...args]);
        return run(cmd, a, { input, env: login, timeoutMs: 30000 });
    }

    /** Runs SQL as `user` from an instance's namespace; resolves to psql's unaligned, tuples-only output. */
    private async psqlAs(index: number, user: string, password: string, sql: string): Promise<string> {
        const r = await this.psqlFrom(index, user, password, ["-At", "-f", "-"], sql);
        if (r.code !== 0) throw new TwinFailure(`psql as ${user} failed: ${r.stderr.trim()}`);
        return r.stdout.trim();
    }

    /**
     * What the pinned plugin (10.0) needs of the database, which Debian's plugin 4.0 does not ask: as Orthanc's login,
     * its `CREATE EXTENSION IF NOT EXISTS pg_trgm` is a no-op, and it owns every object in the schema, also what the
     * master made the way the first release did (created before the setup); it may use and drop them; a second run
     * of the setup leaves all of that as it is.
     */
    private async checkDatabase(): Promise<void> {
        const app = (sql: string) => this.psqlAs(0, DATABASE_APP_USER, this.passwords.databaseApp, sql);
        await app(CREATE_TRIGRAM_EXTENSION);
        const owned = await app(FIRST_RELEASE_OWNED);
        if (owned !== FIRST_RELEASE_ALL_OWNED) throw new TwinFailure(`the setup left some of the first release's objects to the master (${DATABASE_APP_USER} owns "${owned}" of "${FIRST_RELEASE_ALL_OWNED}")`);
        await app(USE_FIRST_RELEASE_OBJECTS);
        await this.runDatabaseSetup(0);
        const left = await app(notOwnedBySql(DATABASE_APP_USER));
        if (left) throw new TwinFailure(`objects in the schema not owned by ${DATABASE_APP_USER}: ${left.split("\n").join(", ")}`);
        await app(DROP_FIRST_RELEASE_OBJECTS);
        // The start script's own check on its next run, as Orthanc's login: it must pass, so the master stays unused.
        const check = await this.psqlFrom(0, DATABASE_APP_USER, this.passwords.databaseApp, ["-v", `${DATABASE_CHECK_VARIABLE}=1`, "-f", "-"], this.program.bootstrap.databaseSetupSql);
        if (check.code !== 0) throw new TwinFailure(`the start script's database check fails as ${DATABASE_APP_USER} after the setup: ${check.stderr.trim()}`);
    }

    /** The start script's first check: does Orthanc's own login work as it is (then the master is not used)? */
    async appLoginWorks(index: number): Promise<boolean> {
        return (await this.psqlFrom(index, DATABASE_APP_USER, this.passwords.databaseApp, ["--command", "SELECT 1"])).code === 0;
    }

    /**
     * The start script's setup_database when its check as Orthanc's login fails: the program's database-setup.sql as
     * the master login, from an instance's namespace, with the app password in psql's environment (never its argv).
     */
    async runDatabaseSetup(index: number): Promise<void> {
        const args = ["--single-transaction", "-v", `app_user=${DATABASE_APP_USER}`, "-f", "-"];
        const r = await this.psqlFrom(index, DATABASE_USER, this.passwords.database, args, this.program.bootstrap.databaseSetupSql, { [DATABASE_APP_PASSWORD_ENV]: this.passwords.databaseApp });
        if (r.code !== 0) throw new TwinFailure(`database-setup.sql as ${DATABASE_USER} failed from ${this.plan.instances[index].name}: ${r.stderr.trim()}`);
    }

    /** The database's unix socket directory (superuser access for scenarios). */
    get postgresSocket(): string {
        return path.join(this.files.dir, "pg", "sock");
    }

    /** (Re)starts PostgreSQL on its existing data directory. */
    startPostgresProcess(): void {
        const data = path.join(this.files.dir, "pg", "data");
        this.lab.start("postgres", this.plan.namespaces.db, "setpriv", ["--reuid=postgres", "--regid=postgres", "--init-groups", `${this.bin}/postgres`, "-D", data], "SIGINT");
    }

    /** Runs SQL as the superuser over the unix socket; `vars` become psql variables (:'name'). */
    async psql(sql: string, vars: Record<string, string> = {}): Promise<string> {
        const env = { ...process.env, PGPASSWORD: this.passwords.superuser };
        const v = Object.entries(vars).flatMap(([k, val]) => ["-v", `${k}=${val}`]);
        return must(`${this.bin}/psql`, ["-h", this.postgresSocket, "-p", String(DATABASE_PORT), "-U", "postgres", "-d", "postgres", "-v", "ON_ERROR_STOP=1", ...v, "-q", "-f", "-"], { input: sql, env });
    }

    private async writeOrthancConfig(instance: Instance, orthancTemplate: Record<string, unknown> = this.program.bootstrap.orthancTemplate) {
        const dir = path.join(this.files.dir, instance.name);
        fs.mkdirSync(path.join(dir, "storage"), { recursive: true, mode: 0o700 });
        const { config, deviations } = debianOrthancConfig(orthancTemplate, {
            databaseHost: instance.databaseAddress,
            databasePort: DATABASE_PORT,
            storageDirectory: path.join(dir, "storage"),
        });
        const template = path.join(dir, "orthanc.template.json");
        fs.writeFileSync(template, JSON.stringify(config, null, 2) + "\n", { mode: 0o600 });
        // The secrets go in exactly as the start script puts them: jq, same paths, same filter; then what the
        // orthancteam image's entrypoint does to the file (envsubst), which Debian's Orthanc does not do itself.
        const health = secret();
        const filled = await must("jq", ["--arg", "user", DATABASE_APP_USER, "--arg", "password", this.passwords.databaseApp, "--arg", "admin", this.passwords.admin, "--arg", "health", health, secretsFilter(this.program.bootstrap.startScript), template]);
        const file = path.join(dir, "orthanc.json");
        fs.writeFileSync(file, imageEnvsubst(filled, process.env), { mode: 0o600 });
        fs.writeFileSync(path.join(dir, "healthz.auth"), `${HEALTH_USER}:${health}`, { mode: 0o600 });
        return { file, deviations };
    }

    private writeNginxConfig(instance: Instance, bootstrap: BootstrapFromProgram): { file: string; conf: string; substitutions: Substitution[] } {
        const { files } = this;
        const dir = path.join(files.dir, instance.name);
        let dicomClientCaPath: string | undefined;
        if (requiresClientCertificates(bootstrap.nginxConf)) {
            if (!this.modalityCertificates) throw new TwinFailure("the program's nginx.conf asks for client certificates, but the twin issued none");
            dicomClientCaPath = this.modalityCertificates.ca.cert;
        }
        // The program's sender gate script, as the instance gets it, where this nginx.conf imports it.
        let dicomSenderGatePath: string | undefined;
        if (bootstrap.dicomSenderGate !== undefined) {
            dicomSenderGatePath = path.join(dir, "dicom-senders.js");
            fs.writeFileSync(dicomSenderGatePath, bootstrap.dicomSenderGate);
        }
        // 443 and 11112 on every address, as on the instance (a slot's address may be added to it later); the peer-only
        // listeners on the instance link only.
        const substitutions = nginxSubstitutions({
            certificatePath: files.cert,
            keyPath: files.key,
            pidPath: path.join(dir, "nginx.pid"),
            peerListenAddress: instance.peerAddress,
            peerMapGlob: path.join(dir, "peer", "*.map"),
            dicomClientCaPath,
            dicomSenderGatePath,
            peerTls: this.peerLinkFiles(),
        });
        const conf = debianNginxConf(substitute("nginx.conf", bootstrap.nginxConf, substitutions));
        const file = path.join(dir, "nginx.conf");
        fs.writeFileSync(file, conf);
        return { file, conf, substitutions };
    }

    private peerLinkFiles() {
        if (!this.peerCertificates) throw new TwinFailure("the twin has not issued the peer link's certificates");
        const { ca, instance } = this.peerCertificates;
        return { certificatePath: instance.cert, keyPath: instance.key, caPath: ca.cert };
    }

    /** Rewrites each instance's nginx.conf from another rendering of the program and reloads nginx (SIGHUP). */
    useNginxFrom(bootstrap: BootstrapFromProgram): void {
        this.plan.instances.forEach((instance, index) => {
            const { file, conf } = this.writeNginxConfig(instance, bootstrap);
            nginxTest(instance.ns, file, this.files);
            this.nginxConfigs[index] = { file, conf };
            this.lab.signal(`nginx-${instance.name}`, "SIGHUP");
        });
    }

    /** What peer.sh writes on an instance: the peer's address (none: empty), in the map nginx includes. */
    writePeerMap(instance: Instance, peer: Instance | undefined): void {
        const dir = path.join(this.files.dir, instance.name, "peer");
        fs.mkdirSync(dir, { recursive: true });
        fs.writeFileSync(path.join(dir, PEER_MAP_FILE), peer ? `peer ${peer.peerAddress};\n` : "\n");
    }

    /** Reloads an instance's nginx (peer.sh sends the container's nginx a HUP; the same). */
    async reloadNginx(index: number): Promise<void> {
        const instance = this.plan.instances[index];
        const [cmd, args] = inNs(instance.ns, "nginx", ["-s", "reload", "-p", path.join(this.files.dir, instance.name), "-e", "stderr", "-c", this.nginxConfigs[index].file]);
        await must(cmd, args, { timeoutMs: 10000 });
        // The old workers finish their connections; new ones read the new map.
        await new Promise((r) => setTimeout(r, 1000));
    }

    private async startHaproxy(): Promise<void> {
        const { plan, files } = this;
        const haproxyCfg = path.join(files.dir, "haproxy.cfg");
        const tlsListenerPem = path.join(files.dir, "tls", "listener.pem");
        fs.writeFileSync(tlsListenerPem, fs.readFileSync(files.cert, "utf8") + fs.readFileSync(files.key, "utf8"), { mode: 0o600 });
        fs.writeFileSync(
            haproxyCfg,
            renderHaproxyConfig({
                frontDoorAddress: plan.frontDoor,
                targets: plan.instances.map((i) => ({ name: i.name, address: i.address })),
                targetGroups: this.targetGroups,
                stats: { address: plan.frontDoor, port: STATS_PORT },
                tlsListenerPemPath: tlsListenerPem,
                adminSocketPath: this.haproxySocket,
            }),
        );
        await must("haproxy", ["-c", "-q", "-f", haproxyCfg]);
        this.lab.start("haproxy", plan.namespaces.lb, "haproxy", ["-db", "-f", haproxyCfg]);
        const tgs = this.targetGroups;
        const allChecked = () => this.watcher.latest.length === tgs.length * plan.instances.length && this.watcher.latest.every((s) => s.status === "UP" && /^L[467]OK$/.test(s.checkStatus));
        const maxInterval = Math.max(...tgs.map((t) => t.healthCheck.intervalSeconds));
        if (!(await waitFor(async () => (await this.watcher.poll(), allChecked()), (maxInterval + 10) * 1000, 250))) {
            throw new TwinFailure(`HAProxy did not see every target pass its health check: ${states(this.watcher.latest)}`);
        }
    }

    startOrthanc(index: number): void {
        const instance = this.plan.instances[index];
        this.lab.start(instance.name, instance.ns, ...withCapabilitiesOf(this.program.bootstrap.compose, "orthanc", "Orthanc", [this.orthancConfigs[index]]));
    }

    /**
     * The health checker's command line as compose gives it (entrypoint and command), re-pointed at this instance's
     * copy of the program's healthz.py, its credentials file and loopback.
     */
    healthCheckerCommand(index: number): { command: string[]; substitutions: Substitution[] } {
        const dir = path.join(this.files.dir, this.plan.instances[index].name);
        const { entrypoint, command } = composeCommand(this.program.bootstrap.compose, "healthz");
        const inNamespace = "the checker and Orthanc run as processes in the instance's namespace, on loopback, not in compose containers";
        return withFlagValues("docker-compose.yml, service healthz", [...entrypoint, ...command], {
            python3: { to: path.join(dir, "healthz.py"), why: "the program's healthz.py (config bundle), written to the twin instance's directory (compose mounts it on an instance)" },
            "--listen": { to: `127.0.0.1:${HEALTH_CHECKER_PORT}`, why: inNamespace },
            "--orthanc": { to: `http://127.0.0.1:${ORTHANC_HTTP_PORT}`, why: inNamespace },
            "--credentials": { to: path.join(dir, "healthz.auth"), why: "written by the twin as the start script writes run/healthz.auth (compose mounts it on an instance)" },
        });
    }

    /** The program's health checker (healthz.py from the config bundle) with the command compose gives it. */
    startHealthChecker(index: number): void {
        const instance = this.plan.instances[index];
        fs.writeFileSync(path.join(this.files.dir, instance.name, "healthz.py"), this.program.bootstrap.healthChecker);
        const [cmd, ...args] = this.healthCheckerCommand(index).command;
        this.lab.start(`healthz-${instance.name}`, instance.ns, ...withCapabilitiesOf(this.program.bootstrap.compose, "healthz", cmd, args));
    }

    startNginx(index: number): void {
        const instance = this.plan.instances[index];
        const args = ["-p", path.join(this.files.dir, instance.name), "-e", "stderr", "-c", this.nginxConfigs[index].file, "-g", "daemon off;"];
        this.lab.start(`nginx-${instance.name}`, instance.ns, ...withCapabilitiesOf(this.program.bootstrap.compose, "nginx", "nginx", args));
    }

    /** HAProxy's runtime API (the load balancer's control plane in the twin). */
    get haproxySocket(): string {
        return path.join(this.files.dir, "haproxy.sock");
    }

    /** One runtime API command; resolves to HAProxy's answer (empty when it accepted a `set`). */
    haproxyCommand(command: string): Promise<string> {
        return new Promise((resolve, reject) => {
            const socket = net.connect(this.haproxySocket);
            let answer = "";
            socket.setEncoding("utf8");
            socket.setTimeout(5000, () => socket.destroy(new Error(`HAProxy runtime API: no answer to ${command}`)));
            socket.on("connect", () => socket.end(`${command}\n`));
            socket.on("data", (d) => (answer += d));
            socket.on("end", () => resolve(answer.trim()));
            socket.on("error", reject);
        });
    }

    /**
     * Writes an instance's orthanc.json from a new template exactly as at setup (Debian deviations, then the start
     * script's jq filter for the secrets); returns whether its content changed (what the start script restarts on).
     */
    async rewriteOrthancConfig(index: number, template: Record<string, unknown>): Promise<boolean> {
        const file = this.orthancConfigs[index];
        const before = fs.readFileSync(file, "utf8");
        await this.writeOrthancConfig(this.plan.instances[index], template);
        return fs.readFileSync(file, "utf8") !== before;
    }

    /** `docker compose restart orthanc`: SIGTERM, wait for the exit, start again. */
    async restartOrthanc(index: number): Promise<void> {
        const name = this.plan.instances[index].name;
        this.lab.signal(name, "SIGTERM");
        if (!(await this.lab.waitExit(name, 20000))) await this.lab.crash(name);
        this.startOrthanc(index);
    }

    /** Orthanc's own HTTP API answers an authenticated /system, inside the instance. */
    async orthancReady(index: number): Promise<boolean> {
        return (await httpCodeIn(this.plan.instances[index].ns, ["-K", this.files.curlAuth, "http://127.0.0.1:8042/system"])) === "200";
    }

    /** nginx answers /healthz with 200, as the load balancer sees it. */
    async nginxReady(index: number): Promise<boolean> {
        return (await this.healthz(index)) === "200";
    }

    /** The /healthz status code as the load balancer's namespace sees it ("" when nothing answered). */
    healthz(index: number): Promise<string> {
        return httpCodeIn(this.plan.namespaces.lb, ["--cacert", this.files.cert, `https://${this.plan.instances[index].address}/healthz`]);
    }

    /** Starts Orthanc and nginx of an instance again and waits until /healthz answers 200. */
    async restart(index: number): Promise<void> {
        const instance = this.plan.instances[index];
        if (!this.lab.isRunning(instance.name)) this.startOrthanc(index);
        if (!(await waitFor(() => this.orthancReady(index), 40000, 300))) throw new TwinFailure(`${instance.name} did not come back (logs: ${this.files.logs}/${instance.name}.log)`);
        if (!this.lab.isRunning(`healthz-${instance.name}`)) this.startHealthChecker(index);
        if (!this.lab.isRunning(`nginx-${instance.name}`)) this.startNginx(index);
        if (!(await waitFor(() => this.nginxReady(index), 15000, 200))) throw new TwinFailure(`nginx of ${instance.name} did not come back`);
    }

    /** The HAProxy state of an instance in every target group is UP. */
    routedEverywhere(index: number): boolean {
        const name = this.plan.instances[index].name;
        const list = this.watcher.of(name);
        return list.length === this.targetGroups.length && list.every((s) => s.status === "UP");
    }

    /** A C-STORE client through the front door with the twin's usual pacing; options override it. */
    dicomClient(dir: string, options: Partial<DicomClientOptions> = {}): DicomClient {
        fs.mkdirSync(dir, { recursive: true });
        return new DicomClient({
            dir,
            target: { host: this.plan.frontDoor, port: this.dicomTargetGroup.port, calledAet: this.aet, caPath: this.files.cert },
            periodMs: 250,
            maxInFlight: 3,
            maxInstances: 1200,
            maxTries: 25,
            retryDelayMs: 250,
            patientId: `TWIN-${process.pid}`,
            ...options,
        });
    }

    /** HTTPS polling of /healthz and an authenticated /system through the front door (none without a web target group). */
    webPoller(periodMs = 500): WebPoller | undefined {
        if (!this.webTargetGroup) return undefined;
        const authorization = `Basic ${Buffer.from(`${ADMIN_USER}:${this.passwords.admin}`).toString("base64")}`;
        return new WebPoller({ host: this.plan.frontDoor, port: this.webTargetGroup.port, ca: fs.readFileSync(this.files.cert), authorization }, periodMs);
    }

    /** The SOP Instance UIDs in the shared index, as one instance sees it (straight, past the load balancer). */
    async indexedSopUids(index: number): Promise<Set<string>> {
        const instance = this.plan.instances[index];
        const [cmd, args] = inNs(this.plan.namespaces.lb, "curl", ["-s", "--fail", "--max-time", "30", "-K", this.files.curlAuth, "--cacert", this.files.cert, `https://${instance.address}/instances?expand`]);
        const listing = await run(cmd, args, { timeoutMs: 35000 });
        if (listing.code !== 0) throw new TwinFailure(`could not list instances on ${instance.name}: ${listing.stderr.trim()}`);
        return new Set((JSON.parse(listing.stdout) as { MainDicomTags?: { SOPInstanceUID?: string } }[]).map((i) => i.MainDicomTags?.SOPInstanceUID ?? ""));
    }
}

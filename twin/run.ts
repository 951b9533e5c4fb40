// npm run test:twin (root): the local twin. Two real Orthanc servers sharing one PostgreSQL, each behind nginx
// with the program's rendered files, in network namespaces of their own, HAProxy in front with the program's
// target groups, and real DICOM-over-TLS and HTTPS clients while one instance is killed and restarted.
// Last line: `twin: <N> stored, <M> lost, <R> retried, failover gap <G>s (modeled <F>s)`; exit 1 when a check fails.
import { spawnSync } from "child_process";
import { randomBytes } from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { renderNginxConf } from "../components/bootstrap/nginx";
import { ADMIN_USER } from "../components/bootstrap/orthanc";
import { DATABASE_NAME, DATABASE_USER } from "../components/orthancPair";
import { DicomClient, now, routed, runStorescu, ServerState, sleep, StatsWatcher, WebPoller, waitFor } from "./clients";
import { debianNginxConf, debianOrthancConfig, INERT_ON_DEBIAN, lineChanges, secretsFilter } from "./debian";
import { newUid, secondaryCapture } from "./dicom";
import { fromProgram, ProgramInputError, ProgramInputs } from "./fromProgram";
import { renderHaproxyConfig } from "./haproxy";
import { addressPlan, AddressPlan, inNs, Lab, must, pickSubnetNumber, run, TWIN_PACKAGES } from "./lab";
import { Attempt, ceilTenth, failoverGap, Gap, summaryLine, verdict } from "./summary";
import { modeledFailoverSeconds, TargetGroupSpec } from "./targetGroups";
import { DICOM_PORT, WEB_PORT, DATABASE_PORT } from "../rules/ports";

const TIMING = {
    /** The whole run after any package installation (bounded by its own timeouts); past it the twin stops everything and fails. */
    deadlineSeconds: 285,
    dicomPeriodMs: 250,
    dicomMaxInFlight: 3,
    maxInstances: 1200,
    maxTries: 25,
    retryDelayMs: 250,
    webPeriodMs: 500,
    warmupSeconds: 8,
    /** After HAProxy has taken the instance out, before its nginx is killed too. */
    afterDownSeconds: 4,
    afterNginxKillSeconds: 6,
    /** After the restarted instance is back in, to see it serve. */
    serveSeconds: 10,
} as const;

const STATS_PORT = 8404;
let t0 = now();
const elapsed = () => `${((now() - t0) / 1000).toFixed(1).padStart(5)}s`;
const say = (msg: string) => process.stdout.write(`[${elapsed()}] ${msg}\n`);

class TwinFailure extends Error {}

async function ensurePackages(): Promise<void> {
    const missing: string[] = [];
    for (const pkg of TWIN_PACKAGES) {
        const r = await run("dpkg-query", ["-W", "-f=${Status}", pkg]);
        if (!/install ok installed/.test(r.stdout)) missing.push(pkg);
    }
    if (missing.length === 0) return;
    say(`installing from Debian: ${missing.join(" ")}`);
    const env = { ...process.env, DEBIAN_FRONTEND: "noninteractive" };
    const install = () => run("apt-get", ["install", "-y", "-qq", "--no-install-recommends", ...missing], { timeoutMs: 180000, env });
    let r = await install();
    if (r.code !== 0) {
        await run("apt-get", ["update", "-qq"], { timeoutMs: 60000, env });
        r = await install();
    }
    if (r.code !== 0) throw new TwinFailure(`apt-get install ${missing.join(" ")} failed: ${r.stderr.trim().slice(-1000)}`);
}

function postgresBin(): string {
    const root = "/usr/lib/postgresql";
    const versions = fs.existsSync(root) ? fs.readdirSync(root).filter((v) => /^\d+$/.test(v)).sort((a, b) => Number(b) - Number(a)) : [];
    if (versions.length === 0) throw new TwinFailure("no PostgreSQL server under /usr/lib/postgresql (package postgresql)");
    return `${root}/${versions[0]}/bin`;
}

async function usedCidrs(): Promise<string[]> {
    // The first address-like word of each route: its destination, after any type (local, unreachable, blackhole...).
    const routes = (await must("ip", ["-4", "route", "show", "table", "all"]))
        .split("\n")
        .map((l) => l.split(/\s+/).find((w) => /^\d+\.\d+\.\d+\.\d+(\/\d+)?$/.test(w)))
        .filter((c): c is string => c !== undefined);
    const addrs = [...(await must("ip", ["-4", "-o", "addr", "show"])).matchAll(/inet (\S+)/g)].map((m) => m[1]);
    return [...routes, ...addrs];
}

const secret = () => randomBytes(18).toString("base64url");

interface Files {
    readonly dir: string;
    readonly logs: string;
    readonly cert: string;
    readonly key: string;
    readonly curlAuth: string;
}

async function makeCertificate(dir: string, plan: AddressPlan): Promise<{ cert: string; key: string }> {
    const cert = path.join(dir, "tls", "server.crt");
    const key = path.join(dir, "tls", "server.key");
    fs.mkdirSync(path.dirname(cert), { mode: 0o700 });
    const sans = ["DNS:orthweb-twin.invalid", `IP:${plan.frontDoor}`, ...plan.instances.map((i) => `IP:${i.address}`)].join(",");
    await must("openssl", ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", cert, "-days", "1", "-subj", "/CN=orthweb-twin.invalid/O=Orthweb twin", "-addext", `subjectAltName=${sans}`, "-addext", "extendedKeyUsage=serverAuth"]);
    fs.chmodSync(key, 0o600);
    return { cert, key };
}

async function startPostgres(lab: Lab, files: Files, superPassword: string, dbPassword: string): Promise<void> {
    const plan = lab.plan;
    const bin = postgresBin();
    const pgDir = path.join(files.dir, "pg");
    const data = path.join(pgDir, "data");
    const sock = path.join(pgDir, "sock");
    fs.mkdirSync(sock, { recursive: true, mode: 0o700 });
    fs.writeFileSync(path.join(pgDir, "pw"), superPassword, { mode: 0o600 });
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
    const hba = ["local all postgres scram-sha-256", `hostssl ${DATABASE_NAME} ${DATABASE_USER} samenet scram-sha-256`, ""];
    fs.writeFileSync(path.join(data, "pg_hba.conf"), hba.join("\n"));
    lab.start("postgres", plan.namespaces.db, "setpriv", ["--reuid=postgres", "--regid=postgres", "--init-groups", `${bin}/postgres`, "-D", data], "SIGINT");
    const env = { ...process.env, PGPASSWORD: superPassword };
    const ready = await waitFor(async () => (await run(`${bin}/pg_isready`, ["-h", sock, "-p", String(DATABASE_PORT)], { timeoutMs: 3000 })).code === 0, 20000);
    if (!ready) throw new TwinFailure(`PostgreSQL did not start (logs: ${files.logs}/postgres.log)`);
    const sql = `CREATE ROLE ${DATABASE_USER} LOGIN PASSWORD :'pw';\nCREATE DATABASE ${DATABASE_NAME} OWNER ${DATABASE_USER};\n`;
    await must(`${bin}/psql`, ["-h", sock, "-p", String(DATABASE_PORT), "-U", "postgres", "-d", "postgres", "-v", "ON_ERROR_STOP=1", "-v", `pw=${dbPassword}`, "-q", "-f", "-"], { input: sql, env });
}

async function writeOrthancConfig(program: ProgramInputs, instance: AddressPlan["instances"][number], files: Files, dbPassword: string, adminPassword: string): Promise<{ file: string; deviations: ReturnType<typeof debianOrthancConfig>["deviations"] }> {
    const dir = path.join(files.dir, instance.name);
    fs.mkdirSync(path.join(dir, "storage"), { recursive: true, mode: 0o700 });
    const { config, deviations } = debianOrthancConfig(program.bootstrap.orthancTemplate, {
        databaseHost: instance.databaseAddress,
        databasePort: DATABASE_PORT,
        storageDirectory: path.join(dir, "storage"),
    });
    const template = path.join(dir, "orthanc.template.json");
    fs.writeFileSync(template, JSON.stringify(config, null, 2) + "\n", { mode: 0o600 });
    // The secrets go in exactly as the start script puts them: jq, same paths, same filter.
    const filled = await must("jq", ["--arg", "user", DATABASE_USER, "--arg", "password", dbPassword, "--arg", "admin", adminPassword, secretsFilter(), template]);
    const file = path.join(dir, "orthanc.json");
    fs.writeFileSync(file, filled, { mode: 0o600 });
    return { file, deviations };
}

function writeNginxConfig(instance: AddressPlan["instances"][number], files: Files): { file: string; conf: string } {
    const dir = path.join(files.dir, instance.name);
    const conf = debianNginxConf(
        renderNginxConf({ orthancHost: "127.0.0.1", certificatePath: files.cert, keyPath: files.key, pidPath: path.join(dir, "nginx.pid"), listenAddress: instance.address }),
    );
    const file = path.join(dir, "nginx.conf");
    fs.writeFileSync(file, conf);
    return { file, conf };
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

async function httpCodeIn(ns: string, args: string[]): Promise<string> {
    const [cmd, a] = inNs(ns, "curl", ["-s", "-o", "/dev/null", "-w", "%{http_code}", "--max-time", "3", ...args]);
    return (await run(cmd, a, { timeoutMs: 5000 })).stdout.trim();
}

async function orthancReady(instance: AddressPlan["instances"][number], files: Files): Promise<boolean> {
    return (await httpCodeIn(instance.ns, ["-K", files.curlAuth, "http://127.0.0.1:8042/system"])) === "200";
}

async function nginxReady(plan: AddressPlan, instance: AddressPlan["instances"][number], files: Files): Promise<boolean> {
    return (await httpCodeIn(plan.namespaces.lb, ["--cacert", files.cert, `https://${instance.address}/healthz`])) === "200";
}

function startOrthanc(lab: Lab, instance: AddressPlan["instances"][number], configFile: string): void {
    lab.start(instance.name, instance.ns, "Orthanc", [configFile]);
}

function startNginx(lab: Lab, instance: AddressPlan["instances"][number], nginxFile: string, files: Files): void {
    lab.start(`nginx-${instance.name}`, instance.ns, "nginx", ["-p", path.join(files.dir, instance.name), "-e", "stderr", "-c", nginxFile, "-g", "daemon off;"]);
}

const failuresIn = (attempts: readonly Attempt[], from: number, until: number) => attempts.filter((a) => !a.ok && a.startMs >= from && a.startMs < until).length;

const states = (list: readonly ServerState[]) => list.map((s) => `${s.backend}/${s.server} ${s.status} (check ${s.checkStatus})`).join(", ") || "no state read";

function describeTargetGroup(tg: TargetGroupSpec): string {
    const hc = tg.healthCheck;
    const port = hc.port === "traffic-port" ? `traffic port ${tg.port}` : `port ${hc.port}`;
    return (
        `${tg.name}: ${tg.protocol} ${tg.port}; check ${hc.protocol} ${hc.path ?? ""} on ${port} every ${hc.intervalSeconds}s, ` +
        `healthy after ${hc.healthyThreshold}, unhealthy after ${hc.unhealthyThreshold}, timeout ${hc.timeoutSeconds}s (${hc.timeoutFrom})` +
        `${hc.path ? `, codes ${hc.matcher}` : ""}; modeled failover ${modeledFailoverSeconds(tg)}s`
    );
}

interface Measured {
    readonly summary: string;
    readonly reasons: string[];
}

async function scenario(lab: Lab, program: ProgramInputs, files: Files, adminPassword: string, dbPassword: string): Promise<Measured> {
    const plan = lab.plan;
    const [first, second] = plan.instances;
    const setupStart = now();
    const tgs = program.targetGroups;
    const dicomTg = tgs.find((t) => t.port === DICOM_PORT);
    const webTg = tgs.find((t) => t.port === WEB_PORT);
    if (!dicomTg) throw new TwinFailure(`no target group on the DICOM port ${DICOM_PORT} (target groups: ${tgs.map((t) => `${t.name} ${t.port}`).join(", ")}): nothing to send C-STOREs through`);

    await lab.createNetwork();
    say(`network: namespaces ${[plan.namespaces.db, plan.namespaces.lb, ...plan.namespaces.instances].join(", ")}; front door ${plan.frontDoor}, ` +
        plan.instances.map((i) => `${i.name} ${i.address} (database via ${i.databaseAddress})`).join(", "));

    await startPostgres(lab, files, secret(), dbPassword);
    say(`PostgreSQL (RDS stand-in): TLS-only (hostssl) on ${plan.instances.map((i) => i.databaseAddress).join(", ")}:${DATABASE_PORT}, database ${DATABASE_NAME}`);

    const configs = [];
    for (const instance of plan.instances) configs.push(await writeOrthancConfig(program, instance, files, dbPassword, adminPassword));
    say("orthanc.json: the program's rendered template (launch template user data), secrets filled with the start script's jq filter; deviations for Debian's Orthanc 1.10.1:");
    for (const d of configs[0].deviations) say(`  ${d.path}: ${JSON.stringify(d.from)} -> ${JSON.stringify(d.to)}  (${d.why})`);
    for (const d of configs[1].deviations.filter((d) => d.path === ".PostgreSQL.Host")) say(`  ${d.path} (${second.name}): ${JSON.stringify(d.to)}`);
    for (const note of INERT_ON_DEBIAN) say(`  ${note}`);

    const nginx = plan.instances.map((i) => writeNginxConfig(i, files));
    say(`nginx.conf: renderNginxConf() with the twin's parameters; differences from the instance's nginx.conf (${first.name}):`);
    for (const c of lineChanges(program.bootstrap.nginxConf, nginx[0].conf)) say(`  ${c.removed !== undefined ? `- ${c.removed}` : `+ ${c.added}`}`);
    nginx.forEach((n, i) => nginxTest(plan.instances[i].ns, n.file, files));

    // The first Orthanc creates the schema; the second joins it (both with Lock false).
    for (const [i, instance] of plan.instances.entries()) {
        startOrthanc(lab, instance, configs[i].file);
        if (!(await waitFor(() => orthancReady(instance, files), 40000, 300))) throw new TwinFailure(`${instance.name} did not answer /system (logs: ${files.logs}/${instance.name}.log)`);
    }
    for (const [i, instance] of plan.instances.entries()) startNginx(lab, instance, nginx[i].file, files);
    for (const instance of plan.instances) {
        if (!(await waitFor(() => nginxReady(plan, instance, files), 15000, 200))) throw new TwinFailure(`nginx of ${instance.name} did not answer /healthz (logs: ${files.logs}/nginx-${instance.name}.log)`);
    }
    say(`Orthanc x2 (shared index and storage in PostgreSQL) behind nginx: /healthz 200 on ${plan.instances.map((i) => i.address).join(", ")}`);

    const haproxyCfg = path.join(files.dir, "haproxy.cfg");
    const tlsListenerPem = path.join(files.dir, "tls", "listener.pem");
    fs.writeFileSync(tlsListenerPem, fs.readFileSync(files.cert, "utf8") + fs.readFileSync(files.key, "utf8"), { mode: 0o600 });
    fs.writeFileSync(
        haproxyCfg,
        renderHaproxyConfig({
            frontDoorAddress: plan.frontDoor,
            targets: plan.instances.map((i) => ({ name: i.name, address: i.address })),
            targetGroups: tgs,
            stats: { address: plan.frontDoor, port: STATS_PORT },
            tlsListenerPemPath: tlsListenerPem,
        }),
    );
    await must("haproxy", ["-c", "-q", "-f", haproxyCfg]);
    lab.start("haproxy", plan.namespaces.lb, "haproxy", ["-db", "-f", haproxyCfg]);
    const watcher = new StatsWatcher(`http://${plan.frontDoor}:${STATS_PORT}/stats;csv`);
    const allChecked = () => watcher.latest.length === tgs.length * plan.instances.length && watcher.latest.every((s) => s.status === "UP" && /^L[467]OK$/.test(s.checkStatus));
    const maxInterval = Math.max(...tgs.map((t) => t.healthCheck.intervalSeconds));
    if (!(await waitFor(async () => (await watcher.poll(), allChecked()), (maxInterval + 10) * 1000, 250))) {
        throw new TwinFailure(`HAProxy did not see every target pass its health check: ${states(watcher.latest)}`);
    }
    say(`HAProxy (NLB stand-in), target groups from ${program.source}:`);
    for (const tg of tgs) say(`  ${describeTargetGroup(tg)}`);
    say(`every target passed its first health check; setup took ${((now() - setupStart) / 1000).toFixed(1)}s`);

    const modeled = modeledFailoverSeconds(dicomTg);
    const ca = fs.readFileSync(files.cert);
    const target = { host: plan.frontDoor, port: dicomTg.port, calledAet: String(program.bootstrap.orthancTemplate.DicomAet), caPath: files.cert };
    const clientDir = path.join(files.dir, "client");
    fs.mkdirSync(clientDir);
    const client = new DicomClient({
        dir: clientDir,
        target,
        periodMs: TIMING.dicomPeriodMs,
        maxInFlight: TIMING.dicomMaxInFlight,
        maxInstances: TIMING.maxInstances,
        maxTries: TIMING.maxTries,
        retryDelayMs: TIMING.retryDelayMs,
        patientId: `TWIN-${process.pid}`,
    });
    const web = webTg ? new WebPoller({ host: plan.frontDoor, port: webTg.port, ca, authorization: `Basic ${Buffer.from(`${ADMIN_USER}:${adminPassword}`).toString("base64")}` }, TIMING.webPeriodMs) : undefined;
    abortClients = () => client.abort();

    const clientStart = now();
    client.start();
    web?.start();
    watcher.start();
    say(`clients: C-STORE over TLS (storescu +tla, certificate verified) to ${plan.frontDoor}:${dicomTg.port} every ${TIMING.dicomPeriodMs} ms; ` +
        (webTg ? `GET /healthz and authenticated GET /system on https://${plan.frontDoor}:${webTg.port} every ${TIMING.webPeriodMs} ms` : "no web target group: HTTPS not polled"));
    await sleep(TIMING.warmupSeconds * 1000);

    const killed = now();
    await lab.crash(first.name);
    say(`killed Orthanc of ${first.name} (SIGKILL); its nginx stays up and answers /healthz with 5xx`);
    const out = () => watcher.of(first.name).length === tgs.length && watcher.of(first.name).every((s) => !routed(s));
    const downBound = Math.max(...tgs.map((t) => modeledFailoverSeconds(t) + t.healthCheck.timeoutSeconds)) + 15;
    const wentDown = await waitFor(out, downBound * 1000, 100);
    const downAt = (backend: string) => watcher.changes.find((c) => c.server === first.name && c.backend === backend && c.atMs >= killed && c.to.startsWith("DOWN"))?.atMs;
    for (const tg of tgs) {
        const at = downAt(tg.name);
        say(`  HAProxy took ${first.name} out of ${tg.name} ${at ? `${((at - killed) / 1000).toFixed(1)}s after the kill` : "NOT within the bound"} (modeled ${modeledFailoverSeconds(tg)}s)`);
    }
    if (!wentDown) throw new TwinFailure(`HAProxy still routes to ${first.name} ${downBound}s after its Orthanc was killed: ${states(watcher.of(first.name))}`);
    await sleep(TIMING.afterDownSeconds * 1000);

    await lab.crash(`nginx-${first.name}`);
    say(`killed nginx of ${first.name} (SIGKILL): its ports now refuse connections`);
    await sleep(TIMING.afterNginxKillSeconds * 1000);

    const restarted = now();
    startOrthanc(lab, first, configs[0].file);
    if (!(await waitFor(() => orthancReady(first, files), 40000, 300))) throw new TwinFailure(`${first.name} did not come back (logs: ${files.logs}/${first.name}.log)`);
    startNginx(lab, first, nginx[0].file, files);
    if (!(await waitFor(() => nginxReady(plan, first, files), 15000, 200))) throw new TwinFailure(`nginx of ${first.name} did not come back`);
    say(`restarted Orthanc and nginx of ${first.name} (${((now() - restarted) / 1000).toFixed(1)}s until it answered /healthz)`);
    const upBound = Math.max(...tgs.map((t) => (t.healthCheck.healthyThreshold + 1) * t.healthCheck.intervalSeconds + t.healthCheck.timeoutSeconds)) + 15;
    const cameBack = await waitFor(() => watcher.of(first.name).length === tgs.length && watcher.of(first.name).every((s) => s.status === "UP"), upBound * 1000, 100);
    const backIn = now();
    const sessionsAtUp = new Map(watcher.of(first.name).map((s) => [s.backend, s.sessions]));
    say(cameBack
        ? `  HAProxy sees ${first.name} UP again in every target group ${((backIn - restarted) / 1000).toFixed(1)}s after the restart`
        : `  HAProxy does NOT see ${first.name} UP within ${upBound}s: ${states(watcher.of(first.name))}`);
    if (cameBack) await sleep(TIMING.serveSeconds * 1000);
    await watcher.poll();
    const servedAfterUp = tgs.map((tg) => ({ tg: tg.name, sessions: (watcher.of(first.name).find((s) => s.backend === tg.name)?.sessions ?? 0) - (sessionsAtUp.get(tg.name) ?? 0) }));

    // Straight to the restarted instance, past the load balancer: it stores, and the other one sees it.
    const probeUid = newUid();
    const probeFile = path.join(clientDir, "probe.dcm");
    fs.writeFileSync(probeFile, secondaryCapture({ patientId: `TWIN-${process.pid}`, studyUid: newUid(), seriesUid: newUid(), sopInstanceUid: probeUid, instanceNumber: 1 }));
    const probe = await runStorescu(["ip", "netns", "exec", plan.namespaces.lb], { ...target, host: first.address }, probeFile);
    const probeRest = await httpCodeIn(plan.namespaces.lb, ["-K", files.curlAuth, "--cacert", files.cert, `https://${first.address}/system`]);

    const stopAt = now();
    await client.drain(now() + 20000);
    await web?.stop();
    watcher.stop();
    const clientSeconds = (now() - clientStart) / 1000;

    // Every acknowledged instance must be in the shared index, as the instance that was never killed sees it.
    const [cmd, args] = inNs(plan.namespaces.lb, "curl", ["-s", "--fail", "--max-time", "30", "-K", files.curlAuth, "--cacert", files.cert, `https://${second.address}/instances?expand`]);
    const listing = await run(cmd, args, { timeoutMs: 35000 });
    if (listing.code !== 0) throw new TwinFailure(`could not list instances on ${second.name}: ${listing.stderr.trim()}`);
    const indexed = new Set((JSON.parse(listing.stdout) as { MainDicomTags?: { SOPInstanceUID?: string } }[]).map((i) => i.MainDicomTags?.SOPInstanceUID ?? ""));
    const missing = [...client.acknowledged].filter((uid) => !indexed.has(uid));
    const stored = client.acknowledged.size - missing.length;
    const unacknowledgedButStored = [...client.abandoned].filter((uid) => indexed.has(uid)).length;

    const gap: Gap = failoverGap(client.attempts, killed, restarted);
    const webGap = web ? failoverGap(web.attempts, killed, restarted) : undefined;
    const other: string[] = [];
    if (!cameBack) other.push(`${first.name} did not rejoin: HAProxy never saw it UP in every target group`);
    for (const s of servedAfterUp) if (cameBack && s.sessions === 0) other.push(`${first.name} got no connection from ${s.tg} after rejoining`);
    if (!probe.ok) other.push(`a C-STORE straight to the restarted ${first.name} failed: ${probe.detail}`);
    else if (!indexed.has(probeUid)) other.push(`the C-STORE straight to ${first.name} is not in the index as ${second.name} sees it`);
    if (probeRest !== "200") other.push(`authenticated GET /system straight to ${first.name} answered ${probeRest || "nothing"}`);
    const dicomOutside = failuresIn(client.attempts, 0, killed) + failuresIn(client.attempts, restarted, Infinity);
    if (dicomOutside > 0) other.push(`${dicomOutside} C-STORE attempt(s) failed outside the failover window (before the kill or after the restart)`);
    if (web && webGap) {
        const webOutside = failuresIn(web.attempts, 0, killed) + failuresIn(web.attempts, restarted, Infinity);
        if (webOutside > 0) other.push(`${webOutside} HTTPS request(s) failed outside the failover window`);
        const webModeled = modeledFailoverSeconds(webTg!);
        if (!webGap.recovered || ceilTenth(webGap.seconds) > webModeled) other.push(`HTTPS failover gap ${webGap.seconds.toFixed(1)}s exceeds the modeled ${webModeled}s`);
    }

    const dicomAttempts = client.attempts.length;
    say(`results (clients ran ${clientSeconds.toFixed(0)}s; stopped sending ${((now() - stopAt) / 1000).toFixed(1)}s before the index check):`);
    say(`  C-STORE: ${dicomAttempts} attempts, ${client.acknowledged.size} acknowledged, ${client.retried} retries, ${gap.failures} failed after the kill, ` +
        `${client.abandoned.size} given up (${unacknowledgedButStored} of those stored anyway), ${missing.length} acknowledged but missing from the index`);
    say(`  C-STORE failover gap: ${gap.seconds.toFixed(2)}s from the first failure to the first success after the last one (modeled ${modeled}s)`);
    if (web && webGap) {
        const polls = web.attempts.length;
        say(`  HTTPS: ${polls} requests (${web.attempts.filter((a) => a.ok).length} answered 200), failover gap ${webGap.seconds.toFixed(2)}s (modeled ${modeledFailoverSeconds(webTg!)}s)`);
    }
    say(`  rejoin: ${servedAfterUp.map((s) => `${s.sessions} ${s.tg} connection(s)`).join(", ")} to ${first.name} in ${TIMING.serveSeconds}s after it was UP; ` +
        `direct C-STORE ${probe.ok ? "acknowledged" : "FAILED"}, direct GET /system ${probeRest}`);
    for (const c of watcher.changes.filter((c) => c.atMs >= clientStart)) say(`  haproxy ${((c.atMs - killed) / 1000).toFixed(1).padStart(6)}s after the kill: ${c.backend}/${c.server} ${c.from} -> ${c.to}`);

    const outcome = { stored, lost: missing.length + client.abandoned.size - unacknowledgedButStored, retried: client.retried, gap, modeledSeconds: modeled, otherFailures: other };
    return { summary: summaryLine(outcome), reasons: verdict(outcome) };
}

let abortClients: () => void = () => undefined;

/** After a failure: the logs stay for reading; keys, passwords and the database go. */
function keepOnlyLogs(dir: string): void {
    for (const entry of fs.readdirSync(dir)) if (entry !== "logs") fs.rmSync(path.join(dir, entry), { recursive: true, force: true });
}

async function main(): Promise<number> {
    if (process.getuid?.() !== 0) {
        process.stdout.write("twin: needs root (network namespaces, packages); run it as root, e.g. in CI\n");
        return 1;
    }
    await ensurePackages();
    t0 = now();
    let program: ProgramInputs;
    try {
        program = await fromProgram();
    } catch (e) {
        if (!(e instanceof ProgramInputError)) throw e;
        process.stdout.write(`${e.message}\n`);
        process.stdout.write("twin: not run: no target groups from the program\n");
        return 1;
    }
    say(`stack: prod, ${program.stackNote}`);

    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "orthweb-twin-"));
    fs.chmodSync(dir, 0o711);
    const logs = path.join(dir, "logs");
    fs.mkdirSync(logs);
    const namespaces = (await must("ip", ["netns", "list"])).split("\n").map((l) => l.split(" ")[0]).filter(Boolean);
    const plan = addressPlan(pickSubnetNumber(await usedCidrs(), 1 + (process.pid % 254), namespaces));
    const lab = new Lab(plan, logs);
    const adminPassword = secret();
    const dbPassword = secret();

    let finished = false;
    const stopAll = async (why: string, code: number) => {
        if (finished) return;
        finished = true;
        abortClients();
        process.stdout.write(`twin: ${why}; stopping everything it started (logs kept in ${logs})\n`);
        await lab.stop();
        keepOnlyLogs(dir);
        process.exit(code);
    };
    process.once("SIGINT", () => void stopAll("interrupted", 130));
    process.once("SIGTERM", () => void stopAll("terminated", 143));
    process.once("exit", () => lab.stopSync());
    const deadline = setTimeout(() => void stopAll(`deadline of ${TIMING.deadlineSeconds}s exceeded`, 1), TIMING.deadlineSeconds * 1000 - (now() - t0));

    let measured: Measured | undefined;
    let error: unknown;
    try {
        const { cert, key } = await makeCertificate(dir, plan);
        const curlAuth = path.join(dir, "curl-admin.conf");
        fs.writeFileSync(curlAuth, `user = "${ADMIN_USER}:${adminPassword}"\n`, { mode: 0o600 });
        measured = await scenario(lab, program, { dir, logs, cert, key, curlAuth }, adminPassword, dbPassword);
    } catch (e) {
        error = e;
    }
    if (finished) return 1;
    finished = true;
    clearTimeout(deadline);
    abortClients();
    await lab.stop();
    say(`stopped everything the twin started; total ${((now() - t0) / 1000).toFixed(1)}s`);
    if (error || !measured || measured.reasons.length > 0) {
        keepOnlyLogs(dir);
        for (const r of measured?.reasons ?? []) process.stdout.write(`FAILED: ${r}\n`);
        if (error) process.stdout.write(`FAILED: ${error instanceof TwinFailure ? error.message : (error as Error).stack ?? String(error)}\n`);
        process.stdout.write(`logs kept in ${logs}\n`);
        process.stdout.write(`${measured?.summary ?? "twin: failed before measuring"}\n`);
        return 1;
    }
    fs.rmSync(dir, { recursive: true, force: true });
    process.stdout.write(`${measured.summary}\n`);
    return 0;
}

if (require.main === module) {
    main().then(
        (code) => process.exit(code),
        (e) => {
            process.stdout.write(`twin: failed: ${(e as Error).stack ?? String(e)}\n`);
            process.exit(1);
        },
    );
}

// npm run test:twin [-- <scenario> ...] (root): the local twin. For each scenario (twin/scenarios/), a fresh pair of
// real Orthanc servers sharing one PostgreSQL, each behind nginx with the program's rendered files, in network
// namespaces of their own, HAProxy in front with the program's target groups, real DICOM-over-TLS and HTTPS clients,
// and one thing broken on purpose. Each scenario ends with its summary line, `twin <scenario>: ...`; exit 1 when any
// check of any scenario fails.
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { ADMIN_USER } from "../rules/logins";
import { now } from "./clients";
import { fromProgram, ProgramInputError, ProgramInputs } from "./fromProgram";
import { addressPlan, Lab, must, pickSubnetNumber, run, TWIN_PACKAGES } from "./lab";
import { makeCertificate, resetClock, say, secret, TwinFailure, TwinPair } from "./pair";
import { SubstitutionError } from "./repoint";
import { Measured, Scenario } from "./scenario";
import { SCENARIOS } from "./scenarios";

/** Setup (network, PostgreSQL, both Orthancs, HAProxy's first checks) is bounded by this, on top of a scenario's own deadline. */
const SETUP_SECONDS = 90;

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

async function usedCidrs(): Promise<string[]> {
    // The first address-like word of each route: its destination, after any type (local, unreachable, blackhole...).
    const routes = (await must("ip", ["-4", "route", "show", "table", "all"]))
        .split("\n")
        .map((l) => l.split(/\s+/).find((w) => /^\d+\.\d+\.\d+\.\d+(\/\d+)?$/.test(w)))
        .filter((c): c is string => c !== undefined);
    const addrs = [...(await must("ip", ["-4", "-o", "addr", "show"])).matchAll(/inet (\S+)/g)].map((m) => m[1]);
    return [...routes, ...addrs];
}

/** After a failure: the logs stay for reading; keys, passwords and the database go. */
function keepOnlyLogs(dir: string): void {
    for (const entry of fs.readdirSync(dir)) if (entry !== "logs") fs.rmSync(path.join(dir, entry), { recursive: true, force: true });
}

/** Runs one scenario on a pair of its own; resolves to whether it passed. Everything it started is stopped. */
async function runScenario(scenario: Scenario, program: ProgramInputs): Promise<boolean> {
    resetClock();
    process.stdout.write(`\n== twin ${scenario.name}: ${scenario.description}\n`);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), `orthweb-twin-${scenario.name}-`));
    fs.chmodSync(dir, 0o711);
    const logs = path.join(dir, "logs");
    fs.mkdirSync(logs);
    const namespaces = (await must("ip", ["netns", "list"])).split("\n").map((l) => l.split(" ")[0]).filter(Boolean);
    const plan = addressPlan(pickSubnetNumber(await usedCidrs(), 1 + (process.pid % 254), namespaces));
    const lab = new Lab(plan, logs);
    // Orthanc's database password carries every character that broke the first release (`$HOME` is set here too).
    const passwords = { admin: secret(), database: secret(), databaseApp: `$HOME \\ '${secret()}' "q" %41@h:5432/x`, superuser: secret() };
    const aborts: (() => void)[] = [];
    const abortAll = () => aborts.splice(0).forEach((stop) => stop());

    let finished = false;
    const stopAll = async (why: string, code: number) => {
        if (finished) return;
        finished = true;
        abortAll();
        process.stdout.write(`twin ${scenario.name}: ${why}; stopping everything it started (logs kept in ${logs})\n`);
        await lab.stop();
        keepOnlyLogs(dir);
        process.exit(code);
    };
    const onInt = () => void stopAll("interrupted", 130);
    const onTerm = () => void stopAll("terminated", 143);
    const onExit = () => lab.stopSync();
    process.once("SIGINT", onInt);
    process.once("SIGTERM", onTerm);
    process.once("exit", onExit);
    const deadlineSeconds = SETUP_SECONDS + scenario.deadlineSeconds;
    const deadline = setTimeout(() => void stopAll(`deadline of ${deadlineSeconds}s exceeded`, 1), deadlineSeconds * 1000);

    let measured: Measured | undefined;
    let error: unknown;
    try {
        const { cert, key } = await makeCertificate(dir, plan);
        const curlAuth = path.join(dir, "curl-admin.conf");
        fs.writeFileSync(curlAuth, `user = "${ADMIN_USER}:${passwords.admin}"\n`, { mode: 0o600 });
        const pair = new TwinPair(lab, program, { dir, logs, cert, key, curlAuth }, passwords);
        await pair.setUp();
        const scratch = path.join(dir, "scenario");
        fs.mkdirSync(scratch);
        measured = await scenario.run(pair, { dir: scratch, onAbort: (stop) => aborts.push(stop) });
    } catch (e) {
        error = e;
    }
    clearTimeout(deadline);
    process.removeListener("SIGINT", onInt);
    process.removeListener("SIGTERM", onTerm);
    abortAll();
    await lab.stop();
    process.removeListener("exit", onExit);
    say(`stopped everything the twin started for ${scenario.name}`);
    if (error || !measured || measured.reasons.length > 0) {
        keepOnlyLogs(dir);
        for (const r of measured?.reasons ?? []) process.stdout.write(`FAILED: ${r}\n`);
        const explained = error instanceof TwinFailure || error instanceof SubstitutionError || error instanceof ProgramInputError;
        if (error) process.stdout.write(`FAILED: ${explained ? (error as Error).message : (error as Error).stack ?? String(error)}\n`);
        process.stdout.write(`logs kept in ${logs}\n`);
        for (const line of measured?.summary ?? [`twin ${scenario.name}: failed before measuring`]) process.stdout.write(`${line}\n`);
        return false;
    }
    fs.rmSync(dir, { recursive: true, force: true });
    for (const line of measured.summary) process.stdout.write(`${line}\n`);
    return true;
}

async function main(argv: string[]): Promise<number> {
    const unknown = argv.filter((a) => !SCENARIOS.some((s) => s.name === a));
    if (unknown.length > 0) {
        process.stdout.write(`twin: unknown scenario ${unknown.join(", ")}; scenarios: ${SCENARIOS.map((s) => s.name).join(", ")}\n`);
        return 2;
    }
    if (process.getuid?.() !== 0) {
        process.stdout.write("twin: needs root (network namespaces, packages); run it as root, e.g. in CI\n");
        return 1;
    }
    await ensurePackages();
    const started = now();
    let program: ProgramInputs;
    try {
        program = await fromProgram();
    } catch (e) {
        if (!(e instanceof ProgramInputError)) throw e;
        process.stdout.write(`${e.message}\n`);
        process.stdout.write("twin: not run: no target groups from the program\n");
        return 1;
    }
    process.stdout.write(`stack: prod, ${program.stackNote}\n`);

    const chosen = argv.length > 0 ? SCENARIOS.filter((s) => argv.includes(s.name)) : SCENARIOS;
    const failed: string[] = [];
    for (const scenario of chosen) {
        let own = program;
        if (scenario.configOverrides) {
            try {
                own = await fromProgram(scenario.configOverrides);
            } catch (e) {
                if (!(e instanceof ProgramInputError)) throw e;
                process.stdout.write(`${e.message}\ntwin ${scenario.name}: not run: the program rejects its config\n`);
                failed.push(scenario.name);
                continue;
            }
        }
        if (!(await runScenario(scenario, own))) failed.push(scenario.name);
    }
    process.stdout.write(`\ntwin scenarios: ${chosen.length - failed.length} of ${chosen.length} passed in ${((now() - started) / 1000).toFixed(0)}s` +
        `${failed.length > 0 ? `; failed: ${failed.join(", ")}` : ""}\n`);
    return failed.length === 0 ? 0 : 1;
}

if (require.main === module) {
    main(process.argv.slice(2)).then(
        (code) => process.exit(code),
        (e) => {
            process.stdout.write(`twin: failed: ${(e as Error).stack ?? String(e)}\n`);
            process.exit(1);
        },
    );
}

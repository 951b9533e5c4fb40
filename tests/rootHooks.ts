// Run-wide hooks (loaded by .mocharc.js in the main mocha process and in every worker).
// mochaGlobalSetup/-Teardown run once per run in the main process, before the workers start: they make the run's
// directory (tests/runFixtures.ts) and start the policy pack process in the background when the run includes its
// spec, so that its seconds of start-up overlap the other specs. Keep this file free of SDK imports: the main
// process loads it too.
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { RUN_ENV, startRunPack, stopRunPack } from "./runFixtures";
import { UnitGuard } from "./unitGuard";

const PACK_SPEC = "policyPack.spec.ts";

/** Spec files named on the command line (none: the whole suite from .mocharc.js). */
function namedSpecs(): string[] {
    return process.argv.slice(2).filter((a) => /\.spec\.ts$/.test(a));
}

export function mochaGlobalSetup(): void {
    process.env[RUN_ENV] = fs.mkdtempSync(path.join(os.tmpdir(), "orthweb-test-run-"));
    const named = namedSpecs();
    // The pack's spec is in the system suite: the unit suite never pays for the pack process.
    const wholeSystemSuite = named.length === 0 && process.env.ORTHWEB_SUITE === "system";
    if (wholeSystemSuite || named.some((f) => f.endsWith(PACK_SPEC))) startRunPack();
}

export function mochaGlobalTeardown(): void {
    stopRunPack();
    const dir = process.env[RUN_ENV];
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
}

/**
 * The unit suite's guard (tests/unitGuard.ts), in each mocha worker as soon as it loads this file, before any spec
 * module (so none keeps an unpatched copy of child_process); never in the main process, which forks the workers.
 */
const guard = new UnitGuard();
if (process.env.MOCHA_WORKER_ID !== undefined) guard.install();

export const mochaHooks = {
    beforeAll(this: Mocha.Context) {
        // A single file runs in this process (no workers): guard from here on.
        if (process.env.MOCHA_WORKER_ID === undefined) guard.install();
        const suite = this.test?.parent;
        guard.enter(suite?.suites.find((s) => s.file)?.file ?? suite?.file, "its describe blocks and hooks");
    },
    beforeEach(this: Mocha.Context) {
        guard.enter(this.currentTest?.file, `"${this.currentTest?.fullTitle()}"`);
    },
    async afterAll() {
        // Closes this process's connection to the pack (or the pack it started itself), if a spec opened one.
        // Looked up, not imported: packProcess loads the SDKs, which the main process and most files never need.
        const loaded = require.cache[require.resolve("./packProcess")];
        if (loaded) await (loaded.exports as typeof import("./packProcess")).stopSharedPack();
    },
};

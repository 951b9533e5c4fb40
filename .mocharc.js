// Mocha's configuration (JavaScript so that it can look at the command line; see docs/benchmarks.md, "npm test").
// - Parallel: spec files are spread over worker processes, one per core and at least two (the policy pack process
//   and the real-tool specs spend much of their time waiting). Specs must not depend on each other or on order;
//   those that start servers or processes use their own temp dirs and free ports.
// - Run-wide fixtures live in tests/rootHooks.ts (mochaGlobalSetup: one policy pack process, one RSA key pool).
// - Two disk caches load first: tests/compileCache.js (V8 code for node_modules) and tests/transpileCache.js (sucrase).
// - Order: the specs that take longest start first, so that no worker is left with a long one at the end; the rest
//   follow alphabetically. Add a spec here when it takes more than about half a second (mocha prints durations).
// - `npx mocha tests/x.spec.ts` runs that file only: mocha would otherwise add the files named here to it.
"use strict";
const fs = require("fs");
const os = require("os");
const path = require("path");

const SLOW_FIRST = ["databaseTimeouts", "policyPack", "databaseSetup", "plan", "policy", "iamEvaluation", "peerLink", "healthChecker", "instanceRuntime", "senderGate", "dnsFrontDoor", "twinSenders", "vpnCertificates", "ovpn", "loadBalancerFrontDoor", "rollout", "alerts", "orthancPair", "clientVpnAccess", "validators"];

/**
 * The suite's spec files, the slow ones first: the unit suite (`npm test`) is tests/*.spec.ts, the system suite
 * (`npm run test:system`, ORTHWEB_SUITE=system) is tests/system/*.spec.ts: the specs that run real tools and processes
 * or wait in real time. tests/unitGuard.ts fails a unit spec that starts a program or waits on a long timer.
 */
function suiteSpecs(suite) {
    const dir = suite === "system" ? path.join(__dirname, "tests", "system") : path.join(__dirname, "tests");
    const found = fs.readdirSync(dir, { withFileTypes: true })
        .filter((e) => e.isFile() && e.name.endsWith(".spec.ts"))
        .map((e) => path.join(dir, e.name));
    const rank = (f) => {
        const i = SLOW_FIRST.indexOf(path.basename(f, ".spec.ts"));
        return i === -1 ? SLOW_FIRST.length : i;
    };
    return found.sort((a, b) => rank(a) - rank(b) || a.localeCompare(b));
}
const OPTIONS_WITH_VALUES = new Set(["-r", "--require", "--file", "--config", "--reporter", "-R", "--ignore", "--exclude", "-g", "--grep", "-f", "--fgrep", "-j", "--jobs"]);
const named = process.argv.slice(2).filter((arg, i, args) => !arg.startsWith("-") && !OPTIONS_WITH_VALUES.has(args[i - 1]) && /\.ts$|\*|\/$/.test(arg));
const cores = typeof os.availableParallelism === "function" ? os.availableParallelism() : os.cpus().length;

module.exports = {
    require: ["tests/compileCache.js", "tests/transpileCache.js", "tests/rootHooks.ts"],
    spec: named.length > 0 ? [] : suiteSpecs(process.env.ORTHWEB_SUITE === "system" ? "system" : "unit"),
    extension: ["ts"],
    timeout: 60000,
    reporter: "dot",
    parallel: true,
    jobs: Math.max(2, cores),
};

// A larger young generation for the workers: mocked builds allocate many short-lived objects, and with node's
// default (16 MiB semi-spaces) scavenges took about a quarter of a build's CPU. Mocha forks its workers with its
// own process.execArgv, so the flag goes there (mocha's `node-option` would re-spawn mocha itself, +0.3 s a run).
if (!process.execArgv.some((arg) => arg.startsWith("--max-semi-space-size"))) process.execArgv.push("--max-semi-space-size=64");

// Mocha's configuration (JavaScript so that it can look at the command line; see docs/benchmarks.md, "npm test").
// - Parallel: spec files are spread over worker processes, one per core and at least two (the policy pack process
//   and the real-tool specs spend much of their time waiting). Specs must not depend on each other or on order;
//   those that start servers or processes use their own temp dirs and free ports.
// - Run-wide fixtures live in tests/rootHooks.ts (mochaGlobalSetup: one policy pack process, one RSA key pool).
// - `npx mocha tests/x.spec.ts` runs that file only: mocha would otherwise add the files named here to it.
"use strict";
const os = require("os");

const ALL = "tests/**/*.spec.ts";
const OPTIONS_WITH_VALUES = new Set(["-r", "--require", "--file", "--config", "--reporter", "-R", "--ignore", "--exclude", "-g", "--grep", "-f", "--fgrep", "-j", "--jobs"]);
const named = process.argv.slice(2).filter((arg, i, args) => !arg.startsWith("-") && !OPTIONS_WITH_VALUES.has(args[i - 1]) && /\.ts$|\*|\/$/.test(arg));
const cores = typeof os.availableParallelism === "function" ? os.availableParallelism() : os.cpus().length;

module.exports = {
    require: ["sucrase/register/ts", "tests/rootHooks.ts"],
    spec: named.length > 0 ? [] : [ALL],
    extension: ["ts"],
    timeout: 60000,
    reporter: "dot",
    parallel: true,
    jobs: Math.max(2, cores),
};

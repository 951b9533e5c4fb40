// Loads the program the way Pulumi's Node.js language host does under `pulumi up`, without running it (running
// needs the engine). Mirrors @pulumi/pulumi/cmd/run (index.js, then run.js for a CommonJS TypeScript project):
// the host's own modules, then ts-node registered with the options run.js builds, then index.ts's imports.
//   node tools/pulumi-load.js            as `pulumi up` does with this repository's Pulumi.yaml
//   PULUMI_NODEJS_TRANSPILE_ONLY=false node tools/pulumi-load.js     with ts-node type-checking (the old way)
// Used by tools/bench-startup.sh and tests/typecheck.spec.ts. Plain JavaScript: nothing of ours is registered.
"use strict";
const fs = require("fs");
const path = require("path");

const ROOT = path.resolve(__dirname, "..");

/** The tsconfig path the Go language host passes as PULUMI_NODEJS_TSCONFIG_PATH (Pulumi.yaml runtime.options.tsconfig). */
function tsconfigOption(root = ROOT) {
    const project = require("yaml").parse(fs.readFileSync(path.join(root, "Pulumi.yaml"), "utf8"));
    return (project.runtime && project.runtime.options && project.runtime.options.tsconfig) || undefined;
}

/** The options run.js gives ts-node's register() (CommonJS project, TypeScript >= 4.7), for a project in `root`. */
function tsNodeOptions(root = ROOT, env = process.env) {
    const tsutils = require("@pulumi/pulumi/tsutils");
    const semver = require("semver");
    const tsConfigPath = env.PULUMI_NODEJS_TSCONFIG_PATH || tsconfigOption(root) || "tsconfig.json";
    const absolute = path.resolve(root, tsConfigPath);
    const compilerOptions = tsutils.loadTypeScriptCompilerOptions(absolute);
    const transpileOnlyEnv = env.PULUMI_NODEJS_TRANSPILE_ONLY;
    const transpileOnly = transpileOnlyEnv ? transpileOnlyEnv === "true" : compilerOptions.noCheck;
    const { tsnodeRequire, typescriptRequire } = tsutils.typeScriptRequireStrings();
    const useNodeNext = semver.gte(require(typescriptRequire).version, "4.7.0");
    return {
        tsnodeRequire,
        options: {
            compiler: typescriptRequire,
            transpileOnly,
            project: absolute,
            skipProject: !fs.existsSync(absolute),
            compilerOptions: {
                target: "ES2020",
                module: useNodeNext ? "nodenext" : "commonjs",
                moduleResolution: useNodeNext ? "nodenext" : "node",
                sourceMap: "true",
                ...compilerOptions,
            },
        },
    };
}

/** The modules index.ts imports, resolved from the repository root. */
function entryImports(root = ROOT) {
    const ts = require("typescript");
    const info = ts.preProcessFile(fs.readFileSync(path.join(root, "index.ts"), "utf8"), true, true);
    return info.importedFiles.map((f) => (f.fileName.startsWith(".") ? path.join(root, f.fileName) : f.fileName));
}

function load(root = ROOT) {
    process.chdir(root);
    // What cmd/run/index.js and run.js load of their own before run.js registers ts-node (run.js itself cannot be
    // required: it requires index.js, which starts main()); the rest of what they load is @pulumi/pulumi itself.
    require("@pulumi/pulumi/cmd/run/instrumentation");
    require("source-map-support/register");
    require("@pulumi/pulumi/cmd/run/tracing");
    require("@pulumi/pulumi/runtime/settings");
    const { tsnodeRequire, options } = tsNodeOptions(root);
    require(tsnodeRequire).register(options);
    for (const id of entryImports(root)) require(id);
    return options;
}

module.exports = { tsconfigOption, tsNodeOptions, entryImports };

if (require.main === module) {
    const options = load();
    if (process.argv.includes("--verbose")) console.error(`loaded ${entryImports().join(", ")} with ts-node transpileOnly=${options.transpileOnly}`);
}

// V8's compiled code for the test processes' dependencies, kept on disk between runs: what Node 22's
// module.enableCompileCache() does, for Node 20. Every mocha process loads the Pulumi SDKs and the rest of
// node_modules (thousands of CommonJS files), and compiling them is about half a second of CPU per process; with
// V8's code cache a file whose text is unchanged is deserialised instead. Keyed by Node's version and architecture
// (the cache's format), the process's flags, the file's path and its text, so an upgrade or an edit misses; V8 itself refuses data that
// does not fit (cachedDataRejected) and the file is compiled as usual. ES modules and our own TypeScript (transpiled
// by tests/transpileCache.js) go Node's usual way. Plain JavaScript: it is loaded before anything it speeds up.
"use strict";
const crypto = require("crypto");
const fs = require("fs");
const os = require("os");
const path = require("path");
const v8 = require("v8");
const vm = require("vm");
const Module = require("module");

const CACHE_DIR = path.join(os.tmpdir(), `orthweb-v8-${process.version}-${process.arch}-${process.getuid ? process.getuid() : "u"}`);
const NODE_MODULES = `${path.sep}node_modules${path.sep}`;
const compile = Module.prototype._compile;
/** Scripts compiled without usable cached data: their code cache is written when the process exits. */
const toWrite = [];

/** The `require` a CommonJS module gets (Node's makeRequireFunction, through public Module APIs). */
function requireFor(mod) {
    const require = (id) => mod.require(id);
    require.resolve = (request, options) => Module._resolveFilename(request, mod, false, options);
    require.resolve.paths = (request) => Module._resolveLookupPaths(request, mod);
    require.main = process.mainModule;
    require.extensions = Module._extensions;
    require.cache = Module._cache;
    return require;
}

// V8 refuses code cached under other flags. The Pulumi SDK turns on --allow-natives-syntax when it loads
// (runtime/closure/v8.js), so a file compiled before that would be cached at exit under flags it is never loaded
// with, and refused every run: the flag is set here first, as the SDK will set it anyway.
v8.setFlagsFromString("--allow-natives-syntax");
/**
 * The main process and the workers (--max-semi-space-size) run with other flags: each keeps its own entries. Read from
 * the command line the process really started with: .mocharc.js adds the workers' flag to the main process's
 * process.execArgv (to fork them with it) before this file loads.
 */
const FLAGS = `${startFlags()}\0${process.env.NODE_OPTIONS ?? ""}`;

function startFlags() {
    try {
        return fs.readFileSync("/proc/self/cmdline", "utf8");
    } catch {
        return process.execArgv.join(" ");
    }
}

function cacheFile(filename, content) {
    return path.join(CACHE_DIR, `${crypto.createHash("sha256").update(FLAGS).update("\0").update(filename).update("\0").update(content).digest("hex")}.bin`);
}

Module.prototype._compile = function (content, filename, format) {
    // A script compiled from cached data loses its dynamic import() callback on Node 20 (ERR_VM_DYNAMIC_IMPORT_CALLBACK_MISSING,
    // seen in tests/system/testCaches.spec.ts): a file that may call import() is compiled Node's way.
    if (format === "module" || !filename.includes(NODE_MODULES) || /\bimport\s*\(/.test(content)) return compile.call(this, content, filename, format);
    const file = cacheFile(filename, content);
    let cachedData;
    try {
        cachedData = fs.readFileSync(file);
    } catch {
        // Not cached yet.
    }
    let script;
    try {
        script = new vm.Script(Module.wrap(content), { filename, cachedData });
    } catch {
        // Not CommonJS after all (Node tells ES modules apart by more than the format argument): Node's own way.
        return compile.call(this, content, filename, format);
    }
    if (cachedData === undefined || script.cachedDataRejected) toWrite.push({ script, file });
    const wrapper = script.runInThisContext({ displayErrors: true });
    return wrapper.call(this.exports, this.exports, requireFor(this), this, filename, path.dirname(filename));
};

// At exit, so that the cache holds the functions compiled while the process ran too, not only each file's top level.
process.on("exit", () => {
    if (toWrite.length === 0) return;
    try {
        fs.mkdirSync(CACHE_DIR, { recursive: true });
        for (const { script, file } of toWrite) {
            // Written aside and renamed: another process reading it at the same moment sees all of it or nothing.
            const tmp = `${file}.${process.pid}.tmp`;
            fs.writeFileSync(tmp, script.createCachedData());
            fs.renameSync(tmp, file);
        }
    } catch {
        // A cache that cannot be written only costs the next run the compile.
    }
});

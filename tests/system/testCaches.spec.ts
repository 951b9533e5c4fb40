// The test processes' two disk caches, run for real in node processes of their own: tests/compileCache.js (V8's
// code cache for node_modules) and tests/transpileCache.js (sucrase's output). Each must give what Node and sucrase
// would, miss on an edit, and be read back, not rewritten, when nothing changed.
import { expect } from "chai";
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";

const TESTS = path.resolve(__dirname, "..");

/** A project of its own: CommonJS packages (one calls import()), an ES module package, a TypeScript file using them. */
function project(): string {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "orthweb-caches-"));
    const write = (file: string, text: string) => {
        fs.mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
        fs.writeFileSync(path.join(dir, file), text);
    };
    write("node_modules/cjs/package.json", JSON.stringify({ name: "cjs", main: "index.js" }));
    write(
        "node_modules/cjs/index.js",
        [
            "exports.facts = () => ({ self: this === module.exports, file: __filename, dir: __dirname,",
            "  resolved: require.resolve('./index.js'), main: require.main === process.mainModule, cached: __filename in require.cache });",
            "exports.version = 1;",
        ].join("\n"),
    );
    // import() is Node's to compile (a script from cached data loses its import callback on Node 20).
    write("node_modules/dyn/package.json", JSON.stringify({ name: "dyn", main: "index.js" }));
    write("node_modules/dyn/index.js", "exports.later = () => import('esm').then((m) => m.kind);\n");
    write("node_modules/esm/package.json", JSON.stringify({ name: "esm", type: "module", exports: "./index.js" }));
    write("node_modules/esm/index.js", "export const kind = 'esm';\n");
    write("main.ts", "import { facts, version } from 'cjs';\nimport { later } from 'dyn';\nconst n: number = version;\nlater().then((kind: string) => console.log(JSON.stringify({ ...facts(), version: n, kind })));\n");
    return dir;
}

/** Runs main.ts through both caches, with its own temp dir (where the caches live). */
function run(dir: string): Record<string, unknown> {
    const tmp = path.join(dir, "tmp");
    fs.mkdirSync(tmp, { recursive: true });
    const out = execFileSync(process.execPath, ["-r", path.join(TESTS, "compileCache.js"), "-r", path.join(TESTS, "transpileCache.js"), path.join(dir, "main.ts")], {
        cwd: dir,
        env: { ...process.env, TMPDIR: tmp },
        encoding: "utf8",
    });
    return JSON.parse(out) as Record<string, unknown>;
}

/** Every cache file under the project's temp dir, with its modification time. */
function cacheFiles(dir: string): Map<string, number> {
    const found = new Map<string, number>();
    const walk = (d: string) => {
        for (const e of fs.readdirSync(d, { withFileTypes: true })) {
            const p = path.join(d, e.name);
            if (e.isDirectory()) walk(p);
            else found.set(p, fs.statSync(p).mtimeMs);
        }
    };
    walk(path.join(dir, "tmp"));
    return found;
}

describe("the test processes' caches (tests/compileCache.js, tests/transpileCache.js)", () => {
    let dir: string;
    before(() => (dir = project()));
    after(() => fs.rmSync(dir, { recursive: true, force: true }));

    it("run a CommonJS module as Node does: this, __filename, __dirname, require.resolve, require.cache, import()", () => {
        const file = path.join(dir, "node_modules", "cjs", "index.js");
        expect(run(dir)).to.deep.equal({ self: true, file, dir: path.dirname(file), resolved: file, main: true, cached: true, version: 1, kind: "esm" });
    });

    it("keep V8's code for node_modules and sucrase's output, and read them back unchanged on the next run", () => {
        const first = cacheFiles(dir);
        const names = [...first.keys()].map((p) => path.basename(path.dirname(p)));
        expect(names.some((n) => n.startsWith("orthweb-v8-")), "a code cache entry").to.equal(true);
        expect(names.some((n) => n.startsWith("orthweb-sucrase-")), "a transpile cache entry").to.equal(true);
        expect(run(dir)).to.include({ version: 1, kind: "esm" });
        expect(cacheFiles(dir), "nothing rewritten").to.deep.equal(first);
    });

    it("miss on an edit, and run the new text", () => {
        const before = cacheFiles(dir);
        const file = path.join(dir, "node_modules", "cjs", "index.js");
        fs.writeFileSync(file, fs.readFileSync(file, "utf8").replace("exports.version = 1;", "exports.version = 2;"));
        fs.writeFileSync(path.join(dir, "main.ts"), fs.readFileSync(path.join(dir, "main.ts"), "utf8").replace("const n: number = version;", "const n: number = version * 10;"));
        expect(run(dir).version).to.equal(20);
        const after = cacheFiles(dir);
        // One new entry each: the package's code (.bin) and main.ts's JavaScript; the ES module is not code-cached.
        expect([...after.keys()].filter((p) => !before.has(p)).map((p) => path.extname(p)).sort()).to.deep.equal([".bin", ".js"]);
    });
});

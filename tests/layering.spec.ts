// The layers stay apart: components/ and stacks/ are two sides that only program.ts joins; rules/ holds the
// pure rules both use and depends on nothing of ours but itself (and no Pulumi SDK); the plan and the twin
// sit on top and nothing in the program depends on them. The twin reads the program's plan (plan/), the stack files
// (stacks/) and the shared rules, never a component's module nor the program itself: what it runs is what the plan
// delivers.
import { expect } from "chai";
import * as fs from "fs";
import * as path from "path";

const ROOT = path.resolve(__dirname, "..");

/** What a top-level folder may not import: other top-level folders or root modules (program.ts), and package name prefixes. */
const FORBIDDEN: Record<string, { folders: string[]; packages: string[] }> = {
    components: { folders: ["stacks", "plan", "twin"], packages: [] },
    stacks: { folders: ["components", "plan", "twin"], packages: [] },
    rules: { folders: ["components", "stacks", "plan", "twin"], packages: ["@pulumi/"] },
    twin: { folders: ["components", "program", "index", "policy"], packages: ["@pulumi/"] },
};

export interface SourceFile {
    /** Relative to the repository root, with forward slashes. */
    readonly path: string;
    readonly text: string;
}

/** Every module specifier a file names: static imports and re-exports, side-effect imports, require() and import(). */
export function specifiers(text: string): string[] {
    const found: string[] = [];
    const patterns = [
        /\b(?:import|export)\b[^;'"`]*?\bfrom\s*["']([^"']+)["']/g,
        /\bimport\s*["']([^"']+)["']/g,
        /\b(?:require|import)\s*\(\s*["']([^"']+)["']\s*\)/g,
    ];
    for (const pattern of patterns) for (const m of text.matchAll(pattern)) found.push(m[1]);
    return found;
}

/** The layering rules broken by these files, one line each: `file: imports "x" (folder may not import y)`. */
export function layeringViolations(files: readonly SourceFile[]): string[] {
    const problems: string[] = [];
    for (const file of files) {
        const layer = file.path.split("/")[0];
        const rule = FORBIDDEN[layer];
        if (!rule) continue;
        for (const spec of specifiers(file.text)) {
            if (spec.startsWith(".")) {
                const segments = path.posix.normalize(path.posix.join(path.posix.dirname(file.path), spec)).split("/");
                const target = segments[0];
                // A folder, or a module at the root (program.ts).
                const name = segments.length > 1 ? `${target}/` : target;
                if (rule.folders.includes(target)) problems.push(`${file.path}: imports "${spec}" (${layer}/ may not import ${name})`);
            } else {
                const banned = rule.packages.find((p) => spec.startsWith(p));
                if (banned) problems.push(`${file.path}: imports "${spec}" (${layer}/ may not import ${banned}*)`);
            }
        }
    }
    return problems;
}

/** Pairs of modules of one folder that import each other, directly or through others of that folder: `a.ts <-> b.ts`. */
export function importCycles(files: readonly SourceFile[]): string[] {
    const resolve = (from: string, spec: string) => {
        const target = path.posix.normalize(path.posix.join(path.posix.dirname(from), spec));
        return files.find((f) => f.path === target || f.path === `${target}.ts` || f.path === `${target}/index.ts`)?.path;
    };
    const edges = new Map(files.map((f) => [f.path, specifiers(f.text).filter((s) => s.startsWith(".")).map((s) => resolve(f.path, s)).filter((t): t is string => t !== undefined)]));
    const reaches = (from: string, to: string) => {
        const seen = new Set<string>();
        const stack = [...(edges.get(from) ?? [])];
        while (stack.length > 0) {
            const next = stack.pop()!;
            if (next === to) return true;
            if (seen.has(next)) continue;
            seen.add(next);
            stack.push(...(edges.get(next) ?? []));
        }
        return false;
    };
    const paths = files.map((f) => f.path).sort();
    const cycles: string[] = [];
    for (let i = 0; i < paths.length; i++) for (let j = i + 1; j < paths.length; j++) {
        if (reaches(paths[i], paths[j]) && reaches(paths[j], paths[i])) cycles.push(`${paths[i]} <-> ${paths[j]}`);
    }
    return cycles;
}

function sources(folder: string): SourceFile[] {
    const out: SourceFile[] = [];
    const walk = (dir: string) => {
        for (const entry of fs.readdirSync(path.join(ROOT, dir), { withFileTypes: true })) {
            const rel = `${dir}/${entry.name}`;
            if (entry.isDirectory()) walk(rel);
            else if (/\.(ts|js)$/.test(entry.name)) out.push({ path: rel, text: fs.readFileSync(path.join(ROOT, rel), "utf8") });
        }
    };
    walk(folder);
    return out;
}

describe("layering", () => {
    it("no file in components/, stacks/, rules/ or twin/ imports a layer it may not", () => {
        const files = Object.keys(FORBIDDEN).flatMap(sources);
        expect(files.filter((f) => f.path.startsWith("rules/")).length).to.be.greaterThan(0);
        expect(files.filter((f) => f.path.startsWith("components/pair/")).length, "walks into subfolders").to.be.greaterThan(0);
        expect(files.filter((f) => f.path.startsWith("twin/scenarios/")).length, "walks into the twin's scenarios").to.be.greaterThan(0);
        expect(layeringViolations(files)).to.deep.equal([]);
    });

    it("no two modules of plan/ import each other, directly or in a ring", () => {
        const files = sources("plan");
        expect(files.length).to.be.greaterThan(5);
        expect(importCycles(files)).to.deep.equal([]);
    });

    it("program.ts is where stacks/ and components/ meet", () => {
        const imported = specifiers(fs.readFileSync(path.join(ROOT, "program.ts"), "utf8"));
        expect(imported.some((s) => s.startsWith("./stacks/"))).to.equal(true);
        expect(imported.some((s) => s.startsWith("./components/"))).to.equal(true);
    });

    it("the README's Layout has one line per top-level folder, and only folders that exist", () => {
        const readme = fs.readFileSync(path.join(ROOT, "README.md"), "utf8");
        const block = /^## Layout\n\n```\n([\s\S]*?)```/m.exec(readme);
        expect(block, "a Layout section with a code block").to.not.equal(null);
        const listed = block![1].split("\n").map((l) => /^(\S+)\/\s/.exec(l)?.[1]).filter((x): x is string => x !== undefined);
        const ignored = new Set([".git", "node_modules", "bin", ".nyc_output"]); // .gitignore'd or git's
        const folders = fs
            .readdirSync(ROOT, { withFileTypes: true })
            .filter((e) => e.isDirectory() && !ignored.has(e.name) && fs.readdirSync(path.join(ROOT, e.name)).length > 0)
            .map((e) => e.name);
        expect([...listed].sort()).to.deep.equal([...folders].sort());
        expect(new Set(listed).size).to.equal(listed.length);
    });

    describe("the check itself", () => {
        it("finds every form of import", () => {
            const text = [
                'import * as a from "../stacks/a";',
                'import {\n  b,\n  c,\n} from "../stacks/b";',
                'import type { D } from "../stacks/d";',
                'export { e } from "../stacks/e";',
                'export * from "../stacks/f";',
                'import "../stacks/g";',
                'const h = require("../stacks/h");',
                'import i = require("../stacks/i");',
                'const j = await import("../stacks/j");',
            ].join("\n");
            expect(specifiers(text)).to.have.members(["a", "b", "d", "e", "f", "g", "h", "i", "j"].map((x) => `../stacks/${x}`));
        });

        it("finds modules that import each other, directly or through a third", () => {
            expect(importCycles([
                { path: "plan/a.ts", text: 'import { b } from "./b";' },
                { path: "plan/b.ts", text: 'import type { A } from "./a";' },
                { path: "plan/c.ts", text: 'import { d } from "./d";' },
                { path: "plan/d.ts", text: 'import { e } from "./e";' },
                { path: "plan/e.ts", text: 'import { c } from "./c";' },
                { path: "plan/f.ts", text: 'import { a } from "./a";' },
            ])).to.deep.equal(["plan/a.ts <-> plan/b.ts", "plan/c.ts <-> plan/d.ts", "plan/c.ts <-> plan/e.ts", "plan/d.ts <-> plan/e.ts"]);
        });

        it("flags each forbidden direction, and resolves relative paths from the importing file", () => {
            const problems = layeringViolations([
                { path: "components/x.ts", text: 'import { a } from "../stacks/config";' },
                { path: "components/pair/y.ts", text: 'import { b } from "../../stacks/schema";\nimport { c } from "../naming";' },
                { path: "stacks/z.ts", text: 'import { d } from "../components/naming";\nimport { e } from "../rules/ports";' },
                { path: "rules/r.ts", text: 'import * as pulumi from "@pulumi/pulumi";\nimport { f } from "../plan/report";\nimport { g } from "./cidr";' },
                { path: "components/p.ts", text: 'import { h } from "../twin/lab";' },
                { path: "plan/ok.ts", text: 'import { i } from "../components/naming";\nimport { j } from "../stacks/config";' },
                { path: "twin/pair.ts", text: 'import { renderNginxConf } from "../components/bootstrap/nginx";\nimport { DATABASE_NAME } from "../rules/database";' },
                { path: "twin/scenarios/acme.ts", text: 'import { renderAcmeScript } from "../../components/bootstrap/acmeScript";\nimport { acmeFromProgram } from "../fromProgram";' },
                {
                    path: "twin/fromProgram.ts",
                    text: 'import { createInfrastructure } from "../program";\nimport * as aws from "@pulumi/aws";\nimport { buildStack } from "../plan/build";\nimport { loadStackFile } from "../stacks/stackFile";',
                },
            ]);
            expect(problems).to.deep.equal([
                'components/x.ts: imports "../stacks/config" (components/ may not import stacks/)',
                'components/pair/y.ts: imports "../../stacks/schema" (components/ may not import stacks/)',
                'stacks/z.ts: imports "../components/naming" (stacks/ may not import components/)',
                'rules/r.ts: imports "@pulumi/pulumi" (rules/ may not import @pulumi/*)',
                'rules/r.ts: imports "../plan/report" (rules/ may not import plan/)',
                'components/p.ts: imports "../twin/lab" (components/ may not import twin/)',
                'twin/pair.ts: imports "../components/bootstrap/nginx" (twin/ may not import components/)',
                'twin/scenarios/acme.ts: imports "../../components/bootstrap/acmeScript" (twin/ may not import components/)',
                'twin/fromProgram.ts: imports "../program" (twin/ may not import program)',
                'twin/fromProgram.ts: imports "@pulumi/aws" (twin/ may not import @pulumi/*)',
            ]);
        });
    });
});

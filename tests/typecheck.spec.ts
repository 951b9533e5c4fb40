// `pulumi up` only transpiles the program (tsconfig.pulumi.json); the type check is `npm run typecheck`, which
// every CI path runs before the tests. These keep both halves true without running the 10 s tsc here.
import { expect } from "chai";
import * as fs from "fs";
import * as path from "path";
import * as ts from "typescript";
import { parse } from "yaml";

const ROOT = path.resolve(__dirname, "..");
// Plain JavaScript beside the start-up benchmark: what Pulumi's language host (run.js) hands ts-node.
const host = require("../tools/pulumi-load.js") as {
    tsconfigOption(root?: string): string | undefined;
    tsNodeOptions(root?: string, env?: Record<string, string | undefined>): { options: { transpileOnly?: boolean; project: string; compilerOptions: Record<string, unknown> } };
    entryImports(root?: string): string[];
};

/** A tsconfig's effective compiler options, `extends` followed, as tsc sees them. */
function effective(file: string): ts.CompilerOptions {
    const parsed = ts.getParsedCommandLineOfConfigFile(path.join(ROOT, file), {}, {
        ...ts.sys,
        onUnRecoverableConfigFileDiagnostic: (d) => {
            throw new Error(ts.flattenDiagnosticMessageText(d.messageText, "\n"));
        },
    });
    expect(parsed!.errors.map((e) => ts.flattenDiagnosticMessageText(e.messageText, "\n"))).to.deep.equal([]);
    return parsed!.options;
}

const read = (file: string) => fs.readFileSync(path.join(ROOT, file), "utf8");

describe("type check and start-up", () => {
    it("npm run typecheck is tsc over tsconfig.json, which checks every part of the repository", () => {
        const scripts = JSON.parse(read("package.json")).scripts;
        expect(scripts.typecheck).to.equal("tsc --noEmit");
        const options = effective("tsconfig.json");
        expect(options.noCheck, "tsconfig.json must type-check").to.not.equal(true);
        expect(options.strict).to.equal(true);
        const include: string[] = ts.readConfigFile(path.join(ROOT, "tsconfig.json"), ts.sys.readFile).config.include;
        for (const part of ["index.ts", "program.ts", "components", "stacks", "rules", "plan", "twin", "tests", "policy"]) {
            expect(include.some((p) => p === part || p.startsWith(`${part}/`)), part).to.equal(true);
        }
    });

    it("every CI path runs npm run typecheck after npm ci and before the tests", () => {
        const ci = read(".ci/run").split("\n");
        const at = (re: RegExp) => ci.findIndex((l) => re.test(l));
        expect(at(/^npm ci\b/)).to.be.greaterThan(-1);
        expect(at(/^npm run typecheck$/)).to.be.greaterThan(at(/^npm ci\b/));
        expect(at(/npm test/)).to.be.greaterThan(at(/^npm run typecheck$/));
        expect(read(".ci/run")).to.match(/^set -euo pipefail$/m);
        for (const workflow of ["pull-request.yml", "deploy.yml"]) {
            const steps: { run?: string }[] = parse(read(`.github/workflows/${workflow}`)).jobs.test.steps;
            const runs = steps.map((s) => s.run);
            expect(runs.indexOf("npm run typecheck"), workflow).to.be.greaterThan(runs.indexOf("npm ci"));
            expect(runs.indexOf("npm test"), workflow).to.be.greaterThan(runs.indexOf("npm run typecheck"));
        }
    });

    it("every job that previews or updates needs the job that type-checks", () => {
        for (const workflow of ["pull-request.yml", "deploy.yml"]) {
            const jobs: Record<string, { needs?: string | string[]; steps: { uses?: string }[] }> = parse(read(`.github/workflows/${workflow}`)).jobs;
            for (const [name, job] of Object.entries(jobs)) {
                if (!job.steps.some((s) => s.uses?.startsWith("pulumi/actions"))) continue;
                expect([job.needs].flat(), `${workflow} ${name}`).to.include("test");
            }
        }
    });

    it("Pulumi's host compiles with tsconfig.pulumi.json: transpile only, through sucrase", () => {
        expect(host.tsconfigOption()).to.equal("tsconfig.pulumi.json");
        const { options } = host.tsNodeOptions(ROOT, {});
        expect(options.transpileOnly).to.equal(true);
        expect(options.project).to.equal(path.join(ROOT, "tsconfig.pulumi.json"));
        const raw = ts.readConfigFile(path.join(ROOT, "tsconfig.pulumi.json"), ts.sys.readFile).config;
        expect(raw["ts-node"]).to.deep.equal({ transpiler: "sucrase/ts-node-plugin" });
        expect(require.resolve("sucrase/ts-node-plugin")).to.be.a("string");
    });

    it("the host's options match tsconfig.json's but for the check, so what runs is what tsc checked", () => {
        const checked = effective("tsconfig.json");
        const run = effective("tsconfig.pulumi.json");
        // run.js lays the file's own compilerOptions over its defaults (ES2020, nodenext): they must win here.
        const { options } = host.tsNodeOptions(ROOT, {});
        const laid = ts.convertCompilerOptionsFromJson(options.compilerOptions, ROOT).options;
        for (const key of ["target", "module", "moduleResolution"] as const) {
            expect(laid[key], key).to.equal(checked[key]);
        }
        const rest = (o: ts.CompilerOptions) => {
            const copy: Record<string, unknown> = { ...o };
            delete copy.noCheck;
            delete copy.configFilePath;
            return copy;
        };
        expect(rest(run)).to.deep.equal(rest(checked));
        expect(run.noCheck).to.equal(true);
    });

    it("PULUMI_NODEJS_TRANSPILE_ONLY still overrides, as in run.js", () => {
        expect(host.tsNodeOptions(ROOT, { PULUMI_NODEJS_TRANSPILE_ONLY: "false" }).options.transpileOnly).to.equal(false);
        expect(host.tsNodeOptions(ROOT, { PULUMI_NODEJS_TSCONFIG_PATH: "tsconfig.json" }).options.transpileOnly).to.equal(undefined);
    });

    it("the start-up benchmark loads what index.ts imports, the program among them", () => {
        const imports = host.entryImports();
        expect(imports).to.include(path.join(ROOT, "program"));
        for (const id of imports) expect(require.resolve(id), id).to.be.a("string");
    });

    it("Pulumi.yaml no longer raises node's heap: the host no longer type-checks @pulumi/aws", () => {
        expect(parse(read("Pulumi.yaml")).runtime.options).to.not.have.property("nodeargs");
    });
});

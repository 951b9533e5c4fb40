// The unit suite's guard (tests/unitGuard.ts) can fail: mocha, run as `npm test` runs it, on a file that sleeps and
// starts a program.
import { expect } from "chai";
import { spawnSync } from "child_process";
import * as path from "path";

const ROOT = path.resolve(__dirname, "..", "..");

describe("the unit suite's guard", function () {
    this.timeout(60_000);

    it("fails a unit spec that waits on a long timer or starts a program, naming the file, the test and what it did", () => {
        const run = spawnSync("npx", ["mocha", "--reporter", "spec", "tests/guardFixtures/breaksTheRules.ts"], { cwd: ROOT, encoding: "utf8" });
        const out = run.stdout + run.stderr;
        expect(run.status, out).to.equal(2);
        expect(out).to.match(/1 passing/);
        expect(out).to.match(/2 failing/);
        expect(out).to.include('tests/guardFixtures/breaksTheRules.ts: "a unit spec that breaks the unit suite\'s rules waits for a 300 ms timer": waited for a 300 ms timer');
        expect(out).to.include('"another that starts a program runs true": started a program (child_process.execFileSync "true")');
        expect(out).to.include("move the spec (or the part that does) to tests/system/");
    });
});

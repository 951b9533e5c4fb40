// The offline plan end to end: the real stack files through validation, the program under mocks and the report.
import { expect } from "chai";
import { spawnSync } from "child_process";
import * as path from "path";
import { BAD_STACK_FILE, projectWith } from "../planProjects";

const ROOT = path.resolve(__dirname, "..", "..");

describe("npm run plan", () => {
    describe("bad config", () => {
        const BAD = BAD_STACK_FILE;

        it("exits 1 from the real command line with the messages and no stack trace", function () {
            this.timeout(60000);
            const dir = projectWith({ "Pulumi.bad.yaml": BAD });
            const result = spawnSync(process.execPath, ["-r", "sucrase/register/ts", "plan/cli.ts", "bad", "--project-dir", dir], { cwd: ROOT, encoding: "utf8" });
            expect(result.status).to.equal(1);
            expect(result.stdout).to.equal("");
            expect(result.stderr).to.include("orthweb:orthanc: got \"big\"");
            expect(result.stderr).to.not.match(/\n\s+at /);
        });
    });
});

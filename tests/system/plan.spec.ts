// The offline plan end to end: the real stack files through validation, the program under mocks and the report.
import { expect } from "chai";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";

const ROOT = path.resolve(__dirname, "..", "..");

const scratch: string[] = [];
after(() => scratch.forEach((dir) => fs.rmSync(dir, { recursive: true, force: true })));

function projectWith(files: Record<string, string>): string {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "orthweb-plan-"));
    scratch.push(dir);
    for (const [name, text] of Object.entries(files)) fs.writeFileSync(path.join(dir, name), text);
    return dir;
}

describe("npm run plan", () => {
    describe("bad config", () => {
        const BAD = [
            "config:",
            "  aws:region: 42",
            "  orthweb:environment: staging",
            "  orthweb:network:",
            "    vpcCidr: [1, 2]",
            "    webClientCidrs: ['10.0.0.0/8', 12, {a: 1}]",
            "    colour: blue",
            "  orthweb:orthanc: big",
            "  orthweb:database:",
            "    allocatedStorageGiB: lots",
            "  orthweb:traffic:",
            "    frontDoor: {kind: direct}",
            "",
        ].join("\n");

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

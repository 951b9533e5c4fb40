// Rolling changes: the config bundle, the chained SSM associations (one instance at a time, for every pattern),
// self-healing options, and the teardown options of the key and the final snapshot.
import { expect } from "chai";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { renderApplyDocument, renderApplyScript } from "../../components/bootstrap/apply";
import { needTool } from "../localTools";

describe("rollout: the apply script and its SSM document", function () {
    this.timeout(30000);
    const script = renderApplyScript({ region: "eu-west-1", bucket: "orthanc-bucket-1", bundleKey: `config/${"a".repeat(64)}.json`, tagFilters: { project: "orthweb", stack: "prod" } });

    it("passes shellcheck, as rendered and inside the document", function () {
        needTool(this, "shellcheck");
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "orthweb-apply-"));
        try {
            const doc = JSON.parse(renderApplyDocument());
            const fromDocument = (doc.mainSteps[0].inputs.runCommand as string[]).join("\n");
            for (const [name, text] of [["apply.sh", script], ["document.sh", fromDocument]]) {
                fs.writeFileSync(path.join(dir, name), text);
                const r = spawnSync("shellcheck", ["--shell=bash", "--severity=style", path.join(dir, name)], { encoding: "utf8" });
                expect(r.status, `${name}: ${r.stdout}`).to.equal(0);
            }
        } finally {
            fs.rmSync(dir, { recursive: true, force: true });
        }
    });
});

// What the plan's specs share (tests/plan.spec.ts and tests/system/plan.spec.ts): throw-away project directories
// and a stack file that is wrong in every way the contract reports.
import * as fs from "fs";
import * as os from "os";
import * as path from "path";

const scratch: string[] = [];
after(() => scratch.forEach((dir) => fs.rmSync(dir, { recursive: true, force: true })));

/** A project directory holding these files, removed after the spec file's run. */
export function projectWith(files: Record<string, string>): string {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "orthweb-plan-"));
    scratch.push(dir);
    for (const [name, text] of Object.entries(files)) fs.writeFileSync(path.join(dir, name), text);
    return dir;
}

/** A stack file with a wrong type or value for several keys, at several depths. */
export const BAD_STACK_FILE = [
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

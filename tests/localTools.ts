// Real Debian tools in tests: a spec that needs one is pending (with the reason) where the tool is missing, and
// fails instead when REQUIRE_TOOLS=1 (CI installs .ci/debian-packages.txt and sets it).
import { spawnSync } from "child_process";

export function hasTool(command: string): boolean {
    return spawnSync("sh", ["-c", `command -v ${command}`], { stdio: "ignore" }).status === 0;
}

/** Call first in an `it`/`before`: skips (or fails under REQUIRE_TOOLS=1) when `command` is not installed. */
export function needTool(context: Mocha.Context, command: string, debianPackage: string = command): void {
    if (hasTool(command)) return;
    const reason = `${command} is not installed (apt-get install -y ${debianPackage})`;
    if (process.env.REQUIRE_TOOLS === "1") throw new Error(`REQUIRE_TOOLS=1: ${reason}`);
    // Mocha prints the title only; say why. (skip() throws, so this comes first.)
    console.warn(`  pending: ${reason}`);
    context.skip();
}

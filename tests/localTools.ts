// Real Debian tools in tests: a spec that needs one is pending (with the reason) where the tool is missing, and
// fails instead when REQUIRE_TOOLS=1 (CI installs .ci/debian-packages.txt and sets it).
import { execFileSync, spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { rsaKeyFile } from "./runFixtures";

export function hasTool(command: string): boolean {
    return spawnSync("sh", ["-c", `command -v ${command}`], { stdio: "ignore" }).status === 0;
}

function skipOrFail(context: Mocha.Context, reason: string): never {
    if (process.env.REQUIRE_TOOLS === "1") throw new Error(`REQUIRE_TOOLS=1: ${reason}`);
    // Mocha prints the title only; say why. (skip() throws, so this comes first.)
    console.warn(`  pending: ${reason}`);
    return context.skip();
}

/** Call first in an `it`/`before`: skips (or fails under REQUIRE_TOOLS=1) when `command` is not installed. */
export function needTool(context: Mocha.Context, command: string, debianPackage: string = command): void {
    if (!hasTool(command)) skipOrFail(context, `${command} is not installed (apt-get install -y ${debianPackage})`);
}

/** Like needTool, for a file a package installs (a module, a plugin). */
export function needFile(context: Mocha.Context, file: string, debianPackage: string): void {
    if (!fs.existsSync(file)) skipOrFail(context, `${file} is missing (apt-get install -y ${debianPackage})`);
}

/**
 * A real self-signed RSA certificate and its key from openssl (`<dir>/<label>.crt` and `.key`, CN=<label>), valid for
 * `days`, with the given subjectAltName. The key is the run's pooled key named `key` (tests/runFixtures.ts; by
 * default the label): certificates may share a key, and only those that must not match one another's key need
 * different names (each name costs an RSA key generation, about 0.2 s of CPU).
 */
export function makeSelfSignedCertificate(dir: string, label: string, san: string, days = 30, key = label): { cert: string; key: string } {
    const keyFile = path.join(dir, `${label}.key`);
    const certFile = path.join(dir, `${label}.crt`);
    fs.copyFileSync(rsaKeyFile(`self-signed-${key}`), keyFile);
    execFileSync(
        "openssl",
        ["req", "-x509", "-new", "-key", keyFile, "-out", certFile, "-days", String(days), "-subj", `/CN=${label}`, "-addext", `subjectAltName=${san}`],
        { stdio: "ignore" },
    );
    return { cert: fs.readFileSync(certFile, "utf8"), key: fs.readFileSync(keyFile, "utf8") };
}

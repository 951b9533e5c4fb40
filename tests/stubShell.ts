// Runs one of the program's shell scripts for real (bash) with stand-ins first on PATH (the AWS CLI, the metadata
// service's curl, ip): each stand-in is a small script that answers from the environment and appends the calls that
// matter to $CALLS. The scripts' own logic, bash's error handling included, is what the specs test.
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";

/**
 * curl as the instance metadata service: a token for the PUT, then each `meta-data/<path>` from `answers` (a key
 * starting with `*` matches the end of any path: `*interface-id`); anything else is a 404 (exit 22, as curl -f).
 */
export function metadataStub(answers: Record<string, string>): string {
    const cases = Object.entries(answers).map(([p, value]) => `    ${p.startsWith("*") ? p : `*meta-data/${p}`}) echo ${value} ;;`);
    return ["#!/bin/bash", 'case "$*" in', "    *api/token*) echo token ;;", ...cases, "    *) exit 22 ;;", "esac", ""].join("\n");
}

export class StubShell {
    readonly dir: string;
    private readonly callsFile: string;

    constructor(label: string, stubs: Record<string, string>) {
        this.dir = fs.mkdtempSync(path.join(os.tmpdir(), `orthweb-${label}-`));
        fs.mkdirSync(path.join(this.dir, "bin"));
        for (const [name, text] of Object.entries(stubs)) fs.writeFileSync(path.join(this.dir, "bin", name), text, { mode: 0o755 });
        this.callsFile = path.join(this.dir, "calls");
    }

    /** Writes `text` as a script in the scratch directory and returns its path. */
    script(name: string, text: string): string {
        const file = path.join(this.dir, name);
        fs.writeFileSync(file, text, { mode: 0o700 });
        return file;
    }

    /** Runs `bash script args` with the stand-ins; every variable of `env` is set (use "" for off). */
    run(script: string, args: readonly string[], env: Record<string, string>): { status: number | null; stderr: string; calls: string[] } {
        fs.writeFileSync(this.callsFile, "");
        const r = spawnSync("bash", [script, ...args], { encoding: "utf8", env: { ...process.env, PATH: `${path.join(this.dir, "bin")}:${process.env.PATH}`, CALLS: this.callsFile, ...env } });
        return { status: r.status, stderr: r.stderr, calls: fs.readFileSync(this.callsFile, "utf8").split("\n").filter(Boolean) };
    }

    remove(): void {
        fs.rmSync(this.dir, { recursive: true, force: true });
    }
}

// Reads Pulumi.<stack>.yaml without the Pulumi CLI, for the offline plan and the stack tests.
import * as fs from "fs";
import * as path from "path";
import { parse } from "yaml";

export interface StackFile {
    readonly stack: string;
    readonly file: string;
    /** Full key -> value; encrypted values are replaced by placeholders. */
    readonly config: Record<string, unknown>;
    /** Keys whose value was `secure:` (encrypted) in the file. */
    readonly encryptedKeys: ReadonlySet<string>;
}

export const SECRET_PLACEHOLDER = "(encrypted secret: not readable offline)";

export function stackFilePath(stack: string, projectDir: string = path.resolve(__dirname, "..")): string {
    return path.join(projectDir, `Pulumi.${stack}.yaml`);
}

/** Stack names that have a Pulumi.<stack>.yaml in the project directory, sorted. */
export function listStacks(projectDir: string = path.resolve(__dirname, "..")): string[] {
    return fs
        .readdirSync(projectDir)
        .map((f) => /^Pulumi\.(.+)\.yaml$/.exec(f)?.[1])
        .filter((s): s is string => s !== undefined)
        .sort();
}

function isSecure(value: unknown): boolean {
    return typeof value === "object" && value !== null && !Array.isArray(value) && Object.keys(value).length === 1 && "secure" in value;
}

/** A stack file that is not YAML, or whose shape is not `config: {key: value}`. */
export class StackFileError extends Error {
    constructor(public readonly file: string, public readonly problem: string) {
        super(`${file}: ${problem}`);
        this.name = "StackFileError";
    }
}

function isMapping(value: unknown): value is Record<string, unknown> {
    return typeof value === "object" && value !== null && !Array.isArray(value);
}

function readYaml(file: string, text: string): unknown {
    try {
        return parse(text);
    } catch (e) {
        throw new StackFileError(file, `not valid YAML: ${(e as Error).message.split("\n")[0]}`);
    }
}

export function parseStackFileText(stack: string, file: string, text: string): StackFile {
    const doc = readYaml(file, text) ?? {};
    if (!isMapping(doc)) throw new StackFileError(file, `got ${JSON.stringify(doc)}; allowed: a YAML mapping with a config: section`);
    if (doc.config !== undefined && doc.config !== null && !isMapping(doc.config)) {
        throw new StackFileError(file, `config: got ${JSON.stringify(doc.config)}; allowed: a mapping of keys such as orthweb:traffic`);
    }
    const config: Record<string, unknown> = {};
    const encryptedKeys = new Set<string>();
    for (const [key, value] of Object.entries((doc.config ?? {}) as Record<string, unknown>)) {
        if (isSecure(value)) {
            encryptedKeys.add(key);
            config[key] = SECRET_PLACEHOLDER;
        } else {
            config[key] = value;
        }
    }
    return { stack, file, config, encryptedKeys };
}

export function loadStackFile(stack: string, projectDir?: string): StackFile {
    const file = stackFilePath(stack, projectDir);
    if (!fs.existsSync(file)) {
        const known = listStacks(projectDir);
        throw new Error(`No stack file ${path.basename(file)}; stacks in this project: ${known.join(", ") || "none"}`);
    }
    return parseStackFileText(stack, file, fs.readFileSync(file, "utf8"));
}

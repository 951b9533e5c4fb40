// What changes between the files an instance boots from and what the twin runs with Debian's packages.
// Every change is computed as a diff of the program's rendered file against the twin's, and each carries its
// reason, so the list the twin prints is complete by construction.

export const DEBIAN_PLUGIN_DIR = "/usr/share/orthanc/plugins";
export const DEBIAN_PLUGINS = [`${DEBIAN_PLUGIN_DIR}/libOrthancPostgreSQLIndex.so`, `${DEBIAN_PLUGIN_DIR}/libOrthancPostgreSQLStorage.so`];
export const DEBIAN_STREAM_MODULE = "/usr/lib/nginx/modules/ngx_stream_module.so";

export interface Change {
    readonly path: string;
    readonly from: unknown;
    readonly to: unknown;
}

export interface Deviation extends Change {
    readonly why: string;
}

/** Leaf-level differences between two JSON values; arrays compare as values. Paths look like jq's (.A.B). */
export function jsonChanges(before: unknown, after: unknown, path = ""): Change[] {
    const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);
    if (isObject(before) && isObject(after)) {
        const keys = [...new Set([...Object.keys(before), ...Object.keys(after)])];
        return keys.flatMap((k) => jsonChanges(before[k], after[k], `${path}.${k}`));
    }
    return JSON.stringify(before) === JSON.stringify(after) ? [] : [{ path: path || ".", from: before, to: after }];
}

export interface TwinOrthancParams {
    /** The twin's PostgreSQL address as this instance reaches it (the RDS endpoint on AWS). */
    readonly databaseHost: string;
    readonly databasePort: number;
    /** A directory of the twin's own; Debian's system Orthanc owns the rendered one. */
    readonly storageDirectory: string;
}

const WHY: Record<string, string> = {
    ".Plugins": "Debian's Orthanc loads only the plugins listed; the orthancteam image enables them from their config sections",
    ".PostgreSQL.EnableStorage": "S3 stand-in: Debian ships no S3 plugin, so the shared PostgreSQL holds the files; both instances still share one store",
    ".PostgreSQL.Host": "RDS stand-in: the twin's PostgreSQL, as this instance's namespace reaches it",
    ".PostgreSQL.Port": "RDS stand-in: the twin's PostgreSQL port",
    ".StorageDirectory": "Debian's own Orthanc service owns the rendered directory; unused with storage in PostgreSQL",
};

/** What stays as rendered but has no effect on Debian. */
export const INERT_ON_DEBIAN = [".AwsS3Storage: kept as rendered; inert without the S3 plugin (storage is in PostgreSQL, see .PostgreSQL.EnableStorage)"];

/** The rendered orthanc.json (without secrets) adapted to Debian's Orthanc 1.10.1, and each change with its reason. */
export function debianOrthancConfig(rendered: Record<string, unknown>, twin: TwinOrthancParams): { config: Record<string, unknown>; deviations: Deviation[] } {
    const config = structuredClone(rendered);
    const pg = config.PostgreSQL as Record<string, unknown> | undefined;
    if (!pg || pg.EnableIndex !== true) throw new Error("rendered orthanc.json has no PostgreSQL index (PostgreSQL.EnableIndex); the twin shares one index like the pair does");
    config.Plugins = [...DEBIAN_PLUGINS];
    pg.EnableStorage = true;
    pg.Host = twin.databaseHost;
    pg.Port = twin.databasePort;
    config.StorageDirectory = twin.storageDirectory;
    const deviations = jsonChanges(rendered, config).map((c) => ({ ...c, why: WHY[c.path] ?? "(no reason recorded)" }));
    return { config, deviations };
}

/** The line of the start script's jq call that names its input: the orthanc.json template, written to run/orthanc.json. */
const SECRETS_CALL_INPUT = '"$DIR/orthanc.template.json" | replace_file "$DIR/run/orthanc.json"';
/** Its arguments before the filter: the variables the filter reads, as the twin passes them (--arg). */
const SECRETS_CALL_VARIABLES = ["--arg user ", "--rawfile password ", "--rawfile admin ", "--rawfile health "];

/**
 * The jq program the start script runs to put the secrets into orthanc.json, read out of the rendered start.sh: the
 * single-quoted argument on the line before the template's, after the variables $user, $password, $admin, $health.
 * Throws, naming what it did not find, when the script holds no such call.
 */
export function secretsFilter(startScript: string): string {
    const lines = startScript.split("\n");
    const at = lines.flatMap((line, i) => (line.includes(SECRETS_CALL_INPUT) ? [i] : []));
    if (at.length !== 1) throw new Error(`start.sh: ${at.length} lines run jq on the orthanc.json template (${SECRETS_CALL_INPUT}); the twin expects one`);
    const quoted = /^\s*'((?:[^']|'\\'')*)' \\$/.exec(lines[at[0] - 1]);
    if (!quoted) throw new Error(`start.sh: the line before the template's is not the jq filter as one single-quoted word: ${lines[at[0] - 1]}`);
    const call = lines.slice(Math.max(0, at[0] - 1 - SECRETS_CALL_VARIABLES.length), at[0] - 1).join("\n");
    const missing = SECRETS_CALL_VARIABLES.filter((v) => !call.includes(v));
    if (missing.length > 0) throw new Error(`start.sh: the jq call before the filter does not pass ${missing.map((m) => m.trim()).join(", ")}`);
    return quoted[1].split("'\\''").join("'");
}

/** Debian builds nginx's stream module separately (libnginx-mod-stream); the pinned image has it built in. */
export function debianNginxConf(rendered: string): string {
    return `load_module ${DEBIAN_STREAM_MODULE};\n${rendered}`;
}

export interface LineChange {
    readonly removed?: string;
    readonly added?: string;
}

/** Lines removed from / added to `before` to get `after` (longest common subsequence), trimmed. */
export function lineChanges(before: string, after: string): LineChange[] {
    const a = before.split("\n");
    const b = after.split("\n");
    const lcs: number[][] = Array.from({ length: a.length + 1 }, () => new Array<number>(b.length + 1).fill(0));
    for (let i = a.length - 1; i >= 0; i--) {
        for (let j = b.length - 1; j >= 0; j--) lcs[i][j] = a[i] === b[j] ? lcs[i + 1][j + 1] + 1 : Math.max(lcs[i + 1][j], lcs[i][j + 1]);
    }
    const out: LineChange[] = [];
    let [i, j] = [0, 0];
    while (i < a.length || j < b.length) {
        if (i < a.length && j < b.length && a[i] === b[j]) {
            i++;
            j++;
        } else if (i < a.length && (j >= b.length || lcs[i + 1][j] >= lcs[i][j + 1])) {
            out.push({ removed: a[i++].trim() });
        } else {
            out.push({ added: b[j++].trim() });
        }
    }
    return out;
}

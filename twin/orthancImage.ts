// What the orthancteam image does to /etc/orthanc/*.json before Orthanc reads it, and Debian's Orthanc does not:
// its entrypoint (docker/orthanc/generateConfiguration.py in orthanc-builder) runs `envsubst(content)` from the
// Python envsubst package (0.1.5) over each file's text. The package's rule, as its source has it:
//   1. `$NAME`   where NAME is [A-Za-z0-9_]+ and the `$` is not preceded by a backslash: the environment
//      variable NAME, or "" when unset (an all-digit NAME is an index into the entrypoint's sys.argv instead);
//   2. then `${NAME}`, `${NAME:-default}`, `${NAME-default}` (same NAME and backslash rule): the variable, or
//      the default (itself substituted by rule 1) when unset (`-`) or unset or empty (`:-`), or "" with no default.
// The twin applies it to the filled orthanc.json, so a credential that would not survive the image fails here too.

const SIMPLE = /(?<!\\)\$([A-Za-z0-9_]+)/g;
const EXTENDED = /(?<!\\)\$\{([A-Za-z0-9_]+)((:?-)([^}]+))?\}/g;

/** The entrypoint's argv: docker-entrypoint.sh runs `cd /startup; python3 generateConfiguration.py` (argv[0] is the script). */
export const ENTRYPOINT_ARGV = ["generateConfiguration.py"];

export function imageEnvsubst(text: string, env: Readonly<Record<string, string | undefined>>, argv: readonly string[] = ENTRYPOINT_ARGV): string {
    const resolve = (name: string, fallback: string | undefined): string | undefined => {
        // Python's int() also reads digit groups joined by _ ("1_0" is 10).
        if (/^\d+(?:_\d+)*$/.test(name)) return argv[Number(name.replace(/_/g, ""))] ?? fallback;
        return env[name] ?? fallback;
    };
    const simple = (s: string) => s.replace(SIMPLE, (_m, name: string) => resolve(name, "") ?? "");
    return simple(text).replace(EXTENDED, (_m, name: string, spec: string | undefined, op: string | undefined, dflt: string | undefined) => {
        if (!spec) return resolve(name, "") ?? "";
        const fallback = simple(String(dflt));
        if (op === ":-") return resolve(name, undefined) || fallback;
        return resolve(name, fallback) ?? fallback;
    });
}

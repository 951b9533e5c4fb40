// The capabilities each container gets on the instance (the compose file's cap_drop and cap_add), as the twin gives
// them to the process that stands in for it: setpriv's bounding set, after which a root process holds only those;
// and the command compose runs in a container, which the twin runs the same way.
import { parse } from "yaml";

interface ComposeService {
    readonly cap_drop?: string[];
    readonly cap_add?: string[];
    readonly entrypoint?: string[];
    readonly command?: string[];
}

function composeService(composeYaml: string, service: string): ComposeService {
    const doc = parse(composeYaml) as { services?: Record<string, ComposeService> };
    const s = doc.services?.[service];
    if (!s) throw new Error(`the compose file has no service ${service}`);
    return s;
}

/** A service's entrypoint and command as the compose file gives them (lists; a string form is not modelled). */
export function composeCommand(composeYaml: string, service: string): { entrypoint: string[]; command: string[] } {
    const s = composeService(composeYaml, service);
    const list = (key: "entrypoint" | "command") => {
        const value = s[key];
        if (!Array.isArray(value) || !value.every((v) => typeof v === "string")) throw new Error(`${service}: ${key} ${JSON.stringify(value)}: the twin runs only a list of strings`);
        return [...value];
    };
    return { entrypoint: list("entrypoint"), command: list("command") };
}

/**
 * setpriv's --bounding-set value for a compose service: `-all,+chown,...` when it drops ALL, undefined when it keeps
 * Docker's defaults (the twin then runs it as it is). Throws on a service the file does not have, or a partial drop
 * (the twin would have to know Docker's default set to model it).
 */
export function boundingSet(composeYaml: string, service: string): string | undefined {
    const s = composeService(composeYaml, service);
    if (!s.cap_drop) return undefined;
    if (s.cap_drop.length !== 1 || s.cap_drop[0] !== "ALL") throw new Error(`${service}: cap_drop ${JSON.stringify(s.cap_drop)}: the twin models only [ALL]`);
    return ["-all", ...(s.cap_add ?? []).map((c) => `+${c.toLowerCase()}`)].join(",");
}

/** A command run with the capabilities of `service`: setpriv in front of it when the service drops any. */
export function withCapabilitiesOf(composeYaml: string, service: string, cmd: string, args: readonly string[]): [string, string[]] {
    const bounding = boundingSet(composeYaml, service);
    return bounding === undefined ? [cmd, [...args]] : ["setpriv", [`--bounding-set=${bounding}`, "--inh-caps=-all", "--", cmd, ...args]];
}

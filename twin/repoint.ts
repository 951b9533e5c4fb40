// The twin runs the files the program renders, taken out of its plan (twin/fromProgram.ts). Where the twin's world
// differs from an instance's (its own directories and lock file, its addresses, Debian's binaries instead of
// containers, the parameters SSM would fill in), it changes a file only by substitutions listed here: each names what
// it re-points and why, and must match the program's file exactly as often as expected, or the twin stops and names
// the substitution that did not. The twin prints every substitution it made.
import { HEALTHZ_CONTAINER_ADDRESS, ORTHANC_CONTAINER_ADDRESS } from "../rules/containerNetwork";
import {
    APPLY_LOCK_FILE,
    BOOTSTRAP_DIR,
    NGINX_CERTIFICATE,
    NGINX_CERTIFICATE_KEY,
    NGINX_DICOM_CLIENT_CA,
    NGINX_DICOM_SENDER_GATE,
    NGINX_PID_FILE,
    PEER_MAP_GLOB,
    PEER_TLS_FILES,
    PeerTlsFiles,
} from "../rules/instanceFiles";
import { PEER_DICOM_PORT, PEER_WEB_PORT } from "../rules/ports";

export interface Substitution {
    /** What it re-points, in a few words: the log and a failure name it. */
    readonly what: string;
    /** The text as the program renders it: a literal, or a pattern (every match counts). */
    readonly from: string | RegExp;
    readonly to: string;
    /** How often the program's file holds it (0: must not hold it, e.g. a listener the stack does not have). */
    readonly count: number;
    readonly why: string;
}

/** A file of the program no longer holds what the twin re-points (it changed): the twin stops rather than guess. */
export class SubstitutionError extends Error {}

const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
const globally = (from: string | RegExp) => (typeof from === "string" ? new RegExp(escapeRegExp(from), "g") : new RegExp(from.source, from.flags.includes("g") ? from.flags : `${from.flags}g`));

/** `text` (the program's `file`) with every substitution applied in order, each checked for its count first. */
export function substitute(file: string, text: string, substitutions: readonly Substitution[]): string {
    let out = text;
    for (const s of substitutions) {
        const pattern = globally(s.from);
        const found = out.match(pattern)?.length ?? 0;
        if (found !== s.count) {
            throw new SubstitutionError(`${file}: the twin's substitution "${s.what}" expects ${s.count} match(es) of ${String(s.from)} in the program's file, found ${found}; the twin does not guess`);
        }
        out = out.replace(pattern, () => s.to);
    }
    return out;
}

/** One log line per substitution made (those expected 0 times changed nothing and are left out). */
export function describeSubstitutions(substitutions: readonly Substitution[]): string[] {
    return substitutions.filter((s) => s.count > 0).map((s) => `${s.what}: ${String(s.from)} -> ${s.to} (x${s.count}): ${s.why}`);
}

/** A value to go inside a single-quoted shell word: the twin's paths and names never hold a quote; refuse rather than quote. */
function quoteFree(value: string): string {
    if (value.includes("'")) throw new SubstitutionError(`the twin puts ${JSON.stringify(value)} into a single-quoted shell word, and it holds a quote`);
    return value;
}

/** A single-quoted shell word. */
const singleQuoted = (value: string): string => `'${quoteFree(value)}'`;

/** Where the twin's nginx for one instance finds its files and binds its peer-only listeners. */
export interface TwinNginxFiles {
    readonly certificatePath: string;
    readonly keyPath: string;
    readonly pidPath: string;
    /** The instance's address on the link to its peer: where the peer-only listeners bind. */
    readonly peerListenAddress: string;
    readonly peerMapGlob: string;
    readonly peerTls: PeerTlsFiles;
    /** The modalities' CA, when the program's nginx.conf asks senders for a certificate. */
    readonly dicomClientCaPath?: string;
    /** The sender gate script, when the program's nginx.conf imports it. */
    readonly dicomSenderGatePath?: string;
}

/** The program's nginx.conf (an instance's) re-pointed at one twin instance's files and addresses. */
export function nginxSubstitutions(t: TwinNginxFiles): Substitution[] {
    const inNamespace = "Orthanc and the health checker run as processes in the instance's namespace, on loopback, not in compose containers at their pinned addresses";
    const tlsFiles = "the twin's files; on an instance the start script writes them from the TLS secret into run/tls, nginx's /etc/nginx/tls";
    return [
        { what: "Orthanc's address", from: `${ORTHANC_CONTAINER_ADDRESS}:`, to: "127.0.0.1:", count: 4, why: inNamespace },
        { what: "the health checker's address", from: `${HEALTHZ_CONTAINER_ADDRESS}:`, to: "127.0.0.1:", count: 1, why: inNamespace },
        { what: "the server certificate", from: NGINX_CERTIFICATE, to: t.certificatePath, count: 2, why: `a certificate for the twin's addresses: ${tlsFiles}` },
        { what: "the server key", from: NGINX_CERTIFICATE_KEY, to: t.keyPath, count: 2, why: tlsFiles },
        { what: "the peer certificate", from: PEER_TLS_FILES.certificatePath, to: t.peerTls.certificatePath, count: 4, why: `issued by the twin from the program's plan: ${tlsFiles}` },
        { what: "the peer key", from: PEER_TLS_FILES.keyPath, to: t.peerTls.keyPath, count: 4, why: tlsFiles },
        { what: "the peer CA", from: PEER_TLS_FILES.caPath, to: t.peerTls.caPath, count: 4, why: tlsFiles },
        { what: "the modalities' CA", from: NGINX_DICOM_CLIENT_CA, to: t.dicomClientCaPath ?? "", count: t.dicomClientCaPath ? 1 : 0, why: `issued by the twin from the program's plan: ${tlsFiles}` },
        { what: "the sender gate", from: NGINX_DICOM_SENDER_GATE, to: t.dicomSenderGatePath ?? "", count: t.dicomSenderGatePath ? 1 : 0, why: "the program's script, written where the twin's nginx reads it (compose mounts it on an instance)" },
        { what: "the peer map", from: PEER_MAP_GLOB, to: t.peerMapGlob, count: 2, why: "the twin writes the map where peer.sh writes it on an instance (compose mounts run/peer)" },
        { what: "the pid file", from: `pid ${NGINX_PID_FILE};`, to: `pid ${t.pidPath};`, count: 1, why: "one nginx per twin instance on one host: each its own pid file" },
        { what: "the peer-only web listener", from: `listen ${PEER_WEB_PORT} ssl;`, to: `listen ${t.peerListenAddress}:${PEER_WEB_PORT} ssl;`, count: 1, why: "on AWS only the pair's security group may reach it; the twin has none, so it binds it on the instance link, which only the peer reaches" },
        { what: "the peer-only DICOM listener", from: `listen ${PEER_DICOM_PORT} ssl;`, to: `listen ${t.peerListenAddress}:${PEER_DICOM_PORT} ssl;`, count: 1, why: "as the web one" },
    ];
}

/** The values SSM fills into the apply document's `{{ name }}` placeholders, and the twin's instance directories. */
export interface TwinApplyRun extends TwinApplyParameters {
    /** The twin instance's stand-in for /opt/orthweb. */
    readonly dir: string;
    readonly lockFile: string;
}

/** What an association passes the apply document (its parameters). */
export interface TwinApplyParameters {
    readonly region: string;
    readonly bucket: string;
    readonly bundleKey: string;
    readonly project: string;
    readonly stack: string;
    readonly mode: "apply" | "gate";
}

/**
 * The SSM document's apply script as SSM runs it for an association, on one twin instance. `patterns`: the document's
 * allowedPattern per parameter, which SSM checks first (a value it would refuse stops the twin too).
 */
export function applySubstitutions(r: TwinApplyRun, patterns: Readonly<Record<string, string | undefined>>): Substitution[] {
    const ssm = "what SSM does with the association's parameters (each checked against the document's allowedPattern) before it runs the script";
    const parameters: (keyof TwinApplyParameters)[] = ["region", "bucket", "bundleKey", "project", "stack", "mode"];
    for (const name of parameters) {
        const pattern = patterns[name];
        if (pattern === undefined || !new RegExp(pattern).test(r[name])) throw new SubstitutionError(`the apply document's parameter ${name}: SSM would refuse ${JSON.stringify(r[name])} (allowedPattern ${pattern ?? "none: no such parameter"})`);
    }
    return [
        ...parameters.map((name): Substitution => ({ what: `parameter ${name}`, from: `{{ ${name} }}`, to: r[name], count: 1, why: ssm })),
        { what: "the bootstrap directory", from: `'${BOOTSTRAP_DIR}`, to: `'${quoteFree(r.dir)}`, count: 4, why: "each twin instance's files in a directory of its own (DIR and the files whose change restarts a container)" },
        { what: "the apply lock", from: singleQuoted(APPLY_LOCK_FILE), to: singleQuoted(r.lockFile), count: 1, why: "each twin instance's own lock (the instances share one host's /run)" },
    ];
}

/** How the twin runs lego and reloads nginx for one instance, and that instance's directory. */
export interface TwinAcmeRun {
    /** The twin instance's stand-in for /opt/orthweb (run/tls and run/acme under it). */
    readonly dir: string;
    readonly legoCommand: readonly string[];
    readonly reloadCommand: readonly string[];
}

/** The program's acme.sh run with Debian's lego on a twin instance. */
export function acmeSubstitutions(r: TwinAcmeRun): Substitution[] {
    const words = (command: readonly string[]) => `(${command.map(singleQuoted).join(" ")})`;
    return [
        { what: "the bootstrap directory", from: `readonly DIR=${singleQuoted(BOOTSTRAP_DIR)}`, to: `readonly DIR=${singleQuoted(r.dir)}`, count: 1, why: "each twin instance's files in a directory of its own" },
        { what: "lego", from: /^readonly LEGO=\(docker run .*\)$/m, to: `readonly LEGO=${words(r.legoCommand)}`, count: 1, why: "Debian's lego binary where an instance runs the pinned image: the same lego arguments" },
        { what: "lego's path", from: "readonly LEGO_PATH=/lego", to: 'readonly LEGO_PATH="$STATE/lego"', count: 1, why: "the image's /lego is the volume $STATE/lego; the binary uses that directory itself" },
        { what: "the registry login", from: /^readonly REGISTRY='[^']*'$/m, to: "readonly REGISTRY=''", count: 1, why: "no image to pull with Debian's lego, so no ECR login" },
        { what: "nginx's reload", from: /^readonly RELOAD=\(docker compose .*\)$/m, to: `readonly RELOAD=${words(r.reloadCommand)}`, count: 1, why: "the twin's nginx is a process in the instance's namespace, not a compose container" },
    ];
}

/**
 * A compose command with the values after some flags replaced: each flag must be there exactly once, with a value.
 * Returns the command and one substitution per flag (for the log).
 */
export function withFlagValues(file: string, command: readonly string[], values: Readonly<Record<string, { readonly to: string; readonly why: string }>>): { command: string[]; substitutions: Substitution[] } {
    const out = [...command];
    const substitutions: Substitution[] = [];
    for (const [flag, { to, why }] of Object.entries(values)) {
        const at = out.flatMap((arg, i) => (arg === flag ? [i] : []));
        if (at.length !== 1 || at[0] + 1 >= out.length) throw new SubstitutionError(`${file}: the twin's substitution "${flag}" expects the flag once with a value in the program's command, found it ${at.length} time(s): ${JSON.stringify(command)}`);
        substitutions.push({ what: flag, from: out[at[0] + 1], to, count: 1, why });
        out[at[0] + 1] = to;
    }
    return { command: out, substitutions };
}

// acme: the instances get their certificate from a real ACME CA (pebble, in Debian) by DNS-01 in a zone the twin
// serves, through a stand-in for the Route 53 API that enforces the instance role's Route 53 statement. The program's
// own renewal script (acme.sh out of the config bundle of the prod stack with a dns front door and tls.source acme
// from pebble, under mocks) runs in each instance's namespace with Debian's lego where an instance runs the pinned
// image (lego's arguments are the same; twin/repoint.ts lists what the twin re-points), and stand-ins for the lock
// object, the secret and the metric. The Route 53 stand-in applies the role's statement from the same plan.
// 1. both instances run it at once: one issues, the other waits and serves the shared certificate; a client verifies
//    both against pebble's root;
// 2. pebble issues 29-day certificates, so the next runs (both at once again) are a renewal (due within 30 days): one
//    instance renews, the other waits for it, while clients make TLS handshakes to both without pause; both nginx
//    reload and no handshake fails.
// Summary line: `twin acme: issued in <S>s, renewed in <R>s, <N> handshakes during reload, <F> failed`.
import * as fs from "fs";
import * as path from "path";
import * as tls from "tls";
import * as https from "https";
import { X509Certificate } from "crypto";
import { RENEW_BEFORE_DAYS } from "../../rules/acme";
import { frontDoorName } from "../../rules/dnsName";
import { AWS_STAND_IN, METADATA_STAND_IN } from "../acmeStandIns";
import { TwinZone } from "../acmeZone";
import { now, sleep, waitFor } from "../clients";
import { acmeFromProgram } from "../fromProgram";
import { inNs, must, run as runCommand } from "../lab";
import { say, TwinFailure, TwinPair } from "../pair";
import { acmeSubstitutions, describeSubstitutions, substitute } from "../repoint";
import { Measured, Scenario, ScenarioContext } from "../scenario";

const ZONE = "example.org";
const RECORD = "pacs";
const NAME = frontDoorName({ zoneName: ZONE, recordName: RECORD });
const EMAIL = "pki@example.org";
/** Pebble's certificates live one day less than the renewal window: the run after an issuance renews. */
const VALIDITY_SECONDS = (RENEW_BEFORE_DAYS - 1) * 86400;
const TIMING = { handshakeConcurrency: 4, reloadWindowBeforeMs: 1000, reloadWindowAfterMs: 2000, settleMs: 1500, scriptTimeoutMs: 90000 } as const;

/** `twin acme: issued in <S>s, renewed in <R>s, <N> handshakes during reload, <F> failed` */
export function acmeSummary(issuedSeconds: number, renewedSeconds: number, handshakesDuringReload: number, failed: number): string {
    return `twin acme: issued in ${issuedSeconds.toFixed(1)}s, renewed in ${renewedSeconds.toFixed(1)}s, ${handshakesDuringReload} handshakes during reload, ${failed} failed`;
}

/** A CA of the twin's own (openssl) and leaves it signs: pebble's listener and the Route 53 stand-in's. */
async function twinCa(dir: string, leaves: Record<string, string>): Promise<{ ca: string; leaves: Record<string, { cert: string; key: string }> }> {
    fs.mkdirSync(dir, { recursive: true });
    const ca = path.join(dir, "ca.crt");
    const caKey = path.join(dir, "ca.key");
    await must("openssl", ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=orthweb twin services CA", "-keyout", caKey, "-out", ca]);
    const out: Record<string, { cert: string; key: string }> = {};
    for (const [label, san] of Object.entries(leaves)) {
        const cert = path.join(dir, `${label}.crt`);
        const key = path.join(dir, `${label}.key`);
        const csr = path.join(dir, `${label}.csr`);
        const ext = path.join(dir, `${label}.ext`);
        fs.writeFileSync(ext, `subjectAltName=${san}\nextendedKeyUsage=serverAuth\n`);
        await must("openssl", ["req", "-newkey", "rsa:2048", "-nodes", "-subj", `/CN=${label}`, "-keyout", key, "-out", csr]);
        await must("openssl", ["x509", "-req", "-in", csr, "-CA", ca, "-CAkey", caKey, "-CAcreateserial", "-days", "2", "-extfile", ext, "-out", cert]);
        out[label] = { cert, key };
    }
    return { ca, leaves: out };
}

function get(url: string, ca: string): Promise<string> {
    return new Promise((resolve, reject) => {
        https
            .get(url, { ca, timeout: 3000 }, (res) => {
                let body = "";
                res.on("data", (d) => (body += d));
                res.on("end", () => (res.statusCode === 200 ? resolve(body) : reject(new Error(`${url}: ${res.statusCode}`))));
            })
            .on("error", reject);
    });
}

/** One TLS handshake to `host`:443 for NAME, verified against `root`: the leaf's serial, or the error. */
function handshake(host: string, root: string): Promise<{ ok: boolean; serial?: string; error?: string; at: number }> {
    return new Promise((resolve) => {
        const socket = tls.connect({ host, port: 443, servername: NAME, ca: root, timeout: 5000 }, () => {
            const serial = socket.getPeerX509Certificate()?.serialNumber;
            socket.destroy();
            resolve({ ok: true, serial, at: Date.now() });
        });
        socket.on("error", (e) => resolve({ ok: false, error: e.message, at: Date.now() }));
        socket.on("timeout", () => {
            socket.destroy();
            resolve({ ok: false, error: "timeout", at: Date.now() });
        });
    });
}

/** Handshakes without pause to every host until stopped. */
class HandshakeLoad {
    readonly results: { host: string; ok: boolean; error?: string; at: number }[] = [];
    private running = false;
    private loops: Promise<void>[] = [];

    constructor(private readonly hosts: readonly string[], private readonly root: string) {}

    start(): void {
        this.running = true;
        for (const host of this.hosts) {
            for (let i = 0; i < TIMING.handshakeConcurrency; i++) {
                this.loops.push(
                    (async () => {
                        while (this.running) this.results.push({ host, ...(await handshake(host, this.root)) });
                    })(),
                );
            }
        }
    }

    async stop(): Promise<void> {
        this.running = false;
        await Promise.all(this.loops);
    }
}

async function run(pair: TwinPair, ctx: ScenarioContext): Promise<Measured> {
    const { plan, lab } = pair;
    const base = plan.instances[0].address.split(".").slice(0, 3).join(".");
    const n = base.split(".")[2];
    // A link from the host to each instance (the instances' way to the internet: the CA and Route 53 live here).
    const links = plan.instances.map((instance, i) => ({ instance, host: `${base}.${101 + 4 * i}`, inside: `${base}.${102 + 4 * i}`, hostDev: `otw${n}x${i + 1}`, dev: `otw${n}y${i + 1}` }));
    const services = links[0].host;
    const etcDirs = plan.instances.map((i) => `/etc/netns/${i.ns}`);
    let zone: TwinZone | undefined;
    let load: HandshakeLoad | undefined;
    ctx.onAbort(() => void load?.stop());
    try {
        for (const l of links) {
            await must("ip", ["link", "add", l.hostDev, "type", "veth", "peer", "name", l.dev]);
            await must("ip", ["link", "set", l.dev, "netns", l.instance.ns]);
            await must("ip", ["addr", "add", `${l.host}/30`, "dev", l.hostDev]);
            await must("ip", ["link", "set", l.hostDev, "up"]);
            await must("ip", ["-n", l.instance.ns, "addr", "add", `${l.inside}/30`, "dev", l.dev]);
            await must("ip", ["-n", l.instance.ns, "link", "set", l.dev, "up"]);
            if (l.host !== services) await must("ip", ["-n", l.instance.ns, "route", "add", `${services}/32`, "via", l.host]);
        }
        // What an instance's resolver would find: Route 53's API and the zone's name server, by the twin's addresses.
        for (const dir of etcDirs) {
            fs.mkdirSync(dir, { recursive: true });
            fs.writeFileSync(path.join(dir, "hosts"), `127.0.0.1 localhost\n${services} route53.amazonaws.com ns1.${ZONE}\n`);
            fs.writeFileSync(path.join(dir, "resolv.conf"), `nameserver ${services}\n`);
        }

        // The program's renewal script and the role's Route 53 statement, for a stack whose CA is this pebble.
        const directory = `https://${services}:14000/dir`;
        const program = await acmeFromProgram({ zoneName: ZONE, recordName: RECORD, email: EMAIL, directoryUrl: directory });
        const zoneId = /^readonly ZONE_ID='([A-Za-z0-9]+)'$/m.exec(program.script)?.[1];
        if (!zoneId) throw new TwinFailure("the program's acme.sh names no hosted zone (readonly ZONE_ID='...')");
        if (!program.script.includes(`\nreadonly NAMES=('${NAME}')\n`)) throw new TwinFailure(`the program's acme.sh does not ask for ${NAME} alone, the name the twin's clients verify`);
        say(`acme.sh and the role's Route 53 statement from the program: ${program.note}`);

        const certs = await twinCa(path.join(ctx.dir, "services-ca"), { pebble: `IP:${services}`, route53: "DNS:route53.amazonaws.com" });
        const r53 = certs.leaves.route53;
        zone = new TwinZone({
            address: services,
            zoneName: ZONE,
            hostedZoneId: zoneId,
            hosts: { [`ns1.${ZONE}`]: services },
            // The role's statement, as the program writes it for this name and zone.
            changeStatement: program.changeStatement,
            tls: { cert: fs.readFileSync(r53.cert, "utf8"), key: fs.readFileSync(r53.key, "utf8") },
        });
        await zone.start();
        const pebbleConfig = path.join(ctx.dir, "pebble.json");
        fs.writeFileSync(pebbleConfig, JSON.stringify({
            pebble: {
                listenAddress: `${services}:14000`,
                managementListenAddress: `${services}:15000`,
                certificate: certs.leaves.pebble.cert,
                privateKey: certs.leaves.pebble.key,
                httpPort: 5002,
                tlsPort: 5001,
                ocspResponderURL: "",
                externalAccountBindingRequired: false,
                certificateValidityPeriod: VALIDITY_SECONDS,
            },
        }));
        lab.start("pebble", "host", "env", ["PEBBLE_VA_NOSLEEP=1", "PEBBLE_WFE_NONCEREJECT=0", "PEBBLE_AUTHZREUSE=0", "pebble", "-config", pebbleConfig, "-dnsserver", `${services}:53`]);
        const caPem = fs.readFileSync(certs.ca, "utf8");
        if (!(await waitFor(async () => (await get(directory, caPem).catch(() => "")) !== "", 15000, 200))) throw new TwinFailure(`pebble did not answer ${directory}`);
        say(`pebble (ACME CA) at ${directory}; zone ${ZONE} (DNS on ${services}:53) and a Route 53 API stand-in on ${services}:443 that applies the role's conditions`);

        // Each instance's nginx reads its own certificate files, where the renewal script writes them.
        const instances = plan.instances.map((instance, index) => {
            const dir = path.join(ctx.dir, `acme-${instance.name}`);
            const tlsDir = path.join(dir, "run", "tls");
            fs.mkdirSync(tlsDir, { recursive: true, mode: 0o700 });
            fs.copyFileSync(pair.files.cert, path.join(tlsDir, "server.crt"));
            fs.copyFileSync(pair.files.key, path.join(tlsDir, "server.key"));
            const conf = pair.nginxConfigs[index];
            const rewritten = conf.conf.split(pair.files.cert).join(path.join(tlsDir, "server.crt")).split(pair.files.key).join(path.join(tlsDir, "server.key"));
            fs.writeFileSync(conf.file, rewritten);
            pair.nginxConfigs[index] = { file: conf.file, conf: rewritten };
            lab.signal(`nginx-${instance.name}`, "SIGHUP");
            const reloads = path.join(dir, "reloads");
            const reload = `date +%s%3N >>${reloads}; exec nginx -s reload -p ${path.join(pair.files.dir, instance.name)} -e stderr -c ${conf.file}`;
            const script = path.join(dir, "acme.sh");
            const substitutions = acmeSubstitutions({ dir, legoCommand: ["lego"], reloadCommand: ["sh", "-c", reload] });
            fs.writeFileSync(script, substitute("acme.sh", program.script, substitutions), { mode: 0o700 });
            return { instance, index, dir, script, reloads, address: links[index].inside, substitutions };
        });
        say(`acme.sh: the program's, re-pointed by checked substitutions (${instances[0].instance.name}'s; the other's alike with its own directory):`);
        for (const line of describeSubstitutions(instances[0].substitutions)) say(`  ${line}`);
        await sleep(TIMING.settleMs);

        const stateDir = path.join(ctx.dir, "aws");
        const bin = path.join(ctx.dir, "stand-ins");
        fs.mkdirSync(path.join(stateDir, "s3"), { recursive: true });
        fs.mkdirSync(bin, { recursive: true });
        fs.writeFileSync(path.join(bin, "aws"), AWS_STAND_IN, { mode: 0o755 });
        fs.writeFileSync(path.join(bin, "curl"), METADATA_STAND_IN, { mode: 0o755 });
        const runScript = async (i: (typeof instances)[number]) => {
            const env = {
                ...process.env,
                PATH: `${bin}:${process.env.PATH}`,
                AWS_STATE: stateDir,
                INSTANCE_ID: `i-twin${i.index + 1}`,
                SLOT: i.instance.name,
                ORTHWEB_ACME_PEER_POLL: "1",
                ORTHWEB_ACME_PEER_WAIT: "60",
                // lego trusts the twin's CA for pebble's listener and the Route 53 stand-in; no real credentials.
                LEGO_CA_CERTIFICATES: certs.ca,
                AWS_CA_BUNDLE: certs.ca,
                AWS_ACCESS_KEY_ID: "AKIATWINSTANDIN00000",
                AWS_SECRET_ACCESS_KEY: "twin-stand-in",
                AWS_EC2_METADATA_DISABLED: "true",
            };
            const [cmd, args] = inNs(i.instance.ns, "bash", [i.script]);
            const r = await runCommand(cmd, args, { env, timeoutMs: TIMING.scriptTimeoutMs });
            fs.appendFileSync(path.join(pair.files.logs, `acme-${i.instance.name}.log`), `--- acme.sh exit ${r.code}\n${r.stderr}\n`);
            if (r.code !== 0) throw new TwinFailure(`acme.sh on ${i.instance.name} failed (exit ${r.code}): ${r.stderr.trim().split("\n").slice(-5).join(" | ")}`);
            return r;
        };

        // 1. First issuance: both at once.
        const t0 = now();
        const raced = await Promise.allSettled(instances.map(runScript));
        const raceFailures = raced.flatMap((r) => (r.status === "rejected" ? [String((r.reason as Error).message)] : []));
        if (raceFailures.length > 0) throw new TwinFailure(raceFailures.join(" / "));
        const issuedSeconds = (now() - t0) / 1000;
        const root = await get(`https://${services}:15000/roots/0`, caPem);
        // nginx -s reload returns once the signal is sent; its new workers (with the new certificate) start right after.
        let first = await Promise.all(instances.map((i) => handshake(i.address, root)));
        await waitFor(async () => (first = await Promise.all(instances.map((i) => handshake(i.address, root)))).every((h) => h.ok), 5000, 100);
        const bad = first.filter((h) => !h.ok);
        if (bad.length > 0) throw new TwinFailure(`a client does not trust ${NAME} on both instances against pebble's root: ${bad.map((h) => h.error).join("; ")}`);
        if (first[0].serial !== first[1].serial) throw new TwinFailure(`the instances serve different certificates after the first run (serials ${first.map((h) => h.serial).join(", ")})`);
        const zoneLog = zone.log;
        const legoRuns = zoneLog.applied.filter((c) => c.startsWith("UPSERT")).length;
        say(`issued: ${NAME} from pebble in ${issuedSeconds.toFixed(1)}s, both instances running acme.sh at once; ${legoRuns} challenge record written (one issuer), ` +
            `both serve serial ${first[0].serial}, verified against pebble's root`);

        // 2. Renewal under load: pebble's certificates are due at once (fewer than 30 days left).
        load = new HandshakeLoad(instances.map((i) => i.address), root);
        load.start();
        await sleep(1000);
        // Both timers fire together again: one renews, the other waits for it (a certificate issued with 29 days is
        // due at once, so a run that did not wait would renew a second time).
        const t1 = now();
        const renewal = await Promise.allSettled(instances.map(runScript));
        const renewalFailures = renewal.flatMap((r) => (r.status === "rejected" ? [String((r.reason as Error).message)] : []));
        if (renewalFailures.length > 0) throw new TwinFailure(renewalFailures.join(" / "));
        const renewedSeconds = (now() - t1) / 1000;
        await sleep(TIMING.reloadWindowAfterMs);
        await load.stop();
        let after = await Promise.all(instances.map((i) => handshake(i.address, root)));
        await waitFor(async () => (after = await Promise.all(instances.map((i) => handshake(i.address, root)))).every((h) => h.ok) && after[0].serial !== first[0].serial, 5000, 100);
        const served = new X509Certificate(fs.readFileSync(path.join(instances[0].dir, "run", "tls", "server.crt")));

        const reloadTimes = instances.flatMap((i) => (fs.existsSync(i.reloads) ? fs.readFileSync(i.reloads, "utf8").split("\n").filter(Boolean).map(Number) : []));
        const renewalReloads = reloadTimes.slice(-2);
        const duringReload = load.results.filter((h) => h.ok && renewalReloads.some((t) => h.at >= t - TIMING.reloadWindowBeforeMs && h.at <= t + TIMING.reloadWindowAfterMs)).length;
        const failed = load.results.filter((h) => !h.ok);
        say(`renewed under load in ${renewedSeconds.toFixed(1)}s (both instances running acme.sh at once): ${load.results.length} handshakes to both instances, ` +
            `${duringReload} within ${TIMING.reloadWindowBeforeMs / 1000}s before to ${TIMING.reloadWindowAfterMs / 1000}s after a reload, ${failed.length} failed` +
            (failed.length > 0 ? ` (${[...new Set(failed.map((f) => f.error))].join("; ")})` : ""));
        say(`  now serving serial ${after[0].serial} on both (was ${first[0].serial}), valid until ${served.validTo}; Route 53 changes applied: ${zoneLog.applied.length}, refused: ${zoneLog.refused.length}`);

        const reasons: string[] = [];
        if (failed.length > 0) reasons.push(`${failed.length} handshake(s) failed during the renewal`);
        if (after.some((h) => !h.ok) || after[0].serial !== after[1].serial || after[0].serial === first[0].serial) {
            reasons.push(`after the renewal the instances serve serials ${after.map((h) => h.serial ?? h.error).join(", ")} (first: ${first[0].serial})`);
        }
        if (renewalReloads.length < 2) reasons.push(`nginx reloaded ${renewalReloads.length} time(s) during the renewal, not once per instance`);
        if (duringReload === 0) reasons.push("no handshake completed around a reload: the load did not cover it");
        if (zoneLog.refused.length > 0) reasons.push(`the role's conditions refused ${zoneLog.refused.join(", ")}`);
        if (legoRuns !== 1) reasons.push(`${legoRuns} challenge records for the first certificate: both instances issued`);
        const renewals = zoneLog.applied.filter((c) => c.startsWith("UPSERT")).length - legoRuns;
        if (renewals !== 1) reasons.push(`${renewals} challenge records for the renewal: not one issuer`);
        return { summary: [acmeSummary(issuedSeconds, renewedSeconds, duringReload, failed.length)], reasons };
    } finally {
        await load?.stop();
        zone?.stop();
        for (const dir of etcDirs) fs.rmSync(dir, { recursive: true, force: true });
        for (const l of links) await runCommand("ip", ["link", "del", l.hostDev]);
    }
}

export const acme: Scenario = {
    name: "acme",
    description: "both instances run the program's renewal script against pebble by DNS-01 (a twin zone and Route 53 API stand-in): one issues, both serve it; the renewal reloads nginx under TLS load without a failed handshake",
    deadlineSeconds: 120,
    run,
};

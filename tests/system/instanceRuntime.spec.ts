// The instance runtime survives its own faults (issue 21): nginx names Orthanc and the health checker by the fixed
// addresses compose pins, so it starts and serves (the fallback's 502, /healthz's 5xx) whether or not they are up,
// proved with Debian's real nginx on the instance's own nginx.conf in a network namespace where nothing listens at
// those addresses; and every container runs with the capabilities compose grants it and no others.
import { expect } from "chai";
import { ChildProcess, spawn, spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { parse } from "yaml";
import { renderBootstrapFiles } from "../../components/bootstrap";
import { HEALTHZ_CONTAINER_ADDRESS, ORTHANC_CONTAINER_ADDRESS } from "../../rules/containerNetwork";
import { HEALTH_CHECKER_PORT, ORTHANC_HTTP_PORT } from "../../rules/ports";
import { debianNginxConf } from "../../twin/debian";
import { SAMPLE } from "../fixtures";
import { makeSelfSignedCertificate, needFile, needTool } from "../localTools";

const DEBIAN_STREAM_MODULE = "/usr/lib/nginx/modules/ngx_stream_module.so";

function fileOf(name: string): string {
    const found = renderBootstrapFiles(SAMPLE).find((f) => f.path.endsWith(`/${name}`));
    if (!found) throw new Error(`no ${name} among the bootstrap files`);
    return found.content;
}

/** nginx's master and its workers (a process group of their own: spawned detached). */
function killGroup(child: ChildProcess): void {
    try {
        if (child.pid) process.kill(-child.pid, "SIGKILL");
    } catch {
        // already gone
    }
}

function sh(script: string, timeout = 20000): { status: number | null; output: string } {
    const r = spawnSync("bash", ["-c", script], { encoding: "utf8", timeout });
    return { status: r.status, output: `${r.stdout ?? ""}${r.stderr ?? ""}` };
}

/** The instance's nginx.conf with only its file paths moved under `dir` (addresses untouched), for Debian's nginx. */
function localNginxConf(conf: string, dir: string): string {
    return debianNginxConf(conf)
        .replace(/\/etc\/nginx\/tls\//g, `${dir}/tls/`)
        .replace(/\/etc\/nginx\/peer\//g, `${dir}/peer/`)
        .replace(/^pid .*;$/m, `pid ${dir}/nginx.pid;`);
}

describe("instance runtime: nginx needs neither Orthanc nor the checker to start", function () {
    this.timeout(60000);
    const conf = fileOf("nginx.conf");

    describe("Debian's nginx on the instance's nginx.conf, in a namespace where nothing listens at the upstreams' addresses", () => {
        const ns = `rt${process.pid % 100000}`;
        let dir: string;
        let nginx: ChildProcess | undefined;
        let exited: { code: number | null } | undefined;
        const standIns: ChildProcess[] = [];
        const inNs = (script: string) => sh(`ip netns exec ${ns} ${script}`);
        const code = (url: string) => inNs(`curl -sk -o /dev/null -w '%{http_code}' --max-time 5 ${url}`).output;
        /** An HTTP server at address:port inside the namespace, answering `status` with `body`. */
        const standIn = (address: string, port: number, status: number, body: string) => {
            const child = spawn("ip", ["netns", "exec", ns, process.execPath, "-e", `require("http").createServer((q, r) => r.writeHead(${status}).end(${JSON.stringify(body)})).listen(${port}, "${address}")`], { stdio: "ignore" });
            standIns.push(child);
            return child;
        };
        const until = async (probe: () => boolean, ms: number) => {
            for (const end = Date.now() + ms; Date.now() < end; await new Promise((r) => setTimeout(r, 100))) if (probe()) return true;
            return probe();
        };

        before(function () {
            needTool(this, "nginx");
            needFile(this, DEBIAN_STREAM_MODULE, "libnginx-mod-stream");
            needTool(this, "openssl");
            needTool(this, "curl");
            needTool(this, "ip", "iproute2");
            dir = fs.mkdtempSync(path.join(os.tmpdir(), "orthweb-runtime-"));
            fs.mkdirSync(path.join(dir, "tls"));
            fs.mkdirSync(path.join(dir, "peer"));
            makeSelfSignedCertificate(path.join(dir, "tls"), "server", "DNS:pacs.example.org", 1, "pacs");
            makeSelfSignedCertificate(path.join(dir, "tls"), "peer", "DNS:instance.peer.orthweb.internal", 1, "peer");
            fs.copyFileSync(path.join(dir, "tls", "peer.crt"), path.join(dir, "tls", "peer-ca.crt"));
            const setup = sh(`ip netns add ${ns} && ip netns exec ${ns} ip link set lo up && ip netns exec ${ns} ip addr add ${ORTHANC_CONTAINER_ADDRESS}/32 dev lo && ip netns exec ${ns} ip addr add ${HEALTHZ_CONTAINER_ADDRESS}/32 dev lo`);
            if (setup.status !== 0) {
                if (/Operation not permitted/.test(setup.output) && process.env.REQUIRE_TOOLS !== "1") return this.skip();
                throw new Error(`namespace setup failed: ${setup.output}`);
            }
        });

        after(() => {
            for (const child of standIns) child.kill("SIGKILL");
            if (nginx) killGroup(nginx);
            sh(`ip netns del ${ns} 2>/dev/null; true`);
            if (dir) fs.rmSync(dir, { recursive: true, force: true });
        });

        it("starts and answers: /healthz and / 502 while nothing is there, served once they are, 502 again when they go; never restarted", async () => {
            fs.writeFileSync(path.join(dir, "nginx.conf"), localNginxConf(conf, dir));
            // nginx opens /dev/stdout for its access log: a file, not one of node's pipes (sockets cannot be opened by path).
            const out = fs.openSync(path.join(dir, "nginx.out"), "w");
            nginx = spawn("ip", ["netns", "exec", ns, "nginx", "-p", dir, "-e", "stderr", "-c", path.join(dir, "nginx.conf"), "-g", "daemon off;"], { stdio: ["ignore", out, out], detached: true });
            fs.closeSync(out);
            nginx.on("exit", (c) => (exited = { code: c }));
            const log = () => fs.readFileSync(path.join(dir, "nginx.out"), "utf8");

            expect(await until(() => code("https://127.0.0.1/healthz") !== "000", 5000), `nginx answers (log: ${log()})`).to.equal(true);
            expect(exited, `nginx is still running (log: ${log()})`).to.equal(undefined);
            expect(code("https://127.0.0.1/healthz"), "/healthz with no checker").to.equal("502");
            expect(code("https://127.0.0.1/system"), "/ with no Orthanc and no peer known").to.equal("502");
            const dicom = inNs(`bash -c 'echo | timeout 5 openssl s_client -connect 127.0.0.1:11112 -brief 2>&1'`);
            expect(dicom.output, "11112 completes a TLS handshake").to.match(/CONNECTION ESTABLISHED|Protocol version/);

            const checker = standIn(HEALTHZ_CONTAINER_ADDRESS, HEALTH_CHECKER_PORT, 200, "ok: stand-in\n");
            const orthanc = standIn(ORTHANC_CONTAINER_ADDRESS, ORTHANC_HTTP_PORT, 200, "{}");
            expect(await until(() => code("https://127.0.0.1/healthz") === "200", 5000), "/healthz once the checker is up").to.equal(true);
            expect(await until(() => code("https://127.0.0.1/system") === "200", 5000), "/ once Orthanc is up").to.equal(true);

            checker.kill("SIGKILL");
            orthanc.kill("SIGKILL");
            expect(await until(() => code("https://127.0.0.1/healthz") === "502" && code("https://127.0.0.1/system") === "502", 5000), "502 again once they are gone").to.equal(true);
            expect(exited, "nginx never exited").to.equal(undefined);
        });

        it("serves with exactly the capabilities compose grants its container, and not with none", async function () {
            needTool(this, "setpriv", "util-linux");
            const stop = async () => {
                if (nginx && exited === undefined) {
                    const gone = new Promise((r) => nginx!.once("exit", r));
                    killGroup(nginx);
                    await gone;
                }
            };
            // Docker sets this in every container's network namespace (20.10 and later): 443 needs no NET_BIND_SERVICE.
            expect(inNs("sysctl -qw net.ipv4.ip_unprivileged_port_start=0").status).to.equal(0);
            const start = (bounding: string) => {
                exited = undefined;
                const out = fs.openSync(path.join(dir, "nginx.out"), "w");
                // As root in the container: after exec, root's capabilities are the bounding set.
                nginx = spawn("ip", ["netns", "exec", ns, "setpriv", `--bounding-set=${bounding}`, "--inh-caps=-all", "--", "nginx", "-p", dir, "-e", "stderr", "-c", path.join(dir, "nginx.conf"), "-g", "daemon off;"], { stdio: ["ignore", out, out], detached: true });
                fs.closeSync(out);
                nginx.on("exit", (c) => (exited = { code: c }));
            };
            const log = () => fs.readFileSync(path.join(dir, "nginx.out"), "utf8");
            const granted = parse(fileOf("docker-compose.yml")).services.nginx.cap_add as string[];

            await stop();
            start(["-all", ...granted.map((c) => `+${c.toLowerCase()}`)].join(","));
            expect(await until(() => code("https://127.0.0.1/healthz") === "502", 5000), `serves with ${granted.join(", ")} (log: ${log()})`).to.equal(true);
            const effective = /CapEff:\s+([0-9a-f]+)/.exec(fs.readFileSync(`/proc/${nginx!.pid}/status`, "utf8"))![1];
            const CAP_BITS: Record<string, number> = { CHOWN: 0, SETGID: 6, SETUID: 7 };
            expect(BigInt(`0x${effective}`)).to.equal(granted.reduce((mask, c) => mask | (1n << BigInt(CAP_BITS[c])), 0n));

            await stop();
            start("-all");
            await new Promise((r) => setTimeout(r, 1500));
            expect(code("https://127.0.0.1/healthz"), `no worker can serve without a capability (log: ${log()})`).to.equal("000");
            expect(log()).to.match(/Operation not permitted/);
            await stop();
        });
    });
});

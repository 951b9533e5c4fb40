// The peer link over mutual TLS (issue 21, item 7), with Debian's real nginx: two instances in two network
// namespaces, each running the rendered nginx.conf with certificates issued by openssl from the program's own plan
// (rules/certificates.ts peerCertificatePlan). Instance A has no Orthanc, so everything it gets goes through its relay
// to B's peer-only ports (8443, 11113), where stand-ins for B's Orthanc answer. The peer-only ports refuse a client
// without a certificate and one from another CA; the relay refuses a peer whose certificate the peer CA did not issue.
import { expect } from "chai";
import { ChildProcess, execFileSync, spawn, spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { renderNginxConf } from "../../components/bootstrap/nginx";
import { PEER_MAP_FILE, PEER_TLS_FILES } from "../../rules/instanceFiles";
import { renderStartScript } from "../../components/bootstrap/startScript";
import { CertificateSpec, ORGANIZATION, peerCertificatePlan, RSA_BITS } from "../../rules/certificates";
import { ORTHANC_DICOM_PORT, ORTHANC_HTTP_PORT, PEER_DICOM_PORT, PEER_WEB_PORT } from "../../rules/ports";
import { debianNginxConf } from "../../twin/debian";
import { makeSelfSignedCertificate, needFile, needTool } from "../localTools";
import { extensionsFor } from "../opensslChain";
import { rsaKeyFile } from "../runFixtures";

interface Issued {
    readonly cert: string;
    readonly key: string;
}

/** A certificate of `spec` with openssl, self-signed when no CA is given; keys from the run's pool, named `keyName`. */
function issue(dir: string, label: string, spec: CertificateSpec, keyName: string, ca?: Issued): Issued {
    const files = { cert: path.join(dir, `${label}.crt`), key: path.join(dir, `${label}.key`) };
    fs.copyFileSync(rsaKeyFile(keyName, RSA_BITS), files.key);
    const ext = path.join(dir, `${label}.ext`);
    fs.writeFileSync(ext, `[req]\ndistinguished_name = dn\n[dn]\n[v3]\n${extensionsFor(spec)}\n`);
    const subject = `/CN=${spec.commonName}/O=${ORGANIZATION}`;
    if (!ca) {
        execFileSync("openssl", ["req", "-x509", "-new", "-key", files.key, "-out", files.cert, "-subj", subject, "-days", "2", "-config", ext, "-extensions", "v3"], { stdio: "ignore" });
    } else {
        const csr = path.join(dir, `${label}.csr`);
        execFileSync("openssl", ["req", "-new", "-key", files.key, "-out", csr, "-subj", subject, "-config", ext], { stdio: "ignore" });
        execFileSync("openssl", ["x509", "-req", "-in", csr, "-CA", ca.cert, "-CAkey", ca.key, "-CAcreateserial", "-days", "1", "-extfile", ext, "-extensions", "v3", "-out", files.cert], { stdio: "ignore" });
    }
    return files;
}

function sh(script: string, timeout = 20000): { status: number | null; output: string } {
    const r = spawnSync("bash", ["-c", script], { encoding: "utf8", timeout });
    return { status: r.status, output: `${r.stdout ?? ""}${r.stderr ?? ""}` };
}

describe("peer link: mutual TLS between the instances' nginx (real nginx, two namespaces)", function () {
    this.timeout(60000);
    const tag = `pl${process.pid % 100000}`;
    const ns = { a: `${tag}-a`, b: `${tag}-b` };
    const address = { a: "10.251.77.1", b: "10.251.77.2" };
    let dir: string;
    const children: ChildProcess[] = [];
    const nginx: Record<"a" | "b", ChildProcess | undefined> = { a: undefined, b: undefined };
    let peer: { ca: Issued; instance: Issued; strangerCa: Issued; stranger: Issued };
    let orthancRequests = 0;
    const statsFile = () => path.join(dir, "b-requests");

    const inNs = (n: string, script: string) => sh(`ip netns exec ${n} bash -c ${JSON.stringify(script)}`);
    /** curl from A's namespace: the status code and body. */
    const curl = (url: string, cert?: Issued) => {
        const r = inNs(ns.a, `curl -sk --max-time 5 -w ' %{http_code}' ${cert ? `--cert ${cert.cert} --key ${cert.key}` : ""} ${url}`);
        return r.output.trim();
    };
    /** One line through TLS to host:port from A's namespace (openssl s_client), and what came back. */
    const dicom = (host: string, port: number, cert?: Issued) =>
        inNs(ns.a, `(echo ping; sleep 1) | timeout 5 openssl s_client -quiet -connect ${host}:${port} ${cert ? `-cert ${cert.cert} -key ${cert.key}` : ""} 2>&1`).output;
    const served = () => Number(fs.existsSync(statsFile()) ? fs.readFileSync(statsFile(), "utf8") : "0");

    const startNginx = (which: "a" | "b") => {
        const conf = path.join(dir, which, "nginx.conf");
        const out = fs.openSync(path.join(dir, which, "nginx.out"), "a");
        const child = spawn("ip", ["netns", "exec", ns[which], "nginx", "-p", path.join(dir, which), "-e", "stderr", "-c", conf, "-g", "daemon off;"], { stdio: ["ignore", out, out], detached: true });
        fs.closeSync(out);
        nginx[which] = child;
    };
    const writeConf = (which: "a" | "b", tls: { cert: Issued; ca: string }) => {
        const d = path.join(dir, which);
        fs.mkdirSync(path.join(d, "peer"), { recursive: true });
        const conf = renderNginxConf({
            orthancHost: "127.0.0.1",
            certificatePath: path.join(dir, "server.crt"),
            keyPath: path.join(dir, "server.key"),
            pidPath: path.join(d, "nginx.pid"),
            listenAddress: address[which],
            peerMapGlob: path.join(d, "peer", "*.map"),
            peerTls: { certificatePath: tls.cert.cert, keyPath: tls.cert.key, caPath: tls.ca },
        });
        fs.writeFileSync(path.join(d, "nginx.conf"), debianNginxConf(conf));
    };
    const reload = async (which: "a" | "b") => {
        process.kill(nginx[which]!.pid!, "SIGHUP");
        await new Promise((r) => setTimeout(r, 1000));
    };

    before(async function () {
        needTool(this, "nginx");
        needFile(this, "/usr/lib/nginx/modules/ngx_stream_module.so", "libnginx-mod-stream");
        needTool(this, "openssl");
        needTool(this, "curl");
        needTool(this, "ip", "iproute2");
        dir = fs.mkdtempSync(path.join(os.tmpdir(), "orthweb-peer-link-"));
        const setup = sh(`set -e
ip netns add ${ns.a}; ip netns add ${ns.b}
ip link add eth0 netns ${ns.a} type veth peer name eth0 netns ${ns.b}
ip -n ${ns.a} addr add ${address.a}/24 dev eth0; ip -n ${ns.a} link set eth0 up; ip -n ${ns.a} link set lo up
ip -n ${ns.b} addr add ${address.b}/24 dev eth0; ip -n ${ns.b} link set eth0 up; ip -n ${ns.b} link set lo up`);
        if (setup.status !== 0) {
            if (/Operation not permitted/.test(setup.output) && process.env.REQUIRE_TOOLS !== "1") return this.skip();
            throw new Error(`namespace setup failed: ${setup.output}`);
        }
        makeSelfSignedCertificate(dir, "server", "DNS:pacs.example.org", 1, "pacs");
        const plan = peerCertificatePlan();
        const ca = issue(dir, "peer-ca", plan.ca, "peer-link-ca");
        const strangerCa = issue(dir, "stranger-ca", { ...plan.ca, commonName: "ca.stranger.invalid" }, "peer-link-stranger-ca");
        peer = { ca, instance: issue(dir, "peer", plan.instance, "peer-link-instance", ca), strangerCa, stranger: issue(dir, "stranger", plan.instance, "peer-link-stranger", strangerCa) };
        writeConf("a", { cert: peer.instance, ca: peer.ca.cert });
        writeConf("b", { cert: peer.instance, ca: peer.ca.cert });
        fs.writeFileSync(path.join(dir, "a", "peer", PEER_MAP_FILE), `peer ${address.b};\n`);
        // B's Orthanc: HTTP on 8042 (counts what reaches it) and a DICOM port that echoes.
        const standIn = `const fs = require("fs"); let n = 0;
require("http").createServer((q, r) => { fs.writeFileSync(${JSON.stringify(statsFile())}, String(++n)); r.end("from B"); }).listen(${ORTHANC_HTTP_PORT}, "127.0.0.1");
require("net").createServer((s) => s.once("data", (d) => s.end("echo:" + d))).listen(${ORTHANC_DICOM_PORT}, "127.0.0.1");`;
        children.push(spawn("ip", ["netns", "exec", ns.b, process.execPath, "-e", standIn], { stdio: "ignore" }));
        startNginx("a");
        startNginx("b");
        for (let i = 0; i < 50 && !/ 200$/.test(curl(`https://${address.a}/system`)); i++) await new Promise((r) => setTimeout(r, 100));
        orthancRequests = served();
    });

    after(() => {
        for (const child of [...children, nginx.a, nginx.b]) {
            try {
                if (child?.pid) process.kill(child === nginx.a || child === nginx.b ? -child.pid : child.pid, "SIGKILL");
            } catch {
                // already gone
            }
        }
        sh(`ip netns del ${ns.a} 2>/dev/null; ip netns del ${ns.b} 2>/dev/null; true`);
        if (dir) fs.rmSync(dir, { recursive: true, force: true });
    });

    it("A's relay reaches B's Orthanc over the link with the stack's certificates (HTTP and DICOM)", () => {
        expect(orthancRequests, `B's Orthanc reached through A (logs: ${fs.readFileSync(path.join(dir, "a", "nginx.out"), "utf8")})`).to.be.at.least(1);
        expect(curl(`https://${address.a}/system`)).to.equal("from B 200");
        expect(dicom(address.a, 11112)).to.include("echo:ping");
    });

    it("B's peer-only ports refuse a client without a certificate: nothing reaches its Orthanc", () => {
        const before = served();
        expect(curl(`https://${address.b}:${PEER_WEB_PORT}/system`)).to.match(/ 400$/).and.match(/No required SSL certificate was sent/);
        expect(dicom(address.b, PEER_DICOM_PORT)).to.not.include("echo:");
        expect(served()).to.equal(before);
    });

    it("B's peer-only ports refuse a certificate from another CA, even with the right name", () => {
        const before = served();
        expect(curl(`https://${address.b}:${PEER_WEB_PORT}/system`, peer.stranger)).to.match(/ 400$/).and.match(/certificate error/i);
        expect(dicom(address.b, PEER_DICOM_PORT, peer.stranger)).to.not.include("echo:");
        expect(served()).to.equal(before);
    });

    it("B's peer-only ports admit the stack's peer certificate", () => {
        expect(curl(`https://${address.b}:${PEER_WEB_PORT}/system`, peer.instance)).to.equal("from B 200");
        expect(dicom(address.b, PEER_DICOM_PORT, peer.instance)).to.include("echo:ping");
    });

    it("A's relay refuses a peer whose certificate another CA issued (an impostor at the peer's address)", async () => {
        writeConf("b", { cert: peer.stranger, ca: peer.ca.cert });
        await reload("b");
        const before = served();
        expect(curl(`https://${address.a}/system`)).to.match(/ 502$/);
        expect(dicom(address.a, 11112)).to.not.include("echo:");
        expect(served()).to.equal(before);
        expect(fs.readFileSync(path.join(dir, "a", "nginx.out"), "utf8")).to.match(/upstream SSL certificate verify error/);
        writeConf("b", { cert: peer.instance, ca: peer.ca.cert });
        await reload("b");
        expect(curl(`https://${address.a}/system`)).to.equal("from B 200");
    });
});

describe("peer link: the start script writes its files from the TLS secret", () => {
    const script = renderStartScript({ region: "eu-west-1", dir: "/opt/orthweb", secretArns: { database: "a", databaseApp: "d", admin: "b", tls: "c" } });
    const fn = (name: string) => {
        const m = new RegExp(`^${name}\\(\\) \\{\\n[\\s\\S]*?\\n\\}\\n`, "m").exec(script);
        if (!m) throw new Error(`no ${name}() in the start script`);
        return m[0];
    };

    it("writes certificate, key (root only) and CA where nginx reads them, says what changed, and stops on a secret without them", function () {
        needTool(this, "jq");
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "orthweb-peer-files-"));
        try {
            fs.mkdirSync(path.join(dir, "run", "tls"), { recursive: true });
            const secret = JSON.stringify({ certificatePem: "S", privateKeyPem: "K", peerCertificatePem: "PC", peerPrivateKeyPem: "PK", peerCaPem: "CA" });
            const run = (json: string) =>
                spawnSync("bash", ["-c", `set -euo pipefail; shopt -s inherit_errexit; DIR=${dir}\n${fn("replace_file")}${fn("write_peer_tls")}changed=$(write_peer_tls "$1"); echo "[$changed]"`, "-", json], { encoding: "utf8" });
            const first = run(secret);
            expect(first.status, first.stderr).to.equal(0);
            expect(first.stdout.trim()).to.equal("[changed\nchanged\nchanged]");
            const tls = (file: string) => path.join(dir, "run", "tls", file);
            expect(fs.readFileSync(tls(path.basename(PEER_TLS_FILES.certificatePath)), "utf8")).to.equal("PC\n");
            expect(fs.readFileSync(tls(path.basename(PEER_TLS_FILES.keyPath)), "utf8")).to.equal("PK\n");
            expect(fs.readFileSync(tls(path.basename(PEER_TLS_FILES.caPath)), "utf8")).to.equal("CA\n");
            expect(fs.statSync(tls(path.basename(PEER_TLS_FILES.keyPath))).mode & 0o777).to.equal(0o600);
            expect(run(secret).stdout.trim(), "unchanged: no nginx restart").to.equal("[]");
            expect(run(JSON.stringify({ certificatePem: "S", privateKeyPem: "K" })).status, "a secret without the peer files").to.not.equal(0);
        } finally {
            fs.rmSync(dir, { recursive: true, force: true });
        }
    });
});

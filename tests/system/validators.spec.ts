// The rendered bootstrap files, fed to the real tools that will read them. A missing tool makes its test
// pending with the reason; with REQUIRE_TOOLS=1 (CI) it fails instead.
import { expect } from "chai";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { renderBootstrapFiles, renderUserData } from "../../components/bootstrap";
import { userDataText } from "../../rules/userData";
import { renderNginxConf } from "../../components/bootstrap/nginx";
import { SAMPLE } from "../fixtures";
import { makeSelfSignedCertificate, needFile, needTool } from "../localTools";

const DEBIAN_STREAM_MODULE = "/usr/lib/nginx/modules/ngx_stream_module.so";

function run(cmd: string, args: string[]): { status: number | null; output: string } {
    const r = spawnSync(cmd, args, { encoding: "utf8" });
    return { status: r.status, output: `${r.stdout ?? ""}${r.stderr ?? ""}` };
}

/** nginx opens /dev/stdout for its access log: node's pipes are sockets, which cannot be opened by path. */
function runNginxTest(dir: string, conf: string): { status: number | null; output: string } {
    const stdout = fs.openSync(path.join(dir, "nginx.stdout"), "w");
    try {
        const r = spawnSync("nginx", ["-t", "-q", "-p", dir, "-e", "stderr", "-c", conf], { encoding: "utf8", stdio: ["ignore", stdout, "pipe"] });
        return { status: r.status, output: r.stderr ?? "" };
    } finally {
        fs.closeSync(stdout);
    }
}

describe("rendered bootstrap files pass the real validators", function () {
    this.timeout(60000);
    let dir: string;
    const file = (name: string) => path.join(dir, name);

    before(() => {
        dir = fs.mkdtempSync(path.join(os.tmpdir(), "orthweb-bootstrap-"));
        fs.writeFileSync(file("user-data"), userDataText(renderUserData(SAMPLE)));
        for (const f of renderBootstrapFiles(SAMPLE)) fs.writeFileSync(file(path.basename(f.path)), f.content);
    });

    after(() => fs.rmSync(dir, { recursive: true, force: true }));

    it("cloud-init accepts the user data as a valid cloud-config", function () {
        needTool(this, "cloud-init");
        const r = run("cloud-init", ["schema", "--config-file", file("user-data")]);
        expect(r.status, r.output).to.equal(0);
        expect(r.output).to.match(/Valid cloud-config/);
    });

    it("docker-compose accepts the compose file", function () {
        needTool(this, "docker-compose");
        const r = run("docker-compose", ["-f", file("docker-compose.yml"), "config", "-q"]);
        expect(r.status, r.output).to.equal(0);
        expect(r.output).to.equal("");
    });

    it("nginx accepts nginx.conf with a throwaway certificate and upstreams on 127.0.0.1", function () {
        needTool(this, "nginx");
        needFile(this, DEBIAN_STREAM_MODULE, "libnginx-mod-stream");
        needTool(this, "openssl");
        makeSelfSignedCertificate(dir, "tls", "DNS:test", 1, "pacs"); // tls.crt and tls.key
        const conf = renderNginxConf({ orthancHost: "127.0.0.1", certificatePath: file("tls.crt"), keyPath: file("tls.key"), pidPath: file("nginx.pid"), peerTls: { certificatePath: file("tls.crt"), keyPath: file("tls.key"), caPath: file("tls.crt") } });
        // Debian builds the stream module separately; the pinned image has it built in.
        fs.writeFileSync(file("nginx-test.conf"), `load_module ${DEBIAN_STREAM_MODULE};\n${conf}`);
        const r = runNginxTest(dir, file("nginx-test.conf"));
        expect(r.status, r.output).to.equal(0);
    });

    it("nginx rejects a broken variant of the same file (the check can fail)", function () {
        needTool(this, "nginx");
        needFile(this, DEBIAN_STREAM_MODULE, "libnginx-mod-stream");
        const broken = renderNginxConf({ orthancHost: "127.0.0.1", certificatePath: file("missing.crt"), keyPath: file("missing.key"), pidPath: file("nginx.pid"), peerTls: { certificatePath: file("tls.crt"), keyPath: file("tls.key"), caPath: file("tls.crt") } });
        fs.writeFileSync(file("nginx-broken.conf"), `load_module ${DEBIAN_STREAM_MODULE};\n${broken}`);
        const r = runNginxTest(dir, file("nginx-broken.conf"));
        expect(r.status).to.not.equal(0);
        expect(r.output).to.match(/missing\.crt/);
    });

    it("shellcheck finds nothing in the start script, the peer script and the claim script", function () {
        needTool(this, "shellcheck");
        for (const script of ["start.sh", "peer.sh", "claim.sh"]) {
            const r = run("shellcheck", ["--shell=bash", "--severity=style", file(script)]);
            expect(r.status, `${script}: ${r.output}`).to.equal(0);
        }
    });

    it("shellcheck finds nothing in the start script of a stack without the internet (compose plugin from S3)", function () {
        needTool(this, "shellcheck");
        const start = renderBootstrapFiles({ ...SAMPLE, registry: "123456789012.dkr.ecr.eu-west-1.amazonaws.com", composeSource: "s3://bucket/_orthweb/tools/v2.32.4/docker-compose-linux-x86_64" }).find((f) => f.path.endsWith("/start.sh"))!;
        fs.writeFileSync(file("start-offline.sh"), start.content);
        const r = run("shellcheck", ["--shell=bash", "--severity=style", file("start-offline.sh")]);
        expect(r.status, r.output).to.equal(0);
        expect(start.content).to.include('aws s3 cp --region "$REGION" --only-show-errors "$COMPOSE_S3.sha256"');
    });

    it("orthanc.json parses and systemd accepts the service and its timer", function () {
        expect(() => JSON.parse(fs.readFileSync(file("orthanc.template.json"), "utf8"))).to.not.throw();
        needTool(this, "systemd-analyze", "systemd");
        const r = run("systemd-analyze", ["verify", "--man=no", file("orthweb.timer"), file("orthweb.service"), file("orthweb-peer.timer"), file("orthweb-peer.service"), file("orthweb-claim.timer"), file("orthweb-claim.service")]);
        // The one complaint expected here: the scripts live on the instance, not on this machine.
        const complaints = r.output.split("\n").filter((l) => l && !/Command \/opt\/orthweb\/(start|peer|claim)\.sh is not executable/.test(l));
        expect(complaints).to.deep.equal([]);
    });
});

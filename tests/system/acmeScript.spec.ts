// acme.sh for real (bash, openssl, jq), with stand-ins for what it talks to: an `aws` that keeps S3 objects, the
// acme secret and the published metric in a shared directory (S3's conditional writes honoured under a lock, as S3
// does them), the metadata service's curl, and a lego that issues a certificate with openssl after a pause. Two
// instances are two directories running the same script, concurrently: the rendered script re-pointed as the twin
// does it (twin/repoint.ts acmeSubstitutions: its directory, lego as a command, how nginx reloads).
import { expect } from "chai";
import { spawn, spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { ACME_LOCK_KEY, renderAcmeScript } from "../../components/bootstrap/acmeScript";
import { ACME_DIRECTORIES } from "../../rules/acme";
import { needTool } from "../localTools";
import { AWS_STAND_IN, METADATA_STAND_IN } from "../../twin/acmeStandIns";
import { acmeSubstitutions, substitute } from "../../twin/repoint";
import { renderBootstrapFiles } from "../../components/bootstrap";
import { SAMPLE } from "../fixtures";
import { BOOTSTRAP_DIR } from "../../rules/instanceFiles";

const NAMES = ["pacs.example.org"];
const SECRET_ARN = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:orthanc-acme-x";

/** lego: after LEGO_SLEEP seconds, a certificate for the --domains valid LEGO_DAYS days, or a failure with LEGO_FAIL. */
const LEGO_STUB = `#!/bin/bash
set -eu
echo "lego $INSTANCE_ID" >>"$AWS_STATE/lego"
domains=() path=
while [ $# -gt 0 ]; do case "$1" in --domains) domains+=("$2"); shift 2 ;; --path) path=$2; shift 2 ;; *) shift ;; esac; done
sleep "\${LEGO_SLEEP:-0}"
if [ -n "\${LEGO_FAIL:-}" ]; then echo "acme: error: 400 :: urn:ietf:params:acme:error:connection" >&2; exit 1; fi
san=$(printf 'DNS:%s,' "\${domains[@]}")
mkdir -p "$path/certificates"
openssl req -x509 -newkey rsa:2048 -nodes -days "\${LEGO_DAYS:-90}" -subj "/CN=\${domains[0]}" -addext "subjectAltName=\${san%,}" \\
    -keyout "$path/certificates/\${domains[0]}.key" -out "$path/certificates/\${domains[0]}.crt" 2>/dev/null
`;

interface Instance {
    readonly id: string;
    readonly dir: string;
    readonly script: string;
}

describe("acme.sh: one issuer, a shared certificate, a failed renewal that keeps the certificate (real bash)", function () {
    this.timeout(60000);
    let root: string;
    let state: string;
    let bin: string;

    function instance(id: string): Instance {
        const dir = path.join(root, id);
        fs.mkdirSync(path.join(dir, "run", "tls"), { recursive: true });
        const rendered = renderAcmeScript({
            region: "eu-west-1",
            dir: BOOTSTRAP_DIR,
            bucket: "orthanc-bucket",
            secretArn: SECRET_ARN,
            email: "pki@example.org",
            directoryUrl: ACME_DIRECTORIES.staging,
            hostedZoneId: "Z0ZONE",
            names: NAMES,
            legoImage: "goacme/lego:v4.21.0",
        });
        const text = substitute("acme.sh", rendered, acmeSubstitutions({ dir, legoCommand: [path.join(bin, "lego")], reloadCommand: ["sh", "-c", `echo reload >>${dir}/reloads`] }));
        const script = path.join(dir, "acme.sh");
        fs.writeFileSync(script, text, { mode: 0o700 });
        return { id, dir, script };
    }

    function env(i: Instance, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
        return { ...process.env, PATH: `${bin}:${process.env.PATH}`, AWS_STATE: state, INSTANCE_ID: i.id, SLOT: `orthanc-${i.id.slice(-1)}`, ORTHWEB_ACME_PEER_POLL: "1", ...extra };
    }

    function runOnce(i: Instance, extra: Record<string, string> = {}): Promise<{ status: number | null; stderr: string }> {
        return new Promise((resolve) => {
            const child = spawn("bash", [i.script], { env: env(i, extra) });
            let stderr = "";
            child.stderr.on("data", (d) => (stderr += d));
            child.on("close", (status) => resolve({ status, stderr }));
        });
    }

    const read = (file: string) => (fs.existsSync(file) ? fs.readFileSync(file, "utf8") : "");
    const lines = (file: string) => read(file).split("\n").filter(Boolean);
    /** The served certificate as the start script and acme.sh write it (jq -r: the PEM and a newline). */
    const served = (i: Instance) => read(path.join(i.dir, "run", "tls", "server.crt")).replace(/\n$/, "");
    const shared = () => JSON.parse(read(path.join(state, "secret")));

    /** A certificate for NAMES valid `days` days, as the secret holds it (and optionally already served by `on`). */
    function share(days: number, ...on: Instance[]): string {
        const tmp = fs.mkdtempSync(path.join(root, "cert-"));
        spawnSync("openssl", ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", String(days), "-subj", `/CN=${NAMES[0]}`, "-addext", `subjectAltName=DNS:${NAMES[0]}`, "-keyout", `${tmp}/k`, "-out", `${tmp}/c`]);
        const certificatePem = read(`${tmp}/c`);
        fs.writeFileSync(path.join(state, "secret"), JSON.stringify({ certificatePem, privateKeyPem: read(`${tmp}/k`), directory: ACME_DIRECTORIES.staging, names: NAMES }));
        for (const i of on) {
            fs.writeFileSync(path.join(i.dir, "run", "tls", "server.crt"), `${certificatePem}\n`);
            fs.writeFileSync(path.join(i.dir, "run", "tls", "server.key"), `${read(`${tmp}/k`)}\n`);
            fs.mkdirSync(path.join(i.dir, "run", "acme"), { recursive: true });
            fs.writeFileSync(path.join(i.dir, "run", "acme", "installed"), "");
        }
        return certificatePem;
    }

    before(function () {
        for (const tool of ["openssl", "jq", "flock", "md5sum"]) needTool(this, tool);
    });

    beforeEach(() => {
        root = fs.mkdtempSync(path.join(os.tmpdir(), "orthweb-acme-"));
        state = path.join(root, "aws");
        bin = path.join(root, "bin");
        fs.mkdirSync(path.join(state, "s3"), { recursive: true });
        fs.mkdirSync(bin);
        fs.writeFileSync(path.join(bin, "aws"), AWS_STAND_IN, { mode: 0o755 });
        fs.writeFileSync(path.join(bin, "curl"), METADATA_STAND_IN, { mode: 0o755 });
        fs.writeFileSync(path.join(bin, "lego"), LEGO_STUB, { mode: 0o755 });
    });

    afterEach(() => fs.rmSync(root, { recursive: true, force: true }));

    it("shellcheck finds nothing in acme.sh and the start script that reads its certificate (with and without the cache)", function () {
        needTool(this, "shellcheck");
        const acme = { bucket: "b", secretArn: SECRET_ARN, email: "pki@example.org", directoryUrl: ACME_DIRECTORIES.production, hostedZoneId: "Z0ZONE", names: ["pacs-1.example.org", "pacs-2.example.org"], legoImage: "goacme/lego:v4.21.0" };
        for (const registry of [undefined, "123456789012.dkr.ecr.eu-west-1.amazonaws.com"]) {
            for (const f of renderBootstrapFiles({ ...SAMPLE, registry, acme }).filter((f) => /\/(acme|start)\.sh$/.test(f.path))) {
                const file = path.join(root, path.basename(f.path));
                fs.writeFileSync(file, f.content);
                const r = spawnSync("shellcheck", ["--shell=bash", "--severity=style", file], { encoding: "utf8" });
                expect(r.status, `${f.path}: ${r.stdout}`).to.equal(0);
            }
        }
    });

    it("two instances racing for a first certificate: one issues, the other waits for it and serves the same one", async () => {
        const [a, b] = [instance("i-1"), instance("i-2")];
        const results = await Promise.all([runOnce(a, { LEGO_SLEEP: "2" }), runOnce(b, { LEGO_SLEEP: "2" })]);
        expect(results.map((r) => r.status), results.map((r) => r.stderr).join("\n")).to.deep.equal([0, 0]);
        expect(lines(path.join(state, "lego")), "lego runs once for the pair").to.have.length(1);
        expect(results.map((r) => r.stderr).join("\n")).to.match(/another instance holds the lock: waiting for its certificate/);
        const certificate = shared().certificatePem;
        expect(served(a)).to.equal(certificate);
        expect(served(b)).to.equal(certificate);
        expect(lines(path.join(a.dir, "reloads"))).to.have.length(1);
        expect(lines(path.join(b.dir, "reloads"))).to.have.length(1);
        expect(fs.existsSync(path.join(state, "s3", ACME_LOCK_KEY.replace(/\//g, "_"))), "the lock is released").to.equal(false);
        expect(lines(path.join(state, "metrics")).sort().join(" ")).to.match(/^Slot=orthanc-1 (89|90) Slot=orthanc-2 (89|90)$/);
    });

    it("leaves a certificate with more than 30 days alone, renews one with fewer, and the peer picks the new one up", async () => {
        const [a, b] = [instance("i-1"), instance("i-2")];
        const old = share(31, a, b);
        await runOnce(a);
        expect(lines(path.join(state, "lego")), "31 days left: not due").to.deep.equal([]);
        expect(served(a)).to.equal(old);

        share(29, a);
        const renewed = await runOnce(a);
        expect(renewed.status, renewed.stderr).to.equal(0);
        expect(lines(path.join(state, "lego"))).to.deep.equal(["lego i-1"]);
        expect(served(a)).to.equal(shared().certificatePem).and.not.equal(old);
        await runOnce(b);
        expect(served(b), "the peer serves the shared certificate without issuing").to.equal(shared().certificatePem);
        expect(lines(path.join(state, "lego"))).to.have.length(1);
    });

    it("a failed renewal keeps the certificate in use, backs off, and reports its days left below the alarm's 14", async () => {
        const a = instance("i-1");
        const current = share(10, a);
        const failed = await runOnce(a, { LEGO_FAIL: "1" });
        expect(failed.status).to.equal(1);
        expect(failed.stderr).to.match(/issuance failed; keeping the certificate in use/);
        expect(served(a)).to.equal(current);
        expect(shared().certificatePem).to.equal(current);
        expect(lines(path.join(a.dir, "reloads"))).to.deep.equal([]);
        const metrics = () => lines(path.join(state, "metrics"));
        expect(metrics()).to.have.length(1);
        expect(metrics()[0]).to.match(/^Slot=orthanc-1 (9|10)$/);
        expect(fs.existsSync(path.join(state, "s3", ACME_LOCK_KEY.replace(/\//g, "_"))), "the lock is released after a failure too").to.equal(false);

        // Within the first hour after the failure, the next run does not ask the CA again but still reports.
        const backedOff = await runOnce(a, { LEGO_FAIL: "1" });
        expect(backedOff.stderr).to.match(/issuance failed 1 time\(s\) in a row; next try after/);
        expect(lines(path.join(state, "lego"))).to.have.length(1);
        expect(metrics()).to.have.length(2);
        expect(metrics()[1]).to.match(/^Slot=orthanc-1 (9|10)$/);
    });

    it("reports 0 days while the instance still serves the bootstrap certificate (the alarm fires if issuance never works)", async () => {
        const a = instance("i-1");
        const r = await runOnce(a, { LEGO_FAIL: "1" });
        expect(r.status).to.equal(1);
        expect(lines(path.join(state, "metrics"))).to.deep.equal(["Slot=orthanc-1 0"]);
    });

    it("takes over a lock its holder left behind (older than the TTL), but not a live one", async () => {
        const a = instance("i-1");
        const lock = path.join(state, "s3", ACME_LOCK_KEY.replace(/\//g, "_"));
        fs.writeFileSync(lock, "i-dead 0 abc\n");
        const waiting = await runOnce(a, { ORTHWEB_ACME_PEER_WAIT: "2" });
        expect(lines(path.join(state, "lego")), "a live lock: no issuance").to.deep.equal([]);
        expect(waiting.stderr).to.match(/another instance holds the lock/);
        const old = new Date(Date.now() - 3600 * 1000);
        fs.utimesSync(lock, old, old);
        const r = await runOnce(a);
        expect(r.status, r.stderr).to.equal(0);
        expect(r.stderr).to.match(/taking over a lock left for \d+s/);
        expect(lines(path.join(state, "lego"))).to.deep.equal(["lego i-1"]);
        expect(fs.existsSync(lock)).to.equal(false);
    });

    it("says why when S3 refuses the lock for another reason (an AWS CLI without --if-none-match), and does not wait", async () => {
        const a = instance("i-1");
        const r = await runOnce(a, { AWS_S3_REFUSE: "aws: error: Unknown options: --if-none-match, *" });
        expect(r.status).to.equal(1);
        expect(r.stderr).to.match(/could not take the lock: aws: error: Unknown options: --if-none-match/);
        expect(r.stderr).to.not.match(/another instance holds the lock/);
        expect(lines(path.join(state, "lego"))).to.deep.equal([]);
    });

    it("keeps serving when Secrets Manager cannot be read, and says so", async () => {
        const a = instance("i-1");
        const current = share(60, a);
        const r = await runOnce(a, { AWS_SECRETS_DOWN: "1" });
        expect(r.status).to.equal(1);
        expect(r.stderr).to.match(/cannot read the shared certificate; keeping the one in use/);
        expect(served(a)).to.equal(current);
        expect(lines(path.join(state, "metrics"))).to.have.length(1);
        expect(lines(path.join(state, "metrics"))[0]).to.match(/^Slot=orthanc-1 (59|60)$/);
    });
});

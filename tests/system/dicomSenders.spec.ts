// Who may send studies: the modalities list, the blocks admitted on 11112, client certificates (nginx's check,
// the CA in the TLS secret, one certificate each as a secret output), and prod's explicit client blocks.
import { expect } from "chai";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { renderNginxConf } from "../../components/bootstrap/nginx";
import { makeSelfSignedCertificate, needFile, needTool } from "../localTools";

describe("DICOM senders", () => {
    it("nginx -t accepts the stream server with the client-certificate check", function () {
        needTool(this, "nginx");
        needTool(this, "openssl");
        needFile(this, "/usr/lib/nginx/modules/ngx_stream_module.so", "libnginx-mod-stream");
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "orthweb-mtls-nginx-"));
        try {
            const f = (n: string) => path.join(dir, n);
            makeSelfSignedCertificate(dir, "tls", "DNS:test", 1, "pacs"); // tls.crt and tls.key
            const conf = renderNginxConf({ orthancHost: "127.0.0.1", certificatePath: f("tls.crt"), keyPath: f("tls.key"), pidPath: f("nginx.pid"), dicomClientCaPath: f("tls.crt"), listenAddress: "127.0.0.1", peerTls: { certificatePath: f("tls.crt"), keyPath: f("tls.key"), caPath: f("tls.crt") } });
            fs.writeFileSync(f("nginx.conf"), `load_module /usr/lib/nginx/modules/ngx_stream_module.so;\n${conf}`);
            const out = fs.openSync(f("stdout"), "w");
            const r = spawnSync("nginx", ["-t", "-q", "-p", dir, "-e", "stderr", "-c", f("nginx.conf")], { encoding: "utf8", stdio: ["ignore", out, "pipe"] });
            fs.closeSync(out);
            expect(r.status, r.stderr).to.equal(0);
        } finally {
            fs.rmSync(dir, { recursive: true, force: true });
        }
    });
});

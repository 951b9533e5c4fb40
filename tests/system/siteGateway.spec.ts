// The site gateway's files (rules/siteGateway.ts): what they say, and the real tools reading them: charon loading the
// swanctl.conf with the strongswan.conf drop-in (in a network namespace of its own), shellcheck on the tunnel script,
// systemd on its unit, BIRD parsing its configuration.
import { expect } from "chai";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { siteGatewayFiles } from "../../rules/siteGateway";
import { renderStrongswanConf } from "../../twin/ipsec";
import { needTool } from "../localTools";
import { BGP, STATIC } from "../siteGatewayFixtures";

function run(cmd: string, args: string[], env: NodeJS.ProcessEnv = process.env): { status: number | null; output: string } {
    const r = spawnSync(cmd, args, { encoding: "utf8", env, timeout: 30000 });
    return { status: r.status, output: `${r.stdout ?? ""}${r.stderr ?? ""}` };
}

describe("site gateway files pass the real tools", function () {
    this.timeout(60000);
    let dir: string;
    const file = (name: string) => path.join(dir, name);
    before(() => {
        dir = fs.mkdtempSync(path.join(os.tmpdir(), "orthweb-site-gateway-"));
    });
    after(() => fs.rmSync(dir, { recursive: true, force: true }));

    it("charon loads both tunnels from swanctl.conf with the strongswan.conf drop-in (own network and mount namespace)", function () {
        needTool(this, "swanctl", "strongswan-swanctl");
        needTool(this, "unshare", "util-linux");
        if (!fs.existsSync("/usr/lib/ipsec/charon")) needTool(this, "/usr/lib/ipsec/charon", "strongswan-charon");
        for (const [label, params] of [["static", STATIC], ["bgp", BGP]] as const) {
            const files = siteGatewayFiles(params);
            const vici = file(`${label}.vici`);
            fs.writeFileSync(file(`${label}.dropin.conf`), files.strongswanConf);
            fs.writeFileSync(file(`${label}.strongswan.conf`), `${renderStrongswanConf({ logPath: file(`${label}.charon.log`), viciSocket: vici })}include ${file(`${label}.dropin.conf`)}\n`);
            fs.writeFileSync(file(`${label}.swanctl.conf`), files.swanctlConf, { mode: 0o600 });
            const env = { ...process.env, STRONGSWAN_CONF: file(`${label}.strongswan.conf`) };
            const script = [
                "mount -t tmpfs tmpfs /run",
                "/usr/lib/ipsec/charon & pid=$!",
                `for i in $(seq 100); do [ -S ${vici} ] && break; sleep 0.1; done`,
                `swanctl --load-all --uri unix://${vici} --file ${file(`${label}.swanctl.conf`)}; rc=$?`,
                `swanctl --list-conns --uri unix://${vici}`,
                "kill $pid; wait $pid 2>/dev/null; exit $rc",
            ].join("\n");
            const r = run("unshare", ["-n", "-m", "sh", "-c", script], env);
            expect(r.status, r.output).to.equal(0);
            expect(r.output, r.output).to.include("loaded ike secret 'ike-tunnel1'").and.include("loaded ike secret 'ike-tunnel2'");
            expect(r.output, r.output).to.include("successfully loaded 2 connections, 0 unloaded");
            // charon's reading of it: both children route-based, 0.0.0.0/0, the interfaces' ids.
            expect(r.output.match(/tunnel\d-net: TUNNEL/g), r.output).to.have.length(2);
            expect(r.output.match(/local:\s+0\.0\.0\.0\/0/g), r.output).to.have.length(2);
            // (swanctl refuses a connection with an option it does not know: "unknown option".)
            expect(r.output).to.not.match(/unknown option|failed to load/);
            const log = fs.readFileSync(file(`${label}.charon.log`), "utf8");
            expect(log).to.not.match(/invalid|unknown option|parsing .* failed/i);
        }
    });

    it("shellcheck accepts the tunnel script and systemd its unit", function () {
        needTool(this, "shellcheck");
        needTool(this, "systemd-analyze", "systemd");
        for (const [label, params] of [["static", STATIC], ["bgp", BGP]] as const) {
            const files = siteGatewayFiles(params);
            fs.writeFileSync(file(`orthweb-tunnels-${label}`), files.tunnelScript, { mode: 0o755 });
            const r = run("shellcheck", ["--shell=sh", "--severity=style", file(`orthweb-tunnels-${label}`)]);
            expect(r.status, r.output).to.equal(0);
        }
        fs.writeFileSync(file("orthweb-tunnels.service"), siteGatewayFiles(STATIC).systemdUnit);
        const r = run("systemd-analyze", ["verify", "--man=no", file("orthweb-tunnels.service")]);
        const complaints = r.output.split("\n").filter((l) => l && !/Command \/usr\/local\/sbin\/orthweb-tunnels is not executable|strongswan\.service/.test(l));
        expect(complaints, r.output).to.deep.equal([]);
    });

    it("BIRD parses the BGP configuration", function () {
        needTool(this, "bird", "bird2");
        fs.writeFileSync(file("bird.conf"), siteGatewayFiles(BGP).birdConf!);
        const r = run("bird", ["-p", "-c", file("bird.conf")]);
        expect(r.status, r.output).to.equal(0);
    });
});

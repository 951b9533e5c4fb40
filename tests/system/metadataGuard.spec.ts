// The metadata guard for real: the rendered rules pass iptables-restore, the rendered script is shellcheck-clean
// and idempotent, and in network namespaces laid out like an instance (a Docker bridge named as compose names it,
// Orthanc's container and nginx's, a stand-in metadata service routed through the host) only Orthanc's address
// gets an answer from 169.254.169.254.
import { expect } from "chai";
import { spawn, spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { renderCompose } from "../../components/bootstrap/compose";
import { METADATA_ADDRESS, METADATA_CHAIN, renderDockerDropIn, renderMetadataGuard, renderMetadataRules } from "../../components/bootstrap/metadataGuard";
import { CONTAINER_BRIDGE, CONTAINER_SUBNET, DYNAMIC_ADDRESS_RANGE, ORTHANC_CONTAINER_ADDRESS } from "../../rules/containerNetwork";
import { parse } from "yaml";
import { needTool } from "../localTools";

function sh(script: string, timeout = 20000): { status: number | null; output: string } {
    const r = spawnSync("bash", ["-c", script], { encoding: "utf8", timeout });
    return { status: r.status, output: `${r.stdout ?? ""}${r.stderr ?? ""}` };
}

describe("metadata guard (nginx cannot reach the instance metadata service)", function () {
    this.timeout(60000);
    let dir: string;
    before(() => {
        dir = fs.mkdtempSync(path.join(os.tmpdir(), "orthweb-imds-"));
        fs.writeFileSync(path.join(dir, "guard.sh"), renderMetadataGuard(), { mode: 0o700 });
        fs.writeFileSync(path.join(dir, "rules"), renderMetadataRules());
    });
    after(() => fs.rmSync(dir, { recursive: true, force: true }));

    it("pins Orthanc to the address the rule lets through, names the bridge, and takes raw sockets from nginx", () => {
        const compose = parse(renderCompose({ orthancImage: "o:1", nginxImage: "n:1", dir: "/opt/orthweb", region: "eu-west-1" }));
        expect(compose.services.orthanc.networks.default.ipv4_address).to.equal(ORTHANC_CONTAINER_ADDRESS);
        expect(compose.services.nginx.networks).to.equal(undefined);
        for (const service of ["orthanc", "healthz", "nginx"]) expect(compose.services[service].cap_drop, service).to.deep.equal(["ALL"]);
        expect(compose.services.nginx.cap_add).to.not.include("NET_RAW");
        expect(compose.networks.default.driver_opts["com.docker.network.bridge.name"]).to.equal(CONTAINER_BRIDGE);
        expect(compose.networks.default.ipam.config).to.deep.equal([{ subnet: CONTAINER_SUBNET, ip_range: DYNAMIC_ADDRESS_RANGE }]);
        expect(renderMetadataRules()).to.include(`-s ${ORTHANC_CONTAINER_ADDRESS}/32 -i ${CONTAINER_BRIDGE} -d ${METADATA_ADDRESS}/32 -j RETURN`);
        expect(renderDockerDropIn("/opt/orthweb")).to.equal("[Service]\nExecStartPre=/opt/orthweb/metadata-guard.sh\n");
    });

    it("iptables-restore --test accepts the rules, and rejects a broken variant", function () {
        needTool(this, "iptables-restore", "iptables");
        needTool(this, "unshare", "util-linux");
        const ok = sh(`unshare -n iptables-restore --test --noflush < ${dir}/rules`);
        expect(ok.status, ok.output).to.equal(0);
        fs.writeFileSync(path.join(dir, "broken"), renderMetadataRules().replace("icmp-port-unreachable", "no-such-reply"));
        expect(sh(`unshare -n iptables-restore --test --noflush < ${dir}/broken`).status).to.not.equal(0);
    });

    it("shellcheck finds nothing in the guard script", function () {
        needTool(this, "shellcheck");
        const r = sh(`shellcheck --shell=bash --severity=style ${dir}/guard.sh`);
        expect(r.status, r.output).to.equal(0);
    });

    it("the guard is idempotent: run twice, one jump from DOCKER-USER and the chain's two rules", function () {
        needTool(this, "iptables", "iptables");
        needTool(this, "unshare", "util-linux");
        const r = sh(`unshare -n bash -c '${dir}/guard.sh && ${dir}/guard.sh && iptables -S'`);
        expect(r.status, r.output).to.equal(0);
        const lines = r.output.split("\n");
        expect(lines.filter((l) => l === `-A DOCKER-USER -j ${METADATA_CHAIN}`)).to.have.length(1);
        expect(lines.filter((l) => l.startsWith(`-A ${METADATA_CHAIN} `))).to.have.length(2);
    });

    it("in namespaces laid out like an instance, Orthanc's container reaches the metadata service and nginx's does not", async function () {
        needTool(this, "iptables", "iptables");
        needTool(this, "ip", "iproute2");
        needTool(this, "curl");
        const tag = `i${process.pid % 100000}`;
        const ns = { host: `${tag}-host`, orthanc: `${tag}-orthanc`, nginx: `${tag}-nginx`, imds: `${tag}-imds` };
        const setup = `set -e
for n in ${Object.values(ns).join(" ")}; do ip netns add $n; done
H="ip netns exec ${ns.host}"
$H ip link set lo up
$H ip link add ${CONTAINER_BRIDGE} type bridge
$H ip addr add 198.18.0.1/24 dev ${CONTAINER_BRIDGE}
$H ip link set ${CONTAINER_BRIDGE} up
for pair in orthanc:${ORTHANC_CONTAINER_ADDRESS} nginx:198.18.0.130; do
  name=\${pair%%:*}; addr=\${pair#*:}; n=${tag}-$name
  ip link add v-$name netns ${ns.host} type veth peer name eth0 netns $n
  $H ip link set v-$name master ${CONTAINER_BRIDGE} up
  ip netns exec $n ip addr add $addr/24 dev eth0
  ip netns exec $n ip link set eth0 up
  ip netns exec $n ip route add default via 198.18.0.1
done
ip link add v-imds netns ${ns.host} type veth peer name eth0 netns ${ns.imds}
$H ip addr add 169.254.0.1/16 dev v-imds
$H ip link set v-imds up
ip netns exec ${ns.imds} ip addr add ${METADATA_ADDRESS}/16 dev eth0
ip netns exec ${ns.imds} ip link set eth0 up
ip netns exec ${ns.imds} ip link set lo up
ip netns exec ${ns.imds} ip route add 198.18.0.0/24 via 169.254.0.1
$H sysctl -qw net.ipv4.ip_forward=1
# As dockerd sets it up: FORWARD jumps to DOCKER-USER first.
$H iptables -N DOCKER-USER
$H iptables -I FORWARD 1 -j DOCKER-USER
$H ${dir}/guard.sh
`;
        const cleanup = () => sh(Object.values(ns).map((n) => `ip netns del ${n} 2>/dev/null`).join("; ") + "; true");
        let server: ReturnType<typeof spawn> | undefined;
        const startServer = () => spawn("ip", ["netns", "exec", ns.imds, process.execPath, "-e", `require("http").createServer((q, r) => r.end("role-credentials")).listen(80, "${METADATA_ADDRESS}")`], { stdio: "ignore" });
        try {
            const s = sh(setup);
            if (s.status !== 0) {
                // Without CAP_NET_ADMIN (an unprivileged container) the namespaces cannot be made: say so.
                if (/Operation not permitted/.test(s.output) && process.env.REQUIRE_TOOLS !== "1") return this.skip();
                throw new Error(`namespace setup failed: ${s.output}`);
            }
            server = startServer();
            const fetch = (n: string) => sh(`ip netns exec ${n} curl -s --max-time 3 http://${METADATA_ADDRESS}/`);
            let orthanc = fetch(ns.orthanc);
            for (let i = 0; i < 20 && orthanc.output !== "role-credentials"; i++) {
                await new Promise((r) => setTimeout(r, 100));
                orthanc = fetch(ns.orthanc);
            }
            expect(orthanc.output, "Orthanc's container").to.equal("role-credentials");
            const nginx = fetch(ns.nginx);
            expect(nginx.output, "nginx's container").to.equal("");
            expect(nginx.status, "curl exit code: 7 = connection refused (the REJECT)").to.equal(7);
        } finally {
            server?.kill();
            cleanup();
        }
    });
});

// The instance runtime survives its own faults (issue 21): nginx names Orthanc and the health checker by the fixed
// addresses compose pins, so it starts and serves (the fallback's 502, /healthz's 5xx) whether or not they are up,
// proved with Debian's real nginx on the instance's own nginx.conf in a network namespace where nothing listens at
// those addresses; and every container runs with the capabilities compose grants it and no others.
import { expect } from "chai";
import { parse } from "yaml";
import { renderBootstrapFiles } from "../components/bootstrap";
import { NGINX_CAPABILITIES } from "../components/bootstrap/compose";
import { renderNginxConf } from "../components/bootstrap/nginx";
import { CONTAINER_NETWORK, containerNetworkProblems, HEALTHZ_CONTAINER_ADDRESS, ORTHANC_CONTAINER_ADDRESS } from "../rules/containerNetwork";
import { isIpv4Address } from "../rules/cidr";
import { HEALTH_CHECKER_PORT, ORTHANC_HTTP_PORT } from "../rules/ports";
import { SAMPLE } from "./fixtures";

function fileOf(name: string): string {
    const found = renderBootstrapFiles(SAMPLE).find((f) => f.path.endsWith(`/${name}`));
    if (!found) throw new Error(`no ${name} among the bootstrap files`);
    return found.content;
}

describe("instance runtime: nginx needs neither Orthanc nor the checker to start", function () {
    this.timeout(60000);
    const compose = parse(fileOf("docker-compose.yml"));
    const conf = fileOf("nginx.conf");

    it("names every upstream by address (nothing to resolve at start), the addresses compose pins", () => {
        const hosts = [...conf.matchAll(/^\s*(?:server|proxy_pass)\s+(?:https?:\/\/)?([^\s:;/{]+)(?::\d+)?[^;{]*;/gm)].map((m) => m[1]);
        const named = hosts.filter((h) => !isIpv4Address(h) && !h.startsWith("$") && !/^orthanc_(web|web_or_peer|dicom)$/.test(h) && h !== "_");
        expect(named, "hosts nginx would resolve at start").to.deep.equal([]);
        expect(conf).to.include(`server ${ORTHANC_CONTAINER_ADDRESS}:${ORTHANC_HTTP_PORT}`);
        expect(conf).to.include(`proxy_pass http://${HEALTHZ_CONTAINER_ADDRESS}:${HEALTH_CHECKER_PORT}/healthz;`);
        expect(compose.services.orthanc.networks.default.ipv4_address).to.equal(ORTHANC_CONTAINER_ADDRESS);
        expect(compose.services.healthz.networks.default.ipv4_address).to.equal(HEALTHZ_CONTAINER_ADDRESS);
        // Nothing for nginx to wait for: compose may start it first, or alone.
        expect(compose.services.nginx.depends_on).to.equal(undefined);
    });

    it("refuses to render a name where nginx needs an address, naming the parameter", () => {
        expect(() => renderNginxConf({ orthancHost: "orthanc", healthCheckerHost: "healthz", certificatePath: "/c", keyPath: "/k" })).to.throw(
            /IPv4 addresses.*orthancHost "orthanc", healthCheckerHost "healthz"/,
        );
    });

    it("pins addresses in a block that cannot clash with a VPC or Docker's own networks (and the check finds a clash)", () => {
        expect(containerNetworkProblems(CONTAINER_NETWORK)).to.deep.equal([]);
        const clash = containerNetworkProblems({ subnet: "172.18.0.0/24", dynamicRange: "172.18.0.0/25", pinned: { orthanc: "172.18.0.10", healthz: "172.18.1.11", nginx: "172.18.0.10" } });
        expect(clash.join("\n")).to.match(/RFC 1918/).and.match(/Docker's default pool 172\.18\.0\.0\/16/).and.match(/healthz's address 172\.18\.1\.11 is not inside/);
        expect(clash.join("\n")).to.match(/orthanc's address 172\.18\.0\.10 is inside the dynamic range/).and.match(/nginx and orthanc share 172\.18\.0\.10/);
        expect(compose.networks.default.ipam.config).to.deep.equal([{ subnet: CONTAINER_NETWORK.subnet, ip_range: CONTAINER_NETWORK.dynamicRange }]);
    });

});

describe("instance runtime: capabilities", () => {
    const compose = parse(fileOf("docker-compose.yml"));

    it("drops every capability from every container; nginx gets back only what its master needs (never NET_RAW)", () => {
        for (const [name, service] of Object.entries(compose.services as Record<string, { cap_drop?: string[]; cap_add?: string[] }>)) {
            expect(service.cap_drop, name).to.deep.equal(["ALL"]);
        }
        expect(compose.services.orthanc.cap_add).to.equal(undefined);
        expect(compose.services.healthz.cap_add).to.equal(undefined);
        expect(compose.services.nginx.cap_add).to.deep.equal(NGINX_CAPABILITIES);
        expect(NGINX_CAPABILITIES).to.not.include.members(["NET_RAW", "NET_ADMIN", "NET_BIND_SERVICE", "SYS_ADMIN", "DAC_OVERRIDE"]);
    });
});

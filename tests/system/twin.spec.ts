// The local twin's pure parts (twin/): what it takes from the program, how it turns target groups into
// HAProxy, what it changes for Debian, the DICOM it sends, and how it measures and reports. The run itself is
// `npm run test:twin` (root). Tests that need a real tool are pending without it; with REQUIRE_TOOLS=1 they fail.
import { expect } from "chai";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { newUid, SECONDARY_CAPTURE, secondaryCapture } from "../../twin/dicom";
import { renderHaproxyConfig, statusRegex } from "../../twin/haproxy";
import { matcherCodes, TARGET_GROUP_TYPE, targetGroupsFrom } from "../../twin/targetGroups";

const FIXTURE = path.join(__dirname, "..", "..", "twin", "fixtures", "nlb-target-groups.json");

function requireTool(ctx: Mocha.Context, tool: string): void {
    if (spawnSync("sh", ["-c", `command -v ${tool}`]).status === 0) return;
    if (process.env.REQUIRE_TOOLS === "1") throw new Error(`${tool} is required (REQUIRE_TOOLS=1); .ci/run installs it from Debian`);
    ctx.test!.title += ` (pending: ${tool} not installed)`;
    ctx.skip();
}

function tgRegistration(name: string, inputs: Record<string, unknown>) {
    return { type: TARGET_GROUP_TYPE, name, inputs };
}

const HTTPS_CHECK = { protocol: "HTTPS", path: "/healthz", port: "443", interval: 10, healthyThreshold: 3, unhealthyThreshold: 2, timeout: 5 };

const TARGETS = [
    { name: "orthanc-1", address: "10.251.9.6" },
    { name: "orthanc-2", address: "10.251.9.10" },
];

describe("local twin: HAProxy standing in for the network load balancer", () => {
    const tgs = targetGroupsFrom(JSON.parse(fs.readFileSync(FIXTURE, "utf8")));
    const cfg = renderHaproxyConfig({ frontDoorAddress: "10.251.9.2", targets: TARGETS, targetGroups: tgs, stats: { address: "10.251.9.2", port: 8404 } });
    const backend = (name: string) => cfg.split(`\nbackend ${name}\n`)[1].split("\n\n")[0];

    it("listens on each target group's port at the front door and sends to both instances on the same port", () => {
        expect(cfg).to.contain("frontend lb-dicom\n    bind 10.251.9.2:11112\n    default_backend lb-dicom");
        expect(cfg).to.contain("frontend lb-web\n    bind 10.251.9.2:443\n");
        expect(backend("lb-dicom")).to.contain("server orthanc-1 10.251.9.6:11112 weight 256 check");
        expect(backend("lb-dicom")).to.contain("server orthanc-2 10.251.9.10:11112 weight 256 check");
    });

    it("copies the health check: path, port, interval in every state, rise, fall, timeout, accepted codes", () => {
        const dicom = backend("lb-dicom");
        expect(dicom).to.contain("option httpchk GET /healthz");
        expect(dicom).to.contain("timeout check 4s");
        expect(dicom).to.contain("http-check expect rstatus ^(2[0-9][0-9]|3[0-9][0-9])$");
        expect(dicom).to.contain("inter 5s fastinter 5s downinter 5s rise 3 fall 2 port 443");
        expect(backend("lb-web")).not.to.match(/ port \d/);
    });

    it("cuts an unhealthy target's sessions only where the target group terminates them (the program's let them drain)", () => {
        expect(cfg).not.to.contain("on-marked-down");
        const terminating = targetGroupsFrom([tgRegistration("t", { port: 443, protocol: "TCP", healthCheck: HTTPS_CHECK })]);
        const out = renderHaproxyConfig({ frontDoorAddress: "10.251.9.2", targets: TARGETS, targetGroups: terminating, stats: { address: "10.251.9.2", port: 8404 } });
        expect(out.match(/ on-marked-down shutdown-sessions/g)).to.have.length(2);
    });

    it("checks HTTPS like the NLB: certificate not validated, TLS 1.2 at most", () => {
        expect(backend("lb-web")).to.contain("check-ssl verify none ssl-max-ver TLSv1.2");
    });

    it("passes TCP through (nginx keeps TLS) and places each new connection at random, evenly, like the NLB's flow hash", () => {
        expect(cfg).to.contain("    mode tcp");
        expect(cfg).not.to.match(/bind .* ssl/);
        expect(backend("lb-dicom")).to.contain("balance random(1)");
        expect(backend("lb-dicom").match(/ weight 256 /g)).to.have.length(2);
    });

    it("terminates a TLS target group with the listener's certificate and re-encrypts to the targets", () => {
        const tls = targetGroupsFrom([tgRegistration("tls-dicom", { port: 11112, protocol: "TLS", healthCheck: HTTPS_CHECK })]);
        const out = renderHaproxyConfig({ frontDoorAddress: "10.251.9.2", targets: TARGETS, targetGroups: tls, stats: { address: "10.251.9.2", port: 8404 }, tlsListenerPemPath: "/tmp/l.pem" });
        expect(out).to.contain("bind 10.251.9.2:11112 ssl crt /tmp/l.pem");
        expect(out).to.match(/server orthanc-1 .* ssl verify none$/m);
        expect(() => renderHaproxyConfig({ frontDoorAddress: "10.251.9.2", targets: TARGETS, targetGroups: tls, stats: { address: "10.251.9.2", port: 8404 } })).to.throw(/tlsListenerPemPath/);
    });

    it("writes accepted status codes as a compact regex", () => {
        expect(statusRegex(matcherCodes("200-399")!)).to.equal("^(2[0-9][0-9]|3[0-9][0-9])$");
        expect(statusRegex(matcherCodes("200,401")!)).to.equal("^(200|401)$");
    });

    it("haproxy -c accepts the rendered configuration and rejects a broken one", function () {
        requireTool(this, "haproxy");
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "twin-haproxy-"));
        try {
            fs.writeFileSync(path.join(dir, "ok.cfg"), cfg);
            fs.writeFileSync(path.join(dir, "broken.cfg"), cfg.replace("inter 5s", "inter ten"));
            const ok = spawnSync("haproxy", ["-c", "-f", path.join(dir, "ok.cfg")], { encoding: "utf8" });
            expect(ok.status, ok.stdout + ok.stderr).to.equal(0);
            expect(spawnSync("haproxy", ["-c", "-f", path.join(dir, "broken.cfg")]).status).not.to.equal(0);
        } finally {
            fs.rmSync(dir, { recursive: true, force: true });
        }
    });
});

describe("local twin: DICOM it sends", () => {
    const ids = { patientId: "TWIN-1", studyUid: newUid(), seriesUid: newUid(), sopInstanceUid: newUid(), instanceNumber: 7 };

    it("makes valid, unique UIDs under the 2.25 root", () => {
        const uids = new Set(Array.from({ length: 200 }, newUid));
        expect(uids.size).to.equal(200);
        for (const uid of uids) expect(uid).to.match(/^2\.25\.[1-9]\d*$/).and.have.length.at.most(64);
    });

    it("writes a Part 10 file: preamble, DICM, a meta group whose length is right, even-length elements", () => {
        const file = secondaryCapture(ids);
        expect(file.subarray(128, 132).toString("ascii")).to.equal("DICM");
        expect(file.subarray(132, 136)).to.deep.equal(Buffer.from([0x02, 0x00, 0x00, 0x00]));
        const groupLength = file.readUInt32LE(140);
        const firstDatasetTag = file.readUInt16LE(144 + groupLength);
        expect(firstDatasetTag).to.equal(0x0008);
        expect(file.length % 2).to.equal(0);
    });

    it("dcmdump reads it back with its SOP class and instance UID", function () {
        requireTool(this, "dcmdump");
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "twin-dicom-"));
        try {
            const f = path.join(dir, "x.dcm");
            fs.writeFileSync(f, secondaryCapture(ids));
            const r = spawnSync("dcmdump", ["-E", f], { encoding: "utf8" });
            expect(r.status, r.stdout + r.stderr).to.equal(0);
            expect(r.stdout).to.contain(`[${ids.sopInstanceUid}]`);
            expect(r.stdout).to.contain(`=SecondaryCaptureImageStorage`);
            expect(r.stdout).to.match(/\(7fe0,0010\) OB/);
            expect(SECONDARY_CAPTURE).to.equal("1.2.840.10008.5.1.4.1.1.7");
        } finally {
            fs.rmSync(dir, { recursive: true, force: true });
        }
    });
});

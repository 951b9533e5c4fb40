// The upgrade scenario's pure parts: the change it rolls out, the runtime API commands standing in for the
// rollout's DeregisterTargets/RegisterTargets, the lowest number of instances in service, the line and the verdict.
import { expect } from "chai";
import { ServerState, StateChange } from "../twin/clients";
import { renderHaproxyConfig } from "../twin/haproxy";
import { drainCommands, minInService, registerCommands, upgradedTemplate, upgradeSummaryLine, upgradeVerdict } from "../twin/rollout";
import { SCENARIOS } from "../twin/scenarios";

const up = (backend: string, server: string, status = "UP"): ServerState => ({ backend, server, status, checkStatus: "L7OK", sessions: 0 });
const change = (atMs: number, backend: string, server: string, from: string, to: string): StateChange => ({ atMs, backend, server, from, to });
const INITIAL = [up("web", "o1"), up("dicom", "o1"), up("web", "o2"), up("dicom", "o2")];

describe("twin upgrade: pure parts", () => {
    it("changes one Orthanc setting and nothing else", () => {
        const before = { Name: "orthanc", DicomAet: "ORTHANC", PostgreSQL: { Host: "db" } };
        const after = upgradedTemplate(before);
        expect(after).to.deep.equal({ ...before, Name: "orthanc-upgraded" });
        expect(before.Name).to.equal("orthanc");
    });

    it("drains from every target group, and registers again with health starting down (as a new NLB target)", () => {
        expect(drainCommands(["web", "dicom"], "o1")).to.deep.equal(["set server web/o1 state drain", "set server dicom/o1 state drain"]);
        expect(registerCommands(["web"], "o1")).to.deep.equal(["set server web/o1 health down", "set server web/o1 state ready"]);
    });

    it("counts an instance in service only while every target group routes to it", () => {
        const rolled = [
            change(10, "web", "o1", "UP", "DRAIN"),
            change(11, "dicom", "o1", "UP", "DRAIN"),
            change(20, "web", "o1", "DRAIN", "DOWN"),
            change(30, "web", "o1", "DOWN 2/3", "UP"),
            change(31, "dicom", "o1", "DOWN 2/3", "UP"),
            change(40, "web", "o2", "UP", "DRAIN"),
            change(50, "web", "o2", "DRAIN", "UP"),
        ];
        expect(minInService(INITIAL, rolled, 0)).to.equal(1);
        expect(minInService(INITIAL, [], 0)).to.equal(2);
        // Going down (UP 1/2) still routes; both out at once is 0.
        expect(minInService(INITIAL, [change(1, "web", "o1", "UP", "UP 1/2")], 0)).to.equal(2);
        expect(minInService(INITIAL, [change(1, "dicom", "o1", "UP", "DOWN"), change(2, "web", "o2", "UP", "MAINT")], 0)).to.equal(0);
        // Changes before the clients started do not count.
        expect(minInService(INITIAL, [change(1, "dicom", "o1", "UP", "DOWN")], 5)).to.equal(2);
    });

    it("prints the line in the issue's form and fails on a loss or a moment with nobody in service", () => {
        const good = { stored: 550, lost: 0, retried: 2, minHealthy: 1, otherFailures: [] };
        expect(upgradeSummaryLine(good)).to.equal("twin upgrade: 550 stored, 0 lost, 2 retried, min healthy 1");
        expect(upgradeVerdict(good)).to.deep.equal([]);
        expect(upgradeVerdict({ ...good, lost: 1 })).to.have.length(1);
        expect(upgradeVerdict({ ...good, minHealthy: 0 })[0]).to.match(/no instance was in service/);
        expect(upgradeVerdict({ ...good, stored: 0 })[0]).to.match(/nothing was stored/);
        expect(upgradeVerdict({ ...good, otherFailures: ["orthanc-2 reports Name \"orthanc\""] })).to.have.length(1);
    });

    it("is registered, and HAProxy gets an admin socket only when asked", () => {
        expect(SCENARIOS.map((s) => s.name)).to.include("upgrade");
        const base = { frontDoorAddress: "10.0.0.2", targets: [{ name: "o1", address: "10.0.0.6" }], targetGroups: [], stats: { address: "10.0.0.2", port: 8404 } };
        expect(renderHaproxyConfig({ ...base, adminSocketPath: "/tmp/x/haproxy.sock" })).to.include("    stats socket /tmp/x/haproxy.sock mode 600 level admin");
        expect(renderHaproxyConfig(base)).to.not.include("stats socket");
    });
});

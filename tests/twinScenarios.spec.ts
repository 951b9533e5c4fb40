// The pure parts of the db-outage and rotation scenarios: their summary lines and the rotated password.
import { expect } from "chai";
import { SCENARIOS } from "../twin/scenarios";
import { dbOutageLine, DB_OUTAGE_MAX_DETECTION_SECONDS } from "../twin/scenarios/dbOutage";
import { rotatedPassword } from "../twin/scenarios/rotation";
import { replaceLine } from "../twin/scenarios/replace";
import { badUpgradeLine, badUpgradeVerdict } from "../twin/scenarios/badUpgrade";

describe("twin scenarios db-outage and rotation", () => {
    it("are registered beside instance-kill", () => {
        expect(SCENARIOS.map((s) => s.name)).to.include.members(["instance-kill", "db-outage", "rotation", "upgrade", "replace"]);
    });

    it("db-outage prints its line exactly in the issue's form, rounding up, and > for a bound it never met", () => {
        expect(dbOutageLine(1.11, 3.4)).to.equal("twin db-outage: healthz 5xx after 1.2s, healthy again after 3.4s");
        expect(dbOutageLine(undefined, undefined)).to.match(/^twin db-outage: healthz 5xx after >\d+s, healthy again after >\d+s$/);
        expect(DB_OUTAGE_MAX_DETECTION_SECONDS).to.equal(10);
    });

    it("rotates the master to a password with $ \\ ' \" and a space, different every time", () => {
        const p = rotatedPassword();
        for (const ch of ["$", "\\", "'", '"', " "]) expect(p, ch).to.include(ch);
        expect(rotatedPassword()).to.not.equal(p);
    });
});

describe("twin scenario replace", () => {
    it("prints its line in one form, with the time the slot address took to serve again", () => {
        expect(replaceLine({ stored: 47, lost: 0, retried: 19, backSeconds: 4.94 })).to.equal("twin replace: 47 stored, 0 lost, 19 retried, slot address back after 4.9s");
        expect(replaceLine({ stored: 3, lost: 2, retried: 0, backSeconds: undefined })).to.equal("twin replace: 3 stored, 2 lost, 0 retried, slot address back after never");
    });
});

describe("twin scenario bad-upgrade", () => {
    it("is registered, and prints its line exactly in the issue's form", () => {
        expect(SCENARIOS.map((s) => s.name)).to.include("bad-upgrade");
        expect(badUpgradeLine({ stored: 89, lost: 0, oldKept: true, slot2Touched: false })).to.equal("twin bad-upgrade: 89 stored, 0 lost, old instance kept: yes, slot 2 touched: no");
    });

    it("fails on a lost instance, an old instance not kept, or slot 2 touched", () => {
        expect(badUpgradeVerdict({ stored: 89, lost: 0, oldKept: true, slot2Touched: false }, [])).to.deep.equal([]);
        expect(badUpgradeVerdict({ stored: 89, lost: 1, oldKept: false, slot2Touched: true }, [])).to.have.length(3);
    });
});

// Not a spec of either suite: tests/system/unitGuard.spec.ts runs mocha on this file, as a unit spec, to see the
// guard fail each of these tests.
import { execFileSync } from "child_process";

describe("a unit spec that breaks the unit suite's rules", () => {
    it("waits for a 300 ms timer", async () => {
        await new Promise((resolve) => setTimeout(resolve, 300));
    });
});

describe("another that starts a program", () => {
    it("runs true", () => {
        execFileSync("true");
    });
});

describe("one that keeps to them", () => {
    it("waits 5 ms", async () => {
        await new Promise((resolve) => setTimeout(resolve, 5));
    });
});

// The harness itself: a worker builds each (config, stack) once and shares the frozen result between specs.
import { expect } from "chai";
import { main } from "../plan/cli";
import { loadStackFile } from "../stacks/stackFile";
import { build, deepFreeze, MINIMAL, plannedStack, stackBuilder, TYPES, withConfig } from "./harness";

describe("harness build()", () => {
    it("gives the same result for the same config and stack, a separate one for another stack", async () => {
        const a = await build(withConfig({}), "test");
        expect(await build({ ...MINIMAL }, "test")).to.equal(a);
        const dev = await build(withConfig({}), "dev");
        expect(dev).to.not.equal(a);
        expect(dev.registrations.map((r) => r.type)).to.deep.equal(a.registrations.map((r) => r.type));
    });

    it("builds a project stack once for build(), plannedStack() and the plan's CLI alike", async () => {
        const planned = await plannedStack("dev");
        const built = await build(loadStackFile("dev").config, "dev");
        expect(planned.registrations).to.equal(built.registrations);
        const seen: unknown[] = [];
        const out: string[] = [];
        const code = await main(["dev", "--format", "json"], {
            out: (s) => out.push(s),
            err: () => undefined,
            builder: async (stack, config) => {
                const shared = await stackBuilder(stack, config);
                seen.push(shared.registrations);
                return shared;
            },
        });
        expect(code).to.equal(0);
        expect(seen).to.deep.equal([built.registrations]);
        expect(seen[0]).to.equal(built.registrations);
        expect(JSON.parse(out.join("")).stack).to.equal("dev");
    });

    it("shares nothing a spec can change: the registrations, their inputs and the outputs throw on writes", async () => {
        const built = await build();
        const instance = built.ofType(TYPES.instance)[0];
        expect(() => built.registrations.push(instance)).to.throw(TypeError);
        expect(() => built.registrations.sort()).to.throw(TypeError);
        expect(() => ((instance.inputs as Record<string, unknown>).instanceType = "t3.nano")).to.throw(TypeError);
        expect(() => ((built.outputs as Record<string, unknown>).extra = 1)).to.throw(TypeError);
        expect(() => (built.secretOutputs as Set<string>).add("x")).to.throw(TypeError);
        expect([...built.registrations].sort((x, y) => x.name.localeCompare(y.name))).to.have.length(built.registrations.length);
    });

    it("deepFreeze leaves class instances alone (the SDK's assets and promises) and follows Maps", () => {
        class Asset {
            uri = "file";
        }
        const frozen = deepFreeze({ list: [{ a: 1 }], asset: new Asset(), map: new Map([["k", { v: 1 }]]) });
        expect(Object.isFrozen(frozen.list[0])).to.equal(true);
        expect(Object.isFrozen(frozen.asset)).to.equal(false);
        expect(Object.isFrozen(frozen.map.get("k"))).to.equal(true);
        expect(() => frozen.map.set("k2", { v: 2 })).to.throw(TypeError);
    });
});

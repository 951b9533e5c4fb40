// Root hooks for the whole mocha run (loaded by .mocharc.json).
import { sharedPack, stopSharedPack } from "./packProcess";

const PACK_SPEC = "policyPack.spec.ts";

function includesFile(suite: Mocha.Suite, name: string): boolean {
    return suite.file?.endsWith(name) === true || suite.suites.some((s) => includesFile(s, name));
}

export const mochaHooks = {
    beforeAll(this: Mocha.Context) {
        // Start the policy pack process now, in the background, when this run includes its spec.
        if (includesFile(this.test!.parent!, PACK_SPEC)) void sharedPack().catch(() => undefined);
    },
    async afterAll() {
        await stopSharedPack();
    },
};

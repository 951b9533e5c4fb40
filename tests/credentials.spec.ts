// Item: any password works. The database login goes from Secrets Manager through the start script's jq filter,
// the orthancteam image's envsubst pass and libpq's URI parsing; each step is run here as it runs there.
import { expect } from "chai";
import { imageEnvsubst } from "../twin/orthancImage";

describe("the orthancteam image's envsubst rule (envsubst 0.1.5, as generateConfiguration.py calls it)", () => {
    const env = { HOME: "/root", EMPTY: "", A_1: "v" };
    const cases: [string, string][] = [
        ["$HOME/x", "/root/x"],
        ["${HOME}", "/root"],
        ["$UNSET", ""],
        ["${UNSET}", ""],
        ["\\$HOME", "\\$HOME"],
        ["\\${HOME}", "\\${HOME}"],
        ["$$", "$$"],
        ["$ x", "$ x"],
        ["$-x", "$-x"],
        ["${A_1}b", "vb"],
        ["$A_1b", ""],
        ["${UNSET:-d}", "d"],
        ["${EMPTY:-d}", "d"],
        ["${EMPTY-d}", ""],
        ["${UNSET-$HOME}", "/root"],
        ["$0", "generateConfiguration.py"],
        ["$1", ""],
        ["${not valid}", "${not valid}"],
    ];
    for (const [input, output] of cases) {
        it(`${JSON.stringify(input)} -> ${JSON.stringify(output)}`, () => expect(imageEnvsubst(input, env)).to.equal(output));
    }
});

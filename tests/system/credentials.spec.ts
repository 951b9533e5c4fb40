// Item: any password works. The database login goes from Secrets Manager through the start script's jq filter,
// the orthancteam image's envsubst pass and libpq's URI parsing; each step is run here as it runs there.
import { expect } from "chai";
import { spawnSync } from "child_process";
import { renderOrthancConfig, SECRETS_FILTER } from "../../components/bootstrap/orthanc";
import { databaseConnectionOptions } from "../../rules/database";
import { DATABASE_APP_PASSWORD_SPECIALS } from "../../components/pair/identity";
import { imageEnvsubst } from "../../twin/orthancImage";
import { SAMPLE } from "../fixtures";

const AWKWARD = ["$", "\\", "'", '"', "%", "@", ":", "/", " "];
/** Passwords that each would break one of the readers if it reached them raw. */
const PASSWORDS = [
    `a$HOME b`,
    `\\$HOME'x"`,
    `%41%zz@h:5432/db`,
    `\${PATH:-x} $1 $$ \${HOME}`,
    ` leading and trailing `,
    `'"\\`,
    AWKWARD.join(""),
];
/** The container's environment as the entrypoint sees it: HOME and PATH are set, so `$HOME` would be replaced. */
const IMAGE_ENV = { HOME: "/root", PATH: "/usr/local/bin:/usr/bin", AWS_REGION: "eu-west-1" };

function jqFill(template: unknown, vars: Record<string, string>): string {
    const args = Object.entries(vars).flatMap(([k, v]) => ["--arg", k, v]);
    const r = spawnSync("jq", [...args, SECRETS_FILTER], { input: JSON.stringify(template), encoding: "utf8" });
    if (r.status !== 0) throw new Error(`jq failed: ${r.stderr}`);
    return r.stdout;
}

/** libpq's reading of a postgresql:// URI's user and password: the text between the markers, percent-decoded. */
function libpqUriLogin(uri: string): { user: string; password: string; rest: string } {
    const m = /^postgresql:\/\/([^:@/]*):([^@/]*)@(.*)$/.exec(uri);
    if (!m) throw new Error(`not a URI with a login: ${uri}`);
    return { user: decodeURIComponent(m[1]), password: decodeURIComponent(m[2]), rest: m[3] };
}

describe("database credentials of any shape", () => {
    before(function () {
        if (spawnSync("sh", ["-c", "command -v jq"]).status !== 0) {
            if (process.env.REQUIRE_TOOLS) throw new Error("jq is required");
            this.skip();
        }
    });
    const template = renderOrthancConfig(SAMPLE.orthanc);

    it("covers every awkward character in the tests and in the generated password's alphabet", () => {
        for (const ch of AWKWARD) expect(PASSWORDS.some((p) => p.includes(ch)), ch).to.equal(true);
        for (const ch of AWKWARD) expect(DATABASE_APP_PASSWORD_SPECIALS, ch).to.include(ch);
    });

    for (const password of PASSWORDS) {
        it(`survives jq, the image's envsubst and libpq: ${JSON.stringify(password)}`, () => {
            const filled = jqFill(template, { user: "orthanc_app", password, admin: "adm", health: "hz" });
            const afterImage = imageEnvsubst(filled, IMAGE_ENV);
            // Nothing for envsubst to touch: the text Orthanc reads is the text the start script wrote.
            expect(afterImage).to.equal(filled);
            const config = JSON.parse(afterImage);
            const uri: string = config.PostgreSQL.ConnectionUri;
            expect(uri).to.match(/^postgresql:\/\/[A-Za-z0-9%\-_.!~*'()]+:[A-Za-z0-9%\-_.!~*'()]+@/);
            expect(uri).to.not.match(/[$\\" ]/);
            const login = libpqUriLogin(uri);
            expect(login).to.deep.equal({ user: "orthanc_app", password, rest: `${SAMPLE.orthanc.database.host}:5432/orthanc?sslmode=require&${databaseConnectionOptions()}` });
        });
    }

    it("would have lost the password the old way: a raw Password field, after the image's envsubst", () => {
        const raw = JSON.stringify({ PostgreSQL: { Password: "a$HOME b" } });
        expect(JSON.parse(imageEnvsubst(raw, IMAGE_ENV)).PostgreSQL.Password).to.equal("a/root b");
        expect(JSON.parse(imageEnvsubst(JSON.stringify({ p: "x$UNSET_VAR_1y" }), IMAGE_ENV)).p).to.equal("x");
    });

    it("keeps the filled file valid JSON with the logins where Orthanc reads them", () => {
        const config = JSON.parse(jqFill(template, { user: "orthanc_app", password: "p", admin: `a"d\\m`, health: "h" }));
        expect(config.RegisteredUsers).to.deep.equal({ admin: `a"d\\m`, healthz: "h" });
        expect(config.PostgreSQL).to.include({ EnableIndex: true, EnableSsl: true, Host: SAMPLE.orthanc.database.host });
    });
});

// The database setup on a real PostgreSQL, as RDS runs it: the master login is no superuser and owns the database.
// The start script's own database step (setup_database, with its psql_as and the rendered database-setup.sql) runs
// here unchanged; then, as Orthanc's login, the checks the pinned PostgreSQL plugin (10.0) needs to pass:
// - its schema script's `CREATE EXTENSION IF NOT EXISTS pg_trgm` is a no-op (issue 19, finding 4);
// - Orthanc's login owns every object in the schema, standalone sequences and large objects included, also on a
//   stack upgraded from the first release, which ran Orthanc as the master (finding 5);
// - no secret is on any command line the step runs (issue 21, item 5): psql and jq are wrapped to record their argv.
// The checks (twin/databaseChecks.ts, which the twin's database step runs too) read the catalogs kind by kind,
// independently of how the setup finds what to hand over.
import { expect } from "chai";
import * as fs from "fs";
import * as path from "path";
import { spawnSync } from "child_process";
import { renderDatabaseSetupSql } from "../../components/bootstrap/databaseSetup";
import { DATABASE_APP_USER } from "../../rules/database";
import { renderOrthancJson } from "../../components/bootstrap/orthanc";
import { renderStartScript } from "../../components/bootstrap/startScript";
import { needFile, needTool } from "../localTools";
import { postgresBin } from "../../twin/pair";
import { ScratchPostgres } from "../scratchPostgres";
import { CREATE_TRIGRAM_EXTENSION, DROP_FIRST_RELEASE_OBJECTS, FIRST_RELEASE_ALL_OWNED, FIRST_RELEASE_OBJECTS, FIRST_RELEASE_OWNED, notOwnedBySql, USE_FIRST_RELEASE_OBJECTS } from "../../twin/databaseChecks";

const MASTER = "orthanc";
const MASTER_PASSWORD = `m$HOME '"\\ ${process.pid}x`;
const APP_PASSWORD = `a$PATH '"\\ %@:/ ${process.pid}y`;

describe("database setup on a real PostgreSQL, with a master that is no superuser (as on RDS)", function () {
    this.timeout(120000);
    let pg: ScratchPostgres;
    let work: string;

    before(async function () {
        needFile(this, "/usr/lib/postgresql", "postgresql");
        const bin = postgresBin();
        needTool(this, "jq");
        needTool(this, "openssl");
        needTool(this, "setpriv", "util-linux");
        pg = new ScratchPostgres(bin, "db-setup");
        await pg.start();
        work = path.join(pg.dir, "work");
        fs.mkdirSync(work);
        // RDS's master: LOGIN, CREATEROLE, CREATEDB, a member of rds_superuser (no superuser), and the database's owner.
        // rds_superuser holds pg_monitor and pg_signal_backend among the predefined roles; nothing here lets it take
        // over another role's objects, and nothing on RDS does either.
        pg.superuser(`CREATE ROLE rds_superuser NOLOGIN;
GRANT pg_monitor, pg_signal_backend TO rds_superuser;
CREATE ROLE ${MASTER} LOGIN CREATEROLE CREATEDB PASSWORD '${MASTER_PASSWORD.replace(/'/g, "''")}';
GRANT rds_superuser TO ${MASTER};
CREATE DATABASE fresh OWNER ${MASTER};
CREATE DATABASE upgraded OWNER ${MASTER};
CREATE DATABASE preinstalled OWNER ${MASTER};
CREATE ROLE rdsadmin SUPERUSER NOLOGIN;`);
        // An extension another superuser installed (not the bootstrap one, whose objects PostgreSQL does not track):
        // its members are that superuser's, which the master can neither hand over nor needs to.
        pg.superuser("SET ROLE rdsadmin; CREATE EXTENSION pg_trgm;", "preinstalled");
    });
    after(() => pg?.stop());

    /**
     * The start script's database step, run as the script runs it: its own functions (everything before `main`), then
     * `setup_database` with the master secret's JSON and the app password, against the rendered orthanc.json template
     * and database-setup.sql in $DIR. psql and jq are the real ones behind wrappers that record their argv.
     */
    function runDatabaseStep(database: string): { status: number | null; stderr: string; argv: string[] } {
        const dir = path.join(work, database);
        const bin = path.join(dir, "bin");
        fs.mkdirSync(bin, { recursive: true });
        const template = renderOrthancJson({ name: "o", aet: "O", database: { host: "127.0.0.1", port: pg.port, name: database }, bucket: { name: "b", region: "eu-west-1" } });
        fs.writeFileSync(path.join(dir, "orthanc.template.json"), template);
        fs.writeFileSync(path.join(dir, "database-setup.sql"), renderDatabaseSetupSql());
        const script = renderStartScript({ region: "eu-west-1", dir, secretArns: { database: "a", databaseApp: "d", admin: "b", tls: "c" } });
        expect(script.trimEnd().endsWith('\nmain "$@"'), "the start script ends by calling main").to.equal(true);
        const step = `${script.trimEnd().slice(0, -'main "$@"'.length)}setup_database "$TEST_MASTER_SECRET" "$TEST_APP_PASSWORD"\n`;
        fs.writeFileSync(path.join(dir, "step.sh"), step, { mode: 0o700 });
        const argvFile = path.join(dir, "argv");
        fs.writeFileSync(argvFile, "");
        for (const [name, real] of [["psql", `${pg.bin}/psql`], ["jq", spawnSync("sh", ["-c", "command -v jq"], { encoding: "utf8" }).stdout.trim()]]) {
            fs.writeFileSync(path.join(bin, name), `#!/bin/bash\nprintf '%s\\0' ${name} "$@" >>${argvFile}; printf '\\n' >>${argvFile}\nexec ${real} "$@"\n`, { mode: 0o755 });
        }
        const r = spawnSync("bash", [path.join(dir, "step.sh")], {
            encoding: "utf8",
            timeout: 60000,
            env: {
                PATH: `${bin}:${process.env.PATH}`,
                TEST_MASTER_SECRET: JSON.stringify({ username: MASTER, password: MASTER_PASSWORD }),
                TEST_APP_PASSWORD: APP_PASSWORD,
            },
        });
        const argv = fs.readFileSync(argvFile, "utf8").split("\n").filter(Boolean).map((line) => line.split("\0").join(" "));
        return { status: r.status, stderr: r.stderr, argv };
    }

    const asApp = (database: string, sql: string) => pg.as(DATABASE_APP_USER, APP_PASSWORD, database, sql);
    const asMaster = (database: string, sql: string) => pg.as(MASTER, MASTER_PASSWORD, database, sql);

    it("the master is no superuser and owns the databases, as on RDS", () => {
        expect(pg.superuser(`SELECT rolsuper, rolcreaterole FROM pg_roles WHERE rolname = '${MASTER}';`).trim()).to.equal("f|t");
        expect(pg.superuser(`SELECT string_agg(pg_get_userbyid(datdba), ',') FROM pg_database WHERE datname IN ('fresh', 'upgraded');`).trim()).to.equal(`${MASTER},${MASTER}`);
    });

    describe("a stack upgraded from the first release (Orthanc ran as the master)", () => {
        let step: ReturnType<typeof runDatabaseStep>;
        before(() => {
            asMaster("upgraded", FIRST_RELEASE_OBJECTS);
            step = runDatabaseStep("upgraded");
        });

        it("the start script's database step succeeds, with no secret on a command line", () => {
            expect(step.status, step.stderr).to.equal(0);
            for (const argv of step.argv) expect(argv.includes(APP_PASSWORD) || argv.includes(MASTER_PASSWORD), argv).to.equal(false);
        });

        it("every table, sequence (the standalone one too), function, type, view and large object is Orthanc's login's", () => {
            expect(asApp("upgraded", notOwnedBySql(DATABASE_APP_USER)).trim()).to.equal("");
            // tables, sequences (the serial column's and the standalone one), functions, enum/domain types, views, large objects
            expect(asApp("upgraded", FIRST_RELEASE_OWNED).trim()).to.equal(FIRST_RELEASE_ALL_OWNED);
        });

        it("as Orthanc's login, the plugin's kind of work goes through: the extension, new rows, replaced functions and triggers", () => {
            asApp("upgraded", CREATE_TRIGRAM_EXTENSION);
            asApp("upgraded", USE_FIRST_RELEASE_OBJECTS);
        });

        it("a second run leaves the same state and needs no master", () => {
            const again = runDatabaseStep("upgraded");
            expect(again.status, again.stderr).to.equal(0);
            expect(again.argv.filter((a) => a.startsWith("psql "))).to.have.length(1);
            expect(asApp("upgraded", notOwnedBySql(DATABASE_APP_USER)).trim()).to.equal("");
            asApp("upgraded", DROP_FIRST_RELEASE_OBJECTS);
        });
    });

    describe("a new stack", () => {
        let step: ReturnType<typeof runDatabaseStep>;
        before(() => {
            step = runDatabaseStep("fresh");
        });

        it("the start script's database step succeeds with the master login", () => {
            expect(step.status, step.stderr).to.equal(0);
            expect(step.argv.filter((a) => a.startsWith("psql ")).length, "psql ran as the app, then as the master").to.equal(2);
        });

        it("puts no secret on any command line (psql's and jq's argv as recorded)", () => {
            expect(step.argv.length).to.be.greaterThan(0);
            for (const argv of step.argv) {
                for (const [label, secret] of [["app password", APP_PASSWORD], ["master password", MASTER_PASSWORD]]) {
                    expect(argv.includes(secret), `${label} in: ${argv}`).to.equal(false);
                }
            }
        });

        it("as Orthanc's login, CREATE EXTENSION IF NOT EXISTS pg_trgm is a no-op, and the extension is there", () => {
            asApp("fresh", CREATE_TRIGRAM_EXTENSION);
            expect(asApp("fresh", "SELECT extname FROM pg_extension WHERE extname = 'pg_trgm';").trim()).to.equal("pg_trgm");
            // The plugin's trigram index uses the extension's operator class from Orthanc's login.
            asApp("fresh", "CREATE TABLE Identifiers (value TEXT); CREATE INDEX IdentifiersTrigrams ON Identifiers USING gin (value gin_trgm_ops);");
        });

        it("Orthanc's login may create its schema, and owns every object in it; the next run uses no master", () => {
            asApp("fresh", `CREATE SEQUENCE Standalone; CREATE TABLE Resources (id BIGSERIAL PRIMARY KEY); SELECT lo_from_bytea(0, 'x');`);
            expect(asApp("fresh", notOwnedBySql(DATABASE_APP_USER)).trim()).to.equal("");
            const again = runDatabaseStep("fresh");
            expect(again.status, again.stderr).to.equal(0);
            expect(again.argv.filter((a) => a.startsWith("psql ")), "only the app's check ran").to.have.length(1);
        });
    });

    describe("a database whose pg_trgm another superuser installed", () => {
        it("the step succeeds, leaves the extension's members alone, and the next run needs no master", () => {
            const step = runDatabaseStep("preinstalled");
            expect(step.status, step.stderr).to.equal(0);
            asApp("preinstalled", CREATE_TRIGRAM_EXTENSION);
            expect(asApp("preinstalled", notOwnedBySql(DATABASE_APP_USER)).trim()).to.equal("");
            expect(pg.superuser("SELECT count(*) > 0 FROM pg_proc WHERE proowner = 'rdsadmin'::regrole;", "preinstalled").trim()).to.equal("t");
            const again = runDatabaseStep("preinstalled");
            expect(again.status, again.stderr).to.equal(0);
            expect(again.argv.filter((a) => a.startsWith("psql ")), "only the app's check ran").to.have.length(1);
        });
    });
});

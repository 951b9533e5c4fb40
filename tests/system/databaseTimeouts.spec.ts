// Item: the database connection gives up on a black-holed endpoint within its bounds (issue 21, item 6). Orthanc's
// ConnectionUri, built by the start script's own jq filter from the rendered template, goes to real libpq (psql
// reads it the way the plugin hands it to PQconnectdb) inside network namespaces of the spec's own: nothing leaves
// this machine.
// - A connection attempt to an address whose packets vanish (a veth with nothing behind it: no answer, no refusal) ends within
//   connect_timeout, as when a failover leaves the endpoint's old address dead.
// - A request on an open connection whose path then drops every packet (iptables DROP) ends within tcp_user_timeout,
//   instead of TCP's retransmissions (about 15 minutes) while it holds an Orthanc thread.
import { expect } from "chai";
import { spawn, spawnSync } from "child_process";
import { renderOrthancConfig, SECRETS_FILTER } from "../../components/bootstrap/orthanc";
import { DATABASE_APP_USER, DATABASE_CONNECTION_TIMEOUTS } from "../../rules/database";
import { renderStartScript } from "../../components/bootstrap/startScript";
import { needFile, needTool } from "../localTools";
import { postgresBin } from "../../twin/pair";
import { ScratchPostgres } from "../scratchPostgres";

const PASSWORD = "timeouts-app-password";
/**
 * The bounds this spec holds the connection to (the URI's settings plus slack for process start, TLS and the kernel's
 * timers): an Orthanc thread is freed within seconds, not after the kernel's 2 minutes of SYNs or 15 of retransmissions.
 */
const CONNECT_BOUND_SECONDS = 14;
const REQUEST_BOUND_SECONDS = 14;

/** Orthanc's ConnectionUri as the start script writes it, for a database at host:port. */
function connectionUri(host: string, port: number): string {
    const template = renderOrthancConfig({ name: "o", aet: "O", database: { host, port, name: "orthanc" }, bucket: { name: "b", region: "eu-west-1" } });
    const r = spawnSync("jq", ["--arg", "user", DATABASE_APP_USER, "--arg", "password", PASSWORD, "--arg", "admin", "a", "--arg", "health", "h", SECRETS_FILTER], {
        input: JSON.stringify(template),
        encoding: "utf8",
    });
    if (r.status !== 0) throw new Error(`jq: ${r.stderr}`);
    return JSON.parse(r.stdout).PostgreSQL.ConnectionUri;
}

/** libpq's defaults come from the environment too: none of ours may bound the attempt instead of the URI. */
function cleanEnv(): NodeJS.ProcessEnv {
    return Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith("PG")));
}

/** Runs `command` to its end (or kills it after `limitSeconds`); resolves to its exit and how long it took. */
function timed(command: string, args: string[], limitSeconds: number, onSpawn?: (child: ReturnType<typeof spawn>) => void): Promise<{ code: number | null; seconds: number; endedAt: number; output: string }> {
    return new Promise((resolve) => {
        const started = Date.now();
        const child = spawn(command, args, { env: cleanEnv(), stdio: ["pipe", "pipe", "pipe"] });
        let output = "";
        child.stdout!.on("data", (d) => (output += d));
        child.stderr!.on("data", (d) => (output += d));
        const killer = setTimeout(() => child.kill("SIGKILL"), limitSeconds * 1000);
        child.on("close", (code) => {
            clearTimeout(killer);
            resolve({ code, seconds: (Date.now() - started) / 1000, endedAt: Date.now(), output });
        });
        onSpawn?.(child);
    });
}

function sh(script: string): void {
    const r = spawnSync("bash", ["-ec", script], { encoding: "utf8", timeout: 20000 });
    if (r.status !== 0) throw new Error(`${script}: ${r.stderr}`);
}

describe("database connection timeouts against a black-holed endpoint (real libpq, private namespaces)", function () {
    this.timeout(90000);
    const ns = `orthweb-dbt-${process.pid}`;
    let pg: ScratchPostgres | undefined;
    let psql: string;

    before(async function () {
        needFile(this, "/usr/lib/postgresql", "postgresql");
        needTool(this, "jq");
        needTool(this, "ip", "iproute2");
        needTool(this, "iptables");
        needTool(this, "unshare", "util-linux");
        psql = `${postgresBin()}/psql`;
        sh(`ip netns add ${ns}\nip netns exec ${ns} ip link set lo up`);
        pg = new ScratchPostgres(postgresBin(), "db-timeouts", ns);
        await pg.start();
        pg.superuser(`CREATE ROLE ${DATABASE_APP_USER} LOGIN PASSWORD '${PASSWORD}'; CREATE DATABASE orthanc OWNER ${DATABASE_APP_USER};`);
    });
    after(() => {
        pg?.stop();
        spawnSync("ip", ["netns", "del", ns]);
    });

    it("the URI carries a connect timeout, keepalives and a TCP user timeout", () => {
        const query = new URL(connectionUri("db.example", 5432)).searchParams;
        for (const [key, value] of Object.entries(DATABASE_CONNECTION_TIMEOUTS)) expect(query.get(key), key).to.equal(String(value));
        // The start script's psql (the check and the setup) connects with the same settings, as a key=value string.
        const script = renderStartScript({ region: "eu-west-1", dir: "/opt/orthweb", secretArns: { database: "a", databaseApp: "d", admin: "b", tls: "c" } });
        const psqlUri = new URL(/psql --no-psqlrc --quiet -v ON_ERROR_STOP=1 --dbname='([^']+)'/.exec(script)![1]);
        for (const [key, value] of Object.entries(DATABASE_CONNECTION_TIMEOUTS)) expect(psqlUri.searchParams.get(key), `psql ${key}`).to.equal(String(value));
    });

    it("a connection attempt and a request in flight each give up within their bound", async () => {
        // A namespace whose only route to 10.255.255.0/24 is a veth pair with nothing behind it, and a fixed neighbour
        // entry for the endpoint (no ARP to fail fast): every packet sent there vanishes, unanswered and unrefused.
        const blackHoled = connectionUri("10.255.255.1", 5432);
        const hole = [
            "ip link set lo up",
            "ip link add hole type veth peer name void",
            "ip addr add 10.255.255.2/24 dev hole",
            "ip link set hole up",
            "ip link set void up",
            "ip neigh add 10.255.255.1 lladdr 02:00:00:00:00:01 dev hole nud permanent",
        ].join("; ");
        const attempt = timed("unshare", ["-n", "bash", "-ec", `${hole}; exec ${psql} "$1" -c 'SELECT 1'`, "_", blackHoled], CONNECT_BOUND_SECONDS + 20);

        // An open connection (the first query answers), then every packet to and from the server is dropped.
        const open = connectionUri("127.0.0.1", pg!.port);
        let dropped = 0;
        const request = timed("ip", ["netns", "exec", ns, psql, open, "-X", "-At", "-f", "-"], REQUEST_BOUND_SECONDS + 20, (child) => {
            child.stdout!.once("data", () => {
                sh(`ip netns exec ${ns} iptables -A INPUT -p tcp --dport ${pg!.port} -j DROP\nip netns exec ${ns} iptables -A INPUT -p tcp --sport ${pg!.port} -j DROP`);
                dropped = Date.now();
                child.stdin!.write("SELECT 2;\n");
            });
            child.stdin!.write("SELECT 1;\n");
        });

        const [a, r] = await Promise.all([attempt, request]);
        expect(a.code, a.output).to.not.equal(0);
        expect(a.seconds, `connection attempt: ${a.output}`).to.be.at.most(CONNECT_BOUND_SECONDS);
        expect(a.output).to.match(/timeout expired/);
        expect(dropped, `the first query never answered: ${r.output}`).to.be.greaterThan(0);
        const afterDrop = (r.endedAt - dropped) / 1000;
        expect(r.code, r.output).to.not.equal(0);
        expect(r.output).to.not.match(/^2$/m);
        expect(afterDrop, `request in flight: ${r.output}`).to.be.at.most(REQUEST_BOUND_SECONDS);
        expect(r.output).to.match(/timed out/);
    });
});

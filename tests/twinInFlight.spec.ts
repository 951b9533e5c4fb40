// The orthanc-kill scenario's in-flight counting (twin/inFlight.ts), on access-log lines in the format the rendered
// nginx.conf writes (ACCESS_LOG_FORMAT): re-sent, moved and untouched requests told apart.
import { expect } from "chai";
import { ACCESS_LOG_FORMAT, renderNginxConf } from "../components/bootstrap/nginx";
import { inFlightCounts, isMoved, isResent, parseAccessLog } from "../twin/inFlight";

/** A log line as nginx would write it with ACCESS_LOG_FORMAT, from the variables' values. */
function line(values: Record<string, string>): string {
    return ACCESS_LOG_FORMAT.replace(/\$(\w+)/g, (_, name: string) => {
        if (!(name in values)) throw new Error(`no value for $${name}`);
        return values[name];
    });
}

const base = {
    remote_addr: "10.251.1.3",
    remote_user: "admin",
    time_local: "03/Dec/2026:08:20:01 +0000",
    status: "200",
    body_bytes_sent: "412",
    http_referer: "-",
    http_user_agent: "curl/7.88.1 (x86_64) \\x22quoted\\x22",
    upstream_status: "200",
    upstream_bytes_sent: "311",
};

describe("twin: what happened to requests in flight, from nginx's access log", () => {
    it("the rendered nginx.conf logs in the format the twin parses", () => {
        expect(renderNginxConf({ orthancHost: "198.18.0.10", certificatePath: "/c", keyPath: "/k" })).to.include(`log_format orthweb '${ACCESS_LOG_FORMAT}';`).and.include("access_log /dev/stdout orthweb;");
    });

    it("tells a request re-sent to the peer (bytes went to the first Orthanc) from one moved untouched and one served at once", () => {
        const log = [
            line({ ...base, request: "GET /statistics HTTP/1.1", upstream_addr: "198.18.0.10:8042, 127.0.0.1:18042", upstream_status: "502, 200", upstream_bytes_sent: "311, 311" }),
            line({ ...base, request: "POST /tools/find HTTP/1.1", status: "502", upstream_addr: "198.18.0.10:8042", upstream_status: "502", upstream_bytes_sent: "402" }),
            line({ ...base, request: "DELETE /studies/x HTTP/1.1", upstream_addr: "198.18.0.10:8042, 127.0.0.1:18042", upstream_status: "502, 200", upstream_bytes_sent: "0, 305" }),
            line({ ...base, request: "GET /system HTTP/1.1", upstream_addr: "198.18.0.10:8042" }),
            line({ ...base, request: "GET / HTTP/1.1", status: "502", upstream_addr: "-", upstream_status: "-", upstream_bytes_sent: "-" }),
            "2026/12/03 08:20:01 [error] 12#12: *5 connect() failed (111: Connection refused) while connecting to upstream",
        ].join("\n");
        const parsed = parseAccessLog(log);
        expect(parsed.map((r) => r.method)).to.deep.equal(["GET", "POST", "DELETE", "GET"]);
        expect(parsed[0]).to.deep.equal({ method: "GET", status: 200, upstreams: ["198.18.0.10:8042", "127.0.0.1:18042"], sent: [311, 311] });
        expect(parsed.map(isResent)).to.deep.equal([true, false, false, false]);
        expect(parsed.map(isMoved)).to.deep.equal([false, false, true, false]);
    });

    it("counts the probe's requests open at the kill apart from those started after it", () => {
        const c = inFlightCounts(
            [
                { method: "GET", startMs: 90, endMs: 130, status: 200 },
                { method: "POST", startMs: 95, endMs: 101, status: 502 },
                { method: "POST", startMs: 40, endMs: 60, status: 200 },
                { method: "GET", startMs: 100, endMs: 120, status: 200 },
                { method: "POST", startMs: 101, endMs: 140, status: 200 },
            ],
            100,
        );
        expect(c).to.deep.equal({ getInFlight: { total: 1, ok: 1 }, postInFlight: { total: 1, ok: 0 }, getAfter: { total: 1, ok: 1 }, postAfter: { total: 1, ok: 1 } });
    });
});

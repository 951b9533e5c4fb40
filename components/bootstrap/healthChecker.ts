// The health checker behind nginx's /healthz: a small Python program beside Orthanc that reads Orthanc's index
// (an authenticated GET /statistics) every second with a short timeout of its own, and answers /healthz from the
// last result: 200 when that read succeeded within the last few seconds, 503 otherwise.
//
// Why a process of its own rather than nginx asking Orthanc: an unauthenticated request is answered (401) before
// Orthanc touches its database, so it proves nothing; an authenticated one needs a credential, and nginx (which
// faces the network) should not hold one. The checker's credential is a login made on the instance at boot
// (components/bootstrap/startScript.ts): it never leaves the instance, and nginx never sees it. With PostgreSQL
// gone, Orthanc's requests hang for many seconds: the checker's own timeout turns that into a 503 within about
// two seconds, and probing once a second (whoever asks, however often) keeps hung requests from piling up. The probe
// loop is the process's reason to live: when it dies, the process exits (compose restarts it).
import { HEALTH_CHECKER_PORT, HEALTH_PATH } from "../../rules/ports";
import { PROBE_INTERVAL_SECONDS, PROBE_TIMEOUT_SECONDS, RESULT_MAX_AGE_SECONDS } from "../../rules/healthProbe";
/** The checker's exit status when its probe loop died (EX_SOFTWARE): Docker's restart policy starts it again. */
export const PROBE_LOOP_DIED_EXIT_CODE = 70;

export interface HealthCheckerArgs {
    /** host:port the checker listens on (nginx's upstream). */
    readonly listen: string;
    /** Orthanc's HTTP API as the checker reaches it. */
    readonly orthancUrl: string;
    /** A file holding `user:password` of the checker's Orthanc login (re-read at every probe). */
    readonly credentialsFile: string;
}

/** The checker's command line after `python3 <script>`: compose runs it with these (the twin takes them from the rendered compose file). */
export function healthCheckerArgs(a: HealthCheckerArgs): string[] {
    return [
        "--listen", a.listen,
        "--orthanc", a.orthancUrl,
        "--credentials", a.credentialsFile,
        "--timeout", String(PROBE_TIMEOUT_SECONDS),
        "--interval", String(PROBE_INTERVAL_SECONDS),
        "--max-age", String(RESULT_MAX_AGE_SECONDS),
    ];
}

export const DEFAULT_HEALTH_CHECKER_LISTEN = `0.0.0.0:${HEALTH_CHECKER_PORT}`;

export function renderHealthChecker(): string {
    return `#!/usr/bin/env python3
# Rendered by orthweb: ${HEALTH_PATH} is 200 only while this instance's Orthanc can read its index.
import argparse
import base64
import http.server
import os
import sys
import threading
import traceback
import time
import urllib.error
import urllib.request

PROBE_LOOP_DIED = ${PROBE_LOOP_DIED_EXIT_CODE}


def probe(args):
    with open(args.credentials, "rb") as f:
        login = f.read().strip()
    request = urllib.request.Request(
        args.orthanc.rstrip("/") + "/statistics",
        headers={"Authorization": "Basic " + base64.b64encode(login).decode("ascii")},
    )
    try:
        with urllib.request.urlopen(request, timeout=args.timeout) as response:
            response.read()
            return response.status == 200, "orthanc read its index (%d)" % response.status
    except urllib.error.HTTPError as e:
        return False, "orthanc answered %d" % e.code
    except Exception as e:
        return False, "orthanc did not answer within %ss: %s" % (args.timeout, e)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--listen", required=True)
    parser.add_argument("--orthanc", required=True)
    parser.add_argument("--credentials", required=True)
    parser.add_argument("--timeout", type=float, required=True)
    parser.add_argument("--interval", type=float, required=True)
    parser.add_argument("--max-age", type=float, required=True)
    args = parser.parse_args()
    state = {"ok": False, "at": 0.0, "why": "no probe yet"}
    lock = threading.Lock()

    def loop():
        try:
            while True:
                started = time.monotonic()
                ok, why = probe(args)
                with lock:
                    state.update(ok=ok, at=time.monotonic(), why=why)
                time.sleep(max(0.0, args.interval - (time.monotonic() - started)))
        except BaseException:
            # Never live on without the loop (${HEALTH_PATH} would be 503 for ever): exit; Docker restarts us.
            traceback.print_exc()
            sys.stderr.write("healthz: the probe loop died; exiting\\n")
            sys.stderr.flush()
            os._exit(PROBE_LOOP_DIED)

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            with lock:
                age = time.monotonic() - state["at"]
                ok = state["ok"] and age <= args.max_age
                why = state["why"] if state["ok"] == ok else "last successful read %.1fs ago" % age
            body = (("ok: " if ok else "unhealthy: ") + why + "\\n").encode("utf-8")
            self.send_response(200 if ok else 503)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Cache-Control", "no-store")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *_):
            pass

    threading.Thread(target=loop, daemon=True).start()
    host, port = args.listen.rsplit(":", 1)
    server = http.server.ThreadingHTTPServer((host, int(port)), Handler)
    server.daemon_threads = True
    server.serve_forever()


if __name__ == "__main__":
    main()
`;
}

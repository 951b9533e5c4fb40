// What happens to work in flight on an Orthanc that dies, as nginx and the clients saw it: requests that nginx re-sent
// to the peer after this Orthanc had them (read from the access log's upstream fields, nginx.ts ACCESS_LOG_FORMAT), and
// requests and associations that were open at the instant it died. Parsing and counting are pure.

export interface UpstreamRequest {
    readonly method: string;
    readonly status: number;
    /** Every upstream nginx tried, in order (the local Orthanc, then the relay to the peer). */
    readonly upstreams: readonly string[];
    /** Bytes nginx sent to each of them. */
    readonly sent: readonly number[];
}

const LINE = /"([A-Z]+) [^"]*" (\d{3}) \S+ (?:"[^"]*" ){0,2}up=(.*?) up_status=(.*?) up_sent=(.*)$/;

/** The access log's requests that went to an upstream (lines of other formats, and error lines, are skipped). */
export function parseAccessLog(text: string): UpstreamRequest[] {
    const found: UpstreamRequest[] = [];
    for (const line of text.split("\n")) {
        const m = LINE.exec(line.trim());
        if (!m || m[3] === "-") continue;
        const list = (s: string) => s.split(/\s*,\s*/).filter(Boolean);
        found.push({ method: m[1], status: Number(m[2]), upstreams: list(m[3]), sent: list(m[5]).map(Number) });
    }
    return found;
}

/** Re-sent: the first Orthanc was sent the request (bytes went out) and nginx then sent it to the next one too. */
export function isResent(r: UpstreamRequest): boolean {
    return r.upstreams.length > 1 && (r.sent[0] ?? 0) > 0;
}

/** Moved: the first Orthanc never got it (refused, nothing sent), so the next one is its only recipient. */
export function isMoved(r: UpstreamRequest): boolean {
    return r.upstreams.length > 1 && (r.sent[0] ?? 0) === 0;
}

export interface ProbeRequest {
    readonly method: "GET" | "POST";
    readonly startMs: number;
    readonly endMs: number;
    /** HTTP status; 0 when no answer came. */
    readonly status: number;
}

/** Counts per method: open at `atMs` (in flight) or started after it, and how many of each ended in a 200. */
export function inFlightCounts(requests: readonly ProbeRequest[], atMs: number) {
    const of = (method: string, when: (r: ProbeRequest) => boolean) => {
        const list = requests.filter((r) => r.method === method && when(r));
        return { total: list.length, ok: list.filter((r) => r.status === 200).length };
    };
    const open = (r: ProbeRequest) => r.startMs < atMs && r.endMs >= atMs;
    const after = (r: ProbeRequest) => r.startMs >= atMs;
    return {
        getInFlight: of("GET", open),
        postInFlight: of("POST", open),
        getAfter: of("GET", after),
        postAfter: of("POST", after),
    };
}

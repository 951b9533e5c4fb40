// The user's Route 53 zone, for the twin's acme scenario: an authoritative DNS server for the zone (SOA, NS, the
// name server's address, and the TXT records written through the API), and a stand-in for the Route 53 API that lego's
// route53 provider calls (ChangeResourceRecordSets, GetChange, ListResourceRecordSets) over HTTPS. The stand-in
// applies the instance role's Route 53 statement as IAM would: a change whose record name, type or action its
// condition keys do not list is refused with AccessDenied, so the twin's issuance proves the scope lets lego work.
import * as dgram from "dgram";
import * as https from "https";
import { IncomingMessage, ServerResponse } from "http";

const XMLNS = "https://route53.amazonaws.com/doc/2013-04-01/";
const TYPE = { A: 1, NS: 2, SOA: 6, TXT: 16 } as const;

export interface ZoneOptions {
    /** The address both servers listen on (UDP 53, TCP 443). */
    readonly address: string;
    readonly zoneName: string;
    readonly hostedZoneId: string;
    /** A records of the zone (the name server's own name among them). */
    readonly hosts: Readonly<Record<string, string>>;
    /** The role's ChangeResourceRecordSets statement (rules/acme.ts challengeStatements). */
    readonly changeStatement: Record<string, any>;
    /** The Route 53 stand-in's certificate and key (for route53.amazonaws.com). */
    readonly tls: { readonly cert: string; readonly key: string };
}

export interface ZoneLog {
    /** Changes applied: `UPSERT TXT _acme-challenge.pacs.example.org`. */
    readonly applied: string[];
    /** Changes refused by the role's conditions. */
    readonly refused: string[];
}

const norm = (name: string) => name.replace(/\.$/, "").toLowerCase();

/** XML text as the SDK escapes it (`"` in a TXT value arrives as &#34;). */
function unescapeXml(text: string): string {
    return text.replace(/&(#\d+|quot|amp|lt|gt|apos);/g, (_, e: string) =>
        e.startsWith("#") ? String.fromCharCode(Number(e.slice(1))) : ({ quot: '"', amp: "&", lt: "<", gt: ">", apos: "'" } as Record<string, string>)[e],
    );
}

function encodeName(name: string): Buffer {
    const labels = norm(name).split(".").filter(Boolean);
    return Buffer.concat([...labels.map((l) => Buffer.concat([Buffer.from([l.length]), Buffer.from(l, "ascii")])), Buffer.from([0])]);
}

function u16(n: number): Buffer {
    const b = Buffer.alloc(2);
    b.writeUInt16BE(n);
    return b;
}

function u32(n: number): Buffer {
    const b = Buffer.alloc(4);
    b.writeUInt32BE(n);
    return b;
}

function record(name: string, type: number, ttl: number, rdata: Buffer): Buffer {
    return Buffer.concat([encodeName(name), u16(type), u16(1), u32(ttl), u16(rdata.length), rdata]);
}

/** The question of a query: its name (lowercase, no dot), type, and where the question ends. */
function question(msg: Buffer): { name: string; type: number; end: number } | undefined {
    let offset = 12;
    const labels: string[] = [];
    while (offset < msg.length && msg[offset] !== 0) {
        const len = msg[offset];
        if (len > 63) return undefined;
        labels.push(msg.subarray(offset + 1, offset + 1 + len).toString("ascii"));
        offset += len + 1;
    }
    if (offset + 5 > msg.length) return undefined;
    return { name: labels.join(".").toLowerCase(), type: msg.readUInt16BE(offset + 1), end: offset + 5 };
}

export class TwinZone {
    readonly log: ZoneLog = { applied: [], refused: [] };
    private readonly txt = new Map<string, string[]>();
    private dns?: dgram.Socket;
    private api?: https.Server;
    private changes = 0;

    constructor(private readonly o: ZoneOptions) {}

    async start(): Promise<void> {
        const dns = dgram.createSocket("udp4");
        dns.on("message", (msg, from) => {
            const answer = this.answer(msg);
            if (answer) dns.send(answer, from.port, from.address);
        });
        await new Promise<void>((resolve, reject) => {
            dns.once("error", reject);
            dns.bind(53, this.o.address, () => resolve());
        });
        this.dns = dns;
        const api = https.createServer({ cert: this.o.tls.cert, key: this.o.tls.key }, (req, res) => void this.serve(req, res));
        await new Promise<void>((resolve, reject) => {
            api.once("error", reject);
            api.listen(443, this.o.address, () => resolve());
        });
        this.api = api;
    }

    stop(): void {
        this.dns?.close();
        this.api?.close();
    }

    /** An authoritative answer for the zone; REFUSED outside it. */
    private answer(msg: Buffer): Buffer | undefined {
        if (msg.length < 12) return undefined;
        const q = question(msg);
        if (!q) return undefined;
        const zone = norm(this.o.zoneName);
        const inZone = q.name === zone || q.name.endsWith(`.${zone}`);
        const soa = record(
            zone,
            TYPE.SOA,
            60,
            Buffer.concat([encodeName(`ns1.${zone}`), encodeName(`hostmaster.${zone}`), u32(1), u32(7200), u32(900), u32(1209600), u32(60)]),
        );
        const answers: Buffer[] = [];
        if (inZone) {
            if (q.type === TYPE.SOA && q.name === zone) answers.push(soa);
            if (q.type === TYPE.NS && q.name === zone) answers.push(record(zone, TYPE.NS, 60, encodeName(`ns1.${zone}`)));
            const a = this.o.hosts[q.name];
            if (q.type === TYPE.A && a) answers.push(record(q.name, TYPE.A, 60, Buffer.from(a.split(".").map(Number))));
            if (q.type === TYPE.TXT) {
                for (const value of this.txt.get(q.name) ?? []) {
                    const text = Buffer.from(value, "utf8");
                    answers.push(record(q.name, TYPE.TXT, 10, Buffer.concat([Buffer.from([text.length]), text])));
                }
            }
        }
        const authority = inZone && answers.length === 0 ? [soa] : [];
        // QR, AA, the query's opcode and RD; NOERROR in the zone (an empty answer for what it lacks), REFUSED outside.
        const flags = 0x8400 | (msg.readUInt16BE(2) & 0x7900) | (inZone ? 0 : 5);
        const header = Buffer.concat([msg.subarray(0, 2), u16(flags), u16(1), u16(answers.length), u16(authority.length), u16(0)]);
        return Buffer.concat([header, msg.subarray(12, q.end), ...answers, ...authority]);
    }

    private async serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
        const body = await new Promise<string>((resolve) => {
            let text = "";
            req.on("data", (d) => (text += d));
            req.on("end", () => resolve(text));
        });
        const url = new URL(req.url ?? "/", "https://route53.amazonaws.com");
        const send = (status: number, xml: string) => {
            res.writeHead(status, { "content-type": "text/xml" });
            res.end(`<?xml version="1.0" encoding="UTF-8"?>\n${xml}`);
        };
        const zonePath = `/2013-04-01/hostedzone/${this.o.hostedZoneId}/rrset`;
        const info = (id: string, status: string) => `<ChangeInfo><Id>/change/${id}</Id><Status>${status}</Status><SubmittedAt>${new Date().toISOString()}</SubmittedAt></ChangeInfo>`;
        if (req.method === "POST" && url.pathname.replace(/\/$/, "") === zonePath) {
            const changes = [...body.matchAll(/<Change>([\s\S]*?)<\/Change>/g)].map((m) => ({
                action: /<Action>([^<]*)<\/Action>/.exec(m[1])?.[1] ?? "",
                name: unescapeXml(/<Name>([^<]*)<\/Name>/.exec(m[1])?.[1] ?? ""),
                type: /<Type>([^<]*)<\/Type>/.exec(m[1])?.[1] ?? "",
                values: [...m[1].matchAll(/<Value>([^<]*)<\/Value>/g)].map((v) => unescapeXml(v[1]).replace(/^"|"$/g, "")),
            }));
            const refused = changes.filter((c) => !this.allowed(c.action, c.name, c.type));
            if (changes.length === 0 || refused.length > 0) {
                for (const c of refused) this.log.refused.push(`${c.action} ${c.type} ${norm(c.name)}`);
                send(403, `<ErrorResponse xmlns="${XMLNS}"><Error><Type>Sender</Type><Code>AccessDenied</Code><Message>not authorized to perform route53:ChangeResourceRecordSets on these records</Message></Error></ErrorResponse>`);
                return;
            }
            for (const c of changes) {
                const name = norm(c.name);
                if (c.action === "DELETE") this.txt.delete(name);
                else this.txt.set(name, c.values);
                this.log.applied.push(`${c.action} ${c.type} ${name}`);
            }
            send(200, `<ChangeResourceRecordSetsResponse xmlns="${XMLNS}">${info(`C${++this.changes}`, "PENDING")}</ChangeResourceRecordSetsResponse>`);
            return;
        }
        if (req.method === "GET" && url.pathname.replace(/\/$/, "") === zonePath) {
            const start = norm(url.searchParams.get("name") ?? "");
            const sets = [...this.txt.entries()]
                .filter(([name]) => name >= start)
                .map(([name, values]) => `<ResourceRecordSet><Name>${name}.</Name><Type>TXT</Type><TTL>10</TTL><ResourceRecords>${values.map((v) => `<ResourceRecord><Value>"${v}"</Value></ResourceRecord>`).join("")}</ResourceRecords></ResourceRecordSet>`);
            send(200, `<ListResourceRecordSetsResponse xmlns="${XMLNS}"><ResourceRecordSets>${sets.join("")}</ResourceRecordSets><IsTruncated>false</IsTruncated><MaxItems>100</MaxItems></ListResourceRecordSetsResponse>`);
            return;
        }
        const change = /^\/2013-04-01\/change\/(.+)$/.exec(url.pathname);
        if (req.method === "GET" && change) {
            // The record is in the DNS server as soon as the change is applied: INSYNC at once.
            send(200, `<GetChangeResponse xmlns="${XMLNS}">${info(change[1].replace(/^\/?change\//, ""), "INSYNC")}</GetChangeResponse>`);
            return;
        }
        send(400, `<ErrorResponse xmlns="${XMLNS}"><Error><Type>Sender</Type><Code>InvalidInput</Code><Message>not modelled: ${req.method} ${url.pathname}</Message></Error></ErrorResponse>`);
    }

    /** The statement's ForAllValues:StringEquals condition keys, applied to one change. */
    private allowed(action: string, name: string, type: string): boolean {
        const all = (this.o.changeStatement.Condition?.["ForAllValues:StringEquals"] ?? {}) as Record<string, string[]>;
        const ok = (key: string, value: string) => (all[`route53:ChangeResourceRecordSets${key}`] ?? []).includes(value);
        return ok("NormalizedRecordNames", norm(name)) && ok("RecordTypes", type) && ok("Actions", action);
    }
}

// What nginx's DICOM sender gate costs: the same associations through nginx with the gate (js_preread on 11112)
// and without it (today's client-certificate check only), both with the modality's client certificate, dcmtk's
// storescp as the Orthanc stand-in. Two labs (tests/senderGateLab.ts) run side by side and the rounds alternate, so
// that the machine's load falls on both alike. Prints Markdown for docs/benchmarks.md. Needs root (ip netns).
// Usage: npm run bench:sender-gate [-- ROUNDS]   (default 5; each round, per lab: 50 associations timed in one node
// process from connect to the A-ASSOCIATE-AC (the gate's own cost), 10 storescu runs storing one instance each (what a
// modality sees), and one association storing 40 instances of 256 KB)
import * as fs from "fs";
import * as path from "path";
import { newUid, secondaryCapture } from "../twin/dicom";
import { now } from "../twin/clients";
import { CALLED_AET, LOOPBACK, SenderGateLab } from "../tests/senderGateLab";
import { DICOM_PORT } from "../rules/ports";

const MODALITIES = [{ name: "ct-1", aet: "CT_ROOM_1" }];
const TIMED_ASSOCIATIONS = 50;
const STORES = 10;
const BULK_INSTANCES = 40;
const BULK_SIDE = 512;

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function timed(what: () => Promise<boolean>): Promise<number> {
    const t0 = now();
    if (!(await what())) throw new Error("an association failed");
    return now() - t0;
}

async function bulk(lab: SenderGateLab, files: string[]): Promise<number> {
    const id = lab.certificates.clients["ct-1"];
    const t0 = now();
    const r = await lab.exec("storescu", ["+tls", id.key, id.cert, "+cf", lab.serverCert, "-aet", "CT_ROOM_1", "-aec", CALLED_AET, LOOPBACK, String(DICOM_PORT), ...files], 120000);
    if (r.code !== 0) throw new Error(`bulk store failed: ${r.stderr}`);
    return now() - t0;
}

async function main(): Promise<void> {
    const rounds = Number(process.argv[2] ?? 5);
    const labs = { gate: await SenderGateLab.start({ gate: true, modalities: MODALITIES }), today: await SenderGateLab.start({ gate: false, modalities: MODALITIES }) };
    const files: string[] = [];
    try {
        const dir = fs.mkdtempSync(path.join(labs.gate.dir, "bulk-"));
        const [studyUid, seriesUid] = [newUid(), newUid()];
        for (let i = 0; i < BULK_INSTANCES; i++) {
            files.push(path.join(dir, `${i}.dcm`));
            fs.writeFileSync(files[i], secondaryCapture({ patientId: "BENCH", studyUid, seriesUid, sopInstanceUid: newUid(), instanceNumber: i + 1 }, undefined, BULK_SIDE));
        }
        const bytes = files.reduce((sum, f) => sum + fs.statSync(f).size, 0);
        const results = { gate: { echo: [] as number[], store: [] as number[], bulk: [] as number[] }, today: { echo: [] as number[], store: [] as number[], bulk: [] as number[] } };
        const cpu = { gate: 0, today: 0 };
        console.log("| round | connect to A-ASSOCIATE-AC, ms (gate / today) | storescu, one instance, ms (gate / today) | bulk store, MB/s (gate / today) |");
        console.log("|---|---|---|---|");
        for (let round = 1; round <= rounds; round++) {
            const row: Record<string, { echo: number; store: number; bulk: number }> = {};
            for (const name of ["gate", "today"] as const) {
                const lab = labs[name];
                const cpuBefore = await lab.nginxCpuMs();
                const echoes = await lab.associations("ct-1", "CT_ROOM_1", TIMED_ASSOCIATIONS);
                cpu[name] += (await lab.nginxCpuMs()) - cpuBefore;
                const stores: number[] = [];
                for (let i = 0; i < STORES; i++) stores.push(await timed(async () => (await lab.store("ct-1", "CT_ROOM_1")).ok));
                const mbps = bytes / 1e6 / ((await bulk(lab, files)) / 1000);
                row[name] = { echo: median(echoes), store: median(stores), bulk: mbps };
                results[name].echo.push(...echoes);
                results[name].store.push(...stores);
                results[name].bulk.push(mbps);
            }
            const f = (k: "echo" | "store" | "bulk") => `${row.gate[k].toFixed(k === "store" ? 0 : 1)} / ${row.today[k].toFixed(k === "store" ? 0 : 1)}`;
            console.log(`| ${round} | ${f("echo")} | ${f("store")} | ${f("bulk")} |`);
        }
        const m = (name: "gate" | "today", k: "echo" | "store" | "bulk") => median(results[name][k]);
        console.log("");
        console.log(`Medians over ${rounds} rounds (${rounds * TIMED_ASSOCIATIONS} timed associations and ${rounds * STORES} storescu runs per lab; bulk: ${BULK_INSTANCES} instances, ${(bytes / 1e6).toFixed(1)} MB in one association):`);
        console.log(`- connect to A-ASSOCIATE-AC: ${m("gate", "echo").toFixed(2)} ms with the gate, ${m("today", "echo").toFixed(2)} ms without (${(m("gate", "echo") - m("today", "echo")).toFixed(2)} ms)`);
        const perAssociation = (name: "gate" | "today") => cpu[name] / (rounds * TIMED_ASSOCIATIONS);
        console.log(`- nginx CPU per timed association (handshake, gate, proxying to the AC): ${perAssociation("gate").toFixed(2)} ms with the gate, ${perAssociation("today").toFixed(2)} ms without`);
        console.log(`- storescu storing one instance: ${m("gate", "store").toFixed(0)} ms with the gate, ${m("today", "store").toFixed(0)} ms without (${(m("gate", "store") - m("today", "store")).toFixed(0)} ms)`);
        console.log(`- bulk store: ${m("gate", "bulk").toFixed(1)} MB/s with the gate, ${m("today", "bulk").toFixed(1)} MB/s without (${((m("gate", "bulk") / m("today", "bulk")) * 100).toFixed(0)} %)`);
    } finally {
        await labs.gate.stop();
        await labs.today.stop();
    }
}

main().catch((e) => {
    console.error(e instanceof Error ? e.message : e);
    process.exit(1);
});

// rotation: under load, the database password rotates the way RDS rotates a managed master password (the secret
// gets a new value and the master role's password changes), to one with `$ \ ' "` and a space. Orthanc logs in with
// its own login (orthanc_app), which does not rotate: the start script's next run (database setup with the new
// master password) changes nothing Orthanc reads. Then every Orthanc database connection is cut, as a Multi-AZ
// failover or a network blip would: the reconnects must succeed. Summary line: `twin rotation: <N> stored, <L> lost`.
import * as path from "path";
import { DATABASE_APP_USER, DATABASE_NAME, DATABASE_USER } from "../../rules/database";
import { now, sleep } from "../clients";
import { say, secret, TwinPair } from "../pair";
import { Measured, Scenario, ScenarioContext } from "../scenario";
import { ledgerOf } from "./storeLedger";

const TIMING = { warmupSeconds: 8, afterRotationSeconds: 6, afterCutSeconds: 12 } as const;

/** A new master password as awkward as RDS may generate, and more: `$ \ ' "` and a space. */
export function rotatedPassword(): string {
    return `r$HOME \\ '${secret()}' "x"`;
}

async function run(pair: TwinPair, ctx: ScenarioContext): Promise<Measured> {
    const reasons: string[] = [];
    const client = pair.dicomClient(path.join(ctx.dir, "client"), { maxTries: 400 });
    ctx.onAbort(() => client.abort());
    client.start();
    say(`clients: C-STORE through the front door every 250 ms (retrying); warming up ${TIMING.warmupSeconds}s`);
    await sleep(TIMING.warmupSeconds * 1000);

    // What a stack that ran Orthanc as the master user leaves behind: objects the master owns. The setup below must
    // hand them to Orthanc's login (the first release's stacks upgrade this way).
    await pair.psql(`\\connect ${DATABASE_NAME}\nSET ROLE ${DATABASE_USER};\nCREATE TABLE legacy_probe (id int);\n` +
        `CREATE FUNCTION legacy_probe_fn() RETURNS int LANGUAGE sql AS 'SELECT 1';\nSELECT lo_create(0);\n`);

    // RDS's rotation: a new password on the master role, then the secret's new value.
    const previous = pair.passwords.database;
    const rotated = rotatedPassword();
    await pair.psql(`ALTER ROLE ${DATABASE_USER} PASSWORD :'pw';\n`, { pw: rotated });
    pair.passwords.database = rotated;
    say(`rotated the master ${DATABASE_USER}'s password (now with $, \\, ', " and a space), as RDS does`);
    // The start script's next run on each instance: Orthanc's login works as it is, so the master is not even used;
    // the setup runs anyway here, to prove the new master password works where the script would use it.
    for (const index of pair.plan.instances.keys()) {
        if (!(await pair.appLoginWorks(index))) reasons.push(`${DATABASE_APP_USER} cannot log in from ${pair.plan.instances[index].name} after the rotation`);
        await pair.runDatabaseSetup(index);
    }
    say(`  ${DATABASE_APP_USER} still logs in (the start script stops there); database setup with the new master password works too; orthanc.json is unchanged`);
    pair.passwords.database = previous;
    const oldStillWorks = await pair.runDatabaseSetup(0).then(() => true, () => false);
    pair.passwords.database = rotated;
    if (oldStillWorks) reasons.push("the old master password still logs in: the rotation did not take effect");
    const owners = (await pair.psql(`\\connect ${DATABASE_NAME}\n\\t on\n` +
        `SELECT (SELECT tableowner FROM pg_tables WHERE tablename = 'legacy_probe') || ' ' || ` +
        `(SELECT pg_get_userbyid(proowner) FROM pg_proc WHERE proname = 'legacy_probe_fn') || ' ' || ` +
        `(SELECT count(*) FROM pg_largeobject_metadata WHERE pg_get_userbyid(lomowner) = '${DATABASE_USER}') || ' ' || ` +
        `(SELECT count(*) FROM pg_tables WHERE schemaname = 'public' AND tableowner = '${DATABASE_USER}');\n`)).trim();
    say(`  objects the master owned before (table, function, large objects, tables left to the master): ${owners}`);
    if (owners !== `${DATABASE_APP_USER} ${DATABASE_APP_USER} 0 0`) reasons.push(`the setup did not hand the master's objects to ${DATABASE_APP_USER}: ${owners}`);
    await sleep(TIMING.afterRotationSeconds * 1000);

    const cut = now();
    const terminated = await pair.psql(`\\t on\nSELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE usename = '${DATABASE_APP_USER}';\n`, {});
    say(`cut every ${DATABASE_APP_USER} connection (pg_terminate_backend${terminated.trim() ? `: ${terminated.trim()}` : ""}), as a failover or network blip would; Orthanc must reconnect`);
    await sleep(TIMING.afterCutSeconds * 1000);
    const reconnected = await pair.psql(`\\t on\nSELECT count(*) FROM pg_stat_activity WHERE usename = '${DATABASE_APP_USER}';\n`, {});
    const health = await Promise.all(pair.plan.instances.map((_, i) => pair.healthz(i)));
    const storedAfterCut = client.attempts.filter((a) => a.ok && a.startMs >= cut + 2000).length;

    const ledger = await ledgerOf(pair, client, now() + 60000);
    say(`results: ${client.attempts.length} C-STORE attempts, ${ledger.stored} stored, ${ledger.lost} lost, ${client.retried} retries; ` +
        `${storedAfterCut} acknowledged after the cut; /healthz ${health.join(", ")}; ${reconnected.trim() || "?"} ${DATABASE_APP_USER} connection(s) open again`);
    if (ledger.lost > 0) reasons.push(`${ledger.lost} instance(s) lost (${ledger.missing} acknowledged but not indexed)`);
    if (ledger.stored === 0) reasons.push("nothing was stored");
    if (storedAfterCut === 0) reasons.push("no C-STORE was acknowledged after the connections were cut: Orthanc did not reconnect");
    if (health.some((c) => c !== "200")) reasons.push(`/healthz is not 200 on both instances after the rotation and the cut (${health.join(", ")})`);
    return { summary: [`twin rotation: ${ledger.stored} stored, ${ledger.lost} lost`], reasons };
}

export const rotation: Scenario = {
    name: "rotation",
    description: "the master password rotates (RDS's way) to one with $ \\ ' \" and a space, then connections are cut: Orthanc's own login carries on",
    deadlineSeconds: 200,
    run,
};

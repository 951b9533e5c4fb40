// bad-upgrade: a new version whose start fails reaches slot 1 under load, through an instance refresh (a new
// machine next to the old one), exactly as `pulumi up` would run it: slot 1's group gets the new template and starts
// a refresh; the group launches a new instance into its launch hook; the program's apply script runs on it (the
// slot's apply association) and, on the old instance, as the slot's gate association. The new one's start fails: its
// apply must end the refresh and abandon it without taking the slot's address; the old one's run must see the
// refresh end and fail, so `pulumi up` stops before slot 2. What is real: the program's apply and claim scripts
// (bash), Orthanc, nginx, the modality's storescu over TLS to the slot's reserved address, the routing. What stands
// in: Auto Scaling, S3, EC2 and the VPC (twin/autoScaling.ts, twin/slotNetwork.ts), systemd, and Pulumi's order
// (slot 2's group is updated only if slot 1's gate association succeeded).
// Summary line: `twin bad-upgrade: <N> stored, <L> lost, old instance kept: <yes|no>, slot 2 touched: <yes|no>`.
import * as path from "path";
import { bundleKey, renderBundle } from "../../rules/rollout";
import { TwinAutoScaling } from "../autoScaling";
import { now, sleep } from "../clients";
import { say, TwinPair } from "../pair";
import { upgradedTemplate } from "../rollout";
import { Measured, Scenario, ScenarioContext } from "../scenario";
import { firstHolder, firstSlot, slotModality } from "../slotScenario";

const TIMING = { warmupSeconds: 6, serveSeconds: 6 } as const;
const GROUPS = ["orthanc-1-twin", "orthanc-2-twin"] as const;
/** What the new version's orthweb.service does: its start fails (an image that cannot start). */
const FAILING_START = 'echo "Job for orthweb.service failed because the control process exited with error code (the new image exits at start)" >&2; exit 1';

export interface BadUpgradeOutcome {
    readonly stored: number;
    readonly lost: number;
    readonly oldKept: boolean;
    readonly slot2Touched: boolean;
}

export function badUpgradeLine(o: BadUpgradeOutcome): string {
    return `twin bad-upgrade: ${o.stored} stored, ${o.lost} lost, old instance kept: ${o.oldKept ? "yes" : "no"}, slot 2 touched: ${o.slot2Touched ? "yes" : "no"}`;
}

export function badUpgradeVerdict(o: BadUpgradeOutcome, other: readonly string[]): string[] {
    const reasons = [...other];
    if (o.lost > 0) reasons.push(`${o.lost} instance(s) lost`);
    if (o.stored === 0) reasons.push("nothing was stored");
    if (!o.oldKept) reasons.push("the old instance did not keep serving the slot with its address");
    if (o.slot2Touched) reasons.push("slot 2 was touched although slot 1's new instance failed");
    return reasons;
}

async function run(pair: TwinPair, ctx: ScenarioContext): Promise<Measured> {
    const { slot, address } = firstSlot(pair, ctx);
    const other: string[] = [];

    // Slot 1's instance serves the slot's address (its first apply took it).
    await firstHolder(pair, slot, address, "i-old");

    // The new version: a bundle whose Orthanc setting changed; its start fails.
    const bundle = renderBundle([{ path: path.join(ctx.dir, "i-new", "opt", "orthanc.template.json"), permissions: "0644", content: `${JSON.stringify(upgradedTemplate(pair.program.bootstrap.orthancTemplate), null, 1)}\n` }]);
    const key = bundleKey(bundle);
    const asg = new TwinAutoScaling(path.join(ctx.dir, "autoscaling"), {
        [GROUPS[0]]: { version: "1", refresh: "Successful\tNone", instances: { "i-old": "InService 1" } },
        [GROUPS[1]]: { version: "1", refresh: "Successful\tNone", instances: { "i-two": "InService 1" } },
    }, bundle, pair.program.applyDocument);
    say(`apply script: the program's (its SSM document), as SSM runs it for slot 1's associations; changes for i-new's apply run (i-old's gate run alike):`);
    for (const line of asg.describeApply("i-new", "apply", key)) say(`  ${line}`);

    const clientStart = now();
    const client = slotModality(pair, ctx, address);
    await sleep(TIMING.warmupSeconds * 1000);

    // `pulumi up`, slot 1: the group's update points it at template version 2 and starts a refresh; the group
    // launches the new machine next to the old one, into the launch hook.
    const failedAt = now();
    asg.setGroup(GROUPS[0], { version: "2", refresh: "InProgress\tNone", instances: { "i-old": "InService 1", "i-new": "Pending:Wait 2" } });
    slot.launch("i-new");
    say(`slot 1's group now launches from template version 2; instance refresh started; i-new waits in the launch hook next to i-old`);

    // The new instance's claim timer: a running instance holds the address, so it takes nothing.
    const timer = await slot.claim("i-new");
    if (timer.code !== 0) other.push(`claim.sh on i-new's timer failed: exit ${timer.code}: ${timer.stderr.trim()}`);
    if (slot.holder() !== "i-old") other.push("claim.sh on the new instance's timer took the address from the serving one");
    // The slot's gate association runs on i-old (it waits for its successor), the apply association on i-new.
    const gate = asg.apply("i-old", { mode: "gate", bundleKey: key, startCommand: "exit 0" });
    await sleep(500);
    const applied = await asg.apply("i-new", { mode: "apply", bundleKey: key, startCommand: FAILING_START });
    say(`i-new's apply (the program's) exited ${applied.code}: ${lastLines(applied.stderr)}`);
    if (applied.code === 0) other.push("the new instance's apply succeeded although its start failed");
    // Auto Scaling terminates what was abandoned: EC2 takes the machine away.
    if (asg.instance(GROUPS[0], "i-new") === "") await slot.terminate("i-new");
    const waited = await gate;
    say(`i-old's gate run (the program's apply script) exited ${waited.code}: ${lastLines(waited.stderr)}`);
    if (waited.code === 0) other.push("the old instance's gate passed although its successor failed");

    // Pulumi's order: slot 2's group is updated only once slot 1's gate association has succeeded.
    if (waited.code === 0) {
        asg.setGroup(GROUPS[1], { version: "2", refresh: "InProgress\tNone", instances: { "i-two": "InService 1", "i-two-new": "Pending:Wait 2" } });
        say("slot 1's gate passed: slot 2's group updated");
    } else {
        say("slot 1's gate failed: `pulumi up` stops here, slot 2's group is not updated");
    }
    await sleep(TIMING.serveSeconds * 1000);
    await client.drain(now() + 20000);

    const refresh = asg.refresh(GROUPS[0]);
    const oldState = asg.instance(GROUPS[0], "i-old");
    const newState = asg.instance(GROUPS[0], "i-new");
    say(`slot 1 afterwards: i-old ${oldState || "gone"}, i-new ${newState || "gone"}, refresh ${refresh.replace(/\t/g, " ")}, address held by ${slot.holder()}`);
    if (!/^Cancelled/.test(refresh)) other.push(`slot 1's refresh was not ended (${refresh})`);
    if (newState !== "") other.push(`i-new is still in slot 1's group (${newState})`);
    const afterFailure = client.attempts.filter((a) => a.startMs >= failedAt);
    const servedAfter = afterFailure.some((a) => a.ok);
    const oldKept = oldState.startsWith("InService") && slot.holder() === "i-old" && (await slot.configured()) && servedAfter;
    const slot2Touched = asg.calls().some((c) => c.includes(GROUPS[1])) || asg.instance(GROUPS[1], "i-two") !== "InService 1";

    const indexed = await pair.indexedSopUids(0);
    const missing = [...client.acknowledged].filter((uid) => !indexed.has(uid));
    const stored = client.acknowledged.size - missing.length;
    const lost = missing.length + client.abandoned.size - [...client.abandoned].filter((uid) => indexed.has(uid)).length;
    say(`results (the modality ran ${((now() - clientStart) / 1000).toFixed(0)}s): ${client.attempts.length} attempts, ${client.acknowledged.size} acknowledged, ` +
        `${afterFailure.filter((a) => !a.ok).length} failed after the upgrade began, ${client.abandoned.size} given up, ${missing.length} acknowledged but missing from the index`);
    const outcome = { stored, lost, oldKept, slot2Touched };
    return { summary: [badUpgradeLine(outcome)], reasons: badUpgradeVerdict(outcome, other) };
}

function lastLines(text: string, n = 3): string {
    return text.trim().split("\n").slice(-n).join(" | ");
}

export const badUpgrade: Scenario = {
    name: "bad-upgrade",
    description: "a new version whose start fails reaches slot 1 through a refresh under load; the program's apply script ends the refresh and abandons the new instance, the old one keeps serving with its address, slot 2 is not touched",
    deadlineSeconds: 90,
    run,
};

// tunnel-failover: under load from the site, tunnel 1's AWS end goes away (its IKE and ESP traffic stops, its SA and
// its route vanish from the VPC side, as in AWS's tunnel maintenance or an endpoint failure). The site's charon, with
// the program's swanctl.conf and strongswan.conf drop-in, declares the peer dead within dpd_delay plus the
// retransmission schedule and calls the program's tunnel script, which moves the VPC's route to tunnel 2; the
// C-STOREs in flight and after carry on through tunnel 2 with nothing lost.
// The data path: the tunnel interfaces are plain links here (see siteLab.tunnelLinks): the IKE SAs, DPD, updown calls
// and routes are real, the ESP encapsulation of the data is not (site-to-site proves that through libipsec).
// Summary line: `twin tunnel-failover: <N> stored, <L> lost, moved to tunnel 2 after <F>s`.
import * as path from "path";
import { deadPeerDetectionBoundSeconds, TUNNEL_INTERFACES } from "../../rules/siteGateway";
import { now, sleep, waitFor } from "../clients";
import { inNs, must, run as runCommand } from "../lab";
import { say, TwinPair } from "../pair";
import { Measured, Scenario, ScenarioContext } from "../scenario";
import { bothTunnelsUp, siteLab, storeFromSite, swanctl, tunnelLinks, TWIN_VPC_CIDR } from "../siteLab";

const TIMING = {
    tunnelUpBoundSeconds: 40,
    /** Load before the cut, and after the move. */
    loadBeforeCutMs: 3000,
    loadAfterMoveMs: 8000,
    minimumStores: 8,
    /**
     * A store caught in the cut is retried as a modality would, across the failover: each try gives up after
     * storescu's 5 s connect timeout (plus 0.5 s), so 8 tries span 44 s, past the 28.25 s bound.
     */
    triesPerStore: 8,
    /** Past the DPD bound: charon's updown call and this scenario's 200 ms polling. */
    slackSeconds: 2,
} as const;

/** The bound on F: dead-peer detection (dpd_delay + retransmissions) and the slack above. */
export const FAILOVER_BOUND_SECONDS = deadPeerDetectionBoundSeconds() + TIMING.slackSeconds;

/** `twin tunnel-failover: <N> stored, <L> lost, moved to tunnel 2 after <F>s` */
export function tunnelFailoverSummary(stored: number, lost: number, movedSeconds: number | undefined): string {
    return `twin tunnel-failover: ${stored} stored, ${lost} lost, moved to tunnel 2 after ${movedSeconds === undefined ? "-" : movedSeconds.toFixed(1)}s`;
}

/** Which of the site's tunnel interfaces carry the VPC's block, by metric. */
async function vpcRoutes(ns: string): Promise<{ device: string; metric: number }[]> {
    const r = await runCommand("ip", ["-n", ns, "-o", "route", "show", TWIN_VPC_CIDR], { timeoutMs: 5000 });
    return [...r.stdout.matchAll(/dev (\S+).*?metric (\d+)/g)].map((m) => ({ device: m[1], metric: Number(m[2]) }));
}

/** Bytes received by `dev` (the VPC side's end of a tunnel: what the site sent through it). */
async function rxBytes(ns: string, dev: string): Promise<number> {
    const [c, a] = inNs(ns, "cat", [`/sys/class/net/${dev}/statistics/rx_bytes`]);
    return Number((await runCommand(c, a, { timeoutMs: 5000 })).stdout.trim());
}

async function run(pair: TwinPair, ctx: ScenarioContext): Promise<Measured> {
    const reasons: string[] = [];
    const s = await siteLab(pair, ctx, reasons);
    const links = await tunnelLinks(pair, s);
    // The VPC's route tables: the site's ranges by tunnel 1, tunnel 2 as the standby (AWS prefers one tunnel).
    for (const cidr of s.site.onPremisesCidrs) {
        for (const [i, l] of links.entries()) await must("ip", ["-n", s.lb, "route", "add", cidr, "via", l.insideSite, "dev", l.aws, "metric", String(TUNNEL_INTERFACES[i].metric)]);
    }
    say(`tunnel interfaces ${links.map((l) => `${l.site} (${l.insideSite} <-> ${l.insideAws})`).join(", ")}: plain links, set up by the program's tunnel script`);
    const up = await bothTunnelsUp(pair, s, TIMING.tunnelUpBoundSeconds);
    if (up === undefined) {
        reasons.push(`the two tunnels were not up within ${TIMING.tunnelUpBoundSeconds}s (logs: ${pair.files.logs}/charon-*.log)`);
        return { summary: [tunnelFailoverSummary(0, 0, undefined)], reasons };
    }
    const routed = await waitFor(async () => (await vpcRoutes(s.siteNs)).length === 2, 5000, 100);
    const routes = await vpcRoutes(s.siteNs);
    say(`both tunnels up in ${up.toFixed(1)}s from the rendered configuration; updown routed ${TWIN_VPC_CIDR} by ${routes.map((r) => `${r.device} (metric ${r.metric})`).join(", ") || "nothing"}`);
    if (!routed || routes.find((r) => r.metric === Math.min(...routes.map((x) => x.metric)))?.device !== TUNNEL_INTERFACES[0].name) {
        reasons.push(`the site's updown calls did not route ${TWIN_VPC_CIDR} by tunnel 1 first: ${JSON.stringify(routes)}`);
        return { summary: [tunnelFailoverSummary(0, 0, undefined)], reasons };
    }

    let cutAt: number | undefined;
    let movedAt: number | undefined;
    const load = storeFromSite(pair, s, path.join(ctx.dir, "stores"), {
        count: TIMING.minimumStores,
        tries: TIMING.triesPerStore,
        more: () => movedAt === undefined ? cutAt === undefined || now() - cutAt < (FAILOVER_BOUND_SECONDS + 30) * 1000 : now() - movedAt < TIMING.loadAfterMoveMs,
        label: "FAILOVER",
    });
    await sleep(TIMING.loadBeforeCutMs);
    const t1Before = await rxBytes(s.lb, links[0].aws);
    // Tunnel 1's AWS end goes away: its routes, its IKE and ESP traffic, its SA (silently: the DELETE it would send
    // is dropped with the rest). What the site still sends into tunnel 1 vanishes, as into an XFRM interface whose
    // peer is gone (the link stays up: a downed veth would fail the site's sends at once, which XFRM does not).
    cutAt = now();
    for (const cidr of s.site.onPremisesCidrs) await must("ip", ["-n", s.lb, "route", "del", cidr, "via", links[0].insideSite, "dev", links[0].aws]);
    for (const rule of [
        ["-I", "INPUT", "-d", s.t1.outsideAddress, "-j", "DROP"],
        ["-I", "OUTPUT", "-s", s.t1.outsideAddress, "-j", "DROP"],
        ["-I", "FORWARD", "-i", links[0].aws, "-j", "DROP"],
        ["-I", "INPUT", "-i", links[0].aws, "-j", "DROP"],
    ]) {
        const [c, a] = inNs(s.lb, "iptables", rule);
        await must(c, a);
    }
    await swanctl(s, "aws", ["--terminate", "--ike", "aws-tunnel1", "--force", "--timeout", "2"]);
    say(`cut tunnel 1's AWS end (${s.t1.outsideAddress}) under load; tunnel 1 had carried ${t1Before} bytes to the VPC side`);
    const t2AtCut = await rxBytes(s.lb, links[1].aws);
    await waitFor(async () => !(await vpcRoutes(s.siteNs)).some((r) => r.device === TUNNEL_INTERFACES[0].name), (FAILOVER_BOUND_SECONDS + 30) * 1000, 200);
    const after = await vpcRoutes(s.siteNs);
    if (!after.some((r) => r.device === TUNNEL_INTERFACES[0].name)) movedAt = now();
    const moved = movedAt === undefined ? undefined : (movedAt - cutAt) / 1000;
    say(moved === undefined
        ? `the site still routes by tunnel 1 ${FAILOVER_BOUND_SECONDS + 30}s after the cut`
        : `the site's charon declared tunnel 1 dead and its updown call removed the route: ${TWIN_VPC_CIDR} now by ${after.map((r) => r.device).join(", ")}, ${moved.toFixed(1)}s after the cut (bound ${FAILOVER_BOUND_SECONDS}s)`);
    const result = await load;
    const t2Carried = (await rxBytes(s.lb, links[1].aws)) - t2AtCut;
    say(`C-STORE over TLS from ${s.lanAddress} during the cut: ${result.acknowledged.length} acknowledged, ${result.stored} in the shared index, ${result.lost} lost; tunnel 2 carried ${t2Carried} bytes after the cut`);
    if (moved === undefined) reasons.push("traffic never moved to tunnel 2");
    else if (moved > FAILOVER_BOUND_SECONDS) reasons.push(`moved to tunnel 2 after ${moved.toFixed(1)}s, past the bound of ${FAILOVER_BOUND_SECONDS}s`);
    if (!(t2Carried > 0)) reasons.push("tunnel 2 carried nothing after the cut");
    if (result.lost > 0) reasons.push(`${result.lost} C-STORE${result.lost === 1 ? "" : "s"} lost across the failover`);
    return { summary: [tunnelFailoverSummary(result.stored, result.lost, moved)], reasons };
}

export const tunnelFailover: Scenario = {
    name: "tunnel-failover",
    description: "under load, tunnel 1's AWS end goes away; the site's rendered configuration detects it (DPD) and its tunnel script moves the route to tunnel 2, nothing lost",
    deadlineSeconds: 150,
    run,
};

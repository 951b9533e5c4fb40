// site-bgp: the site stack with bgpAsn. The VPC side runs BIRD as AWS's BGP speakers, configured from the tunnel
// options the program registers (inside CIDRs, the customer gateway's ASN, the gateway's Amazon-side ASN), announcing
// the VPC's block; the site runs the program's birdConf unchanged, announcing the site's ranges. Both peer over the
// tunnels' inside addresses; routes learned both ways carry C-STOREs over TLS from the site's LAN to the pair.
// The sessions run over plain links standing in for the tunnel interfaces (siteLab.tunnelLinks): kernel-libipsec
// has no XFRM interfaces, and this kernel refuses the ESP states they need.
// Summary line: `twin site-bgp: routes learned in <S>s, <N> stored, <L> lost`.
import * as fs from "fs";
import * as path from "path";
import { renderBirdConf, TUNNEL_INTERFACES } from "../../rules/siteGateway";
import { now, waitFor } from "../clients";
import { run as runCommand } from "../lab";
import { say, TwinFailure, TwinPair } from "../pair";
import { Measured, Scenario, ScenarioContext } from "../scenario";
import { SiteLab, siteLab, storeFromSite, tunnelLinks, TWIN_VPC_CIDR } from "../siteLab";

/** The site's ASN for this scenario (a private one). */
export const SITE_BGP_ASN = 65010;
const TIMING = {
    /** BIRD waits 5 s before its first connect; open, keepalive and updates add little. */
    routesBoundSeconds: 40,
    storesPerInstance: 10,
    triesPerStore: 3,
} as const;

/** `twin site-bgp: routes learned in <S>s, <N> stored, <L> lost` */
export function siteBgpSummary(learnedSeconds: number | undefined, stored: number, lost: number): string {
    return `twin site-bgp: routes learned in ${learnedSeconds === undefined ? "-" : learnedSeconds.toFixed(1)}s, ${stored} stored, ${lost} lost`;
}

/** The AWS end's BIRD: one session per tunnel from the registered inside CIDRs and ASNs, the VPC's block announced. */
export function awsBirdConf(s: Pick<SiteLab, "site">, links: readonly { insideAws: string; insideSite: string }[]): string {
    const bgp = s.site.aws.bgp;
    if (!bgp) throw new TwinFailure("the program registered a static-routing connection; site-bgp needs bgpAsn");
    return renderBirdConf({
        routerId: links[0].insideAws,
        asn: bgp.amazonAsn,
        announce: [s.site.vpcCidr],
        peers: links.map((l, i) => ({ name: `site${i + 1}`, local: l.insideAws, neighbor: l.insideSite, neighborAsn: bgp.customerAsn, preference: 100, prepend: false })),
    });
}

async function birdRoutes(ns: string, cidr: string): Promise<string> {
    return (await runCommand("ip", ["-n", ns, "-o", "route", "show", cidr, "proto", "bird"], { timeoutMs: 5000 })).stdout.trim();
}

async function run(pair: TwinPair, ctx: ScenarioContext): Promise<Measured> {
    const reasons: string[] = [];
    const s = await siteLab(pair, ctx, reasons, { bgpAsn: SITE_BGP_ASN });
    if (!s.site.customerBirdConf) throw new TwinFailure("the program's siteToSiteVpn output has no birdConf with bgpAsn set");
    const links = await tunnelLinks(pair, s);
    const dir = path.join(ctx.dir, "bird");
    fs.mkdirSync(dir);
    const start = (side: "aws" | "site", ns: string, conf: string) => {
        const file = path.join(dir, `${side}.conf`);
        fs.writeFileSync(file, conf);
        pair.lab.start(`bird-${side}`, ns, "bird", ["-f", "-c", file, "-s", path.join(dir, `${side}.ctl`), "-P", path.join(dir, `${side}.pid`)]);
    };
    start("aws", s.lb, awsBirdConf(s, links));
    say(`AWS end: BIRD from the registered tunnel options: ASN ${s.site.aws.bgp!.amazonAsn} at ${links.map((l) => l.insideAws).join(" and ")}, peer ASN ${s.site.aws.bgp!.customerAsn}, announcing ${s.site.vpcCidr}`);
    const startedAt = now();
    start("site", s.siteNs, s.site.customerBirdConf);
    say(`site end: the program's birdConf (siteToSiteVpn.birdConf), unchanged, over ${links.map((l) => `${l.site} ${l.insideSite}`).join(" and ")}`);
    const learned = await waitFor(
        async () =>
            (await birdRoutes(s.siteNs, TWIN_VPC_CIDR)).includes(`dev ${TUNNEL_INTERFACES[0].name}`) &&
            (await Promise.all(s.site.onPremisesCidrs.map((c) => birdRoutes(s.lb, c)))).every((r) => r !== ""),
        TIMING.routesBoundSeconds * 1000,
        100,
    );
    const learnedSeconds = learned ? (now() - startedAt) / 1000 : undefined;
    const siteRoute = await birdRoutes(s.siteNs, TWIN_VPC_CIDR);
    const awsRoutes = await Promise.all(s.site.onPremisesCidrs.map((c) => birdRoutes(s.lb, c)));
    say(`routes learned${learnedSeconds === undefined ? " NOT" : ` in ${learnedSeconds.toFixed(1)}s`}: site ${siteRoute || "(none)"}; VPC side ${awsRoutes.join("; ") || "(none)"}`);
    if (learnedSeconds === undefined) {
        reasons.push(`BGP routes not learned within ${TIMING.routesBoundSeconds}s (logs: ${pair.files.logs}/bird-*.log)`);
        return { summary: [siteBgpSummary(undefined, 0, 0)], reasons };
    }
    if (awsRoutes.some((r) => !r.includes(`via ${links[0].insideSite}`))) reasons.push(`the VPC side does not prefer tunnel 1 for the site's ranges (tunnel 2's announcement is prepended): ${awsRoutes.join("; ")}`);

    const result = await storeFromSite(pair, s, path.join(ctx.dir, "stores"), { count: TIMING.storesPerInstance * pair.plan.instances.length, tries: TIMING.triesPerStore, label: "BGP" });
    say(`C-STORE over TLS from ${s.lanAddress} by the BGP routes: ${result.acknowledged.length} acknowledged, ${result.stored} in the shared index`);
    if (result.lost > 0) reasons.push(`${result.lost} C-STORE${result.lost === 1 ? "" : "s"} by the BGP routes lost`);
    return { summary: [siteBgpSummary(learnedSeconds, result.stored, result.lost)], reasons };
}

export const siteBgp: Scenario = {
    name: "site-bgp",
    description: "BIRD at the site (the program's birdConf) and at the VPC side (from the registered tunnel options) peer over the tunnels' inside addresses; C-STOREs ride the learned routes",
    deadlineSeconds: 150,
    run,
};

// site-to-site: a hospital site reaches the pair only through an IPsec tunnel. The load balancer's namespace plays
// the VPC's VPN gateway (strongSwan configured from the tunnel options the program registers for Pulumi.site.yaml)
// and forwards nothing that did not come through the tunnel, as a VPC without an internet path; a new namespace plays
// the site's firewall (strongSwan with the swanctl.conf the program renders) with an address of the on-premises range.
// C-STOREs over TLS from the site reach both instances through the tunnel; nothing from outside it does.
// Summary line: `twin site-to-site: tunnel up in <S>s, <N> stored over IPsec, <L> lost`.
import * as path from "path";
import { DICOM_PORT, WEB_PORT } from "../../rules/ports";
import { childBytes, childInstalled, customerEndOf } from "../ipsec";
import { inNs, must, run as runCommand } from "../lab";
import { say, TwinPair } from "../pair";
import { Measured, Scenario, ScenarioContext } from "../scenario";
import { bothTunnelsUp, listSas, routeThroughTunnels, siteLab, storeFromSite, TWIN_VPC_CIDR } from "../siteLab";

export { TWIN_VPC_CIDR };
const TIMING = {
    /** IKE_SA_INIT + IKE_AUTH for both tunnels take a fraction of a second here; a loaded machine gets generous room. */
    tunnelUpBoundSeconds: 40,
    storesPerInstance: 10,
    triesPerStore: 3,
} as const;

/** `twin site-to-site: tunnel up in <S>s, <N> stored over IPsec, <L> lost` */
export function siteToSiteSummary(upSeconds: number | undefined, stored: number, lost: number): string {
    return `twin site-to-site: tunnel up in ${upSeconds === undefined ? "-" : upSeconds.toFixed(1)}s, ${stored} stored over IPsec, ${lost} lost`;
}

async function run(pair: TwinPair, ctx: ScenarioContext): Promise<Measured> {
    const { plan, files } = pair;
    const reasons: string[] = [];
    const s = await siteLab(pair, ctx, reasons);
    const { site, t1, t2, siteNs, lanAddress } = s;
    const customer = customerEndOf(site.customerSwanctlConf);
    if (customer.identity !== site.aws.customerGatewayIp) reasons.push(`the rendered swanctl.conf identifies as ${customer.identity}, the customer gateway is ${site.aws.customerGatewayIp}`);
    if ([t1, t2].some((t) => !customer.remoteAddresses.includes(t.outsideAddress))) reasons.push(`the rendered swanctl.conf names ${customer.remoteAddresses.join(", ")}, not both AWS tunnel ends`);

    // Measured as a site sees it after its gateway (re)starts: daemon start, configuration load, IKE_SA_INIT + IKE_AUTH
    // of both tunnels. Nothing is initiated by hand: the rendered configuration starts both tunnels itself.
    const upSeconds = await bothTunnelsUp(pair, s, TIMING.tunnelUpBoundSeconds);
    say("AWS end: swanctl.conf rendered from the VpnConnection's tunnel options (IKE versions, algorithms, lifetimes, keys), responder only (startup action add)");
    say("site end: the program's swanctl.conf and strongswan.conf drop-in (siteToSiteVpn.swanctlConf, .strongswanConf), loaded; no swanctl --initiate");
    if (upSeconds === undefined) {
        const sas = await listSas(s, "site");
        reasons.push(`tunnels not both up within ${TIMING.tunnelUpBoundSeconds}s (tunnel 1 ${childInstalled(sas, "tunnel1-net") ? "up" : "down"}, tunnel 2 ${childInstalled(sas, "tunnel2-net") ? "up" : "down"}; logs: ${files.logs}/charon-*.log)`);
        return { summary: [siteToSiteSummary(undefined, 0, 0)], reasons };
    }
    const sas = await listSas(s, "site");
    say(`tunnels 1 and 2 up ${upSeconds.toFixed(1)}s after the site's gateway started (charon, configuration, IKE): ${(/^\s+(AES\S*\/\S+)$/m.exec(sas)?.[1] ?? "?").trim()}`);
    await routeThroughTunnels(s);

    // C-STOREs over TLS from the site's LAN to each instance's own address, through the tunnels.
    const before = childBytes(sas);
    const result = await storeFromSite(pair, s, path.join(ctx.dir, "stores"), { count: TIMING.storesPerInstance * plan.instances.length, tries: TIMING.triesPerStore, label: "SITE" });
    const after = childBytes(await listSas(s, "site"));
    say(`C-STORE over TLS from ${lanAddress} to ${plan.instances.map((i) => `${i.address}:${DICOM_PORT}`).join(" and ")}: ${result.acknowledged.length} acknowledged, ${result.stored} in the shared index; ` +
        `the tunnels carried ${after.out - before.out} bytes out and ${after.in - before.in} in`);
    if (after.out - before.out <= 0 || after.in - before.in <= 0) reasons.push("the C-STOREs did not go through the tunnels' ESP SAs (their byte counters did not move)");

    // Nothing from outside the tunnel: the site's public address, and its LAN address sent in cleartext past IPsec.
    const tcpReaches = async (source: string, host: string, port: number) => {
        const [c, a] = inNs(siteNs, "curl", ["-sk", "-o", "/dev/null", "-m", "4", "--interface", source, `https://${host}:${port}/`]);
        const r = await runCommand(c, a, { timeoutMs: 8000 });
        // 7: could not connect, 28: timed out; anything else means a TCP connection was made.
        return r.code !== 7 && r.code !== 28;
    };
    const target = plan.instances[0];
    const outside: string[] = [];
    for (const port of [WEB_PORT, DICOM_PORT]) if (await tcpReaches(site.aws.customerGatewayIp, target.address, port)) outside.push(`from the site's public address ${site.aws.customerGatewayIp} to ${target.address}:${port}`);
    await must("ip", ["-n", siteNs, "route", "add", TWIN_VPC_CIDR, "via", t1.outsideAddress, "dev", s.siteDevice, "onlink", "table", "100"]);
    await must("ip", ["-n", siteNs, "rule", "add", "from", lanAddress, "lookup", "100", "priority", "100"]);
    for (const port of [WEB_PORT, DICOM_PORT]) if (await tcpReaches(lanAddress, target.address, port)) outside.push(`in cleartext from ${lanAddress} to ${target.address}:${port}, past the tunnel`);
    await must("ip", ["-n", siteNs, "rule", "del", "priority", "100"]);
    say(outside.length === 0
        ? `outside the tunnel: nothing reaches ${target.address} on ${WEB_PORT} or ${DICOM_PORT} (from the site's public address, nor in cleartext from its LAN)`
        : `outside the tunnel, reached: ${outside.join("; ")}`);
    reasons.push(...outside.map((o) => `reached outside the tunnel: ${o}`));

    if (result.lost > 0) reasons.push(`${result.lost} C-STORE${result.lost === 1 ? "" : "s"} through the tunnel lost`);
    return { summary: [siteToSiteSummary(upSeconds, result.stored, result.lost)], reasons };
}

export const siteToSite: Scenario = {
    name: "site-to-site",
    description: "a site's firewall and the VPC's VPN gateway (strongSwan, configured by the program) bring up IKEv2; C-STOREs over TLS from the site reach the pair through the tunnel, nothing reaches it outside the tunnel",
    deadlineSeconds: 240,
    run,
};

// The site-to-site scenarios' common ground: a namespace for the site's gateway linked to the load balancer's
// namespace (which plays the VPC's VPN gateway and forwards nothing that did not come through a tunnel), the AWS end
// and the site end of the tunnels as the program configures them, and C-STOREs over TLS from the site's LAN.
import * as fs from "fs";
import * as path from "path";
import { contains, ipv4ToString, parseCidr } from "../rules/cidr";
import { DICOM_PORT } from "../rules/ports";
import { SITE_GATEWAY_PATHS, TUNNEL_INTERFACES } from "../rules/siteGateway";
import { insideAddresses } from "../rules/siteToSite";
import { now, runStorescu, sleep, waitFor } from "./clients";
import { newUid, secondaryCapture } from "./dicom";
import { AwsTunnel, childInstalled, renderAwsSwanctlConf, renderStrongswanConf, SiteFromProgram, siteToSiteFromProgram } from "./ipsec";
import { inNs, must, run as runCommand } from "./lab";
import { say, TwinFailure, TwinPair } from "./pair";
import { ScenarioContext } from "./scenario";

/** The VPC block the site stack is given in the twin: the twin's own addresses lie inside it. */
export const TWIN_VPC_CIDR = "10.251.0.0/16";
/** kernel-libipsec's TUN device: in the twin it stands in for the site's XFRM interfaces and AWS's tunnel routing. */
export const LIBIPSEC_DEVICE = "ipsec0";

export type Side = "aws" | "site";

export interface SiteLab {
    readonly site: SiteFromProgram;
    readonly n: string;
    readonly siteNs: string;
    readonly lb: string;
    readonly lanAddress: string;
    readonly t1: AwsTunnel;
    readonly t2: AwsTunnel;
    /** The site's uplink device (its end of the "internet" link). */
    readonly siteDevice: string;
    /** The AWS end's device on that link. */
    readonly awsDevice: string;
    readonly ipsecDir: string;
}

/** The site's namespace and links, the VPC side's forwarding filter, the instances' routes back to the site. */
export async function siteLab(pair: TwinPair, ctx: ScenarioContext, reasons: string[], siteOverrides: Record<string, unknown> = {}): Promise<SiteLab> {
    const { plan, lab } = pair;
    const n = /^otw(\d+)-/.exec(plan.namespaces.lb)?.[1];
    if (!n) throw new TwinFailure(`unexpected namespace name ${plan.namespaces.lb}`);
    const site = await siteToSiteFromProgram(TWIN_VPC_CIDR, siteOverrides);
    const [t1, t2] = site.aws.tunnels;
    say(`from the program (${site.note}): customer gateway ${site.aws.customerGatewayIp}, AWS tunnel ends ${t1.outsideAddress} and ${t2.outsideAddress}, ` +
        `IKE ${t1.ikeVersions.join("/")} ${t1.phase1.encryption.join("/")} ${t1.phase1.integrity.join("/")} DH ${t1.phase1.dhGroups.join("/")}; ` +
        `site ranges ${site.onPremisesCidrs.join(", ")} admitted on ${[...new Set(site.admitted.map((a) => a.port))].join(", ")}`);
    const lanCidr = parseCidr(site.onPremisesCidrs[0])!;
    const lanAddress = ipv4ToString(lanCidr.network + 10);
    const vpc = parseCidr(TWIN_VPC_CIDR)!;
    if (!plan.instances.every((i) => contains(vpc, parseCidr(`${i.address}/32`)!))) throw new TwinFailure(`the instances' twin addresses are not inside ${TWIN_VPC_CIDR}`);

    // The site: its firewall's public address towards the "internet" link, its LAN address on loopback.
    const siteNs = `otw${n}-site`;
    const lb = plan.namespaces.lb;
    const siteDevice = `otw${n}sa`;
    const awsDevice = `otw${n}as`;
    await lab.addNamespace(siteNs);
    await lab.addPointToPoint({ ns: siteNs, dev: siteDevice, address: site.aws.customerGatewayIp }, { ns: lb, dev: awsDevice, address: t1.outsideAddress });
    await must("ip", ["-n", lb, "addr", "add", `${t2.outsideAddress}/32`, "dev", awsDevice]);
    await must("ip", ["-n", siteNs, "route", "add", `${t2.outsideAddress}/32`, "dev", siteDevice]);
    await must("ip", ["-n", siteNs, "addr", "add", `${lanAddress}/32`, "dev", "lo"]);
    // The VPC side: forwards between the tunnels and the instances only (no internet path into the VPC), and only
    // the site's ranges (the instances' security group admits nothing else from the site).
    const [sysctl, sysctlArgs] = inNs(lb, "sysctl", ["-q", "-w", "net.ipv4.ip_forward=1"]);
    await must(sysctl, sysctlArgs);
    await iptables(lb, ["-P", "FORWARD", "DROP"]);
    await forwardThrough(lb, LIBIPSEC_DEVICE, site.onPremisesCidrs);
    for (const instance of plan.instances) {
        const link = plan.links.find((l) => l.a.ns === lb && l.b.ns === instance.ns)!;
        for (const cidr of site.onPremisesCidrs) await must("ip", ["-n", instance.ns, "route", "add", cidr, "via", link.a.address.split("/")[0]]);
    }
    say(`network: ${siteNs} (site firewall ${site.aws.customerGatewayIp}, LAN ${lanAddress}) <-> ${lb} (AWS tunnel ends ${t1.outsideAddress}, ${t2.outsideAddress}); ` +
        `${lb} forwards only to and from the tunnels; instances route ${site.onPremisesCidrs.join(", ")} back through it`);
    for (const port of [443, DICOM_PORT]) {
        const cidrs = site.admitted.filter((a) => a.port === port).map((a) => a.cidr).sort();
        const expected = [...site.onPremisesCidrs].sort();
        if (JSON.stringify(cidrs) !== JSON.stringify(expected)) reasons.push(`port ${port} admits ${cidrs.join(", ") || "nothing"} from the site; expected exactly ${expected.join(", ")}`);
    }
    const ipsecDir = path.join(ctx.dir, "ipsec");
    fs.mkdirSync(ipsecDir, { mode: 0o700 });
    return { site, n, siteNs, lb, lanAddress, t1, t2, siteDevice, awsDevice, ipsecDir };
}

async function iptables(ns: string, rule: string[]): Promise<void> {
    const [c, a] = inNs(ns, "iptables", rule);
    await must(c, a);
}

/** The VPC side forwards the site's ranges between `device` (a tunnel) and the instances. */
export async function forwardThrough(lb: string, device: string, onPremisesCidrs: readonly string[]): Promise<void> {
    for (const cidr of onPremisesCidrs) {
        await iptables(lb, ["-A", "FORWARD", "-i", device, "-s", cidr, "-j", "ACCEPT"]);
        await iptables(lb, ["-A", "FORWARD", "-o", device, "-d", cidr, "-j", "ACCEPT"]);
    }
}

/**
 * kernel-libipsec routes everything into its TUN device (table 220, 0.0.0.0/0 like the selectors) whatever
 * install_routes says; a real gateway's kernel-netlink honours the drop-in's install_routes = no. Here the main
 * table's own routes go first, as they would there: only what the main table routes by default falls through to 220.
 */
async function mainTableFirst(ns: string): Promise<void> {
    await must("ip", ["-n", ns, "rule", "add", "lookup", "main", "suppress_prefixlength", "0", "priority", "200"]);
}

/**
 * The site's two tunnel interfaces as plain links (veth, named as the rendered script names them) to the VPC side,
 * with AWS's inside addresses at the far end: kernel-libipsec has one TUN device for all SAs and no if_id routing,
 * and this kernel refuses the ESP states an XFRM interface needs. The rendered script's `setup` then finds the
 * interfaces, and sets their inside addresses, MTU and MSS clamping; charon's updown calls move the routes.
 */
export async function tunnelLinks(pair: TwinPair, s: SiteLab): Promise<{ site: string; aws: string; insideAws: string; insideSite: string }[]> {
    const links = [];
    for (const [i, iface] of TUNNEL_INTERFACES.entries()) {
        const t = s.site.aws.tunnels[i];
        const inside = insideAddresses(t.insideCidr!);
        const awsDev = `otw${s.n}t${i + 1}`;
        await must("ip", ["-n", s.siteNs, "link", "add", iface.name, "type", "veth", "peer", "name", awsDev, "netns", s.lb]);
        await must("ip", ["-n", s.lb, "addr", "add", `${inside.aws}/${t.insideCidr!.split("/")[1]}`, "dev", awsDev]);
        await must("ip", ["-n", s.lb, "link", "set", awsDev, "up"]);
        // An XFRM interface needs no ARP; a veth does: the VPC side answers for the instances (proxy ARP).
        const [c, a] = inNs(s.lb, "sysctl", ["-q", "-w", `net.ipv4.conf.${awsDev}.proxy_arp=1`]);
        await must(c, a);
        await forwardThrough(s.lb, awsDev, s.site.onPremisesCidrs);
        links.push({ site: iface.name, aws: awsDev, insideAws: inside.aws, insideSite: inside.customer });
    }
    const script = path.join(s.ipsecDir, "orthweb-tunnels");
    fs.writeFileSync(script, s.site.customerTunnelScript, { mode: 0o755 });
    const [c, a] = inNs(s.siteNs, "sh", [script, "setup"]);
    await must(c, a);
    // The site's LAN hosts send from their own addresses; here the LAN is the gateway's namespace itself.
    const [nc, na] = inNs(s.siteNs, "iptables", ["-t", "nat", "-A", "POSTROUTING", "-o", "orthweb-aws+", "-d", TWIN_VPC_CIDR, "-j", "SNAT", "--to-source", s.lanAddress]);
    await must(nc, na);
    return links;
}

const paths = (s: SiteLab, side: Side) => ({
    strongswan: path.join(s.ipsecDir, `${side}.strongswan.conf`),
    dropIn: path.join(s.ipsecDir, `${side}.dropin.conf`),
    swanctl: path.join(s.ipsecDir, `${side}.swanctl.conf`),
    vici: path.join(s.ipsecDir, `${side}.vici`),
});
const nsOf = (s: SiteLab, side: Side) => (side === "aws" ? s.lb : s.siteNs);

/** swanctl against one end's charon. */
export async function swanctl(s: SiteLab, side: Side, args: string[], timeoutMs = 15000): Promise<{ code: number | null; stdout: string }> {
    const p = paths(s, side);
    const [c, a] = inNs(nsOf(s, side), "swanctl", [...args, "--uri", `unix://${p.vici}`]);
    return runCommand(c, a, { env: { ...process.env, STRONGSWAN_CONF: p.strongswan }, timeoutMs });
}

export const listSas = async (s: SiteLab, side: Side) => (await swanctl(s, side, ["--list-sas"], 5000)).stdout;

/**
 * One end's charon, in a mount namespace of its own (/run holds pid files) with its own vici socket. The site end
 * runs the program's swanctl.conf and strongswan.conf drop-in unchanged; the AWS end is rendered from the
 * VpnConnection's tunnel options and, like AWS, routes by its own tables rather than by charon's (install_routes no).
 */
export async function startCharon(pair: TwinPair, s: SiteLab, side: Side): Promise<void> {
    const p = paths(s, side);
    fs.writeFileSync(p.dropIn, side === "site" ? s.site.customerStrongswanConf : "charon {\n    install_routes = no\n}\n");
    fs.writeFileSync(p.strongswan, renderStrongswanConf({ logPath: path.join(pair.files.logs, `charon-${side}.log`), viciSocket: p.vici, include: p.dropIn }));
    fs.writeFileSync(p.swanctl, side === "site" ? s.site.customerSwanctlConf : renderAwsSwanctlConf(s.site.aws), { mode: 0o600 });
    await mainTableFirst(nsOf(s, side));
    // The site's charon finds the rendered tunnel script where swanctl.conf's updown names it (in its own mount namespace).
    const script = path.join(s.ipsecDir, `${side}.updown`);
    fs.writeFileSync(script, s.site.customerTunnelScript, { mode: 0o755 });
    const dir = path.dirname(SITE_GATEWAY_PATHS.tunnelScript);
    const updown = side === "site" ? `mkdir -p ${dir} && mount -t tmpfs tmpfs ${dir} && cp ${script} ${SITE_GATEWAY_PATHS.tunnelScript} && ` : "";
    pair.lab.start(`charon-${side}`, nsOf(s, side), "unshare", ["-m", "sh", "-c", `mount -t tmpfs tmpfs /run && ${updown}exec env STRONGSWAN_CONF=${p.strongswan} /usr/lib/ipsec/charon`]);
    if (!(await waitFor(() => fs.existsSync(p.vici), 15000, 50))) throw new TwinFailure(`charon (${side}) did not open its vici socket (logs: ${pair.files.logs}/charon-${side}.log)`);
    const r = await swanctl(s, side, ["--load-all", "--file", p.swanctl]);
    if (r.code !== 0) throw new TwinFailure(`swanctl --load-all (${side}) failed: ${r.stdout.trim().split("\n").slice(-1)[0]}`);
}

/** Both ends up, the site's charon started last; the seconds from its start until both CHILD_SAs are installed (undefined: not within the bound). */
export async function bothTunnelsUp(pair: TwinPair, s: SiteLab, boundSeconds: number): Promise<number | undefined> {
    await startCharon(pair, s, "aws");
    const startedAt = now();
    await startCharon(pair, s, "site");
    const up = await waitFor(async () => {
        const sas = await listSas(s, "site");
        return childInstalled(sas, "tunnel1-net") && childInstalled(sas, "tunnel2-net");
    }, boundSeconds * 1000, 50);
    return up ? (now() - startedAt) / 1000 : undefined;
}

/**
 * Routes into the ESP tunnels. On a real site gateway the rendered script puts the VPC's block on the XFRM interfaces
 * (tunnel 1 preferred); kernel-libipsec has one TUN device for every SA and picks the SA by policy, so here the VPC's
 * block goes into that device, and so do the site's ranges on the AWS side (a VPC route table's static routes).
 */
export async function routeThroughTunnels(s: SiteLab): Promise<void> {
    await must("ip", ["-n", s.siteNs, "route", "replace", TWIN_VPC_CIDR, "dev", LIBIPSEC_DEVICE, "src", s.lanAddress]);
    for (const cidr of s.site.onPremisesCidrs) await must("ip", ["-n", s.lb, "route", "replace", cidr, "dev", LIBIPSEC_DEVICE]);
}

export interface StoreResult {
    readonly acknowledged: string[];
    readonly stored: number;
    readonly lost: number;
}

/**
 * C-STOREs over TLS from the site's LAN to each instance's own address in turn, each retried `tries` times; while
 * `more()` holds (at least `count`). Stored: acknowledged and in the shared index.
 */
export async function storeFromSite(pair: TwinPair, s: SiteLab, dir: string, o: { count: number; tries: number; more?: () => boolean; label: string }): Promise<StoreResult> {
    const { plan, files } = pair;
    fs.mkdirSync(dir, { recursive: true });
    const studyUid = newUid();
    const seriesUid = newUid();
    const acknowledged: string[] = [];
    let lost = 0;
    for (let k = 0; k < o.count || (o.more?.() ?? false); k++) {
        const instance = plan.instances[k % plan.instances.length];
        const uid = newUid();
        const file = path.join(dir, `${k}.dcm`);
        fs.writeFileSync(file, secondaryCapture({ patientId: `${o.label}-${process.pid}`, studyUid, seriesUid, sopInstanceUid: uid, instanceNumber: k + 1 }));
        let ok = false;
        let detail = "";
        for (let attempt = 1; attempt <= o.tries && !ok; attempt++) {
            ({ ok, detail } = await runStorescu(["ip", "netns", "exec", s.siteNs], { host: instance.address, port: DICOM_PORT, calledAet: pair.aet, caPath: files.cert }, file));
            if (!ok) await sleep(500);
        }
        if (ok) acknowledged.push(uid);
        else {
            lost++;
            say(`  C-STORE to ${instance.name} failed ${o.tries} times: ${detail}`);
        }
    }
    const indexed = await pair.indexedSopUids(0);
    const stored = acknowledged.filter((uid) => indexed.has(uid)).length;
    return { acknowledged, stored, lost: lost + acknowledged.length - stored };
}

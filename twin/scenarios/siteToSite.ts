// site-to-site: a hospital site reaches the pair only through an IPsec tunnel. The load balancer's namespace plays
// the VPC's VPN gateway (strongSwan configured from the tunnel options the program registers for Pulumi.site.yaml)
// and forwards nothing that did not come through the tunnel, as a VPC without an internet path; a new namespace plays
// the site's firewall (strongSwan with the swanctl.conf the program renders) with an address of the on-premises range.
// C-STOREs over TLS from the site reach both instances through the tunnel; nothing from outside it does.
// Summary line: `twin site-to-site: tunnel up in <S>s, <N> stored over IPsec, <L> lost`.
import * as fs from "fs";
import * as path from "path";
import { ipv4ToString, parseCidr, contains } from "../../rules/cidr";
import { DICOM_PORT, WEB_PORT } from "../../rules/ports";
import { now, runStorescu, sleep, waitFor } from "../clients";
import { newUid, secondaryCapture } from "../dicom";
import { childBytes, childInstalled, customerEndOf, renderAwsSwanctlConf, renderStrongswanConf, siteToSiteFromProgram } from "../ipsec";
import { inNs, must, run as runCommand } from "../lab";
import { say, TwinFailure, TwinPair } from "../pair";
import { Measured, Scenario, ScenarioContext } from "../scenario";

/** The VPC block the site stack is given in the twin: the twin's own addresses lie inside it. */
export const TWIN_VPC_CIDR = "10.251.0.0/16";
const TIMING = {
    /** IKE_SA_INIT + IKE_AUTH take about 4 s here; a loaded machine gets generous room. */
    tunnelUpBoundSeconds: 40,
    storesPerInstance: 10,
    triesPerStore: 3,
} as const;

/** `twin site-to-site: tunnel up in <S>s, <N> stored over IPsec, <L> lost` */
export function siteToSiteSummary(upSeconds: number | undefined, stored: number, lost: number): string {
    return `twin site-to-site: tunnel up in ${upSeconds === undefined ? "-" : upSeconds.toFixed(1)}s, ${stored} stored over IPsec, ${lost} lost`;
}

async function run(pair: TwinPair, ctx: ScenarioContext): Promise<Measured> {
    const { plan, lab, files } = pair;
    const reasons: string[] = [];
    const n = /^otw(\d+)-/.exec(plan.namespaces.lb)?.[1];
    if (!n) throw new TwinFailure(`unexpected namespace name ${plan.namespaces.lb}`);

    const site = await siteToSiteFromProgram(TWIN_VPC_CIDR);
    const customer = customerEndOf(site.customerSwanctlConf);
    const [t1, t2] = site.aws.tunnels;
    say(`from the program (${site.note}): customer gateway ${site.aws.customerGatewayIp}, AWS tunnel ends ${t1.outsideAddress} and ${t2.outsideAddress}, ` +
        `IKE ${t1.ikeVersions.join("/")} ${t1.phase1.encryption.join("/")} ${t1.phase1.integrity.join("/")} DH ${t1.phase1.dhGroups.join("/")}; ` +
        `site ranges ${site.onPremisesCidrs.join(", ")} admitted on ${[...new Set(site.admitted.map((a) => a.port))].join(", ")}`);
    if (customer.localAddress !== site.aws.customerGatewayIp) reasons.push(`the rendered swanctl.conf speaks from ${customer.localAddress}, the customer gateway is ${site.aws.customerGatewayIp}`);
    if ([t1, t2].some((t) => !customer.remoteAddresses.includes(t.outsideAddress))) reasons.push(`the rendered swanctl.conf names ${customer.remoteAddresses.join(", ")}, not both AWS tunnel ends`);
    for (const port of [WEB_PORT, DICOM_PORT]) {
        const cidrs = site.admitted.filter((a) => a.port === port).map((a) => a.cidr).sort();
        if (JSON.stringify(cidrs) !== JSON.stringify([...site.onPremisesCidrs].sort())) reasons.push(`port ${port} admits ${cidrs.join(", ") || "nothing"} from the site; expected exactly ${site.onPremisesCidrs.join(", ")}`);
    }
    const lanCidr = parseCidr(site.onPremisesCidrs[0])!;
    const lanAddress = ipv4ToString(lanCidr.network + 10);
    const vpc = parseCidr(TWIN_VPC_CIDR)!;
    if (!plan.instances.every((i) => contains(vpc, parseCidr(`${i.address}/32`)!))) throw new TwinFailure(`the instances' twin addresses are not inside ${TWIN_VPC_CIDR}`);

    // The site: its firewall's public address towards the "internet" link, its LAN address on loopback.
    const siteNs = `otw${n}-site`;
    const lb = plan.namespaces.lb;
    await lab.addNamespace(siteNs);
    await lab.addPointToPoint({ ns: siteNs, dev: `otw${n}sa`, address: site.aws.customerGatewayIp }, { ns: lb, dev: `otw${n}as`, address: t1.outsideAddress });
    await must("ip", ["-n", lb, "addr", "add", `${t2.outsideAddress}/32`, "dev", `otw${n}as`]);
    await must("ip", ["-n", siteNs, "route", "add", `${t2.outsideAddress}/32`, "dev", `otw${n}sa`]);
    await must("ip", ["-n", siteNs, "addr", "add", `${lanAddress}/32`, "dev", "lo"]);
    // The VPC side: forwards between the tunnel and the instances only (no internet path into the VPC).
    const [sysctl, sysctlArgs] = inNs(lb, "sysctl", ["-q", "-w", "net.ipv4.ip_forward=1"]);
    await must(sysctl, sysctlArgs);
    for (const rule of [["-P", "FORWARD", "DROP"], ["-A", "FORWARD", "-i", "ipsec0", "-j", "ACCEPT"], ["-A", "FORWARD", "-o", "ipsec0", "-j", "ACCEPT"]]) {
        const [c, a] = inNs(lb, "iptables", rule);
        await must(c, a);
    }
    for (const instance of plan.instances) {
        const link = plan.links.find((l) => l.a.ns === lb && l.b.ns === instance.ns)!;
        for (const cidr of site.onPremisesCidrs) await must("ip", ["-n", instance.ns, "route", "add", cidr, "via", link.a.address.split("/")[0]]);
    }
    say(`network: ${siteNs} (site firewall ${site.aws.customerGatewayIp}, LAN ${lanAddress}) <-> ${lb} (AWS tunnel ends ${t1.outsideAddress}, ${t2.outsideAddress}); ` +
        `${lb} forwards only to and from the tunnel; instances route ${site.onPremisesCidrs.join(", ")} back through it`);

    // Two charons: each in a mount namespace of its own (/run holds pid files), each with its own vici socket.
    const ipsecDir = path.join(ctx.dir, "ipsec");
    fs.mkdirSync(ipsecDir, { mode: 0o700 });
    const ends = {
        aws: { ns: lb, swanctl: renderAwsSwanctlConf(site.aws) },
        site: { ns: siteNs, swanctl: site.customerSwanctlConf },
    };
    const paths = (side: string) => ({
        strongswan: path.join(ipsecDir, `${side}.strongswan.conf`),
        swanctl: path.join(ipsecDir, `${side}.swanctl.conf`),
        vici: path.join(ipsecDir, `${side}.vici`),
    });
    const listSas = async (side: "aws" | "site") => {
        const p = paths(side);
        const [c, a] = inNs(ends[side].ns, "swanctl", ["--list-sas", "--uri", `unix://${p.vici}`]);
        return (await runCommand(c, a, { env: { ...process.env, STRONGSWAN_CONF: p.strongswan }, timeoutMs: 5000 })).stdout;
    };
    const load = async (side: "aws" | "site") => {
        const p = paths(side);
        const [c, a] = inNs(ends[side].ns, "swanctl", ["--load-all", "--uri", `unix://${p.vici}`, "--file", p.swanctl]);
        await must(c, a, { env: { ...process.env, STRONGSWAN_CONF: p.strongswan }, timeoutMs: 15000 });
    };
    const startCharon = async (side: "aws" | "site") => {
        const p = paths(side);
        fs.writeFileSync(p.strongswan, renderStrongswanConf({ logPath: path.join(files.logs, `charon-${side}.log`), viciSocket: p.vici }));
        fs.writeFileSync(p.swanctl, ends[side].swanctl, { mode: 0o600 });
        lab.start(`charon-${side}`, ends[side].ns, "unshare", ["-m", "sh", "-c", `mount -t tmpfs tmpfs /run && exec env STRONGSWAN_CONF=${p.strongswan} /usr/lib/ipsec/charon`]);
        if (!(await waitFor(() => fs.existsSync(p.vici), 15000, 50))) throw new TwinFailure(`charon (${side}) did not open its vici socket (logs: ${files.logs}/charon-${side}.log)`);
        await load(side);
    };
    await startCharon("aws");
    say("AWS end: swanctl.conf rendered from the VpnConnection's tunnel options (IKE versions, algorithms, lifetimes, keys), responder only (startup action add)");
    // Measured as a site sees it after its gateway (re)starts: daemon start, configuration load, IKE_SA_INIT + IKE_AUTH.
    const startedAt = now();
    await startCharon("site");
    say("site end: the program's swanctl.conf (siteToSiteVpn.swanctlConf), loaded; it initiates tunnel 1");
    const up = await waitFor(async () => childInstalled(await listSas("site"), "tunnel1-net"), TIMING.tunnelUpBoundSeconds * 1000, 50);
    const upSeconds = up ? (now() - startedAt) / 1000 : undefined;
    if (!up) {
        reasons.push(`tunnel 1 not up within ${TIMING.tunnelUpBoundSeconds}s (logs: ${files.logs}/charon-*.log)`);
        return { summary: [siteToSiteSummary(undefined, 0, 0)], reasons };
    }
    const sas = await listSas("site");
    say(`tunnel 1 up ${upSeconds!.toFixed(1)}s after the site's gateway started (charon, configuration, IKE): ${(/^\s+(AES\S*\/\S+)$/m.exec(sas)?.[1] ?? "?").trim()}`);

    // C-STOREs over TLS from the site's LAN to each instance's own address, through the tunnel.
    const storeDir = path.join(ctx.dir, "stores");
    fs.mkdirSync(storeDir);
    const studyUid = newUid();
    const seriesUid = newUid();
    const acknowledged: string[] = [];
    let lost = 0;
    const before = childBytes(sas);
    for (let k = 0; k < TIMING.storesPerInstance * plan.instances.length; k++) {
        const instance = plan.instances[k % plan.instances.length];
        const uid = newUid();
        const file = path.join(storeDir, `${k}.dcm`);
        fs.writeFileSync(file, secondaryCapture({ patientId: `SITE-${process.pid}`, studyUid, seriesUid, sopInstanceUid: uid, instanceNumber: k + 1 }));
        let ok = false;
        let detail = "";
        for (let attempt = 1; attempt <= TIMING.triesPerStore && !ok; attempt++) {
            ({ ok, detail } = await runStorescu(["ip", "netns", "exec", siteNs], { host: instance.address, port: DICOM_PORT, calledAet: pair.aet, caPath: files.cert }, file));
            if (!ok) await sleep(500);
        }
        if (ok) acknowledged.push(uid);
        else {
            lost++;
            say(`  C-STORE to ${instance.name} failed ${TIMING.triesPerStore} times: ${detail}`);
        }
    }
    const after = childBytes(await listSas("site"));
    const indexed = await pair.indexedSopUids(0);
    const stored = acknowledged.filter((uid) => indexed.has(uid)).length;
    lost += acknowledged.length - stored;
    say(`C-STORE over TLS from ${lanAddress} to ${plan.instances.map((i) => `${i.address}:${DICOM_PORT}`).join(" and ")}: ${acknowledged.length} acknowledged, ${stored} in the shared index; ` +
        `tunnel 1 carried ${after.out - before.out} bytes out and ${after.in - before.in} in`);
    if (after.out - before.out <= 0 || after.in - before.in <= 0) reasons.push("the C-STOREs did not go through the tunnel's ESP SA (its byte counters did not move)");

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
    await must("ip", ["-n", siteNs, "route", "add", TWIN_VPC_CIDR, "via", t1.outsideAddress, "dev", `otw${n}sa`, "onlink", "table", "100"]);
    await must("ip", ["-n", siteNs, "rule", "add", "from", lanAddress, "lookup", "100", "priority", "100"]);
    for (const port of [WEB_PORT, DICOM_PORT]) if (await tcpReaches(lanAddress, target.address, port)) outside.push(`in cleartext from ${lanAddress} to ${target.address}:${port}, past the tunnel`);
    await must("ip", ["-n", siteNs, "rule", "del", "priority", "100"]);
    say(outside.length === 0
        ? `outside the tunnel: nothing reaches ${target.address} on ${WEB_PORT} or ${DICOM_PORT} (from the site's public address, nor in cleartext from its LAN)`
        : `outside the tunnel, reached: ${outside.join("; ")}`);
    reasons.push(...outside.map((o) => `reached outside the tunnel: ${o}`));

    // The standby tunnel works too: its own address and key.
    const [ic, ia] = inNs(siteNs, "swanctl", ["--initiate", "--child", "tunnel2-net", "--ike", "tunnel2", "--timeout", "30", "--uri", `unix://${paths("site").vici}`]);
    const second = await runCommand(ic, ia, { env: { ...process.env, STRONGSWAN_CONF: paths("site").strongswan }, timeoutMs: 40000 });
    const tunnel2Up = childInstalled(await listSas("site"), "tunnel2-net");
    say(`tunnel 2 (standby) ${tunnel2Up ? "established too" : `did NOT come up: ${second.stdout.trim().split("\n").slice(-1)[0] ?? ""}`}`);
    if (!tunnel2Up) reasons.push("tunnel 2 did not come up with its own address and key");

    if (lost > 0) reasons.push(`${lost} C-STORE${lost === 1 ? "" : "s"} through the tunnel lost`);
    return { summary: [siteToSiteSummary(upSeconds, stored, lost)], reasons };
}

export const siteToSite: Scenario = {
    name: "site-to-site",
    description: "a site's firewall and the VPC's VPN gateway (strongSwan, configured by the program) bring up IKEv2; C-STOREs over TLS from the site reach the pair through the tunnel, nothing reaches it outside the tunnel",
    deadlineSeconds: 240,
    run,
};

// What the scenarios on a slot's reserved address share (replace, bad-upgrade): slot 1's address with the VPC
// stand-in around the first instance, its first holder, and a site's modality that stores to that address.
import * as path from "path";
import { DicomClient } from "./clients";
import { say, TwinFailure, TwinPair } from "./pair";
import { ScenarioContext } from "./scenario";
import { SlotNetwork } from "./slotNetwork";

/** Slot 1's reserved address (outside every link of the twin's /24) and the VPC stand-in that delivers it. */
export function firstSlot(pair: TwinPair, ctx: ScenarioContext): { slot: SlotNetwork; address: string } {
    const { plan } = pair;
    const [first] = plan.instances;
    const link = plan.links.find((l) => l.a.ns === plan.namespaces.lb && l.b.ns === first.ns);
    if (!link) throw new TwinFailure(`no link between ${plan.namespaces.lb} and ${first.ns}`);
    const claimScript = pair.program.bootstrap.claimScript;
    if (claimScript === undefined) throw new TwinFailure("the program's config bundle holds no claim.sh: nothing keeps a slot's address");
    const base = plan.subnet.replace(/\.0\/24$/, "");
    const address = `${base}.100`;
    const slot = new SlotNetwork({
        dir: path.join(ctx.dir, "slot"),
        lbNamespace: plan.namespaces.lb,
        instance: { ns: first.ns, dev: link.b.dev, address: first.address },
        address,
        subnet: `${base}.96/27`,
        claimScript,
    });
    return { slot, address };
}

/** The slot's first instance takes the address on its first apply (the program's claim.sh --healthy). */
export async function firstHolder(pair: TwinPair, slot: SlotNetwork, address: string, instanceId: string): Promise<void> {
    const [first] = pair.plan.instances;
    slot.launch(instanceId);
    const took = await slot.claim(instanceId, "--healthy");
    if (took.code !== 0 || slot.holder() !== instanceId || !(await slot.configured())) {
        throw new TwinFailure(`claim.sh did not give ${first.name} the slot address ${address}: exit ${took.code}, holder ${slot.holder()}: ${took.stderr.trim()}`);
    }
    say(`slot address ${address}: claim.sh (the program's, from the config bundle, unchanged) took it for ${first.name} (${instanceId}) and configured it in ${first.ns}; the VPC stand-in routes it there`);
}

/** A site's modality storing to the slot's address from the load balancer's side, retrying as a modality's queue does; started. */
export function slotModality(pair: TwinPair, ctx: ScenarioContext, address: string): DicomClient {
    const { plan } = pair;
    const client = pair.dicomClient(path.join(ctx.dir, "modality"), {
        namespace: plan.namespaces.lb,
        target: { host: address, port: pair.dicomTargetGroup.port, calledAet: pair.aet, caPath: pair.files.cert },
        maxTries: 400,
    });
    ctx.onAbort(() => client.abort());
    client.start();
    say(`modality: C-STORE over TLS to the slot address ${address}:${pair.dicomTargetGroup.port} from the site's side (${plan.namespaces.lb}) every 250 ms, retrying`);
    return client;
}

// The twin's stand-in for what EC2 and the VPC do with a slot's reserved private address, so that the program's own
// claim.sh (out of the plan's config bundle, unchanged) can run for real inside an instance's namespace: an AWS CLI that answers from a small state directory and,
// when an address is assigned to an interface, moves the route to it in the load balancer's namespace (the VPC
// delivering the address to its new holder); and an instance metadata service that answers for the instance the
// scenario says is running there. claim.sh itself, bash, ip(8) and the routing are real.
import * as fs from "fs";
import * as path from "path";
import { inNs, must, run, RunResult } from "./lab";

const AWS_STUB = `#!/bin/bash
# The twin's EC2 API for one slot address. State: $SLOT_STATE/{address,holder,state-<id>,via-<id>}.
set -euo pipefail
S=$SLOT_STATE
arg() { local want=$1; shift; while [ $# -gt 0 ]; do if [ "$1" = "$want" ]; then echo "$2"; return; fi; shift; done; }
case "$1 $2" in
    "ec2 describe-tags") cat "$S/address" ;;
    "ec2 describe-network-interfaces") cat "$S/holder" ;;
    "ec2 describe-instances") id=$(arg --instance-ids "$@"); cat "$S/state-$id" 2>/dev/null || echo terminated ;;
    "ec2 assign-private-ip-addresses")
        id=$(arg --network-interface-id "$@"); id=\${id#eni-}
        ip netns exec "$LB_NS" ip route replace "$(cat "$S/address")/32" via "$(cat "$S/via-$id")"
        echo "$id" >"$S/holder" ;;
    *) echo "twin EC2 stand-in: unexpected call: $*" >&2; exit 1 ;;
esac
`;

const CURL_STUB = `#!/bin/bash
# The twin's instance metadata service for the instance the scenario runs claim.sh as.
case "$*" in
    *api/token*) echo token ;;
    *meta-data/instance-id) echo "$SLOT_INSTANCE" ;;
    *meta-data/mac) echo "$SLOT_MAC" ;;
    *subnet-ipv4-cidr-block) echo "$SLOT_SUBNET" ;;
    *interface-id) echo "eni-$SLOT_INSTANCE" ;;
    *) exit 22 ;;
esac
`;

export interface SlotNetworkOptions {
    readonly dir: string;
    /** The load balancer's namespace: where the site's clients are, and where the VPC's route to the address lives. */
    readonly lbNamespace: string;
    /** The slot's instance namespace, its device towards the load balancer, and its address there (the route's next hop). */
    readonly instance: { readonly ns: string; readonly dev: string; readonly address: string };
    /** The slot's reserved address, and the block the instance's metadata names as its subnet (it holds the address). */
    readonly address: string;
    readonly subnet: string;
    /** The program's claim.sh, as the config bundle carries it. */
    readonly claimScript: string;
}

export class SlotNetwork {
    private readonly state: string;
    private readonly bin: string;
    private readonly script: string;

    constructor(private readonly o: SlotNetworkOptions) {
        this.state = path.join(o.dir, "vpc");
        this.bin = path.join(o.dir, "bin");
        fs.mkdirSync(this.state, { recursive: true });
        fs.mkdirSync(this.bin, { recursive: true });
        fs.writeFileSync(path.join(this.bin, "aws"), AWS_STUB, { mode: 0o755 });
        fs.writeFileSync(path.join(this.bin, "curl"), CURL_STUB, { mode: 0o755 });
        this.script = path.join(o.dir, "claim.sh");
        fs.writeFileSync(this.script, o.claimScript, { mode: 0o700 });
        fs.writeFileSync(path.join(this.state, "address"), `${o.address}\n`);
        fs.writeFileSync(path.join(this.state, "holder"), "None\n");
    }

    /** EC2 starts an instance in the slot's namespace (a launch by the slot's group). */
    launch(instanceId: string): void {
        fs.writeFileSync(path.join(this.state, `state-${instanceId}`), "running\n");
        fs.writeFileSync(path.join(this.state, `via-${instanceId}`), `${this.o.instance.address}\n`);
    }

    /**
     * EC2 terminates an instance: its interface is deleted, so the address has no holder and the VPC no longer
     * delivers it; the machine and whatever it had configured are gone.
     */
    async terminate(instanceId: string): Promise<void> {
        fs.writeFileSync(path.join(this.state, `state-${instanceId}`), "terminated\n");
        if (this.holder() !== instanceId) return;
        fs.writeFileSync(path.join(this.state, "holder"), "None\n");
        await run(...inNs(this.o.lbNamespace, "ip", ["route", "del", `${this.o.address}/32`]));
        // Instances of one slot share the twin's namespace: only the holder's copy of the address goes with it.
        await run(...inNs(this.o.instance.ns, "ip", ["address", "flush", "dev", this.o.instance.dev, "to", `${this.o.address}/32`]));
    }

    /** The instance EC2 says holds the address ("None" when nobody does). */
    holder(): string {
        return fs.readFileSync(path.join(this.state, "holder"), "utf8").trim();
    }

    /** Runs the program's claim.sh as `instanceId` in the slot's namespace (as its timer does, or with --healthy). */
    async claim(instanceId: string, ...args: string[]): Promise<RunResult> {
        const mac = (await must(...inNs(this.o.instance.ns, "cat", [`/sys/class/net/${this.o.instance.dev}/address`]))).trim();
        const env = [`PATH=${this.bin}:${process.env.PATH}`, `SLOT_STATE=${this.state}`, `LB_NS=${this.o.lbNamespace}`, `SLOT_INSTANCE=${instanceId}`, `SLOT_MAC=${mac}`, `SLOT_SUBNET=${this.o.subnet}`];
        return run(...inNs(this.o.instance.ns, "env", [...env, "bash", this.script, ...args]), { timeoutMs: 20000 });
    }

    /** Whether the address is configured on the slot's instance (what claim.sh does besides asking EC2). */
    async configured(): Promise<boolean> {
        const r = await run(...inNs(this.o.instance.ns, "ip", ["-4", "-o", "address", "show", "dev", this.o.instance.dev]));
        return r.stdout.includes(` ${this.o.address}/`);
    }
}

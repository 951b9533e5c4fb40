// claim.sh for real (bash), against stand-ins for the AWS CLI, the instance metadata service and ip(8) that answer
// as AWS would and record every call: who takes the slot's address, and when it must not.
import { expect } from "chai";
import { renderClaimScript } from "../../components/bootstrap/claimScript";
import { SLOT_TAGS } from "../../rules/rollout";
import { metadataStub, StubShell } from "../stubShell";

const STUBS: Record<string, string> = {
    // The metadata service: this instance is i-new, its interface eni-new, in 10.0.128.0/18.
    curl: metadataStub({ "instance-id": "i-new", mac: "0a:00:00:00:00:01", "*subnet-ipv4-cidr-block": "10.0.128.0/18", "*interface-id": "eni-new" }),
    // The AWS CLI: the slot's address and its holder come from the environment; changes are recorded.
    aws: `#!/bin/bash
echo "aws $*" >>"$CALLS"
if [ -n "$AWS_FAIL" ]; then echo "Could not connect to the endpoint URL" >&2; exit 255; fi
case "$2" in
    describe-tags) echo "$ADDRESS" ;;
    describe-addresses | describe-network-interfaces) echo "$HOLDER" ;;
    describe-instances) echo "$HOLDER_STATE" ;;
    associate-address | assign-private-ip-addresses) ;;
    *) echo "unexpected aws call: $*" >&2; exit 1 ;;
esac
`,
    ip: `#!/bin/bash
case "$*" in
    "-o link") echo "1: lo: <LOOPBACK,UP,LOWER_UP> mtu 65536 link/loopback 00:00:00:00:00:00 brd 00:00:00:00:00:00"
        if [ -n "$VETH" ]; then echo "7: ens5@if8: <BROADCAST,MULTICAST,UP> mtu 1500 link/ether 0a:00:00:00:00:01 brd ff:ff:ff:ff:ff:ff link-netns lb"
        else echo "2: ens5: <BROADCAST,MULTICAST,UP> mtu 9001 qdisc mq state UP link/ether 0a:00:00:00:00:01 brd ff:ff:ff:ff:ff:ff"; fi ;;
    "-4 -o address show dev ens5") echo "2: ens5    inet 10.0.130.7/18 brd 10.0.191.255 scope global dynamic ens5" ; [ -n "$LOCAL" ] && echo "2: ens5    inet $LOCAL/18 scope global secondary ens5" ;;
    "address replace"*) echo "ip $*" >>"$CALLS" ;;
    # What Amazon Linux's network scripts make of an add racing them: the address is there by now.
    "address add"*) echo "RTNETLINK answers: File exists" >&2; exit 2 ;;
    *) echo "unexpected ip call: $*" >&2; exit 1 ;;
esac
`,
};

describe("claim.sh keeps the slot's address on the slot's instance (real bash, stand-in AWS)", function () {
    this.timeout(20000);
    let shell: StubShell;
    let script: string;

    before(() => {
        shell = new StubShell("claim", STUBS);
        script = shell.script("claim.sh", renderClaimScript({ region: "eu-west-1" }));
    });

    after(() => shell.remove());

    /** Runs claim.sh once; returns the changing calls it made (describe-* calls left out) and its exit status. */
    function claim(env: { ADDRESS: string; HOLDER: string; HOLDER_STATE?: string; LOCAL?: string; AWS_FAIL?: string; VETH?: string }, ...args: string[]) {
        const r = shell.run(script, args, { HOLDER_STATE: "", LOCAL: "", AWS_FAIL: "", VETH: "", ...env });
        return { ...r, all: r.calls, calls: r.calls.filter((c) => !/ describe-/.test(c)) };
    }

    it("reads the address from the instance's own tag", () => {
        const r = claim({ ADDRESS: "eipalloc-1", HOLDER: "i-new" });
        expect(r.status, r.stderr).to.equal(0);
        expect(r.all.join("\n")).to.include(`Name=resource-id,Values=i-new Name=key,Values=${SLOT_TAGS.address}`);
    });

    it("takes an Elastic IP whose holder was terminated (a replacement), on the timer", () => {
        const r = claim({ ADDRESS: "eipalloc-1", HOLDER: "i-old", HOLDER_STATE: "terminated" });
        expect(r.status, r.stderr).to.equal(0);
        expect(r.calls).to.deep.equal(["aws ec2 associate-address --region eu-west-1 --allocation-id eipalloc-1 --instance-id i-new --allow-reassociation"]);
    });

    it("takes an Elastic IP that nobody holds", () => {
        expect(claim({ ADDRESS: "eipalloc-1", HOLDER: "None" }).calls).to.have.length(1);
    });

    it("never takes it from a running instance on the timer: a new instance still starting does not steal from a serving one", () => {
        const r = claim({ ADDRESS: "eipalloc-1", HOLDER: "i-old", HOLDER_STATE: "running" });
        expect(r.status, r.stderr).to.equal(0);
        expect(r.calls).to.deep.equal([]);
    });

    it("takes it from a running instance once healthy (the apply script, during a refresh)", () => {
        const r = claim({ ADDRESS: "eipalloc-1", HOLDER: "i-old", HOLDER_STATE: "running" }, "--healthy");
        expect(r.calls).to.deep.equal(["aws ec2 associate-address --region eu-west-1 --allocation-id eipalloc-1 --instance-id i-new --allow-reassociation"]);
    });

    it("does nothing when it already holds the address", () => {
        expect(claim({ ADDRESS: "eipalloc-1", HOLDER: "i-new" }, "--healthy").calls).to.deep.equal([]);
    });

    it("moves a reserved private address to its own interface and configures it there", () => {
        const r = claim({ ADDRESS: "10.0.128.16", HOLDER: "None" });
        expect(r.status, r.stderr).to.equal(0);
        expect(r.calls).to.deep.equal([
            "aws ec2 assign-private-ip-addresses --region eu-west-1 --network-interface-id eni-new --private-ip-addresses 10.0.128.16 --allow-reassignment",
            "ip address replace 10.0.128.16/18 dev ens5",
        ]);
    });

    it("finds its interface by MAC address whatever ip(8) appends to the name (a veth's @ifN, as in the local twin)", () => {
        expect(claim({ ADDRESS: "10.0.128.16", HOLDER: "i-new", VETH: "1" }).calls).to.deep.equal(["ip address replace 10.0.128.16/18 dev ens5"]);
    });

    it("configures a private address it already holds but the OS lost (a reboot), and leaves one that is there", () => {
        expect(claim({ ADDRESS: "10.0.128.16", HOLDER: "i-new" }).calls).to.deep.equal(["ip address replace 10.0.128.16/18 dev ens5"]);
        expect(claim({ ADDRESS: "10.0.128.16", HOLDER: "i-new", LOCAL: "10.0.128.16" }).calls).to.deep.equal([]);
    });

    it("holds nothing on an instance without the tag (launched by hand)", () => {
        const r = claim({ ADDRESS: "None", HOLDER: "i-old" });
        expect(r.status).to.equal(0);
        expect(r.calls).to.deep.equal([]);
        expect(r.stderr).to.match(/holds no slot address/);
    });

    it("fails (and changes nothing) when AWS cannot be asked: the timer tries again", () => {
        const r = claim({ ADDRESS: "eipalloc-1", HOLDER: "i-old", HOLDER_STATE: "terminated", AWS_FAIL: "1" });
        expect(r.status).to.equal(255);
        expect(r.calls).to.deep.equal([]);
    });
});

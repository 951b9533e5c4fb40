// The JMESPath queries the instance scripts give the AWS CLI, evaluated (jmespath.js, the reference implementation
// the CLI's Python one shares its compliance tests with) against responses shaped as the EC2 and Auto Scaling APIs
// return them: each query picks what the script means it to pick.
import { expect } from "chai";
import { search } from "jmespath";
import { renderApplyScript } from "../components/bootstrap/apply";
import { renderClaimScript } from "../components/bootstrap/claimScript";
import { renderPeerScript } from "../components/bootstrap/peerScript";

/** Every --query of a rendered script, its shell variables replaced by `vars` (the script's own values at run time). */
function queries(script: string, vars: Record<string, string>): string[] {
    return [...script.matchAll(/--query (?:"([^"]*)"|'([^']*)')/g)].map((m) => (m[1] ?? m[2]).replace(/\$(\w+)/g, (_, name: string) => vars[name] ?? `$${name}`));
}

/** The one query of `script` that contains `marker`. */
function query(script: string, marker: string, vars: Record<string, string> = {}): string {
    const found = queries(script, vars).filter((q) => q.includes(marker));
    expect(found, marker).to.have.length(1);
    return found[0];
}

const tags = (slot?: string) => (slot ? [{ Key: "Name", Value: slot }, { Key: "orthweb:slot", Value: slot }] : [{ Key: "Name", Value: "by hand" }]);

describe("the AWS CLI queries of the instance scripts pick what they mean to", () => {
    const apply = renderApplyScript({ region: "eu-west-1", bucket: "b", bundleKey: `config/${"a".repeat(64)}.json`, tagFilters: { project: "p", stack: "s" } });

    it("peer.sh: a running instance of the other slot, never one of its own slot (a refresh's new instance), nor itself", () => {
        const q = query(renderPeerScript({ region: "eu-west-1", dir: "/opt/orthweb" }), "PrivateIpAddress", { self: "i-1old", slot: "orthanc-1" });
        const response = {
            Reservations: [
                { Instances: [{ InstanceId: "i-1old", PrivateIpAddress: "10.0.128.20", Tags: tags("orthanc-1") }] },
                { Instances: [{ InstanceId: "i-1new", PrivateIpAddress: "10.0.128.5", Tags: tags("orthanc-1") }] },
                { Instances: [{ InstanceId: "i-2", PrivateIpAddress: "10.0.192.30", Tags: tags("orthanc-2") }, { InstanceId: "i-x", PrivateIpAddress: "10.0.192.9", Tags: tags() }] },
            ],
        };
        // --output text prints the nested lists as words; peer.sh takes the lowest address of them.
        expect(flat(search(response, q))).to.deep.equal(["10.0.192.30", "10.0.192.9"]);
        // An instance without a slot (tags of a hand-made one) sees both slots' instances.
        const manual = query(renderPeerScript({ region: "eu-west-1", dir: "/opt/orthweb" }), "PrivateIpAddress", { self: "i-x", slot: "None" });
        expect(flat(search(response, manual))).to.deep.equal(["10.0.128.20", "10.0.128.5", "10.0.192.30"]);
    });

    it("apply.sh: its own group and launch template version, and the group's", () => {
        const mine = query(apply, "LaunchTemplate.Version]");
        expect(search({ AutoScalingInstances: [{ InstanceId: "i-1", AutoScalingGroupName: "orthanc-1-abc", LifecycleState: "InService", LaunchTemplate: { LaunchTemplateId: "lt-1", Version: "3" } }] }, mine)).to.deep.equal(["orthanc-1-abc", "3"]);
        // Not in a group (launched by hand): text output prints None, which the script reads as no group.
        expect(search({ AutoScalingInstances: [] }, mine)).to.equal(null);
        const groups = { AutoScalingGroups: [{ AutoScalingGroupName: "orthanc-1-abc", LaunchTemplate: { LaunchTemplateId: "lt-1", Version: "4" }, Instances: [
            { InstanceId: "i-1", LifecycleState: "InService" },
            { InstanceId: "i-1new", LifecycleState: "Pending:Wait" },
        ] }] };
        expect(search(groups, query(apply, "AutoScalingGroups[0].LaunchTemplate.Version"))).to.equal("4");
        const successors = query(apply, "length(", { INSTANCE_ID: "i-1" });
        expect(search(groups, successors)).to.equal(0);
        groups.AutoScalingGroups[0].Instances[1].LifecycleState = "InService";
        expect(search(groups, successors)).to.equal(1);
    });

    it("apply.sh: the successors waiting in the launch hook, its own lifecycle state, the group's latest refresh", () => {
        const groups = { AutoScalingGroups: [{ AutoScalingGroupName: "orthanc-1-abc", Instances: [
            { InstanceId: "i-1", LifecycleState: "InService" },
            { InstanceId: "i-1new", LifecycleState: "Pending:Wait" },
            { InstanceId: "i-1gone", LifecycleState: "Terminating" },
        ] }] };
        expect(search(groups, query(apply, "Pending:Wait", { INSTANCE_ID: "i-1" }))).to.deep.equal(["i-1new"]);
        // The instance itself waiting in the hook is not its own successor.
        expect(search(groups, query(apply, "Pending:Wait", { INSTANCE_ID: "i-1new" }))).to.deep.equal([]);
        expect(search({ AutoScalingInstances: [{ LifecycleState: "Pending:Wait" }] }, query(apply, "AutoScalingInstances[0].LifecycleState"))).to.equal("Pending:Wait");
        const refresh = query(apply, "InstanceRefreshes[0]");
        // DescribeInstanceRefreshes lists the newest first.
        expect(search({ InstanceRefreshes: [{ Status: "Cancelled", StatusReason: "Cancelled by a call" }, { Status: "Successful" }] }, refresh)).to.deep.equal(["Cancelled", "Cancelled by a call"]);
        // A group that never had one: text output prints None, which the script reads as "none running".
        expect(search({ InstanceRefreshes: [] }, refresh)).to.equal(null);
    });

    it("apply.sh: the lifecycle state that says a new instance waits in the launch hook, and the group's target groups", () => {
        const state = query(apply, "LifecycleState]");
        expect(search({ AutoScalingInstances: [{ AutoScalingGroupName: "g", LifecycleState: "Pending:Wait" }] }, state)).to.deep.equal(["g", "Pending:Wait"]);
        const sources = query(apply, "TrafficSources");
        expect(search({ TrafficSources: [{ TrafficSource: "arn:tg1", Identifier: "arn:tg1", Type: "elbv2" }, { Identifier: "arn:tg2", Type: "elbv2" }] }, sources)).to.deep.equal(["arn:tg1", "arn:tg2"]);
    });

    it("claim.sh: the slot's address from the tag, and who holds it (an Elastic IP, or a private address on an interface)", () => {
        const claim = renderClaimScript({ region: "eu-west-1" });
        expect(search({ Tags: [{ Key: "orthweb:address", ResourceId: "i-1", Value: "eipalloc-1" }] }, query(claim, "Tags[0]"))).to.equal("eipalloc-1");
        expect(search({ Tags: [] }, query(claim, "Tags[0]"))).to.equal(null);
        expect(search({ Addresses: [{ AllocationId: "eipalloc-1", InstanceId: "i-old" }] }, query(claim, "Addresses[0]"))).to.equal("i-old");
        expect(search({ Addresses: [{ AllocationId: "eipalloc-1" }] }, query(claim, "Addresses[0]"))).to.equal(null);
        expect(search({ NetworkInterfaces: [{ NetworkInterfaceId: "eni-1", Attachment: { InstanceId: "i-old" } }] }, query(claim, "NetworkInterfaces[0]"))).to.equal("i-old");
        expect(search({ Reservations: [{ Instances: [{ InstanceId: "i-old", State: { Name: "terminated" } }] }] }, query(claim, "State.Name"))).to.equal("terminated");
    });
});

function flat(value: unknown): unknown[] {
    return Array.isArray(value) ? value.flatMap(flat) : value === null || value === undefined ? [] : [value];
}

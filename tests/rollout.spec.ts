// Rolling changes: the config bundle, the chained SSM associations (one instance at a time, for every pattern),
// self-healing options, and the teardown options of the key and the final snapshot.
import { expect } from "chai";
import * as fs from "fs";
import * as path from "path";
import { renderBootstrapFiles } from "../components/bootstrap";
import { APPLY_DOCUMENT_PARAMETERS, renderApplyDocument, renderApplyScript } from "../components/bootstrap/apply";
import { instanceRevision, recoveryOptions, rolloutPolicy } from "../components/pair/instances";
import { keyTeardown } from "../components/pair/dataStore";
import { bundleKey, finalSnapshotIdentifier, FIRST_BOOT_SECONDS, parseBundle, renderBundle, rolloutChanges, ROLLOUT_TIMING, SLOT_GROUP, SLOT_TAGS, slotAddress } from "../rules/rollout";
import { SAMPLE } from "./fixtures";
import { awsCliCalls } from "../rules/awsCliCalls";
import { Registration } from "../plan/mockRuntime";
import { build, Built, PROD_NETWORK, REGION, TYPES, withConfig } from "./harness";

const PATTERNS: Record<string, Record<string, unknown>> = {
    direct: withConfig({}),
    dns: withConfig({ "orthweb:traffic": { frontDoor: "dns", dns: { zoneName: "example.org", recordName: "pacs" } } }),
    loadBalancer: withConfig({ "orthweb:traffic": { frontDoor: "loadBalancer", loadBalancer: { type: "network" } } }),
    none: withConfig({ "orthweb:traffic": { frontDoor: "none", clientVpn: { clients: ["reading-room-1"] } } }),
};

const deps = (r: Registration) => r.options?.dependencies ?? [];
/** Everything a resource waits for, directly or through others, as `<type>::<name>`. */
const transitiveDependencies = (b: Built) => (type: string, name: string): string[] => {
    const byKey = new Map(b.registrations.map((r) => [`${r.type}::${r.name}`, r]));
    const seen = new Set<string>();
    const todo = [...deps(b.one(type, name))];
    while (todo.length > 0) {
        const key = todo.pop()!;
        if (seen.has(key)) continue;
        seen.add(key);
        const r = byKey.get(key);
        if (r) todo.push(...deps(r));
    }
    return [...seen];
};
const ofName = (b: Built, type: string, name: string) => b.one(type, name);

describe("rollout: the config bundle", () => {
    it("carries exactly the files renderBootstrapFiles() renders, and reads back the same", () => {
        const files = renderBootstrapFiles(SAMPLE);
        expect(parseBundle(renderBundle(files))).to.deep.equal(files);
    });

    it("is named by its content: the same files give the same key, any change a new one", () => {
        const a = renderBundle(renderBootstrapFiles(SAMPLE));
        const b = renderBundle(renderBootstrapFiles({ ...SAMPLE, orthancImage: "orthancteam/orthanc:99.1.1" }));
        expect(bundleKey(a)).to.equal(bundleKey(renderBundle(renderBootstrapFiles(SAMPLE))));
        expect(bundleKey(a)).to.match(/^config\/[a-f0-9]{64}\.json$/).and.not.equal(bundleKey(b));
        expect(bundleKey(a)).to.match(new RegExp(APPLY_DOCUMENT_PARAMETERS.bundleKey.allowedPattern));
    });

    it("rejects what is not a bundle, naming the entry", () => {
        expect(() => parseBundle("{}")).to.throw(/not an orthweb config bundle/);
        expect(() => parseBundle(JSON.stringify({ version: 1, files: [{ path: "relative", permissions: "0644", content: "" }] }))).to.throw(/bundle file 0/);
    });
});

describe("rollout: the apply script and its SSM document", function () {
    this.timeout(30000);
    const script = renderApplyScript({ region: "eu-west-1", bucket: "orthanc-bucket-1", bundleKey: `config/${"a".repeat(64)}.json`, tagFilters: { project: "orthweb", stack: "prod" } });

    it("checks the bundle's hash, drains before the restart, waits for /healthz, registers again and gates on every target group", () => {
        const marks = ["flock 9", "sha256sum", "elbv2 deregister-targets", "\n        bring_up\n", '\n        until [ "$(healthz)" = "200" ]', 'log "/healthz is 200"', 'wait_target_healthy "$arn" "Id=$INSTANCE_ID,Port=$port"', "\n    enter_service\n", '"$DIR/claim.sh" --healthy'];
        const order = marks.map((s) => script.indexOf(s));
        expect(script.indexOf("elbv2 register-targets", order[5])).to.be.greaterThan(order[5]).and.lessThan(order[6]);
        expect(order.every((i) => i >= 0), String(order)).to.equal(true);
        expect([...order].sort((a, b) => a - b)).to.deep.equal(order);
        expect(script).to.include(`readonly DRAIN_SECONDS=${ROLLOUT_TIMING.drainSeconds}`);
        expect(script).to.include("--tag-filters \"Key=Project,Values=$TAG_PROJECT\" \"Key=Stack,Values=$TAG_STACK\"");
        // A gate not passed in time fails the run: the association fails and `pulumi up` with it.
        expect(script.match(/stopping the rollout here"\n\s+(?:#.*\n\s+)?(?:while[\s\S]*?done <<<"\$targets"\n\s+)?exit 1/g)).to.have.length(2);
        // nginx.conf is mounted: a new one needs a restart that compose would not do.
        expect(script).to.include("'/opt/orthweb/nginx.conf') restart+=('nginx')");
        // So is the health checker's script (its container reads it once).
        expect(script).to.include("'/opt/orthweb/healthz.py') restart+=('healthz')");
        // What cloud-init's runcmd would do on a manual boot: the units are new, so reload, then every timer.
        expect(script).to.include("systemctl daemon-reload\n    systemctl enable --now orthweb.timer orthweb-peer.timer orthweb-claim.timer\n    systemctl start orthweb.service\n");
    });

    it("is a Command document (schema 2.2) whose every parameter is pattern-checked before the script sees it", () => {
        const doc = JSON.parse(renderApplyDocument());
        expect(doc.schemaVersion).to.equal("2.2");
        expect(Object.keys(doc.parameters).sort()).to.deep.equal(["bucket", "bundleKey", "mode", "project", "region", "revision", "stack"]);
        for (const p of Object.values(doc.parameters) as { allowedPattern: string }[]) expect(p.allowedPattern).to.match(/^\^.*\$$/);
        expect(doc.mainSteps[0].action).to.equal("aws:runShellScript");
        expect(Number(doc.mainSteps[0].inputs.timeoutSeconds)).to.equal(ROLLOUT_TIMING.associationWaitSeconds);
        expect(new RegExp(doc.parameters.bucket.allowedPattern).test("x'; rm -rf / #")).to.equal(false);
        // SSM substitutes {{ name }} anywhere in the script: only the parameters may look like that.
        const placeholders = [...(doc.mainSteps[0].inputs.runCommand as string[]).join("\n").matchAll(/\{\{\s*(\w+)\s*\}\}/g)].map((m) => m[1]);
        expect(placeholders).to.deep.equal(["region", "bucket", "bundleKey", "project", "stack", "mode"]);
        expect(JSON.stringify(doc).length).to.be.lessThan(64 * 1024);
    });
});

describe("rollout: one instance at a time, for every pattern", function () {
    this.timeout(60000);
    const built: Record<string, Built> = {};
    before(async () => {
        for (const [pattern, raw] of Object.entries(PATTERNS)) built[pattern] = await build(raw);
    });

    for (const pattern of Object.keys(PATTERNS)) {
        describe(pattern, () => {
            it("keeps the launch template to the machine: no user data; the instance type, on which each slot launches", () => {
                const [lt] = built[pattern].ofType(TYPES.launchTemplate);
                expect(lt.inputs).to.not.have.property("userData");
                expect(lt.inputs.instanceType).to.equal("t3.medium");
                for (const group of built[pattern].ofType(TYPES.autoscalingGroup)) expect(group.inputs.launchTemplate).to.deep.equal({ id: lt.id, version: "1" });
            });

            it("stores the files once, under the key their content names", () => {
                const [object] = built[pattern].ofType(TYPES.bucketObject);
                expect(built[pattern].ofType(TYPES.bucketObject)).to.have.length(1);
                expect(object.inputs.key).to.equal(bundleKey(object.inputs.content));
                expect(parseBundle(object.inputs.content).map((f) => f.path)).to.deep.equal(renderBootstrapFiles(SAMPLE).map((f) => f.path));
            });

            it("applies them with two associations per slot (apply, gate): both instances of a slot at once, no error allowed, waited for, replaced on every change", () => {
                const b = built[pattern];
                const [object] = b.ofType(TYPES.bucketObject);
                const [document] = b.ofType(TYPES.ssmDocument);
                const associations = b.ofType(TYPES.ssmAssociation);
                expect(associations.map((a) => a.name)).to.deep.equal(["orthanc-1-apply", "orthanc-1-gate", "orthanc-2-apply", "orthanc-2-gate"]);
                associations.forEach((a) => {
                    const slot = a.name.replace(/-(apply|gate)$/, "");
                    // Concurrency 2: during a refresh the old instance's run waits for the new one's, which must not queue behind it.
                    expect(a.inputs).to.deep.include({ maxConcurrency: String(SLOT_GROUP.maxSize), maxErrors: "0", waitForSuccessTimeoutSeconds: ROLLOUT_TIMING.associationWaitSeconds, name: document.state.name });
                    // The slot's tag, not an instance id: a replacement instance gets the same files, without \`pulumi up\`.
                    expect(a.inputs.targets).to.deep.equal([{ key: `tag:${SLOT_TAGS.slot}`, values: [slot] }]);
                    expect(a.inputs.parameters).to.deep.include({ bundleKey: object.inputs.key, region: REGION, project: "orthweb", stack: "test", mode: a.name.endsWith("-gate") ? "gate" : "apply" });
                    expect(a.options?.replaceOnChanges).to.include.members(["parameters", "targets", "documentVersion"]);
                    // Never two generations of one association at once: a replacement launched then would run both.
                    expect(a.options?.deleteBeforeReplace).to.equal(true);
                });
                for (const i of [1, 2]) {
                    expect(deps(ofName(b, TYPES.ssmAssociation, `orthanc-${i}-apply`))).to.include.members([`${TYPES.bucketObject}::orthanc-config`, `${TYPES.secretVersion}::orthanc-tls`, `${TYPES.secretVersion}::orthanc-admin`]);
                    // The gate comes after the group: it sees the refresh the group's update started.
                    expect(deps(ofName(b, TYPES.ssmAssociation, `orthanc-${i}-gate`))).to.include(`${TYPES.autoscalingGroup}::orthanc-${i}`);
                }
            });

            it("touches slot 2 only after slot 1's instance is in service, on a first deploy and on a replaced group too (the group's creation waits)", () => {
                const b = built[pattern];
                const reach = transitiveDependencies(b);
                for (const r of ["orthanc-2-apply", "orthanc-2-gate"]) expect(reach(TYPES.ssmAssociation, r), r).to.include(`${TYPES.autoscalingGroup}::orthanc-1`);
                expect(reach(TYPES.autoscalingGroup, "orthanc-2")).to.include.members([`${TYPES.autoscalingGroup}::orthanc-1`, `${TYPES.ssmAssociation}::orthanc-1-gate`]);
                expect(reach(TYPES.autoscalingGroup, "orthanc-1")).to.not.include(`${TYPES.autoscalingGroup}::orthanc-2`);
                for (const i of [1, 2]) {
                    const group = ofName(b, TYPES.autoscalingGroup, `orthanc-${i}`);
                    // The apply association exists before the group's instance registers (it gets its files then)...
                    expect(deps(group)).to.include(`${TYPES.ssmAssociation}::orthanc-${i}-apply`);
                    // ...and creating the group (first deploy, replacement) waits until the apply has let its instance
                    // in: the association's own wait cannot, while no instance is registered (#31175).
                    const wait = Number(/^(\d+)s$/.exec(group.inputs.waitForCapacityTimeout)?.[1] ?? 0);
                    expect(wait).to.equal(ROLLOUT_TIMING.capacityWaitSeconds).and.be.at.least(FIRST_BOOT_SECONDS);
                    // Only a completed apply satisfies that wait: the hook's timeout (CONTINUE) comes after it.
                    expect(group.inputs.initialLifecycleHooks[0].heartbeatTimeout).to.be.greaterThan(wait);
                }
            });

            it("makes each slot a group of one in one subnet, replaced on EC2's word only, let into service by its apply", () => {
                const b = built[pattern];
                const groups = b.ofType(TYPES.autoscalingGroup);
                expect(groups.map((g) => g.name)).to.deep.equal(["orthanc-1", "orthanc-2"]);
                const subnets = groups.map((g) => g.inputs.vpcZoneIdentifiers);
                for (const s of subnets) expect(s).to.have.length(1);
                expect(subnets[0][0]).to.not.equal(subnets[1][0]);
                for (const g of groups) {
                    expect(g.inputs).to.deep.include({ minSize: 1, maxSize: 2, desiredCapacity: 1, healthCheckType: "EC2" });
                    expect(g.inputs.initialLifecycleHooks).to.deep.equal([
                        { name: SLOT_GROUP.launchHookName, lifecycleTransition: "autoscaling:EC2_INSTANCE_LAUNCHING", defaultResult: "CONTINUE", heartbeatTimeout: SLOT_GROUP.launchHookHeartbeatSeconds },
                    ]);
                    // No AWS rollback: the provider points the group at the new template before the refresh starts
                    // (#34189), and the template's image is an SSM parameter; the apply script keeps the old instance.
                    expect(g.inputs.instanceRefresh.preferences).to.deep.include({ minHealthyPercentage: 100, maxHealthyPercentage: 200, autoRollback: false });
                    // The refresh terminates the old instance only after the new one's target-group gate has had its time.
                    expect(Number(g.inputs.instanceRefresh.preferences.instanceWarmup)).to.be.greaterThan(ROLLOUT_TIMING.targetHealthySeconds);
                    // Deleting a group waits for an instance held in its hook: longer than the provider's 10 minutes.
                    expect(g.options?.customTimeouts?.delete).to.equal(`${SLOT_GROUP.deleteTimeoutSeconds}s`);
                    expect(SLOT_GROUP.deleteTimeoutSeconds).to.be.greaterThan(SLOT_GROUP.launchHookHeartbeatSeconds);
                    expect(g.inputs.enabledMetrics).to.include("GroupInServiceInstances");
                    expect(g.options?.ignoreChanges).to.include.members(["targetGroupArns", "loadBalancers"]);
                }
            });

            it("tags each slot (propagated to its instance) with its name and the address it keeps", () => {
                const b = built[pattern];
                const tagsOf = (name: string) => Object.fromEntries(ofName(b, TYPES.autoscalingGroup, name).inputs.tags.map((t: { key: string; value: string; propagateAtLaunch: boolean }) => {
                    expect(t.propagateAtLaunch).to.equal(true);
                    return [t.key, t.value];
                }));
                const addresses = [tagsOf("orthanc-1")[SLOT_TAGS.address], tagsOf("orthanc-2")[SLOT_TAGS.address]];
                expect(tagsOf("orthanc-1")).to.include({ [SLOT_TAGS.slot]: "orthanc-1", Project: "orthweb", Name: "orthanc-1" });
                if (pattern === "direct" || pattern === "dns") {
                    expect(addresses).to.deep.equal(b.ofType(TYPES.eip).map((e) => e.state.allocationId));
                    expect(b.ofType(TYPES.eipAssociation)).to.deep.equal([]);
                } else {
                    const reservations = b.ofType(TYPES.subnetCidrReservation);
                    expect(reservations.map((r) => r.inputs.reservationType)).to.deep.equal(["explicit", "explicit"]);
                    expect(addresses).to.deep.equal(reservations.map((r) => r.inputs.cidrBlock.replace(/\/28$/, "")));
                }
            });
        });
    }

    it("lets the instances drain and register themselves only in this stack's target groups, which carry its tags", () => {
        const b = built.loadBalancer;
        const policy = JSON.parse(ofName(b, TYPES.rolePolicy, "orthanc-rollout").inputs.policy);
        const drain = policy.Statement.find((s: { Sid: string }) => s.Sid === "DrainAndRegister");
        expect(drain.Action).to.have.members(["elasticloadbalancing:DeregisterTargets", "elasticloadbalancing:RegisterTargets"]);
        expect(drain.Condition.StringEquals).to.deep.equal({ "aws:ResourceTag/Project": "orthweb", "aws:ResourceTag/Stack": "test" });
        for (const tg of b.ofType(TYPES.targetGroup)) expect(tg.inputs.tags).to.include({ Project: "orthweb", Stack: "test" });
    });

    it("an image change makes a new bundle and new associations, and touches neither the template nor the slots", async () => {
        const changed = await build({ ...PATTERNS.loadBalancer, "orthweb:orthanc": { image: "orthancteam/orthanc:99.1.1" } });
        const base = built.loadBalancer;
        expect(changed.ofType(TYPES.bucketObject)[0].inputs.key).to.not.equal(base.ofType(TYPES.bucketObject)[0].inputs.key);
        expect(changed.ofType(TYPES.launchTemplate)[0].inputs).to.deep.equal(base.ofType(TYPES.launchTemplate)[0].inputs);
        for (const i of [0, 1]) expect(changed.ofType(TYPES.autoscalingGroup)[i].inputs).to.deep.equal(base.ofType(TYPES.autoscalingGroup)[i].inputs);
    });

    it("an instance type change is a new template version (each slot refreshes, launch before terminate), with the same files", async () => {
        const changed = await build({ ...PATTERNS.loadBalancer, "orthweb:orthanc": { instanceType: "t3.large" } });
        const base = built.loadBalancer;
        expect(changed.ofType(TYPES.bucketObject)[0].inputs.key).to.equal(base.ofType(TYPES.bucketObject)[0].inputs.key);
        expect(changed.ofType(TYPES.launchTemplate)[0].inputs.instanceType).to.equal("t3.large");
        const gate = (b: Built) => ofName(b, TYPES.ssmAssociation, "orthanc-1-gate").inputs.parameters.revision;
        const apply = (b: Built) => ofName(b, TYPES.ssmAssociation, "orthanc-1-apply").inputs.parameters.revision;
        // The gate runs again (the old instance waits for its successor); the files need not be applied again.
        expect(gate(changed)).to.not.equal(gate(base));
        expect(apply(changed)).to.equal(apply(base));
    });

    it("an architecture change (t3 to t4g) needs another image: a new template version, and slot 2 still waits for slot 1", async () => {
        const changed = await build({ ...PATTERNS.loadBalancer, "orthweb:orthanc": { instanceType: "t4g.medium" } });
        expect(changed.ofType(TYPES.launchTemplate)[0].inputs.imageId).to.match(/arm64$/);
        expect(built.loadBalancer.ofType(TYPES.launchTemplate)[0].inputs.imageId).to.match(/x86_64$/);
        expect(deps(ofName(changed, TYPES.ssmAssociation, "orthanc-2-apply"))).to.include(`${TYPES.ssmAssociation}::orthanc-1-gate`);
    });

    it("a new certificate, type or template version makes each slot pass the gate again", () => {
        const base = instanceRevision("t3.medium", "1", "A");
        expect(base).to.not.equal(instanceRevision("t3.medium", "1", "B"));
        expect(base).to.not.equal(instanceRevision("t3.medium", "2", "A"));
        expect(base).to.not.equal(instanceRevision("t3.large", "1", "A"));
        expect(base).to.match(new RegExp(APPLY_DOCUMENT_PARAMETERS.revision.allowedPattern));
    });
});

describe("self-healing keeps the instance's name, role and place", () => {
    it("recovers onto new hardware where EC2 can, ends the instance on an OS shutdown (its group replaces it), refuses API termination in prod", () => {
        expect(recoveryOptions(true)).to.deep.equal({ maintenanceOptions: { autoRecovery: "default" }, instanceInitiatedShutdownBehavior: "terminate", disableApiTermination: true });
        expect(recoveryOptions(false).disableApiTermination).to.equal(false);
    });

    it("puts those options on the launch template both slots launch from", async () => {
        const prod = await build(withConfig({ "orthweb:environment": "prod", "orthweb:network": PROD_NETWORK }), "prod");
        const [lt] = prod.ofType(TYPES.launchTemplate);
        expect(lt.inputs).to.deep.include(recoveryOptions(true));
        for (const group of prod.ofType(TYPES.autoscalingGroup)) expect(group.inputs.launchTemplate.id).to.equal(lt.id);
        // The interfaces carry the stack's tags: the claim script may move a reserved address only onto those.
        expect(lt.inputs.tagSpecifications.map((t: { resourceType: string }) => t.resourceType)).to.include("network-interface");
    });

    it("reserves each private slot's address in its subnet, clear of AWS's own, before anything else is placed there", async () => {
        const prod = await build(withConfig({ "orthweb:traffic": PATTERNS.loadBalancer["orthweb:traffic"], "orthweb:environment": "prod", "orthweb:network": PROD_NETWORK }), "prod");
        const reservations = prod.ofType(TYPES.subnetCidrReservation);
        // The mock VPC 172.17.0.0/16 in quarters: the private subnets are the last two.
        expect(reservations.map((r) => r.inputs.cidrBlock)).to.deep.equal([slotAddress("172.17.128.0/18").reservation, slotAddress("172.17.192.0/18").reservation]);
        const direct = await build(PATTERNS.direct);
        expect(direct.ofType(TYPES.subnetCidrReservation)).to.deep.equal([]);
        // The database's subnet group takes the private subnets through the reservations.
        const subnetGroup = prod.ofType(TYPES.subnetGroup)[0];
        expect(subnetGroup.options?.propertyDependencies?.subnetIds).to.include.members(reservations.map((r) => `${TYPES.subnetCidrReservation}::${r.name}`));
    });

    it("allows every Auto Scaling call the apply script makes, the changing ones on the stack's tagged groups only", () => {
        const policy = rolloutPolicy("eu-west-1", { Project: "orthweb", Stack: "prod" });
        const needed = awsCliCalls(renderApplyScript({ region: "eu-west-1", bucket: "b", bundleKey: `config/${"a".repeat(64)}.json`, tagFilters: { project: "p", stack: "s" } }))
            .filter((c) => c.service === "autoscaling").flatMap((c) => c.iamActions);
        expect(needed).to.include.members(["autoscaling:CancelInstanceRefresh", "autoscaling:StartInstanceRefresh", "autoscaling:RecordLifecycleActionHeartbeat", "autoscaling:TerminateInstanceInAutoScalingGroup"]);
        for (const action of needed) {
            const granting = policy.Statement.filter((s) => ([] as string[]).concat(s.Action).includes(action));
            expect(granting, action).to.not.deep.equal([]);
            if (!/^autoscaling:Describe/.test(action)) {
                for (const s of granting) {
                    expect(s.Resource, action).to.match(/:autoScalingGroup:\*:autoScalingGroupName\/\*$/);
                    expect(s.Condition, action).to.deep.equal({ StringEquals: { "aws:ResourceTag/Project": "orthweb", "aws:ResourceTag/Stack": "prod" } });
                }
            }
        }
    });

    it("lets the instances move only their stack's addresses and let only their stack's instances into service", async () => {
        const policy = rolloutPolicy("eu-west-1", { Project: "orthweb", Stack: "prod" });
        const take = policy.Statement.find((s) => s.Sid === "TakeSlotAddress")!;
        expect(take.Action).to.have.members(["ec2:AssociateAddress", "ec2:AssignPrivateIpAddresses"]);
        expect(take.Condition).to.deep.equal({ StringEquals: { "aws:ResourceTag/Project": "orthweb", "aws:ResourceTag/Stack": "prod" } });
        const enter = policy.Statement.find((s) => s.Sid === "EnterService")!;
        expect(enter.Action).to.deep.equal(["autoscaling:CompleteLifecycleAction"]);
        expect(enter.Condition).to.deep.equal(take.Condition);
        expect(rolloutPolicy("cn-north-1", {}).Statement.find((s) => s.Sid === "EnterService")!.Resource).to.match(/^arn:aws-cn:autoscaling:cn-north-1:/);
    });
});

describe("rollout: the figures docs/operations.md quotes", () => {
    it("are the program's: the first boot's budget, the waits built on it, the delete timeout", () => {
        const doc = fs.readFileSync(path.join(__dirname, "..", "docs", "operations.md"), "utf8");
        expect(doc).to.include(`| **first boot** | **${FIRST_BOOT_SECONDS} s** |`);
        expect(doc).to.include(`\`waitForSuccessTimeoutSeconds\` (${ROLLOUT_TIMING.associationWaitSeconds} s)`);
        expect(doc).to.include(`(\`waitForCapacityTimeout\`, ${ROLLOUT_TIMING.capacityWaitSeconds} s)`);
        expect(doc).to.include(`delete timeout is ${SLOT_GROUP.deleteTimeoutSeconds} s`);
        expect(doc).to.include(`warmup (${SLOT_GROUP.refresh.instanceWarmupSeconds} s)`);
        expect(doc).to.include(`\`CONTINUE\` after ${SLOT_GROUP.launchHookHeartbeatSeconds} s`);
    });
});

describe("slot addresses (pure)", () => {
    it("takes the first address of a /28 sixteen addresses into the subnet", () => {
        expect(slotAddress("10.0.128.0/18")).to.deep.equal({ reservation: "10.0.128.16/28", address: "10.0.128.16" });
        expect(slotAddress("10.0.3.0/24")).to.deep.equal({ reservation: "10.0.3.16/28", address: "10.0.3.16" });
        expect(slotAddress("10.0.3.64/26")).to.deep.equal({ reservation: "10.0.3.80/28", address: "10.0.3.80" });
    });

    it("refuses what is not a subnet, or one too small to hold the reservation clear of AWS's addresses", () => {
        expect(() => slotAddress("10.0.3.0/27")).to.throw(/too small/);
        expect(() => slotAddress("pacs")).to.throw(/not an IPv4 subnet/);
    });
});

describe("teardown", function () {
    this.timeout(60000);
    let dev: Built;
    let prod: Built;
    let prod2: Built;
    before(async () => {
        dev = await build(withConfig({}), "dev");
        prod = await build(withConfig({ "orthweb:environment": "prod", "orthweb:network": PROD_NETWORK }), "prod");
        prod2 = await build(withConfig({ "orthweb:environment": "prod", "orthweb:network": PROD_NETWORK }), "prod-eu");
    });

    it("retains the KMS key in prod (what prod keeps on destroy stays decryptable), deletes it with a dev stack", () => {
        expect(keyTeardown(true)).to.deep.equal({ retainOnDelete: true });
        expect(prod.ofType(TYPES.kmsKey)[0].options?.retainOnDelete).to.equal(true);
        expect(prod.ofType(TYPES.bucket)[0].options?.retainOnDelete).to.equal(true);
        expect(dev.ofType(TYPES.kmsKey)[0].options?.retainOnDelete).to.equal(false);
    });

    it("names the prod final snapshot per stack and per destroy (a random suffix that lives with the database)", () => {
        const [db] = prod.ofType(TYPES.rds);
        expect(db.inputs.skipFinalSnapshot).to.equal(false);
        expect(db.inputs.finalSnapshotIdentifier).to.equal("orthweb-prod-orthanc-db-final-0a1b2c3d");
        expect(prod2.ofType(TYPES.rds)[0].inputs.finalSnapshotIdentifier).to.not.equal(db.inputs.finalSnapshotIdentifier);
        expect(prod.ofType(TYPES.randomId).map((r) => r.name)).to.deep.equal(["orthanc-db-final"]);
        expect(prod.ofType(TYPES.randomId)[0].options?.retainOnDelete).to.equal(false);
    });

    it("takes no final snapshot of a dev database", () => {
        const [db] = dev.ofType(TYPES.rds);
        expect(db.inputs.skipFinalSnapshot).to.equal(true);
        expect(db.inputs.finalSnapshotIdentifier).to.equal(undefined);
    });

    it("makes identifiers RDS accepts from any stack name", () => {
        const id = finalSnapshotIdentifier("Orthweb", "9_prod.eu--west", "orthanc-db", "ab12cd34");
        expect(id).to.equal("orthweb-9-prod-eu-west-orthanc-db-final-ab12cd34");
        expect(finalSnapshotIdentifier("1x", "s", "n", "0a")).to.match(/^[a-z]/);
        const long = finalSnapshotIdentifier("p".repeat(200), "s".repeat(200), "n", "ff");
        expect(long.length).to.be.at.most(255);
        expect(long).to.not.match(/--|-$/);
    });
});

describe("rollout: what clients see, per pattern", () => {
    it("applies images, AE title, settings and the certificate in place, one instance at a time, in every pattern", () => {
        for (const pattern of ["direct", "dns", "loadBalancer", "none"] as const) {
            const rows = rolloutChanges(pattern);
            for (const change of ["orthanc.image", "orthanc.nginxImage", "orthanc.aet"]) expect(rows.find((r) => r.change === change)?.effect, `${pattern} ${change}`).to.equal("in place");
            expect(rows.find((r) => r.change.startsWith("tlsCertificatePem"))?.effect).to.equal("in place");
            expect(rows.find((r) => r.change === "orthanc.instanceType")?.effect).to.equal("replaced");
            expect(rows.find((r) => r.change === "orthanc.instanceType")?.order).to.match(/launch before terminate.*healthz 200.*slot's address/);
            for (const r of rows.filter((r) => r.effect === "in place")) expect(r.order).to.match(/one instance at a time/);
        }
    });

    it("promises no interruption only behind a load balancer, and quotes the front door's failover figure otherwise", () => {
        expect(rolloutChanges("loadBalancer")[0].clients).to.match(/^no interruption behind a load balancer/);
        expect(rolloutChanges("dns", { failoverSeconds: 90 })[0].clients).to.include("up to 90 s");
        expect(rolloutChanges("direct")[0].clients).to.match(/own name is unavailable/);
        expect(rolloutChanges("loadBalancer").find((r) => r.change === "orthanc.instanceType")?.clients).to.match(/healthy in the target groups before the old one is drained/);
        expect(rolloutChanges("direct").find((r) => r.change === "orthanc.instanceType")?.clients).to.match(/Elastic IP moves to the new, already healthy one/);
    });
});

// Rolling changes: the config bundle, the chained SSM associations (one instance at a time, for every pattern),
// self-healing options, and the teardown options of the key and the final snapshot.
import { expect } from "chai";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { renderBootstrapFiles } from "../components/bootstrap";
import { APPLY_DOCUMENT_PARAMETERS, renderApplyDocument, renderApplyScript } from "../components/bootstrap/apply";
import { instanceRevision, recoveryOptions } from "../components/pair/instances";
import { keyTeardown } from "../components/pair/dataStore";
import { bundleKey, finalSnapshotIdentifier, parseBundle, renderBundle, rolloutChanges, ROLLOUT_TIMING } from "../rules/rollout";
import { SAMPLE } from "./fixtures";
import { Registration } from "../plan/mockRuntime";
import { build, Built, PROD_NETWORK, REGION, TYPES, withConfig } from "./harness";
import { needTool } from "./localTools";

const PATTERNS: Record<string, Record<string, unknown>> = {
    direct: withConfig({}),
    dns: withConfig({ "orthweb:traffic": { frontDoor: "dns", dns: { zoneName: "example.org", recordName: "pacs" } } }),
    loadBalancer: withConfig({ "orthweb:traffic": { frontDoor: "loadBalancer", loadBalancer: { type: "network" } } }),
    none: withConfig({ "orthweb:traffic": { frontDoor: "none", clientVpn: { clients: ["reading-room-1"] } } }),
};

const deps = (r: Registration) => r.options?.dependencies ?? [];
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
        const marks = ["flock 9", "sha256sum", "elbv2 deregister-targets", "systemctl start orthweb.service", 'until [ "$(healthz)" = "200" ]', 'log "/healthz is 200"', "TargetHealth.State"];
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
        expect(script).to.include("systemctl daemon-reload\n        systemctl enable --now orthweb.timer orthweb-peer.timer\n");
    });

    it("passes shellcheck, as rendered and inside the document", function () {
        needTool(this, "shellcheck");
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "orthweb-apply-"));
        try {
            const doc = JSON.parse(renderApplyDocument());
            const fromDocument = (doc.mainSteps[0].inputs.runCommand as string[]).join("\n");
            for (const [name, text] of [["apply.sh", script], ["document.sh", fromDocument]]) {
                fs.writeFileSync(path.join(dir, name), text);
                const r = spawnSync("shellcheck", ["--shell=bash", "--severity=style", path.join(dir, name)], { encoding: "utf8" });
                expect(r.status, `${name}: ${r.stdout}`).to.equal(0);
            }
        } finally {
            fs.rmSync(dir, { recursive: true, force: true });
        }
    });

    it("is a Command document (schema 2.2) whose every parameter is pattern-checked before the script sees it", () => {
        const doc = JSON.parse(renderApplyDocument());
        expect(doc.schemaVersion).to.equal("2.2");
        expect(Object.keys(doc.parameters).sort()).to.deep.equal(["bucket", "bundleKey", "project", "region", "revision", "stack"]);
        for (const p of Object.values(doc.parameters) as { allowedPattern: string }[]) expect(p.allowedPattern).to.match(/^\^.*\$$/);
        expect(doc.mainSteps[0].action).to.equal("aws:runShellScript");
        expect(Number(doc.mainSteps[0].inputs.timeoutSeconds)).to.equal(ROLLOUT_TIMING.associationWaitSeconds);
        expect(new RegExp(doc.parameters.bucket.allowedPattern).test("x'; rm -rf / #")).to.equal(false);
        // SSM substitutes {{ name }} anywhere in the script: only the parameters may look like that.
        const placeholders = [...(doc.mainSteps[0].inputs.runCommand as string[]).join("\n").matchAll(/\{\{\s*(\w+)\s*\}\}/g)].map((m) => m[1]);
        expect(placeholders).to.deep.equal(["region", "bucket", "bundleKey", "project", "stack"]);
        expect(JSON.stringify(doc).length).to.be.lessThan(64 * 1024);
    });
});

describe("rollout: one instance at a time, for every pattern", function () {
    this.timeout(60000);
    const built: Record<string, Built> = {};
    before(async () => {
        for (const [pattern, raw] of Object.entries(PATTERNS)) built[pattern] = await build(raw, `rollout-${pattern}`);
    });

    for (const pattern of Object.keys(PATTERNS)) {
        describe(pattern, () => {
            it("keeps the launch template to the machine: no user data, no instance type", () => {
                const [lt] = built[pattern].ofType(TYPES.launchTemplate);
                expect(lt.inputs).to.not.have.property("userData");
                expect(lt.inputs).to.not.have.property("instanceType");
                for (const inst of built[pattern].ofType(TYPES.instance)) expect(inst.inputs.instanceType).to.equal("t3.medium");
            });

            it("stores the files once, under the key their content names", () => {
                const [object] = built[pattern].ofType(TYPES.bucketObject);
                expect(built[pattern].ofType(TYPES.bucketObject)).to.have.length(1);
                expect(object.inputs.key).to.equal(bundleKey(object.inputs.content));
                expect(parseBundle(object.inputs.content).map((f) => f.path)).to.deep.equal(renderBootstrapFiles(SAMPLE).map((f) => f.path));
            });

            it("applies them with one association per instance: concurrency 1, no error allowed, waited for, replaced on every change", () => {
                const b = built[pattern];
                const [object] = b.ofType(TYPES.bucketObject);
                const [document] = b.ofType(TYPES.ssmDocument);
                const associations = b.ofType(TYPES.ssmAssociation);
                expect(associations.map((a) => a.name)).to.deep.equal(["orthanc-1-apply", "orthanc-2-apply"]);
                associations.forEach((a, i) => {
                    expect(a.inputs).to.deep.include({ maxConcurrency: "1", maxErrors: "0", waitForSuccessTimeoutSeconds: ROLLOUT_TIMING.associationWaitSeconds, name: document.state.name });
                    expect(a.inputs.targets).to.deep.equal([{ key: "InstanceIds", values: [`orthanc-${i + 1}-id`] }]);
                    expect(a.inputs.parameters).to.deep.include({ bundleKey: object.inputs.key, region: REGION, project: "orthweb", stack: `rollout-${pattern}` });
                    expect(a.options?.replaceOnChanges).to.include.members(["parameters", "targets", "documentVersion"]);
                    expect(deps(a)).to.include.members([`${TYPES.bucketObject}::orthanc-config`, `${TYPES.secretVersion}::orthanc-tls`, `${TYPES.secretVersion}::orthanc-admin`]);
                });
            });

            it("registers instance 2 only after instance 1's association has succeeded", () => {
                const b = built[pattern];
                expect(deps(ofName(b, TYPES.instance, "orthanc-2"))).to.include(`${TYPES.ssmAssociation}::orthanc-1-apply`);
                expect(deps(ofName(b, TYPES.instance, "orthanc-1"))).to.not.include(`${TYPES.ssmAssociation}::orthanc-2-apply`);
                expect(ofName(b, TYPES.ssmAssociation, "orthanc-2-apply").options?.propertyDependencies?.targets).to.include(`${TYPES.instance}::orthanc-2`);
            });

            if (pattern === "direct" || pattern === "dns") {
                it("gates each instance after its Elastic IP is on it: the stable name serves before the next one moves", () => {
                    const b = built[pattern];
                    for (const i of [1, 2]) expect(deps(ofName(b, TYPES.ssmAssociation, `orthanc-${i}-apply`))).to.include(`${TYPES.eipAssociation}::orthanc-eip-${i}`);
                });
            }
        });
    }

    it("lets the instances drain and register themselves only in this stack's target groups, which carry its tags", () => {
        const b = built.loadBalancer;
        const policy = JSON.parse(ofName(b, TYPES.rolePolicy, "orthanc-rollout").inputs.policy);
        const drain = policy.Statement.find((s: { Sid: string }) => s.Sid === "DrainAndRegister");
        expect(drain.Action).to.have.members(["elasticloadbalancing:DeregisterTargets", "elasticloadbalancing:RegisterTargets"]);
        expect(drain.Condition.StringEquals).to.deep.equal({ "aws:ResourceTag/Project": "orthweb", "aws:ResourceTag/Stack": "rollout-loadBalancer" });
        for (const tg of b.ofType(TYPES.targetGroup)) expect(tg.inputs.tags).to.include({ Project: "orthweb", Stack: "rollout-loadBalancer" });
    });

    it("an image change makes a new bundle and new associations, and touches neither the template nor the instances", async () => {
        const changed = await build({ ...PATTERNS.loadBalancer, "orthweb:orthanc": { image: "orthancteam/orthanc:99.1.1" } }, "rollout-loadBalancer");
        const base = built.loadBalancer;
        expect(changed.ofType(TYPES.bucketObject)[0].inputs.key).to.not.equal(base.ofType(TYPES.bucketObject)[0].inputs.key);
        expect(changed.ofType(TYPES.launchTemplate)[0].inputs).to.deep.equal(base.ofType(TYPES.launchTemplate)[0].inputs);
        for (const i of [0, 1]) expect(changed.ofType(TYPES.instance)[i].inputs).to.deep.equal(base.ofType(TYPES.instance)[i].inputs);
    });

    it("an instance type change resizes the instances in place and makes each pass the gate again, with the same files", async () => {
        const changed = await build({ ...PATTERNS.loadBalancer, "orthweb:orthanc": { instanceType: "t3.large" } }, "rollout-loadBalancer");
        const base = built.loadBalancer;
        expect(changed.ofType(TYPES.bucketObject)[0].inputs.key).to.equal(base.ofType(TYPES.bucketObject)[0].inputs.key);
        expect(changed.ofType(TYPES.launchTemplate)[0].inputs).to.deep.equal(base.ofType(TYPES.launchTemplate)[0].inputs);
        expect(changed.ofType(TYPES.instance)[0].inputs.instanceType).to.equal("t3.large");
        expect(changed.ofType(TYPES.ssmAssociation)[0].inputs.parameters.revision).to.not.equal(base.ofType(TYPES.ssmAssociation)[0].inputs.parameters.revision);
    });

    it("an architecture change (t3 to t4g) needs another image: a new template version, so the instances are replaced in the same order", async () => {
        const changed = await build({ ...PATTERNS.loadBalancer, "orthweb:orthanc": { instanceType: "t4g.medium" } }, "rollout-loadBalancer");
        expect(changed.ofType(TYPES.launchTemplate)[0].inputs.imageId).to.match(/arm64$/);
        expect(built.loadBalancer.ofType(TYPES.launchTemplate)[0].inputs.imageId).to.match(/x86_64$/);
        expect(deps(ofName(changed, TYPES.instance, "orthanc-2"))).to.include(`${TYPES.ssmAssociation}::orthanc-1-apply`);
    });

    it("a new certificate makes each instance pass the gate again", () => {
        expect(instanceRevision("t3.medium", "A")).to.not.equal(instanceRevision("t3.medium", "B"));
        expect(instanceRevision("t3.medium", "A")).to.match(new RegExp(APPLY_DOCUMENT_PARAMETERS.revision.allowedPattern));
    });
});

describe("self-healing keeps the instance's identity", () => {
    it("recovers onto new hardware automatically, stops rather than terminates on shutdown, refuses API termination in prod", () => {
        expect(recoveryOptions(true)).to.deep.equal({ maintenanceOptions: { autoRecovery: "default" }, instanceInitiatedShutdownBehavior: "stop", disableApiTermination: true });
        expect(recoveryOptions(false).disableApiTermination).to.equal(false);
    });

    it("puts those options on both instances", async () => {
        const prod = await build(withConfig({ "orthweb:environment": "prod", "orthweb:network": PROD_NETWORK }), "heal");
        for (const inst of prod.ofType(TYPES.instance)) expect(inst.inputs).to.deep.include(recoveryOptions(true));
    });
});

describe("teardown", function () {
    this.timeout(60000);
    let dev: Built;
    let prod: Built;
    let prod2: Built;
    before(async () => {
        dev = await build(withConfig({}), "teardown-dev");
        prod = await build(withConfig({ "orthweb:environment": "prod", "orthweb:network": PROD_NETWORK }), "teardown-prod");
        prod2 = await build(withConfig({ "orthweb:environment": "prod", "orthweb:network": PROD_NETWORK }), "teardown-prod-eu");
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
        expect(db.inputs.finalSnapshotIdentifier).to.equal("orthweb-teardown-prod-orthanc-db-final-0a1b2c3d");
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
            expect(rows.find((r) => r.change === "orthanc.instanceType")?.effect).to.equal("resized in place");
            for (const r of rows.filter((r) => r.effect === "in place")) expect(r.order).to.match(/one instance at a time/);
        }
    });

    it("promises no interruption only behind a load balancer, and quotes the front door's failover figure otherwise", () => {
        expect(rolloutChanges("loadBalancer")[0].clients).to.match(/^no interruption behind a load balancer/);
        expect(rolloutChanges("dns", { failoverSeconds: 90 })[0].clients).to.include("up to 90 s");
        expect(rolloutChanges("direct")[0].clients).to.match(/own name is unavailable/);
        expect(rolloutChanges("loadBalancer", { failoverSeconds: 20 }).find((r) => r.change === "orthanc.instanceType")?.clients).to.include("up to 20 s");
    });
});

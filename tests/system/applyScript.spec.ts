// The apply script for real (bash), against stand-ins for the AWS CLI and the metadata service that answer as AWS
// would (an Auto Scaling group of one, two during a refresh, with its refreshes and launch hook) and record every
// call. On an instance its group is replacing it must touch nothing, keep serving, report success only once its
// successor is in service, start a refresh on a re-run after one ended, keep a waiting successor from timing out into
// service and abandon it at its deadline; a new instance that fails next to a serving one must end the refresh and
// leave (abandoned in the launch hook) without taking the slot's address; a lookup that fails must stop it before it
// drains or restarts anything.
import { expect } from "chai";
import * as fs from "fs";
import * as path from "path";
import { REFRESH_PREFERENCES, renderApplyScript } from "../../components/bootstrap/apply";
import { bundleKey, renderBundle, ROLLOUT_TIMING, SLOT_GROUP } from "../../rules/rollout";
import { metadataStub, StubShell } from "../stubShell";

const STUBS: Record<string, string> = {
    // The metadata service, and the instance's own /healthz: the code in $STATE/healthz (none: nothing answers).
    curl: `#!/bin/bash
case "$*" in
    *127.0.0.1*healthz*) cat "$STATE/healthz" 2>/dev/null || exit 7 ;;
    *) exec bash -c '${metadataStub({ "instance-id": "i-this" }).replace(/'/g, "'\\''")}' curl "$@" ;;
esac
`,
    // systemd: Docker runs when $DOCKER_ACTIVE is set; starting orthweb.service brings up what docker-compose.yml
    // names: /healthz answers 200 unless the file says "broken" (a setting the new version rejects).
    systemctl: `#!/bin/bash
echo "systemctl $*" >>"$CALLS"
case "$*" in
    "is-active --quiet docker") [ -n "$DOCKER_ACTIVE" ] ;;
    "start orthweb.service") if grep -q broken "$DIR_UNDER_TEST/docker-compose.yml"; then echo 500; else echo 200; fi >"$STATE/healthz" ;;
esac
`,
    docker: '#!/bin/bash\necho "docker $*" >>"$CALLS"\n',
    // The group runs launch template version $GROUP_VERSION; this instance was launched from $MY_VERSION and is in
    // $MY_STATE. The group's other instances in service: $SERVING, until the $SUCCESSOR_AFTER-th look, or once a
    // refresh was started when $SUCCESSOR_ON_START is set. Waiting in the hook: $WAITING. The latest refresh:
    // $STATE/refresh ("<status>\t<reason>").
    aws: `#!/bin/bash
echo "aws $*" >>"$CALLS"
case "$1 $2" in
    "autoscaling describe-auto-scaling-instances")
        case "$*" in
            *LaunchTemplate.Version*) printf 'orthanc-1-0mock\\t%s\\n' "$MY_VERSION" ;;
            *AutoScalingGroupName,LifecycleState*) printf 'orthanc-1-0mock\\t%s\\n' "$MY_STATE" ;;
            *LifecycleState*) echo "$MY_STATE" ;;
        esac ;;
    "autoscaling describe-auto-scaling-groups")
        case "$*" in
            *LaunchTemplate.Version*) echo "$GROUP_VERSION" ;;
            *Pending:Wait*) echo "\${WAITING:-}" ;;
            *length*)
                n=$(( $(cat "$STATE/looks" 2>/dev/null || echo 0) + 1 )); echo "$n" >"$STATE/looks"
                if [ "$n" -ge "$SUCCESSOR_AFTER" ] || { [ -n "$SUCCESSOR_ON_START" ] && [ -f "$STATE/started" ]; }; then echo 1; else echo "$SERVING"; fi ;;
        esac ;;
    "autoscaling describe-instance-refreshes")
        cat "$STATE/refresh"
        # A cancellation completes once the transitioning instance has left.
        if grep -q '^Cancelling' "$STATE/refresh"; then printf 'Cancelled\\tCancelled by the new instance\\n' >"$STATE/refresh"; fi ;;
    "autoscaling start-instance-refresh") touch "$STATE/started"; printf 'InProgress\\tNone\\n' >"$STATE/refresh"; echo '{"InstanceRefreshId": "r-2"}' ;;
    "autoscaling cancel-instance-refresh")
        if grep -q '^InProgress' "$STATE/refresh"; then printf 'Cancelled\\tNone\\n' >"$STATE/refresh"; echo '{"InstanceRefreshId": "r-1"}'
        else echo "An error occurred (ActiveInstanceRefreshNotFound) when calling the CancelInstanceRefresh operation" >&2; exit 254; fi ;;
    "autoscaling record-lifecycle-action-heartbeat" | "autoscaling complete-lifecycle-action" | "autoscaling terminate-instance-in-auto-scaling-group") ;;
    "s3 cp") if [ -n "$BUNDLE" ]; then cp "$BUNDLE" "\${@: -1}"; else echo "fatal error: An error occurred (404) when calling the HeadObject operation" >&2; exit 1; fi ;;
    "resourcegroupstaggingapi get-resources")
        if [ -n "$TAGGING_DOWN" ]; then echo "Could not connect to the endpoint URL" >&2; exit 255; fi
        echo "arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/dicom/1" ;;
    "elbv2 describe-target-health")
        case "$*" in
            *Target.Port*) echo 11112 ;;
            *) echo healthy ;;
        esac ;;
    "elbv2 deregister-targets" | "elbv2 register-targets") ;;
    *) echo "unexpected aws call: $*" >&2; exit 1 ;;
esac
`,
    // The wait between looks, shortened: the script's pacing is not what is tested.
    sleep: "#!/bin/bash\nexit 0\n",
};

interface Slot {
    readonly MY_VERSION?: string;
    readonly MY_STATE?: string;
    readonly GROUP_VERSION?: string;
    readonly SERVING?: string;
    readonly SUCCESSOR_AFTER?: string;
    readonly SUCCESSOR_ON_START?: string;
    readonly WAITING?: string;
    readonly BUNDLE?: string;
    readonly DOCKER_ACTIVE?: string;
    readonly TAGGING_DOWN?: string;
    /** What /healthz answers before the apply ("" : nothing answers). */
    readonly healthz?: string;
    /** The latest refresh, "<status>\t<reason>". */
    readonly refresh?: string;
}

describe("apply script in a slot (real bash, stand-in AWS Auto Scaling)", function () {
    this.timeout(20000);
    let shell: StubShell;

    before(() => (shell = new StubShell("apply", STUBS)));
    after(() => shell.remove());

    function apply(slot: Slot, timing: Partial<Record<keyof typeof ROLLOUT_TIMING, number>> = {}, mode = "apply") {
        const key = slot.BUNDLE ? bundleKey(fs.readFileSync(slot.BUNDLE, "utf8")) : `config/${"a".repeat(64)}.json`;
        const script = shell.script("apply.sh", renderApplyScript({ region: "eu-west-1", bucket: "b", bundleKey: key, tagFilters: { project: "p", stack: "s" }, mode, dir: path.join(shell.dir, "opt"), lockFile: path.join(shell.dir, "lock"), timing }));
        const state = path.join(shell.dir, "state");
        fs.rmSync(state, { recursive: true, force: true });
        fs.mkdirSync(state);
        fs.writeFileSync(path.join(state, "refresh"), slot.refresh ?? "InProgress\tNone\n");
        if (slot.healthz) fs.writeFileSync(path.join(state, "healthz"), slot.healthz);
        const { refresh: _refresh, healthz: _healthz, ...env } = slot;
        const r = shell.run(script, [], { STATE: state, DIR_UNDER_TEST: path.join(shell.dir, "opt"), DOCKER_ACTIVE: "", TAGGING_DOWN: "", BUNDLE: "", MY_VERSION: "1", MY_STATE: "InService", GROUP_VERSION: "1", SERVING: "0", SUCCESSOR_AFTER: "99", SUCCESSOR_ON_START: "", WAITING: "", ...env });
        return { ...r, refresh: fs.readFileSync(path.join(state, "refresh"), "utf8").trim() };
    }
    const changing = (calls: string[]) => calls.filter((c) => !/ describe-/.test(c));

    describe("on the instance its group is replacing (a refresh)", () => {
        it("waits, touching nothing, until a successor is in service, then reports success", () => {
            const r = apply({ GROUP_VERSION: "2", SUCCESSOR_AFTER: "3" });
            expect(r.status, r.stderr).to.equal(0);
            expect(r.stderr).to.match(/version 1 is no longer orthanc-1-0mock's/).and.match(/a successor is in service/);
            expect(r.calls.filter((c) => c.includes("length(")).length).to.equal(3);
            // Not even the bundle is fetched: nothing on this instance changes while it still serves.
            expect(changing(r.calls)).to.deep.equal([]);
        });

        it("keeps a successor waiting in the launch hook from timing out into service while it waits", () => {
            // Looks 2 and 3 find no successor in service (look 1 is the script's first view of the slot).
            const r = apply({ GROUP_VERSION: "2", SUCCESSOR_AFTER: "4", WAITING: "i-new" });
            expect(r.status, r.stderr).to.equal(0);
            expect(changing(r.calls)).to.deep.equal(Array(2).fill(
                `aws autoscaling record-lifecycle-action-heartbeat --region eu-west-1 --auto-scaling-group-name orthanc-1-0mock --lifecycle-hook-name ${SLOT_GROUP.launchHookName} --instance-id i-new`,
            ));
        });

        it("at its deadline abandons the waiting successor and ends the refresh; the rollout stops, this instance still serves", () => {
            const r = apply({ GROUP_VERSION: "2", WAITING: "i-new" }, { successorSeconds: 0 });
            expect(r.status).to.equal(1);
            expect(r.stderr).to.match(/no successor in service in orthanc-1-0mock after 0 s: stopping the rollout here \(this instance still serves\)/);
            expect(changing(r.calls).slice(-2)).to.deep.equal([
                `aws autoscaling complete-lifecycle-action --region eu-west-1 --auto-scaling-group-name orthanc-1-0mock --lifecycle-hook-name ${SLOT_GROUP.launchHookName} --instance-id i-new --lifecycle-action-result ABANDON`,
                "aws autoscaling cancel-instance-refresh --region eu-west-1 --auto-scaling-group-name orthanc-1-0mock",
            ]);
            expect(r.refresh).to.match(/^Cancelled/);
            expect(r.calls.some((c) => c.startsWith("aws s3"))).to.equal(false);
        });

        it("stops at once, with the reason, when the refresh ended with no successor (the new instance gave up), instead of waiting out its deadline", () => {
            const r = apply({ GROUP_VERSION: "2", refresh: "Cancelling\tNone\n" }, { successorSeconds: 5 });
            expect(r.status).to.equal(1);
            expect(r.stderr).to.match(/the instance refresh of orthanc-1-0mock ended \(Cancelled: Cancelled by the new instance\) with no successor in service: stopping the rollout here/);
            expect(r.calls.filter((c) => c.includes("length(")).length).to.equal(2);
            expect(changing(r.calls)).to.deep.equal([]);
        });

        it("on a re-run after a refresh that ended, starts one (with the group's preferences, no rollback) instead of waiting for a successor that never comes", () => {
            const r = apply({ GROUP_VERSION: "2", refresh: "Cancelled\tNone\n", SUCCESSOR_ON_START: "1" }, { successorSeconds: 5 });
            expect(r.status, r.stderr).to.equal(0);
            expect(changing(r.calls)).to.deep.equal([
                `aws autoscaling start-instance-refresh --region eu-west-1 --auto-scaling-group-name orthanc-1-0mock --strategy Rolling --preferences ${JSON.stringify(REFRESH_PREFERENCES)}`,
            ]);
            expect(REFRESH_PREFERENCES).to.deep.include({ MinHealthyPercentage: 100, MaxHealthyPercentage: 200, AutoRollback: false });
            expect(r.stderr).to.match(/started one/);
        });

        it("does not start a second refresh while one runs (the group's update started it)", () => {
            const r = apply({ GROUP_VERSION: "2", SUCCESSOR_AFTER: "2" });
            expect(r.status, r.stderr).to.equal(0);
            expect(r.calls.some((c) => c.includes("start-instance-refresh"))).to.equal(false);
        });
    });

    describe("on a new instance next to the one serving the slot", () => {
        it("that fails in the launch hook: abandons itself, then ends the refresh; never takes the address, never enters service", () => {
            const r = apply({ MY_STATE: "Pending:Wait", SERVING: "1" });
            expect(r.status).to.equal(1);
            expect(changing(r.calls).filter((c) => !c.startsWith("aws s3"))).to.deep.equal([
                `aws autoscaling complete-lifecycle-action --region eu-west-1 --auto-scaling-group-name orthanc-1-0mock --lifecycle-hook-name ${SLOT_GROUP.launchHookName} --instance-id i-this --lifecycle-action-result ABANDON`,
                "aws autoscaling cancel-instance-refresh --region eu-west-1 --auto-scaling-group-name orthanc-1-0mock",
            ]);
            expect(r.refresh).to.match(/^Cancelled/);
            expect(r.stderr).to.match(/abandoned this instance in the launch hook/);
            expect(r.calls.join("\n")).to.not.match(/CONTINUE|associate-address|assign-private-ip/);
        });

        it("that fails after it was let in: has its group terminate it (the old one stays, the desired capacity too), then ends the refresh", () => {
            const r = apply({ MY_STATE: "InService", SERVING: "1" });
            expect(r.status).to.equal(1);
            expect(changing(r.calls).filter((c) => !c.startsWith("aws s3"))).to.deep.equal([
                "aws autoscaling terminate-instance-in-auto-scaling-group --region eu-west-1 --instance-id i-this --no-should-decrement-desired-capacity",
                "aws autoscaling cancel-instance-refresh --region eu-west-1 --auto-scaling-group-name orthanc-1-0mock",
            ]);
        });

        it("gives way even when no refresh is active any more (a re-run): the abandon does not depend on the cancel", () => {
            const r = apply({ MY_STATE: "Pending:Wait", SERVING: "1", refresh: "Cancelled\tNone\n" });
            expect(r.status).to.equal(1);
            expect(r.stderr).to.match(/no active instance refresh to cancel/);
            expect(changing(r.calls).some((c) => c.includes("--lifecycle-action-result ABANDON"))).to.equal(true);
        });
    });

    describe("on the slot's only instance (in place, a first deploy, a replacement of a dead one)", () => {
        it("that fails: leaves it where it is, nothing abandoned or cancelled (no serving instance to fall back on: no churn)", () => {
            const r = apply({ MY_STATE: "Pending:Wait", SERVING: "0" });
            expect(r.status).to.equal(1);
            expect(changing(r.calls).filter((c) => !c.startsWith("aws s3"))).to.deep.equal([]);
        });

        it("applies as usual on an instance of the group's current version (and fails here only at the stand-in's bucket)", () => {
            const r = apply({});
            expect(r.status).to.not.equal(0);
            expect(r.calls.some((c) => c.startsWith("aws s3 cp"))).to.equal(true);
            expect(r.calls.some((c) => c.includes("describe-instance-refreshes"))).to.equal(false);
        });

        it("stops, before draining or restarting anything, when it cannot find the target groups (not: none found)", () => {
            const bundle = path.join(shell.dir, "bundle.json");
            fs.writeFileSync(bundle, renderBundle([{ path: path.join(shell.dir, "opt", "nginx.conf"), permissions: "0644", content: "events {}\n" }]));
            const r = apply({ BUNDLE: bundle, TAGGING_DOWN: "1" });
            expect(r.status, r.stderr).to.equal(255);
            expect(r.calls.some((c) => c.includes("get-resources"))).to.equal(true);
            expect(r.calls.filter((c) => /deregister-targets|register-targets|complete-lifecycle-action/.test(c))).to.deep.equal([]);
            // The files were written (they are only files), but nothing was started.
            expect(fs.readFileSync(path.join(shell.dir, "opt", "nginx.conf"), "utf8")).to.equal("events {}\n");
            expect(r.calls.filter((c) => c.startsWith("systemctl ") && !c.startsWith("systemctl is-active"))).to.deep.equal([]);
        });
    });

    describe("an in-place change that fails on an instance that served", () => {
        const compose = () => path.join(shell.dir, "opt", "docker-compose.yml");
        function bundleWith(content: string): string {
            const file = path.join(shell.dir, `bundle-${content.length}.json`);
            fs.writeFileSync(file, renderBundle([{ path: compose(), permissions: "0644", content }]));
            return file;
        }

        it("puts the files it served with back, starts them again and registers it again: it serves the previous version", () => {
            fs.mkdirSync(path.dirname(compose()), { recursive: true });
            fs.writeFileSync(compose(), "image: orthanc:1 # served\n", { mode: 0o644 });
            const r = apply({ BUNDLE: bundleWith("image: orthanc:2 # broken\n"), DOCKER_ACTIVE: "1", healthz: "200" }, { healthySeconds: 0, drainSeconds: 0 });
            expect(r.status).to.equal(1);
            expect(r.stderr).to.match(/\/healthz is not 200 after 0 s: stopping the rollout here/).and.match(/restored: this instance serves the version it served before/);
            expect(fs.readFileSync(compose(), "utf8")).to.equal("image: orthanc:1 # served\n");
            const changes = r.calls.filter((c) => /systemctl start|register-targets|deregister-targets/.test(c));
            expect(changes).to.deep.equal([
                "aws elbv2 deregister-targets --region eu-west-1 --target-group-arn arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/dicom/1 --targets Id=i-this,Port=11112",
                "systemctl start orthweb.service",
                "aws elbv2 register-targets --region eu-west-1 --target-group-arn arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/dicom/1 --targets Id=i-this,Port=11112",
                "systemctl start orthweb.service",
                "aws elbv2 register-targets --region eu-west-1 --target-group-arn arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/dicom/1 --targets Id=i-this,Port=11112",
            ]);
            // Never claims, never touches the launch hook or a refresh.
            expect(changing(r.calls).join("\n")).to.not.match(/claim\.sh|lifecycle-action|instance-refresh|associate-address|assign-private/);
        });

        it("on a first boot (nothing served before) leaves the new files: there is no version to go back to", () => {
            fs.rmSync(compose(), { force: true });
            const r = apply({ BUNDLE: bundleWith("image: orthanc:2 # broken\n") }, { healthySeconds: 0, drainSeconds: 0 });
            expect(r.status).to.equal(1);
            expect(r.stderr).to.not.match(/restor/);
            expect(fs.readFileSync(compose(), "utf8")).to.equal("image: orthanc:2 # broken\n");
        });
    });

    describe("as the gate (the association after the group)", () => {
        it("has nothing to do on an instance that is not being replaced", () => {
            const r = apply({ MY_STATE: "Pending:Wait", SERVING: "1" }, {}, "gate");
            expect(r.status, r.stderr).to.equal(0);
            expect(changing(r.calls)).to.deep.equal([]);
        });

        it("waits for the successor on the instance being replaced", () => {
            const r = apply({ GROUP_VERSION: "2", SUCCESSOR_AFTER: "2" }, {}, "gate");
            expect(r.status, r.stderr).to.equal(0);
            expect(r.stderr).to.match(/a successor is in service/);
        });
    });
});

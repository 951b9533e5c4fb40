// The apply script for real (bash), against stand-ins for the AWS CLI and the metadata service that answer as AWS
// would and record every call: on an instance its group is replacing it must touch nothing, keep serving, and report
// success only once its successor is in service (so the next slot waits for this one's new instance); and a lookup
// that fails must stop it before it drains or restarts anything.
import { expect } from "chai";
import * as fs from "fs";
import * as path from "path";
import { renderApplyScript } from "../../components/bootstrap/apply";
import { bundleKey, renderBundle, ROLLOUT_TIMING } from "../../rules/rollout";
import { metadataStub, StubShell } from "../stubShell";

const STUBS: Record<string, string> = {
    curl: metadataStub({ "instance-id": "i-old" }),
    // The group runs launch template version $GROUP_VERSION; this instance was launched from version 1. Looking at
    // the group's instances finds a successor in service from the $SUCCESSOR_AFTER-th look on.
    aws: `#!/bin/bash
echo "aws $*" >>"$CALLS"
case "$1 $2" in
    "autoscaling describe-auto-scaling-instances") printf 'orthanc-1-0mock\\t1\\n' ;;
    "autoscaling describe-auto-scaling-groups")
        case "$*" in
            *LaunchTemplate.Version*) echo "$GROUP_VERSION" ;;
            *length*) n=$(( $(cat "$LOOKS" 2>/dev/null || echo 0) + 1 )); echo "$n" >"$LOOKS"; if [ "$n" -ge "$SUCCESSOR_AFTER" ]; then echo 1; else echo 0; fi ;;
        esac ;;
    "s3 cp") if [ -n "$BUNDLE" ]; then cp "$BUNDLE" "\${@: -1}"; else exit 1; fi ;;
    "resourcegroupstaggingapi get-resources") echo "Could not connect to the endpoint URL" >&2; exit 255 ;;
    *) echo "unexpected aws call: $*" >&2; exit 1 ;;
esac
`,
    // The wait between looks, shortened: the script's pacing is not what is tested.
    sleep: "#!/bin/bash\nexit 0\n",
};

describe("apply script on an instance its group is replacing (real bash, stand-in AWS)", function () {
    this.timeout(20000);
    let shell: StubShell;

    before(() => (shell = new StubShell("apply", STUBS)));
    after(() => shell.remove());

    function apply(env: { GROUP_VERSION: string; SUCCESSOR_AFTER: string; BUNDLE?: string }, timing: Partial<Record<keyof typeof ROLLOUT_TIMING, number>> = {}) {
        const key = env.BUNDLE ? bundleKey(fs.readFileSync(env.BUNDLE, "utf8")) : `config/${"a".repeat(64)}.json`;
        const script = shell.script("apply.sh", renderApplyScript({ region: "eu-west-1", bucket: "b", bundleKey: key, tagFilters: { project: "p", stack: "s" }, dir: path.join(shell.dir, "opt"), lockFile: path.join(shell.dir, "lock"), timing }));
        const looks = path.join(shell.dir, "looks");
        fs.rmSync(looks, { force: true });
        return shell.run(script, [], { LOOKS: looks, BUNDLE: "", ...env });
    }

    it("waits, touching nothing, until a successor is in service, then reports success", () => {
        const r = apply({ GROUP_VERSION: "2", SUCCESSOR_AFTER: "3" });
        expect(r.status, r.stderr).to.equal(0);
        expect(r.stderr).to.match(/version 1 is no longer orthanc-1-0mock's/).and.match(/a successor is in service/);
        expect(r.calls.filter((c) => c.includes("length(")).length).to.equal(3);
        // Not even the bundle is fetched: nothing on this instance changes while it still serves.
        expect(r.calls.filter((c) => !c.startsWith("aws autoscaling describe-"))).to.deep.equal([]);
    });

    it("fails the rollout when no successor comes into service in time (the instance keeps serving)", () => {
        const r = apply({ GROUP_VERSION: "2", SUCCESSOR_AFTER: "99" }, { successorSeconds: 0 });
        expect(r.status).to.equal(1);
        expect(r.stderr).to.match(/no successor in service in orthanc-1-0mock after 0 s: stopping the rollout here/);
        expect(r.calls.some((c) => c.startsWith("aws s3"))).to.equal(false);
    });

    it("stops, before draining or restarting anything, when it cannot find the target groups (not: none found)", () => {
        const bundle = path.join(shell.dir, "bundle.json");
        fs.writeFileSync(bundle, renderBundle([{ path: path.join(shell.dir, "opt", "nginx.conf"), permissions: "0644", content: "events {}\n" }]));
        const r = apply({ GROUP_VERSION: "1", SUCCESSOR_AFTER: "1", BUNDLE: bundle });
        expect(r.status, r.stderr).to.equal(255);
        expect(r.calls.some((c) => c.includes("get-resources"))).to.equal(true);
        expect(r.calls.filter((c) => /deregister-targets|register-targets|complete-lifecycle-action/.test(c))).to.deep.equal([]);
        // The files were written (they are only files), but nothing was started: there is no systemctl stand-in, and none was needed.
        expect(fs.readFileSync(path.join(shell.dir, "opt", "nginx.conf"), "utf8")).to.equal("events {}\n");
    });

    it("applies as usual on an instance of the group's current version (and fails here only at the stand-in's bucket)", () => {
        const r = apply({ GROUP_VERSION: "1", SUCCESSOR_AFTER: "1" });
        expect(r.status).to.not.equal(0);
        expect(r.calls.some((c) => c.startsWith("aws s3 cp"))).to.equal(true);
        expect(r.calls.some((c) => c.includes("length("))).to.equal(false);
    });
});

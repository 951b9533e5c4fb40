// The twin's stand-in for what EC2 Auto Scaling does with a pair's two slots during an instance refresh, so that the
// program's own apply script (out of the plan's SSM document, with the association's parameters filled in as SSM does
// and the twin instance's directory and lock, twin/repoint.ts) can run for real as each instance of a slot: an AWS CLI
// that answers from a small state directory (each group's template version, its instances' lifecycle states and
// template versions, its latest refresh) and changes it as AWS would (a cancelled refresh stays Cancelling until the
// instance in the launch hook has left; an abandoned instance is terminated), the bucket's bundle, the tagging and
// target-group lookups of an instance no target group lists yet; the metadata service; and systemd, whose
// `start orthweb.service` runs what the scenario says the new version does. Every call is logged, so a scenario can
// tell which group anything touched. bash, the apply script, its locking and error handling are real.
import * as fs from "fs";
import * as path from "path";
import { ApplyDocument } from "./fromProgram";
import { run, RunResult } from "./lab";
import { applySubstitutions, describeSubstitutions, substitute, Substitution } from "./repoint";

const AWS_STUB = `#!/bin/bash
# The twin's Auto Scaling, S3 and tagging APIs. State: $ASG_STATE/<group>/{version,refresh,instances/<id>} with an
# instance file "<lifecycle state> <template version>".
set -euo pipefail
S=$ASG_STATE
echo "$(date +%s.%N) $SLOT_INSTANCE aws $*" >>"$S/calls"
arg() { local want=$1; shift; while [ $# -gt 0 ]; do if [ "$1" = "$want" ]; then echo "$2"; return; fi; shift; done; }
group_of() { local g; for g in "$S"/groups/*; do if [ -f "$g/instances/$1" ]; then basename "$g"; return; fi; done; }
instances() { # <group> <lifecycle state> [<id left out>]: the group's instances in that state
    local f; for f in "$S/groups/$1/instances"/*; do [ -f "$f" ] || continue
        if [ "$(cut -d ' ' -f 1 "$f")" = "$2" ] && [ "$(basename "$f")" != "\${3:-}" ]; then basename "$f"; fi; done; }
settle() { # a cancellation completes once no instance of the group is in the launch hook
    local g=$1
    if grep -q '^Cancelling' "$S/groups/$g/refresh" && [ -z "$(instances "$g" Pending:Wait)" ]; then
        printf 'Cancelled\\tCancelled by a call to CancelInstanceRefresh\\n' >"$S/groups/$g/refresh"; fi
}
case "$1 $2" in
    "autoscaling describe-auto-scaling-instances")
        id=$(arg --instance-ids "$@"); g=$(group_of "$id"); read -r state version <"$S/groups/$g/instances/$id"
        case "$*" in
            *LaunchTemplate.Version*) printf '%s\\t%s\\n' "$g" "$version" ;;
            *AutoScalingGroupName,LifecycleState*) printf '%s\\t%s\\n' "$g" "$state" ;;
            *) echo "$state" ;;
        esac ;;
    "autoscaling describe-auto-scaling-groups")
        g=$(arg --auto-scaling-group-names "$@")
        case "$*" in
            *LaunchTemplate.Version*) cat "$S/groups/$g/version" ;;
            *"length("*) instances "$g" InService "$SLOT_INSTANCE" | wc -l ;;
            *Pending:Wait*) instances "$g" Pending:Wait "$SLOT_INSTANCE" | tr '\\n' ' '; echo ;;
        esac ;;
    "autoscaling describe-instance-refreshes") g=$(arg --auto-scaling-group-name "$@"); settle "$g"; cat "$S/groups/$g/refresh" ;;
    "autoscaling cancel-instance-refresh")
        g=$(arg --auto-scaling-group-name "$@")
        if ! grep -q '^InProgress' "$S/groups/$g/refresh"; then
            echo "An error occurred (ActiveInstanceRefreshNotFound) when calling the CancelInstanceRefresh operation" >&2; exit 254; fi
        printf 'Cancelling\\tNone\\n' >"$S/groups/$g/refresh"; settle "$g"; echo '{"InstanceRefreshId": "twin"}' ;;
    "autoscaling start-instance-refresh") g=$(arg --auto-scaling-group-name "$@"); printf 'InProgress\\tNone\\n' >"$S/groups/$g/refresh" ;;
    "autoscaling record-lifecycle-action-heartbeat") ;;
    "autoscaling complete-lifecycle-action")
        g=$(arg --auto-scaling-group-name "$@"); id=$(arg --instance-id "$@"); read -r _ version <"$S/groups/$g/instances/$id"
        if [ "$(arg --lifecycle-action-result "$@")" = CONTINUE ]; then echo "InService $version" >"$S/groups/$g/instances/$id"
        else rm "$S/groups/$g/instances/$id"; echo "$id" >>"$S/terminated"; settle "$g"; fi ;;
    "autoscaling terminate-instance-in-auto-scaling-group")
        id=$(arg --instance-id "$@"); g=$(group_of "$id"); rm "$S/groups/$g/instances/$id"; echo "$id" >>"$S/terminated" ;;
    "autoscaling describe-traffic-sources") echo None ;;
    "s3 cp") cp "$S/bundle.json" "\${@: -1}" ;;
    "resourcegroupstaggingapi get-resources") echo "arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/twin-dicom/0" ;;
    # A new instance: no target group lists it yet.
    "elbv2 describe-target-health") echo None ;;
    *) echo "twin Auto Scaling stand-in: unexpected call: $*" >&2; exit 1 ;;
esac
`;

const CURL_STUB = `#!/bin/bash
# The metadata service for the instance the script runs as; anything else is the real curl.
case "$*" in
    *169.254.169.254*api/token*) echo token ;;
    *169.254.169.254*meta-data/instance-id) echo "$SLOT_INSTANCE" ;;
    *169.254.169.254*) exit 22 ;;
    *) exec /usr/bin/curl "$@" ;;
esac
`;

const SYSTEMCTL_STUB = `#!/bin/bash
# systemd as far as the apply script uses it: the units are files; starting orthweb.service runs $START_COMMAND.
echo "systemctl $*" >>"$ASG_STATE/systemctl"
case "$*" in
    "start orthweb.service") exec bash -c "$START_COMMAND" ;;
    "is-active"*) exit 3 ;;
    *) exit 0 ;;
esac
`;

export interface GroupState {
    /** The group's launch template version. */
    readonly version: string;
    /** Its latest instance refresh: "<status>\t<reason>". */
    readonly refresh: string;
    /** Instance id -> "<lifecycle state> <template version>". */
    readonly instances: Record<string, string>;
}

export class TwinAutoScaling {
    private readonly state: string;
    private readonly bin: string;

    constructor(private readonly dir: string, groups: Record<string, GroupState>, bundle: string, private readonly document: ApplyDocument) {
        this.state = path.join(dir, "asg");
        this.bin = path.join(dir, "bin");
        fs.mkdirSync(this.bin, { recursive: true });
        for (const [name, g] of Object.entries(groups)) this.setGroup(name, g);
        fs.writeFileSync(path.join(this.state, "bundle.json"), bundle);
        fs.writeFileSync(path.join(this.state, "calls"), "");
        fs.writeFileSync(path.join(this.bin, "aws"), AWS_STUB, { mode: 0o755 });
        fs.writeFileSync(path.join(this.bin, "curl"), CURL_STUB, { mode: 0o755 });
        fs.writeFileSync(path.join(this.bin, "systemctl"), SYSTEMCTL_STUB, { mode: 0o755 });
    }

    /** Sets a group as Auto Scaling holds it (the group's update by `pulumi up`, a launch). */
    setGroup(name: string, g: GroupState): void {
        const dir = path.join(this.state, "groups", name);
        fs.rmSync(dir, { recursive: true, force: true });
        fs.mkdirSync(path.join(dir, "instances"), { recursive: true });
        fs.writeFileSync(path.join(dir, "version"), `${g.version}\n`);
        fs.writeFileSync(path.join(dir, "refresh"), `${g.refresh}\n`);
        for (const [id, s] of Object.entries(g.instances)) fs.writeFileSync(path.join(dir, "instances", id), `${s}\n`);
    }

    /** An instance's lifecycle state and version ("" once it has left the group). */
    instance(group: string, id: string): string {
        const file = path.join(this.state, "groups", group, "instances", id);
        return fs.existsSync(file) ? fs.readFileSync(file, "utf8").trim() : "";
    }

    refresh(group: string): string {
        return fs.readFileSync(path.join(this.state, "groups", group, "refresh"), "utf8").trim();
    }

    /** Every AWS call made so far: "<time> <instance> aws <args>". */
    calls(): string[] {
        return fs.readFileSync(path.join(this.state, "calls"), "utf8").split("\n").filter(Boolean);
    }

    /** The program's apply script as SSM would run it as `instanceId` for an association in `mode`, and what changed. */
    applyScript(instanceId: string, mode: "apply" | "gate", bundleKey: string): { script: string; substitutions: Substitution[] } {
        const home = path.join(this.dir, instanceId);
        const substitutions = applySubstitutions(
            { region: "eu-west-1", bucket: "twin", bundleKey, project: "orthweb", stack: "twin", mode, dir: path.join(home, "opt"), lockFile: path.join(home, "apply.lock") },
            this.document.patterns,
        );
        return { script: substitute("the SSM document's apply script", this.document.script, substitutions), substitutions };
    }

    /** Runs the program's apply script as `instanceId` (an SSM association's run on it), with the given mode. */
    apply(instanceId: string, options: { mode: "apply" | "gate"; bundleKey: string; startCommand: string }): Promise<RunResult> {
        const home = path.join(this.dir, instanceId);
        fs.mkdirSync(home, { recursive: true });
        const script = path.join(home, `apply-${options.mode}.sh`);
        fs.writeFileSync(script, this.applyScript(instanceId, options.mode, options.bundleKey).script, { mode: 0o700 });
        const env = { ...process.env, PATH: `${this.bin}:${process.env.PATH}`, ASG_STATE: this.state, SLOT_INSTANCE: instanceId, START_COMMAND: options.startCommand };
        return run("bash", [script], { timeoutMs: 120000, env });
    }

    /** One log line per change the twin makes to the program's apply script (for an instance and mode). */
    describeApply(instanceId: string, mode: "apply" | "gate", bundleKey: string): string[] {
        return describeSubstitutions(this.applyScript(instanceId, mode, bundleKey).substitutions);
    }
}

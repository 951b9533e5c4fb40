// How the instance's files are DELIVERED and APPLIED (what they contain is renderBootstrapFiles()'s business):
// the apply script that an SSM association runs on one instance at a time, and the SSM document carrying it.
// The script fetches the content-addressed bundle from the pair's bucket, checks its hash, writes the files,
// drains the instance from every target group it is registered in, runs the start script, restarts what read a
// changed file, waits for /healthz 200 on the instance, registers it again and waits until every target group
// sees it healthy; then, for a new instance of the slot, lets it into service (the launch hook) and waits for its
// group's target groups, and only then takes the slot's address (claim.sh). Any failure exits non-zero: the
// association fails, `pulumi up` fails, the next instance waits; a new instance that fails next to a serving one
// also ends the refresh and leaves (abandoned in the hook), so the serving one keeps the slot and its address.
import { ROLLOUT_TIMING, SLOT_GROUP } from "../../rules/rollout";
import { WEB_PORT } from "../../rules/ports";
import { BOOTSTRAP_TIMERS, BootstrapFile } from "./index";
import { APPLY_LOCK_FILE, BOOTSTRAP_DIR, DICOM_SENDER_GATE_FILE } from "../../rules/instanceFiles";
import { shellQuote } from "./startScript";

export interface ApplyScriptParams {
    /** Literal values, or SSM document placeholders such as `{{ bucket }}` (checked by the document's patterns). */
    readonly region: string;
    readonly bucket: string;
    readonly bundleKey: string;
    /** The target groups to gate on are those carrying these tags (the stack's), where this instance is registered. */
    readonly tagFilters: { readonly project: string; readonly stack: string };
    /**
     * apply: write the bundle and pass the gates (the association before the slot's group); gate: only wait, on an
     * instance its group is replacing, for its successor (the association after the group). @default apply
     */
    readonly mode?: string;
    readonly dir?: string;
    /** One apply at a time on an instance. @default APPLY_LOCK_FILE */
    readonly lockFile?: string;
    readonly timing?: Partial<Record<keyof typeof ROLLOUT_TIMING, number>>;
}

/** What a refresh this script starts (a re-run after a failed one) prefers: the group's own refresh settings. */
export const REFRESH_PREFERENCES = {
    MinHealthyPercentage: SLOT_GROUP.refresh.minHealthyPercentage,
    MaxHealthyPercentage: SLOT_GROUP.refresh.maxHealthyPercentage,
    InstanceWarmup: SLOT_GROUP.refresh.instanceWarmupSeconds,
    AutoRollback: SLOT_GROUP.refresh.autoRollback,
};

/** Files whose change needs a container restart that `docker compose up` would not do by itself. */
export const RESTART_ON_CHANGE: Readonly<Record<string, string>> = { "nginx.conf": "nginx", [DICOM_SENDER_GATE_FILE]: "nginx", "healthz.py": "healthz" };

export function renderApplyScript(p: ApplyScriptParams): string {
    const dir = p.dir ?? BOOTSTRAP_DIR;
    const t = { ...ROLLOUT_TIMING, ...p.timing };
    const restarts = Object.entries(RESTART_ON_CHANGE)
        .map(([file, service]) => `        ${shellQuote(`${dir}/${file}`)}) restart+=(${shellQuote(service)}) ;;`)
        .join("\n");
    return `#!/bin/bash
# Rendered by orthweb: applies one config bundle to this instance (run by an SSM association, one instance at a time).
set -euo pipefail
# A failing lookup inside $(...) must stop the script too, not read as an empty answer.
shopt -s inherit_errexit
umask 077

readonly REGION=${shellQuote(p.region)}
readonly BUCKET=${shellQuote(p.bucket)}
readonly KEY=${shellQuote(p.bundleKey)}
readonly TAG_PROJECT=${shellQuote(p.tagFilters.project)}
readonly TAG_STACK=${shellQuote(p.tagFilters.stack)}
readonly MODE=${shellQuote(p.mode ?? "apply")}
readonly DIR=${shellQuote(dir)}
readonly DRAIN_SECONDS=${t.drainSeconds}
readonly HEALTHY_SECONDS=${t.healthySeconds}
readonly TARGET_HEALTHY_SECONDS=${t.targetHealthySeconds}
readonly LAUNCH_HOOK=${shellQuote(SLOT_GROUP.launchHookName)}
readonly SUCCESSOR_SECONDS=${t.successorSeconds}

log() { echo "orthweb-apply: $*" >&2; }

# One apply at a time on this instance, whoever starts it.
exec 9>${shellQuote(p.lockFile ?? APPLY_LOCK_FILE)}
flock 9

imds_token=$(curl -fsS -X PUT -H "X-aws-ec2-metadata-token-ttl-seconds: 300" http://169.254.169.254/latest/api/token)
INSTANCE_ID=$(curl -fsS -H "X-aws-ec2-metadata-token: $imds_token" http://169.254.169.254/latest/meta-data/instance-id)
readonly INSTANCE_ID

# Where this instance stands in its slot (an Auto Scaling group of one, two during a refresh). Each lookup in an
# assignment of its own: a failing one stops the script (set -e) instead of reading as "no group".
slot_info=$(aws autoscaling describe-auto-scaling-instances --region "$REGION" --instance-ids "$INSTANCE_ID" \\
    --query 'AutoScalingInstances[0].[AutoScalingGroupName,LaunchTemplate.Version]' --output text)
read -r GROUP MY_VERSION <<<"$slot_info"
# The group's other instances in service (a successor, or the instance a successor is replacing).
serving_others() {
    aws autoscaling describe-auto-scaling-groups --region "$REGION" --auto-scaling-group-names "$GROUP" \\
        --query "length(AutoScalingGroups[0].Instances[?LifecycleState=='InService' && InstanceId!='$INSTANCE_ID'])" --output text
}

group_version=""
serving_others=0
if [ -n "$GROUP" ] && [ "$GROUP" != "None" ]; then
    group_version=$(aws autoscaling describe-auto-scaling-groups --region "$REGION" --auto-scaling-group-names "$GROUP" \\
        --query 'AutoScalingGroups[0].LaunchTemplate.Version' --output text)
    serving_others=$(serving_others)
fi

# The slot's other instances that wait in the launch hook (successors not yet let in).
waiting_successors() {
    aws autoscaling describe-auto-scaling-groups --region "$REGION" --auto-scaling-group-names "$GROUP" \\
        --query "AutoScalingGroups[0].Instances[?LifecycleState=='Pending:Wait' && InstanceId!='$INSTANCE_ID'].InstanceId" --output text
}

# The group's latest instance refresh: "<status> <reason>" ("None" when it never had one).
latest_refresh() {
    aws autoscaling describe-instance-refreshes --region "$REGION" --auto-scaling-group-name "$GROUP" --max-records 1 \\
        --query 'InstanceRefreshes[0].[Status,StatusReason]' --output text
}

# Ends the group's instance refresh (none active is fine): no further instance of the slot is replaced.
end_refresh() {
    if aws autoscaling cancel-instance-refresh --region "$REGION" --auto-scaling-group-name "$GROUP" >/dev/null; then
        log "cancelled $GROUP's instance refresh"
    else
        log "no active instance refresh to cancel in $GROUP"
    fi
}

# An instance its group is replacing (an instance refresh: its launch template version is no longer the group's)
# touches nothing, not even its files: it keeps serving, with its address, until its successor is in service, then
# reports success. So the next slot is touched only once this one has its new instance. While it waits it keeps a
# successor in the launch hook from timing out into service unconfigured; if none comes into service in time it
# ends the refresh and abandons the successor, and the rollout stops here with this instance serving.
if [ -n "$group_version" ] && [ "$group_version" != "None" ] && [ "$MY_VERSION" != "$group_version" ]; then
    log "launch template version $MY_VERSION is no longer $GROUP's ($group_version): waiting for the instance that replaces this one"
    refresh=$(latest_refresh)
    read -r refresh_status refresh_reason <<<"$refresh"
    case "$refresh_status" in
        Pending | InProgress | Baking | Cancelling | RollbackInProgress) ;;
        *)
            # A re-run after a refresh that ended (or never started): nothing would ever replace this instance.
            # (One the group's update has just started refuses a second: the loop below then follows that one.)
            if aws autoscaling start-instance-refresh --region "$REGION" --auto-scaling-group-name "$GROUP" --strategy Rolling \\
                --preferences ${shellQuote(JSON.stringify(REFRESH_PREFERENCES))} >/dev/null; then
                log "no instance refresh was running in $GROUP (last: $refresh_status): started one"
            fi
            ;;
    esac
    deadline=$((SECONDS + SUCCESSOR_SECONDS))
    until serving=$(serving_others) && [ "$serving" -ge 1 ]; do
        successors=$(waiting_successors)
        for successor in $successors; do
            [ "$successor" != "None" ] || continue
            aws autoscaling record-lifecycle-action-heartbeat --region "$REGION" --auto-scaling-group-name "$GROUP" \\
                --lifecycle-hook-name "$LAUNCH_HOOK" --instance-id "$successor"
        done
        refresh=$(latest_refresh)
        read -r refresh_status refresh_reason <<<"$refresh"
        case "$refresh_status" in
            Successful | Failed | Cancelled | RollbackFailed | RollbackSuccessful)
                log "the instance refresh of $GROUP ended ($refresh_status: $refresh_reason) with no successor in service: stopping the rollout here (this instance still serves)"
                exit 1 ;;
        esac
        if [ "$SECONDS" -ge "$deadline" ]; then
            successors=$(waiting_successors)
            for successor in $successors; do
                [ "$successor" != "None" ] || continue
                aws autoscaling complete-lifecycle-action --region "$REGION" --auto-scaling-group-name "$GROUP" \\
                    --lifecycle-hook-name "$LAUNCH_HOOK" --instance-id "$successor" --lifecycle-action-result ABANDON
                log "abandoned $successor, still in the launch hook"
            done
            end_refresh
            log "no successor in service in $GROUP after $SUCCESSOR_SECONDS s: stopping the rollout here (this instance still serves)"
            exit 1
        fi
        sleep 10
    done
    log "a successor is in service in $GROUP: this instance leaves with the refresh"
    exit 0
fi

# The gate association (created after the slot's group, so that it sees a refresh the group's update started) waits
# on the instance being replaced only; the apply association (before the group) applies the bundle.
if [ "$MODE" = "gate" ]; then
    log "not an instance its group is replacing: nothing to wait for"
    exit 0
fi

# A successor: a new instance next to one that still serves the slot. If its apply fails, it gives the slot back:
# it leaves (abandoned in the launch hook, or terminated if already let in), the refresh is ended, the serving one
# keeps its address; the rollout stops here.
SUCCESSOR=""
TARGETS=""
if [ "$serving_others" != "None" ] && [ "$serving_others" -ge 1 ]; then SUCCESSOR=1; fi
readonly SUCCESSOR

give_way() {
    local state
    set +e
    log "this new instance failed next to the one serving $GROUP: leaving the slot to it and ending the refresh"
    # Leave first, then end the refresh: the surplus instance is the refresh's to settle, never a scale-in's (which
    # would pick the instance on the oldest template, the serving one). The group stays at its desired capacity.
    state=$(aws autoscaling describe-auto-scaling-instances --region "$REGION" --instance-ids "$INSTANCE_ID" \\
        --query 'AutoScalingInstances[0].LifecycleState' --output text)
    if [ "$state" = "Pending:Wait" ]; then
        aws autoscaling complete-lifecycle-action --region "$REGION" --auto-scaling-group-name "$GROUP" \\
            --lifecycle-hook-name "$LAUNCH_HOOK" --instance-id "$INSTANCE_ID" --lifecycle-action-result ABANDON &&
            log "abandoned this instance in the launch hook: $GROUP terminates it"
    else
        aws autoscaling terminate-instance-in-auto-scaling-group --region "$REGION" --instance-id "$INSTANCE_ID" \\
            --no-should-decrement-desired-capacity >/dev/null && log "asked $GROUP to terminate this instance"
    fi
    end_refresh
}

# Units reloaded, timers on, start.sh (installs Docker once, fetches the secrets, brings the containers up, restarts
# what read a changed secret), then a restart of what read a changed file that compose would not restart.
bring_up() {
    local path restart=()
    systemctl daemon-reload
    systemctl enable --now ${BOOTSTRAP_TIMERS.join(" ")}
    systemctl start orthweb.service
    while read -r path; do
        case "$path" in
${restarts}
        esac
    done <"$work/changed"
    if [ "\${#restart[@]}" -gt 0 ]; then
        docker compose --project-name orthweb --file "$DIR/docker-compose.yml" restart "\${restart[@]}"
    fi
}

# An in-place change that failed on an instance that served before: the files it held go back, what they changed
# restarts, and it is registered again, so it serves the version it served before (the rollout still fails).
restore_previous() {
    local deadline arn port
    set +e
    log "restoring the files this instance served with before the change, and restarting what they changed"
    python3 - "$work/previous.json" <<'PY'
import base64, json, os, sys, tempfile
for f in json.load(open(sys.argv[1])):
    if f["content"] is None:
        try:
            os.remove(f["path"])
        except FileNotFoundError:
            pass
        continue
    fd, tmp = tempfile.mkstemp(dir=os.path.dirname(f["path"]))
    with os.fdopen(fd, "wb") as out:
        out.write(base64.b64decode(f["content"]))
    os.chmod(tmp, f["mode"])
    os.replace(tmp, f["path"])
PY
    (set -e; bring_up)
    deadline=$((SECONDS + HEALTHY_SECONDS))
    until [ "$(healthz)" = "200" ]; do
        if [ "$SECONDS" -ge "$deadline" ]; then log "the previous version does not answer /healthz 200 either"; break; fi
        sleep 5
    done
    while read -r arn port; do
        [ -n "$arn" ] && aws elbv2 register-targets --region "$REGION" --target-group-arn "$arn" --targets "Id=$INSTANCE_ID,Port=$port"
    done <<<"$TARGETS"
    log "restored: this instance serves the version it served before"
}

on_exit() {
    local status=$?
    if [ "$status" -ne 0 ] && [ -n "$SUCCESSOR" ]; then
        give_way
    elif [ "$status" -ne 0 ] && [ -n "\${WAS_SERVING:-}" ] && [ -s "$work/previous.json" ]; then
        restore_previous
    fi
    rm -rf "$work"
    exit "$status"
}

healthz() {
    curl -ks -o /dev/null -w '%{http_code}' --max-time 5 "https://127.0.0.1:${WEB_PORT}/healthz" || true
}

work=$(mktemp -d)
trap on_exit EXIT

# The bundle, checked against the hash its key is named by.
aws s3 cp --only-show-errors --region "$REGION" "s3://$BUCKET/$KEY" "$work/bundle.json"
expected=$(basename "$KEY" .json)
actual=$(sha256sum "$work/bundle.json" | cut -d ' ' -f 1)
if [ "$expected" != "$actual" ]; then
    log "bundle $KEY has sha256 $actual, expected $expected"
    exit 1
fi

# Writes every file of the bundle (atomically, with its mode) and prints the paths whose content changed.
# Whether this instance served before this apply: only then is there a version to go back to if the new one fails.
WAS_SERVING=""
if systemctl is-active --quiet docker && [ "$(healthz)" = "200" ]; then WAS_SERVING=1; fi
readonly WAS_SERVING

# Writes every file of the bundle (atomically, with its mode), prints the paths whose content changed and keeps
# what they held before in $work/previous.json.
python3 - "$work/bundle.json" "$work/previous.json" >"$work/changed" <<'PY'
import base64, json, os, sys, tempfile
doc = json.load(open(sys.argv[1]))
assert doc.get("version") == 1, "bundle version"
previous = []
for f in doc["files"]:
    path, mode, content = f["path"], int(f["permissions"], 8), f["content"].encode()
    os.makedirs(os.path.dirname(path), mode=0o755, exist_ok=True)
    try:
        before = open(path, "rb").read()
        before_mode = os.stat(path).st_mode & 0o777
    except FileNotFoundError:
        before, before_mode = None, None
    if before == content and before_mode == mode:
        continue
    previous.append({"path": path, "mode": before_mode, "content": None if before is None else base64.b64encode(before).decode()})
    with open(sys.argv[2], "w") as out:
        json.dump(previous, out)
    fd, tmp = tempfile.mkstemp(dir=os.path.dirname(path))
    with os.fdopen(fd, "wb") as out:
        out.write(content)
    os.chmod(tmp, mode)
    os.replace(tmp, path)
    print(path, flush=True)
PY

# Target groups of this stack in which this instance is registered: "arn port" lines.
registered_targets() {
    local arns arn port
    arns=$(aws resourcegroupstaggingapi get-resources --region "$REGION" \\
        --resource-type-filters elasticloadbalancing:targetgroup \\
        --tag-filters "Key=Project,Values=$TAG_PROJECT" "Key=Stack,Values=$TAG_STACK" \\
        --query 'ResourceTagMappingList[].ResourceARN' --output text)
    for arn in $arns; do
        port=$(aws elbv2 describe-target-health --region "$REGION" --target-group-arn "$arn" \\
            --query "TargetHealthDescriptions[?Target.Id=='$INSTANCE_ID'] | [0].Target.Port" --output text)
        if [ -n "$port" ] && [ "$port" != "None" ]; then echo "$arn $port"; fi
    done
}

wait_target_healthy() {
    local arn=$1 target=$2 deadline=$3 state=""
    until state=$(aws elbv2 describe-target-health --region "$REGION" --target-group-arn "$arn" \\
        --targets "$target" --query 'TargetHealthDescriptions[0].TargetHealth.State' --output text) && [ "$state" = "healthy" ]; do
        if [ "$SECONDS" -ge "$deadline" ]; then
            log "not healthy in $arn after $TARGET_HEALTHY_SECONDS s (state $state): stopping the rollout here"
            exit 1
        fi
        sleep 5
    done
    log "healthy in $arn"
}

# A new instance of a slot waits in the group's launch hook (out of service, unregistered) until its first apply
# gets here: it is healthy and holds the slot's address. Let it in; its group then registers it in the target groups
# attached to the group, which must see it healthy before the next slot is touched.
enter_service() {
    local info group state sources arn deadline
    info=$(aws autoscaling describe-auto-scaling-instances --region "$REGION" --instance-ids "$INSTANCE_ID" \\
        --query 'AutoScalingInstances[0].[AutoScalingGroupName,LifecycleState]' --output text)
    read -r group state <<<"$info"
    if [ "$state" != "Pending:Wait" ]; then return 0; fi
    aws autoscaling complete-lifecycle-action --region "$REGION" --auto-scaling-group-name "$group" \\
        --lifecycle-hook-name "$LAUNCH_HOOK" --instance-id "$INSTANCE_ID" --lifecycle-action-result CONTINUE
    log "entering service in $group"
    sources=$(aws autoscaling describe-traffic-sources --region "$REGION" --auto-scaling-group-name "$group" \\
        --traffic-source-type elbv2 --query 'TrafficSources[].Identifier' --output text)
    deadline=$((SECONDS + TARGET_HEALTHY_SECONDS))
    for arn in $sources; do
        [ "$arn" != "None" ] || continue
        wait_target_healthy "$arn" "Id=$INSTANCE_ID" "$deadline"
    done
}

main() {
    local targets arn port deadline
    # Read once, before any change: a failing lookup stops the script here (set -e), never passes the gate.
    targets=$(registered_targets)
    TARGETS=$targets
    if [ ! -s "$work/changed" ] && systemctl is-active --quiet docker && [ "$(healthz)" = "200" ]; then
        log "bundle $KEY already applied and /healthz is 200: nothing to restart"
    else
        while read -r arn port; do
            [ -n "$arn" ] || continue
            log "draining from $arn"
            aws elbv2 deregister-targets --region "$REGION" --target-group-arn "$arn" --targets "Id=$INSTANCE_ID,Port=$port"
        done <<<"$targets"
        if [ -n "$targets" ]; then sleep "$DRAIN_SECONDS"; fi

        bring_up

        deadline=$((SECONDS + HEALTHY_SECONDS))
        until [ "$(healthz)" = "200" ]; do
            if [ "$SECONDS" -ge "$deadline" ]; then
                log "/healthz is not 200 after $HEALTHY_SECONDS s: stopping the rollout here"
                # Registered again so that the target groups match the stack; an unhealthy target gets no traffic.
                while read -r arn port; do
                    [ -n "$arn" ] && aws elbv2 register-targets --region "$REGION" --target-group-arn "$arn" --targets "Id=$INSTANCE_ID,Port=$port"
                done <<<"$targets"
                exit 1
            fi
            sleep 5
        done
        log "/healthz is 200"
        while read -r arn port; do
            [ -n "$arn" ] || continue
            aws elbv2 register-targets --region "$REGION" --target-group-arn "$arn" --targets "Id=$INSTANCE_ID,Port=$port"
        done <<<"$targets"
    fi

    # Every target group of the stack that lists this instance must see it healthy before the next instance is touched.
    deadline=$((SECONDS + TARGET_HEALTHY_SECONDS))
    while read -r arn port; do
        [ -n "$arn" ] || continue
        wait_target_healthy "$arn" "Id=$INSTANCE_ID,Port=$port" "$deadline"
    done <<<"$targets"

    # A new instance enters service (and its target groups see it healthy) before it takes anything from another.
    enter_service
    # Healthy: the slot's address (Elastic IP or reserved private address) moves here if another instance held it.
    "$DIR/claim.sh" --healthy
    log "applied $KEY"
}

main "$@"
`;
}

/** The SSM document's parameters: what the association passes, each checked by a pattern before the script runs. */
export const APPLY_DOCUMENT_PARAMETERS = {
    region: { type: "String", description: "AWS region", allowedPattern: "^[a-z0-9-]+$" },
    bucket: { type: "String", description: "The pair's bucket", allowedPattern: "^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$" },
    bundleKey: { type: "String", description: "The config bundle (content-addressed)", allowedPattern: "^config/[a-f0-9]{64}\\.json$" },
    project: { type: "String", description: "Project tag of the stack's target groups", allowedPattern: "^[A-Za-z0-9_.-]*$" },
    stack: { type: "String", description: "Stack tag of the stack's target groups", allowedPattern: "^[A-Za-z0-9_.-]*$" },
    revision: { type: "String", description: "Changes whenever the instance must pass the gate again (instance type, launch template version, certificate)", allowedPattern: "^[A-Za-z0-9_.:-]*$" },
    mode: { type: "String", description: "apply: write the bundle and pass the gates; gate: on an instance being replaced, wait for its successor", allowedPattern: "^(apply|gate)$" },
} as const;

/** The apply script as the SSM document carries it: the association's parameters as document placeholders. */
function applyDocumentScript(): string {
    return renderApplyScript({
        region: "{{ region }}",
        bucket: "{{ bucket }}",
        bundleKey: "{{ bundleKey }}",
        tagFilters: { project: "{{ project }}", stack: "{{ stack }}" },
        mode: "{{ mode }}",
    });
}

/** A shell script's first line (the bundle also holds a Python program, which calls no AWS API). */
export const SHELL_SCRIPT = /^#!\/bin\/(ba)?sh\b/;

/**
 * Every script the delivery runs on an instance: the bundle's shell scripts (start, metadata guard, peer, claim)
 * and the SSM document's apply script. What they call is what the instance role must allow and, without the
 * internet, what needs a VPC endpoint.
 */
export function instanceScripts(files: readonly BootstrapFile[]): string[] {
    return [...files.filter((f) => SHELL_SCRIPT.test(f.content)).map((f) => f.content), applyDocumentScript()];
}

/** The SSM Command document (schema 2.2) that runs the apply script with the association's parameters. */
export function renderApplyDocument(): string {
    const script = applyDocumentScript();
    return JSON.stringify({
        schemaVersion: "2.2",
        description: "orthweb: apply a config bundle to this instance and wait until it is healthy again",
        parameters: APPLY_DOCUMENT_PARAMETERS,
        mainSteps: [
            {
                action: "aws:runShellScript",
                name: "apply",
                inputs: { timeoutSeconds: String(ROLLOUT_TIMING.associationWaitSeconds), runCommand: script.split("\n") },
            },
        ],
    });
}

// peer.sh: finds the other instance of the pair at run time (every minute, orthweb-peer.timer) and tells nginx
// its private address for the peer fallback (nginx.ts). Never from the user data: the instances must not depend on
// each other, and a replaced peer comes back with a new address. The peer is "a running instance in this instance's
// VPC and security group, of the other slot" (during a refresh a slot briefly has two instances, the new one still
// starting: never the peer of its own slot), read from instance metadata and tags, so nothing about it is rendered here.
// A failed lookup keeps what nginx has; a lookup that finds no peer empties the map (nginx then works alone).
import { PEER_MAP_FILE } from "../../rules/instanceFiles";
import { shellQuote } from "./startScript";
import { SLOT_TAGS } from "../../rules/rollout";

export interface PeerScriptParams {
    readonly region: string;
    readonly dir: string;
}

export function renderPeerScript(p: PeerScriptParams): string {
    return `#!/bin/bash
# Rendered by orthweb: the peer's address for nginx.
set -euo pipefail
readonly REGION=${shellQuote(p.region)}
readonly DIR=${shellQuote(p.dir)}
readonly MAP="$DIR/run/peer/${PEER_MAP_FILE}"

imds() {
    local t
    t=$(curl -fsS --max-time 2 -X PUT -H "X-aws-ec2-metadata-token-ttl-seconds: 60" http://169.254.169.254/latest/api/token)
    curl -fsS --max-time 2 -H "X-aws-ec2-metadata-token: $t" "http://169.254.169.254/latest/meta-data/$1"
}

# Runs under \`if\`, where set -e does not apply: every step checks.
find_peer() {
    local self slot mac vpc sgs found
    self=$(imds instance-id) || return 1
    slot=$(aws ec2 describe-tags --region "$REGION" --output text --query 'Tags[0].Value' \\
        --filters "Name=resource-id,Values=$self" "Name=key,Values=${SLOT_TAGS.slot}") || return 1
    mac=$(imds mac) || return 1
    vpc=$(imds "network/interfaces/macs/$mac/vpc-id") || return 1
    sgs=$(imds "network/interfaces/macs/$mac/security-group-ids") || return 1
    found=$(aws ec2 describe-instances --region "$REGION" --output text \\
        --filters "Name=vpc-id,Values=$vpc" "Name=instance.group-id,Values=$(paste -sd, - <<<"$sgs")" "Name=instance-state-name,Values=running" \\
        --query "Reservations[].Instances[?InstanceId!='$self' && !(Tags[?Key=='${SLOT_TAGS.slot}' && Value=='$slot'])].PrivateIpAddress") || return 1
    tr -s '[:space:]' '\\n' <<<"$found" | grep -E '^[0-9]{1,3}(\\.[0-9]{1,3}){3}$' | sort | head -n 1 || true
}

main() {
    local peer want=""
    if ! peer=$(find_peer); then
        echo "orthweb-peer: lookup failed; $MAP unchanged" >&2
        return 0
    fi
    if [ -n "$peer" ]; then want="peer $peer;"; fi
    install -d -m 0755 "$DIR/run/peer"
    if [ -f "$MAP" ] && [ "$(cat "$MAP")" = "$want" ]; then return 0; fi
    printf '%s\\n' "$want" >"$MAP.tmp" && mv -f "$MAP.tmp" "$MAP"
    echo "orthweb-peer: peer \${peer:-none}" >&2
    docker compose --project-name orthweb --file "$DIR/docker-compose.yml" kill --signal HUP nginx || true
}

main "$@"
`;
}

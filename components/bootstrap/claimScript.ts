// claim.sh: keeps the slot's address on the slot's instance. Each instance is the only one of its slot (an Auto
// Scaling group of one); the slot's address is an Elastic IP (public placement) or a reserved private address
// (private), named by the instance's `orthweb:address` tag, which its group propagates. A replacement instance takes
// the address, so clients, Route 53 health checks and VPN users keep reaching the slot by the same name.
// - `claim.sh` (orthweb-claim.timer, every minute): takes the address only when no running instance holds it (the
//   previous holder was terminated), so a new instance that is still starting never steals it from a serving one.
// - `claim.sh --healthy` (the apply script, once /healthz is 200): takes it from any holder: during a refresh the new,
//   healthy instance takes over from the old one just before the group terminates the old one.
// A private address is also put on the instance's interface, which AWS does not do by itself.
import { SLOT_TAGS } from "../../rules/rollout";
import { shellQuote } from "./startScript";

export interface ClaimScriptParams {
    readonly region: string;
}

export function renderClaimScript(p: ClaimScriptParams): string {
    return `#!/bin/bash
# Rendered by orthweb: keeps this slot's address (Elastic IP or reserved private address) on this instance.
set -euo pipefail
shopt -s inherit_errexit
readonly REGION=${shellQuote(p.region)}
readonly ADDRESS_TAG=${shellQuote(SLOT_TAGS.address)}

log() { echo "orthweb-claim: $*" >&2; }

imds() {
    local t
    t=$(curl -fsS --max-time 2 -X PUT -H "X-aws-ec2-metadata-token-ttl-seconds: 60" http://169.254.169.254/latest/api/token)
    curl -fsS --max-time 2 -H "X-aws-ec2-metadata-token: $t" "http://169.254.169.254/latest/meta-data/$1"
}

# The instance holding the address now ("None" when nobody does).
holder_of() {
    case "$1" in
        eipalloc-*) aws ec2 describe-addresses --region "$REGION" --allocation-ids "$1" --query 'Addresses[0].InstanceId' --output text ;;
        *) aws ec2 describe-network-interfaces --region "$REGION" --filters "Name=addresses.private-ip-address,Values=$1" \\
            --query 'NetworkInterfaces[0].Attachment.InstanceId' --output text ;;
    esac
}

running() {
    local state
    [ -n "$1" ] && [ "$1" != "None" ] || return 1
    state=$(aws ec2 describe-instances --region "$REGION" --instance-ids "$1" --query 'Reservations[0].Instances[0].State.Name' --output text 2>/dev/null) || return 1
    [ "$state" = "running" ]
}

# A private address must also be on the interface itself (idempotent).
configure_locally() {
    local address=$1 mac cidr device
    case "$address" in eipalloc-*) return 0 ;; esac
    mac=$(imds mac)
    cidr=$(imds "network/interfaces/macs/$mac/subnet-ipv4-cidr-block")
    device=$(ip -o link | awk -v mac="$mac" 'index($0, mac) { sub(":$", "", $2); sub("@.*", "", $2); print $2; exit }')
    if ! ip -4 -o address show dev "$device" | grep -qF " $address/"; then
        # replace, not add: Amazon Linux's own network scripts may configure it in between ("File exists").
        ip address replace "$address/\${cidr#*/}" dev "$device"
        log "configured $address on $device"
    fi
}

take() {
    local address=$1 self=$2 mac eni
    case "$address" in
        eipalloc-*)
            aws ec2 associate-address --region "$REGION" --allocation-id "$address" --instance-id "$self" --allow-reassociation >/dev/null ;;
        *)
            mac=$(imds mac)
            eni=$(imds "network/interfaces/macs/$mac/interface-id")
            aws ec2 assign-private-ip-addresses --region "$REGION" --network-interface-id "$eni" --private-ip-addresses "$address" --allow-reassignment ;;
    esac
    log "took $address"
}

main() {
    local mode=\${1:-}
    local self address holder
    self=$(imds instance-id)
    address=$(aws ec2 describe-tags --region "$REGION" --filters "Name=resource-id,Values=$self" "Name=key,Values=$ADDRESS_TAG" \\
        --query 'Tags[0].Value' --output text)
    if [ -z "$address" ] || [ "$address" = "None" ]; then
        log "no $ADDRESS_TAG tag: this instance holds no slot address"
        return 0
    fi
    holder=$(holder_of "$address")
    if [ "$holder" != "$self" ]; then
        if [ "$mode" != "--healthy" ] && running "$holder"; then
            return 0
        fi
        take "$address" "$self"
    fi
    configure_locally "$address"
}

main "$@"
`;
}

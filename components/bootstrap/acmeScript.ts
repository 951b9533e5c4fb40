// acme.sh: the instances' certificate from an ACME CA by DNS-01 in the user's Route 53 zone, with lego (a pinned
// image, pulled like Orthanc's) rather than an ACME client of our own. Run by orthweb-acme.timer on both instances:
// - the certificate lives in the stack's acme secret (Secrets Manager), so the pair requests it once and the peer
//   only reads it;
// - exactly one instance issues at a time: a lock object in the stack's bucket, created with a conditional PutObject
//   (If-None-Match: *, which S3 refuses with 412 while the object exists); a lock whose holder died (older than the
//   TTL, which bounds lego's run) is taken over with If-Match on its ETag, so two waiters cannot both take it;
// - renewal starts RENEW_BEFORE_DAYS before expiry (or at once when the names or the CA changed); a failed issuance
//   keeps the certificate in use and backs off (1 h, 2 h ... 24 h) before the next try;
// - nginx reloads the new certificate (nginx -s reload: old workers finish their connections);
// - every run publishes the served certificate's days left; the alarm reads missing data as breaching, so a dead
//   timer alarms as surely as a failing CA.
import { ACME_LOCK_TTL_SECONDS, ACME_METRIC, ALARM_BELOW_DAYS, ACME_FIRST_BACKOFF_SECONDS, ACME_MAX_BACKOFF_SECONDS, RENEW_BEFORE_DAYS } from "../../rules/acme";
import { SLOT_TAGS } from "../../rules/rollout";
import { REPLACE_FILE, shellQuote } from "./startScript";

/** The lego release the instances run (Docker Hub goacme/lego; through the pull-through cache when it is on). */
export const DEFAULT_LEGO_IMAGE = "goacme/lego:v4.21.0";
/** The lock object in the stack's bucket. */
export const ACME_LOCK_KEY = "orthweb/acme.lock";
/** lego's run is stopped after this long, well inside the lock's TTL. */
export const LEGO_TIMEOUT_SECONDS = 600;

export interface AcmeScriptParams {
    readonly region: string;
    readonly dir: string;
    /** The stack's bucket: where the lock lives. */
    readonly bucket: string;
    /** The acme secret: {certificatePem, privateKeyPem, directory, names} once issued. */
    readonly secretArn: string;
    readonly email: string;
    readonly directoryUrl: string;
    readonly hostedZoneId: string;
    /** The certificate's names, the first its subject. */
    readonly names: readonly string[];
    /** The lego image as the instances pull it (rewritten to the cache when it is on). */
    readonly legoImage: string;
    /** The ECR registry to log in to before pulling. @default none: Docker Hub */
    readonly registry?: string;
}

export function renderAcmeScript(p: AcmeScriptParams): string {
    const names = p.names.map(shellQuote).join(" ");
    return `#!/bin/bash
# Rendered by orthweb: issues and renews this stack's certificate from ${p.directoryUrl} (DNS-01 in Route 53), one
# instance at a time, shares it through Secrets Manager, and reloads nginx with it. Run by orthweb-acme.timer.
set -euo pipefail
shopt -s inherit_errexit
umask 077

readonly REGION=${shellQuote(p.region)}
readonly DIR=${shellQuote(p.dir)}
readonly BUCKET=${shellQuote(p.bucket)}
readonly LOCK_KEY=${shellQuote(ACME_LOCK_KEY)}
readonly SECRET_ARN=${shellQuote(p.secretArn)}
readonly EMAIL=${shellQuote(p.email)}
readonly DIRECTORY=${shellQuote(p.directoryUrl)}
readonly ZONE_ID=${shellQuote(p.hostedZoneId)}
readonly NAMES=(${names})
readonly LEGO_IMAGE=${shellQuote(p.legoImage)}
readonly REGISTRY=${shellQuote(p.registry ?? "")}
readonly SLOT_TAG=${shellQuote(SLOT_TAGS.slot)}
readonly METRIC_NAMESPACE=${shellQuote(ACME_METRIC.namespace)}
readonly METRIC_NAME=${shellQuote(ACME_METRIC.name)}
readonly RENEW_SECONDS=${RENEW_BEFORE_DAYS * 86400}
readonly LOCK_TTL=${ACME_LOCK_TTL_SECONDS}
readonly LEGO_TIMEOUT=${LEGO_TIMEOUT_SECONDS}
readonly FIRST_BACKOFF=${ACME_FIRST_BACKOFF_SECONDS}
readonly MAX_BACKOFF=${ACME_MAX_BACKOFF_SECONDS}
# How long an instance that finds the lock taken waits for the holder's certificate, checking every PEER_POLL s.
readonly PEER_WAIT=\${ORTHWEB_ACME_PEER_WAIT:-$((LEGO_TIMEOUT + 60))}
readonly PEER_POLL=\${ORTHWEB_ACME_PEER_POLL:-15}
readonly STATE="$DIR/run/acme"
readonly TLS_DIR="$DIR/run/tls"
# --network host: lego reaches the instance role's credentials as the host does (the metadata guard admits no
# container but Orthanc's on the compose bridge). AWS_REGION and AWS_HOSTED_ZONE_ID are passed by name.
readonly LEGO=(docker run --rm --network host --volume "$STATE/lego:/lego" --env AWS_REGION --env AWS_HOSTED_ZONE_ID "$LEGO_IMAGE")
readonly LEGO_PATH=/lego
readonly RELOAD=(docker compose --project-name orthweb --file "$DIR/docker-compose.yml" exec -T nginx nginx -s reload)

log() { echo "orthweb-acme: $*" >&2; }

imds() {
    local t
    t=$(curl -fsS --max-time 2 -X PUT -H "X-aws-ec2-metadata-token-ttl-seconds: 60" http://169.254.169.254/latest/api/token)
    curl -fsS --max-time 2 -H "X-aws-ec2-metadata-token: $t" "http://169.254.169.254/latest/meta-data/$1"
}

# The shared certificate (the secret's JSON) into file $1; an empty file while none was ever issued.
read_shared() {
    local err="$STATE/read.err"
    if aws secretsmanager get-secret-value --region "$REGION" --secret-id "$SECRET_ARN" --query SecretString --output text >"$1" 2>"$err"; then
        return 0
    fi
    # A secret without a value yet (no certificate was ever issued) is not an error.
    if grep -q ResourceNotFoundException "$err"; then : >"$1"; return 0; fi
    cat "$err" >&2
    return 1
}

# True when the shared certificate in file $1 must be (re)issued: none, another CA, other names, or due.
due() {
    local names
    [ -s "$1" ] || return 0
    [ "$(jq -r '.directory // ""' "$1")" = "$DIRECTORY" ] || return 0
    names=$(jq -r '(.names // []) | join(" ")' "$1")
    [ "$names" = "\${NAMES[*]}" ] || return 0
    jq -r .certificatePem "$1" >"$STATE/due.crt"
    ! openssl x509 -in "$STATE/due.crt" -noout -checkend "$RENEW_SECONDS" >/dev/null
}

# Takes the lock: 0 taken, 1 another instance holds it, 2 S3 refused otherwise (said why). A lock older than LOCK_TTL
# is taken over, by one waiter only: If-Match on the ETag of what it found (each lock's content is unique, so is its ETag).
take_lock() {
    local etag modified age
    printf '%s %s %s\\n' "$INSTANCE" "$(date +%s)" "$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \\n')" >"$STATE/lock.body"
    if aws s3api put-object --region "$REGION" --bucket "$BUCKET" --key "$LOCK_KEY" --body "$STATE/lock.body" --if-none-match '*' >/dev/null 2>"$STATE/lock.err"; then
        return 0
    fi
    if ! read -r etag modified < <(aws s3api head-object --region "$REGION" --bucket "$BUCKET" --key "$LOCK_KEY" --query '[ETag, LastModified]' --output text 2>/dev/null); then
        log "could not take the lock: $(tail -n 1 "$STATE/lock.err")"
        return 2
    fi
    age=$(($(date +%s) - $(date -d "$modified" +%s)))
    if [ "$age" -lt "$LOCK_TTL" ]; then return 1; fi
    log "taking over a lock left for \${age}s by an instance that did not finish"
    aws s3api put-object --region "$REGION" --bucket "$BUCKET" --key "$LOCK_KEY" --body "$STATE/lock.body" --if-match "$etag" >/dev/null 2>>"$STATE/lock.err"
}

release_lock() {
    aws s3api delete-object --region "$REGION" --bucket "$BUCKET" --key "$LOCK_KEY" >/dev/null || log "could not remove the lock; it expires after \${LOCK_TTL}s"
}

# Issues a certificate for NAMES with lego into file $1 (the secret's JSON). A fresh order each time: the issuing
# instance may not be the one that issued last.
issue() {
    local domains=() name
    for name in "\${NAMES[@]}"; do domains+=(--domains "$name"); done
    rm -rf "$STATE/lego/certificates"
    if [ -n "$REGISTRY" ]; then
        aws ecr get-login-password --region "$REGION" | docker login --username AWS --password-stdin "$REGISTRY" >/dev/null
    fi
    AWS_REGION="$REGION" AWS_HOSTED_ZONE_ID="$ZONE_ID" timeout "$LEGO_TIMEOUT" "\${LEGO[@]}" --accept-tos --email "$EMAIL" --server "$DIRECTORY" \\
        --dns route53 --key-type rsa2048 --path "$LEGO_PATH" "\${domains[@]}" run >&2 || return 1
    jq -n --rawfile cert "$STATE/lego/certificates/\${NAMES[0]}.crt" --rawfile key "$STATE/lego/certificates/\${NAMES[0]}.key" \\
        --arg directory "$DIRECTORY" '{certificatePem: $cert, privateKeyPem: $key, directory: $directory, names: $ARGS.positional}' \\
        --args "\${NAMES[@]}" >"$1"
}

# Shares the certificate in file $1: the peer reads it from the secret (never from a command line).
share() {
    aws secretsmanager put-secret-value --region "$REGION" --secret-id "$SECRET_ARN" --secret-string "file://$1" >/dev/null
}

# After a failed issuance the next try waits FIRST_BACKOFF, doubling per failure up to MAX_BACKOFF.
backing_off() {
    local failures at wait
    [ -s "$STATE/failures" ] || return 1
    read -r failures at <"$STATE/failures"
    wait=$((FIRST_BACKOFF << (failures - 1)))
    if [ "$wait" -gt "$MAX_BACKOFF" ]; then wait=$MAX_BACKOFF; fi
    if [ "$(date +%s)" -lt $((at + wait)) ]; then
        log "issuance failed $failures time(s) in a row; next try after $(date -u -d "@$((at + wait))" +%FT%TZ)"
        return 0
    fi
    return 1
}

record_failure() {
    local failures=0 at
    if [ -s "$STATE/failures" ]; then read -r failures at <"$STATE/failures"; fi
    echo "$((failures + 1)) $(date +%s)" >"$STATE/failures"
}

${REPLACE_FILE}

# Puts the shared certificate in file $1 where nginx reads it; reloads nginx when it changed (old workers finish
# their connections; a reload that fails leaves the old configuration serving).
install_certificate() {
    local changed
    changed=$(jq -r .certificatePem "$1" | replace_file "$TLS_DIR/server.crt" 0644)
    changed+=$(jq -r .privateKeyPem "$1" | replace_file "$TLS_DIR/server.key" 0600)
    cmp -s "$TLS_DIR/server.crt" <(jq -r .certificatePem "$1") && touch "$STATE/installed"
    if [ -n "$changed" ]; then
        "\${RELOAD[@]}"
        log "nginx reloaded with the certificate for \${NAMES[*]} (until $(openssl x509 -in "$TLS_DIR/server.crt" -noout -enddate | cut -d= -f2))"
    fi
}

# The days left of the certificate nginx serves, when it is the shared one; 0 while it is still the bootstrap one.
days_left() {
    local end
    if [ ! -e "$STATE/installed" ] || [ ! -s "$TLS_DIR/server.crt" ]; then echo 0; return 0; fi
    end=$(date -d "$(openssl x509 -in "$TLS_DIR/server.crt" -noout -enddate | cut -d= -f2)" +%s)
    echo $(((end - $(date +%s)) / 86400))
}

# The alarm (fewer than ${ALARM_BELOW_DAYS} days, or no data) watches this, per slot.
publish() {
    local slot
    slot=$(aws ec2 describe-tags --region "$REGION" --filters "Name=resource-id,Values=$INSTANCE" "Name=key,Values=$SLOT_TAG" --query 'Tags[0].Value' --output text)
    if [ -z "$slot" ] || [ "$slot" = "None" ]; then slot=$INSTANCE; fi
    aws cloudwatch put-metric-data --region "$REGION" --namespace "$METRIC_NAMESPACE" --metric-name "$METRIC_NAME" \\
        --dimensions "Slot=$slot" --value "$1" --unit Count
}

# Waits for the lock holder's certificate (the secret changes); leaves file $1 with the newest shared certificate.
wait_for_peer() {
    local waited=0
    cp "$1" "$STATE/before.json"
    while [ "$waited" -lt "$PEER_WAIT" ]; do
        sleep "$PEER_POLL"
        waited=$((waited + PEER_POLL))
        read_shared "$1" || continue
        if [ -s "$1" ] && ! cmp -s "$1" "$STATE/before.json"; then return 0; fi
    done
    log "no new certificate from the lock holder after \${PEER_WAIT}s; the next run checks again"
}

main() {
    local status=0 shared lock
    install -d -m 0700 "$STATE" "$STATE/lego" "$TLS_DIR"
    INSTANCE=$(imds instance-id)
    shared="$STATE/shared.json"
    if ! read_shared "$shared"; then
        log "cannot read the shared certificate; keeping the one in use"
        : >"$shared"
        status=1
    elif due "$shared" && ! backing_off; then
        lock=0
        take_lock || lock=$?
        if [ "$lock" -eq 0 ]; then
            # The peer may have renewed since the first read: read again under the lock.
            if read_shared "$shared" && due "$shared"; then
                if issue "$STATE/issued.json" && share "$STATE/issued.json"; then
                    cp "$STATE/issued.json" "$shared"
                    rm -f "$STATE/failures"
                    log "issued a certificate for \${NAMES[*]} from $DIRECTORY"
                else
                    record_failure
                    log "issuance failed; keeping the certificate in use"
                    status=1
                fi
            fi
            release_lock
        elif [ "$lock" -eq 1 ]; then
            log "another instance holds the lock: waiting for its certificate"
            wait_for_peer "$shared"
        else
            status=1
        fi
    fi
    if [ -s "$shared" ]; then install_certificate "$shared"; fi
    publish "$(days_left)"
    rm -f "$STATE/issued.json" "$STATE/due.crt" "$STATE/before.json"
    return "$status"
}

main "$@"
`;
}

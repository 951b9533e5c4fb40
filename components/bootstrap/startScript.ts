// The start script: runs at boot and hourly (orthweb.timer). Installs Docker and the compose plugin once,
// reads the secrets from Secrets Manager with the instance role, writes them where only root can read them,
// and (re)starts the containers whose inputs changed (the RDS-managed password rotates).
import { SECRET_PATHS } from "./orthanc";

/** Docker Compose v2 release installed on Amazon Linux 2023 (its repositories do not carry the plugin). */
export const COMPOSE_VERSION = "v2.32.4";

export interface StartScriptParams {
    readonly region: string;
    readonly dir: string;
    readonly secretArns: { readonly database: string; readonly admin: string; readonly tls: string };
    readonly composeVersion?: string;
    /** s3:// URL of the compose plugin (its checksum at the same URL + .sha256). @default GitHub's release */
    readonly composeSource?: string;
    /** The ECR registry to log in to before pulling (the pull-through cache). @default none: Docker Hub */
    readonly registry?: string;
}

/** Quotes a value for bash so that nothing in it is interpreted. */
export function shellQuote(value: string): string {
    return `'${value.replace(/'/g, `'\\''`)}'`;
}

export function renderStartScript(p: StartScriptParams): string {
    return `#!/bin/bash
# Rendered by orthweb. Secrets are fetched here, at run time; none is part of the user data.
set -euo pipefail
umask 077

readonly REGION=${shellQuote(p.region)}
readonly DIR=${shellQuote(p.dir)}
readonly DB_SECRET_ARN=${shellQuote(p.secretArns.database)}
readonly ADMIN_SECRET_ARN=${shellQuote(p.secretArns.admin)}
readonly TLS_SECRET_ARN=${shellQuote(p.secretArns.tls)}
readonly COMPOSE_VERSION=${shellQuote(p.composeVersion ?? COMPOSE_VERSION)}
readonly COMPOSE_PLUGIN=/usr/libexec/docker/cli-plugins/docker-compose
readonly COMPOSE_S3=${shellQuote(p.composeSource ?? "")}
readonly REGISTRY=${shellQuote(p.registry ?? "")}

log() { echo "orthweb: $*" >&2; }

# Runs "$@" until it succeeds: 6 attempts, waiting 5, 10, 20, 40 and 60 s between them (about 2 minutes).
retry() {
    local attempt delay=5
    for attempt in 1 2 3 4 5 6; do
        if "$@"; then return 0; fi
        if [ "$attempt" -eq 6 ]; then break; fi
        log "$1 failed (attempt $attempt of 6); retrying in \${delay}s"
        sleep "$delay"
        delay=$((delay * 2 > 60 ? 60 : delay * 2))
    done
    log "giving up on: $*"
    return 1
}

# The ECR pull-through cache needs a login (a token valid for 12 hours; every run renews it).
ecr_login() {
    aws ecr get-login-password --region "$REGION" | docker login --username AWS --password-stdin "$REGISTRY"
}

install_docker() {
    if ! command -v docker >/dev/null 2>&1 || ! command -v jq >/dev/null 2>&1; then
        dnf install -y docker jq
    fi
    systemctl enable --now docker
    if [ ! -x "$COMPOSE_PLUGIN" ]; then
        local url tmp
        tmp=$(mktemp -d)
        if [ -n "$COMPOSE_S3" ]; then
            # No internet: the stack's bucket holds the release, copied there by pulumi up.
            aws s3 cp --region "$REGION" --only-show-errors "$COMPOSE_S3" "$tmp/docker-compose"
            aws s3 cp --region "$REGION" --only-show-errors "$COMPOSE_S3.sha256" "$tmp/docker-compose.sha256"
        else
            url="https://github.com/docker/compose/releases/download/$COMPOSE_VERSION/docker-compose-linux-$(uname -m)"
            curl -fsSL --retry 5 -o "$tmp/docker-compose" "$url"
            curl -fsSL --retry 5 -o "$tmp/docker-compose.sha256" "$url.sha256"
        fi
        (cd "$tmp" && echo "$(cut -d ' ' -f 1 docker-compose.sha256)  docker-compose" | sha256sum --check --quiet -)
        install -D -m 0755 "$tmp/docker-compose" "$COMPOSE_PLUGIN"
        rm -rf "$tmp"
    fi
}

# Prints a secret's value. The instance profile can take a little while to work after boot, and a
# private instance's certificate is written only once the instance exists: wait up to 5 minutes.
secret() {
    local attempt
    for attempt in $(seq 1 30); do
        if aws secretsmanager get-secret-value --region "$REGION" --secret-id "$1" --query SecretString --output text; then
            return 0
        fi
        log "secret $1 not readable yet (attempt $attempt of 30)"
        sleep 10
    done
    log "giving up on secret $1"
    return 1
}

# Replaces $1 (mode $2) with standard input; prints "changed" when the content differs.
replace_file() {
    local tmp
    tmp=$(mktemp "$1.XXXXXX")
    cat >"$tmp"
    chmod "$2" "$tmp"
    if cmp -s "$tmp" "$1"; then
        rm -f "$tmp"
    else
        mv -f "$tmp" "$1"
        echo changed
    fi
}

main() {
    install_docker
    install -d -m 0700 "$DIR/run" "$DIR/run/tls"

    local db admin tls tls_changed orthanc_changed
    db=$(secret "$DB_SECRET_ARN")
    admin=$(secret "$ADMIN_SECRET_ARN")
    tls=$(secret "$TLS_SECRET_ARN")

    tls_changed=$(jq -r .certificatePem <<<"$tls" | replace_file "$DIR/run/tls/server.crt" 0644)
    tls_changed+=$(jq -r .privateKeyPem <<<"$tls" | replace_file "$DIR/run/tls/server.key" 0600)
    orthanc_changed=$(jq \\
        --arg user "$(jq -r .username <<<"$db")" \\
        --arg password "$(jq -r .password <<<"$db")" \\
        --arg admin "$(jq -r .password <<<"$admin")" \\
        '${SECRET_PATHS.databaseUsername} = $user | ${SECRET_PATHS.databasePassword} = $password | ${SECRET_PATHS.adminPassword} = $admin' \\
        "$DIR/orthanc.template.json" | replace_file "$DIR/run/orthanc.json" 0600)

    local compose=(docker compose --project-name orthweb --file "$DIR/docker-compose.yml")
    if [ -n "$REGISTRY" ]; then retry ecr_login; fi
    retry "\${compose[@]}" pull --quiet
    "\${compose[@]}" up --detach --remove-orphans
    # up does not notice new file contents behind unchanged mounts: restart what read them.
    if [ -n "$orthanc_changed" ]; then "\${compose[@]}" restart orthanc; fi
    if [ -n "$tls_changed" ]; then "\${compose[@]}" restart nginx; fi
    log "running"
}

main "$@"
`;
}

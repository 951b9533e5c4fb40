// The start script: runs at boot and every 15 minutes (orthweb.timer), retried by systemd within a minute when it
// fails. Installs Docker, jq, psql and the compose plugin once (each download retried with backoff), reads the
// secrets from Secrets Manager with the instance role, makes Orthanc's own database login with the master login,
// writes what Orthanc and the health checker read where only root can read it, and (re)starts the containers
// whose inputs changed.
// No secret on a command line (anyone on the host may read /proc/*/cmdline, only root a root process's environment):
// the logins reach psql in its environment (the app password through \getenv in database-setup.sql), and the
// secrets reach jq through pipes (--rawfile). The rendered script stays lean: EC2's user data holds 16 KB.
import { DATABASE_APP_PASSWORD_ENV, DATABASE_APP_USER, DATABASE_CHECK_VARIABLE, TIMEOUTS_ONLY_URI } from "../../rules/database";
import { DICOM_CLIENT_CA_FILE, PEER_TLS_FILE_NAMES } from "../../rules/instanceFiles";
import { HEALTH_USER } from "../../rules/logins";
import { METADATA_GUARD_FILE } from "./metadataGuard";
import { SECRETS_FILTER } from "./orthanc";

/** Docker Compose v2 release installed on Amazon Linux 2023 (its repositories do not carry the plugin). */
export const COMPOSE_VERSION = "v2.32.4";

export interface StartScriptParams {
    readonly region: string;
    readonly dir: string;
    /** database: the RDS-managed master login (setup only); databaseApp: Orthanc's own database password. */
    readonly secretArns: { readonly database: string; readonly databaseApp: string; readonly admin: string; readonly tls: string };
    readonly composeVersion?: string;
    /** The ECR registry to log in to before pulling (the pull-through cache). @default none: Docker Hub */
    readonly registry?: string;    /** s3:// URL of the compose plugin (its checksum at the same URL + .sha256). @default GitHub's release */
    readonly composeSource?: string;
    /** orthweb:tls.source acme: the secret the renewal script (acme.sh) shares the certificate in. */
    readonly acmeSecretArn?: string;
}

/** A bash function: replaces $1 (mode $2) with standard input; prints "changed" when the content differs. */
export const REPLACE_FILE = `# Replaces $1 (mode $2) with standard input; prints "changed" when the content differs.
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
}`;

/** Quotes a value for bash so that nothing in it is interpreted. */
export function shellQuote(value: string): string {
    return `'${value.replace(/'/g, `'\\''`)}'`;
}

export function renderStartScript(p: StartScriptParams): string {
    return `#!/bin/bash
# Rendered by orthweb. Secrets are fetched here, at run time; none is part of the user data.
set -euo pipefail
shopt -s inherit_errexit
umask 077

readonly REGION=${shellQuote(p.region)}
readonly DIR=${shellQuote(p.dir)}
readonly DB_SECRET_ARN=${shellQuote(p.secretArns.database)}
readonly DB_APP_SECRET_ARN=${shellQuote(p.secretArns.databaseApp)}
readonly DB_APP_USER=${shellQuote(DATABASE_APP_USER)}
readonly HEALTH_USER=${shellQuote(HEALTH_USER)}
readonly ADMIN_SECRET_ARN=${shellQuote(p.secretArns.admin)}
readonly TLS_SECRET_ARN=${shellQuote(p.secretArns.tls)}
readonly COMPOSE_VERSION=${shellQuote(p.composeVersion ?? COMPOSE_VERSION)}
readonly COMPOSE_PLUGIN=/usr/libexec/docker/cli-plugins/docker-compose
readonly COMPOSE_S3=${shellQuote(p.composeSource ?? "")}
readonly REGISTRY=${shellQuote(p.registry ?? "")}
readonly ACME_SECRET_ARN=${shellQuote(p.acmeSecretArn ?? "")}

log() { echo "orthweb: $*" >&2; }

# Runs "$@" until it succeeds: 6 attempts, 5 to 60 s apart.
retry() {
    local attempt delay=5
    for attempt in 1 2 3 4 5 6; do
        if "$@"; then return 0; fi
        if [ "$attempt" -eq 6 ]; then break; fi
        log "$1 failed (attempt $attempt of 6); retrying in \${delay}s"
        sleep "$delay"
        delay=$((delay * 2 > 60 ? 60 : delay * 2))
    done
    log "giving up on $1"
    return 1
}

ecr_login() {
    aws ecr get-login-password --region "$REGION" | docker login --username AWS --password-stdin "$REGISTRY"
}

# The release and its checksum: from the stack's bucket without the internet (copied there by pulumi up), else GitHub.
fetch_compose() {
    if [ -n "$COMPOSE_S3" ]; then
        aws s3 cp --region "$REGION" --only-show-errors "$COMPOSE_S3" "$1/docker-compose" &&
            aws s3 cp --region "$REGION" --only-show-errors "$COMPOSE_S3.sha256" "$1/docker-compose.sha256"
    else
        local url
        url="https://github.com/docker/compose/releases/download/$COMPOSE_VERSION/docker-compose-linux-$(uname -m)"
        curl -fsSL --connect-timeout 10 --max-time 300 -o "$1/docker-compose" "$url" &&
            curl -fsSL --connect-timeout 10 --max-time 60 -o "$1/docker-compose.sha256" "$url.sha256"
    fi
}

download_compose() {
    local tmp
    tmp=$(mktemp -d)
    if fetch_compose "$tmp" &&
        (cd "$tmp" && echo "$(cut -d ' ' -f 1 docker-compose.sha256)  docker-compose" | sha256sum --check --quiet -); then
        install -D -m 0755 "$tmp/docker-compose" "$COMPOSE_PLUGIN"
        rm -rf "$tmp"
        return 0
    fi
    rm -rf "$tmp"
    return 1
}

install_docker() {
    if ! command -v docker >/dev/null 2>&1 || ! command -v jq >/dev/null 2>&1 || ! command -v psql >/dev/null 2>&1; then
        retry dnf install -y docker jq postgresql15
    fi
    systemctl enable --now docker
    if [ ! -x "$COMPOSE_PLUGIN" ]; then retry download_compose; fi
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

${REPLACE_FILE}

# With acme, the TLS secret with the shared ACME certificate and key in place of the bootstrap ones (the modalities'
# CA stays); as it is until acme.sh first shares one. The renewal timer runs exactly when acme is on (the apply
# script enables the timers every stack has; this one only some).
with_acme_certificate() {
    local acme
    if [ -n "$ACME_SECRET_ARN" ] && ! systemctl is-enabled --quiet orthweb-acme.timer; then
        systemctl enable --now orthweb-acme.timer
    fi
    if [ -z "$ACME_SECRET_ARN" ]; then
        if [ -e /etc/systemd/system/orthweb-acme.timer ]; then
            systemctl disable --now orthweb-acme.timer || true
            rm -f /etc/systemd/system/orthweb-acme.timer /etc/systemd/system/orthweb-acme.service "$DIR/acme.sh"
        fi
        echo "$1"
        return 0
    fi
    if acme=$(aws secretsmanager get-secret-value --region "$REGION" --secret-id "$ACME_SECRET_ARN" --query SecretString --output text 2>/dev/null) &&
        jq -e .certificatePem <<<"$acme" >/dev/null 2>&1; then
        jq -s '.[0] + (.[1] | {certificatePem, privateKeyPem})' <<<"$1 $acme"
    else
        echo "$1"
    fi
}

# The modalities' CA from the TLS secret, for nginx's client-certificate check on 11112 (empty when unused).
write_dicom_client_ca() {
    jq -r '.dicomClientCaPem // ""' <<<"$1" | replace_file "$DIR/run/tls/${DICOM_CLIENT_CA_FILE}" 0644
}

# The peer link's certificate, key and CA.
write_peer_tls() {
    jq -er .peerCertificatePem <<<"$1" | replace_file "$DIR/run/tls/${PEER_TLS_FILE_NAMES.certificate}" 0644
    jq -er .peerPrivateKeyPem <<<"$1" | replace_file "$DIR/run/tls/${PEER_TLS_FILE_NAMES.key}" 0600
    jq -er .peerCaPem <<<"$1" | replace_file "$DIR/run/tls/${PEER_TLS_FILE_NAMES.ca}" 0644
}

# Only Orthanc's container may reach the instance metadata service (also run by docker.service at boot).
guard_metadata_service() {
    "$DIR/${METADATA_GUARD_FILE}"
}

# The health checker's login: made here once, never sent anywhere.
health_password() {
    local file="$DIR/run/healthz.password"
    if [ ! -s "$file" ]; then
        head -c 48 /dev/urandom | base64 | tr -dc 'A-Za-z0-9' | head -c 32 | replace_file "$file" 0600 >/dev/null
    fi
    cat "$file"
}

# Runs psql against Orthanc's database as user $1 with password $2 (from the environment: any character works).
psql_as() {
    local template="$DIR/orthanc.template.json"
    PGHOST=$(jq -r .PostgreSQL.Host "$template") PGPORT=$(jq -r .PostgreSQL.Port "$template") \\
        PGDATABASE=$(jq -r .PostgreSQL.Database "$template") PGUSER="$1" PGPASSWORD="$2" \\
        PGSSLMODE=require psql --no-psqlrc --quiet -v ON_ERROR_STOP=1 --dbname=${shellQuote(TIMEOUTS_ONLY_URI)} "\${@:3}" >/dev/null
}

# Orthanc's database login, checked as itself; set up by the master (RDS rotates its password) only when that fails.
setup_database() {
    local master="$1" app_password="$2"
    if psql_as "$DB_APP_USER" "$app_password" -v ${DATABASE_CHECK_VARIABLE}=1 -f "$DIR/database-setup.sql" 2>/dev/null; then return 0; fi
    ${DATABASE_APP_PASSWORD_ENV}="$app_password" psql_as "$(jq -r .username <<<"$master")" "$(jq -r .password <<<"$master")" \\
        --single-transaction -v app_user="$DB_APP_USER" -f "$DIR/database-setup.sql"
}

main() {
    install_docker
    install -d -m 0700 "$DIR/run" "$DIR/run/tls"

    local db db_app_secret db_app admin admin_password tls health tls_changed orthanc_changed health_changed
    # Each secret in an assignment of its own, and jq -e: a failed read or a missing password stops the run here
    # (systemd retries it) instead of writing an empty or "null" password into orthanc.json and restarting Orthanc.
    db=$(secret "$DB_SECRET_ARN")
    db_app_secret=$(secret "$DB_APP_SECRET_ARN")
    db_app=$(jq -er .password <<<"$db_app_secret")
    admin=$(secret "$ADMIN_SECRET_ARN")
    admin_password=$(jq -er .password <<<"$admin")
    tls=$(secret "$TLS_SECRET_ARN")
    tls=$(with_acme_certificate "$tls")
    health=$(health_password)

    retry setup_database "$db" "$db_app" || log "could not set up the database login $DB_APP_USER; the next run tries again"

    tls_changed=$(jq -r .certificatePem <<<"$tls" | replace_file "$DIR/run/tls/server.crt" 0644)
    tls_changed+=$(jq -r .privateKeyPem <<<"$tls" | replace_file "$DIR/run/tls/server.key" 0600)
    tls_changed+=$(write_dicom_client_ca "$tls")
    tls_changed+=$(write_peer_tls "$tls")
    orthanc_changed=$(jq \\
        --arg user "$DB_APP_USER" \\
        --rawfile password <(printf '%s' "$db_app") \\
        --rawfile admin <(printf '%s' "$admin_password") \\
        --rawfile health <(printf '%s' "$health") \\
        ${shellQuote(SECRETS_FILTER)} \\
        "$DIR/orthanc.template.json" | replace_file "$DIR/run/orthanc.json" 0600)
    health_changed=$(printf '%s:%s' "$HEALTH_USER" "$health" | replace_file "$DIR/run/healthz.auth" 0600)

    guard_metadata_service
    local compose=(docker compose --project-name orthweb --file "$DIR/docker-compose.yml")
    if [ -n "$REGISTRY" ]; then retry ecr_login; fi
    retry "\${compose[@]}" up --detach --remove-orphans --pull missing
    # up does not notice new file contents behind unchanged mounts: restart what read them.
    if [ -n "$orthanc_changed" ]; then "\${compose[@]}" restart orthanc; fi
    # A new certificate needs no restart: a reload lets the old workers finish their connections.
    if [ -n "$tls_changed" ]; then "\${compose[@]}" exec -T nginx nginx -s reload || "\${compose[@]}" restart nginx; fi
    if [ -n "$health_changed" ]; then "\${compose[@]}" restart healthz; fi
    log "running"
}

main "$@"
`;
}

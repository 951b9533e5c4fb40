// Everything an instance boots from, as files, and the cloud-config user data that carries them.
// Pure: tests feed these files to cloud-init, docker-compose, nginx and shellcheck.
import { gzipSync } from "zlib";
import { stringify } from "yaml";
import { renderCompose } from "./compose";
import { renderDatabaseSetupSql } from "./databaseSetup";
import { renderHealthChecker } from "./healthChecker";
import { renderNginxConf } from "./nginx";
import { renderDicomSenderGate } from "./dicomSenderGate";
import { OrthancParams, renderOrthancJson } from "./orthanc";
import { DOCKER_DROP_IN_PATH, METADATA_GUARD_FILE, renderDockerDropIn, renderMetadataGuard } from "./metadataGuard";
import { renderPeerScript } from "./peerScript";
import { renderClaimScript } from "./claimScript";
import { AcmeScriptParams, renderAcmeScript } from "./acmeScript";
import { ACME_CHECK_INTERVAL_SECONDS } from "../../rules/acme";
import { CLAIM_INTERVAL_SECONDS } from "../../rules/rollout";
import { HEALTHZ_CONTAINER_ADDRESS, ORTHANC_CONTAINER_ADDRESS } from "../../rules/containerNetwork";
import { renderStartScript, StartScriptParams } from "./startScript";
import { BOOTSTRAP_DIR, DICOM_SENDER_GATE_FILE, NGINX_CERTIFICATE, NGINX_CERTIFICATE_KEY, NGINX_DICOM_CLIENT_CA, NGINX_DICOM_SENDER_GATE } from "../../rules/instanceFiles";

/** EC2 rejects user data larger than 16 KB (before base64). */
export const USER_DATA_LIMIT_BYTES = 16 * 1024;

export interface BootstrapParams {
    readonly region: string;
    readonly orthancImage: string;
    readonly nginxImage: string;
    readonly orthanc: OrthancParams;
    readonly secretArns: StartScriptParams["secretArns"];
    /** nginx requires a client certificate on 11112, signed by the CA the TLS secret carries. @default false */
    readonly dicomClientCertificates?: boolean;
    /** The ECR registry the images come from (pull-through cache); absent: Docker Hub, anonymously. */
    readonly registry?: string;    /** s3:// URL of the compose plugin, without the internet. @default GitHub's release */
    readonly composeSource?: string;
    /** orthweb:tls.source acme: the renewal script's settings (its lego image already rewritten to the cache). */
    readonly acme?: Omit<AcmeScriptParams, "region" | "dir" | "registry">;
}

export interface BootstrapFile {
    readonly path: string;
    readonly permissions: string;
    readonly content: string;
}

const SERVICE_UNIT = `[Unit]
Description=Orthweb: fetch secrets and run Orthanc behind nginx
Wants=network-online.target
After=network-online.target
# Retried without end: an instance keeps trying until the network, Docker Hub or Secrets Manager answers.
StartLimitIntervalSec=0

[Service]
Type=oneshot
ExecStart=${BOOTSTRAP_DIR}/start.sh
# A run that meets a slow or failing network is retried within a minute, not at the next timer tick; a run that
# hangs is stopped (each step retries on its own for a few minutes at most).
TimeoutStartSec=20min
Restart=on-failure
RestartSec=30s
`;

const TIMER_UNIT = `[Unit]
Description=Orthweb: pick up changed secrets and restart what stopped

[Timer]
OnBootSec=2min
OnUnitActiveSec=15min

[Install]
WantedBy=timers.target
`;

/** A oneshot service that runs one of the instance's scripts (a timer starts it). */
function oneshotUnit(description: string, script: string): string {
    return `[Unit]
Description=${description}
After=network-online.target

[Service]
Type=oneshot
TimeoutStartSec=50
ExecStart=${BOOTSTRAP_DIR}/${script}
`;
}

function minutelyTimer(description: string, everySeconds: number): string {
    return `[Unit]
Description=${description}

[Timer]
OnBootSec=1min
OnUnitActiveSec=${everySeconds}s

[Install]
WantedBy=timers.target
`;
}

const PEER_DESCRIPTION = "Orthweb: find the peer instance";
const PEER_SERVICE_UNIT = oneshotUnit(PEER_DESCRIPTION, "peer.sh");
/** The peer is looked up again every minute: a replaced peer comes back with a new address. */
const PEER_TIMER_UNIT = minutelyTimer(PEER_DESCRIPTION, 60);

const CLAIM_DESCRIPTION = "Orthweb: keep this slot's address on this instance";
const CLAIM_SERVICE_UNIT = oneshotUnit(CLAIM_DESCRIPTION, "claim.sh");
/** A replaced instance's address is taken by its successor within a minute, whatever else is going on. */
const CLAIM_TIMER_UNIT = minutelyTimer(CLAIM_DESCRIPTION, CLAIM_INTERVAL_SECONDS);

const ACME_DESCRIPTION = "Orthweb: issue or renew the certificate (ACME), share it, reload nginx";
/** lego's run (10 minutes at most) or the wait for the peer's certificate, with room to spare. */
const ACME_SERVICE_UNIT = oneshotUnit(ACME_DESCRIPTION, "acme.sh").replace("TimeoutStartSec=50", "TimeoutStartSec=20min");
/** Hourly: the days-left metric must keep coming (the alarm treats missing data as breaching). */
const ACME_TIMER_UNIT = minutelyTimer(ACME_DESCRIPTION, ACME_CHECK_INTERVAL_SECONDS).replace("OnBootSec=1min", "OnBootSec=3min");
export const ACME_TIMER = "orthweb-acme.timer";

/** The timers an instance runs: the start script's (secrets, restarts), peer.sh's (the peer's address), claim.sh's. */
export const BOOTSTRAP_TIMERS = ["orthweb.timer", "orthweb-peer.timer", "orthweb-claim.timer"] as const;

export function renderBootstrapFiles(p: BootstrapParams): BootstrapFile[] {
    const dir = BOOTSTRAP_DIR;
    // With client certificates, nginx's sender gate ties each certificate to its modality's AE titles.
    const senderGate = p.dicomClientCertificates ? `${dir}/${DICOM_SENDER_GATE_FILE}` : undefined;
    return [
        { path: `${dir}/docker-compose.yml`, permissions: "0644", content: renderCompose({ orthancImage: p.orthancImage, nginxImage: p.nginxImage, dir, region: p.region, dicomSenderGate: senderGate !== undefined }) },
        {
            path: `${dir}/nginx.conf`,
            permissions: "0644",
            content: renderNginxConf({
                orthancHost: ORTHANC_CONTAINER_ADDRESS,
                healthCheckerHost: HEALTHZ_CONTAINER_ADDRESS,
                certificatePath: NGINX_CERTIFICATE,
                keyPath: NGINX_CERTIFICATE_KEY,
                dicomClientCaPath: p.dicomClientCertificates ? NGINX_DICOM_CLIENT_CA : undefined,
                dicomSenderGatePath: senderGate && NGINX_DICOM_SENDER_GATE,
            }),
        },
        ...(senderGate ? [{ path: senderGate, permissions: "0644", content: renderDicomSenderGate(p.orthanc.modalities ?? []) }] : []),
        { path: `${dir}/orthanc.template.json`, permissions: "0600", content: renderOrthancJson(p.orthanc) },
        { path: `${dir}/start.sh`, permissions: "0700", content: renderStartScript({ region: p.region, dir, secretArns: p.secretArns, registry: p.registry, composeSource: p.composeSource, acmeSecretArn: p.acme?.secretArn }) },
        { path: `${dir}/healthz.py`, permissions: "0644", content: renderHealthChecker() },
        { path: `${dir}/database-setup.sql`, permissions: "0644", content: renderDatabaseSetupSql() },
        { path: "/etc/systemd/system/orthweb.service", permissions: "0644", content: SERVICE_UNIT },
        { path: "/etc/systemd/system/orthweb.timer", permissions: "0644", content: TIMER_UNIT },
        { path: `${dir}/${METADATA_GUARD_FILE}`, permissions: "0700", content: renderMetadataGuard() },
        { path: DOCKER_DROP_IN_PATH, permissions: "0644", content: renderDockerDropIn(dir) },
        { path: `${dir}/peer.sh`, permissions: "0700", content: renderPeerScript({ region: p.region, dir }) },
        { path: "/etc/systemd/system/orthweb-peer.service", permissions: "0644", content: PEER_SERVICE_UNIT },
        { path: "/etc/systemd/system/orthweb-peer.timer", permissions: "0644", content: PEER_TIMER_UNIT },
        { path: `${dir}/claim.sh`, permissions: "0700", content: renderClaimScript({ region: p.region }) },
        { path: "/etc/systemd/system/orthweb-claim.service", permissions: "0644", content: CLAIM_SERVICE_UNIT },
        { path: "/etc/systemd/system/orthweb-claim.timer", permissions: "0644", content: CLAIM_TIMER_UNIT },
        ...(p.acme
            ? [
                  { path: `${dir}/acme.sh`, permissions: "0700", content: renderAcmeScript({ ...p.acme, region: p.region, dir, registry: p.registry }) },
                  { path: "/etc/systemd/system/orthweb-acme.service", permissions: "0644", content: ACME_SERVICE_UNIT },
                  { path: `/etc/systemd/system/${ACME_TIMER}`, permissions: "0644", content: ACME_TIMER_UNIT },
              ]
            : []),
    ];
}

/**
 * The files as cloud-config. The program no longer boots instances from user data: it delivers
 * renderBootstrapFiles() as a bundle applied by SSM, one instance at a time (apply.ts renderApplyScript, which also
 * does what runcmd does here). Kept for the validators and for a manual boot; a step that must run on the instances
 * belongs in the start script, not in runcmd.
 */
export function renderCloudConfig(files: BootstrapFile[]): string {
    const doc = {
        write_files: files.map((f) => ({ path: f.path, owner: "root:root", permissions: f.permissions, content: f.content })),
        runcmd: [
            ["systemctl", "daemon-reload"],
            ["systemctl", "enable", "--now", ...[...BOOTSTRAP_TIMERS, ACME_TIMER].filter((timer) => files.some((f) => f.path === `/etc/systemd/system/${timer}`))],
            ["systemctl", "start", "orthweb.service"],
        ],
    };
    return "#cloud-config\n" + stringify(doc, { lineWidth: 0 });
}

/** What only an instance of a slot (an Auto Scaling group of the pair) needs: keeping the slot's address. */
export const SLOT_FILES: readonly string[] = [`${BOOTSTRAP_DIR}/claim.sh`, "/etc/systemd/system/orthweb-claim.service", "/etc/systemd/system/orthweb-claim.timer"];

/**
 * The instance user data for a manual boot, as EC2 counts it: the cloud-config gzip-compressed as a whole (cloud-init
 * recognises gzip user data and decompresses it; compressing the document rather than each file lets the files share
 * one dictionary, and spares base64). Base64-encode it for the API. An instance launched by hand holds no slot, so the
 * slot's files are left out (they would find no address to keep). Throws when it would exceed what EC2 accepts.
 */
export function renderUserData(p: BootstrapParams): Buffer {
    const userData = gzipSync(Buffer.from(renderCloudConfig(renderBootstrapFiles(p).filter((f) => !SLOT_FILES.includes(f.path))), "utf8"), { level: 9 });
    if (userData.length > USER_DATA_LIMIT_BYTES) {
        throw new Error(`rendered user data is ${userData.length} bytes (gzip-compressed); EC2 accepts at most ${USER_DATA_LIMIT_BYTES}`);
    }
    return userData;
}


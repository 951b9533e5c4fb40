// Everything an instance boots from, as files, and the cloud-config user data that carries them.
// Pure: tests feed these files to cloud-init, docker-compose, nginx and shellcheck.
import { stringify } from "yaml";
import { renderCompose } from "./compose";
import { renderNginxConf } from "./nginx";
import { OrthancParams, renderOrthancJson } from "./orthanc";
import { renderStartScript, StartScriptParams } from "./startScript";

export const BOOTSTRAP_DIR = "/opt/orthweb";
/** EC2 rejects user data larger than 16 KB (before base64). */
export const USER_DATA_LIMIT_BYTES = 16 * 1024;

export interface BootstrapParams {
    readonly region: string;
    readonly orthancImage: string;
    readonly nginxImage: string;
    readonly orthanc: OrthancParams;
    readonly secretArns: StartScriptParams["secretArns"];
    /** s3:// URL of the compose plugin, without the internet. @default GitHub's release */
    readonly composeSource?: string;
    /** The ECR registry the images come from (pull-through cache); absent: Docker Hub, anonymously. */
    readonly registry?: string;
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

[Service]
Type=oneshot
ExecStart=${BOOTSTRAP_DIR}/start.sh
`;

const TIMER_UNIT = `[Unit]
Description=Orthweb: pick up rotated secrets

[Timer]
OnBootSec=2min
OnUnitActiveSec=1h

[Install]
WantedBy=timers.target
`;

export function renderBootstrapFiles(p: BootstrapParams): BootstrapFile[] {
    const dir = BOOTSTRAP_DIR;
    return [
        { path: `${dir}/docker-compose.yml`, permissions: "0644", content: renderCompose({ orthancImage: p.orthancImage, nginxImage: p.nginxImage, dir, region: p.region }) },
        { path: `${dir}/nginx.conf`, permissions: "0644", content: renderNginxConf({ orthancHost: "orthanc", certificatePath: "/etc/nginx/tls/server.crt", keyPath: "/etc/nginx/tls/server.key" }) },
        { path: `${dir}/orthanc.template.json`, permissions: "0600", content: renderOrthancJson(p.orthanc) },
        { path: `${dir}/start.sh`, permissions: "0700", content: renderStartScript({ region: p.region, dir, secretArns: p.secretArns, registry: p.registry, composeSource: p.composeSource }) },
        { path: "/etc/systemd/system/orthweb.service", permissions: "0644", content: SERVICE_UNIT },
        { path: "/etc/systemd/system/orthweb.timer", permissions: "0644", content: TIMER_UNIT },
    ];
}

export function renderCloudConfig(files: BootstrapFile[]): string {
    const doc = {
        write_files: files.map((f) => ({ path: f.path, owner: "root:root", permissions: f.permissions, content: f.content })),
        runcmd: [
            ["systemctl", "daemon-reload"],
            ["systemctl", "enable", "--now", "orthweb.timer"],
            ["systemctl", "start", "orthweb.service"],
        ],
    };
    return "#cloud-config\n" + stringify(doc, { lineWidth: 0 });
}

/** The instance user data. Throws when it would exceed what EC2 accepts. */
export function renderUserData(p: BootstrapParams): string {
    const userData = renderCloudConfig(renderBootstrapFiles(p));
    const size = Buffer.byteLength(userData, "utf8");
    if (size > USER_DATA_LIMIT_BYTES) {
        throw new Error(`rendered user data is ${size} bytes; EC2 accepts at most ${USER_DATA_LIMIT_BYTES}`);
    }
    return userData;
}

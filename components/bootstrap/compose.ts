// docker-compose.yml: Orthanc, reachable only on the compose network, behind nginx, which publishes 443 and 11112
// (and the peer-only ports 8443 and 11113).
import { stringify } from "yaml";
import { DICOM_PORT, ORTHANC_HTTP_PORT, PEER_DICOM_PORT, PEER_WEB_PORT, WEB_PORT } from "../../rules/ports";
import { DEFAULT_HEALTH_CHECKER_LISTEN, healthCheckerArgs } from "./healthChecker";
import { CONTAINER_BRIDGE, CONTAINER_SUBNET, DYNAMIC_ADDRESS_RANGE, HEALTHZ_CONTAINER_ADDRESS, ORTHANC_CONTAINER_ADDRESS } from "../../rules/containerNetwork";
import { DICOM_SENDER_GATE_FILE, NGINX_DICOM_SENDER_GATE, PEER_MAP_DIR } from "../../rules/instanceFiles";

export interface ComposeParams {
    readonly orthancImage: string;
    readonly nginxImage: string;
    /** Host directory with nginx.conf; run/ below it holds what the start script writes (orthanc.json, tls/). */
    readonly dir: string;
    readonly region: string;
    /** nginx reads the DICOM sender gate's script (dir/dicom-senders.js). @default false */
    readonly dicomSenderGate?: boolean;
}

const logging = { driver: "json-file", options: { "max-size": "20m", "max-file": "5" } };

/** The sender gate's script, read-only where nginx.conf's js_import looks for it. */
function senderGateVolume(p: ComposeParams): string[] {
    return p.dicomSenderGate ? [`${p.dir}/${DICOM_SENDER_GATE_FILE}:${NGINX_DICOM_SENDER_GATE}:ro`] : [];
}
/**
 * Capabilities: none, unless a container's own process needs one (each named below with why). Binding a port under
 * 1024 needs none: Docker (20.10 and later) sets net.ipv4.ip_unprivileged_port_start=0 in every container's network
 * namespace. Without NET_RAW no container can forge another's address (or ARP) past the metadata guard.
 */
const NO_CAPABILITIES = ["ALL"];
/**
 * The nginx image's master runs as root and starts its workers as user nginx: SETUID and SETGID for that switch, and
 * CHOWN because at start it makes its temp directories (/var/cache/nginx/*_temp) and hands them to that user.
 */
export const NGINX_CAPABILITIES = ["CHOWN", "SETGID", "SETUID"];

export function renderCompose(p: ComposeParams): string {
    const doc = {
        services: {
            orthanc: {
                image: p.orthancImage,
                restart: "unless-stopped",
                environment: { AWS_REGION: p.region },
                volumes: [`${p.dir}/run/orthanc.json:/etc/orthanc/orthanc.json:ro`],
                logging,
                // The one address the metadata guard lets reach IMDS (metadataGuard.ts), and nginx's upstream.
                networks: { default: { ipv4_address: ORTHANC_CONTAINER_ADDRESS } },
                // Orthanc runs as root over root's own files (the mounted orthanc.json, what the image's entrypoint
                // writes) and listens on 4242 and 8042: it switches no user and needs no capability.
                cap_drop: NO_CAPABILITIES,
            },
            // /healthz's truth (components/bootstrap/healthChecker.ts), with the Orthanc image's python3: no other
            // image to pull. Only it holds the checker's login; nginx asks it without one.
            healthz: {
                image: p.orthancImage,
                restart: "unless-stopped",
                entrypoint: ["python3", "/opt/orthweb/healthz.py"],
                // A small init as PID 1 forwards docker's stop signal; the image's own health check is Orthanc's.
                init: true,
                healthcheck: { disable: true },
                command: healthCheckerArgs({ listen: DEFAULT_HEALTH_CHECKER_LISTEN, orthancUrl: `http://orthanc:${ORTHANC_HTTP_PORT}`, credentialsFile: "/run/orthweb/healthz.auth" }),
                volumes: [`${p.dir}/healthz.py:/opt/orthweb/healthz.py:ro`, `${p.dir}/run/healthz.auth:/run/orthweb/healthz.auth:ro`],
                logging,
                // nginx's /healthz upstream: a recreated container comes back where nginx looks.
                networks: { default: { ipv4_address: HEALTHZ_CONTAINER_ADDRESS } },
                // python3 as root reading root's own credentials file, listening on a port above 1024: nothing to keep
                // (in particular not NET_RAW, which Docker gives by default).
                cap_drop: NO_CAPABILITIES,
            },
            nginx: {
                image: p.nginxImage,
                restart: "unless-stopped",
                // No depends_on: nginx names Orthanc and the checker by address, and starts and serves (the peer
                // fallback, /healthz's 5xx) whether or not they are up.
                // The peer-only ports: the other instance's nginx hands work here when its Orthanc refuses it.
                ports: [`${WEB_PORT}:${WEB_PORT}`, `${DICOM_PORT}:${DICOM_PORT}`, `${PEER_WEB_PORT}:${PEER_WEB_PORT}`, `${PEER_DICOM_PORT}:${PEER_DICOM_PORT}`],
                // run/peer: where peer.sh writes the peer's address.
                volumes: [`${p.dir}/nginx.conf:/etc/nginx/nginx.conf:ro`, `${p.dir}/run/tls:/etc/nginx/tls:ro`, `${p.dir}/run/peer:${PEER_MAP_DIR}:ro`, ...senderGateVolume(p)],
                logging,
                cap_drop: NO_CAPABILITIES,
                cap_add: NGINX_CAPABILITIES,
            },
        },
        networks: {
            default: {
                driver: "bridge",
                driver_opts: { "com.docker.network.bridge.name": CONTAINER_BRIDGE },
                ipam: { config: [{ subnet: CONTAINER_SUBNET, ip_range: DYNAMIC_ADDRESS_RANGE }] },
            },
        },
    };
    return "# Rendered by orthweb.\n" + stringify(doc);
}

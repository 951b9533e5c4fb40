// docker-compose.yml: Orthanc, reachable only on the compose network, behind nginx, which publishes 443 and 11112
// (and the peer-only ports 8443 and 11113).
import { stringify } from "yaml";
import { DICOM_PORT, ORTHANC_HTTP_PORT, PEER_DICOM_PORT, PEER_WEB_PORT, WEB_PORT } from "../../rules/ports";
import { DEFAULT_HEALTH_CHECKER_LISTEN, healthCheckerArgs } from "./healthChecker";
import { CONTAINER_BRIDGE, CONTAINER_SUBNET, DYNAMIC_ADDRESS_RANGE, ORTHANC_CONTAINER_ADDRESS } from "./metadataGuard";
import { PEER_MAP_DIR } from "./nginx";
import { DICOM_SENDER_GATE_FILE, NGINX_DICOM_SENDER_GATE } from "./dicomSenderGate";

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

export function renderCompose(p: ComposeParams): string {
    const doc = {
        services: {
            orthanc: {
                image: p.orthancImage,
                restart: "unless-stopped",
                environment: { AWS_REGION: p.region },
                volumes: [`${p.dir}/run/orthanc.json:/etc/orthanc/orthanc.json:ro`],
                logging,
                // The one address the metadata guard lets reach IMDS (metadataGuard.ts).
                networks: { default: { ipv4_address: ORTHANC_CONTAINER_ADDRESS } },
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
            },
            nginx: {
                image: p.nginxImage,
                restart: "unless-stopped",
                depends_on: ["orthanc", "healthz"],
                // The peer-only ports: the other instance's nginx hands work here when its Orthanc refuses it.
                ports: [`${WEB_PORT}:${WEB_PORT}`, `${DICOM_PORT}:${DICOM_PORT}`, `${PEER_WEB_PORT}:${PEER_WEB_PORT}`, `${PEER_DICOM_PORT}:${PEER_DICOM_PORT}`],
                // run/peer: where peer.sh writes the peer's address.
                volumes: [`${p.dir}/nginx.conf:/etc/nginx/nginx.conf:ro`, `${p.dir}/run/tls:/etc/nginx/tls:ro`, `${p.dir}/run/peer:${PEER_MAP_DIR}:ro`, ...senderGateVolume(p)],
                logging,
                // Without raw sockets nginx cannot forge Orthanc's address (or ARP) to get past the metadata guard.
                cap_drop: ["NET_RAW"],
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

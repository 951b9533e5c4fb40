// docker-compose.yml: Orthanc, reachable only on the compose network, behind nginx, which publishes 443 and 11112
// (and the peer-only ports 8443 and 11113).
import { stringify } from "yaml";
import { DICOM_PORT, PEER_DICOM_PORT, PEER_WEB_PORT, WEB_PORT } from "../../rules/ports";
import { PEER_MAP_DIR } from "./nginx";

export interface ComposeParams {
    readonly orthancImage: string;
    readonly nginxImage: string;
    /** Host directory with nginx.conf; run/ below it holds what the start script writes (orthanc.json, tls/). */
    readonly dir: string;
    readonly region: string;
}

const logging = { driver: "json-file", options: { "max-size": "20m", "max-file": "5" } };

export function renderCompose(p: ComposeParams): string {
    const doc = {
        services: {
            orthanc: {
                image: p.orthancImage,
                restart: "unless-stopped",
                environment: { AWS_REGION: p.region },
                volumes: [`${p.dir}/run/orthanc.json:/etc/orthanc/orthanc.json:ro`],
                logging,
            },
            nginx: {
                image: p.nginxImage,
                restart: "unless-stopped",
                depends_on: ["orthanc"],
                // The peer-only ports: the other instance's nginx hands work here when its Orthanc refuses it.
                ports: [`${WEB_PORT}:${WEB_PORT}`, `${DICOM_PORT}:${DICOM_PORT}`, `${PEER_WEB_PORT}:${PEER_WEB_PORT}`, `${PEER_DICOM_PORT}:${PEER_DICOM_PORT}`],
                // run/peer: where peer.sh writes the peer's address.
                volumes: [`${p.dir}/nginx.conf:/etc/nginx/nginx.conf:ro`, `${p.dir}/run/tls:/etc/nginx/tls:ro`, `${p.dir}/run/peer:${PEER_MAP_DIR}:ro`],
                logging,
            },
        },
    };
    return "# Rendered by orthweb.\n" + stringify(doc);
}

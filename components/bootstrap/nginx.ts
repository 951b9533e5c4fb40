// nginx in front of Orthanc: TLS on 443 (HTTP -> Orthanc 8042) and on 11112 (stream -> Orthanc DICOM 4242),
// plus GET /healthz, the one health signal every front door uses.
// Syntax accepted by nginx 1.22 (Debian) and the pinned image alike: `listen 443 ssl http2;`.
import { DICOM_PORT, HEALTH_CHECKER_PORT, HEALTH_PATH, ORTHANC_DICOM_PORT, ORTHANC_HTTP_PORT, WEB_PORT } from "../../rules/ports";

/** Load balancers' and Route 53's HTTPS checks need TLS 1.2; 1.3 for everyone who can. */
export const TLS_PROTOCOLS = "TLSv1.2 TLSv1.3";
const TLS12_CIPHERS = "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305";

export interface NginxParams {
    /** Where Orthanc listens, as seen from nginx: the compose service name on the instance. */
    readonly orthancHost: string;
    readonly orthancHttpPort?: number;
    readonly orthancDicomPort?: number;
    readonly certificatePath: string;
    readonly keyPath: string;
    readonly pidPath?: string;
    /** Addresses to listen on; empty means all (the instance). The local twin binds its own addresses. */
    readonly listenAddress?: string;
    /** Seconds a DICOM association may stay silent before nginx drops it. */
    readonly dicomIdleSeconds?: number;
    /** The CA of the modalities' client certificates: when set, 11112 admits only senders presenting one it signed. */
    readonly dicomClientCaPath?: string;
    /** Where the health checker listens, as seen from nginx. @default orthancHost */
    readonly healthCheckerHost?: string;
}

/** Mutual TLS on the DICOM listener: no certificate signed by the modalities' CA, no handshake. */
function dicomClientVerification(caPath: string | undefined): string {
    if (!caPath) return "";
    return `
        ssl_client_certificate ${caPath};
        ssl_verify_client on;
        ssl_verify_depth 1;`;
}

export function renderNginxConf(p: NginxParams): string {
    const http = p.orthancHttpPort ?? ORTHANC_HTTP_PORT;
    const dicom = p.orthancDicomPort ?? ORTHANC_DICOM_PORT;
    const at = p.listenAddress ? `${p.listenAddress}:` : "";
    return `# Rendered by orthweb: TLS termination in front of Orthanc.
worker_processes auto;
pid ${p.pidPath ?? "/var/run/nginx.pid"};
error_log stderr warn;

events {
    worker_connections 1024;
}

http {
    default_type application/octet-stream;
    access_log /dev/stdout;
    server_tokens off;
    sendfile on;
    # Studies are large; Orthanc enforces its own limits.
    client_max_body_size 0;

    ssl_protocols ${TLS_PROTOCOLS};
    ssl_ciphers ${TLS12_CIPHERS};
    ssl_prefer_server_ciphers off;
    ssl_session_cache shared:web:10m;
    ssl_session_timeout 1h;

    upstream orthanc_web {
        server ${p.orthancHost}:${http};
        keepalive 16;
    }

    server {
        listen ${at}${WEB_PORT} ssl http2;
        server_name _;
        ssl_certificate ${p.certificatePath};
        ssl_certificate_key ${p.keyPath};
        add_header Strict-Transport-Security "max-age=31536000" always;

        # 200 only while Orthanc can read its index: the health checker on this instance knows (its own login,
        # which nginx never holds). Anything else, including no answer within 2 s, is a 5xx.
        location = ${HEALTH_PATH} {
            proxy_pass http://${p.healthCheckerHost ?? p.orthancHost}:${HEALTH_CHECKER_PORT}${HEALTH_PATH};
            proxy_set_header Authorization "";
            proxy_connect_timeout 1s;
            proxy_read_timeout 2s;
            access_log off;
        }

        location / {
            proxy_pass http://orthanc_web;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header Host $host;
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
            proxy_set_header X-Forwarded-Proto https;
            proxy_request_buffering off;
            proxy_buffering off;
            proxy_read_timeout 600s;
            proxy_send_timeout 600s;
        }
    }
}

stream {
    upstream orthanc_dicom {
        server ${p.orthancHost}:${dicom};
    }

    server {
        listen ${at}${DICOM_PORT} ssl;
        ssl_certificate ${p.certificatePath};
        ssl_certificate_key ${p.keyPath};
        ssl_protocols ${TLS_PROTOCOLS};
        ssl_ciphers ${TLS12_CIPHERS};${dicomClientVerification(p.dicomClientCaPath)}
        proxy_pass orthanc_dicom;
        proxy_connect_timeout 5s;
        proxy_timeout ${p.dicomIdleSeconds ?? 3600}s;
    }
}
`;
}

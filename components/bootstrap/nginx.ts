// nginx in front of Orthanc: TLS on 443 (HTTP -> Orthanc 8042) and on 11112 (stream -> Orthanc DICOM 4242),
// plus GET /healthz, the one health signal every front door uses.
// Peer fallback: when this instance's Orthanc refuses a connection, the request or association goes to the other
// instance's Orthanc instead, over TLS to its nginx's peer-only listeners (which lead to that Orthanc only, so
// nothing can bounce back). The peer's address comes at run time from a map file (peer.sh writes it); without
// one, nginx behaves as if there were no fallback.
// Syntax accepted by nginx 1.22 (Debian) and the pinned image alike: `listen 443 ssl http2;`.
import { MAX_ASSOCIATE_RQ_BYTES, NJS_STREAM_MODULE, PREREAD_TIMEOUT_SECONDS } from "./dicomSenderGate";
import { DICOM_PORT, HEALTH_CHECKER_PORT, HEALTH_PATH, ORTHANC_DICOM_PORT, ORTHANC_HTTP_PORT, PEER_DICOM_PORT, PEER_WEB_PORT, WEB_PORT } from "../../rules/ports";

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
    /**
     * The sender gate's script (dicomSenderGate.ts): with client certificates, 11112 admits an association only when
     * its calling AE title is one of the certificate's modality's. Needs dicomClientCaPath.
     */
    readonly dicomSenderGatePath?: string;
    /** Seconds the gate waits for a whole A-ASSOCIATE-RQ. @default PREREAD_TIMEOUT_SECONDS */
    readonly dicomPrereadSeconds?: number;
    /** Where the health checker listens, as seen from nginx. @default orthancHost */
    readonly healthCheckerHost?: string;
    /** The map file(s) naming the peer's address (`peer 10.0.1.5;`); a glob that may match nothing. @default PEER_MAP_GLOB */
    readonly peerMapGlob?: string;
    /** Address the peer-only listeners bind; @default listenAddress */
    readonly peerListenAddress?: string;
}

/** Mutual TLS on the DICOM listener: no certificate signed by the modalities' CA, no handshake. */
function dicomClientVerification(caPath: string | undefined): string {
    if (!caPath) return "";
    return `
        ssl_client_certificate ${caPath};
        ssl_verify_client on;
        ssl_verify_depth 1;`;
}

/** The gate reads the A-ASSOCIATE-RQ before nginx connects to any Orthanc (dicomSenderGate.ts). */
function dicomSenderGate(gatePath: string | undefined, prereadSeconds = PREREAD_TIMEOUT_SECONDS): string {
    if (!gatePath) return "";
    return `
        js_preread dicom_senders.preread;
        preread_buffer_size ${MAX_ASSOCIATE_RQ_BYTES};
        preread_timeout ${prereadSeconds}s;`;
}

/** Where nginx reads the peer's address: the start script's run/peer directory, mounted into the container. */
export const PEER_MAP_DIR = "/etc/nginx/peer";
export const PEER_MAP_FILE = "peer.map";
export const PEER_MAP_GLOB = `${PEER_MAP_DIR}/*.map`;
/** Loopback relays: the backup server of each local upstream, which re-encrypts to the peer. */
export const PEER_RELAY_WEB_PORT = 18042;
export const PEER_RELAY_DICOM_PORT = 14242;
/** How long nginx waits for a connection to an Orthanc (local or peer) before trying the next one. */
const CONNECT_SECONDS = 2;

/** A peer server's proxying (as `location /` has it): `forwardedFor` is what X-Forwarded-For becomes. */
function peerProxy(target: string, forwardedFor: string): string {
    return `location / {
            proxy_pass ${target};
        }
        proxy_set_header Connection "";
        proxy_set_header Host $host;
        proxy_set_header X-Forwarded-For ${forwardedFor};
        proxy_set_header X-Forwarded-Proto https;
        proxy_connect_timeout ${CONNECT_SECONDS}s;
        proxy_read_timeout 600s;`;
}

/** `map` of the peer's address (http and stream alike): empty unless the map file names one. */
function peerMap(glob: string): string {
    return `map "peer" $orthweb_peer {
        default "";
        include ${glob};
    }`;
}

export function renderNginxConf(p: NginxParams): string {
    if (p.dicomSenderGatePath && !p.dicomClientCaPath) throw new Error("renderNginxConf: the DICOM sender gate reads the client certificate; it needs dicomClientCaPath");
    const http = p.orthancHttpPort ?? ORTHANC_HTTP_PORT;
    const dicom = p.orthancDicomPort ?? ORTHANC_DICOM_PORT;
    const at = p.listenAddress ? `${p.listenAddress}:` : "";
    const peerAddress = p.peerListenAddress ?? p.listenAddress;
    const peerAt = peerAddress ? `${peerAddress}:` : "";
    const peerMapGlob = p.peerMapGlob ?? PEER_MAP_GLOB;
    const dicomIdle = p.dicomIdleSeconds ?? 3600;
    const tls = `ssl_certificate ${p.certificatePath};
        ssl_certificate_key ${p.keyPath};`;
    const gate = p.dicomSenderGatePath;
    return `# Rendered by orthweb: TLS termination in front of Orthanc.
${gate ? `load_module ${NJS_STREAM_MODULE};\n` : ""}worker_processes auto;
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

    # Every proxy to an Orthanc streams both ways (/healthz sets its own timeouts).
    proxy_http_version 1.1;
    proxy_request_buffering off;
    proxy_buffering off;
    proxy_send_timeout 600s;

    upstream orthanc_web {
        server ${p.orthancHost}:${http};
        keepalive 16;
    }

    # Peer fallback (not for /healthz: it reports this instance's Orthanc). The local Orthanc is never disabled
    # (max_fails=0): one failed request must not send the next 10 s to the peer, which may be the one that is gone.
    # No idle keep-alive here: Orthanc closes idle connections, and a request caught on one would count as a failure.
    upstream orthanc_web_or_peer {
        server ${p.orthancHost}:${http} max_fails=0;
        server 127.0.0.1:${PEER_RELAY_WEB_PORT} backup;
    }

    ${peerMap(peerMapGlob)}

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
            proxy_pass http://orthanc_web_or_peer;
            proxy_set_header Connection "";
            proxy_set_header Host $host;
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
            proxy_set_header X-Forwarded-Proto https;
            proxy_connect_timeout ${CONNECT_SECONDS}s;
            proxy_read_timeout 600s;
        }
    }

    # Relay to the peer, over TLS.
    server {
        listen 127.0.0.1:${PEER_RELAY_WEB_PORT};
        if ($orthweb_peer = "") {
            return 502;
        }
        ${peerProxy(`https://$orthweb_peer:${PEER_WEB_PORT}`, "$http_x_forwarded_for")}
        proxy_ssl_protocols ${TLS_PROTOCOLS};
    }

    # Peer-only: to this Orthanc only, no loop.
    server {
        listen ${peerAt}${PEER_WEB_PORT} ssl;
        ${tls}
        ${peerProxy("http://orthanc_web", "$proxy_add_x_forwarded_for")}
    }
}

stream {
    ssl_protocols ${TLS_PROTOCOLS};
    ssl_ciphers ${TLS12_CIPHERS};
${gate ? `    js_import dicom_senders from ${gate};\n` : ""}
    # As for HTTP: the local Orthanc first, every time; the peer only when it refuses.
    upstream orthanc_dicom {
        server ${p.orthancHost}:${dicom} max_fails=0;
        server 127.0.0.1:${PEER_RELAY_DICOM_PORT} backup;
    }

    ${peerMap(peerMapGlob)}

    server {
        listen ${at}${DICOM_PORT} ssl;
        ssl_certificate ${p.certificatePath};
        ssl_certificate_key ${p.keyPath};
        ssl_protocols ${TLS_PROTOCOLS};
        ssl_ciphers ${TLS12_CIPHERS};${dicomClientVerification(p.dicomClientCaPath)}${dicomSenderGate(gate, p.dicomPrereadSeconds)}
        proxy_pass orthanc_dicom;
        proxy_connect_timeout 5s;
        proxy_timeout ${dicomIdle}s;
    }

    # Relay to the peer, over TLS.
    server {
        listen 127.0.0.1:${PEER_RELAY_DICOM_PORT};
        proxy_pass $orthweb_peer:${PEER_DICOM_PORT};
        proxy_ssl on;
        proxy_ssl_protocols ${TLS_PROTOCOLS};
        proxy_connect_timeout ${CONNECT_SECONDS}s;
        proxy_timeout ${dicomIdle}s;
    }

    # Peer-only: to this Orthanc only, no loop.
    server {
        listen ${peerAt}${PEER_DICOM_PORT} ssl;
        ${tls}
        proxy_pass ${p.orthancHost}:${dicom};
        proxy_connect_timeout ${CONNECT_SECONDS}s;
        proxy_timeout ${dicomIdle}s;
    }
}
`;
}

// nginx in front of Orthanc: TLS on 443 (HTTP -> Orthanc 8042) and on 11112 (stream -> Orthanc DICOM 4242),
// plus GET /healthz, the one health signal every front door uses.
// Peer fallback: when this instance's Orthanc refuses a connection, the request or association goes to the other
// instance's Orthanc instead, over TLS to its nginx's peer-only listeners (which lead to that Orthanc only, so
// nothing can bounce back). The peer's address comes at run time from a map file (peer.sh writes it); without
// one, nginx behaves as if there were no fallback.
// Syntax accepted by nginx 1.22 (Debian) and the pinned image alike: `listen 443 ssl http2;`.
import { MAX_ASSOCIATE_RQ_BYTES, NJS_STREAM_MODULE, PREREAD_TIMEOUT_SECONDS } from "./dicomSenderGate";
import { isIpv4Address } from "../../rules/cidr";
import { PEER_CERTIFICATE_NAME } from "../../rules/certificates";
import { DICOM_PORT, HEALTH_CHECKER_PORT, HEALTH_PATH, ORTHANC_DICOM_PORT, ORTHANC_HTTP_PORT, PEER_DICOM_PORT, PEER_WEB_PORT, WEB_PORT } from "../../rules/ports";
import { NGINX_PID_FILE, PEER_MAP_GLOB, PEER_TLS_FILES, PeerTlsFiles } from "../../rules/instanceFiles";

/** Load balancers' and Route 53's HTTPS checks need TLS 1.2; 1.3 for everyone who can. */
export const TLS_PROTOCOLS = "TLSv1.2 TLSv1.3";
const TLS12_CIPHERS = "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305";

export interface NginxParams {
    /**
     * Where Orthanc listens, as seen from nginx: an IPv4 address (the container's pinned one on the instance), never a
     * name. nginx resolves names in upstreams once, at start, and exits when one does not resolve, which would leave
     * the instance serving nothing while its Orthanc container is down.
     */
    readonly orthancHost: string;
    readonly orthancHttpPort?: number;
    readonly orthancDicomPort?: number;
    readonly certificatePath: string;
    readonly keyPath: string;
    readonly pidPath?: string;
    /** Addresses to listen on; empty means all (the instance). Specs on one host bind their own addresses (the twin re-points the peer-only listeners of the rendered file). */
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
    /** Where the health checker listens, as seen from nginx: an IPv4 address, as orthancHost. @default orthancHost */
    readonly healthCheckerHost?: string;
    /** The map file(s) naming the peer's address (`peer 10.0.1.5;`); a glob that may match nothing. @default PEER_MAP_GLOB */
    readonly peerMapGlob?: string;
    /** Address the peer-only listeners bind; @default listenAddress */
    readonly peerListenAddress?: string;
    /** The peer link's certificate, key and CA. @default PEER_TLS_FILES */
    readonly peerTls?: PeerTlsFiles;
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

/** Loopback relays: the backup server of each local upstream, which re-encrypts to the peer. */
export const PEER_RELAY_WEB_PORT = 18042;
export const PEER_RELAY_DICOM_PORT = 14242;
/**
 * When a request goes on to the peer (docs/load-balancer.md, "What happens to work in flight"): only when this Orthanc failed to take
 * or answer it (error: refused, reset, closed before the response header; timeout), never on an HTTP answer (an
 * Orthanc that answers is alive, and both share one database; 502 and 504 come only from a proxy, and there is none in
 * between). Without non_idempotent, a POST, PATCH or LOCK already sent is never re-sent; GET, HEAD, PUT, DELETE and
 * OPTIONS are (HTTP calls them idempotent), unless part of a body already went out (no request buffering). Once.
 */
const WEB_RETRY = `proxy_next_upstream error timeout;
            proxy_next_upstream_tries 2;`;
/** DICOM: only a connection that could not be opened goes to the peer; an open association dies with its Orthanc. */
const DICOM_RETRY = `proxy_next_upstream on;
    proxy_next_upstream_tries 2;`;

/**
 * The access log: nginx's usual "combined" fields (the basic-auth user among them, docs/security.md), then each Orthanc
 * tried for a request, its status and the bytes sent to it; a request re-sent to the
 * peer shows two upstreams, the first with bytes sent (the twin's orthanc-kill counts those).
 */
export const ACCESS_LOG_FORMAT = '$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent "$http_referer" "$http_user_agent" up=$upstream_addr up_status=$upstream_status up_sent=$upstream_bytes_sent';

/** How long nginx waits for a connection to an Orthanc (local or peer) before trying the next one. */
const CONNECT_SECONDS = 2;

/**
 * The peer-only listeners' side of the peer link: they present the peer certificate and admit only a client holding
 * one from the peer CA. nginx refuses a stream (11113) handshake without one; on 8443 it completes the handshake and
 * answers 400 without passing anything on.
 */
function peerListenerTls(t: PeerTlsFiles): string {
    return `ssl_certificate ${t.certificatePath};
        ssl_certificate_key ${t.keyPath};
        ssl_client_certificate ${t.caPath};
        ssl_verify_client on;
        ssl_verify_depth 1;`;
}

/** The relay's side: it shows the peer certificate and talks only to a peer whose certificate the peer CA issued for PEER_CERTIFICATE_NAME. */
function relayTls(t: PeerTlsFiles): string {
    return `proxy_ssl_protocols ${TLS_PROTOCOLS};
        proxy_ssl_certificate ${t.certificatePath};
        proxy_ssl_certificate_key ${t.keyPath};
        proxy_ssl_verify on;
        proxy_ssl_trusted_certificate ${t.caPath};
        proxy_ssl_verify_depth 1;
        proxy_ssl_name ${PEER_CERTIFICATE_NAME};`;
}

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
    const healthCheckerHost = p.healthCheckerHost ?? p.orthancHost;
    const names = Object.entries({ orthancHost: p.orthancHost, healthCheckerHost }).filter(([, host]) => !isIpv4Address(host));
    if (names.length > 0) {
        throw new Error(`nginx upstreams must be IPv4 addresses (a name is resolved once, at start, and nginx exits when it does not resolve): ${names.map(([key, host]) => `${key} ${JSON.stringify(host)}`).join(", ")}`);
    }
    const peerTls = p.peerTls ?? PEER_TLS_FILES;
    const http = p.orthancHttpPort ?? ORTHANC_HTTP_PORT;
    const dicom = p.orthancDicomPort ?? ORTHANC_DICOM_PORT;
    const at = p.listenAddress ? `${p.listenAddress}:` : "";
    const peerAddress = p.peerListenAddress ?? p.listenAddress;
    const peerAt = peerAddress ? `${peerAddress}:` : "";
    const peerMapGlob = p.peerMapGlob ?? PEER_MAP_GLOB;
    const dicomIdle = p.dicomIdleSeconds ?? 3600;
    const gate = p.dicomSenderGatePath;
    return `# Rendered by orthweb: TLS termination in front of Orthanc.
${gate ? `load_module ${NJS_STREAM_MODULE};\n` : ""}worker_processes auto;
pid ${p.pidPath ?? NGINX_PID_FILE};
error_log stderr warn;

events {
    worker_connections 1024;
}

http {
    default_type application/octet-stream;
    log_format orthweb '${ACCESS_LOG_FORMAT}';
    access_log /dev/stdout orthweb;
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
            proxy_pass http://${healthCheckerHost}:${HEALTH_CHECKER_PORT}${HEALTH_PATH};
            proxy_set_header Authorization "";
            proxy_connect_timeout 1s;
            proxy_read_timeout 2s;
            access_log off;
        }

        location / {
            proxy_pass http://orthanc_web_or_peer;
            ${WEB_RETRY}
            proxy_set_header Connection "";
            proxy_set_header Host $host;
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
            proxy_set_header X-Forwarded-Proto https;
            proxy_connect_timeout ${CONNECT_SECONDS}s;
            proxy_read_timeout 600s;
        }
    }

    # Relay to the peer, over mutual TLS.
    server {
        listen 127.0.0.1:${PEER_RELAY_WEB_PORT};
        if ($orthweb_peer = "") {
            return 502;
        }
        ${peerProxy(`https://$orthweb_peer:${PEER_WEB_PORT}`, "$http_x_forwarded_for")}
        ${relayTls(peerTls)}
    }

    # Peer-only: to this Orthanc only, no loop; only for the other instance (its peer certificate).
    server {
        listen ${peerAt}${PEER_WEB_PORT} ssl;
        ${peerListenerTls(peerTls)}
        ${peerProxy("http://orthanc_web", "$proxy_add_x_forwarded_for")}
    }
}

stream {
    ssl_protocols ${TLS_PROTOCOLS};
    ssl_ciphers ${TLS12_CIPHERS};
${gate ? `    js_import dicom_senders from ${gate};\n` : ""}
    ${DICOM_RETRY}

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

    # Relay to the peer, over mutual TLS.
    server {
        listen 127.0.0.1:${PEER_RELAY_DICOM_PORT};
        proxy_pass $orthweb_peer:${PEER_DICOM_PORT};
        proxy_ssl on;
        ${relayTls(peerTls)}
        proxy_connect_timeout ${CONNECT_SECONDS}s;
        proxy_timeout ${dicomIdle}s;
    }

    # Peer-only: to this Orthanc only, no loop; only for the other instance (its peer certificate).
    server {
        listen ${peerAt}${PEER_DICOM_PORT} ssl;
        ${peerListenerTls(peerTls)}
        proxy_pass ${p.orthancHost}:${dicom};
        proxy_connect_timeout ${CONNECT_SECONDS}s;
        proxy_timeout ${dicomIdle}s;
    }
}
`;
}

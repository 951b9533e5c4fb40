// Where an instance's files are: on the host (the bootstrap directory, the apply lock) and as nginx's container sees
// them (its certificates, the peer link's files, the map naming the peer, the sender gate). The program renders these
// paths into nginx.conf, the compose file and the scripts; the twin re-points exactly these paths at its own
// directories in the files it takes from the program's plan. Pure constants.

/** Where the bundle's files live on an instance. */
export const BOOTSTRAP_DIR = "/opt/orthweb";
/** One apply at a time on an instance (the apply script's flock). */
export const APPLY_LOCK_FILE = "/run/orthweb-apply.lock";

/** nginx's pid file in its container (nginx's own default). */
export const NGINX_PID_FILE = "/var/run/nginx.pid";
/** nginx's TLS directory in its container: the start script's run/tls, mounted read-only. */
export const NGINX_TLS_DIR = "/etc/nginx/tls";
/** The certificate and key nginx serves on 443 and 11112. */
export const NGINX_CERTIFICATE = `${NGINX_TLS_DIR}/server.crt`;
export const NGINX_CERTIFICATE_KEY = `${NGINX_TLS_DIR}/server.key`;

/** The peer link's mutual TLS (rules/certificates.ts peerCertificatePlan), as files nginx reads. */
export interface PeerTlsFiles {
    /** This instance's peer certificate: presented on 8443/11113 and by the relay as its client certificate. */
    readonly certificatePath: string;
    readonly keyPath: string;
    /** The peer CA: the only issuer either side accepts. */
    readonly caPath: string;
}

/** The peer link's files, as the start script writes them into run/tls (nginx's /etc/nginx/tls). */
export const PEER_TLS_FILE_NAMES = { certificate: "peer.crt", key: "peer.key", ca: "peer-ca.crt" } as const;
export const PEER_TLS_FILES: PeerTlsFiles = {
    certificatePath: `${NGINX_TLS_DIR}/${PEER_TLS_FILE_NAMES.certificate}`,
    keyPath: `${NGINX_TLS_DIR}/${PEER_TLS_FILE_NAMES.key}`,
    caPath: `${NGINX_TLS_DIR}/${PEER_TLS_FILE_NAMES.ca}`,
};

/** The modalities' CA, next to the server certificate in run/tls (nginx's /etc/nginx/tls). */
export const DICOM_CLIENT_CA_FILE = "dicom-clients-ca.crt";
/** Where nginx reads the modalities' CA (written by the start script from the TLS secret's dicomClientCaPem). */
export const NGINX_DICOM_CLIENT_CA = `${NGINX_TLS_DIR}/${DICOM_CLIENT_CA_FILE}`;

/** The DICOM sender gate's script file name on the instance (next to nginx.conf) and in the nginx container. */
export const DICOM_SENDER_GATE_FILE = "dicom-senders.js";
export const NGINX_DICOM_SENDER_GATE = `/etc/nginx/njs/${DICOM_SENDER_GATE_FILE}`;

/** Where nginx reads the peer's address: the start script's run/peer directory, mounted into the container. */
export const PEER_MAP_DIR = "/etc/nginx/peer";
/** The map file peer.sh writes there (`peer 10.0.1.5;`, or nothing). */
export const PEER_MAP_FILE = "peer.map";
export const PEER_MAP_GLOB = `${PEER_MAP_DIR}/*.map`;

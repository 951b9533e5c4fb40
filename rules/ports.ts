// The ports and the health path every part agrees on: what clients reach, what nginx forwards to, what the
// front doors check. Pure constants; the components, the config rules, the plan and the twin all read them here.

/** HTTPS for browsers and DICOMweb, terminated by nginx on each instance. */
export const WEB_PORT = 443;
/** DICOM over TLS, terminated by nginx's stream module on each instance. */
export const DICOM_PORT = 11112;
/** Orthanc's own HTTP port, reachable only from nginx on the same instance. */
export const ORTHANC_HTTP_PORT = 8042;
/** Orthanc's own DICOM port, reachable only from nginx on the same instance. */
export const ORTHANC_DICOM_PORT = 4242;
/** The one health signal every front door uses. */
export const HEALTH_PATH = "/healthz";
/**
 * Peer-only listeners: nginx of the other instance hands a request (HTTPS) or an association (DICOM over TLS)
 * here when its own Orthanc refuses it; they lead to this instance's Orthanc only. Open from the instances'
 * own security group, nothing else.
 */
export const PEER_WEB_PORT = 8443;
export const PEER_DICOM_PORT = 11113;
/** The peer-only ports: one inbound rule each on the instances' security group, from the group itself. */
export const PEER_PORTS = [PEER_WEB_PORT, PEER_DICOM_PORT] as const;
/** RDS PostgreSQL. */
export const DATABASE_PORT = 5432;
/** The health checker beside Orthanc: nginx's /healthz asks it, it asks Orthanc (reachable only on the instance). */
export const HEALTH_CHECKER_PORT = 8099;

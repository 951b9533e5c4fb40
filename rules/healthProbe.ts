// How the health checker behind /healthz probes Orthanc's index (components/bootstrap/healthChecker.ts renders it with
// these), and so how fast /healthz follows Orthanc: what the twin's bounds are computed from. Pure constants.

/** Seconds one probe may take before it counts as failed (Route 53 wants an answer within 2 s). */
export const PROBE_TIMEOUT_SECONDS = 1.5;
/** Seconds between the starts of two probes. */
export const PROBE_INTERVAL_SECONDS = 1;
/** A result older than this no longer counts as healthy (a stuck probe thread must not keep 200 alive). */
export const RESULT_MAX_AGE_SECONDS = 4;

// Orthanc's own logins (orthanc.json RegisteredUsers): who the start script fills a password in for, and who the
// clients log in as (the twin's among them). Their passwords are secrets, fetched or made on the instance. Pure.

/** The operators' login: its password is the stack's admin secret. */
export const ADMIN_USER = "admin";
/** The health checker's login: made on the instance at boot, it never leaves it (components/bootstrap/healthChecker.ts). */
export const HEALTH_USER = "healthz";

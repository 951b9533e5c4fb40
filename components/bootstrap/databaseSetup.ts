// Orthanc's own database login, made by the start script with the RDS master login (the only use of it).
// RDS rotates the master password every 7 days; Orthanc's login is the program's own secret and does not rotate
// under it, so a reconnect (Multi-AZ failover, maintenance, a network blip) never meets a password it does not
// know. The app login may create tables (Orthanc's schema) and owns them; it is no superuser and cannot create
// roles or databases. Idempotent: every run of the start script applies it again (a changed app password too).

/** Orthanc's login. The RDS master login keeps its name (`orthanc`): renaming it would replace the database. */
export const DATABASE_APP_USER = "orthanc_app";

/**
 * psql script, run as the master user in the Orthanc database with `-v app_user=... -v app_password=...` in one
 * transaction (psql --single-transaction): both instances may run it at once, so it takes an advisory lock first.
 */
export function renderDatabaseSetupSql(): string {
    // CREATE ROLE's defaults hold (no superuser, CREATEDB, CREATEROLE): RDS's master may not name those attributes.
    // The master may hand objects over only to a role it may SET (PostgreSQL 16 no longer implies it for its creator).
    // A stack that ran Orthanc as the master user: its tables, functions and large objects pass to the app login.
    return `-- Rendered by orthweb: Orthanc's own login, made with the master login.
SELECT pg_advisory_xact_lock(727001);
SELECT format('CREATE ROLE %I LOGIN', :'app_user') WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = :'app_user') \\gexec
ALTER ROLE :"app_user" WITH LOGIN PASSWORD :'app_password';
SELECT format('GRANT %I TO %I%s', :'app_user', current_user, CASE WHEN current_setting('server_version_num')::int >= 160000 THEN ' WITH SET TRUE' ELSE '' END) \\gexec
SELECT format('GRANT CONNECT, TEMPORARY ON DATABASE %I TO %I', current_database(), :'app_user') \\gexec
SELECT format('GRANT USAGE, CREATE ON SCHEMA public TO %I', :'app_user') \\gexec
SELECT format('ALTER TABLE public.%I OWNER TO %I', tablename, :'app_user') FROM pg_tables WHERE schemaname = 'public' AND tableowner = current_user \\gexec
SELECT format('ALTER FUNCTION %s OWNER TO %I', p.oid::regprocedure, :'app_user') FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = 'public' AND p.proowner = (SELECT oid FROM pg_roles WHERE rolname = current_user) \\gexec
SELECT format('ALTER LARGE OBJECT %s OWNER TO %I', oid, :'app_user') FROM pg_largeobject_metadata WHERE lomowner = (SELECT oid FROM pg_roles WHERE rolname = current_user) \\gexec
`;
}

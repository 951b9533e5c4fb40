// Orthanc's own database login, made by the start script with the RDS master login (the only use of it).
// RDS rotates the master password every 7 days; Orthanc's login is the program's own secret and does not rotate
// under it, so a reconnect (Multi-AZ failover, maintenance, a network blip) never meets a password it does not
// know. The app login may create tables (Orthanc's schema) and owns them; it is no superuser and cannot create
// roles or databases. Idempotent: every run of the start script checks the database as Orthanc's login and applies
// the setup again with the master whenever that check fails (a changed app password, a missing extension, an object
// Orthanc's login does not own).
//
// Two rules of the pinned image's PostgreSQL plugin (10.0) shape it:
// - Its schema script runs `CREATE EXTENSION IF NOT EXISTS pg_trgm` in its setup transaction. PostgreSQL lets only
//   a role with CREATE on the database create even a trusted extension, and Orthanc's login has none; once the
//   extension exists, the statement is a no-op for anyone. So the master (the database's owner) creates it.
// - Its schema scripts and upgrades alter, replace and use what the plugin created before: tables, functions,
//   triggers, standalone sequences (not OWNED BY a column, so ALTER TABLE ... OWNER does not move them), large
//   objects. PostgreSQL lets only an object's owner do that, so Orthanc's login must own every one of them, also
//   those a stack that ran Orthanc as the master user (the first release) left behind.

import { DATABASE_APP_PASSWORD_ENV, DATABASE_CHECK_VARIABLE } from "../../rules/database";

/** The extension the plugin's schema script creates (trusted: a database owner may create it). */
export const TRIGRAM_EXTENSION = "pg_trgm";

/**
 * Rows (kind, identity, owner, classid, objid) for every object in schema public, and every large object, of this
 * database whose owner matches `ownerCondition` (SQL over `d.refobjid`, the owner's oid). pg_shdepend records the
 * owner of every object not owned by the bootstrap superuser, so no kind is left out. Not in a schema, so left out:
 * the extension itself and default privileges. Left out too: an extension's members (they belong to whoever
 * installed it: the bootstrap superuser for a trusted one, or another superuser such as RDS's rdsadmin; Orthanc never
 * alters them). Compact: the user data holds it (EC2's 16 KB).
 */
function ownedObjects(ownerCondition: string): string {
    return `SELECT o.type kind,o.identity,d.refobjid owner,d.classid,d.objid FROM pg_shdepend d,pg_identify_object(d.classid,d.objid,d.objsubid) o
WHERE d.deptype='o' AND d.dbid=(SELECT oid FROM pg_database WHERE datname=current_database()) AND (o.schema='public' OR d.classid='pg_largeobject'::regclass)
AND NOT EXISTS (SELECT FROM pg_depend e WHERE e.classid=d.classid AND e.objid=d.objid AND e.deptype='e')
AND ${ownerCondition}`;
}

/**
 * psql script, run by the start script on every run. With `-v check=1`, as Orthanc's own login: it fails unless that
 * login works, the trigram extension is installed wherever the server offers it, and the login owns every object in
 * the schema; only then may the master stay unused. The setup ends with the same checks. Otherwise, as the master user in the Orthanc database with
 * `-v app_user=...` and the app password in the environment variable DATABASE_APP_PASSWORD_ENV, in one transaction
 * (psql --single-transaction): both instances may run it at once, so it takes an advisory lock first. Needs psql 15
 * or later (\getenv).
 */
export function renderDatabaseSetupSql(): string {
    // Without the app password in the environment, :'app_password' stays as written: a syntax error stops the setup.
    // CREATE ROLE's defaults hold (no superuser, CREATEDB, CREATEROLE): RDS's master may not name those attributes.
    // The master may hand objects over only to a role it may SET (PostgreSQL 16 no longer implies it for its creator),
    // and only to a role with CREATE on the object's schema: the grants come before the hand-over.
    // A sequence linked to a column (serial, identity) follows its table; ALTER SEQUENCE would refuse it.
    // The checks at the end run in both modes (in the check, app_user is the login itself, psql's USER): whatever the
    // master could not hand over (an owner it has no privileges of) fails the setup, naming the objects.
    const app = `(SELECT oid FROM pg_roles WHERE rolname=:'app_user')`;
    const fail = (message: string) => `SELECT format('DO $f$ BEGIN RAISE EXCEPTION %L; END $f$',${message})`;
    return `-- Rendered by orthweb: Orthanc's login set up by the master, or checked by itself (-v ${DATABASE_CHECK_VARIABLE}=1).
\\if :{?${DATABASE_CHECK_VARIABLE}}
\\set app_user :USER
\\else
\\getenv app_password ${DATABASE_APP_PASSWORD_ENV}
SELECT pg_advisory_xact_lock(727001);
SELECT format('CREATE ROLE %I LOGIN',:'app_user') WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname=:'app_user') \\gexec
ALTER ROLE :"app_user" WITH LOGIN PASSWORD :'app_password';
\\unset app_password
SELECT format('GRANT %I TO %I%s',:'app_user',current_user,CASE WHEN current_setting('server_version_num')::int>=160000 THEN ' WITH SET TRUE' END) \\gexec
SELECT format('GRANT CONNECT,TEMPORARY ON DATABASE %I TO %I',current_database(),:'app_user') \\gexec
SELECT format('GRANT USAGE,CREATE ON SCHEMA public TO %I',:'app_user') \\gexec
SELECT 'CREATE EXTENSION IF NOT EXISTS ${TRIGRAM_EXTENSION} SCHEMA public' WHERE EXISTS (SELECT FROM pg_available_extensions WHERE name='${TRIGRAM_EXTENSION}') \\gexec
SELECT format('ALTER %s %s OWNER TO %I',replace(kind,'statistics object','statistics'),identity,:'app_user') FROM (${ownedObjects(`d.refobjid<>${app} AND pg_has_role(d.refobjid,'USAGE')`)}) x
WHERE NOT (kind='sequence' AND EXISTS (SELECT FROM pg_depend l WHERE l.classid=x.classid AND l.objid=x.objid AND l.deptype IN ('a','i') AND l.refclassid='pg_class'::regclass)) \\gexec
\\endif
${fail(`'no ${TRIGRAM_EXTENSION}'`)} FROM pg_available_extensions WHERE name='${TRIGRAM_EXTENSION}' AND installed_version IS NULL \\gexec
${fail(`format('not owned by %s: %s',:'app_user',string_agg(kind||' '||identity||' ('||pg_get_userbyid(owner)||')',', '))`)}
FROM (${ownedObjects(`d.refobjid<>${app}`)}) x HAVING count(*)>0 \\gexec
`;
}

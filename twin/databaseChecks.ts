// What Orthanc's login must find after the program's database setup, checked on a real PostgreSQL by the twin's
// database step (twin/pair.ts) and by tests/system/databaseSetup.spec.ts. The pinned image's PostgreSQL plugin
// (10.0) runs `CREATE EXTENSION IF NOT EXISTS pg_trgm` in its schema script and alters, replaces and uses what it
// created before; PostgreSQL allows the first only to a role with CREATE on the database (or as a no-op when the
// extension exists) and the rest only to an object's owner. The checks read the catalogs kind by kind, independently
// of how the setup finds what to hand over.

/** The plugin's own statement, run as Orthanc's login: must be a no-op. */
export const CREATE_TRIGRAM_EXTENSION = "CREATE EXTENSION IF NOT EXISTS pg_trgm;";

/**
 * Every object in schema public and every large object not owned by `owner`, one line each (none: all are its).
 * Extension members are left out: they belong to the extension's installer (the bootstrap superuser).
 */
export function notOwnedBySql(owner: string): string {
    const kinds: [string, string, string, string][] = [
        ["pg_class", "relowner", "relnamespace", "relname"],
        ["pg_proc", "proowner", "pronamespace", "oid::regprocedure"],
        ["pg_type", "typowner", "typnamespace", "typname"],
        ["pg_operator", "oprowner", "oprnamespace", "oid::regoperator"],
        ["pg_collation", "collowner", "collnamespace", "collname"],
        ["pg_conversion", "conowner", "connamespace", "conname"],
        ["pg_statistic_ext", "stxowner", "stxnamespace", "stxname"],
        ["pg_ts_config", "cfgowner", "cfgnamespace", "cfgname"],
        ["pg_ts_dict", "dictowner", "dictnamespace", "dictname"],
        ["pg_opclass", "opcowner", "opcnamespace", "opcname"],
        ["pg_opfamily", "opfowner", "opfnamespace", "opfname"],
    ];
    const inSchema = kinds.map(([catalog, ownerColumn, schemaColumn, name]) =>
        `SELECT '${catalog}'::regclass AS catalog, oid, ${ownerColumn} AS owner, ${name}::text AS name FROM ${catalog} WHERE ${schemaColumn} = 'public'::regnamespace`);
    return `WITH objects AS (${[...inSchema, "SELECT 'pg_largeobject'::regclass, oid, lomowner, oid::text FROM pg_largeobject_metadata"].join("\nUNION ALL ")})
SELECT catalog || ' ' || name || ' (' || pg_get_userbyid(owner) || ')' FROM objects o
WHERE pg_get_userbyid(owner) <> '${owner}'
  AND NOT EXISTS (SELECT 1 FROM pg_depend e WHERE e.classid = o.catalog AND e.deptype = 'e'
      AND e.objid IN (o.oid, (SELECT typelem FROM pg_type WHERE o.catalog = 'pg_type'::regclass AND pg_type.oid = o.oid)))
ORDER BY 1;`;
}

/** The fixture's large object, at an oid of its own (Orthanc's own large objects get theirs from the server). */
const FIRST_RELEASE_LARGE_OBJECT = 727002;

/**
 * What the first release left behind: it ran Orthanc as the master, so what the plugin created is the master's. One of
 * each kind, named apart from Orthanc's own tables: tables (one with a serial column), a standalone sequence (not
 * OWNED BY a column, as the plugin's PatientRecyclingOrderSequence), a trigger function, an enum and a domain type, a
 * view and a large object (a stored file).
 */
export const FIRST_RELEASE_OBJECTS = `
CREATE TABLE FirstReleasePatients (internalId BIGSERIAL PRIMARY KEY, publicId VARCHAR(64) NOT NULL);
CREATE SEQUENCE FirstReleaseOrderSequence;
CREATE TABLE FirstReleaseRecycling (seq BIGINT NOT NULL DEFAULT nextval('FirstReleaseOrderSequence'), patientId BIGINT REFERENCES FirstReleasePatients(internalId));
CREATE FUNCTION FirstReleasePatientAdded() RETURNS TRIGGER LANGUAGE plpgsql AS $f$ BEGIN INSERT INTO FirstReleaseRecycling (patientId) VALUES (new.internalId); RETURN NULL; END $f$;
CREATE TRIGGER FirstReleasePatientAddedTrigger AFTER INSERT ON FirstReleasePatients FOR EACH ROW EXECUTE PROCEDURE FirstReleasePatientAdded();
CREATE TYPE FirstReleaseKind AS ENUM ('patient', 'study');
CREATE DOMAIN FirstReleaseSize AS BIGINT CHECK (VALUE >= 0);
CREATE VIEW FirstReleaseView AS SELECT publicId FROM FirstReleasePatients;
SELECT lo_from_bytea(${FIRST_RELEASE_LARGE_OBJECT}, 'a file stored by the first release');
`;

/**
 * As Orthanc's login, the kind of work the plugin's scripts and CreateInstance() do on those objects: new rows through
 * the trigger and the standalone sequence, a replaced function, a dropped and re-created trigger, a new column and
 * index, a written large object. Then it drops them all again (only their owner may).
 */
export const USE_FIRST_RELEASE_OBJECTS = `
INSERT INTO FirstReleasePatients (publicId) VALUES ('p1');
SELECT nextval('FirstReleaseOrderSequence');
CREATE OR REPLACE FUNCTION FirstReleasePatientAdded() RETURNS TRIGGER LANGUAGE plpgsql AS $f$ BEGIN RETURN NULL; END $f$;
DROP TRIGGER IF EXISTS FirstReleasePatientAddedTrigger ON FirstReleasePatients;
CREATE TRIGGER FirstReleasePatientAddedTrigger AFTER INSERT ON FirstReleasePatients FOR EACH ROW EXECUTE PROCEDURE FirstReleasePatientAdded();
ALTER TABLE FirstReleasePatients ADD COLUMN IF NOT EXISTS childCount INTEGER;
CREATE INDEX IF NOT EXISTS FirstReleasePublic ON FirstReleasePatients (publicId);
SELECT lo_put(${FIRST_RELEASE_LARGE_OBJECT}, 0, 'x');
`;

export const DROP_FIRST_RELEASE_OBJECTS = `
SELECT lo_unlink(${FIRST_RELEASE_LARGE_OBJECT});
DROP VIEW FirstReleaseView;
DROP TABLE FirstReleaseRecycling, FirstReleasePatients;
DROP SEQUENCE FirstReleaseOrderSequence;
DROP FUNCTION FirstReleasePatientAdded();
DROP TYPE FirstReleaseKind;
DROP DOMAIN FirstReleaseSize;
`;

/** How many fixture objects of each kind `current_user` owns: "tables sequences functions types views large-objects". */
export const FIRST_RELEASE_OWNED = `SELECT
  (SELECT count(*) FROM pg_class WHERE relkind = 'r' AND relname LIKE 'firstrelease%' AND relowner = current_user::regrole) || ' ' ||
  (SELECT count(*) FROM pg_class WHERE relkind = 'S' AND relname LIKE 'firstrelease%' AND relowner = current_user::regrole) || ' ' ||
  (SELECT count(*) FROM pg_proc WHERE proname LIKE 'firstrelease%' AND proowner = current_user::regrole) || ' ' ||
  (SELECT count(*) FROM pg_type WHERE typtype IN ('e', 'd') AND typname LIKE 'firstrelease%' AND typowner = current_user::regrole) || ' ' ||
  (SELECT count(*) FROM pg_class WHERE relkind = 'v' AND relname LIKE 'firstrelease%' AND relowner = current_user::regrole) || ' ' ||
  (SELECT count(*) FROM pg_largeobject_metadata WHERE lomowner = current_user::regrole AND oid = ${FIRST_RELEASE_LARGE_OBJECT});`;

/** FIRST_RELEASE_OWNED when every fixture object is current_user's (the serial column's sequence counts too). */
export const FIRST_RELEASE_ALL_OWNED = "2 2 1 2 1 1";

// Orthanc's database: its name, its two logins and how every client connects to it. The program renders these into
// the RDS instance, orthanc.json, the start script and database-setup.sql; the twin builds its PostgreSQL stand-in
// with the same names. Pure constants.

/** The database Orthanc's index lives in (RDS dbName). */
export const DATABASE_NAME = "orthanc";
/** The RDS master login: used only to make Orthanc's own login (the start script's setup). */
export const DATABASE_USER = "orthanc";

/** Orthanc's login. The RDS master login keeps its name (`orthanc`): renaming it would replace the database. */
export const DATABASE_APP_USER = "orthanc_app";

/** The environment variable the app password reaches psql in (psql's \getenv): never a command-line argument. */
export const DATABASE_APP_PASSWORD_ENV = "ORTHWEB_DB_APP_PASSWORD";

/** The psql variable that makes database-setup.sql only check, as Orthanc's login (`-v check=1`). */
export const DATABASE_CHECK_VARIABLE = "check";

/**
 * libpq's connection timeouts, on Orthanc's ConnectionUri and on the start script's psql. Without them a black-holed
 * RDS endpoint (a Multi-AZ failover, a broken route) holds a connection attempt for the kernel's SYN retries (about
 * 2 minutes) and a request in flight for TCP's retransmissions (about 15 minutes), each holding an Orthanc thread.
 * - connect_timeout: seconds a connection attempt may take (libpq's own timer; it covers TCP, TLS and the login).
 * - keepalives*: an idle connection whose peer went silent is found dead after idle + interval x count = 25 s.
 * - tcp_user_timeout: a request whose data stay unacknowledged this many milliseconds fails (the server's kernel
 *   acknowledges even while a slow query runs, so only a dead path trips it). libpq 12 and later; the pinned plugin
 *   builds against libpq 13 or the system's.
 */
export const DATABASE_CONNECTION_TIMEOUTS = {
    connect_timeout: 10,
    keepalives: 1,
    keepalives_idle: 10,
    keepalives_interval: 5,
    keepalives_count: 3,
    tcp_user_timeout: 10000,
} as const;

/** The timeouts as a libpq URI's query (`connect_timeout=10&...`). */
export function databaseConnectionOptions(): string {
    return Object.entries(DATABASE_CONNECTION_TIMEOUTS).map(([key, value]) => `${key}=${value}`).join("&");
}

/** The timeouts alone as a libpq URI, for psql: host, port, database and login come from the environment. */
export const TIMEOUTS_ONLY_URI = `postgresql://?${databaseConnectionOptions()}`;

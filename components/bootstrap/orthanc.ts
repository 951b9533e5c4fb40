import { modalityAeTitles } from "../../rules/modalities";
import { ORTHANC_DICOM_PORT, ORTHANC_HTTP_PORT } from "../../rules/ports";
import { databaseConnectionOptions } from "../../rules/database";
import { ADMIN_USER, HEALTH_USER } from "../../rules/logins";
// orthanc.json, without secrets: the start script adds the database credentials and the logins at boot (with jq,
// so any character in a password stays valid JSON) before Orthanc reads it.
//
// The database login travels as a percent-encoded ConnectionUri, the one form that survives both readers of it:
// the orthancteam image's entrypoint runs the Python envsubst package over /etc/orthanc/*.json (a `$` followed by
// a letter, digit or _ becomes an environment variable, usually empty), and the PostgreSQL plugin hands Username
// and Password to libpq in an unquoted key=value string (a space, quote or backslash breaks it). Percent-encoded,
// the password holds only letters, digits, `%` and `-_.!~*'()`; libpq decodes it. tests/credentials.spec.ts.

export interface OrthancParams {
    readonly name: string;
    readonly aet: string;
    readonly database: { readonly host: string; readonly port: number; readonly name: string };
    readonly bucket: { readonly name: string; readonly region: string };
    /** The DICOM senders allowed to store and query; none: anyone may store (the easy default). @default [] */
    readonly modalities?: readonly { readonly name: string; readonly aet: string | readonly string[] }[];
}

/**
 * The DICOM keys. With modalities listed, Orthanc admits only their calling AE titles (every DicomAlwaysAllow* is
 * false, so an unknown AE title's association is rejected), each may echo, store and query but not retrieve (C-GET, C-MOVE), and
 * the called AE title must be Orthanc's. Orthanc sees nginx's address, not the modality's: the host is not checked
 * here (DicomCheckModalityHost false), the network edge admits the modalities' blocks instead. Orthanc never
 * connects to a sender, so Host/Port are placeholders. Orthanc knows one AE title per entry: a modality with several
 * gets one entry each, the first under its name, the others as `<name>_2`, `<name>_3`: Orthanc allows letters, digits,
 * `-` and `_` in these keys, and a modality's name never holds `_`, so they cannot collide.
 */
export function dicomAccessKeys(modalities: readonly { readonly name: string; readonly aet: string | readonly string[] }[]): Record<string, unknown> {
    if (modalities.length === 0) {
        return { DicomCheckCalledAet: false, DicomAlwaysAllowEcho: true, DicomAlwaysAllowStore: true };
    }
    return {
        DicomCheckCalledAet: true,
        DicomAlwaysAllowEcho: false,
        DicomAlwaysAllowStore: false,
        DicomAlwaysAllowFind: false,
        DicomAlwaysAllowFindWorklist: false,
        DicomAlwaysAllowGet: false,
        DicomAlwaysAllowMove: false,
        DicomCheckModalityHost: false,
        DicomModalities: Object.fromEntries(
            modalities.flatMap((m) =>
                modalityAeTitles(m).map((aet, i) => [
                    i === 0 ? m.name : `${m.name}_${i + 1}`,
                    // Allow* default to true: echo, store, find (and storage commitment) stay allowed; retrieving is not.
                    { AET: aet, Host: "0.0.0.0", Port: 104, AllowGet: false, AllowMove: false },
                ]),
            ),
        ),
    };
}

/** The keys the start script fills in (jq paths): from Secrets Manager, and the health checker's local login. */
export const SECRET_PATHS = {
    databaseUri: ".PostgreSQL.ConnectionUri",
    adminPassword: `.RegisteredUsers.${ADMIN_USER}`,
    healthPassword: `.RegisteredUsers.${HEALTH_USER}`,
} as const;

/**
 * The jq program that puts the secrets into orthanc.json, given `--arg user`, `--arg password`, `--arg admin` and
 * `--arg health` (or --rawfile): the database login becomes a ConnectionUri built from the template's Host, Port,
 * Database and EnableSsl, each part percent-encoded (@uri), with DATABASE_CONNECTION_TIMEOUTS. The start script runs it; the twin reads it out of the rendered start.sh.
 */
export const SECRETS_FILTER =
    `${SECRET_PATHS.databaseUri} = "postgresql://\\($user | @uri):\\($password | @uri)@\\(.PostgreSQL.Host | @uri):\\(.PostgreSQL.Port)/` +
    `\\(.PostgreSQL.Database | @uri)?sslmode=\\(if .PostgreSQL.EnableSsl then "require" else "disable" end)&${databaseConnectionOptions()}"` +
    ` | ${SECRET_PATHS.adminPassword} = $admin | ${SECRET_PATHS.healthPassword} = $health`;

export function renderOrthancConfig(p: OrthancParams): Record<string, unknown> {
    return {
        Name: p.name,
        DicomAet: p.aet,
        DicomPort: ORTHANC_DICOM_PORT,
        HttpPort: ORTHANC_HTTP_PORT,
        // nginx, on the same host, is the only client; it terminates TLS.
        RemoteAccessAllowed: true,
        AuthenticationEnabled: true,
        RegisteredUsers: { [ADMIN_USER]: "", [HEALTH_USER]: "" },
        ...dicomAccessKeys(p.modalities ?? []),
        StorageDirectory: "/var/lib/orthanc/db",
        PostgreSQL: {
            EnableIndex: true,
            EnableStorage: false,
            Host: p.database.host,
            Port: p.database.port,
            Database: p.database.name,
            // The login goes into ConnectionUri at boot (SECRETS_FILTER); the plugin then ignores the fields above.
            EnableSsl: true,
            // Two Orthancs share this index: the exclusive lock would keep the second one out.
            Lock: false,
            IndexConnectionsCount: 5,
            MaximumConnectionRetries: 30,
            ConnectionRetryInterval: 5,
        },
        AwsS3Storage: {
            BucketName: p.bucket.name,
            Region: p.bucket.region,
            // Credentials come from the instance role (IMDSv2, hop limit 2 for the container).
            ConnectionTimeout: 30,
            RequestTimeout: 1200,
            StorageStructure: "flat",
        },
    };
}

export function renderOrthancJson(p: OrthancParams): string {
    return JSON.stringify(renderOrthancConfig(p), null, 2) + "\n";
}

// Cross-field rules about who may send studies: DICOM client certificates need TLS to end where nginx can check
// them, a CA with no modality would admit nobody, and prod names its client blocks explicitly. They read the RAW
// input (wrong types are the schema's to report), so that every problem is reported at once.
const NS = "orthweb";

type Raw = Record<string, unknown>;

function record(value: unknown): Raw {
    return typeof value === "object" && value !== null && !Array.isArray(value) ? (value as Raw) : {};
}

export function senderProblems(input: Raw): string[] {
    const problems: string[] = [];
    const orthanc = record(input.orthanc);
    const traffic = record(input.traffic);
    const frontDoor = traffic.frontDoor ?? "direct";

    if (orthanc.dicomClientCertificates === true) {
        const lb = record(traffic.loadBalancer);
        const dicomTls = lb.dicomTls ?? "terminate";
        if (frontDoor === "loadBalancer" && dicomTls !== "passthrough") {
            problems.push(
                `${NS}:traffic.loadBalancer.dicomTls: got ${JSON.stringify(dicomTls)}${lb.dicomTls === undefined ? " (the default)" : ""} with ` +
                    `${NS}:orthanc.dicomClientCertificates true; allowed: passthrough (a load balancer that terminates DICOM TLS never ` +
                    "sees the modalities' certificates, so nginx on the instances must end TLS and check them)",
            );
        }
        if (Array.isArray(orthanc.modalities) ? orthanc.modalities.length === 0 : orthanc.modalities === undefined) {
            problems.push(
                `${NS}:orthanc.modalities: required (at least one) when ${NS}:orthanc.dicomClientCertificates is true; ` +
                    "allowed: a list of { name, aet, cidr? }, one client certificate each (without any, no sender could connect)",
            );
        }
    }

    // prod never opens to anywhere by default: the blocks are the hospital's to name (0.0.0.0/0 stays possible, explicitly).
    if (input.environment === "prod" && frontDoor !== "none") {
        const network = record(input.network);
        for (const key of ["webClientCidrs", "dicomClientCidrs"] as const) {
            if (network[key] === undefined) {
                problems.push(
                    `${NS}:network.${key}: required in prod (environment prod); allowed: the list of blocks your ${key === "webClientCidrs" ? "users browse" : "modalities send"} ` +
                        `from, such as ["198.51.100.0/24"] (the dev default, 0.0.0.0/0, is anywhere; write it out if you mean it)`,
                );
            }
        }
    }
    return problems;
}

/** How many blocks the modalities add on 11112 at most (the config rule quota counts them). */
export function rawModalityCidrCount(input: Raw): number {
    const modalities = record(input.orthanc).modalities;
    return Array.isArray(modalities) ? modalities.filter((m) => typeof record(m).cidr === "string").length : 0;
}

export interface SenderSettings {
    readonly environment: "dev" | "prod";
    readonly network: { readonly webClientCidrs: readonly string[]; readonly dicomClientCidrs: readonly string[] };
    readonly orthanc: { readonly modalities: readonly { readonly name: string; readonly cidr?: string }[]; readonly dicomClientCertificates: boolean };
    readonly traffic: { readonly frontDoor: string };
}

const ANYWHERE = "0.0.0.0/0";

/** What is allowed but leaves patient data open: one line each, naming the key and what to do. Pure. */
export function senderWarnings(c: SenderSettings): string[] {
    const warnings: string[] = [];
    if (c.orthanc.modalities.length === 0) {
        warnings.push(
            `${NS}:orthanc.modalities: none listed (${c.environment}): Orthanc accepts C-STORE from any calling AE title that reaches port 11112. ` +
                "List your modalities ({ name, aet, cidr? }) so that only they may store and query.",
        );
    }
    if (c.traffic.frontDoor !== "none") {
        for (const key of ["webClientCidrs", "dicomClientCidrs"] as const) {
            if (c.network[key].includes(ANYWHERE)) {
                warnings.push(
                    `${NS}:network.${key}: ${ANYWHERE} admits the whole internet on ${key === "webClientCidrs" ? "HTTPS 443" : "DICOM 11112"}. ` +
                        "Name your sites' blocks instead.",
                );
            }
        }
    }
    return warnings;
}

// DICOM senders (modalities) as data: who may store, the address blocks the network edge admits on 11112, and
// the plan of their client certificates. Pure; shared by the config checks, the program, the plan and the twin.
import { clientCertificatePlan, ClientCertificatePlan, MAX_COMMON_NAME_LENGTH } from "./certificates";
import { contains, parseCidr } from "./cidr";

export interface Modality {
    /** The name of its certificate (CN `<name>.<MODALITY_CERTIFICATE_DOMAIN>`) and of its entry in Orthanc. */
    readonly name: string;
    /** The calling AE title(s) the modality sends with: one, or a list (a modality with several applications). */
    readonly aet: string | readonly string[];
    /** Where it sends from, admitted on 11112 at the network edge. */
    readonly cidr?: string;
}

/** DICOM's AE title: 1-16 characters of the default repertoire without backslash; no leading or trailing space. */
export const AE_TITLE = /^[A-Za-z0-9_.-](?:[A-Za-z0-9 _.-]{0,14}[A-Za-z0-9_.-])?$/;
/** A name usable as the first label of a certificate CN and as an Orthanc modality key. */
export const MODALITY_NAME = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;

/** How many calling AE titles one modality may list (each is an orthanc.json entry; see MAX_MODALITIES). */
export const MAX_AE_TITLES_PER_MODALITY = 4;

/** A modality's calling AE titles as a list, whichever form the config gave. */
export function modalityAeTitles(m: Pick<Modality, "aet">): readonly string[] {
    return typeof m.aet === "string" ? [m.aet] : m.aet;
}

/** CN suffix of the modalities' CA (`ca.` + this) and client certificates (`<name>.` + this). */
export const MODALITY_CERTIFICATE_DOMAIN = "modalities.orthweb.internal";
/** Client certificates' lifetime; the CA lives twice as long, and `pulumi up` renews each in time. */
export const MODALITY_CERTIFICATE_VALIDITY_DAYS = 825;
/** The longest name whose CN stays within X.509's 64 characters. */
export const MAX_MODALITY_NAME_LENGTH = MAX_COMMON_NAME_LENGTH - MODALITY_CERTIFICATE_DOMAIN.length - 1;

export function modalityCertificatePlan(names: readonly string[]): ClientCertificatePlan {
    return clientCertificatePlan(MODALITY_CERTIFICATE_DOMAIN, names, MODALITY_CERTIFICATE_VALIDITY_DAYS);
}

/**
 * The blocks admitted on 11112: the configured DICOM client blocks, then each modality's block that none of them
 * already covers (a duplicate security group rule is an error in AWS, and a covered one adds nothing). Orthanc sees
 * nginx's address, never the modality's, so this is the only place a modality's address is checked.
 */
export function admittedDicomCidrs(dicomClientCidrs: readonly string[], modalities: readonly Modality[]): string[] {
    const admitted = [...dicomClientCidrs];
    for (const m of modalities) {
        const block = m.cidr !== undefined ? parseCidr(m.cidr) : undefined;
        if (!block) continue;
        const covered = admitted.some((text) => {
            const existing = parseCidr(text);
            return existing !== undefined && contains(existing, block);
        });
        if (!covered) admitted.push(m.cidr as string);
    }
    return admitted;
}

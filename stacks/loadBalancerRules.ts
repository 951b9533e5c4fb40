// Cross-field rules of `traffic.loadBalancer`. They read the RAW input (wrong types are the schema's to
// report), so that every problem is reported at once.
import { passThroughNames } from "../rules/loadBalancerLayout";
import { FRONT_DOORS } from "./schema";
import { CertificateFacts, certificateCovers } from "./tlsMaterial";

const KEY = "orthweb:traffic.loadBalancer";
/** The ALB's group has a rule for 443 and one for the port 80 redirect per web block; AWS allows 60. */
export const MAX_ALB_WEB_CIDRS = 30;
/** ACM puts the first domain name into the certificate's CN, which holds 64 characters. */
export const ACM_FIRST_NAME_MAX = 64;

type Raw = Record<string, unknown>;

function isObject(value: unknown): value is Raw {
    return typeof value === "object" && value !== null && !Array.isArray(value);
}

function text(value: unknown): string | undefined {
    return typeof value === "string" ? value : undefined;
}

export function loadBalancerProblems(input: Raw, region: unknown, tlsFacts?: CertificateFacts): string[] {
    const traffic = isObject(input.traffic) ? input.traffic : {};
    const lb = traffic.loadBalancer;
    if (!isObject(lb)) return [];
    const frontDoor = traffic.frontDoor ?? "direct";
    if ((FRONT_DOORS as readonly unknown[]).includes(frontDoor) && frontDoor !== "loadBalancer") {
        return [
            `${KEY}: got a loadBalancer section with frontDoor ${JSON.stringify(frontDoor)}; allowed: only with orthweb:traffic.frontDoor ` +
                "loadBalancer (set frontDoor: loadBalancer, or remove the section)",
        ];
    }

    const problems: string[] = [];
    const type = lb.type ?? "network";
    const zoneName = text(lb.zoneName);
    const certificateArn = text(lb.certificateArn);
    const hasCertificate = lb.zoneName !== undefined || lb.certificateArn !== undefined;
    const where = typeof region === "string" ? region : "the stack's region";

    if (type === "application" && !hasCertificate) {
        problems.push(
            `${KEY}.type: got "application" without a certificate; allowed: application with ${KEY}.zoneName (an ACM certificate is ` +
                `requested and validated by DNS in that Route 53 zone) or ${KEY}.certificateArn (an existing ACM certificate in ${where}); ` +
                "or type network, which can pass TLS through to the instances",
        );
    }
    if (lb.waf === true && type !== "application") {
        problems.push(`${KEY}.waf: got true with type ${JSON.stringify(type)}; allowed: waf only with type application (AWS WAF attaches to Application Load Balancers)`);
    }
    if (lb.dicomRecordName !== undefined && type !== "application") {
        problems.push(
            `${KEY}.dicomRecordName: got ${JSON.stringify(lb.dicomRecordName)} with type ${JSON.stringify(type)}; allowed: only with type application ` +
                "(a network load balancer carries DICOM under recordName)",
        );
    }
    if (lb.zoneName === undefined) {
        for (const key of ["recordName", "dicomRecordName"]) {
            if (lb[key] !== undefined) {
                problems.push(`${KEY}.${key}: got ${JSON.stringify(lb[key])} without ${KEY}.zoneName; allowed: a record in zoneName (set zoneName too, or remove ${key})`);
            }
        }
    }
    const recordName = lb.recordName ?? "pacs";
    if (type === "application" && lb.dicomRecordName !== undefined && lb.dicomRecordName === recordName) {
        problems.push(
            `${KEY}.dicomRecordName: got ${JSON.stringify(lb.dicomRecordName)}, the same as recordName; allowed: a name of its own for the ` +
                "companion DICOM load balancer (default <recordName>-dicom)",
        );
    }
    if (lb.dicomTls === "terminate" && !hasCertificate) {
        problems.push(
            `${KEY}.dicomTls: got "terminate" without a certificate; allowed: terminate with ${KEY}.zoneName or ${KEY}.certificateArn, ` +
                "else passthrough (what a load balancer without a certificate does)",
        );
    }
    const arnRegion = certificateArn?.split(":")[3];
    if (arnRegion && typeof region === "string" && arnRegion !== region) {
        problems.push(`${KEY}.certificateArn: got ${JSON.stringify(certificateArn)}; allowed: an ACM certificate in ${region}, the load balancer's region (ACM certificates are regional)`);
    }
    if (zoneName && certificateArn === undefined && typeof recordName === "string") {
        const first = `${recordName}.${zoneName}`;
        if (first.length > ACM_FIRST_NAME_MAX) {
            problems.push(
                `${KEY}.recordName: got ${JSON.stringify(recordName)}, which makes ${first} (${first.length} characters); allowed: a name of at most ` +
                    `${ACM_FIRST_NAME_MAX} characters with the zone, ACM's limit for a certificate's first name (or bring certificateArn)`,
            );
        }
    }
    if (type === "application") {
        const network = isObject(input.network) ? input.network : {};
        const web = Array.isArray(network.webClientCidrs) ? network.webClientCidrs.length : 1;
        if (web > MAX_ALB_WEB_CIDRS) {
            problems.push(
                `orthweb:network.webClientCidrs: got ${web} blocks with an application load balancer; allowed: at most ${MAX_ALB_WEB_CIDRS} ` +
                    "(each needs two rules on the ALB's security group, 443 and the port 80 redirect; AWS allows 60). Summarise the blocks into larger ones.",
            );
        }
    }
    if (tlsFacts && zoneName && (type === "network" || type === "application") && typeof recordName === "string") {
        const names = passThroughNames({
            type,
            zoneName,
            recordName,
            dicomRecordName: text(lb.dicomRecordName),
            hasCertificate,
            dicomTls: lb.dicomTls === "passthrough" ? "passthrough" : "terminate",
        });
        for (const name of names.filter((n) => !certificateCovers(tlsFacts, n))) {
            problems.push(
                `orthweb:tlsCertificatePem: does not name ${name}, which modalities reach through the load balancer with ${KEY}.dicomTls passthrough; ` +
                    `allowed: a certificate whose subject alternative names include ${name} (or a wildcard over it)`,
            );
        }
    }
    return problems;
}

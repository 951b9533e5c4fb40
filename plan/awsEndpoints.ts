// The VPC endpoints a plan creates (how the instances reach AWS APIs without the internet), what each policy admits,
// and who needs each, read from the scripts the stack really delivers: the config bundle in the bucket and the SSM
// document. Without the internet, a service the scripts call that has no endpoint is a finding. Pure.
import { SHELL_SCRIPT } from "../components/bootstrap/apply";
import { Registration } from "./mockRuntime";
import { plain, TYPES } from "./planModel";
import { CONFIG_PREFIX, parseBundle } from "../rules/rollout";
import { endpointServiceOf, requiredEndpoints } from "../rules/vpcEndpoints";

const BUNDLE_OBJECT = "aws:s3/bucketObjectv2:BucketObjectv2";
const SSM_DOCUMENT = "aws:ssm/document:Document";

export interface AwsEndpointRow {
    readonly name: string;
    /** com.amazonaws.<region>.<service>'s <service>. */
    readonly service: string;
    readonly type: string;
    /** What the policy admits, in words. */
    readonly policy: string;
    /** The script calls and agents that use it (empty: nothing the plan knows of). */
    readonly neededBy: readonly string[];
}

export interface AwsEndpointsSection {
    readonly endpoints: AwsEndpointRow[];
    /** Services the instances call that have no endpoint, when the VPC has no internet (else nothing is missing). */
    readonly missing: string[];
}

/** The shell scripts the stack delivers to its instances: the bundle's executables and the SSM documents' commands. */
export function deliveredScripts(registrations: readonly Registration[]): string[] {
    const bundled = registrations
        .filter((r) => r.type === BUNDLE_OBJECT && String(plain(r.inputs.key) ?? "").startsWith(CONFIG_PREFIX))
        .flatMap((b) => parseBundle(String(plain(b.inputs.content))))
        .filter((f) => SHELL_SCRIPT.test(f.content))
        .map((f) => f.content);
    const documents = registrations
        .filter((r) => r.type === SSM_DOCUMENT)
        .map((d) => (JSON.parse(String(plain(d.inputs.content))).mainSteps as { inputs?: { runCommand?: string[] } }[]).flatMap((s) => s.inputs?.runCommand ?? []).join("\n"));
    return [...bundled, ...documents];
}

/** An endpoint policy in words: whose principals, and which AWS-owned buckets are open read-only. */
export function describeEndpointPolicy(policy: unknown): string {
    if (policy === undefined || policy === null || policy === "") return "none: any principal of any account (AWS's default)";
    const statements = [JSON.parse(String(policy)).Statement ?? []].flat() as Record<string, any>[];
    const accounts = new Set<string>();
    const readOnly: string[] = [];
    const other: string[] = [];
    for (const s of statements.filter((st) => st.Effect === "Allow")) {
        const equals = s.Condition?.StringEquals ?? {};
        const principal = equals["aws:PrincipalAccount"];
        if (principal !== undefined) {
            accounts.add(`${principal}${equals["aws:ResourceAccount"] === principal ? " (principals and resources)" : " (principals)"}`);
        } else if ([s.Action].flat().every((a) => a === "s3:GetObject")) {
            readOnly.push(...[s.Resource].flat().map((r: string) => r.replace(/^arn:[a-z-]+:s3:::/, "").replace(/\/\*$/, "")));
        } else {
            other.push(s.Sid ?? "a statement");
        }
    }
    return [
        ...[...accounts].map((a) => `account ${a} only`),
        ...(readOnly.length > 0 ? [`read-only objects of ${readOnly.join(", ")}`] : []),
        ...(other.length > 0 ? [`open: ${other.join(", ")}`] : []),
    ].join("; ");
}

/** "aws ec2 a", "aws ec2 b", "SSM agent" -> "aws ec2 a, b", "SSM agent". */
function compact(neededBy: readonly string[]): string[] {
    const out: string[] = [];
    for (const who of neededBy) {
        const call = /^(aws \S+) (\S+)$/.exec(who);
        const last = out.length - 1;
        if (call && last >= 0 && out[last].startsWith(`${call[1]} `)) out[last] += `, ${call[2]}`;
        else out.push(who);
    }
    return out;
}

/** The plan's VPC endpoints; `noInternet`: the instances have no other way to AWS. */
export function awsEndpointsOf(registrations: readonly Registration[], noInternet: boolean): AwsEndpointsSection {
    const needs = requiredEndpoints(deliveredScripts(registrations));
    const endpoints = registrations
        .filter((r) => r.type === TYPES.vpcEndpoint)
        .map((r) => {
            const service = endpointServiceOf(String(plain(r.inputs.serviceName) ?? ""));
            return {
                name: r.name,
                service,
                type: String(plain(r.inputs.vpcEndpointType) ?? "Gateway"),
                policy: describeEndpointPolicy(plain(r.inputs.policy)),
                neededBy: compact(needs.find((n) => n.service === service)?.neededBy ?? []),
            };
        });
    const missing = noInternet ? needs.map((n) => n.service).filter((s) => !endpoints.some((e) => e.service === s)) : [];
    return { endpoints, missing };
}

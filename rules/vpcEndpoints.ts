// The VPC endpoints a stack without the internet needs, derived from what its instances run, and the policy each
// endpoint carries. Pure: the pair's network creates the endpoints from it, the tests and the plan read it.
//
// What needs an endpoint:
// - every AWS service the rendered instance scripts call (rules/awsCliCalls.ts reads them from the scripts, so a new
//   `aws …` line brings its endpoint with it);
// - what runs on the instances without appearing in a script: the SSM agent (the rollout's Run Command and Session
//   Manager), docker pulling from the ECR pull-through cache, dnf installing packages.
// Nothing else: the containers log to local json files (no CloudWatch Logs), the AWS CLI and the agent take the
// instance role's credentials from the metadata service (no STS), and KMS is called by S3, Secrets Manager and EBS
// on the instance's behalf, never by the instance itself (no KMS endpoint).
import { awsCliCalls } from "./awsCliCalls";

/** Services reached through a (free) gateway endpoint rather than an interface endpoint. */
export const GATEWAY_SERVICES: readonly string[] = ["s3"];

/** What runs on an instance besides the scripts, and the endpoint services it needs. */
export const AGENT_ENDPOINTS: readonly { readonly service: string; readonly neededBy: string }[] = [
    // https://docs.aws.amazon.com/systems-manager/latest/userguide/setup-create-vpc.html
    { service: "ssm", neededBy: "SSM agent (registration, the rollout association)" },
    { service: "ssmmessages", neededBy: "SSM agent (Run Command and Session Manager channels)" },
    { service: "ec2messages", neededBy: "SSM agent (Run Command messages, agents before 3.3.40.0)" },
    // https://docs.aws.amazon.com/AmazonECR/latest/userguide/vpc-endpoints.html
    { service: "ecr.api", neededBy: "docker pull from the ECR pull-through cache (authorization, manifests)" },
    { service: "ecr.dkr", neededBy: "docker pull from the ECR pull-through cache (registry API)" },
    { service: "s3", neededBy: "docker pull (ECR image layers) and dnf (Amazon Linux 2023 repositories)" },
];

export interface RequiredEndpoint {
    /** The endpoint service's suffix: com.amazonaws.<region>.<service>. */
    readonly service: string;
    readonly type: "Gateway" | "Interface";
    /** Who needs it: the script calls (`aws <service> <operation>`) and agents, each once. */
    readonly neededBy: readonly string[];
}

/** The endpoints these instance scripts and the agents need, interface endpoints in service order, the gateway first. */
export function requiredEndpoints(scripts: readonly string[]): RequiredEndpoint[] {
    const needs = new Map<string, Set<string>>();
    const add = (service: string, who: string) => needs.set(service, (needs.get(service) ?? new Set<string>()).add(who));
    for (const call of scripts.flatMap((script) => awsCliCalls(script))) add(call.endpointService, `aws ${call.service} ${call.operation}`);
    for (const agent of AGENT_ENDPOINTS) add(agent.service, agent.neededBy);
    const type = (service: string) => (GATEWAY_SERVICES.includes(service) ? "Gateway" : "Interface");
    return [...needs.entries()]
        .map(([service, who]) => ({ service, type: type(service), neededBy: [...who] }) as RequiredEndpoint)
        .sort((a, b) => (a.type === b.type ? a.service.localeCompare(b.service) : a.type === "Gateway" ? -1 : 1));
}

/** The service an endpoint reaches: the <service> of com.amazonaws.<region>.<service> (cn.com.amazonaws… in China). */
export function endpointServiceOf(serviceName: string): string {
    return /^(?:cn\.)?com\.amazonaws\.[a-z0-9-]+\.(.+)$/.exec(serviceName)?.[1] ?? serviceName;
}

/** Buckets AWS owns that instances read without the internet, by name for the region (read-only, objects only). */
export function awsOwnedBuckets(region: string): { readonly bucket: string; readonly why: string }[] {
    return [
        // https://docs.aws.amazon.com/linux/al2023/ug/live-patching.html (and aws-samples/data-perimeter-policy-examples)
        { bucket: `al2023-repos-${region}-de612dc2`, why: "dnf: the Amazon Linux 2023 package repositories" },
        // https://docs.aws.amazon.com/AmazonECR/latest/userguide/vpc-endpoints.html#ecr-minimum-s3-perms
        { bucket: `prod-${region}-starport-layer-bucket`, why: "docker pull: ECR image layers (presigned by ECR)" },
    ];
}

export interface EndpointPolicyParams {
    readonly accountId: string;
    readonly region: string;
    readonly partition: string;
}

/**
 * An interface endpoint's policy: requests by this account's principals to this account's resources, nothing else.
 * Credentials of another account (or a stolen key of one) cannot use the endpoint, and this account's credentials
 * cannot reach another account's resources through it (AWS's data perimeter pattern, for one account).
 */
export function interfaceEndpointPolicy(p: EndpointPolicyParams) {
    return {
        Version: "2012-10-17",
        Statement: [
            {
                Sid: "OwnAccountOnly",
                Effect: "Allow",
                Principal: "*",
                Action: "*",
                Resource: "*",
                Condition: { StringEquals: { "aws:PrincipalAccount": p.accountId, "aws:ResourceAccount": p.accountId } },
            },
        ],
    };
}

/**
 * The S3 gateway endpoint's policy: this account's principals on this account's buckets (the studies, the bundle,
 * the mirrored compose plugin), and read-only object downloads from the AWS-owned buckets dnf and docker use, which
 * are requested anonymously or presigned by AWS. No other bucket is reachable: nothing can be copied out to one.
 */
export function s3EndpointPolicy(p: EndpointPolicyParams) {
    return {
        Version: "2012-10-17",
        Statement: [
            {
                Sid: "OwnAccountBuckets",
                Effect: "Allow",
                Principal: "*",
                Action: "s3:*",
                Resource: "*",
                Condition: { StringEquals: { "aws:PrincipalAccount": p.accountId, "aws:ResourceAccount": p.accountId } },
            },
            {
                Sid: "AwsOwnedReadOnly",
                Effect: "Allow",
                Principal: "*",
                Action: "s3:GetObject",
                Resource: awsOwnedBuckets(p.region).map(({ bucket }) => `arn:${p.partition}:s3:::${bucket}/*`),
            },
        ],
    };
}

/** The policy for an endpoint of this service. */
export function endpointPolicy(service: string, p: EndpointPolicyParams) {
    return service === "s3" ? s3EndpointPolicy(p) : interfaceEndpointPolicy(p);
}

// What the pack's rule modules share: its name and default level, the program's ports, and port configuration.
import { EnforcementLevel, PolicyResource, ResourceValidationPolicy, StackValidationPolicy } from "@pulumi/policy";
import { handlesOf, known, strings } from "./graph";
import { aws } from "./resourceTypes";

export const PACK_NAME = "orthweb-guardrails";
/** What a rule that names no level of its own gets. */
export const PACK_ENFORCEMENT: EnforcementLevel = "mandatory";

/** The ports the program serves and must keep to itself (the tests hold these equal to the program's). */
export const WEB_PORT = 443;
export const DICOM_PORT = 11112;
export const POSTGRES_PORT = 5432;
export const SSH_PORT = 22;

export type Validation = ResourceValidationPolicy | StackValidationPolicy;
export const portsSchema = (defaults: number[], description: string) => ({
    type: "array" as const,
    items: { type: "integer" as const, minimum: 0, maximum: 65535 },
    default: defaults,
    description,
});

export function configuredPorts(args: { getConfig<T extends object>(): T }, defaults: number[]): number[] {
    return args.getConfig<{ ports?: number[] }>().ports ?? defaults;
}


/** A resource as violations name it: its type's last part and its name. */
export function label(r: PolicyResource): string {
    return `${r.type.split(":").pop()} ${r.name}`;
}

export function buckets(resources: readonly PolicyResource[]): PolicyResource[] {
    return resources.filter((r) => r.isType(aws.s3.Bucket) || r.isType(aws.s3.BucketV2));
}

export function isLoadBalancer(r: PolicyResource): boolean {
    return r.isType(aws.lb.LoadBalancer) || r.isType(aws.alb.LoadBalancer);
}

export function loadBalancersIn(resources: readonly PolicyResource[]): PolicyResource[] {
    return resources.filter(isLoadBalancer);
}

export function listenersIn(resources: readonly PolicyResource[]): PolicyResource[] {
    return resources.filter((r) => r.isType(aws.lb.Listener) || r.isType(aws.alb.Listener));
}

export function isVpc(r: PolicyResource): boolean {
    return r.isType(aws.ec2.Vpc) || r.type === "awsx:ec2:Vpc";
}

/** awsx's VPC component is pointed at by its vpcId output. */
export const vpcHandles = (r: PolicyResource) => [...handlesOf(r), ...strings(known(() => r.props.vpcId))];

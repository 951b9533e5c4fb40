// Tags and small pure helpers the components share.

export type Tags = Record<string, string>;

/** Tags every resource carries: what it belongs to, and a Name the console shows. */
export function tagsFor(name: string, base: Tags = {}): Tags {
    return { ...base, Name: name };
}

export function stackTags(project: string, stack: string, environment: string): Tags {
    return { Project: project, Stack: stack, Environment: environment, ManagedBy: "pulumi" };
}

/**
 * Graviton instance types (m7g, t4g, c6gn, ...) need the arm64 image. The family is the part
 * before the dot; a `g` after the generation digit marks Graviton.
 */
export function architectureOf(instanceType: string): "x86_64" | "arm64" {
    const family = instanceType.split(".")[0];
    return /^[a-z]+\d+[a-z]*g[a-z]*$/.test(family) ? "arm64" : "x86_64";
}

/** The public SSM parameter naming the current Amazon Linux 2023 image for an architecture. */
export function amazonLinuxParameter(instanceType: string): string {
    return `/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-${architectureOf(instanceType)}`;
}

/** Region-aware S3 ARN prefix: aws, aws-cn or aws-us-gov. */
export function partitionOf(region: string): string {
    if (region.startsWith("cn-")) return "aws-cn";
    if (region.startsWith("us-gov-")) return "aws-us-gov";
    return "aws";
}

/** The S3 service name for VPC endpoints: China regions carry a `cn.` prefix. */
export function s3ServiceName(region: string): string {
    return `${region.startsWith("cn-") ? "cn." : ""}com.amazonaws.${region}.s3`;
}

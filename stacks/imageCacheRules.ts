// The ECR pull-through cache's rules that span keys: on by default in prod, and then it needs Docker Hub
// credentials (ECR's Docker Hub upstream refuses anonymous rules) from a secret in the stack's own region.
import { OrthwebConfig } from "./schema";

const KEY = "orthweb:orthanc.pullThroughCache";

function isRecord(value: unknown): value is Record<string, unknown> {
    return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Whether the cache is on: `enabled` when set, else on in prod. */
export function pullThroughCacheEnabled(environment: unknown, enabled: unknown): boolean {
    return typeof enabled === "boolean" ? enabled : environment === "prod";
}

/** The cache's settings once validated: the credentials' ARN when on, undefined when off. */
export function pullThroughCacheOf(config: Pick<OrthwebConfig, "environment" | "orthanc">): { readonly dockerHubCredentialsArn: string } | undefined {
    const cache = config.orthanc.pullThroughCache;
    if (!pullThroughCacheEnabled(config.environment, cache.enabled) || cache.dockerHubCredentialsArn === undefined) return undefined;
    return { dockerHubCredentialsArn: cache.dockerHubCredentialsArn };
}

/** Problems with the raw input (the schema reports wrong types and malformed ARNs itself). */
export function pullThroughCacheProblems(input: Record<string, unknown>, region: unknown): string[] {
    const orthanc = isRecord(input.orthanc) ? input.orthanc : {};
    const cache = isRecord(orthanc.pullThroughCache) ? orthanc.pullThroughCache : {};
    if (!pullThroughCacheEnabled(input.environment ?? "dev", cache.enabled)) return [];
    const arn = cache.dockerHubCredentialsArn;
    if (arn === undefined) {
        const why = typeof cache.enabled === "boolean" ? "enabled is true" : "on by default when orthweb:environment is prod";
        return [
            `${KEY}.dockerHubCredentialsArn: required when the ECR pull-through cache is on (${why}): ECR pulls Docker Hub images only ` +
                "with a Docker Hub account. Store its user name and access token in Secrets Manager as a secret named " +
                'ecr-pullthroughcache/<name> ({"username": ..., "accessToken": ...}) and set its ARN here, or set ' +
                `${KEY}.enabled to false to pull anonymously from Docker Hub (limited to a few pulls per hour per address)`,
        ];
    }
    const arnRegion = typeof arn === "string" ? arn.split(":")[3] : undefined;
    if (typeof region === "string" && arnRegion && /^[a-z]{2}/.test(arnRegion) && arnRegion !== region) {
        return [`${KEY}.dockerHubCredentialsArn: got a secret in ${arnRegion}; allowed: a secret in ${region} (aws:region), where the cache rule reads it`];
    }
    return [];
}

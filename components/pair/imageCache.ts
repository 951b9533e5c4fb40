// The ECR pull-through cache for Docker Hub: one rule under the stack's own prefix. The instances pull
// <account>.dkr.ecr.<region>.amazonaws.com/<prefix>/<repository>:<tag>; ECR fetches each image from Docker Hub
// once, with the user's Docker Hub account, and serves it from inside AWS afterwards.
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { cachePrefix, DOCKER_HUB_UPSTREAM, ecrRegistryHost } from "../bootstrap/images";
import { partitionOf } from "../naming";
import { PairContext, text } from "./shared";

export interface ImageCacheSettings {
    /** A Secrets Manager secret named ecr-pullthroughcache/... with Docker Hub credentials. */
    readonly dockerHubCredentialsArn: string;
}

export interface ImageCache {
    /** The registry host the instances log in to. */
    readonly registry: pulumi.Output<string>;
    readonly prefix: string;
    /** The repositories the cache creates: what the instance role may pull from (and create on first pull). */
    readonly repositoryArns: pulumi.Output<string>;
}

export function createImageCache(ctx: PairContext, settings: ImageCacheSettings): ImageCache {
    const { name, parent, region } = ctx;
    const prefix = cachePrefix(pulumi.getProject(), pulumi.getStack());
    const rule = new aws.ecr.PullThroughCacheRule(
        `${name}-image-cache`,
        { ecrRepositoryPrefix: prefix, upstreamRegistryUrl: DOCKER_HUB_UPSTREAM, credentialArn: settings.dockerHubCredentialsArn },
        { parent },
    );
    const account = rule.registryId.apply(text);
    return {
        // Empty only under bare test mocks, which know no account: the instances then pull from Docker Hub.
        registry: account.apply((id) => (id ? ecrRegistryHost(id, region) : "")),
        prefix,
        repositoryArns: account.apply((id) => `arn:${partitionOf(region)}:ecr:${region}:${id}:repository/${prefix}/*`),
    };
}

/** What the instance role needs to pull through the cache: a login token, and the cache's repositories. */
export function imageCacheStatements(repositoryArns: string): Record<string, unknown>[] {
    return [
        // GetAuthorizationToken has no resource scope: IAM accepts only "*".
        { Sid: "EcrLogin", Effect: "Allow", Action: ["ecr:GetAuthorizationToken"], Resource: ["*"] },
        {
            Sid: "PullThroughCache",
            Effect: "Allow",
            // The first pull of an image creates its repository and imports it from Docker Hub.
            Action: ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer", "ecr:BatchCheckLayerAvailability", "ecr:BatchImportUpstreamImage", "ecr:CreateRepository"],
            Resource: [repositoryArns],
        },
    ];
}

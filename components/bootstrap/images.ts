// Where the instances pull their images from: Docker Hub, or this account's ECR pull-through cache of it.
// Pure: the rewrite is what the compose file names, and the cache rule and the instance role agree on the prefix.

/** Docker Hub as an ECR pull-through cache upstream. */
export const DOCKER_HUB_UPSTREAM = "registry-1.docker.io";

/**
 * The Docker Hub repository an image reference names (`library/` for official images), or undefined when the
 * reference names another registry (its first part has a dot or a port, or is localhost).
 */
export function dockerHubRepository(image: string): { repository: string; reference: string } | undefined {
    const at = image.search(/[:@][^/]*$/);
    const name = at < 0 ? image : image.slice(0, at);
    const reference = at < 0 ? "" : image.slice(at);
    const parts = name.split("/");
    if (parts.length > 1 && (/[.:]/.test(parts[0]) || parts[0] === "localhost")) {
        if (parts[0] !== "docker.io" && parts[0] !== DOCKER_HUB_UPSTREAM) return undefined;
        parts.shift();
    }
    if (parts.length === 1) parts.unshift("library");
    return { repository: parts.join("/"), reference };
}

/** The image as the pull-through cache serves it: `<registry>/<prefix>/<docker hub repository><:tag|@digest>`. */
export function cachedImage(image: string, cache: { readonly registry: string; readonly prefix: string }): string {
    const hub = dockerHubRepository(image);
    return hub ? `${cache.registry}/${cache.prefix}/${hub.repository}${hub.reference}` : image;
}

/** The private registry's host name for an account and region (China regions end in .amazonaws.com.cn). */
export function ecrRegistryHost(accountId: string, region: string): string {
    return `${accountId}.dkr.ecr.${region}.amazonaws.com${region.startsWith("cn-") ? ".cn" : ""}`;
}

/** ECR accepts repository prefixes of 2 to 30 characters: lowercase letters, digits and inner . _ -. */
export const MAX_CACHE_PREFIX_LENGTH = 30;

/**
 * The stack's own repository prefix: a rule's prefix is unique per registry, and two stacks may share an
 * account and region. `<project>-<stack>-hub`, lowercased, shortened with a hash when too long.
 */
export function cachePrefix(project: string, stack: string): string {
    const clean = (s: string) => s.toLowerCase().replace(/[^a-z0-9]+/g, "-").replace(/^-+|-+$/g, "");
    const full = `${clean(project)}-${clean(stack)}-hub`.replace(/^-+/, "");
    if (full.length <= MAX_CACHE_PREFIX_LENGTH) return full;
    const hash = fnv1a(`${project}/${stack}`).toString(36).padStart(7, "0").slice(0, 7);
    return `${full.slice(0, MAX_CACHE_PREFIX_LENGTH - hash.length - 1).replace(/-+$/, "")}-${hash}`;
}

function fnv1a(text: string): number {
    let h = 0x811c9dc5;
    for (const ch of Buffer.from(text, "utf8")) h = Math.imul(h ^ ch, 0x01000193) >>> 0;
    return h;
}

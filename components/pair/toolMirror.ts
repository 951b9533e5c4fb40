// Without the internet, the instances cannot fetch the Docker Compose plugin from GitHub: `pulumi up` copies the
// release (and its published checksum) into the stack's own bucket instead, from the machine that runs it, and the
// start script takes it from there through the S3 gateway endpoint.
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { COMPOSE_VERSION } from "../bootstrap/startScript";
import { architectureOf, tagsFor } from "../naming";
import { PairContext } from "./shared";

/** Where the mirrored tools live in the bucket: apart from Orthanc's objects (which are named by UUID). */
export const TOOL_PREFIX = "_orthweb/tools";

/** The release file name for an instance type's architecture (uname -m spelling). */
export function composeAssetName(instanceType: string): string {
    return `docker-compose-linux-${architectureOf(instanceType) === "arm64" ? "aarch64" : "x86_64"}`;
}

export function composeReleaseUrl(instanceType: string, version = COMPOSE_VERSION): string {
    return `https://github.com/docker/compose/releases/download/${version}/${composeAssetName(instanceType)}`;
}

/** Uploads the plugin and its .sha256; returns the plugin's s3:// URL (the checksum is at the same URL + .sha256). */
export function mirrorComposePlugin(ctx: PairContext, bucket: aws.s3.Bucket, instanceType: string): pulumi.Output<string> {
    const { name, tags, parent } = ctx;
    const key = `${TOOL_PREFIX}/${COMPOSE_VERSION}/${composeAssetName(instanceType)}`;
    const url = composeReleaseUrl(instanceType);
    const upload = (role: string, objectKey: string, source: string) =>
        new aws.s3.BucketObjectv2(`${name}-${role}`, { bucket: bucket.id, key: objectKey, source: new pulumi.asset.RemoteAsset(source), tags: tagsFor(`${name}-${role}`, tags) }, { parent });
    const plugin = upload("compose-plugin", key, url);
    const checksum = upload("compose-plugin-sha256", `${key}.sha256`, `${url}.sha256`);
    return pulumi.all([bucket.bucket, plugin.key, checksum.key]).apply(([b, k]) => `s3://${b}/${k}`);
}

// Entry point for `pulumi up` / `pulumi preview`: read and validate this stack's config, then build.
// Bad config stops here with one line per problem, before any resource is registered.
import * as pulumi from "@pulumi/pulumi";
import { createInfrastructure } from "./program";
import { ConfigError, parseStackConfig } from "./stacks/config";

function runtimeConfig(): Record<string, unknown> {
    const raw: Record<string, unknown> = { ...pulumi.runtime.allConfig() };
    // The AWS provider also takes its region from the environment.
    raw["aws:region"] ??= process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION;
    if (raw["aws:region"] === undefined) delete raw["aws:region"];
    return raw;
}

function load() {
    try {
        return parseStackConfig(runtimeConfig());
    } catch (e) {
        if (e instanceof ConfigError) throw new pulumi.RunError(e.message);
        throw e;
    }
}

const outputs = createInfrastructure(load());

export const frontDoor = outputs.frontDoor;
export const webUrls = outputs.webUrls;
export const dicomEndpoints = outputs.dicomEndpoints;
export const instanceIds = outputs.instanceIds;
export const databaseEndpoint = outputs.databaseEndpoint;
export const bucketName = outputs.bucketName;
export const auditBucketName = outputs.auditBucketName;
export const adminSecretArn = outputs.adminSecretArn;
export const certificateNotice = outputs.certificateNotice;
export const failover = outputs.failover;
export const vpnEndpointId = outputs.vpnEndpointId;
export const vpnProfiles = outputs.vpnProfiles;
export const siteToSiteVpn = outputs.siteToSiteVpn;
export const modalityCertificates = outputs.modalityCertificates;
export const alertTopicArn = outputs.alertTopicArn;

// The no-internet mode's way to AWS: an interface endpoint (private DNS on, so the usual service names resolve to
// addresses in the VPC) for every AWS API the instances call, behind one security group that admits HTTPS from the
// VPC only. S3 (the bucket, ECR's image layers, the Amazon Linux 2023 repositories) goes through the pair's gateway
// endpoint, which is free. Which endpoints is read from the instances' own scripts (rules/vpcEndpoints.ts); each
// carries a policy that admits this account's principals and resources only.
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { endpointPolicy, RequiredEndpoint, requiredEndpoints } from "../../rules/vpcEndpoints";
import { renderBootstrapFiles } from "../bootstrap";
import { instanceScripts } from "../bootstrap/apply";
import { partitionOf, tagsFor } from "../naming";
import { PairContext } from "./shared";

export function interfaceServiceName(region: string, service: string): string {
    return `${region.startsWith("cn-") ? "cn." : ""}com.amazonaws.${region}.${service}`;
}

/**
 * The endpoints the instances' scripts and agents need. The scripts are rendered as a stack without the internet
 * renders them (images from the pull-through cache, the compose plugin from the bucket); the other values are
 * stand-ins, since which AWS services a script calls depends on none of them.
 */
export function instanceEndpoints(region: string): RequiredEndpoint[] {
    const standIn = (what: string) => `{{ ${what} }}`;
    const files = renderBootstrapFiles({
        region,
        orthancImage: standIn("orthancImage"),
        nginxImage: standIn("nginxImage"),
        registry: standIn("registry"),
        composeSource: `s3://${standIn("bucket")}/${standIn("composeKey")}`,
        orthanc: { name: standIn("name"), aet: standIn("aet"), database: { host: standIn("databaseHost"), port: 0, name: standIn("database") }, bucket: { name: standIn("bucket"), region } },
        secretArns: { database: standIn("databaseSecretArn"), databaseApp: standIn("databaseAppSecretArn"), admin: standIn("adminSecretArn"), tls: standIn("tlsSecretArn") },
    });
    return requiredEndpoints(instanceScripts(files));
}

/** The policy document an endpoint of this service carries, for the stack's account. */
export function endpointPolicyJson(ctx: PairContext, service: string, accountId: pulumi.Output<string>): pulumi.Output<string> {
    return accountId.apply((id) => JSON.stringify(endpointPolicy(service, { accountId: id, region: ctx.region, partition: partitionOf(ctx.region) })));
}

/** The interface endpoints (the S3 gateway endpoint is the network's own, in every mode). */
export function createEndpoints(
    ctx: PairContext,
    args: { readonly vpcId: pulumi.Input<string>; readonly vpcCidr: string; readonly subnetIds: pulumi.Input<string[]> },
): aws.ec2.VpcEndpoint[] {
    const { name, tags, parent } = ctx;
    const accountId = aws.getCallerIdentityOutput({}, { parent }).accountId;
    const securityGroup = new aws.ec2.SecurityGroup(
        `${name}-endpoints`,
        {
            vpcId: args.vpcId,
            description: `${name}: interface endpoints; HTTPS from the VPC only`,
            ingress: [{ protocol: "tcp", fromPort: 443, toPort: 443, cidrBlocks: [args.vpcCidr], description: "HTTPS from the VPC to AWS APIs" }],
            egress: [],
            tags: tagsFor(`${name}-endpoints`, tags),
        },
        { parent },
    );
    return instanceEndpoints(ctx.region)
        .filter((endpoint) => endpoint.type === "Interface")
        .map(({ service }) => {
            const role = `${name}-${service.replace(/\./g, "-")}`;
            return new aws.ec2.VpcEndpoint(
                role,
                {
                    vpcId: args.vpcId,
                    serviceName: interfaceServiceName(ctx.region, service),
                    vpcEndpointType: "Interface",
                    privateDnsEnabled: true,
                    subnetIds: args.subnetIds,
                    securityGroupIds: [securityGroup.id],
                    policy: endpointPolicyJson(ctx, service, accountId),
                    tags: tagsFor(role, tags),
                },
                { parent },
            );
        });
}

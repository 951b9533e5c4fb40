// The no-internet mode's way to AWS: interface endpoints (private DNS on, so the usual service names resolve to
// addresses in the VPC) for every AWS API the instances call, behind one security group that admits HTTPS from
// the VPC only. S3 (the bucket, ECR's image layers, the Amazon Linux 2023 repositories) goes through the pair's
// gateway endpoint, which is free.
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { tagsFor } from "../naming";
import { PairContext } from "./shared";

/**
 * What the instances reach without the internet, and why: the start script reads secrets, logs in to ECR and pulls
 * (ecr.api, ecr.dkr); KMS decrypts the secrets and volumes; SSM Session Manager is the only shell (ssm, ssmmessages,
 * ec2messages); CloudWatch Logs takes the containers' and the agent's logs; STS serves the AWS CLI's regional
 * credential calls.
 */
export const INTERFACE_ENDPOINT_SERVICES = ["secretsmanager", "kms", "ecr.api", "ecr.dkr", "ssm", "ssmmessages", "ec2messages", "logs", "sts"] as const;

export function interfaceServiceName(region: string, service: string): string {
    return `${region.startsWith("cn-") ? "cn." : ""}com.amazonaws.${region}.${service}`;
}

export function createEndpoints(
    ctx: PairContext,
    args: { readonly vpcId: pulumi.Input<string>; readonly vpcCidr: string; readonly subnetIds: pulumi.Input<string[]> },
): aws.ec2.VpcEndpoint[] {
    const { name, tags, parent } = ctx;
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
    return INTERFACE_ENDPOINT_SERVICES.map((service) => {
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
                tags: tagsFor(role, tags),
            },
            { parent },
        );
    });
}

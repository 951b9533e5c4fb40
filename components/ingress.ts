// Security group ingress that front doors add to the instance group: one described rule per source and port,
// so that "who can reach port X" is a property of the plan.
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { Tags, tagsFor } from "./naming";
import { DICOM_PORT, WEB_PORT } from "../rules/ports";

export interface CidrIngress {
    readonly port: number;
    readonly cidr: string;
    readonly description: string;
}

/** 443 from each web client block, 11112 from each DICOM client block. Pure. */
export function clientCidrIngress(webClientCidrs: readonly string[], dicomClientCidrs: readonly string[]): CidrIngress[] {
    return [
        ...webClientCidrs.map((cidr) => ({ port: WEB_PORT, cidr, description: `HTTPS from web clients ${cidr}` })),
        ...dicomClientCidrs.map((cidr) => ({ port: DICOM_PORT, cidr, description: `DICOM TLS from modalities ${cidr}` })),
    ];
}

/** Creates one ingress rule per entry on `securityGroupId`, named `${name}-<port>-<index>`. */
export function createCidrIngress(
    name: string,
    securityGroupId: pulumi.Input<string>,
    rules: readonly CidrIngress[],
    tags: Tags,
    parent: pulumi.Resource,
): aws.vpc.SecurityGroupIngressRule[] {
    const counters = new Map<number, number>();
    return rules.map((rule) => {
        const n = (counters.get(rule.port) ?? 0) + 1;
        counters.set(rule.port, n);
        const ruleName = `${name}-${rule.port}-${n}`;
        return new aws.vpc.SecurityGroupIngressRule(
            ruleName,
            { securityGroupId, ipProtocol: "tcp", fromPort: rule.port, toPort: rule.port, cidrIpv4: rule.cidr, description: rule.description, tags: tagsFor(ruleName, tags) },
            { parent },
        );
    });
}

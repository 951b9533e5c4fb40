// What the instances need to keep an ACME certificate (orthweb:tls.source acme): the secret they share it in (under the
// pair's key), the user's hosted zone, and the role's rights: write only the `_acme-challenge` TXT records of the
// certificate's names in that zone, read and write that secret, and publish the days-left metric.
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { ACME_METRIC, challengeStatements } from "../../rules/acme";
import { partitionOf, tagsFor } from "../naming";
import { DataStore } from "./dataStore";
import { Identity } from "./identity";
import { PairContext } from "./shared";

export interface AcmeArgs {
    readonly email: string;
    readonly directoryUrl: string;
    /** The public hosted zone the challenges are written in. */
    readonly zoneName: string;
    /** Every name of the certificate, the first its subject. */
    readonly names: readonly string[];
    /** The lego image (Docker Hub reference; rewritten to the cache like Orthanc's). @default DEFAULT_LEGO_IMAGE */
    readonly legoImage?: string;
}

export interface Acme {
    readonly secret: aws.secretsmanager.Secret;
    readonly hostedZoneId: pulumi.Output<string>;
}

/** The role's statements besides Route 53's: the acme secret, and the metric (its namespace only). */
export function acmeSecretStatements(secretArn: string, keyArn: string): Record<string, unknown>[] {
    return [
        { Sid: "AcmeShareCertificate", Effect: "Allow", Action: ["secretsmanager:GetSecretValue", "secretsmanager:PutSecretValue"], Resource: secretArn },
        { Sid: "AcmeSecretKey", Effect: "Allow", Action: ["kms:Decrypt", "kms:GenerateDataKey"], Resource: keyArn },
        // PutMetricData has no resource type; the namespace condition keeps the role to this one metric's namespace.
        { Sid: "AcmeDaysLeftMetric", Effect: "Allow", Action: "cloudwatch:PutMetricData", Resource: "*", Condition: { StringEquals: { "cloudwatch:namespace": ACME_METRIC.namespace } } },
    ];
}

export function createAcme(ctx: PairContext, args: AcmeArgs, data: DataStore, identity: Identity): Acme {
    const { name, tags, parent, prod, region } = ctx;
    const secret = new aws.secretsmanager.Secret(
        `${name}-acme`,
        {
            namePrefix: `${name}-acme-`,
            description: `${name}: the ACME certificate and key for ${args.names.join(", ")}, written by the instances`,
            kmsKeyId: data.key.arn,
            recoveryWindowInDays: prod ? 30 : 0,
            tags: tagsFor(`${name}-acme`, tags),
        },
        { parent },
    );
    // Public zone only: the CA resolves the challenge from the internet.
    const zone = aws.route53.getZoneOutput({ name: args.zoneName, privateZone: false }, { parent });
    new aws.iam.RolePolicy(
        `${name}-acme`,
        {
            role: identity.role.id,
            policy: pulumi.all([zone.zoneId, secret.arn, data.key.arn]).apply(([zoneId, secretArn, keyArn]) =>
                JSON.stringify({ Version: "2012-10-17", Statement: [...challengeStatements(partitionOf(region), zoneId, args.names), ...acmeSecretStatements(secretArn, keyArn)] }),
            ),
        },
        { parent },
    );
    return { secret, hostedZoneId: zone.zoneId };
}

// The pack's storage rules (the grouping of Pulumi's AWSGuard pack): the study bucket and every bucket of the stack.
import {
    PolicyResource,
    StackValidationPolicy,
} from "@pulumi/policy";
import {  has, items, known, references, strings } from "./graph";
import { aws } from "./resourceTypes";
import { buckets } from "./common";

// ---------------------------------------------------------------------------------------------------
// S3: the image store.

const SSE_ALGORITHMS = ["aws:kms", "aws:kms:dsse", "AES256"];

function sseAlgorithms(rules: unknown): string[] {
    type Rule = { applyServerSideEncryptionByDefault?: { sseAlgorithm?: unknown } };
    return items(rules).flatMap((rule) => strings(known(() => (rule as Rule).applyServerSideEncryptionByDefault?.sseAlgorithm)));
}

export const s3DefaultEncryption: StackValidationPolicy = {
    name: "s3-default-encryption",
    description:
        "Every bucket declares default server-side encryption (SSE-KMS, DSSE-KMS or SSE-S3), inline or with a " +
        "BucketServerSideEncryptionConfiguration, so that what protects the images is written in the program.",
    enforcementLevel: "mandatory",
    validateStack: (args, report) => {
        const configs = args.resources.filter(
            (r) => r.isType(aws.s3.BucketServerSideEncryptionConfiguration) || r.isType(aws.s3.BucketServerSideEncryptionConfigurationV2),
        );
        for (const bucket of buckets(args.resources)) {
            const inline = sseAlgorithms(known(() => bucket.props.serverSideEncryptionConfiguration?.rule));
            const separate = configs.filter((c) => references(c, "bucket", [bucket]).length > 0).flatMap((c) => sseAlgorithms(known(() => c.props.rules)));
            const algorithms = [...inline, ...separate];
            if (algorithms.length === 0) {
                report(`bucket ${bucket.name} declares no default encryption; add an aws.s3.BucketServerSideEncryptionConfiguration (aws:kms).`, bucket.urn);
            } else if (algorithms.some((a) => !SSE_ALGORITHMS.includes(a))) {
                report(`bucket ${bucket.name} uses encryption ${algorithms.join(", ")}; allowed: ${SSE_ALGORITHMS.join(", ")}.`, bucket.urn);
            }
        }
    },
};

const PUBLIC_ACCESS_FLAGS = ["blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets"];

function blocksAll(r: PolicyResource): boolean {
    return PUBLIC_ACCESS_FLAGS.every((flag) => known(() => r.props[flag]) === true);
}

export const s3PublicAccessBlocked: StackValidationPolicy = {
    name: "s3-public-access-blocked",
    description:
        "Every bucket has a public access block with all four settings on (or the account has one), so no ACL or " +
        "policy can ever publish patient images.",
    enforcementLevel: "mandatory",
    validateStack: (args, report) => {
        if (args.resources.some((r) => r.isType(aws.s3.AccountPublicAccessBlock) && blocksAll(r))) return;
        const blocks = args.resources.filter((r) => r.isType(aws.s3.BucketPublicAccessBlock));
        for (const bucket of buckets(args.resources)) {
            const mine = blocks.filter((b) => references(b, "bucket", [bucket]).length > 0);
            if (mine.length === 0) {
                report(`bucket ${bucket.name} has no aws.s3.BucketPublicAccessBlock.`, bucket.urn);
            } else if (!mine.some(blocksAll)) {
                const off = PUBLIC_ACCESS_FLAGS.filter((flag) => !mine.some((b) => known(() => b.props[flag]) === true));
                report(`bucket ${bucket.name}'s public access block leaves ${off.join(", ")} off; set all four to true.`, bucket.urn);
            }
        }
    },
};

/** The statements of a bucket policy given as JSON text or as an object; undefined when unreadable. */
function statementsOf(policy: unknown): Record<string, any>[] | undefined {
    let doc: unknown = policy;
    if (typeof policy === "string") {
        try {
            doc = JSON.parse(policy);
        } catch {
            return undefined;
        }
    }
    const statements = (doc as { Statement?: unknown } | undefined)?.Statement;
    if (Array.isArray(statements)) return statements as Record<string, any>[];
    return statements && typeof statements === "object" ? [statements as Record<string, any>] : [];
}

/** Deny s3:* (or *) to everyone on the bucket and its objects when aws:SecureTransport is false. */
export function deniesInsecureTransport(statement: Record<string, any>): boolean {
    const principal = statement.Principal;
    const everyone = principal === "*" || items(principal?.AWS).includes("*");
    const actions = items(statement.Action);
    const resources = items(statement.Resource).map(String);
    const secure = statement.Condition?.Bool?.["aws:SecureTransport"];
    return (
        statement.Effect === "Deny" &&
        everyone &&
        (actions.includes("s3:*") || actions.includes("*")) &&
        (resources.includes("*") || (resources.some((r) => r.endsWith("/*")) && resources.some((r) => !r.endsWith("/*")))) &&
        String(secure) === "false"
    );
}

export const s3TlsOnly: StackValidationPolicy = {
    name: "s3-tls-only",
    description:
        "Every bucket's policy denies all S3 actions over plain HTTP (aws:SecureTransport false), on the bucket and its objects.",
    enforcementLevel: "mandatory",
    validateStack: (args, report) => {
        const policies = args.resources.filter((r) => r.isType(aws.s3.BucketPolicy));
        for (const bucket of buckets(args.resources)) {
            const documents = [
                ...(has(bucket.props, "policy") ? [known(() => bucket.props.policy)] : []),
                ...policies.filter((p) => references(p, "bucket", [bucket]).length > 0).map((p) => known(() => p.props.policy)),
            ];
            if (documents.some((d) => d === undefined)) continue; // not known until the update
            const ok = documents.some((d) => (statementsOf(d) ?? []).some(deniesInsecureTransport));
            if (!ok) {
                report(
                    `bucket ${bucket.name} has no policy statement denying s3:* when aws:SecureTransport is false; ` +
                        `add one to its aws.s3.BucketPolicy (Resource: the bucket ARN and ARN/*).`,
                    bucket.urn,
                );
            }
        }
    },
};

// The AWS API calls a rendered shell script makes, read from the script itself: what IAM must allow and which VPC
// endpoints a stack without the internet needs follow from this list, so a new `aws …` line in a script is covered
// by the IAM and endpoint checks without anyone remembering to add it.
// Pure: no Pulumi, no AWS.

export interface AwsCliCall {
    /** The CLI's service name, e.g. "elbv2". */
    readonly service: string;
    /** The CLI's operation name, e.g. "describe-target-health". */
    readonly operation: string;
    /** The IAM actions the call needs, e.g. ["elasticloadbalancing:DescribeTargetHealth"]. */
    readonly iamActions: readonly string[];
    /** The VPC endpoint service the call goes to (`com.amazonaws.<region>.<this>`), e.g. "elasticloadbalancing". */
    readonly endpointService: string;
}

interface ServiceFacts {
    /** The IAM action prefix (the service authorization reference's "service prefix"). */
    readonly iamPrefix: string;
    /** The interface or gateway endpoint's service suffix, from the AWS PrivateLink guide's list of services. */
    readonly endpoint: string;
}

/**
 * The CLI services an instance script may call, with their IAM prefix and VPC endpoint. A script calling a service
 * missing here is an error: add it here after checking that it has a VPC endpoint
 * (https://docs.aws.amazon.com/vpc/latest/privatelink/aws-services-privatelink-support.html).
 */
export const CLI_SERVICES: Readonly<Record<string, ServiceFacts>> = {
    autoscaling: { iamPrefix: "autoscaling", endpoint: "autoscaling" },
    ec2: { iamPrefix: "ec2", endpoint: "ec2" },
    ecr: { iamPrefix: "ecr", endpoint: "ecr.api" },
    elbv2: { iamPrefix: "elasticloadbalancing", endpoint: "elasticloadbalancing" },
    kms: { iamPrefix: "kms", endpoint: "kms" },
    logs: { iamPrefix: "logs", endpoint: "logs" },
    cloudwatch: { iamPrefix: "cloudwatch", endpoint: "monitoring" },
    // https://docs.aws.amazon.com/resourcegroupstagging/latest/APIReference/vpc-interface-endpoints.html
    resourcegroupstaggingapi: { iamPrefix: "tag", endpoint: "tagging" },
    s3: { iamPrefix: "s3", endpoint: "s3" },
    s3api: { iamPrefix: "s3", endpoint: "s3" },
    secretsmanager: { iamPrefix: "secretsmanager", endpoint: "secretsmanager" },
    ssm: { iamPrefix: "ssm", endpoint: "ssm" },
    sts: { iamPrefix: "sts", endpoint: "sts" },
};

/** Operations whose IAM action is not the operation's name in PascalCase. */
const SPECIAL_ACTIONS: Readonly<Record<string, readonly string[]>> = {
    "ecr get-login-password": ["ecr:GetAuthorizationToken"],
    "s3 ls": ["s3:ListBucket"],
    "s3 rm": ["s3:DeleteObject"],
    "s3 mb": ["s3:CreateBucket"],
    "s3 rb": ["s3:DeleteBucket"],
    // HeadObject has no action of its own: "you must have the s3:GetObject permission" (S3 API reference, HeadObject).
    "s3api head-object": ["s3:GetObject"],
};

/** `aws s3 cp|mv|sync` options that take no value (every other `--option` takes one). */
const S3_FLAGS = new Set(["--only-show-errors", "--quiet", "--recursive", "--no-progress", "--dryrun", "--follow-symlinks",
    "--no-follow-symlinks", "--no-guess-mime-type", "--ignore-glacier-warnings", "--force-glacier-transfer", "--delete",
    "--exact-timestamps", "--size-only", "--no-sign-request", "--debug", "--no-paginate", "--no-verify-ssl"]);

/** The shell words of a command line, quotes removed (enough for the scripts' own lines: no nested quoting). */
function words(line: string): string[] {
    const out: string[] = [];
    const re = /"((?:[^"\\]|\\.)*)"|'([^']*)'|([^\s"';|&)]+)/g;
    for (let m = re.exec(line); m !== null; m = re.exec(line)) out.push(m[1] ?? m[2] ?? m[3]);
    return out;
}

function pascal(operation: string): string {
    return operation.split("-").map((w) => w.charAt(0).toUpperCase() + w.slice(1)).join("");
}

/**
 * The high-level `aws s3` transfer commands: a download (source in S3) needs s3:GetObject, an upload (destination in
 * S3) s3:PutObject. The destination counts as S3 only when it is written as an s3:// URL; a variable source is taken
 * for the S3 side.
 */
function s3TransferActions(operation: string, args: readonly string[]): string[] {
    const positional: string[] = [];
    for (let i = 0; i < args.length; i++) {
        if (args[i].startsWith("--")) {
            if (!S3_FLAGS.has(args[i])) i++;
            continue;
        }
        positional.push(args[i]);
    }
    const [source, destination] = positional;
    const actions: string[] = [];
    if (destination?.startsWith("s3://")) actions.push("s3:PutObject");
    if (source?.startsWith("s3://") || !destination?.startsWith("s3://")) actions.push("s3:GetObject");
    if (operation === "mv") actions.push("s3:DeleteObject");
    if (operation === "sync") actions.push("s3:ListBucket");
    return actions;
}

/** The script with continuation lines joined and whole-line comments dropped. */
function logicalLines(script: string): string[] {
    return script.replace(/\\\r?\n[ \t]*/g, " ").split(/\r?\n/).filter((line) => !/^\s*#/.test(line));
}

/**
 * Every `aws <service> <operation>` the script runs, deduplicated by service, operation and actions, in order of
 * appearance. Throws on a service missing from CLI_SERVICES, so that a new service cannot slip past the checks.
 */
export function awsCliCalls(script: string): AwsCliCall[] {
    const calls: AwsCliCall[] = [];
    const seen = new Set<string>();
    // `aws` as a command: at the start of a line or after a shell separator, a `$(`, a backtick or an opening quote.
    const start = /(?:^|[\s;|&(`"])aws\s+([a-z0-9-]+)\s+([a-z0-9-]+)([^\n]*)/g;
    for (const line of logicalLines(script)) {
        start.lastIndex = 0;
        for (let m = start.exec(line); m !== null; m = start.exec(line)) {
            const [, service, operation, rest] = m;
            const facts = CLI_SERVICES[service];
            if (facts === undefined) {
                throw new Error(`awsCliCalls: the script calls 'aws ${service} ${operation}', and '${service}' is not in ` +
                    `CLI_SERVICES (${Object.keys(CLI_SERVICES).join(", ")}): add it with its IAM prefix and VPC endpoint`);
            }
            const iamActions = SPECIAL_ACTIONS[`${service} ${operation}`]
                ?? (service === "s3" && ["cp", "mv", "sync"].includes(operation)
                    ? s3TransferActions(operation, words(rest))
                    : [`${facts.iamPrefix}:${pascal(operation)}`]);
            // Go on after the operation: a pipeline may hold a second call on the same line.
            start.lastIndex = m.index + m[0].length - rest.length;
            const key = `${service} ${operation} ${iamActions.join(",")}`;
            if (seen.has(key)) continue;
            seen.add(key);
            calls.push({ service, operation, iamActions, endpointService: facts.endpoint });
        }
    }
    return calls;
}

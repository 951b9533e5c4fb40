// The pack's compute rules (the grouping of Pulumi's AWSGuard pack): instances, their volumes and the key that
// encrypts them, and self-healing that never churns.
import {
    PolicyResource,
    ReportViolation,
    ResourceValidationPolicy,
    StackValidationPolicy,
    validateResourceOfType,
} from "@pulumi/policy";
import {  handlesOf, has, items, known, references, strings } from "./graph";
import { aws } from "./resourceTypes";

// ---------------------------------------------------------------------------------------------------
// Instances and data at rest.

export const imdsv2Required: ResourceValidationPolicy = {
    name: "imdsv2-required",
    description:
        "Launch templates and instances require IMDSv2 session tokens (metadataOptions.httpTokens = required), so a " +
        "request forgery in Orthanc or nginx cannot read the instance role's credentials from the metadata service.",
    enforcementLevel: "mandatory",
    validateResource: [
        validateResourceOfType(aws.ec2.LaunchTemplate, (template, _args, report) => {
            const options = template.metadataOptions;
            if (options?.httpTokens !== "required" && options?.httpEndpoint !== "disabled") {
                report(`metadataOptions.httpTokens is ${JSON.stringify(options?.httpTokens ?? "unset")}; set it to "required".`);
            }
        }),
        validateResourceOfType(aws.ec2.Instance, (instance, _args, report) => {
            const options = instance.metadataOptions;
            // An instance from a launch template inherits its metadata options; the template is checked itself.
            if (options === undefined && instance.launchTemplate !== undefined) return;
            if (options?.httpTokens !== "required" && options?.httpEndpoint !== "disabled") {
                report(`metadataOptions.httpTokens is ${JSON.stringify(options?.httpTokens ?? "unset")}; set it to "required" (or launch from a template that does).`);
            }
        }),
    ],
};

export const ebsEncrypted: ResourceValidationPolicy = {
    name: "ebs-encrypted",
    description:
        "Every EBS volume is encrypted: launch template block devices, instance root and data volumes, standalone volumes. " +
        "Orthanc caches studies and logs on the root volume.",
    enforcementLevel: "mandatory",
    validateResource: [
        validateResourceOfType(aws.ec2.LaunchTemplate, (template, _args, report) => {
            const mappings = (template.blockDeviceMappings ?? []).filter((m) => m.ebs !== undefined);
            if (mappings.length === 0) {
                report("declares no EBS block device: the root volume would be whatever the image says. Declare it with ebs.encrypted = \"true\".");
            }
            for (const m of mappings) {
                if (String(m.ebs?.encrypted) !== "true") report(`block device ${m.deviceName ?? "?"} is not encrypted; set ebs.encrypted = "true".`);
            }
        }),
        validateResourceOfType(aws.ec2.Instance, (instance, _args, report) => {
            if (instance.rootBlockDevice === undefined && instance.launchTemplate !== undefined) {
                // Root volume from the launch template, which is checked itself.
            } else if (instance.rootBlockDevice?.encrypted !== true) {
                report("the root volume is not encrypted; set rootBlockDevice.encrypted = true.");
            }
            for (const d of instance.ebsBlockDevices ?? []) {
                if (d.encrypted !== true) report(`EBS device ${d.deviceName} is not encrypted; set encrypted = true.`);
            }
        }),
        validateResourceOfType(aws.ebs.Volume, (volume, _args, report) => {
            if (volume.encrypted !== true) report("the volume is not encrypted; set encrypted = true.");
        }),
    ],
};

/** What Auto Scaling's role must be allowed on a customer-managed key to launch instances with volumes it encrypts. */
export const AUTOSCALING_EBS_KEY_ACTIONS = ["kms:Encrypt", "kms:Decrypt", "kms:ReEncryptFrom", "kms:ReEncryptTo", "kms:GenerateDataKeyWithoutPlaintext", "kms:DescribeKey", "kms:CreateGrant"];
/** The role a group without serviceLinkedRoleArn launches with, as its ARN ends. */
const DEFAULT_AUTOSCALING_ROLE = ":role/aws-service-role/autoscaling.amazonaws.com/AWSServiceRoleForAutoScaling";

function iamGlob(pattern: string): RegExp {
    return new RegExp(`^${pattern.replace(/[.+^${}()|[\]\\]/g, "\\$&").replace(/\*/g, ".*").replace(/\?/g, ".")}$`, "i");
}

/** The actions of `wanted` that no Allow statement of a key policy (JSON; none: KMS's default) grants to a principal `isRole` accepts. */
export function keyActionsMissing(policyJson: string | undefined, isRole: (principal: string) => boolean, wanted: readonly string[] = AUTOSCALING_EBS_KEY_ACTIONS): string[] {
    let statements: Record<string, any>[] = [];
    try {
        const parsed = policyJson === undefined ? {} : JSON.parse(policyJson);
        statements = [parsed.Statement ?? []].flat();
    } catch {
        return [...wanted];
    }
    // The account root does not count: it delegates to IAM, and a service-linked role's own policy grants no KMS use.
    const names = (principal: unknown) => [(principal as { AWS?: unknown } | undefined)?.AWS ?? []].flat().map(String).some(isRole);
    const granting = statements.filter((st) => st.Effect === "Allow" && st.NotPrincipal === undefined && st.NotAction === undefined && names(st.Principal));
    return wanted.filter((action) => !granting.some((st) => [st.Action ?? []].flat().some((a: string) => iamGlob(String(a)).test(action))));
}

export const ebsKeyUsableByAutoScaling: StackValidationPolicy = {
    name: "ebs-key-usable-by-auto-scaling",
    description:
        "A customer-managed KMS key that encrypts a launch template's volumes lets the Auto Scaling service-linked role " +
        "each group launches with use it (EC2 Auto Scaling user guide, \"Required AWS KMS key policy for use with encrypted " +
        "volumes\"): otherwise every launch fails with Client.InternalError and the group retries for ever.",
    enforcementLevel: "mandatory",
    validateStack: (args, report) => {
        const keys = args.resources.filter((r) => r.isType(aws.kms.Key));
        const roles = args.resources.filter((r) => r.isType(aws.iam.ServiceLinkedRole));
        const groups = args.resources.filter((r) => r.isType(aws.autoscaling.Group));
        for (const template of args.resources.filter((r) => r.isType(aws.ec2.LaunchTemplate))) {
            const keyIds = items(known(() => template.props.blockDeviceMappings)).flatMap((m) => strings(known(() => (known(() => (m as { ebs?: unknown }).ebs) as { kmsKeyId?: unknown } | undefined)?.kmsKeyId)));
            // Keys of the stack only: another key's policy cannot be read here.
            const usedKeys = references(template, "blockDeviceMappings", keys, { values: keyIds });
            const launchedBy = (g: PolicyResource) => strings(known(() => (known(() => g.props.launchTemplate) as { id?: unknown } | undefined)?.id));
            for (const group of groups.filter((g) => references(g, "launchTemplate", [template], { values: launchedBy(g) }).length > 0)) {
                const set = has(group.props, "serviceLinkedRoleArn");
                const roleArn = set ? known(() => group.props.serviceLinkedRoleArn) : undefined;
                // A role still to be created (preview): its ARN, and the key policy naming it, are not known yet.
                if (set && typeof roleArn !== "string") continue;
                const isRole = (principal: string) => (roleArn !== undefined ? principal === roleArn : principal.endsWith(DEFAULT_AUTOSCALING_ROLE));
                const roleName = roleArn !== undefined ? roles.find((r) => handlesOf(r).includes(String(roleArn)))?.name ?? String(roleArn) : "AWSServiceRoleForAutoScaling";
                for (const key of usedKeys) {
                    if (has(key.props, "policy") && typeof known(() => key.props.policy) !== "string") continue;
                    const missing = keyActionsMissing(known(() => key.props.policy) as string | undefined, isRole);
                    if (missing.length > 0) {
                        report(
                            `launch template ${template.name} encrypts volumes with key ${key.name}, whose policy does not let ${roleName} (the role group ${group.name} launches with) ` +
                                `${missing.join(", ")}: no instance would launch. Add the statements of "Required AWS KMS key policy for use with encrypted volumes" (EC2 Auto Scaling user guide) for that role.`,
                            key.urn,
                        );
                    }
                }
            }
        }
    },
};

// ---------------------------------------------------------------------------------------------------
// Self-healing that never churns.

const LAUNCHING = "autoscaling:EC2_INSTANCE_LAUNCHING";

function checkLaunchHook(hook: { lifecycleTransition?: string; defaultResult?: string }, report: ReportViolation, where: string) {
    if (hook.lifecycleTransition === LAUNCHING && hook.defaultResult !== undefined && hook.defaultResult !== "CONTINUE") {
        report(
            `${where} defaultResult is ${JSON.stringify(hook.defaultResult)}: a launch that is never let in would be terminated and ` +
                "launched again, over and over while a shared dependency is down. Set it to \"CONTINUE\".",
        );
    }
}

/** Seconds of a Go duration such as "1200s", "20m" or "1h0m0s" (wait_for_capacity_timeout); undefined when unreadable. */
function durationSeconds(text: unknown): number | undefined {
    if (typeof text !== "string") return undefined;
    const parts = [...text.matchAll(/(\d+(?:\.\d+)?)(h|m|s)/g)];
    if (parts.length === 0 || parts.map((p) => p[0]).join("") !== text) return undefined;
    return parts.reduce((sum, [, n, unit]) => sum + Number(n) * (unit === "h" ? 3600 : unit === "m" ? 60 : 1), 0);
}

export const healingNeverChurns: ResourceValidationPolicy = {
    name: "healing-never-churns",
    description:
        "Auto Scaling groups replace instances on EC2's word only (healthCheckType EC2, not ELB), and their launch hooks " +
        "time out into CONTINUE: an outage of what both instances share (the database) must never turn into replacements. " +
        "A group whose creation waits for capacity waits less than its launch hook's timeout, so a timed-out hook (an " +
        "instance nobody let in) never counts as a successful deploy; during a refresh the apply script, not the timeout, " +
        "decides: a failed new instance is abandoned next to the serving one.",
    enforcementLevel: "mandatory",
    validateResource: [
        validateResourceOfType(aws.autoscaling.Group, (group, _args, report) => {
            if (group.healthCheckType !== undefined && group.healthCheckType !== "EC2") {
                report(
                    `healthCheckType is ${JSON.stringify(group.healthCheckType)}: the load balancer's checks follow /healthz, which turns red on ` +
                        "every instance when the database is down, and the group would replace them all. Set it to \"EC2\".",
                );
            }
            (group.initialLifecycleHooks ?? []).forEach((hook, i) => checkLaunchHook(hook, report, `initialLifecycleHooks[${i}]`));
            const wait = durationSeconds(group.waitForCapacityTimeout);
            (group.initialLifecycleHooks ?? []).forEach((hook, i) => {
                if (hook.lifecycleTransition === LAUNCHING && hook.defaultResult !== "ABANDON" && wait !== undefined && wait > 0 && (hook.heartbeatTimeout ?? 3600) <= wait) {
                    report(
                        `initialLifecycleHooks[${i}] heartbeatTimeout ${hook.heartbeatTimeout ?? 3600} s is not longer than waitForCapacityTimeout ` +
                            `${JSON.stringify(group.waitForCapacityTimeout)}: the hook's timeout would let an unconfigured instance into service before ` +
                            "`pulumi up` stops waiting, and the deploy would pass. Make the heartbeat longer than the wait.",
                    );
                }
            });
        }),
        validateResourceOfType(aws.autoscaling.LifecycleHook, (hook, _args, report) => checkLaunchHook(hook, report, "the launch hook's")),
    ],
};

// The policy pack's `ebs-key-usable-by-auto-scaling`: a customer-managed key that encrypts a launch template's volumes
// must let the Auto Scaling service-linked role each group launches with use it (tests/iamEvaluation.spec.ts evaluates
// the same rule with an IAM simulator; the pack cannot load one, so it reads the key policy's statements).
import { expect } from "chai";
import * as rules from "../policy/rules";
import { Registration } from "../plan/mockRuntime";
import { evaluate, subjectsOf, urnOf } from "../plan/policyRun";
import { plannedStack, TYPES } from "./harness";

// The engine's sentinel for a value it cannot know during preview.
// eslint-disable-next-line @typescript-eslint/no-var-requires
const UNKNOWN: string = require("@pulumi/policy/proxy").unknownStringValue;
const ROLE = "arn:aws:iam::123456789012:role/aws-service-role/autoscaling.amazonaws.com/AWSServiceRoleForAutoScaling_orthweb-dev-1a2b3c4d";
const DEFAULT_ROLE = "arn:aws:iam::123456789012:role/aws-service-role/autoscaling.amazonaws.com/AWSServiceRoleForAutoScaling";
const ROOT = { Sid: "Root", Effect: "Allow", Principal: { AWS: "arn:aws:iam::123456789012:root" }, Action: "kms:*", Resource: "*" };
/** "Required AWS KMS key policy for use with encrypted volumes", EC2 Auto Scaling user guide. */
const documented = (role: string) => [
    { Effect: "Allow", Principal: { AWS: role }, Action: ["kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:DescribeKey"], Resource: "*" },
    { Effect: "Allow", Principal: { AWS: role }, Action: "kms:CreateGrant", Resource: "*", Condition: { Bool: { "kms:GrantIsForAWSResource": true } } },
];

/** A key, a launch template encrypting with it, and a group launching from the template (with `role`, if given). */
function stack(keyPolicy: unknown, role?: string): Registration[] {
    const reg = (type: string, name: string, inputs: Record<string, unknown>): Registration => ({ type, name, custom: true, inputs, state: inputs, id: `${name}-id` });
    return [
        reg(TYPES.kmsKey, "key", { arn: "arn:aws:kms:eu-west-1:123456789012:key/k-1", ...(keyPolicy === undefined ? {} : { policy: JSON.stringify(keyPolicy) }) }),
        reg(TYPES.launchTemplate, "lt", { blockDeviceMappings: [{ deviceName: "/dev/xvda", ebs: { encrypted: "true", kmsKeyId: "arn:aws:kms:eu-west-1:123456789012:key/k-1" } }] }),
        reg(TYPES.autoscalingGroup, "slot-1", { launchTemplate: { id: "lt-id" }, ...(role ? { serviceLinkedRoleArn: role } : {}) }),
    ];
}

const check = async (registrations: Registration[]) => (await evaluate([rules.ebsKeyUsableByAutoScaling], subjectsOf(registrations, "test"))).map((v) => v.message);

describe("policy: ebs-key-usable-by-auto-scaling", () => {
    it("passes a key whose policy carries AWS's documented statements for the group's role", async () => {
        expect(await check(stack({ Statement: [ROOT, ...documented(ROLE)] }, ROLE))).to.deep.equal([]);
        expect(await check(stack({ Statement: [ROOT, ...documented(DEFAULT_ROLE)] }))).to.deep.equal([]);
    });

    it("reports a key with KMS's default policy (no policy: the account root only), on the key", async () => {
        const found = await evaluate([rules.ebsKeyUsableByAutoScaling], subjectsOf(stack(undefined), "test"));
        expect(found).to.have.length(1);
        expect(found[0].urn).to.equal(urnOf("test", TYPES.kmsKey, "key"));
        expect(found[0].message).to.match(/AWSServiceRoleForAutoScaling .*slot-1.* kms:Encrypt, .*kms:CreateGrant: no instance would launch/);
        expect(await check(stack({ Statement: [ROOT] }, ROLE))).to.have.length(1);
    });

    it("reports a policy that names another role than the one the group launches with", async () => {
        const found = await check(stack({ Statement: [ROOT, ...documented(DEFAULT_ROLE)] }, ROLE));
        expect(found).to.have.length(1);
        expect(found[0]).to.include(ROLE);
    });

    it("reports the actions a partial policy leaves out", async () => {
        const [uses] = documented(ROLE);
        const found = await check(stack({ Statement: [ROOT, uses] }, ROLE));
        expect(found).to.have.length(1);
        expect(found[0]).to.match(/ kms:CreateGrant: /);
    });

    it("waits during preview, when the new role's ARN and the key policy naming it are not known yet", async () => {
        const pending = stack({ Statement: [] }, ROLE).map((r) =>
            r.type === TYPES.kmsKey ? { ...r, state: { ...r.state, policy: UNKNOWN } } : r.type === TYPES.autoscalingGroup ? { ...r, state: { ...r.state, serviceLinkedRoleArn: UNKNOWN } } : r,
        );
        expect(await evaluate([rules.ebsKeyUsableByAutoScaling], subjectsOf(pending, "test"))).to.deep.equal([]);
    });

    it("leaves alone templates that no group launches (their instances start with the caller's own credentials)", async () => {
        expect(await check(stack(undefined).slice(0, 2))).to.deep.equal([]);
    });

    it("passes the program's stacks, whose groups launch with the stack's own role", async () => {
        for (const name of ["dev", "prod", "site"]) {
            const { registrations } = await plannedStack(name);
            const groups = registrations.filter((r) => r.type === TYPES.autoscalingGroup);
            expect(groups.map((g) => g.inputs.serviceLinkedRoleArn), name).to.satisfy((arns: unknown[]) => arns.length === 2 && arns.every((a) => typeof a === "string" && a.includes("AWSServiceRoleForAutoScaling_")));
            expect(await check(registrations), name).to.deep.equal([]);
        }
    });

    it("finds what 82343a8 shipped: the default key policy, groups on the account's default role", async () => {
        const { registrations } = await plannedStack("dev");
        const before = registrations.map((r) => {
            if (r.type === TYPES.kmsKey) {
                const { policy: _policy, ...inputs } = r.inputs;
                return { ...r, inputs, state: { ...r.state, policy: undefined } };
            }
            if (r.type === TYPES.autoscalingGroup) {
                const { serviceLinkedRoleArn: _role, ...inputs } = r.inputs;
                return { ...r, inputs, state: { ...r.state, serviceLinkedRoleArn: undefined } };
            }
            return r;
        });
        expect(await check(before)).to.have.length(2);
    });
});

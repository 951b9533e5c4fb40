// The stack's IAM, key and bucket policies EVALUATED by an IAM simulator with AWS's action, resource and condition-key
// data (tests/iamEvaluation.ts), on the stacks the program really builds: the project's stack files and the front
// doors that write their own logs. What is asked, and why (docs/deploy-checks.md, "Keys and IAM"):
//  - every `aws` call of the rendered instance scripts is allowed to the instance role, on resource ARNs of AWS's shape
//    carrying the tags the stack gives them (the list comes from the scripts: a new call is covered by itself);
//  - the role allows nothing beyond those calls, the SSM agent's, the ECR pull's and Orthanc's storage;
//  - the Auto Scaling service-linked role the slots launch with may use the key that encrypts their volumes;
//  - each log-delivery service may write where the stack points it, under that bucket's policy;
//  - every action of every policy the program writes exists.
import { expect } from "chai";
import { awsCliCalls } from "../rules/awsCliCalls";
import { CONFIG_PREFIX, SLOT_TAGS } from "../rules/rollout";
import { logBucketPolicy, SERVICE_PRINCIPALS } from "../rules/audit";
import { usesElbAccount } from "../rules/loadBalancerLayout";
import { loadStackFile } from "../stacks/stackFile";
import { Registration } from "../plan/mockRuntime";
import { bootstrapFilesOf, build, Built, TYPES, withConfig } from "./harness";
import {
    ACCOUNT,
    actionKnown,
    actionResourceTypes,
    allowedActions,
    arnOf,
    decide,
    DEFAULT_AUTOSCALING_ROLE_ARN,
    expandAction,
    keyPolicyOf,
    PolicyDocument,
    resourceTagContext,
    statementsOf,
    tagsOf,
    writtenPolicies,
} from "./iamEvaluation";

/** A project stack file's build, its file read and parsed once per worker (each test asks for it again). */
const stackFiles = new Map<string, Record<string, unknown>>();
function plannedBuild(stack: string): Promise<Built> {
    if (!stackFiles.has(stack)) stackFiles.set(stack, loadStackFile(stack).config);
    return build(stackFiles.get(stack)!, stack);
}

/** The stacks evaluated: the project's own, and the load balancer front doors that write access, NLB and WAF logs. */
const STACKS: Record<string, () => Promise<Built>> = {
    dev: () => plannedBuild("dev"),
    prod: () => plannedBuild("prod"),
    site: () => plannedBuild("site"),
    // ALB logs from the regional ELB account (a region opened before August 2022), WAF logs.
    "alb-eu-west-1": () => build(withConfig({ "orthweb:traffic": { frontDoor: "loadBalancer", loadBalancer: { type: "application", certificateArn: `arn:aws:acm:eu-west-1:${ACCOUNT}:certificate/abc` } } }), "alb"),
    // ALB logs from the ELB log delivery service (a region opened since).
    "alb-eu-south-2": () =>
        build(withConfig({ "aws:region": "eu-south-2", "orthweb:traffic": { frontDoor: "loadBalancer", loadBalancer: { type: "application", certificateArn: `arn:aws:acm:eu-south-2:${ACCOUNT}:certificate/abc` } } }), "alb"),
};

/** AWS's ELB accounts that write ALB access logs, per region (ELB user guide, "Enable access logs": regions before August 2022). */
const ELB_ACCOUNTS: Record<string, string> = { "eu-west-1": "156460612806", "us-east-1": "127311923021" };

/** docker pull through the ECR pull-through cache (ECR user guide, "Pull through cache": the first pull imports the image). */
const ECR_PULL_ACTIONS = ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer", "ecr:BatchCheckLayerAvailability", "ecr:BatchImportUpstreamImage", "ecr:CreateRepository"];
/** Orthanc's S3 storage plugin on the study bucket, and KMS for its SSE-KMS objects and the secrets. */
const ORTHANC_STORAGE_ACTIONS = ["s3:ListBucket", "s3:GetObject", "s3:PutObject", "s3:DeleteObject", "kms:Decrypt", "kms:GenerateDataKey"];

/**
 * The published AWS managed policies an instance role could carry, by ARN (AWS managed policy reference). A role with
 * any other attachment fails: its grants cannot be read offline.
 */
const MANAGED_POLICIES: Record<string, PolicyDocument> = {
    "arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore": {
        Version: "2012-10-17",
        Statement: [
            {
                Effect: "Allow",
                Action: [
                    "ssm:DescribeAssociation", "ssm:GetDeployablePatchSnapshotForInstance", "ssm:GetDocument", "ssm:DescribeDocument", "ssm:GetManifest",
                    "ssm:GetParameter", "ssm:GetParameters", "ssm:ListAssociations", "ssm:ListInstanceAssociations", "ssm:PutInventory",
                    "ssm:PutComplianceItems", "ssm:PutConfigurePackageResult", "ssm:UpdateAssociationStatus", "ssm:UpdateInstanceAssociationStatus",
                    "ssm:UpdateInstanceInformation",
                ],
                Resource: "*",
            },
            { Effect: "Allow", Action: ["ssmmessages:CreateControlChannel", "ssmmessages:CreateDataChannel", "ssmmessages:OpenControlChannel", "ssmmessages:OpenDataChannel"], Resource: "*" },
            { Effect: "Allow", Action: ["ec2messages:AcknowledgeMessage", "ec2messages:DeleteMessage", "ec2messages:FailMessage", "ec2messages:GetEndpoint", "ec2messages:GetMessages", "ec2messages:SendReply"], Resource: "*" },
        ],
    },
};

/**
 * What the SSM agent needs here: AmazonSSMManagedInstanceCore's calls (Session Manager, State Manager, Run Command)
 * without the features the stack does not use: Parameter Store (GetParameter*, which would let Orthanc read every
 * parameter of the account), Patch Manager, Inventory and Distributor. Systems Manager user guide, "Step 2: Verify or
 * add instance permissions for Session Manager".
 */
const SSM_UNUSED_FEATURES = ["ssm:GetParameter", "ssm:GetParameters", "ssm:GetManifest", "ssm:GetDeployablePatchSnapshotForInstance", "ssm:PutInventory", "ssm:PutConfigurePackageResult"];
const SSM_AGENT_ACTIONS = statementsOf(MANAGED_POLICIES["arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore"])
    .flatMap((st) => [st.Action].flat() as string[])
    .filter((action) => !SSM_UNUSED_FEATURES.includes(action));

const INSTANCE_ID = "i-0123456789abcdef0";

interface InstanceRole {
    readonly registration: Registration;
    readonly principal: string;
    readonly policies: PolicyDocument[];
}

/** The role of the instances' profile and every policy it carries: inline ones and attached managed ones. */
function instanceRoleOf(built: Built): InstanceRole {
    const profiles = built.ofType(TYPES.instanceProfile);
    expect(profiles, "one instance profile").to.have.length(1);
    const roleKey = (profiles[0].options?.propertyDependencies.role ?? [])[0];
    const role = built.registrations.find((r) => `${r.type}::${r.name}` === roleKey);
    if (!role) throw new Error(`the instance profile's role (${roleKey}) is not registered`);
    const ofRole = (type: string) => built.ofType(type).filter((p) => (p.options?.propertyDependencies.role ?? []).includes(roleKey));
    const inline = ofRole(TYPES.rolePolicy).map((p) => JSON.parse(String(p.inputs.policy)) as PolicyDocument);
    const managed = ofRole(TYPES.rolePolicyAttachment).map((a) => {
        const document = MANAGED_POLICIES[String(a.inputs.policyArn)];
        if (!document) throw new Error(`the instance role carries ${a.inputs.policyArn}, whose grants this spec cannot read`);
        return document;
    });
    return { registration: role, principal: `arn:aws:sts::${ACCOUNT}:assumed-role/${role.state.name}/${INSTANCE_ID}`, policies: [...inline, ...managed] };
}

/** The scripts the instances run: the files of the config bundle and the SSM document that applies it. */
function instanceScripts(built: Built): string[] {
    const documents = built.ofType(TYPES.ssmDocument).map((d) => (JSON.parse(String(d.inputs.content)).mainSteps as { inputs: { runCommand?: string[] } }[]).flatMap((s) => s.inputs.runCommand ?? []).join("\n"));
    return [...bootstrapFilesOf(built).map((f) => f.content), ...documents];
}

/**
 * The calls the scripts run in this stack: every `aws` line, except the ECR login where the start script has no
 * registry to log in to (it runs `ecr_login` only `if [ -n "$REGISTRY" ]`: stacks without the pull-through cache).
 */
function callsThatRun(scripts: readonly string[]) {
    return scripts.flatMap((script) => awsCliCalls(script).filter((c) => !(c.service === "ecr" && /^readonly REGISTRY=(''|"")$/m.test(script))));
}

interface Target {
    readonly arn: string;
    readonly tags: Record<string, string>;
    /** The bucket or key policy that also decides, if any. */
    readonly resourcePolicy?: PolicyDocument;
    /** The key that encrypts it: reading it also needs kms:Decrypt there. */
    readonly keyArn?: string;
}

function bucketNamed(built: Built, id: unknown) {
    return built.ofType(TYPES.bucket).find((b) => b.id === id || b.state.bucket === id);
}

function bucketPolicyOf(built: Built, bucketId: string): PolicyDocument | undefined {
    const policy = built.ofType(TYPES.bucketPolicy).find((p) => p.inputs.bucket === bucketId);
    return policy && (JSON.parse(String(policy.inputs.policy)) as PolicyDocument);
}

function bucketKeyOf(built: Built, bucketId: string): string | undefined {
    const sse = built.ofType(TYPES.bucketEncryption).find((e) => e.inputs.bucket === bucketId);
    const rule = sse?.inputs.rules?.[0]?.applyServerSideEncryptionByDefault;
    return rule?.sseAlgorithm === "aws:kms" ? rule.kmsMasterKeyId : undefined;
}

/**
 * The resources of the stack an action of a given resource type (AWS's data) acts on, with their real ARN shape and
 * tags. A resource type missing here fails the spec: add how the stack's resources of that type look.
 */
const TARGETS: Record<string, (built: Built, scripts: string) => Promise<Target[]>> = {
    "ec2:instance": async (built) => [{ arn: await arnOf("ec2:instance", { Region: built.config.region, InstanceId: INSTANCE_ID }), tags: launchedTags(built, "instance")[0] }],
    "ec2:network-interface": async (built) => [{ arn: await arnOf("ec2:network-interface", { Region: built.config.region, NetworkInterfaceId: "eni-0123456789abcdef0" }), tags: launchedTags(built, "network-interface")[0] }],
    // The slots' Elastic IPs: the allocations the groups' address tags name (what claim.sh moves).
    "ec2:elastic-ip": async (built) => {
        const claimed = built.ofType(TYPES.autoscalingGroup).map((g) => tagsOf(g.inputs)[SLOT_TAGS.address]);
        const eips = built.ofType(TYPES.eip).filter((e) => claimed.includes(e.state.allocationId));
        return Promise.all(eips.map(async (e) => ({ arn: await arnOf("ec2:elastic-ip", { Region: built.config.region, AllocationId: e.state.allocationId }), tags: tagsOf(e.inputs) })));
    },
    "elasticloadbalancing:targetgroup": async (built) => built.ofType(TYPES.targetGroup).map((tg) => ({ arn: String(tg.state.arn), tags: tagsOf(tg.inputs) })),
    "autoscaling:autoScalingGroup": async (built) => built.ofType(TYPES.autoscalingGroup).map((g) => ({ arn: String(g.state.arn), tags: tagsOf(g.inputs) })),
    // The objects the scripts download: the stack's objects (the bundle, the mirrored tools) in the buckets the
    // instance's files name (the study bucket).
    "s3:object": async (built, scripts) =>
        built.ofType(TYPES.bucketObject).flatMap((o) => {
            const bucket = bucketNamed(built, o.inputs.bucket);
            if (!bucket) throw new Error(`object ${o.name} is in no bucket of the stack`);
            if (!scripts.includes(String(bucket.state.bucket))) return [];
            return [{ arn: `arn:aws:s3:::${bucket.state.bucket}/${o.inputs.key}`, tags: tagsOf(o.inputs), resourcePolicy: bucketPolicyOf(built, bucket.id), keyArn: bucketKeyOf(built, bucket.id) }];
        }),
    // The secrets the scripts name: the program's and the RDS-managed master secret.
    "secretsmanager:Secret": async (built, scripts) => {
        const secrets = built.ofType(TYPES.secret).map((s) => ({ arn: String(s.state.arn), tags: tagsOf(s.inputs), keyArn: s.inputs.kmsKeyId as string | undefined }));
        const masters = built.ofType(TYPES.rds).map((db) => ({ arn: String(db.state.masterUserSecrets?.[0]?.secretArn), tags: {}, keyArn: db.inputs.masterUserSecretKmsKeyId as string | undefined }));
        return [...secrets, ...masters].filter((s) => scripts.includes(s.arn));
    },
};
/** Resource types of the scripts' actions that the stack never uses (access points, on-premises managed instances). */
const UNUSED_TYPES = new Set(["s3:accesspointobject"]);

/** The tags the launch template gives a resource type it launches (instance, volume, network-interface). */
function launchedTags(built: Built, resourceType: string): Record<string, string>[] {
    return built.ofType(TYPES.launchTemplate).map((t) => {
        const spec = (t.inputs.tagSpecifications ?? []).find((s: { resourceType: string }) => s.resourceType === resourceType);
        if (!spec) throw new Error(`launch template ${t.name} does not tag the ${resourceType}s it launches`);
        return { ...spec.tags };
    });
}

interface Verdict {
    readonly call: string;
    readonly action: string;
    readonly resource: string;
    readonly result: string;
}

/** Every action of every call, on every resource of the stack it acts on, for the instance role. */
async function evaluateScripts(built: Built): Promise<{ verdicts: Verdict[]; calls: string[] }> {
    const role = instanceRoleOf(built);
    const scripts = instanceScripts(built);
    const all = scripts.join("\n");
    const calls = [...new Map(callsThatRun(scripts).map((c) => [`${c.service} ${c.operation} ${c.iamActions.join(",")}`, c])).values()];
    const region = built.config.region;
    const context = { "aws:SecureTransport": "true", "aws:RequestedRegion": region, "aws:PrincipalAccount": ACCOUNT };
    const verdicts: Verdict[] = [];
    const ask = async (call: string, action: string, target: { arn: string; tags?: Record<string, string>; resourcePolicy?: PolicyDocument }, extra: Record<string, string> = {}) => {
        const service = action.split(":")[0];
        const result = await decide({
            principal: role.principal,
            action,
            resource: target.arn,
            context: { ...context, ...(await resourceTagContext(service, target.tags ?? {})), ...extra },
            identityPolicies: role.policies,
            resourcePolicy: target.resourcePolicy,
        });
        verdicts.push({ call, action, resource: target.arn, result });
    };
    for (const call of calls) {
        const name = `aws ${call.service} ${call.operation}`;
        for (const action of call.iamActions) {
            const { wildcardOnly, types } = await actionResourceTypes(action);
            if (wildcardOnly) {
                await ask(name, action, { arn: "*" });
                continue;
            }
            for (const { type } of types) {
                if (UNUSED_TYPES.has(type)) continue;
                const targets = TARGETS[type];
                if (!targets) throw new Error(`${name} (${action}) acts on ${type}: add how the stack's ${type} resources look to TARGETS`);
                for (const target of await targets(built, all)) {
                    await ask(name, action, target);
                    // Reading an object or a secret encrypted with a customer-managed key decrypts with it too.
                    if (target.keyArn && (action === "s3:GetObject" || action === "secretsmanager:GetSecretValue")) {
                        const via = action.startsWith("s3:") ? "s3" : "secretsmanager";
                        await ask(name, "kms:Decrypt", { arn: target.keyArn, resourcePolicy: keyPolicyOf(built, target.keyArn) }, { "kms:ViaService": `${via}.${region}.amazonaws.com` });
                    }
                }
            }
        }
    }
    return { verdicts, calls: calls.map((c) => `aws ${c.service} ${c.operation}`) };
}

describe("IAM evaluated (iam-simulate with AWS's action data)", function () {
    this.timeout(120000);

    describe("the helper itself", () => {
        it("knows real actions and patterns and refuses misspelt ones", async () => {
            expect(await actionKnown("ssmmessages:OpenDataChannel")).to.equal(true);
            expect(await actionKnown("kms:ReEncrypt*")).to.equal(true);
            expect(await actionKnown("kms:CreateGrnt")).to.equal(false);
            expect(await actionKnown("secretmanager:GetSecretValue")).to.equal(false);
            expect(await expandAction("ssm:GetParameter*")).to.include.members(["ssm:GetParameter", "ssm:GetParameters", "ssm:GetParametersByPath"]);
        });

        it("denies what a policy does not grant, and what a condition does not match", async () => {
            const policy = { Version: "2012-10-17", Statement: [{ Effect: "Allow", Action: "ec2:AssociateAddress", Resource: "*", Condition: { StringEquals: { "aws:ResourceTag/Stack": "a" } } }] };
            const ask = async (tags: Record<string, string>) =>
                decide({ principal: `arn:aws:iam::${ACCOUNT}:role/r`, action: "ec2:AssociateAddress", resource: `arn:aws:ec2:eu-west-1:${ACCOUNT}:elastic-ip/eipalloc-1`, context: await resourceTagContext("ec2", tags), identityPolicies: [policy] });
            expect(await ask({ Stack: "a" })).to.equal("Allowed");
            expect(await ask({ Stack: "b" })).to.equal("ImplicitlyDenied");
        });

        it("refuses a log writer outside its prefix, or from another account", async () => {
            const bucketArn = "arn:aws:s3:::logs";
            const policy = logBucketPolicy({ bucketArn, accountId: ACCOUNT, writers: [{ kind: "logDelivery", prefix: "flow-logs" }] });
            const put = async (key: string, account: string) =>
                decide({ principal: SERVICE_PRINCIPALS.logDelivery, action: "s3:PutObject", resource: `${bucketArn}/${key}`, context: { "aws:SecureTransport": "true", "aws:SourceAccount": account, "s3:x-amz-acl": "bucket-owner-full-control" }, resourcePolicy: policy });
            expect(await put(`flow-logs/AWSLogs/${ACCOUNT}/x`, ACCOUNT)).to.equal("Allowed");
            expect(await put(`waf/AWSLogs/${ACCOUNT}/x`, ACCOUNT)).to.equal("ImplicitlyDenied");
            expect(await put(`flow-logs/AWSLogs/${ACCOUNT}/x`, "210987654321")).to.equal("ImplicitlyDenied");
        });
    });

    for (const [stack, built] of Object.entries(STACKS)) {
        describe(`stack ${stack}`, () => {
            it("allows the instance role every AWS call of the rendered instance scripts, on the stack's own resources", async () => {
                const { verdicts, calls } = await evaluateScripts(await built());
                // The scripts' calls that every stack makes (the list itself comes from the scripts).
                expect(calls).to.include.members(["aws s3 cp", "aws secretsmanager get-secret-value", "aws autoscaling complete-lifecycle-action", "aws ec2 describe-instances"]);
                // On the resources those calls really touch: the bundle, the four secrets, both slots' groups.
                const on = (action: string) => verdicts.filter((v) => v.action === action).map((v) => v.resource);
                expect(on("s3:GetObject").some((arn) => arn.includes(`/${CONFIG_PREFIX}`)), "the bundle").to.equal(true);
                expect(on("secretsmanager:GetSecretValue")).to.have.length(4);
                expect(on("autoscaling:CompleteLifecycleAction")).to.have.length(2);
                const refused = verdicts.filter((v) => v.result !== "Allowed").map((v) => `${v.call}: ${v.action} on ${v.resource} -> ${v.result}`);
                expect(refused).to.deep.equal([]);
            });

            it("allows the instance role nothing beyond those calls, the SSM agent, the ECR pull and Orthanc's storage", async () => {
                const b = await built();
                const role = instanceRoleOf(b);
                const needed = new Set(
                    [...callsThatRun(instanceScripts(b)).flatMap((c) => c.iamActions), ...SSM_AGENT_ACTIONS, ...ORTHANC_STORAGE_ACTIONS, ...(b.config.orthanc.pullThroughCache ? ECR_PULL_ACTIONS : [])].map((a) => a.toLowerCase()),
                );
                const granted = await allowedActions(role.policies);
                expect([...granted].filter((a) => !needed.has(a)).sort()).to.deep.equal([]);
            });

            it("lets EC2, and no other service, assume the instance role", async () => {
                const b = await built();
                const role = instanceRoleOf(b).registration;
                const trust = JSON.parse(String(role.inputs.assumeRolePolicy)) as PolicyDocument;
                const assume = (principal: string) => decide({ principal, action: "sts:AssumeRole", resource: String(role.state.arn), resourcePolicy: trust });
                expect(await assume("ec2.amazonaws.com")).to.equal("Allowed");
                expect(await assume("lambda.amazonaws.com")).to.not.equal("Allowed");
            });

            it("lets the Auto Scaling role the slots launch with use the key that encrypts their volumes", async () => {
                const b = await built();
                const region = b.config.region;
                const keyArns = b.ofType(TYPES.launchTemplate).flatMap((t) => (t.inputs.blockDeviceMappings ?? []).map((m: { ebs?: { kmsKeyId?: string } }) => m.ebs?.kmsKeyId)).filter(Boolean) as string[];
                expect(keyArns, "the root volume is encrypted with a customer-managed key").to.not.be.empty;
                const roles = [...new Set(b.ofType(TYPES.autoscalingGroup).map((g) => String(g.inputs.serviceLinkedRoleArn ?? DEFAULT_AUTOSCALING_ROLE_ARN)))];
                const refused: string[] = [];
                for (const keyArn of keyArns) {
                    const keyPolicy = keyPolicyOf(b, keyArn);
                    for (const principal of roles) {
                        // What EC2 does with the role when Auto Scaling launches an instance with an encrypted volume.
                        const requests: [string, Record<string, string>][] = [
                            ["kms:CreateGrant", { "kms:GrantIsForAWSResource": "true" }],
                            ["kms:GenerateDataKeyWithoutPlaintext", {}],
                            ["kms:Decrypt", {}],
                            ["kms:ReEncryptFrom", {}],
                            ["kms:DescribeKey", {}],
                        ];
                        for (const [action, extra] of requests) {
                            const result = await decide({ principal, action, resource: keyArn, context: { "kms:ViaService": `ec2.${region}.amazonaws.com`, "kms:CallerAccount": ACCOUNT, ...extra }, resourcePolicy: keyPolicy });
                            if (result !== "Allowed") refused.push(`${principal}: ${action} on ${keyArn} -> ${result}`);
                        }
                        // A grant for anything but an AWS resource stays refused.
                        expect(await decide({ principal, action: "kms:CreateGrant", resource: keyArn, context: { "kms:GrantIsForAWSResource": "false" }, resourcePolicy: keyPolicy })).to.not.equal("Allowed");
                    }
                }
                expect(refused).to.deep.equal([]);
            });

            it("lets every log-delivery service write where the stack points it, under that bucket's policy", async () => {
                const b = await built();
                const refused = (await evaluateLogDelivery(b)).filter((v) => v.result !== "Allowed").map((v) => `${v.call}: ${v.action} on ${v.resource} -> ${v.result}`);
                expect(refused).to.deep.equal([]);
            });

            it("writes only actions that exist (a misspelt action fails)", async () => {
                const b = await built();
                const unknown: string[] = [];
                for (const { where, policy } of writtenPolicies(b)) {
                    for (const statement of statementsOf(policy)) {
                        for (const action of [statement.Action, statement.NotAction].flat().filter((a) => a !== undefined)) {
                            if (!(await actionKnown(String(action)))) unknown.push(`${where}: ${action}`);
                        }
                    }
                }
                expect(writtenPolicies(b).length, "the stack writes policies").to.be.greaterThan(3);
                expect(unknown).to.deep.equal([]);
            });
        });
    }

    it("covers every log writer kind across the stacks evaluated", async () => {
        const kinds = new Set<string>();
        for (const built of Object.values(STACKS)) (await evaluateLogDelivery(await built())).forEach((v) => kinds.add(v.call.split(" ")[0]));
        expect([...kinds].sort()).to.deep.equal(["alb", "cloudtrail", "flow-logs", "nlb", "s3-access", "waf"]);
    });
});

const DAY = "2026/12/03";

/**
 * Each log writer's PutObject (and bucket ACL check), where AWS writes it: the key below the prefix the stack gives the
 * service (not the policy's), from the writer's own principal, with the context AWS sends.
 */
async function evaluateLogDelivery(built: Built): Promise<Verdict[]> {
    const region = built.config.region;
    const verdicts: Verdict[] = [];
    const write = async (kind: string, bucketRef: unknown, prefix: string, principal: string, objectPath: string, context: Record<string, string>, aclCheck: boolean) => {
        const bucket = bucketNamed(built, bucketRef);
        if (!bucket) throw new Error(`${kind} writes to ${bucketRef}, which is no bucket of the stack`);
        const resourcePolicy = bucketPolicyOf(built, bucket.id);
        const bucketArn = `arn:aws:s3:::${bucket.state.bucket}`;
        const key = `${prefix ? `${prefix.replace(/\/$/, "")}/` : ""}${objectPath}`;
        // A cross-account writer (the regional ELB account) has its own account's permissions: allow everything there.
        const own = principal.includes(":iam::") && !principal.includes(`::${ACCOUNT}:`) ? [{ Version: "2012-10-17", Statement: [{ Effect: "Allow", Action: "*", Resource: "*" }] }] : [];
        const secure = { "aws:SecureTransport": "true" };
        const put = await decide({ principal, action: "s3:PutObject", resource: `${bucketArn}/${key}`, context: { ...secure, ...context }, resourcePolicy, identityPolicies: own });
        verdicts.push({ call: `${kind} -> ${bucket.state.bucket}`, action: "s3:PutObject", resource: `${bucketArn}/${key}`, result: put });
        if (aclCheck) {
            const { "s3:x-amz-acl": _acl, ...rest } = context;
            const acl = await decide({ principal, action: "s3:GetBucketAcl", resource: bucketArn, context: { ...secure, ...rest }, resourcePolicy });
            verdicts.push({ call: `${kind} -> ${bucket.state.bucket}`, action: "s3:GetBucketAcl", resource: bucketArn, result: acl });
        }
        const keyArn = bucketKeyOf(built, bucket.id);
        if (keyArn) {
            const generate = await decide({ principal, action: "kms:GenerateDataKey", resource: keyArn, context: { "kms:ViaService": `s3.${region}.amazonaws.com` }, resourcePolicy: keyPolicyOf(built, keyArn), identityPolicies: own });
            verdicts.push({ call: `${kind} -> ${bucket.state.bucket}`, action: "kms:GenerateDataKey", resource: keyArn, result: generate });
        }
    };
    const ownerFull = { "s3:x-amz-acl": "bucket-owner-full-control" };
    for (const trail of built.ofType(TYPES.trail)) {
        const sourceArn = `arn:aws:cloudtrail:${region}:${ACCOUNT}:trail/${trail.name}`;
        await write("cloudtrail", trail.inputs.s3BucketName, String(trail.inputs.s3KeyPrefix ?? ""), SERVICE_PRINCIPALS.cloudTrail, `AWSLogs/${ACCOUNT}/CloudTrail/${region}/${DAY}/${ACCOUNT}_CloudTrail_${region}_x.json.gz`, { ...ownerFull, "aws:SourceAccount": ACCOUNT, "aws:SourceArn": sourceArn }, true);
    }
    for (const logging of built.ofType(TYPES.bucketLogging)) {
        const source = bucketNamed(built, logging.inputs.bucket);
        await write("s3-access", logging.inputs.targetBucket, String(logging.inputs.targetPrefix ?? ""), SERVICE_PRINCIPALS.s3ServerAccess, "2026-12-03-00-00-00-0123456789ABCDEF", { "aws:SourceAccount": ACCOUNT, "aws:SourceArn": `arn:aws:s3:::${source?.state.bucket}` }, false);
    }
    for (const flow of built.ofType(TYPES.flowLog)) {
        const [, bucketName, prefix] = /^arn:aws:s3:::([^/]+)\/?(.*)$/.exec(String(flow.inputs.logDestination)) ?? [];
        await write("flow-logs", bucketName, prefix ?? "", SERVICE_PRINCIPALS.logDelivery, `AWSLogs/${ACCOUNT}/vpcflowlogs/${region}/${DAY}/x.log.gz`, { ...ownerFull, "aws:SourceAccount": ACCOUNT, "aws:SourceArn": `arn:aws:logs:${region}:${ACCOUNT}:*` }, true);
    }
    for (const waf of built.ofType(TYPES.webAclLogging)) {
        for (const destination of waf.inputs.logDestinationConfigs ?? []) {
            const [, bucketName] = /^arn:aws:s3:::([^/]+)/.exec(String(destination)) ?? [];
            await write("waf", bucketName, "", SERVICE_PRINCIPALS.logDelivery, `AWSLogs/${ACCOUNT}/WAFLogs/${region}/acl/${DAY}/00/00/x.log.gz`, { ...ownerFull, "aws:SourceAccount": ACCOUNT, "aws:SourceArn": `arn:aws:logs:${region}:${ACCOUNT}:*` }, true);
        }
    }
    for (const lb of built.ofType(TYPES.loadBalancer)) {
        const logs = lb.inputs.accessLogs;
        if (!logs?.enabled) continue;
        const path = `AWSLogs/${ACCOUNT}/elasticloadbalancing/${region}/${DAY}/x.log.gz`;
        if (lb.inputs.loadBalancerType === "network") {
            // NLB (TLS listener) access logs are vended logs.
            await write("nlb", logs.bucket, String(logs.prefix ?? ""), SERVICE_PRINCIPALS.logDelivery, path, { ...ownerFull, "aws:SourceAccount": ACCOUNT, "aws:SourceArn": `arn:aws:logs:${region}:${ACCOUNT}:*` }, true);
        } else {
            const elbAccount = ELB_ACCOUNTS[region];
            if (usesElbAccount(region) && !elbAccount) throw new Error(`add ${region}'s ELB account to ELB_ACCOUNTS`);
            const principal = usesElbAccount(region) ? `arn:aws:iam::${elbAccount}:root` : SERVICE_PRINCIPALS.elb;
            await write("alb", logs.bucket, String(logs.prefix ?? ""), principal, path, {}, false);
        }
    }
    return verdicts;
}

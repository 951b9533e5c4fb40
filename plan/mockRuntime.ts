// Runs the program under Pulumi mocks, without AWS or the Pulumi CLI, and records every registration.
// Shared by the unit tests and the offline plan. Data-source calls that are not modelled here throw, so a
// new lookup in the program cannot pass unnoticed.
import * as pulumi from "@pulumi/pulumi";
import { createHash } from "crypto";
import { ipv4ToString, parseCidr } from "../rules/cidr";

export interface Registration {
    readonly type: string;
    readonly name: string;
    readonly custom: boolean;
    readonly inputs: Record<string, any>;
    readonly state: Record<string, any>;
    readonly id: string;
    /** Resource options and input dependencies as the engine would receive them (see recordOptions). */
    readonly options?: RegistrationOptions;
}

export interface RegistrationOptions {
    readonly customTimeouts?: { create: string; update: string; delete: string };
    readonly protect: boolean;
    readonly retainOnDelete: boolean;
    readonly deleteBeforeReplace: boolean;
    readonly ignoreChanges: string[];
    readonly replaceOnChanges: string[];
    /** Every resource this one depends on (dependsOn and every input's source), as `<type>::<name>`. */
    readonly dependencies: string[];
    /** Input property -> the resources its value came from, as `<type>::<name>`. */
    readonly propertyDependencies: Record<string, string[]>;
}

export interface Invocation {
    readonly token: string;
    readonly inputs: Record<string, any>;
    /** What the mock answered (absent when the call threw). */
    outputs?: Record<string, any>;
}

export const MOCK_ACCOUNT = "123456789012";
/** The names IAM gives service-linked roles, by service (IAM user guide, "AWS services that work with IAM"). */
const SERVICE_LINKED_ROLE_NAMES: Record<string, string> = { "autoscaling.amazonaws.com": "AWSServiceRoleForAutoScaling" };
/** What the mocked tls.PrivateKey returns: tests search user data and plain outputs for it. */
export const MOCK_PRIVATE_KEY_PEM = "-----BEGIN PRIVATE KEY-----\nMOCK-PRIVATE-KEY-DO-NOT-LEAK\n-----END PRIVATE KEY-----\n";
export const MOCK_CERT_PEM = "-----BEGIN CERTIFICATE-----\nMOCK-CERTIFICATE\n-----END CERTIFICATE-----\n";

interface RunContext {
    region: string;
    /** Echo inputs only (plus the awsx Vpc ids): how a third party's bare mocks behave. */
    minimal: boolean;
    /** The VPC's block, once the awsx Vpc has registered: instances get addresses inside it. */
    vpcCidr?: string;
    registrations: Registration[];
    invocations: Invocation[];
    counters: Map<string, number>;
    options: Map<string, RegistrationOptions>;
}

let context: RunContext | undefined;

function ctx(): RunContext {
    if (!context) throw new Error("mockRuntime: no run in progress");
    return context;
}

function next(kind: string): number {
    const c = ctx();
    const n = (c.counters.get(kind) ?? 0) + 1;
    c.counters.set(kind, n);
    return n;
}

function service(type: string): string {
    return type.split(":")[1]?.split("/")[0] ?? "unknown";
}

/** Plausible computed outputs for the resource types the program uses; inputs echo back for the rest. */
function computedState(type: string, name: string, inputs: Record<string, any>): Record<string, any> {
    const { region } = ctx();
    const arn = `arn:aws:${service(type)}:${region}:${MOCK_ACCOUNT}:${name}`;
    switch (type) {
        case "awsx:ec2:Vpc": {
            ctx().vpcCidr = inputs.cidrBlock;
            const azs = [`${region}a`, `${region}b`];
            const ofType = (type: string) => ((inputs.subnetSpecs ?? []) as { type: string }[]).some((spec) => spec.type === type);
            return {
                vpcId: "vpc-0mock",
                publicSubnetIds: ofType("Public") ? azs.map((az) => `subnet-public-${az}`) : [],
                privateSubnetIds: ofType("Private") ? azs.map((az) => `subnet-private-${az}`) : [],
                isolatedSubnetIds: ofType("Isolated") ? azs.map((az) => `subnet-isolated-${az}`) : [],
                // One route table per subnet, as awsx makes them (ids only: enough for what the program reads).
                routeTables: ["Public", "Private", "Isolated"].filter(ofType).flatMap((type) => azs.map((az) => ({ id: `rtb-${type.toLowerCase()}-${az}` }))),
            };
        }
        case "aws:ec2/eip:Eip": {
            const n = next("eip");
            const ip = `203.0.113.${10 + n}`;
            return { publicIp: ip, publicDns: `ec2-${ip.replace(/\./g, "-")}.${region}.compute.amazonaws.com`, allocationId: `eipalloc-${n}` };
        }
        case "aws:autoscaling/group:Group":
            return {
                name: inputs.name ?? `${name}-0mock`,
                arn: `arn:aws:autoscaling:${region}:${MOCK_ACCOUNT}:autoScalingGroup:0mock:autoScalingGroupName/${name}-0mock`,
                availabilityZones: ((inputs.vpcZoneIdentifiers ?? []) as string[]).map((subnet) => /(\w+-\w+-\d[a-z])$/.exec(String(subnet))?.[1] ?? `${region}a`),
            };
        case "aws:rds/instance:Instance":
            return {
                identifier: inputs.identifier ?? `${name}-0mock`,
                address: `${name}.c0mock.${region}.rds.amazonaws.com`,
                endpoint: `${name}.c0mock.${region}.rds.amazonaws.com:${inputs.port ?? 5432}`,
                masterUserSecrets: [{ secretArn: `arn:aws:secretsmanager:${region}:${MOCK_ACCOUNT}:secret:rds!db-mock`, secretStatus: "active", kmsKeyId: inputs.masterUserSecretKmsKeyId }],
                arn,
            };
        case "aws:s3/bucket:Bucket":
            { const bucket = inputs.bucket ?? (inputs.bucketPrefix ? `${inputs.bucketPrefix}0mock` : `${name}-0mock`); return { bucket, arn: `arn:aws:s3:::${bucket}` }; }
        case "aws:ec2/launchTemplate:LaunchTemplate":
            return { latestVersion: 1, arn };
        case "aws:kms/key:Key": {
            // Key ids are UUIDs, and IAM matches key ARNs by the key/<id> form.
            const hex = createHash("sha256").update(name).digest("hex");
            const keyId = `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
            return { keyId, arn: `arn:aws:kms:${region}:${MOCK_ACCOUNT}:key/${keyId}` };
        }
        case "aws:iam/role:Role": {
            // IAM is global (no region in the ARN); an unnamed role gets a generated name.
            const roleName = inputs.name ?? `${name}-0mock`;
            return { name: roleName, arn: `arn:aws:iam::${MOCK_ACCOUNT}:role${inputs.path ?? "/"}${roleName}` };
        }
        case "aws:iam/serviceLinkedRole:ServiceLinkedRole": {
            // IAM names it after the service, plus _<suffix> when one is given; its path names the service.
            const base = SERVICE_LINKED_ROLE_NAMES[String(inputs.awsServiceName)];
            if (!base) throw new Error(`Mock not implemented: the service-linked role name of ${inputs.awsServiceName}`);
            const roleName = inputs.customSuffix ? `${base}_${inputs.customSuffix}` : base;
            return { name: roleName, path: `/aws-service-role/${inputs.awsServiceName}/`, arn: `arn:aws:iam::${MOCK_ACCOUNT}:role/aws-service-role/${inputs.awsServiceName}/${roleName}` };
        }
        case "aws:secretsmanager/secret:Secret":
            return { arn: `arn:aws:secretsmanager:${region}:${MOCK_ACCOUNT}:secret:${name}-mock` };
        case "tls:index/privateKey:PrivateKey":
            return { privateKeyPem: MOCK_PRIVATE_KEY_PEM, publicKeyPem: "-----BEGIN PUBLIC KEY-----\nMOCK\n-----END PUBLIC KEY-----\n" };
        case "tls:index/selfSignedCert:SelfSignedCert":
        case "tls:index/locallySignedCert:LocallySignedCert":
            return { certPem: MOCK_CERT_PEM };
        case "random:index/randomPassword:RandomPassword": {
            const result = `mock-password-${name}`;
            // Only the characters the password may contain: a PSK's alphabet is narrow.
            if (inputs.special === true && typeof inputs.overrideSpecial === "string") {
                const allowedChars = new Set([..."abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", ...inputs.overrideSpecial]);
                return { result: [...result].map((c) => (allowedChars.has(c) ? c : [...inputs.overrideSpecial][0] ?? "x")).join("") };
            }
            return { result };
        }
        case "aws:ec2/vpnConnection:VpnConnection": {
            const n = next("vpnConnection");
            const inside = (cidr: unknown, host: number) => (typeof cidr === "string" ? cidr.replace(/\.(\d+)\/30$/, (_, last) => `.${Number(last) + host}`) : undefined);
            return {
                arn,
                // Documentation addresses (RFC 5737), one pair per connection.
                tunnel1Address: `192.0.2.${10 * n + 1}`,
                tunnel2Address: `192.0.2.${10 * n + 2}`,
                tunnel1VgwInsideAddress: inside(inputs.tunnel1InsideCidr, 1),
                tunnel1CgwInsideAddress: inside(inputs.tunnel1InsideCidr, 2),
                tunnel2VgwInsideAddress: inside(inputs.tunnel2InsideCidr, 1),
                tunnel2CgwInsideAddress: inside(inputs.tunnel2InsideCidr, 2),
                transitGatewayAttachmentId: inputs.transitGatewayId ? `tgw-attach-0mock${n}` : undefined,
            };
        }
        case "random:index/randomId:RandomId":
            return { hex: "0a1b2c3d", b64Url: "ChssPQ", dec: "169552957" };
        case "aws:ssm/document:Document":
            return { name: `${name}-0mock`, latestVersion: "1", defaultVersion: "1", arn };
        case "aws:sns/topic:Topic":
            return { arn: `arn:aws:sns:${region}:${MOCK_ACCOUNT}:${name}-0mock` };
        case "aws:cloudwatch/eventRule:EventRule":
            return { arn: `arn:aws:events:${region}:${MOCK_ACCOUNT}:rule/${name}-0mock` };
        case "random:index/randomString:RandomString":
            return { result: "mock".padEnd(inputs.length ?? 8, "0") };
        case "aws:lb/loadBalancer:LoadBalancer":
            return {
                arn: `arn:aws:elasticloadbalancing:${region}:${MOCK_ACCOUNT}:loadbalancer/${inputs.loadBalancerType === "network" ? "net" : "app"}/${name}/0mock`,
                arnSuffix: `${inputs.loadBalancerType === "network" ? "net" : "app"}/${name}/0mock`,
                dnsName: `${name}-0mock.elb.${region}.amazonaws.com`,
                zoneId: "Z2IFOLAFXWLO4F",
            };
        case "aws:lb/targetGroup:TargetGroup":
            return { arn: `arn:aws:elasticloadbalancing:${region}:${MOCK_ACCOUNT}:targetgroup/${name}/0mock`, arnSuffix: `targetgroup/${name}/0mock` };
        case "aws:acm/certificate:Certificate": {
            const names = [inputs.domainName, ...(inputs.subjectAlternativeNames ?? [])].filter((n, i, all) => n && all.indexOf(n) === i);
            return {
                arn: `arn:aws:acm:${region}:${MOCK_ACCOUNT}:certificate/${name}-0mock`,
                domainValidationOptions: names.map((domainName: string) => ({
                    domainName,
                    resourceRecordName: `_0mock.${domainName}.`,
                    resourceRecordType: "CNAME",
                    resourceRecordValue: `_0mock.acm-validations.aws.`,
                })),
            };
        }
        case "aws:acm/certificateValidation:CertificateValidation":
            return { certificateArn: inputs.certificateArn };
        case "aws:ec2clientvpn/endpoint:Endpoint":
            return { arn, dnsName: `*.cvpn-endpoint-0mock.prod.clientvpn.${region}.amazonaws.com` };
        case "aws:route53/record:Record":
            return { fqdn: inputs.name };
        case "aws:ecr/pullThroughCacheRule:PullThroughCacheRule":
            return { registryId: MOCK_ACCOUNT };
        case "aws:cloudwatch/logGroup:LogGroup":
            return { arn: `arn:aws:logs:${region}:${MOCK_ACCOUNT}:log-group:${inputs.name ?? name}`, name: inputs.name ?? name };
        default:
            return { arn };
    }
}

/** A mock subnet's block: the VPC in quarters, public a and b first, then private (or isolated) a and b. */
function mockSubnetCidr(subnetId: string): string {
    const vpc = parseCidr(ctx().vpcCidr ?? "172.17.0.0/16")!;
    const m = /^subnet-(public|private|isolated)-.*([a-z])$/.exec(subnetId);
    const index = (m?.[1] === "public" ? 0 : 2) + (m?.[2] === "b" ? 1 : 0);
    const prefix = vpc.prefix + 2;
    return `${ipv4ToString((vpc.network + index * 2 ** (32 - prefix)) >>> 0)}/${prefix}`;
}

const mocks: pulumi.runtime.Mocks = {
    newResource(args: pulumi.runtime.MockResourceArgs): { id: string | undefined; state: Record<string, any> } {
        const computed = ctx().minimal && args.type !== "awsx:ec2:Vpc" ? {} : computedState(args.type, args.name, args.inputs);
        if (ctx().minimal && args.type === "awsx:ec2:Vpc") {
            delete computed.isolatedSubnetIds;
            delete computed.routeTables;
        }
        const state = { ...args.inputs, ...computed };
        const id = args.custom === false ? "" : `${args.name}-id`;
        const options = ctx().options.get(`${args.type}::${args.name}`);
        ctx().registrations.push({ type: args.type, name: args.name, custom: args.custom !== false, inputs: args.inputs, state, id, options });
        return { id: args.custom === false ? undefined : id, state };
    },
    call(args: pulumi.runtime.MockCallArgs): Record<string, any> {
        const { region } = ctx();
        ctx().invocations.push({ token: args.token, inputs: args.inputs });
        switch (args.token) {
            case "aws:route53/getZone:getZone": {
                const zone = String(args.inputs.name ?? "example.org").replace(/\.$/, "");
                return { id: "Z0MOCKZONE", zoneId: "Z0MOCKZONE", name: zone, privateZone: false, nameServers: ["ns-1.awsdns-00.org"] };
            }
            case "aws:ec2/getManagedPrefixList:getManagedPrefixList": {
                const prefixName = String(args.inputs.name ?? "");
                return { id: "pl-0mockr53hc", name: prefixName, maxEntries: 25, addressFamily: "IPv4", entries: [{ cidr: "15.177.0.0/18", description: "" }] };
            }
            case "aws:index/getCallerIdentity:getCallerIdentity":
                return { accountId: MOCK_ACCOUNT, arn: `arn:aws:iam::${MOCK_ACCOUNT}:user/mock`, id: MOCK_ACCOUNT, userId: "AIDAMOCK" };
            case "aws:index/getPartition:getPartition":
                return { partition: "aws", dnsSuffix: "amazonaws.com", id: "aws" };
            case "aws:index/getRegion:getRegion":
                return { name: region, region, id: region, description: region, endpoint: `ec2.${region}.amazonaws.com` };
            case "aws:ec2transitgateway/getTransitGateway:getTransitGateway":
                return { id: args.inputs.id, arn: `arn:aws:ec2:${region}:${MOCK_ACCOUNT}:transit-gateway/${args.inputs.id}`, associationDefaultRouteTableId: "tgw-rtb-0mock", amazonSideAsn: 64512 };
            case "aws:ec2/getSubnet:getSubnet":
                return { id: args.inputs.id, cidrBlock: mockSubnetCidr(String(args.inputs.id ?? "")) };
            case "aws:ec2/getInstances:getInstances": {
                // The instance a slot's group launched: one per group.
                const group = ((args.inputs.filters ?? []) as { name: string; values: string[] }[]).find((f) => f.name === "tag:aws:autoscaling:groupName")?.values?.[0] ?? "mock";
                return { ids: [`i-${group}`], privateIps: [], publicIps: [] };
            }
            case "aws:elb/getServiceAccount:getServiceAccount":
                return { arn: "arn:aws:iam::156460612806:root", id: "156460612806" };
        }
        throw new Error(`Mock not implemented: ${args.token}`);
    },
};

// Remember each call's answer: the offline plan names looked-up things (prefix lists) by what the lookup returned.
const answer = mocks.call.bind(mocks);
mocks.call = (args: pulumi.runtime.MockCallArgs) => {
    const outputs = answer(args);
    const invocations = ctx().invocations;
    invocations[invocations.length - 1].outputs = outputs;
    return outputs;
};

// Resolves once every registration started so far (and any it starts) has been answered.
// eslint-disable-next-line @typescript-eslint/no-var-requires
const { waitForRPCs, getMonitor } = require("@pulumi/pulumi/runtime/settings") as { waitForRPCs: () => Promise<void>; getMonitor: () => any };

/** urn:pulumi:<stack>::<project>::<parent types>$<type>::<name> -> `<type>::<name>`. */
function typeAndName(urn: string): string {
    const [types, name] = urn.split("::").slice(-2);
    return `${types.split("$").pop()}::${name}`;
}

// The mocks see only type, name and inputs; the monitor's request also carries the resource options and which
// resources each input came from. Record those, keyed like the registrations.
function recordOptions(): void {
    const monitor = getMonitor();
    const register = monitor.registerResource.bind(monitor);
    monitor.registerResource = (req: any, callback: unknown) => {
        const timeouts = req.getCustomtimeouts();
        const propertyDependencies: Record<string, string[]> = {};
        req.getPropertydependenciesMap().forEach((deps: any, property: string) => {
            propertyDependencies[property] = deps.getUrnsList().map(typeAndName);
        });
        ctx().options.set(`${req.getType()}::${req.getName()}`, {
            customTimeouts: timeouts && (timeouts.getCreate() || timeouts.getUpdate() || timeouts.getDelete())
                ? { create: timeouts.getCreate(), update: timeouts.getUpdate(), delete: timeouts.getDelete() }
                : undefined,
            protect: req.getProtect() ?? false,
            retainOnDelete: req.getRetainondelete() ?? false,
            deleteBeforeReplace: req.getDeletebeforereplace(),
            ignoreChanges: req.getIgnorechangesList(),
            replaceOnChanges: req.getReplaceonchangesList(),
            dependencies: req.getDependenciesList().map(typeAndName),
            propertyDependencies,
        });
        return register(req, callback);
    };
}

export function promiseOf<T>(output: pulumi.Output<T>): Promise<T> {
    return new Promise((resolve) => output.apply((v) => resolve(v)));
}

/** Resolves every Output in a record (one level deep), remembering which ones are secrets. */
export async function resolveOutputs(outputs: Record<string, unknown>): Promise<{ values: Record<string, unknown>; secrets: Set<string> }> {
    const values: Record<string, unknown> = {};
    const secrets = new Set<string>();
    for (const [key, value] of Object.entries(outputs)) {
        if (pulumi.Output.isInstance(value)) {
            values[key] = await promiseOf(value as pulumi.Output<unknown>);
            if (await pulumi.isSecret(value as pulumi.Output<unknown>)) secrets.add(key);
        } else if (value !== undefined) {
            values[key] = value;
        }
    }
    return { values, secrets };
}

export interface MockRun<T> {
    readonly result: T;
    readonly registrations: Registration[];
    readonly invocations: Invocation[];
    /** What the program said with pulumi.log.warn (collected, not printed: the caller decides). */
    readonly warnings: string[];
}

let queue: Promise<unknown> = Promise.resolve();

/** runtime/debuggable.js's debuggablePromise, which the SDK does not type for its users. */
export type DebuggablePromise = <T>(p: Promise<T>, ctx?: unknown) => Promise<T>;

/**
 * The SDK passes every promise it makes through runtime/debuggable.js's debuggablePromise: it adds the promise to the
 * run's leak candidates until it settles (the SDK's check at exit reports those left), and gives it three debug
 * properties (an id, a label, a stack trace) that only PULUMI_DEBUG_PROMISE_LEAKS ever prints. Defining them on
 * thousands of promises is about a tenth of a mocked build's CPU. For the run, this keeps the leak candidates as the
 * SDK does and leaves the debug properties out, unless that variable asks for them. Returns how to put it back.
 */
function leanDebuggablePromises(): { restore(): void } {
    if (process.env.PULUMI_DEBUG_PROMISE_LEAKS) return { restore: () => undefined };
    // eslint-disable-next-line @typescript-eslint/no-var-requires
    const debuggable = require("@pulumi/pulumi/runtime/debuggable") as { debuggablePromise: DebuggablePromise };
    // eslint-disable-next-line @typescript-eslint/no-var-requires
    const state = require("@pulumi/pulumi/runtime/state") as { getStore(): { leakCandidates: Set<Promise<unknown>> } };
    const original = debuggable.debuggablePromise;
    // The SDK's own first call schedules its exit check; the rest are the same bookkeeping, without the properties.
    void original(Promise.resolve(), "orthweb mockRuntime: schedules the SDK's leak check at exit");
    debuggable.debuggablePromise = <T>(p: Promise<T>) => {
        const candidates = state.getStore().leakCandidates;
        candidates.add(p);
        return p
            .then((value) => {
                candidates.delete(p);
                return value;
            })
            .catch((err) => {
                candidates.delete(p);
                err.promise = p;
                throw err;
            });
    };
    return { restore: () => void (debuggable.debuggablePromise = original) };
}

/**
 * Builds a program under mocks as stack `stack` and waits for every registration. Runs are serialised:
 * the mocks are process-wide.
 */
export function runUnderMocks<T>(options: { stack: string; region: string; project?: string; minimal?: boolean }, build: () => T): Promise<MockRun<T>> {
    const run = queue.then(async () => {
        context = { region: options.region, minimal: options.minimal ?? false, registrations: [], invocations: [], counters: new Map(), options: new Map() };
        await pulumi.runtime.setMocks(mocks, options.project ?? "orthweb", options.stack, false);
        recordOptions();
        // The SDK records a stack trace for every promise it makes (leak diagnostics); under ts-node each one is
        // source-mapped, which is most of a mocked build's time. Nothing reads them here.
        const stackTraceLimit = Error.stackTraceLimit;
        Error.stackTraceLimit = 0;
        // Each resource's constructor also takes a full stack trace (its source position, sent to the engine; the
        // mocks ignore it): about a tenth of a mocked build's CPU.
        const resourceClass = pulumi.Resource as unknown as { callsites: () => unknown[] };
        const callsites = resourceClass.callsites;
        resourceClass.callsites = () => [];
        const debuggable = leanDebuggablePromises();
        // Without an engine the SDK prints warnings to stderr; here they are collected for the caller.
        const warnings: string[] = [];
        const warn = pulumi.log.warn;
        pulumi.log.warn = async (message: string) => void warnings.push(message);
        try {
            const result = build();
            await waitForRPCs();
            return { result, registrations: context.registrations, invocations: context.invocations, warnings };
        } finally {
            await waitForRPCs().catch(() => undefined);
            pulumi.log.warn = warn;
            Error.stackTraceLimit = stackTraceLimit;
            resourceClass.callsites = callsites;
            debuggable.restore();
        }
    });
    queue = run.catch(() => undefined);
    return run;
}

// DnsFrontDoor: one name in the user's public hosted zone that resolves to both instances' Elastic IPs.
// Route 53 health-checks each instance (HTTPS /healthz on 443 and TCP on 11112, combined in a calculated check)
// and answers only with healthy instances: multivalue, weighted or failover routing, never simple.
// The instances keep 443/11112 open to the client blocks, and to the health checkers through their prefix list:
// without that every check fails, Route 53 fails open, and failover never happens.
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { dnsFailoverSeconds, FailoverSummary } from "../rules/failover";
import { clientCidrIngress, createCidrIngress } from "./ingress";
import { Tags, tagsFor } from "./naming";
import { frontDoorName, DNS_DEFAULT_TTL, DNS_RECOMMENDED_MAX_TTL } from "../rules/dnsName";
import { DICOM_PORT, HEALTH_PATH, WEB_PORT } from "../rules/ports";

export type DnsRouting = "multivalue" | "weighted" | "failover";

export interface DnsHealthCheckSettings {
    /** Seconds between checks from each checker: 10 or 30 (Route 53 cannot change it later). @default 10 */
    readonly intervalSeconds: 10 | 30;
    /** Consecutive failures before an endpoint is unhealthy, 1..10. @default 2 */
    readonly failureThreshold: number;
}

export interface DnsFrontDoorArgs {
    /** The region of the instances: names the health checkers' prefix list. */
    readonly region: string;
    /** An existing public hosted zone, e.g. example.org. */
    readonly zoneName: string;
    /** The name under the zone, e.g. pacs for pacs.example.org. */
    readonly recordName: string;
    /** @default "multivalue" */
    readonly routing?: DnsRouting;
    /** @default 60 */
    readonly ttlSeconds?: number;
    /** @default { intervalSeconds: 10, failureThreshold: 2 } */
    readonly healthCheck?: DnsHealthCheckSettings;
    /** The OrthancPair's instance security group. */
    readonly securityGroupId: pulumi.Input<string>;
    /** Each instance's Elastic IP, in instance order: the first is PRIMARY with failover routing. */
    readonly instanceIps: pulumi.Input<string>[];
    readonly webClientCidrs: readonly string[];
    readonly dicomClientCidrs: readonly string[];
    readonly tags?: Tags;
}

export const DEFAULT_DNS_HEALTH_CHECK: DnsHealthCheckSettings = { intervalSeconds: 10, failureThreshold: 2 };
export const DEFAULT_DNS_TTL = DNS_DEFAULT_TTL;
/** Route 53 returns at most 8 healthy records to a multivalue query. */
export const MULTIVALUE_MAX_ANSWERS = 8;
/** Equal weights: each instance gets the same share of answers. */
export const EQUAL_WEIGHT = 1;

/** An endpoint health check per instance, before it is bound to an address. */
export interface EndpointCheck {
    readonly role: "https" | "dicom";
    readonly type: "HTTPS" | "TCP";
    readonly port: number;
    readonly resourcePath?: string;
    readonly fqdn?: string;
    readonly enableSni?: boolean;
}

/**
 * What is checked on every instance: the web health signal on 443 (with SNI and the front-door name, so nginx sees
 * what a browser sends) and the DICOM listener on 11112. Pure.
 */
export function endpointChecks(fqdn: string): EndpointCheck[] {
    return [
        { role: "https", type: "HTTPS", port: WEB_PORT, resourcePath: HEALTH_PATH, fqdn, enableSni: true },
        { role: "dicom", type: "TCP", port: DICOM_PORT },
    ];
}

/** The AWS-managed prefix list of the Route 53 health checkers' addresses, as named in every region. */
export function route53HealthCheckersPrefixList(region: string): string {
    return `com.amazonaws.${region}.route53-healthchecks`;
}

/** The ports the health checkers must reach: exactly those the checks use. Pure. */
export function checkedPorts(fqdn: string): number[] {
    return [...new Set(endpointChecks(fqdn).map((c) => c.port))];
}

/** The routing part of each instance's record (instance order). Pure. */
export function routingPolicies(routing: DnsRouting, instances: number): Array<Partial<aws.route53.RecordArgs>> {
    return Array.from({ length: instances }, (_, i) => {
        switch (routing) {
            case "multivalue":
                return { multivalueAnswerRoutingPolicy: true };
            case "weighted":
                return { weightedRoutingPolicies: [{ weight: EQUAL_WEIGHT }] };
            case "failover":
                return { failoverRoutingPolicies: [{ type: i === 0 ? "PRIMARY" : "SECONDARY" }] };
        }
    });
}

/** Why these args cannot be built, or []. Exported for testing; the stack config already rules these out. */
export function dnsFrontDoorProblems(args: Pick<DnsFrontDoorArgs, "routing" | "ttlSeconds" | "healthCheck" | "instanceIps">): string[] {
    const problems: string[] = [];
    const routing = args.routing ?? "multivalue";
    const n = args.instanceIps.length;
    if (n === 0) problems.push("instanceIps: at least one instance address is needed");
    if (routing === "failover" && n !== 2) problems.push(`instanceIps: failover routing needs exactly 2 instances (PRIMARY, SECONDARY), got ${n}`);
    if (routing === "multivalue" && n > MULTIVALUE_MAX_ANSWERS) problems.push(`instanceIps: multivalue answers with at most ${MULTIVALUE_MAX_ANSWERS} records, got ${n}`);
    const hc = args.healthCheck ?? DEFAULT_DNS_HEALTH_CHECK;
    if (hc.intervalSeconds !== 10 && hc.intervalSeconds !== 30) problems.push(`healthCheck.intervalSeconds: allowed 10 | 30, got ${hc.intervalSeconds}`);
    if (!Number.isInteger(hc.failureThreshold) || hc.failureThreshold < 1 || hc.failureThreshold > 10) {
        problems.push(`healthCheck.failureThreshold: allowed 1..10, got ${hc.failureThreshold}`);
    }
    const ttl = args.ttlSeconds ?? DEFAULT_DNS_TTL;
    if (!Number.isInteger(ttl) || ttl < 0) problems.push(`ttlSeconds: allowed a whole number of seconds, got ${ttl}`);
    return problems;
}

/** The failover estimate the stack outputs, with what it leaves out. Pure. */
export function dnsFailover(routing: DnsRouting, hc: DnsHealthCheckSettings, ttlSeconds: number): FailoverSummary {
    const worstCaseSeconds = dnsFailoverSeconds({ ...hc, ttlSeconds });
    const moves =
        routing === "failover"
            ? "Route 53 then answers with the SECONDARY instance (and back with the PRIMARY once it is healthy again)"
            : "Route 53 then leaves the failed instance out of its answers";
    const ttlNote =
        ttlSeconds > DNS_RECOMMENDED_MAX_TTL ? ` The TTL of ${ttlSeconds} s is above the ${DNS_RECOMMENDED_MAX_TTL} s AWS recommends with health checks.` : "";
    return {
        worstCaseSeconds,
        breakdown:
            `${hc.intervalSeconds} s x ${hc.failureThreshold} failed checks + ${hc.intervalSeconds} s for Route 53 to act + ${ttlSeconds} s TTL ` +
            `= ${worstCaseSeconds} s. ${moves}.`,
        note:
            "Clients that cache DNS answers longer than the TTL take longer: DICOM devices (modalities, PACS) often resolve the name once " +
            "and keep the address until they are restarted, so restart or re-associate them after a failover." +
            ttlNote,
    };
}

export class DnsFrontDoor extends pulumi.ComponentResource {
    /** The front-door name clients use, e.g. pacs.example.org. */
    public readonly fqdn: string;
    public readonly zoneId: pulumi.Output<string>;
    /** Per instance: the calculated check that the record uses (healthy when both web and DICOM answer). */
    public readonly healthCheckIds: pulumi.Output<string>[];
    public readonly recordFqdns: pulumi.Output<string>[];
    public readonly failover: FailoverSummary;
    public readonly ruleIds: pulumi.Output<string>[];

    constructor(name: string, args: DnsFrontDoorArgs, opts: pulumi.ComponentResourceOptions = {}) {
        super("orthweb:index:DnsFrontDoor", name, {}, opts);
        const routing = args.routing ?? "multivalue";
        const ttl = args.ttlSeconds ?? DEFAULT_DNS_TTL;
        const hc = args.healthCheck ?? DEFAULT_DNS_HEALTH_CHECK;
        const tags = args.tags ?? {};
        const parent = { parent: this };

        const problems = dnsFrontDoorProblems(args);
        if (problems.length > 0) throw new Error(`DnsFrontDoor ${name}: ${problems.join("; ")}`);

        this.fqdn = frontDoorName(args);
        this.failover = dnsFailover(routing, hc, ttl);

        // Public zone only: a private zone of the same name would answer inside a VPC, not to clients.
        const zone = aws.route53.getZoneOutput({ name: args.zoneName, privateZone: false }, parent);
        this.zoneId = zone.zoneId;

        // Client blocks as in direct, plus the health checkers on exactly the ports they check.
        const clientRules = createCidrIngress(name, args.securityGroupId, clientCidrIngress(args.webClientCidrs, args.dicomClientCidrs), tags, this);
        const checkersList = route53HealthCheckersPrefixList(args.region);
        const checkers = aws.ec2.getManagedPrefixListOutput({ name: checkersList }, parent);
        const checkerRules = checkedPorts(this.fqdn).map((port) => {
            const ruleName = `${name}-healthcheckers-${port}`;
            return new aws.vpc.SecurityGroupIngressRule(
                ruleName,
                {
                    securityGroupId: args.securityGroupId,
                    ipProtocol: "tcp",
                    fromPort: port,
                    toPort: port,
                    prefixListId: checkers.id,
                    description: `Route 53 health checkers (${checkersList}) on ${port}`,
                    tags: tagsFor(ruleName, tags),
                },
                parent,
            );
        });
        this.ruleIds = [...clientRules, ...checkerRules].map((r) => r.id);

        const policies = routingPolicies(routing, args.instanceIps.length);
        const healthChecks: aws.route53.HealthCheck[] = [];
        const records = args.instanceIps.map((ip, i) => {
            const instance = `${name}-${i + 1}`;
            const children = endpointChecks(this.fqdn).map((check) => {
                const checkName = `${instance}-${check.role}`;
                return new aws.route53.HealthCheck(
                    checkName,
                    {
                        type: check.type,
                        ipAddress: ip,
                        port: check.port,
                        resourcePath: check.resourcePath,
                        fqdn: check.fqdn,
                        enableSni: check.enableSni,
                        requestInterval: hc.intervalSeconds,
                        failureThreshold: hc.failureThreshold,
                        tags: tagsFor(checkName, tags),
                    },
                    { parent: this, dependsOn: checkerRules },
                );
            });
            // Healthy only when every child is: an instance whose web answers but whose DICOM does not is down.
            const combined = new aws.route53.HealthCheck(
                instance,
                {
                    type: "CALCULATED",
                    childHealthchecks: children.map((c) => c.id),
                    childHealthThreshold: children.length,
                    tags: tagsFor(instance, tags),
                },
                parent,
            );
            healthChecks.push(combined);
            return new aws.route53.Record(
                instance,
                {
                    zoneId: this.zoneId,
                    name: this.fqdn,
                    type: "A",
                    ttl,
                    records: [ip],
                    setIdentifier: instance,
                    healthCheckId: combined.id,
                    // A record of this name that is already in the zone is the user's: fail rather than take it over.
                    allowOverwrite: false,
                    ...policies[i],
                },
                parent,
            );
        });
        this.healthCheckIds = healthChecks.map((c) => c.id);
        this.recordFqdns = records.map((r) => r.fqdn);

        this.registerOutputs({
            fqdn: this.fqdn,
            zoneId: this.zoneId,
            healthCheckIds: this.healthCheckIds,
            recordFqdns: this.recordFqdns,
            failover: this.failover,
        });
    }
}

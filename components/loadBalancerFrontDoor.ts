// LoadBalancerFrontDoor: one name for both Orthanc instances, automatic failover by health checks, and
// instances reachable only from the load balancers' security groups.
//   network:     one NLB carrying HTTPS 443 and DICOM 11112.
//   application: an ALB (HTTPS 443, 80 -> 443, WAF, access logs) and a companion NLB for DICOM 11112.
// With a certificate (ACM, validated in the user's zone, or given by ARN) the listeners terminate TLS;
// without one they pass TCP through and clients see the instances' own certificate.
import { FailoverSummary } from "../rules/failover";
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { createCidrIngress } from "./ingress";
import {
    ACCESS_LOG_PREFIX,
    ACCESS_LOG_RETENTION_DAYS,
    ALB_IDLE_TIMEOUT_SECONDS,
    certificateDomains,
    clientIngress,
    DICOM_DEREGISTRATION_DELAY_SECONDS,
    DicomTls,
    effectiveDicomTls,
    frontDoorNames,
    HealthCheckSettings,
    instancePorts,
    ListenerSpec,
    listenerLayout,
    loadBalancerFailover,
    LoadBalancerRole,
    loadBalancersOf,
    LoadBalancerType,
    targetHealthCheck,
    TLS_SSL_POLICY,
    unhealthyTargetHandling,
    usesElbAccount,
    WEB_DEREGISTRATION_DELAY_SECONDS,
    WAF_REDACTED_HEADERS,
    webAclRules,
} from "../rules/loadBalancerLayout";
import { LogWriter, loadBalancerLogsAccess, NLB_ACCESS_LOG_PREFIX, WAF_LOG_NAME_PREFIX } from "../rules/audit";
import { createLogBucket, LogBucket } from "./logBucket";
import { Tags, tagsFor } from "./naming";

export const DEFAULT_HEALTH_CHECK: HealthCheckSettings = { intervalSeconds: 5, healthyThreshold: 3, unhealthyThreshold: 2 };

export interface LoadBalancerFrontDoorArgs {
    readonly type: LoadBalancerType;
    readonly scheme: "internet-facing" | "internal";
    readonly environment: "dev" | "prod";
    readonly region: string;
    readonly vpcId: pulumi.Input<string>;
    /** Where an internet-facing load balancer lives (one subnet per AZ). */
    readonly publicSubnetIds: pulumi.Input<string[]>;
    /** The instances' subnets; an internal load balancer lives there. */
    readonly privateSubnetIds: pulumi.Input<string[]>;
    /** The OrthancPair's instance security group: this component adds its only ingress. */
    readonly instanceSecurityGroupId: pulumi.Input<string>;
    /** Each instance's slot (an Auto Scaling group of one): attached to every target group. */
    readonly slotGroupNames: pulumi.Input<string>[];
    readonly webClientCidrs: readonly string[];
    readonly dicomClientCidrs: readonly string[];
    /** An existing public hosted zone: alias records, and an ACM certificate validated there. @default none */
    readonly zoneName?: string;
    /** @default "pacs" */
    readonly recordName?: string;
    /** The companion DICOM NLB's record (application only). @default `${recordName}-dicom` */
    readonly dicomRecordName?: string;
    /** An existing ACM certificate in `region`, used instead of requesting one. @default none */
    readonly certificateArn?: string;
    /** A WAF web ACL on the ALB (application only). @default true */
    readonly waf?: boolean;
    /** Where DICOM TLS ends when there is a certificate. @default "terminate" */
    readonly dicomTls?: DicomTls;
    /** Days access logs and WAF logs are kept. @default ACCESS_LOG_RETENTION_DAYS (365 in prod, 30 in dev) */
    readonly logRetentionDays?: number;
    /** @default DEFAULT_HEALTH_CHECK (5 s, 3 healthy, 2 unhealthy: out within 10 s) */
    readonly healthCheck?: HealthCheckSettings;
    readonly tags?: Tags;
}

export class LoadBalancerFrontDoor extends pulumi.ComponentResource {
    /** What browsers open: the alias in the zone, else the web load balancer's DNS name. */
    public readonly webHost: pulumi.Output<string>;
    /** What modalities are configured with. */
    public readonly dicomHost: pulumi.Output<string>;
    public readonly loadBalancerArns: pulumi.Output<string>[];
    public readonly securityGroupIds: pulumi.Output<string>[];
    /** The certificate the listeners use; undefined when TLS passes through. */
    public readonly certificateArn?: pulumi.Output<string>;
    public readonly webAclArn?: pulumi.Output<string>;
    public readonly accessLogBucket?: pulumi.Output<string>;
    /** Where the web ACL's logs land (named aws-waf-logs-*). */
    public readonly wafLogBucket?: pulumi.Output<string>;
    /** Whether TLS ends at the load balancer, per traffic kind (else clients see the instances' certificate). */
    public readonly terminatesTls: { readonly web: boolean; readonly dicom: boolean };
    /** Worst case from an instance failing to the load balancer no longer sending it traffic, explained. */
    public readonly failover: FailoverSummary;
    /** Every target group the instances are registered in, with what CloudWatch names it by (for the alarms). */
    public readonly targetGroups: {
        readonly role: string;
        readonly loadBalancerType: "network" | "application";
        readonly loadBalancerArnSuffix: pulumi.Output<string>;
        readonly targetGroupArnSuffix: pulumi.Output<string>;
    }[] = [];

    constructor(name: string, args: LoadBalancerFrontDoorArgs, opts: pulumi.ComponentResourceOptions = {}) {
        super("orthweb:index:LoadBalancerFrontDoor", name, {}, opts);
        const recordName = args.recordName ?? "pacs";
        const waf = args.waf ?? true;
        const dicomTls = args.dicomTls ?? "terminate";
        const healthCheck = args.healthCheck ?? DEFAULT_HEALTH_CHECK;
        const tags = args.tags ?? {};
        const prod = args.environment === "prod";
        if (args.type === "application" && !args.zoneName && !args.certificateArn) {
            throw new Error(`${name}: an application load balancer serves HTTPS only; give zoneName (an ACM certificate is requested) or certificateArn`);
        }

        const names = frontDoorNames({ type: args.type, zoneName: args.zoneName, recordName, dicomRecordName: args.dicomRecordName });
        const zone = args.zoneName ? aws.route53.getZoneOutput({ name: args.zoneName, privateZone: false }, { parent: this }) : undefined;
        const certificateArn = args.certificateArn ? pulumi.output(args.certificateArn) : zone ? this.requestCertificate(name, certificateDomains(names), zone.zoneId, tags) : undefined;
        const layout = listenerLayout(args.type, certificateArn !== undefined, dicomTls);
        const roles = loadBalancersOf(layout);
        const retentionDays = args.logRetentionDays ?? ACCESS_LOG_RETENTION_DAYS[args.environment];
        const logging = roles.filter((role) => loadBalancerLogsAccess(role, layout.filter((l) => l.loadBalancer === role).map((l) => l.protocol)));
        const logs = logging.length > 0 ? this.createAccessLogBucket(name, args.region, prod, retentionDays, logging, tags) : undefined;

        const securityGroups = new Map<LoadBalancerRole, aws.ec2.SecurityGroup>();
        const loadBalancers = new Map<LoadBalancerRole, aws.lb.LoadBalancer>();
        for (const role of roles) {
            const sg = this.createSecurityGroup(name, role, args, layout, tags);
            securityGroups.set(role, sg);
            const lb = new aws.lb.LoadBalancer(
                `${name}-${role}`,
                {
                    loadBalancerType: role === "alb" ? "application" : "network",
                    internal: args.scheme === "internal",
                    subnets: args.scheme === "internal" ? args.privateSubnetIds : args.publicSubnetIds,
                    // An NLB created without security groups can never get them: always at creation.
                    securityGroups: [sg.id],
                    enableDeletionProtection: prod,
                    ...(role === "nlb"
                        ? // One instance per AZ: without cross-zone, losing one blackholes that AZ's NLB address.
                          { enableCrossZoneLoadBalancing: true }
                        : { dropInvalidHeaderFields: true, idleTimeout: ALB_IDLE_TIMEOUT_SECONDS }),
                    ...(logs && logging.includes(role)
                        ? { accessLogs: { bucket: logs.bucket.bucket, prefix: role === "alb" ? ACCESS_LOG_PREFIX : NLB_ACCESS_LOG_PREFIX, enabled: true } }
                        : {}),
                    tags: tagsFor(`${name}-${role}`, tags),
                },
                // AWS test-writes to the log bucket when logging is enabled: the policy must exist first.
                { parent: this, dependsOn: logs && logging.includes(role) ? [logs.policy] : [] },
            );
            loadBalancers.set(role, lb);
        }

        for (const listener of layout) {
            this.createListener(name, listener, loadBalancers.get(listener.loadBalancer)!, certificateArn, args, healthCheck, tags);
        }

        let webAclArn: pulumi.Output<string> | undefined;
        let wafLogBucket: aws.s3.Bucket | undefined;
        const alb = loadBalancers.get("alb");
        if (alb && waf) {
            const acl = new aws.wafv2.WebAcl(
                `${name}-waf`,
                {
                    description: `${name}: AWS managed rules in front of Orthanc`,
                    scope: "REGIONAL",
                    defaultAction: { allow: {} },
                    rules: webAclRules(`${name}-waf`),
                    visibilityConfig: { cloudwatchMetricsEnabled: true, sampledRequestsEnabled: true, metricName: `${name}-waf` },
                    tags: tagsFor(`${name}-waf`, tags),
                },
                { parent: this },
            );
            new aws.wafv2.WebAclAssociation(`${name}-waf`, { resourceArn: alb.arn, webAclArn: acl.arn }, { parent: this });
            webAclArn = acl.arn;
            wafLogBucket = this.createWafLogging(name, acl, prod, retentionDays, tags);
        }

        // The alias for each load balancer: the ALB carries the web name, the NLB the DICOM name (on one NLB, both).
        const hostOf = (role: LoadBalancerRole): pulumi.Output<string> => {
            const lb = loadBalancers.get(role)!;
            const alias = role === "alb" ? names.web : names.dicom;
            if (!zone || !alias) return lb.dnsName;
            const record = new aws.route53.Record(
                `${name}-${role}`,
                { zoneId: zone.zoneId, name: alias, type: "A", aliases: [{ name: lb.dnsName, zoneId: lb.zoneId, evaluateTargetHealth: true }] },
                { parent: this },
            );
            return record.name;
        };
        const hosts = new Map(roles.map((role) => [role, hostOf(role)]));
        const webRole = layout.find((l) => l.role === "web")!.loadBalancer;

        this.webHost = hosts.get(webRole)!;
        this.dicomHost = hosts.get("nlb")!;
        this.loadBalancerArns = roles.map((role) => loadBalancers.get(role)!.arn);
        this.securityGroupIds = roles.map((role) => securityGroups.get(role)!.id);
        this.certificateArn = certificateArn;
        this.webAclArn = webAclArn;
        this.accessLogBucket = logs?.bucket.bucket;
        this.wafLogBucket = wafLogBucket?.bucket;
        this.terminatesTls = {
            web: certificateArn !== undefined,
            dicom: effectiveDicomTls(certificateArn !== undefined, dicomTls) === "terminate",
        };
        this.failover = loadBalancerFailover(healthCheck);
        this.registerOutputs({
            webHost: this.webHost,
            dicomHost: this.dicomHost,
            loadBalancerArns: this.loadBalancerArns,
            securityGroupIds: this.securityGroupIds,
            certificateArn: this.certificateArn,
            webAclArn: this.webAclArn,
        });
    }

    /**
     * The load balancer's group: its listener ports from the client blocks; egress only to the instances, on
     * the target and health-check ports (NLB health checks obey it too). The instance group accepts exactly
     * those ports from this group: never a CIDR, since an NLB keeps the client's address.
     */
    private createSecurityGroup(name: string, role: LoadBalancerRole, args: LoadBalancerFrontDoorArgs, layout: ListenerSpec[], tags: Tags) {
        const ports = instancePorts(layout, role);
        const sg = new aws.ec2.SecurityGroup(
            `${name}-${role}`,
            {
                vpcId: args.vpcId,
                description: `${name}: ${role === "alb" ? "Application" : "Network"} Load Balancer in front of Orthanc`,
                egress: ports.map((port) => ({
                    protocol: "tcp",
                    fromPort: port,
                    toPort: port,
                    securityGroups: [args.instanceSecurityGroupId],
                    description: `To the Orthanc instances on ${port}`,
                })),
                tags: tagsFor(`${name}-${role}`, tags),
            },
            { parent: this },
        );
        const clients = clientIngress(layout, args.webClientCidrs, args.dicomClientCidrs).filter((r) => r.loadBalancer === role);
        createCidrIngress(`${name}-${role}`, sg.id, clients, tags, this);
        for (const port of ports) {
            const ruleName = `${name}-${role}-to-instances-${port}`;
            new aws.vpc.SecurityGroupIngressRule(
                ruleName,
                {
                    securityGroupId: args.instanceSecurityGroupId,
                    referencedSecurityGroupId: sg.id,
                    ipProtocol: "tcp",
                    fromPort: port,
                    toPort: port,
                    description: `${port} from the ${role === "alb" ? "application" : "network"} load balancer (traffic and health checks)`,
                    tags: tagsFor(ruleName, tags),
                },
                { parent: this },
            );
        }
        return sg;
    }

    private createListener(
        name: string,
        spec: ListenerSpec,
        lb: aws.lb.LoadBalancer,
        certificateArn: pulumi.Output<string> | undefined,
        args: LoadBalancerFrontDoorArgs,
        healthCheck: HealthCheckSettings,
        tags: Tags,
    ) {
        const parent = { parent: this };
        let defaultActions: aws.types.input.lb.ListenerDefaultAction[];
        if (spec.target) {
            const nlb = spec.loadBalancer === "nlb";
            const group = new aws.lb.TargetGroup(
                `${name}-${spec.role}`,
                {
                    vpcId: args.vpcId,
                    targetType: "instance",
                    protocol: spec.target.protocol,
                    port: spec.target.port,
                    healthCheck: targetHealthCheck(healthCheck),
                    deregistrationDelay: spec.role === "dicom" ? DICOM_DEREGISTRATION_DELAY_SECONDS : WEB_DEREGISTRATION_DELAY_SECONDS,
                    // nginx on the instances does not parse PROXY headers.
                    ...(nlb ? { proxyProtocolV2: false, targetHealthStates: [unhealthyTargetHandling(spec.role as "web" | "dicom")] } : {}),
                    tags: tagsFor(`${name}-${spec.role}`, tags),
                },
                parent,
            );
            this.targetGroups.push({ role: spec.role, loadBalancerType: nlb ? "network" : "application", loadBalancerArnSuffix: lb.arnSuffix, targetGroupArnSuffix: group.arnSuffix });
            // Each slot's group registers whichever instance holds the slot (a replacement too), on the group's port.
            args.slotGroupNames.forEach(
                (groupName, i) => new aws.autoscaling.Attachment(`${name}-${spec.role}-${i + 1}`, { autoscalingGroupName: groupName, lbTargetGroupArn: group.arn }, parent),
            );
            defaultActions = [{ type: "forward", targetGroupArn: group.arn }];
        } else {
            defaultActions = [{ type: "redirect", redirect: { protocol: "HTTPS", port: "443", statusCode: "HTTP_301" } }];
        }
        const tls = spec.protocol === "TLS" || spec.protocol === "HTTPS";
        return new aws.lb.Listener(
            `${name}-${spec.role}`,
            {
                loadBalancerArn: lb.arn,
                port: spec.port,
                protocol: spec.protocol,
                // No alpnPolicy: DICOM is not HTTP, and the web listener serves HTTP/1.1 to nginx either way.
                ...(tls ? { certificateArn, sslPolicy: TLS_SSL_POLICY } : {}),
                ...(spec.tcpIdleTimeoutSeconds !== undefined ? { tcpIdleTimeoutSeconds: spec.tcpIdleTimeoutSeconds } : {}),
                defaultActions,
                tags: tagsFor(`${name}-${spec.role}`, tags),
            },
            parent,
        );
    }

    /** An ACM certificate for the front-door names, validated by one CNAME per name in the zone. */
    private requestCertificate(name: string, domains: string[], zoneId: pulumi.Output<string>, tags: Tags): pulumi.Output<string> {
        const parent = { parent: this };
        const certificate = new aws.acm.Certificate(
            `${name}-cert`,
            { domainName: domains[0], subjectAlternativeNames: domains.slice(1), validationMethod: "DNS", tags: tagsFor(`${name}-cert`, tags) },
            parent,
        );
        const records = domains.map((domain, i) => {
            // ACM always answers one option per name; bare test mocks may not, and the program must stay total there.
            const option = certificate.domainValidationOptions.apply((options) => (options ?? []).find((o) => o.domainName === domain) ?? ({} as Partial<aws.types.output.acm.CertificateDomainValidationOption>));
            return new aws.route53.Record(
                `${name}-cert-${i + 1}`,
                {
                    zoneId,
                    name: option.apply((o) => o.resourceRecordName ?? ""),
                    type: option.apply((o) => o.resourceRecordType ?? "CNAME"),
                    records: [option.apply((o) => o.resourceRecordValue ?? "")],
                    ttl: 60,
                    // A record left by an earlier stack or a previous certificate for the same name is the same record.
                    allowOverwrite: true,
                },
                parent,
            );
        });
        // Listeners take the validated ARN: the certificate's own ARN is usable before validation ends (UnsupportedCertificate).
        const validation = new aws.acm.CertificateValidation(`${name}-cert`, { certificateArn: certificate.arn, validationRecordFqdns: records.map((r) => r.fqdn) }, parent);
        return validation.certificateArn;
    }

    /**
     * The access-log bucket of every load balancer that can log: the ALB always (regional ELB account or ELB
     * service principal under alb/), the NLB only with a TLS listener (log delivery service under nlb/): NLB
     * access logs exist for TLS listeners only, so TCP pass-through leaves no NLB access log (the VPC flow logs
     * still record each connection).
     */
    private createAccessLogBucket(name: string, region: string, prod: boolean, retentionDays: number, logging: LoadBalancerRole[], tags: Tags): LogBucket {
        const elbAccountArn: pulumi.Output<string | undefined> = usesElbAccount(region) ? aws.elb.getServiceAccountOutput({}, { parent: this }).arn : pulumi.output(undefined);
        return createLogBucket(`${name}-logs`, {
            retentionDays,
            prod,
            tags,
            parent: this,
            writers: elbAccountArn.apply((elbArn) =>
                logging.map((role): LogWriter => (role === "alb" ? { kind: "elb", prefix: ACCESS_LOG_PREFIX, elbAccountArn: elbArn } : { kind: "logDelivery", prefix: NLB_ACCESS_LOG_PREFIX })),
            ),
        });
    }

    /**
     * WAF logs (every request the web ACL saw, with the rule that matched) in a bucket whose name starts with
     * aws-waf-logs- (WAF delivers nowhere else). The Authorization header (Orthanc's basic-auth credentials) and
     * cookies are redacted before they are written.
     */
    private createWafLogging(name: string, acl: aws.wafv2.WebAcl, prod: boolean, retentionDays: number, tags: Tags) {
        const logs = createLogBucket(`${name}-waf-logs`, {
            retentionDays,
            prod,
            tags,
            parent: this,
            bucketPrefix: `${WAF_LOG_NAME_PREFIX}${name}-`,
            writers: [{ kind: "logDelivery", prefix: "" }],
        });
        new aws.wafv2.WebAclLoggingConfiguration(
            `${name}-waf`,
            { resourceArn: acl.arn, logDestinationConfigs: [logs.bucket.arn], redactedFields: WAF_REDACTED_HEADERS.map((header) => ({ singleHeader: { name: header } })) },
            { parent: this, dependsOn: [logs.policy] },
        );
        return logs.bucket;
    }
}

// What the load balancer front door is made of, as pure data: names, listeners, who may reach which port,
// health checks, WAF rules and the access-log bucket policy. No Pulumi here: the component and the config
// validation both read it, and its tests need no mocks.
import { FailoverSummary, loadBalancerFailoverSeconds } from "./failover";
import { DICOM_PORT, HEALTH_PATH, WEB_PORT } from "./ports";
import { AUDIT_RETENTION_DEFAULT_DAYS, logBucketPolicy, SERVICE_PRINCIPALS } from "./audit";

export type LoadBalancerType = "network" | "application";
export type DicomTls = "terminate" | "passthrough";
/** nlb carries DICOM (and HTTPS for type network); alb carries HTTPS for type application. */
export type LoadBalancerRole = "nlb" | "alb";

/** TLS 1.3 and 1.2 only. The API default (ELBSecurityPolicy-2016-08) still accepts TLS 1.0 and 1.1. */
export const TLS_SSL_POLICY = "ELBSecurityPolicy-TLS13-1-2-2021-06";
export const HTTP_PORT = 80;
/** TCP listeners only (TLS listeners are fixed at 350 s): as long as nginx waits behind them (proxy_read_timeout). */
export const WEB_TCP_IDLE_SECONDS = 600;
/** Long, quiet DICOM associations: as long as nginx's stream proxy_timeout. */
export const DICOM_TCP_IDLE_SECONDS = 3600;
/** Large study downloads stall between chunks; the ALB default of 60 s cuts them. */
export const ALB_IDLE_TIMEOUT_SECONDS = 600;
/** Time in-flight requests get to finish when an instance is replaced. */
export const WEB_DEREGISTRATION_DELAY_SECONDS = 120;
/** A C-STORE of a large study can take minutes; the association gets AWS's full default to finish. */
export const DICOM_DEREGISTRATION_DELAY_SECONDS = 300;
/** Where the ALB writes its access logs in the log bucket. */
export const ACCESS_LOG_PREFIX = "alb";
/** The audit trail's defaults (orthweb:audit.retentionDays overrides them). */
export const ACCESS_LOG_RETENTION_DAYS = AUDIT_RETENTION_DEFAULT_DAYS;

export interface HealthCheckSettings {
    readonly intervalSeconds: number;
    readonly healthyThreshold: number;
    readonly unhealthyThreshold: number;
}

export interface NameSettings {
    readonly type: LoadBalancerType;
    readonly zoneName?: string;
    readonly recordName: string;
    readonly dicomRecordName?: string;
}

/** The names published in the zone: web and DICOM (the same name on one NLB). Empty without a zone. */
export function frontDoorNames(s: NameSettings): { web?: string; dicom?: string } {
    if (!s.zoneName) return {};
    const web = `${s.recordName}.${s.zoneName}`;
    const dicom = s.type === "application" ? `${s.dicomRecordName ?? `${s.recordName}-dicom`}.${s.zoneName}` : web;
    return { web, dicom };
}

/** The names an ACM certificate requested for the front door must carry, web name first, each once. */
export function certificateDomains(names: { web?: string; dicom?: string }): string[] {
    return [...new Set([names.web, names.dicom].filter((n): n is string => !!n).map((n) => n.toLowerCase()))];
}

/** Without a certificate at the load balancer, TLS can only pass through to the instances. */
export function effectiveDicomTls(hasCertificate: boolean, dicomTls: DicomTls): DicomTls {
    return hasCertificate ? dicomTls : "passthrough";
}

/**
 * The name clients type where TLS passes through the load balancer to the instances (DICOM with
 * dicomTls passthrough): the instances' own certificate must carry it. Only a name in the zone is known
 * in advance; without a zone there is no certificate at the load balancer and no name either.
 */
export function passThroughNames(s: NameSettings & { hasCertificate: boolean; dicomTls: DicomTls }): string[] {
    const { dicom } = frontDoorNames(s);
    return dicom && effectiveDicomTls(s.hasCertificate, s.dicomTls) === "passthrough" ? [dicom] : [];
}

export interface ListenerSpec {
    readonly role: "web" | "dicom" | "http";
    readonly loadBalancer: LoadBalancerRole;
    readonly port: number;
    readonly protocol: "TCP" | "TLS" | "HTTPS" | "HTTP";
    /** Where the listener forwards to; absent for the HTTP -> HTTPS redirect. */
    readonly target?: { readonly protocol: "TCP" | "TLS" | "HTTPS"; readonly port: number };
    /** TCP listeners only. */
    readonly tcpIdleTimeoutSeconds?: number;
}

/**
 * The listeners of the front door. network: 443 and 11112 on one NLB, TLS-terminated with a certificate
 * (DICOM passes through when asked), TCP pass-through without one. application: HTTPS 443 and the 80
 * redirect on the ALB; DICOM 11112 on a companion NLB.
 */
export function listenerLayout(type: LoadBalancerType, hasCertificate: boolean, dicomTls: DicomTls): ListenerSpec[] {
    const dicom: ListenerSpec =
        effectiveDicomTls(hasCertificate, dicomTls) === "terminate"
            ? { role: "dicom", loadBalancer: "nlb", port: DICOM_PORT, protocol: "TLS", target: { protocol: "TLS", port: DICOM_PORT } }
            : { role: "dicom", loadBalancer: "nlb", port: DICOM_PORT, protocol: "TCP", target: { protocol: "TCP", port: DICOM_PORT }, tcpIdleTimeoutSeconds: DICOM_TCP_IDLE_SECONDS };
    if (type === "application") {
        return [
            { role: "web", loadBalancer: "alb", port: WEB_PORT, protocol: "HTTPS", target: { protocol: "HTTPS", port: WEB_PORT } },
            { role: "http", loadBalancer: "alb", port: HTTP_PORT, protocol: "HTTP" },
            dicom,
        ];
    }
    const web: ListenerSpec = hasCertificate
        ? { role: "web", loadBalancer: "nlb", port: WEB_PORT, protocol: "TLS", target: { protocol: "TLS", port: WEB_PORT } }
        : { role: "web", loadBalancer: "nlb", port: WEB_PORT, protocol: "TCP", target: { protocol: "TCP", port: WEB_PORT }, tcpIdleTimeoutSeconds: WEB_TCP_IDLE_SECONDS };
    return [web, dicom];
}

export function loadBalancersOf(layout: readonly ListenerSpec[]): LoadBalancerRole[] {
    return [...new Set(layout.map((l) => l.loadBalancer))];
}

export interface ClientRule {
    readonly loadBalancer: LoadBalancerRole;
    readonly port: number;
    readonly cidr: string;
    readonly description: string;
}

/** Ingress on the load balancers' security groups: each listener port from its clients' blocks. */
export function clientIngress(layout: readonly ListenerSpec[], webClientCidrs: readonly string[], dicomClientCidrs: readonly string[]): ClientRule[] {
    return layout.flatMap((l) => {
        const dicom = l.role === "dicom";
        const cidrs = dicom ? dicomClientCidrs : webClientCidrs;
        const what = dicom ? "DICOM from modalities" : l.role === "http" ? "HTTP (redirected to HTTPS) from web clients" : "HTTPS from web clients";
        return cidrs.map((cidr) => ({ loadBalancer: l.loadBalancer, port: l.port, cidr, description: `${what} ${cidr}` }));
    });
}

/**
 * Ports a load balancer must reach on the instances: its targets' ports plus the health-check port.
 * They are both its security group's egress and the instance group's ingress from it.
 */
export function instancePorts(layout: readonly ListenerSpec[], loadBalancer: LoadBalancerRole): number[] {
    const ports = layout.filter((l) => l.loadBalancer === loadBalancer && l.target).map((l) => l.target!.port);
    return [...new Set([WEB_PORT, ...ports])].sort((a, b) => a - b);
}

/** Seconds a health check may take: below the interval (AWS requires it), and above nginx's 2 s + 2 s to ask Orthanc. */
export function healthCheckTimeoutSeconds(intervalSeconds: number): number {
    return Math.min(5, intervalSeconds - 1);
}

/**
 * Every target group, DICOM included, is checked by HTTPS GET /healthz on 443: a DICOM target is only as
 * healthy as its Orthanc. Both thresholds are explicit (the provider's and AWS's defaults differ).
 */
export function targetHealthCheck(hc: HealthCheckSettings) {
    return {
        enabled: true,
        protocol: "HTTPS",
        port: String(WEB_PORT),
        path: HEALTH_PATH,
        matcher: "200",
        interval: hc.intervalSeconds,
        timeout: healthCheckTimeoutSeconds(hc.intervalSeconds),
        healthyThreshold: hc.healthyThreshold,
        unhealthyThreshold: hc.unhealthyThreshold,
    };
}

/**
 * What an NLB (TCP/TLS target group) does with the established connections of a target that turns unhealthy.
 * Not terminate them at once: when only the target's Orthanc died, its nginx still serves them through the peer
 * instance (components/bootstrap/nginx.ts), and cutting them would fail exactly the transfers the fallback saved.
 * New connections stop within the failover time either way; what is left drains for as long as a deregistered
 * target's connections may (the deregistration delay), then the NLB closes it (AWS: `unhealthy.draining`).
 * A dead machine's connections are dead already; clients see that from TCP, not from this setting.
 */
export function unhealthyTargetHandling(role: "web" | "dicom") {
    return {
        enableUnhealthyConnectionTermination: false,
        unhealthyDrainingInterval: role === "dicom" ? DICOM_DEREGISTRATION_DELAY_SECONDS : WEB_DEREGISTRATION_DELAY_SECONDS,
    };
}

/** The failover estimate for the stack outputs, with what it leaves out. */
export function loadBalancerFailover(hc: HealthCheckSettings): FailoverSummary {
    const worstCaseSeconds = loadBalancerFailoverSeconds(hc);
    return {
        worstCaseSeconds,
        breakdown:
            `${hc.intervalSeconds} s x ${hc.unhealthyThreshold} failed checks = ${worstCaseSeconds} s. The load balancer then sends new ` +
            `connections to the other instance only, and back after ${hc.healthyThreshold} good checks (${hc.intervalSeconds * hc.healthyThreshold} s).`,
        note:
            "No DNS change is involved, so clients that cache addresses are not affected. When only an instance's Orthanc fails, its nginx " +
            "hands requests and associations to the other instance's Orthanc (over TLS) until the load balancer stops sending it traffic, " +
            "so clients see no failure. When the whole instance fails, connections open to it break: browsers retry, modalities resend " +
            "the association; transfers in flight must be repeated.",
    };
}

/** AWS managed rule groups on the ALB's web ACL, in order. */
export const MANAGED_RULE_GROUPS = ["AWSManagedRulesCommonRuleSet", "AWSManagedRulesKnownBadInputsRuleSet", "AWSManagedRulesAmazonIpReputationList"] as const;
const COMMON_RULE_SET = "AWSManagedRulesCommonRuleSet";
/** The core rule set's label namespace: each rule labels what it matched, also when its action is count. */
export const CORE_RULE_SET_LABELS = "awswaf:managed:aws:core-rule-set:";
/**
 * The core rule set's rules that inspect the request body (its first 8 KB on an ALB), with the label each adds.
 * A binary DICOM upload (STOW-RS, multipart/related; type="application/dicom") can match them by chance.
 */
export const BODY_RULES: Readonly<Record<string, string>> = {
    CrossSiteScripting_BODY: "CrossSiteScripting_Body",
    GenericLFI_BODY: "GenericLFI_Body",
    GenericRFI_BODY: "GenericRFI_Body",
    EC2MetaDataSSRF_BODY: "EC2MetaDataSSRF_Body",
};
/**
 * Rules counted instead of blocking. The body rules are counted in the group and enforced by a later rule
 * (BLOCK_BODY_MATCHES_RULE) for every request but a DICOMweb upload. SizeRestrictions_BODY blocks bodies over
 * 8 KB: every STOW-RS and every upload through the Orthanc UI. NoUserAgent_HEADER blocks scripted clients (curl
 * -A '', dcmtk's and many modality vendors' DICOMweb clients) that send no User-Agent.
 */
export const COUNTED_RULES: Readonly<Record<string, readonly string[]>> = {
    [COMMON_RULE_SET]: ["SizeRestrictions_BODY", "NoUserAgent_HEADER", ...Object.keys(BODY_RULES)],
};
/** The rule that blocks what the counted body rules matched, outside DICOMweb uploads. */
export const BLOCK_BODY_MATCHES_RULE = "CommonRuleSetBodyOutsideDicomUploads";
/**
 * The rule that recognises a DICOM upload and only labels it (action count), so that the blocking rule after it
 * asks for one label instead of nesting the upload test: nested, it is four levels deep and the provider accepts
 * three (policy/wafLimits.ts).
 */
export const DICOM_UPLOAD_RULE = "DicomUploads";
/** Its label. Matched without the web ACL's prefix, WAF looks for it among labels the web ACL's own rules added. */
export const DICOM_UPLOAD_LABEL = "orthweb:dicom-upload";
/** DICOMweb STOW-RS: POST under /dicom-web/ (Orthanc's DICOMweb plugin root). */
export const DICOMWEB_UPLOAD_PREFIX = "/dicom-web/";
/** Orthanc's own upload: POST /instances (the REST API and the Orthanc Explorer upload page). */
export const ORTHANC_UPLOAD_PATH = "/instances";
/** Headers never written to the WAF log: Orthanc's basic-auth credentials and session cookies. */
export const WAF_REDACTED_HEADERS = ["authorization", "cookie"] as const;

/**
 * URL-decoded, then dot segments and doubled slashes removed: what nginx routes on, so that a path like
 * /dicom-web/../tools/execute-script cannot pass for an upload.
 */
const PATH_AS_ROUTED = [
    { priority: 0, type: "URL_DECODE" },
    { priority: 1, type: "NORMALIZE_PATH" },
];

/** The WAFv2 statements this ACL uses, as the provider's input shape (pure data: no Pulumi types here). */
export interface WafStatement {
    readonly andStatement?: { readonly statements: WafStatement[] };
    readonly orStatement?: { readonly statements: WafStatement[] };
    readonly notStatement?: { readonly statement: WafStatement };
    readonly labelMatchStatement?: { readonly scope: "LABEL"; readonly key: string };
    readonly byteMatchStatement?: {
        readonly fieldToMatch: { readonly method?: Record<string, never>; readonly uriPath?: Record<string, never> };
        readonly positionalConstraint: "EXACTLY" | "STARTS_WITH";
        readonly searchString: string;
        readonly textTransformations: { readonly priority: number; readonly type: string }[];
    };
    readonly managedRuleGroupStatement?: {
        readonly vendorName: string;
        readonly name: string;
        readonly ruleActionOverrides: { readonly name: string; readonly actionToUse: { readonly count: Record<string, never> } }[];
    };
}

export interface WafRule {
    readonly name: string;
    readonly priority: number;
    /** Rule groups: none (keep each rule's own action). */
    readonly overrideAction?: { readonly none: Record<string, never> };
    /** Own rules: block ends the evaluation; count adds the rule's labels and goes on. */
    readonly action?: { readonly block: Record<string, never> } | { readonly count: Record<string, never> };
    /** Labels a matching rule adds, in the web ACL's namespace (visible to later rules only). */
    readonly ruleLabels?: { readonly name: string }[];
    readonly statement: WafStatement;
    readonly visibilityConfig: { readonly cloudwatchMetricsEnabled: boolean; readonly sampledRequestsEnabled: boolean; readonly metricName: string };
}

function byteMatch(field: "method" | "uriPath", positionalConstraint: "EXACTLY" | "STARTS_WITH", searchString: string, textTransformations: { priority: number; type: string }[]): WafStatement {
    return { byteMatchStatement: { fieldToMatch: { [field]: {} }, positionalConstraint, searchString, textTransformations } };
}

/** A DICOMweb or Orthanc upload: POST and (path under /dicom-web/ or exactly /instances), the path as nginx routes it. */
export function dicomUploadStatement(): WafStatement {
    return {
        andStatement: {
            statements: [
                byteMatch("method", "EXACTLY", "POST", [{ priority: 0, type: "NONE" }]),
                {
                    orStatement: {
                        statements: [
                            byteMatch("uriPath", "STARTS_WITH", DICOMWEB_UPLOAD_PREFIX, PATH_AS_ROUTED),
                            byteMatch("uriPath", "EXACTLY", ORTHANC_UPLOAD_PATH, PATH_AS_ROUTED),
                        ],
                    },
                },
            ],
        },
    };
}

const labelMatch = (key: string): WafStatement => ({ labelMatchStatement: { scope: "LABEL", key } });

/** Block when a counted body rule matched (by its label) and the request carries no DICOM upload label. */
export function bodyMatchesOutsideUploadsStatement(): WafStatement {
    return {
        andStatement: {
            statements: [
                { orStatement: { statements: Object.values(BODY_RULES).map((label) => labelMatch(`${CORE_RULE_SET_LABELS}${label}`)) } },
                { notStatement: { statement: labelMatch(DICOM_UPLOAD_LABEL) } },
            ],
        },
    };
}

/**
 * The web ACL's rules, in evaluation order: the core rule set (body rules and NoUserAgent counted), the rule
 * that labels DICOM uploads, then the rule that enforces the body rules on every request without that label
 * (labels are visible only to later rules), then the known-bad-inputs and IP reputation groups.
 */
export function webAclRules(metricPrefix: string): WafRule[] {
    const visibility = (metric: string) => ({ cloudwatchMetricsEnabled: true, sampledRequestsEnabled: true, metricName: `${metricPrefix}-${metric}` });
    const managed = (group: (typeof MANAGED_RULE_GROUPS)[number], priority: number): WafRule => ({
        name: group,
        priority,
        overrideAction: { none: {} },
        statement: {
            managedRuleGroupStatement: {
                vendorName: "AWS",
                name: group,
                ruleActionOverrides: (COUNTED_RULES[group] ?? []).map((rule) => ({ name: rule, actionToUse: { count: {} } })),
            },
        },
        visibilityConfig: visibility(group),
    });
    const [common, ...others] = MANAGED_RULE_GROUPS;
    return [
        managed(common, 0),
        { name: DICOM_UPLOAD_RULE, priority: 1, action: { count: {} }, ruleLabels: [{ name: DICOM_UPLOAD_LABEL }], statement: dicomUploadStatement(), visibilityConfig: visibility(DICOM_UPLOAD_RULE) },
        { name: BLOCK_BODY_MATCHES_RULE, priority: 2, action: { block: {} }, statement: bodyMatchesOutsideUploadsStatement(), visibilityConfig: visibility(BLOCK_BODY_MATCHES_RULE) },
        ...others.map((group, i) => managed(group, i + 3)),
    ];
}

/**
 * Regions opened before August 2022 deliver ALB access logs from a regional ELB account
 * (aws.elb.getServiceAccount); later ones from the logdelivery.elasticloadbalancing service principal.
 */
export const ELB_ACCOUNT_REGIONS: readonly string[] = [
    "af-south-1", "ap-east-1", "ap-northeast-1", "ap-northeast-2", "ap-northeast-3", "ap-south-1", "ap-southeast-1",
    "ap-southeast-2", "ap-southeast-3", "ca-central-1", "cn-north-1", "cn-northwest-1", "eu-central-1", "eu-north-1",
    "eu-south-1", "eu-west-1", "eu-west-2", "eu-west-3", "me-south-1", "sa-east-1", "us-east-1", "us-east-2",
    "us-gov-east-1", "us-gov-west-1", "us-west-1", "us-west-2",
];
export const LOG_DELIVERY_SERVICE = SERVICE_PRINCIPALS.elb;

export function usesElbAccount(region: string): boolean {
    return ELB_ACCOUNT_REGIONS.includes(region);
}

export interface AccessLogPolicyParams {
    readonly bucketArn: string;
    readonly prefix: string;
    readonly accountId: string;
    /** The regional ELB account's ARN, or undefined where the service principal delivers. */
    readonly elbAccountArn?: string;
}

/** The ALB's log bucket policy: the ALB may put objects under <prefix>/AWSLogs/<account>/, nothing travels without TLS. */
export function accessLogBucketPolicy(p: AccessLogPolicyParams) {
    return logBucketPolicy({ bucketArn: p.bucketArn, accountId: p.accountId, writers: [{ kind: "elb", prefix: p.prefix, elbAccountArn: p.elbAccountArn }] });
}

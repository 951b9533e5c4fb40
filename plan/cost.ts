// Estimated monthly cost, line by line, from the planned resources and the one dated price table (plan/prices.ts).
// Pure. Usage-driven charges need figures the plan cannot know; the few the estimate assumes are stated, the rest
// are listed as not included.
import { PlanModel, plain, TYPES } from "./planModel";
import { PRICES, PriceList } from "./prices";
import { SITE_TYPES } from "./siteToSite";
import { auditCostOf } from "./auditCost";
import { DEFAULT_USAGE, fmt, money } from "./costLines";
import type { CostLine, CostUsage } from "./costLines";

export { DEFAULT_USAGE };
export type { CostLine, CostUsage };

export interface CostEstimate {
    /** The region whose list prices are used. */
    readonly priceRegion: string;
    readonly priceDate: string;
    readonly currency: "USD";
    readonly source: string;
    /** The stack's own region, when it differs from the price region. */
    readonly stackRegion?: string;
    readonly lines: CostLine[];
    /** Sum of the priced lines, rounded to cents. */
    readonly monthlyUsd: number;
    readonly assumptions: string[];
    readonly notIncluded: string[];
}

function countBy<T>(items: T[], key: (t: T) => string): Map<string, number> {
    const m = new Map<string, number>();
    for (const it of items) m.set(key(it), (m.get(key(it)) ?? 0) + 1);
    return m;
}

/** Optional Route 53 health check features, each billed on top of the basic check. */
function healthCheckFeatures(inputs: Record<string, unknown>): string[] {
    const type = String(plain(inputs.type) ?? "").toUpperCase();
    const features: string[] = [];
    if (type.startsWith("HTTPS")) features.push("HTTPS");
    if (type.endsWith("STR_MATCH")) features.push("string match");
    if (Number(plain(inputs.requestInterval)) === 10) features.push("10 s interval");
    if (plain(inputs.measureLatency) === true) features.push("latency");
    return features;
}

export function costOf(model: PlanModel, usage: CostUsage = DEFAULT_USAGE, prices: PriceList = PRICES, stackRegion?: string): CostEstimate {
    const h = prices.hoursPerMonth;
    const lines: CostLine[] = [];
    const assumptions: string[] = [`${h} hours a month; on-demand list prices, no free tier, no savings plans`];
    const unpriced = (item: string, detail: string, what: string): CostLine => ({
        item,
        detail,
        monthlyUsd: null,
        note: `no list price for ${what} in plan/prices.ts (${prices.region}); add it with its source`,
    });

    for (const [size, n] of countBy(model.instances, (i) => i.size ?? "unknown")) {
        const hourly = prices.ec2Hourly[size];
        const detail = `${n} x ${size}`;
        lines.push(hourly === undefined ? unpriced("EC2 instances", detail, size) : { item: "EC2 instances", detail: `${detail} x ${fmt(hourly)}/h`, monthlyUsd: money(n * hourly * h) });
    }
    const volumes = model.instances.flatMap((i) => i.volumes ?? []);
    for (const type of new Set(volumes.map((v) => v.type))) {
        const gib = volumes.filter((v) => v.type === type).reduce((sum, v) => sum + v.gib, 0);
        const price = prices.ebsGbMonth[type];
        const detail = `${gib} GiB ${type} (${model.instances.length} root volumes)`;
        lines.push(price === undefined ? unpriced("EBS volumes", detail, `EBS ${type}`) : { item: "EBS volumes", detail: `${detail} x ${fmt(price)}/GiB`, monthlyUsd: money(gib * price) });
    }

    for (const db of model.ofType(TYPES.rds)) {
        const cls = String(plain(db.inputs.instanceClass) ?? "unknown");
        const multiAz = plain(db.inputs.multiAz) === true;
        const copies = multiAz ? 2 : 1;
        const hourly = prices.rdsHourly[cls];
        const detail = `${db.name}: ${cls}, ${multiAz ? "Multi-AZ (2 instances)" : "Single-AZ"}`;
        lines.push(hourly === undefined ? unpriced("RDS PostgreSQL", detail, cls) : { item: "RDS PostgreSQL", detail: `${detail} x ${fmt(hourly)}/h`, monthlyUsd: money(copies * hourly * h) });
        const gib = Number(plain(db.inputs.allocatedStorage) ?? 0);
        if (gib > 0) {
            lines.push({
                item: "RDS storage",
                detail: `${gib} GiB ${String(plain(db.inputs.storageType) ?? "gp3")}${multiAz ? " x 2 (Multi-AZ)" : ""} x ${fmt(prices.rdsGp3GbMonth)}/GiB`,
                monthlyUsd: money(copies * gib * prices.rdsGp3GbMonth),
            });
        }
    }
    if (model.ofType(TYPES.rds).length > 0) assumptions.push("RDS backups stay within the free allowance (backup storage up to the database size)");

    if (model.natGateways > 0) {
        lines.push({ item: "NAT gateways", detail: `${model.natGateways} x ${fmt(prices.natGatewayHour)}/h`, monthlyUsd: money(model.natGateways * prices.natGatewayHour * h) });
    }
    const eips = model.ofType(TYPES.eip).length;
    const lbAddresses = model.loadBalancers.filter((lb) => !lb.internal).reduce((n, lb) => n + Math.max(lb.subnetIds.length, 1), 0);
    const addresses = eips + model.natGateways + lbAddresses;
    if (addresses > 0) {
        const parts = [eips && `${eips} Elastic IP${eips === 1 ? "" : "s"}`, model.natGateways && `${model.natGateways} NAT`, lbAddresses && `${lbAddresses} load balancer`].filter(Boolean);
        lines.push({ item: "Public IPv4 addresses", detail: `${parts.join(" + ")} x ${fmt(prices.publicIpv4Hour)}/h`, monthlyUsd: money(addresses * prices.publicIpv4Hour * h) });
    }

    for (const lb of model.loadBalancers) {
        const app = lb.type === "application";
        const hourly = app ? prices.albHour : prices.nlbHour;
        const lcu = app ? prices.albLcuHour : prices.nlbLcuHour;
        const lcus = usage.lcuPerLoadBalancer;
        lines.push({
            item: app ? "Application Load Balancer" : "Network Load Balancer",
            detail: `${lb.name}: ${fmt(hourly)}/h + ${lcus} ${app ? "LCU" : "NLCU"} x ${fmt(lcu)}/h`,
            monthlyUsd: money((hourly + lcus * lcu) * h),
        });
    }
    if (model.loadBalancers.length > 0) assumptions.push(`${usage.lcuPerLoadBalancer} capacity unit per load balancer on average`);

    const checks = model.ofType(TYPES.healthCheck);
    if (checks.length > 0) {
        let total = 0;
        const byFeatures = new Map<string, number>();
        for (const c of checks) {
            const features = healthCheckFeatures(c.inputs);
            total += prices.route53HealthCheckMonth + features.length * prices.route53HealthCheckFeatureMonth;
            const key = `${String(plain(c.inputs.type) ?? "HTTP")}${features.length > 0 ? ` (${features.join(", ")})` : ""}`;
            byFeatures.set(key, (byFeatures.get(key) ?? 0) + 1);
        }
        lines.push({
            item: "Route 53 health checks",
            detail: `${[...byFeatures].map(([k, n]) => `${n} ${k}`).join(", ")}: ${fmt(prices.route53HealthCheckMonth)} each + ${fmt(prices.route53HealthCheckFeatureMonth)} per feature`,
            monthlyUsd: money(total),
        });
        if (checks.some((c) => String(plain(c.inputs.type)).toUpperCase() === "CALCULATED")) assumptions.push("calculated health checks are billed as basic checks");
    }

    for (const ep of model.vpnEndpoints) {
        lines.push({
            item: "Client VPN associations",
            detail: `${ep.name}: ${ep.associations} subnet${ep.associations === 1 ? "" : "s"} x ${fmt(prices.clientVpnAssociationHour)}/h`,
            monthlyUsd: money(ep.associations * prices.clientVpnAssociationHour * h),
        });
        lines.push({
            item: "Client VPN connections",
            detail: `${usage.vpnClients} client${usage.vpnClients === 1 ? "" : "s"} x ${usage.vpnHoursPerClient} h x ${fmt(prices.clientVpnConnectionHour)}/h`,
            monthlyUsd: money(usage.vpnClients * usage.vpnHoursPerClient * prices.clientVpnConnectionHour),
        });
        assumptions.push(`each VPN client connected ${usage.vpnHoursPerClient} h a month`);
    }

    const connections = model.ofType(SITE_TYPES.vpnConnection);
    if (connections.length > 0) {
        lines.push({
            item: "Site-to-site VPN",
            detail: `${connections.length} connection${connections.length === 1 ? "" : "s"} (2 tunnels each) x ${fmt(prices.siteToSiteVpnConnectionHour)}/h, around the clock`,
            monthlyUsd: money(connections.length * prices.siteToSiteVpnConnectionHour * h),
        });
    }
    const attachments = model.ofType(SITE_TYPES.tgwAttachment).length + connections.filter((c) => plain(c.inputs.transitGatewayId)).length;
    if (attachments > 0) {
        lines.push({
            item: "Transit gateway attachments",
            detail: `${attachments} (VPC and VPN) x ${fmt(prices.transitGatewayAttachmentHour)}/h`,
            monthlyUsd: money(attachments * prices.transitGatewayAttachmentHour * h),
        });
    }

    for (const acl of model.ofType(TYPES.webAcl)) {
        const rules = (plain(acl.inputs.rules) ?? []).length ?? 0;
        lines.push({
            item: "WAF web ACL",
            detail: `${acl.name}: ${fmt(prices.wafWebAclMonth)} + ${rules} rule${rules === 1 ? "" : "s"} x ${fmt(prices.wafRuleMonth)}`,
            monthlyUsd: money(prices.wafWebAclMonth + rules * prices.wafRuleMonth),
        });
    }

    const endpoints = model.ofType(TYPES.vpcEndpoint).filter((e) => String(plain(e.inputs.vpcEndpointType) ?? "Gateway") === "Interface");
    if (endpoints.length > 0) {
        const azHours = endpoints.reduce((n, e) => n + Math.max((plain(e.inputs.subnetIds) ?? []).length, 1), 0);
        lines.push({ item: "VPC interface endpoints", detail: `${endpoints.length} endpoints, ${azHours} AZ-hours per hour (one per endpoint and AZ) x ${fmt(prices.interfaceEndpointAzHour)}/h`, monthlyUsd: money(azHours * prices.interfaceEndpointAzHour * h) });
    }

    const keys = model.ofType(TYPES.kmsKey).length;
    if (keys > 0) lines.push({ item: "KMS keys", detail: `${keys} customer-managed x ${fmt(prices.kmsKeyMonth)}`, monthlyUsd: money(keys * prices.kmsKeyMonth) });
    const managed = model.ofType(TYPES.rds).filter((db) => plain(db.inputs.manageMasterUserPassword) === true).length;
    const secrets = model.ofType(TYPES.secret).length + managed;
    if (secrets > 0) {
        lines.push({
            item: "Secrets Manager",
            detail: `${secrets} secrets${managed > 0 ? ` (${managed} managed by RDS)` : ""} x ${fmt(prices.secretMonth)}`,
            monthlyUsd: money(secrets * prices.secretMonth),
        });
    }
    const buckets = model.ofType(TYPES.bucket).length + model.ofType(TYPES.bucketV2).length;
    if (buckets > 0) {
        lines.push({ item: "S3 storage", detail: `${usage.s3StoredGb} GB of studies (assumed) x ${fmt(prices.s3StandardGbMonth)}/GB`, monthlyUsd: money(usage.s3StoredGb * prices.s3StandardGbMonth) });
        assumptions.push(`${usage.s3StoredGb} GB stored in S3 Standard: scale that line by your archive's size`);
    }

    const audit = auditCostOf(model, usage, prices);
    lines.push(...audit.lines);
    assumptions.push(...audit.assumptions);

    const monthlyUsd = money(lines.reduce((sum, l) => sum + (l.monthlyUsd ?? 0), 0));
    if (lines.some((l) => l.monthlyUsd === null)) assumptions.push("lines without a list price are left out of the total");
    if (stackRegion && stackRegion !== prices.region) {
        assumptions.push(`prices are ${prices.region} list prices; the stack runs in ${stackRegion}, where most prices are somewhat higher`);
    }
    return {
        priceRegion: prices.region,
        priceDate: prices.date,
        currency: prices.currency,
        source: prices.sources,
        stackRegion,
        lines,
        monthlyUsd,
        assumptions,
        notIncluded: [
            "data transfer out to the internet and between AZs",
            ...(model.natGateways > 0 ? [`NAT data processing (${fmt(prices.natGatewayGb)}/GB)`] : []),
            "S3, KMS and Secrets Manager requests",
            ...(endpoints.length > 0 ? [`interface endpoint data processing (${fmt(prices.interfaceEndpointGb)}/GB)`] : []),
            ...(connections.length > 0 ? ["data leaving AWS through the VPN tunnels (billed as data transfer out)"] : []),
            ...(attachments > 0 ? [`transit gateway data processing (${fmt(prices.transitGatewayGb)}/GB)`] : []),
            ...(model.dnsRecords.length > 0 ? [`Route 53 queries (${fmt(prices.route53QueriesPerMillion)}/million) and your existing hosted zone (${fmt(prices.route53HostedZoneMonth)}/month)`] : []),
            ...(model.ofType(TYPES.webAcl).length > 0 ? [`WAF requests (${fmt(prices.wafPerMillionRequests)}/million)`] : []),
            "CloudWatch metrics (detailed monitoring) and logs",
            "taxes",
        ],
    };
}

// The cost estimate's vocabulary: a line, the usage it assumes, and how money is rounded and shown. Shared by
// plan/cost.ts and plan/auditCost.ts, so that neither imports the other.

export interface CostLine {
    readonly item: string;
    /** What is counted: sizes, names, the formula. */
    readonly detail: string;
    /** USD per month; null when the price table has no price for it (see `note`). */
    readonly monthlyUsd: number | null;
    readonly note?: string;
}

export interface CostUsage {
    /** Studies stored in the bucket. */
    readonly s3StoredGb: number;
    /** Average load balancer capacity units in use. */
    readonly lcuPerLoadBalancer: number;
    /** Client VPN users, and how long each is connected per month. */
    readonly vpnClients: number;
    readonly vpnHoursPerClient: number;
    /** The audit trail (plan/auditCost.ts): study objects read or written a month (one CloudTrail data event each). */
    readonly dataEventsPerMonth?: number;
    /** GB a month of vended logs (flow logs, WAF, NLB access logs) and of free-delivery logs (S3 server access, ALB). */
    readonly vendedLogGbPerMonth?: number;
    readonly accessLogGbPerMonth?: number;
}

export const DEFAULT_USAGE: CostUsage = {
    s3StoredGb: 100,
    lcuPerLoadBalancer: 1,
    vpnClients: 0,
    vpnHoursPerClient: 8 * 22,
    dataEventsPerMonth: 1_000_000,
    vendedLogGbPerMonth: 5,
    accessLogGbPerMonth: 1,
};

export function money(n: number): number {
    return Math.round(n * 100) / 100;
}

/** A unit price as listed: at least cents, up to four decimals ($1.00, $0.40, $0.115, $0.0416). */
export function fmt(n: number): string {
    return `$${n.toFixed(4).replace(/(\.\d\d\d*?)0+$/, "$1")}`;
}

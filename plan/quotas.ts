// Quotas in view: how much of each quota-bound resource one stack uses, against AWS's default quota. Pure.
// Quotas are per account and region (or per AZ): one stack can fit while several stacks in one account and region do
// not, so the --all view adds the stacks of each region up.
//
// Default quotas (AWS-CHECKLIST.md "Quotas (defaults)"; Client VPN: docs.aws.amazon.com/vpn/latest/clientvpn-admin/
// limits.html, read 2026-11-30). All adjustable through Service Quotas.
import { PlanModel, plain, TYPES } from "./planModel";

export const DEFAULT_QUOTAS = {
    elasticIpsPerRegion: 5,
    vpcsPerRegion: 5,
    natGatewaysPerAz: 5,
    clientVpnEndpointsPerRegion: 5,
} as const;

/** Concurrent connections a Client VPN endpoint allows with 1..5 subnet associations (AWS Client VPN quotas). */
export const CLIENT_VPN_CONNECTIONS_BY_ASSOCIATIONS = [0, 7000, 36500, 66500, 96500, 126000] as const;

export interface QuotaRow {
    readonly resource: string;
    /** What the quota counts in: a region, an AZ, an endpoint. */
    readonly scope: string;
    readonly used: number;
    /** The default quota; null where the limit is a rule rather than a number (shown in `detail`). */
    readonly defaultQuota: number | null;
    readonly detail: string;
}

export interface QuotaSection {
    readonly rows: QuotaRow[];
    /** One line per quota this stack alone exceeds. */
    readonly warnings: string[];
    readonly notes: string[];
}

const NAT_PER_AZ: Record<string, number> = { None: 0, Single: 1, OnePerAz: 1 };

function plural(n: number, word: string, many = `${word}s`): string {
    return `${n} ${n === 1 ? word : many}`;
}

export function quotasOf(model: PlanModel): QuotaSection {
    const eips = model.ofType(TYPES.eip).length;
    const vpcs = model.ofType(TYPES.vpc).length + model.ofType("aws:ec2/vpc:Vpc").length;
    // awsx places NAT gateways one per AZ at most (Single: one in the first AZ); plain NatGateways count in full.
    const natPerAz = Math.max(0, ...model.ofType(TYPES.vpc).map((v) => NAT_PER_AZ[String(plain(v.inputs.natGateways)?.strategy ?? "OnePerAz")] ?? 1)) + model.ofType(TYPES.natGateway).length;
    const endpoints = model.vpnEndpoints;
    const associations = Math.max(0, ...endpoints.map((e) => e.associations));

    const rows: QuotaRow[] = [
        {
            resource: "Elastic IP addresses",
            scope: "region",
            used: eips + model.natGateways,
            defaultQuota: DEFAULT_QUOTAS.elasticIpsPerRegion,
            detail:
                [eips && plural(eips, "instance address", "instance addresses"), model.natGateways && plural(model.natGateways, "NAT gateway")].filter(Boolean).join(" + ") ||
                "none (load balancers use AWS-owned addresses)",
        },
        { resource: "VPCs", scope: "region", used: vpcs, defaultQuota: DEFAULT_QUOTAS.vpcsPerRegion, detail: plural(vpcs, "VPC") },
        {
            resource: "NAT gateways",
            scope: "AZ",
            used: natPerAz,
            defaultQuota: DEFAULT_QUOTAS.natGatewaysPerAz,
            detail: model.natGateways > 0 ? `${plural(model.natGateways, "gateway")} in all, at most ${natPerAz} in one AZ` : "none",
        },
        { resource: "Client VPN endpoints", scope: "region", used: endpoints.length, defaultQuota: DEFAULT_QUOTAS.clientVpnEndpointsPerRegion, detail: endpoints.length > 0 ? endpoints.map((e) => e.name).join(", ") : "none" },
        {
            resource: "Client VPN subnet associations",
            scope: "endpoint",
            used: associations,
            defaultQuota: null,
            detail:
                endpoints.length > 0
                    ? `one subnet per AZ; ${associations} allow ${(CLIENT_VPN_CONNECTIONS_BY_ASSOCIATIONS[Math.min(associations, 5)] ?? 0).toLocaleString("en-US")} concurrent connections`
                    : "none",
        },
    ];
    const warnings = rows
        .filter((r) => r.defaultQuota !== null && r.used > r.defaultQuota)
        .map((r) => `${r.resource}: this stack alone needs ${r.used} per ${r.scope}, above the default quota of ${r.defaultQuota}; request an increase (Service Quotas) before deploying.`);
    return {
        rows,
        warnings,
        notes: [
            "Quotas are per account and region: add up every stack (and anything else) in the same account and region. dev (2 Elastic IPs), prod's NAT gateways (2) and a dns stack (2) need 6 of the default 5.",
        ],
    };
}

/** Per region, what several stacks use together against the region-wide default quotas: warnings only. */
export function regionQuotaWarnings(stacks: readonly { stack: string; region?: string; quotas?: readonly QuotaRow[] }[]): string[] {
    const warnings: string[] = [];
    const regions = [...new Set(stacks.map((s) => s.region).filter((r): r is string => !!r))];
    for (const region of regions) {
        const here = stacks.filter((s) => s.region === region && s.quotas);
        for (const resource of [...new Set(here.flatMap((s) => s.quotas!.filter((q) => q.scope === "region" && q.defaultQuota !== null).map((q) => q.resource)))]) {
            const uses = here.map((s) => ({ stack: s.stack, row: s.quotas!.find((q) => q.resource === resource) })).filter((u) => u.row && u.row.used > 0);
            const total = uses.reduce((n, u) => n + u.row!.used, 0);
            const quota = uses[0]?.row?.defaultQuota ?? null;
            if (quota !== null && total > quota) {
                warnings.push(`${resource} in ${region}: ${uses.map((u) => `${u.stack} ${u.row!.used}`).join(" + ")} = ${total}, above the default quota of ${quota} if these stacks share an account.`);
            }
        }
    }
    return warnings;
}

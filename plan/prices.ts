// The one list-price table the cost estimate uses: on-demand list prices in USD for ONE region, with the date
// they were compiled and where each came from. Update the figures and the date together; add a line (with its
// source) for an instance type or DB class the estimate reports as "no list price".
//
// Sources (read 2026-11-24):
//  [checklist] ../shared/AWS-CHECKLIST.md "Prices (us-east-1, list, 2025-2026)": load balancers, Route 53,
//              Client VPN, NAT gateway, interface endpoints, public IPv4, WAF.
//  [ec2-m7g]   https://www.factualminds.com/blog/amazon-ec2-on-demand-pricing-instance-families-2026/
//              (2026-06-17): m7g.large Linux $0.0816/h in us-east-1.
//  [ec2-t3]    https://hacecuentas.com/en/costo-servidor-cloud-aws-ec2-mensual (reviewed 2026-04-17, citing the
//              AWS EC2 on-demand page): t3.medium $0.0416/h; https://go-cloud.io/?p=10607: t3.large $0.0832/h.
//  [rds-t4g]   https://infratally.com/articles/aws-rds-pricing-explained-2026.html: PostgreSQL db.t4g.micro
//              $0.016/h, db.t4g.small $0.032/h, db.t4g.medium $0.065/h Single-AZ; Multi-AZ exactly double.
//  [rds-m7g]   hashicorp/terraform-provider-aws internal/service/rds test list (us-west-2, which matches
//              us-east-1 for these classes): db.t4g.large $0.129/h, db.m7g.large $0.168/h; a public cost
//              model quoting us-east-1 notes PostgreSQL and MySQL are priced alike at these sizes.
//  [rds-gp3]   https://www.usage.ai/blogs/aws/reserved-instances/rds/pricing-calculator/ (June 2026, us-east-1):
//              RDS gp3 storage $0.115/GB-month (Multi-AZ stores twice); backup storage free up to the DB size.
//  [ebs-gp3]   https://www.saisci.com/aws/gp3-throughput-explained/ (N. Virginia): gp3 $0.08/GiB-month,
//              3000 IOPS and 125 MiB/s included.
//  [kms]       https://www.factualminds.com/blog/aws-kms-pricing-keys-requests-multi-region/ (June 2026):
//              $1/month per customer-managed key, $0.03 per 10k requests.
//  [secrets]   infracost output in github.com/gordonmurray/terraform_aws_rds_postgres_atlas README (us-east-1):
//              aws_secretsmanager_secret $0.40/month, aws_kms_key $1.00/month.
//  [vpn-s2s]   ../shared/AWS-CHECKLIST.md "Site-to-site VPN" (2026): $0.05 per VPN connection-hour, whether the
//              tunnels carry traffic or not.
//  [tgw]       https://aws.amazon.com/transit-gateway/pricing/ (us-east-1): $0.05 per attachment-hour, $0.02/GB
//              processed [verify: not re-read for this table].
//  [trail]     https://aws.amazon.com/cloudtrail/pricing/ : data events $0.10 per 100,000 events delivered [verify: figure
//              from the project brief (2026-11-30), not re-read for this table].
//  [vended]    https://aws.amazon.com/cloudwatch/pricing/ "Vended logs", delivery to S3: $0.25/GB for the first 10 TB
//              (VPC flow logs, WAF logs, NLB access logs); to CloudWatch Logs $0.50/GB [verify: not re-read; ALB and S3
//              server access logs are delivered free, you pay their S3 storage].
//  [s3]        https://aws.amazon.com/s3/pricing/ first-50-TB tier of S3 Standard, $0.023/GB-month [verify: not
//              re-read for this table; public summaries give $0.021-0.026 by region].

export interface PriceList {
    readonly region: string;
    /** The day the table was compiled; the sources above carry their own dates. */
    readonly date: string;
    readonly currency: "USD";
    /** AWS bills hourly items for 730 hours in an average month. */
    readonly hoursPerMonth: number;
    readonly sources: string;
    /** Linux on-demand, per instance-hour. */
    readonly ec2Hourly: Readonly<Record<string, number>>;
    /** RDS for PostgreSQL Single-AZ, per instance-hour (Multi-AZ: twice). */
    readonly rdsHourly: Readonly<Record<string, number>>;
    readonly rdsGp3GbMonth: number;
    readonly ebsGbMonth: Readonly<Record<string, number>>;
    readonly s3StandardGbMonth: number;
    readonly kmsKeyMonth: number;
    readonly secretMonth: number;
    readonly publicIpv4Hour: number;
    readonly natGatewayHour: number;
    readonly natGatewayGb: number;
    readonly interfaceEndpointAzHour: number;
    readonly interfaceEndpointGb: number;
    readonly albHour: number;
    readonly albLcuHour: number;
    readonly nlbHour: number;
    readonly nlbLcuHour: number;
    readonly route53HostedZoneMonth: number;
    readonly route53QueriesPerMillion: number;
    /** A health check of an AWS endpoint; each optional feature adds `route53HealthCheckFeatureMonth`. */
    readonly route53HealthCheckMonth: number;
    readonly route53HealthCheckFeatureMonth: number;
    readonly clientVpnAssociationHour: number;
    readonly clientVpnConnectionHour: number;
    /** A site-to-site VPN connection (both tunnels), per hour it exists. */
    readonly siteToSiteVpnConnectionHour: number;
    readonly transitGatewayAttachmentHour: number;
    readonly transitGatewayGb: number;
    readonly wafWebAclMonth: number;
    readonly wafRuleMonth: number;
    readonly wafPerMillionRequests: number;
    readonly cloudTrailDataEventsPer100k: number;
    /** Vended logs (flow logs, WAF, NLB access logs) delivered to S3, per GB. */
    readonly vendedLogsToS3Gb: number;
}

export const PRICES: PriceList = {
    region: "us-east-1",
    date: "2026-11-24",
    currency: "USD",
    hoursPerMonth: 730,
    sources: "plan/prices.ts: AWS-CHECKLIST.md price table and public list-price pages dated 2026",
    ec2Hourly: {
        "t3.medium": 0.0416, // [ec2-t3]
        "t3.large": 0.0832, // [ec2-t3]
        "m7g.large": 0.0816, // [ec2-m7g]
    },
    rdsHourly: {
        "db.t4g.micro": 0.016, // [rds-t4g]
        "db.t4g.small": 0.032, // [rds-t4g]
        "db.t4g.medium": 0.065, // [rds-t4g]
        "db.t4g.large": 0.129, // [rds-m7g]
        "db.m7g.large": 0.168, // [rds-m7g]
    },
    rdsGp3GbMonth: 0.115, // [rds-gp3]
    ebsGbMonth: { gp3: 0.08 }, // [ebs-gp3]
    s3StandardGbMonth: 0.023, // [s3]
    kmsKeyMonth: 1.0, // [kms]
    secretMonth: 0.4, // [secrets]
    publicIpv4Hour: 0.005, // [checklist]
    natGatewayHour: 0.045, // [checklist]
    natGatewayGb: 0.045, // [checklist]
    interfaceEndpointAzHour: 0.01, // [checklist]
    interfaceEndpointGb: 0.01, // [checklist]
    albHour: 0.0225, // [checklist]
    albLcuHour: 0.008, // [checklist]
    nlbHour: 0.0225, // [checklist]
    nlbLcuHour: 0.006, // [checklist]
    route53HostedZoneMonth: 0.5, // [checklist]
    route53QueriesPerMillion: 0.4, // [checklist]
    route53HealthCheckMonth: 0.5, // [checklist]
    route53HealthCheckFeatureMonth: 1.0, // [checklist]: HTTPS, 10 s interval, string match, latency
    clientVpnAssociationHour: 0.1, // [checklist]
    clientVpnConnectionHour: 0.05, // [checklist]
    siteToSiteVpnConnectionHour: 0.05, // [vpn-s2s]
    transitGatewayAttachmentHour: 0.05, // [tgw]
    transitGatewayGb: 0.02, // [tgw]
    wafWebAclMonth: 5.0, // [checklist]
    wafRuleMonth: 1.0, // [checklist]
    wafPerMillionRequests: 0.6, // [checklist]
    cloudTrailDataEventsPer100k: 0.1, // [trail]
    vendedLogsToS3Gb: 0.25, // [vended]
};

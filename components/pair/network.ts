// The pair's network: the VPC over two AZs, the S3 gateway endpoint, and the two security groups (instances,
// database). The instance group's only ingress of its own is the peer fallback (nginx of one instance to the other's
// peer-only ports); each front door adds exactly what its clients need.
import * as aws from "@pulumi/aws";
import * as awsx from "@pulumi/awsx";
import * as pulumi from "@pulumi/pulumi";
import { DATABASE_PORT, PEER_PORTS, PEER_WEB_PORT } from "../../rules/ports";
import { s3ServiceName, tagsFor } from "../naming";
import { createEndpoints, endpointPolicyJson } from "./endpoints";
import { slotAddress } from "../../rules/rollout";
import { at, PairContext } from "./shared";

export interface Network {
    readonly vpcId: pulumi.Output<string>;
    readonly publicSubnetIds: pulumi.Output<string[]>;
    readonly privateSubnetIds: pulumi.Output<string[]>;
    /** Where the instances run: the public subnets (public placement) or the private ones. */
    readonly instanceSubnetIds: pulumi.Output<string[]>;
    readonly instanceSecurityGroup: aws.ec2.SecurityGroup;
    readonly databaseSecurityGroup: aws.ec2.SecurityGroup;
    /** Every route table of the VPC, one per subnet: where routes to a site go. */
    readonly routeTableIds: pulumi.Output<string>[];
    /**
     * Private placement: each instance subnet's reserved slot address (rules/rollout.ts slotAddress), which the
     * slot's instance, and any replacement of it, takes. Absent in public placement (the Elastic IPs do that).
     */
    readonly slotAddresses?: pulumi.Output<string>[];
}

/**
 * Public subnets (Elastic IPs, NAT, load balancers) and private subnets (the database; the instances when a front
 * door hides them). Private subnets route through NAT only when instances live there, so changing pattern
 * re-routes the same subnets instead of replacing them.
 */
export function createNetwork(ctx: PairContext, args: { readonly vpcCidr: string; readonly placement: "public" | "private"; readonly internetAccess?: boolean }): Network {
    if (args.internetAccess === false) return createIsolatedNetwork(ctx, { vpcCidr: args.vpcCidr });
    const isPublic = args.placement === "public";
    const vpc = createVpc(ctx, args.vpcCidr, [{ type: "Public" }, { type: "Private" }], isPublic ? "None" : ctx.prod ? "OnePerAz" : "Single");

    // S3 through a gateway endpoint, not NAT: studies are large, and NAT charges per GB. A gateway endpoint
    // only works for the route tables it lists, so it lists every route table of the VPC.
    const routeTableIds = createS3Endpoint(ctx, vpc);

    const { instanceSecurityGroup, databaseSecurityGroup } = createSecurityGroups(ctx, vpc.vpcId);
    const slots = isPublic ? undefined : reserveSlotAddresses(ctx, vpc.privateSubnetIds);
    const privateSubnetIds = slots?.subnetIds ?? vpc.privateSubnetIds;
    return {
        vpcId: vpc.vpcId,
        publicSubnetIds: vpc.publicSubnetIds,
        privateSubnetIds,
        instanceSubnetIds: isPublic ? vpc.publicSubnetIds : privateSubnetIds,
        instanceSecurityGroup,
        databaseSecurityGroup,
        routeTableIds: [0, 1, 2, 3].map((i) => routeTableIds.apply((ids) => ids[i])),
        slotAddresses: slots?.addresses,
    };
}

/**
 * One explicit subnet CIDR reservation per instance subnet: AWS hands its addresses to no interface by itself, so
 * the slot's address stays free for whichever instance holds the slot. The subnet ids returned depend on the
 * reservations, so the database, endpoints and VPN interfaces placed in these subnets are created after them and
 * can never take a slot address.
 */
function reserveSlotAddresses(ctx: PairContext, subnetIds: pulumi.Output<string[]>): { subnetIds: pulumi.Output<string[]>; addresses: pulumi.Output<string>[] } {
    const { name, parent } = ctx;
    const reservations = [0, 1].map((i) => {
        const subnetId = subnetIds.apply((ids) => at(ids, i));
        const slot = aws.ec2.getSubnetOutput({ id: subnetId }, { parent }).cidrBlock.apply(slotAddress);
        const reservation = new aws.ec2.SubnetCidrReservation(
            `${name}-slot-${i + 1}`,
            { subnetId, cidrBlock: slot.reservation, reservationType: "explicit", description: `${name}: instance ${i + 1}'s address, kept across replacements` },
            { parent },
        );
        return { reservation, address: pulumi.all([slot.address, reservation.id]).apply(([address]) => address) };
    });
    return {
        subnetIds: pulumi.all([subnetIds, pulumi.all(reservations.map((r) => r.reservation.id))]).apply(([ids]) => ids),
        addresses: reservations.map((r) => r.address),
    };
}

function createVpc(ctx: PairContext, vpcCidr: string, subnetSpecs: awsx.types.input.ec2.SubnetSpecArgs[], natStrategy: "None" | "Single" | "OnePerAz"): awsx.ec2.Vpc {
    const { name, tags, parent } = ctx;
    return new awsx.ec2.Vpc(
        `${name}-vpc`,
        {
            cidrBlock: vpcCidr,
            numberOfAvailabilityZones: 2,
            enableDnsHostnames: true,
            enableDnsSupport: true,
            subnetStrategy: "Auto",
            subnetSpecs,
            natGateways: { strategy: natStrategy },
            tags: tagsFor(`${name}-vpc`, tags),
        },
        { parent },
    );
}

/**
 * Its policy admits this account's buckets and the AWS-owned ones dnf and docker read (rules/vpcEndpoints.ts): in
 * the VPC's region every S3 request takes this route, so no other bucket can receive a copy of the studies.
 */
function createS3Endpoint(ctx: PairContext, vpc: awsx.ec2.Vpc): pulumi.Output<string[]> {
    const { name, tags, parent } = ctx;
    const routeTableIds = vpc.routeTables.apply((tables) => pulumi.all((tables ?? []).map((table) => table.id)));
    const accountId = aws.getCallerIdentityOutput({}, { parent }).accountId;
    new aws.ec2.VpcEndpoint(
        `${name}-s3`,
        {
            vpcId: vpc.vpcId,
            serviceName: s3ServiceName(ctx.region),
            vpcEndpointType: "Gateway",
            routeTableIds,
            policy: endpointPolicyJson(ctx, "s3", accountId),
            tags: tagsFor(`${name}-s3`, tags),
        },
        { parent },
    );
    return routeTableIds;
}

/**
 * No internet at all: isolated subnets only (awsx then makes no internet gateway and no NAT), the instances and the
 * database in them, AWS reached through the S3 gateway endpoint and interface endpoints. Clients come over a VPN.
 */
function createIsolatedNetwork(ctx: PairContext, args: { readonly vpcCidr: string }): Network {
    const vpc = createVpc(ctx, args.vpcCidr, [{ type: "Isolated" }], "None");
    const routeTableIds = createS3Endpoint(ctx, vpc);
    const slots = reserveSlotAddresses(ctx, vpc.isolatedSubnetIds);
    createEndpoints(ctx, { vpcId: vpc.vpcId, vpcCidr: args.vpcCidr, subnetIds: slots.subnetIds });
    const { instanceSecurityGroup, databaseSecurityGroup } = createSecurityGroups(ctx, vpc.vpcId);
    return {
        vpcId: vpc.vpcId,
        publicSubnetIds: pulumi.output([] as string[]),
        privateSubnetIds: slots.subnetIds,
        instanceSubnetIds: slots.subnetIds,
        instanceSecurityGroup,
        databaseSecurityGroup,
        routeTableIds: [0, 1].map((i) => routeTableIds.apply((ids) => ids[i])),
        slotAddresses: slots.addresses,
    };
}

function createSecurityGroups(ctx: PairContext, vpcId: pulumi.Output<string>) {
    const { name, tags, parent } = ctx;
    const databaseSecurityGroup = new aws.ec2.SecurityGroup(
        `${name}-db`,
        {
            vpcId,
            description: `${name}: PostgreSQL, reachable from the Orthanc instances only`,
            // The database initiates nothing.
            egress: [],
            tags: tagsFor(`${name}-db`, tags),
        },
        { parent },
    );
    const instanceSecurityGroup = new aws.ec2.SecurityGroup(
        `${name}-instances`,
        {
            vpcId,
            description: `${name}: Orthanc instances; ingress comes from the front door`,
            egress: [
                { protocol: "tcp", fromPort: 443, toPort: 443, cidrBlocks: ["0.0.0.0/0"], description: "HTTPS out: container images, packages, AWS APIs" },
                { protocol: "tcp", fromPort: DATABASE_PORT, toPort: DATABASE_PORT, securityGroups: [databaseSecurityGroup.id], description: "PostgreSQL index" },
                ...PEER_PORTS.map((port) => ({ protocol: "tcp", fromPort: port, toPort: port, self: true, description: `Peer fallback to the other instance's nginx on ${port}` })),
            ],
            tags: tagsFor(`${name}-instances`, tags),
        },
        { parent },
    );
    new aws.vpc.SecurityGroupIngressRule(
        `${name}-db-from-instances`,
        {
            securityGroupId: databaseSecurityGroup.id,
            referencedSecurityGroupId: instanceSecurityGroup.id,
            ipProtocol: "tcp",
            fromPort: DATABASE_PORT,
            toPort: DATABASE_PORT,
            description: "PostgreSQL from the Orthanc instances",
            tags: tagsFor(`${name}-db-from-instances`, tags),
        },
        { parent },
    );
    // Peer fallback: an instance whose Orthanc refuses hands the work to the other instance's peer-only listeners.
    for (const port of PEER_PORTS) {
        new aws.vpc.SecurityGroupIngressRule(
            `${name}-peer-${port}`,
            {
                securityGroupId: instanceSecurityGroup.id,
                referencedSecurityGroupId: instanceSecurityGroup.id,
                ipProtocol: "tcp",
                fromPort: port,
                toPort: port,
                description: `Peer fallback from the other Orthanc instance's nginx (${port === PEER_WEB_PORT ? "HTTPS" : "DICOM TLS"})`,
                tags: tagsFor(`${name}-peer-${port}`, tags),
            },
            { parent },
        );
    }
    return { instanceSecurityGroup, databaseSecurityGroup };
}

import { specialSecretSig, specialSigKey } from "@pulumi/pulumi/runtime/rpc";
import { expect } from "chai";
import { siteDicomCidrs } from "../rules/siteToSite";
import * as pulumi from "@pulumi/pulumi";
import { PSK_IGNORED_AFTER_CREATE, siteToSiteDetails, SiteToSiteVpnAccess, TUNNEL_ALARM, tunnelOptions } from "../components/siteToSiteVpnAccess";
import { instanceEndpoints } from "../components/pair/endpoints";
import { promiseOf, runUnderMocks } from "../plan/mockRuntime";
import { SITE_TYPES } from "../plan/siteToSite";
import { DEFAULT_TUNNEL_ALGORITHMS, PSK_PATTERN } from "../rules/siteToSite";
import { bootstrapFilesOf, build, Built, REGION, TYPES, userDataOf, withConfig } from "./harness";

const T = {
    ...TYPES,
    ...SITE_TYPES,
    tgwRoute: "aws:ec2transitgateway/route:Route",
    alarm: "aws:cloudwatch/metricAlarm:MetricAlarm",
    randomPassword: "random:index/randomPassword:RandomPassword",
    bucketObject: "aws:s3/bucketObjectv2:BucketObjectv2",
} as const;

const SITE = { customerGatewayIp: "198.51.100.10", onPremisesCidrs: ["10.40.0.0/16", "10.41.0.0/24"] };
const CACHE_ARN = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:ecr-pullthroughcache/dockerhub-AbCdEf";
const unwrap = (v: any) => (v && typeof v === "object" && v[specialSigKey] === specialSecretSig ? v.value : v);

/** The component on its own, under mocks. */
function alone(alertTopicArn?: string) {
    return runUnderMocks({ stack: "test", region: REGION }, () => {
        const site = new SiteToSiteVpnAccess("site", {
            vpcId: "vpc-1",
            vpcCidr: "172.17.0.0/16",
            routeTableIds: ["rtb-1"],
            attachmentSubnetIds: [],
            instanceSecurityGroupId: "sg-1",
            customerGatewayIp: "198.51.100.10",
            onPremisesCidrs: ["10.40.0.0/16"],
            tunnels: { ...DEFAULT_TUNNEL_ALGORITHMS, insideCidrs: ["169.254.210.0/30", "169.254.210.4/30"] },
            alertTopicArn,
        });
        return promiseOf(site.connectionId as pulumi.Output<string>);
    });
}

describe("SiteToSiteVpnAccess", () => {
    let stat: Built;
    let bgp: Built;
    let tgw: Built;
    before(async () => {
        stat = await build(withConfig({ "orthweb:traffic": { frontDoor: "none", siteToSiteVpn: SITE } }));
        bgp = await build(withConfig({ "orthweb:traffic": { frontDoor: "direct", siteToSiteVpn: { ...SITE, bgpAsn: 65010 } } }));
        tgw = await build(withConfig({ "orthweb:traffic": { frontDoor: "none", siteToSiteVpn: { ...SITE, transitGatewayId: "tgw-0123456789abcdef0", transitGatewayRouteTableId: "tgw-rtb-0123456789abcdef0", tunnels: { insideCidrs: ["169.254.210.0/30", "169.254.210.4/30"] } } } }));
    });

    const connection = (b: Built) => b.one(T.vpnConnection, "site-connection");

    it("makes a customer gateway for the site's address, ASN 65000 for static routing or the site's own", () => {
        expect(stat.one(T.customerGateway, "site-cgw").inputs).to.include({ ipAddress: "198.51.100.10", bgpAsn: "65000", type: "ipsec.1" });
        expect(bgp.one(T.customerGateway, "site-cgw").inputs.bgpAsn).to.equal("65010");
    });

    it("sets both tunnels to IKEv2 only with the configured algorithms, its inside /30 and a generated key (a secret)", () => {
        const inputs = connection(stat).inputs;
        for (const n of [1, 2]) {
            expect(inputs[`tunnel${n}IkeVersions`]).to.deep.equal(["ikev2"]);
            for (const phase of [1, 2]) {
                expect(inputs[`tunnel${n}Phase${phase}EncryptionAlgorithms`]).to.deep.equal(["AES256-GCM-16"]);
                expect(inputs[`tunnel${n}Phase${phase}IntegrityAlgorithms`]).to.deep.equal(["SHA2-384"]);
                expect(inputs[`tunnel${n}Phase${phase}DhGroupNumbers`]).to.deep.equal([20]);
            }
            expect(inputs[`tunnel${n}InsideCidr`]).to.equal(n === 1 ? "169.254.210.0/30" : "169.254.210.4/30");
            const psk = inputs[`tunnel${n}PresharedKey`];
            expect(psk[specialSigKey], `tunnel ${n} key is a secret`).to.equal(specialSecretSig);
            expect(psk.value).to.match(PSK_PATTERN);
            expect(inputs[`tunnel${n}DpdTimeoutAction`]).to.equal("restart");
            expect(inputs[`tunnel${n}StartupAction`]).to.equal("add");
        }
        expect(inputs.presharedKeyStorage).to.equal("SecretsManager");
        // The keys come from RandomPasswords over the PSK alphabet: the two tunnels never share one.
        const passwords = stat.ofType(T.randomPassword).filter((p) => p.name.startsWith("site-psk-"));
        expect(passwords.map((p) => p.inputs)).to.deep.equal([1, 2].map(() => ({ length: 48, special: true, overrideSpecial: "_.", minLower: 1, minUpper: 1, minNumeric: 1 })));
        expect(unwrap(inputs.tunnel1PresharedKey)).to.not.equal(unwrap(inputs.tunnel2PresharedKey));
    });

    it("routes statically without an ASN: connection routes, propagated into every route table of the VPC", () => {
        expect(connection(stat).inputs.staticRoutesOnly).to.equal(true);
        expect(stat.ofType(T.staticRoute).map((r) => r.inputs.destinationCidrBlock)).to.deep.equal(SITE.onPremisesCidrs);
        const vgw = stat.one(T.vpnGateway, "site-vgw");
        expect(connection(stat).inputs.vpnGatewayId).to.equal(vgw.id);
        // Every route table of the VPC: replies to the site leave from wherever the instances are.
        expect(stat.ofType(T.propagation).map((p) => [p.inputs.vpnGatewayId, p.inputs.routeTableId])).to.deep.equal(
            ["public", "private"].flatMap((k) => ["a", "b"].map((az) => [vgw.id, `rtb-${k}-${REGION}${az}`])),
        );
    });

    it("with BGP: no static routes, propagation into public and private route tables (instances may be public)", () => {
        expect(connection(bgp).inputs.staticRoutesOnly).to.equal(false);
        expect(bgp.ofType(T.staticRoute)).to.have.length(0);
        expect(bgp.ofType(T.propagation).map((p) => p.inputs.routeTableId)).to.deep.equal(["Public", "Private"].flatMap((k) => ["a", "b"].map((az) => `rtb-${k.toLowerCase()}-${REGION}${az}`)));
    });

    it("with a transit gateway: no VPN gateway, a VPC attachment, static routes to it and on its route table", () => {
        expect(tgw.ofType(T.vpnGateway)).to.have.length(0);
        expect(connection(tgw).inputs.transitGatewayId).to.equal("tgw-0123456789abcdef0");
        const attachment = tgw.one(T.tgwAttachment, "site-tgw");
        expect(attachment.inputs.subnetIds).to.deep.equal([`subnet-private-${REGION}a`, `subnet-private-${REGION}b`]);
        const routes = tgw.ofType(T.route);
        expect(routes).to.have.length(4 * SITE.onPremisesCidrs.length);
        for (const r of routes) {
            expect(r.inputs.transitGatewayId).to.equal("tgw-0123456789abcdef0");
            expect(r.options!.dependencies).to.include(`${T.tgwAttachment}::site-tgw`);
        }
        expect(tgw.ofType(T.tgwRoute).map((r) => [r.inputs.destinationCidrBlock, r.inputs.transitGatewayRouteTableId, r.inputs.transitGatewayAttachmentId])).to.deep.equal(
            // The configured table, never an assumed default one (it may be disabled).
            SITE.onPremisesCidrs.map((c) => [c, "tgw-rtb-0123456789abcdef0", "tgw-attach-0mock1"]),
        );
    });

    it("admits each on-premises range on 443 and 11112 of the instance group, and nothing else", () => {
        const sg = stat.one(T.securityGroup, "orthanc-instances").id;
        const rules = stat.ofType(T.ingressRule).filter((r) => r.name.startsWith("site-"));
        expect(rules.map((r) => [r.inputs.securityGroupId, r.inputs.fromPort, r.inputs.toPort, r.inputs.cidrIpv4]).sort()).to.deep.equal(
            SITE.onPremisesCidrs.flatMap((c) => [[sg, 443, 443, c], [sg, 11112, 11112, c]]).sort(),
        );
        for (const r of rules) expect(r.inputs.ipProtocol).to.equal("tcp");
    });

    it("with frontDoor none and modalities listed, admits on 11112 only the modalities' blocks inside the site", async () => {
        const modalities = [
            { name: "ct-1", aet: "CT1", cidr: "10.40.3.0/24" },
            { name: "ct-2", aet: "CT2", cidr: "10.40.3.7/32" },
            { name: "us-1", aet: "US1", cidr: "192.0.2.0/28" },
        ];
        const run = await build(withConfig({ "orthweb:orthanc": { modalities }, "orthweb:traffic": { frontDoor: "none", siteToSiteVpn: SITE } }));
        const rules = run.ofType(T.ingressRule).filter((r) => r.name.startsWith("site-onprem-"));
        const on = (port: number) => rules.filter((r) => r.inputs.fromPort === port).map((r) => r.inputs.cidrIpv4).sort();
        expect(on(11112)).to.deep.equal(["10.40.3.0/24"]);
        expect(on(443)).to.deep.equal([...SITE.onPremisesCidrs].sort());
        // A modality without a block could send from anywhere in the site: the whole site stays admitted.
        const open = await build(withConfig({ "orthweb:orthanc": { modalities: [...modalities, { name: "mr-1", aet: "MR1" }] }, "orthweb:traffic": { frontDoor: "none", siteToSiteVpn: SITE } }));
        expect(open.ofType(T.ingressRule).filter((r) => r.name.startsWith("site-onprem-") && r.inputs.fromPort === 11112).map((r) => r.inputs.cidrIpv4).sort()).to.deep.equal([...SITE.onPremisesCidrs].sort());
        expect(siteDicomCidrs(["10.40.0.0/16"], [])).to.deep.equal(["10.40.0.0/16"]);
        expect(siteDicomCidrs(["10.40.0.0/16", "10.41.0.0/24"], [{ cidr: "10.41.0.5/32" }, { cidr: "10.41.0.5/32" }, { cidr: "10.9.0.0/16" }])).to.deep.equal(["10.41.0.5/32"]);
    });

    it("outputs a secret with both tunnels' addresses and keys, a swanctl.conf and the parameters", () => {
        expect(stat.secretOutputs.has("siteToSiteVpn")).to.equal(true);
        const out = stat.outputs.siteToSiteVpn;
        const inputs = connection(stat).inputs;
        expect(out.tunnels.map((t: any) => [t.outsideAddress, t.insideCidr, t.insideAddress, t.presharedKey])).to.deep.equal([
            [{ aws: "192.0.2.11", customerGateway: "198.51.100.10" }, "169.254.210.0/30", { aws: "169.254.210.1", customerGateway: "169.254.210.2" }, unwrap(inputs.tunnel1PresharedKey)],
            [{ aws: "192.0.2.12", customerGateway: "198.51.100.10" }, "169.254.210.4/30", { aws: "169.254.210.5", customerGateway: "169.254.210.6" }, unwrap(inputs.tunnel2PresharedKey)],
        ]);
        // Route-based: 0.0.0.0/0 selectors; the VPC's block is a route on the tunnel interfaces, tunnel 1 preferred.
        expect(out.swanctlConf).to.include("remote_ts = 0.0.0.0/0").and.include("local_ts = 0.0.0.0/0").and.include(`secret = "${unwrap(inputs.tunnel2PresharedKey)}"`);
        expect(out.staticRoutes.map((r: any) => [r.destination, r.metric])).to.deep.equal([["172.17.0.0/16", 100], ["172.17.0.0/16", 200]]);
        expect(out.strongswanConf).to.include("retransmit_tries = 3");
        expect(out.tunnelScript).to.match(/^#!\/bin\/sh/);
        expect(out.birdConf).to.equal(undefined);
        expect(bgp.outputs.siteToSiteVpn.birdConf).to.include("neighbor 169.254.210.1 as 64512;").and.include("route 10.40.0.0/16 unreachable;");
        expect(bgp.outputs.siteToSiteVpn.staticRoutes).to.equal(undefined);
        expect(out.parameters).to.deep.include({ ikeVersion: "IKEv2", mtu: 1399, tcpMss: 1359 });
        expect(out.parameters.routing).to.match(/^static: the on-premises ranges 10\.40\.0\.0\/16, 10\.41\.0\.0\/24/);
        expect(bgp.outputs.siteToSiteVpn.parameters.routing).to.match(/^BGP: customer ASN 65010, Amazon ASN 64512/);
    });

    it("leaves the tunnels alone on a second pulumi up although AWS reads the keys back REDACTED (Secrets Manager storage)", () => {
        const recorded = connection(stat);
        expect(recorded.inputs.presharedKeyStorage).to.equal("SecretsManager");
        // The provider's read-back: every input echoed, except the keys, which DescribeVpnConnections redacts once
        // they live in Secrets Manager (terraform-provider-aws PR #42819; the provider reads them from there).
        const readBack: Record<string, unknown> = { ...recorded.inputs, tunnel1PresharedKey: "REDACTED", tunnel2PresharedKey: "REDACTED" };
        const differing = Object.keys(recorded.inputs).filter((k) => JSON.stringify(unwrap(recorded.inputs[k])) !== JSON.stringify(unwrap(readBack[k])));
        expect(differing).to.deep.equal(["tunnel1PresharedKey", "tunnel2PresharedKey"]);
        const ignored = recorded.options?.ignoreChanges ?? [];
        expect(differing.filter((k) => !ignored.includes(k))).to.deep.equal([]);
        expect([...PSK_IGNORED_AFTER_CREATE]).to.deep.equal(ignored);
    });

    it("keeps the keys out of user data and every plain output", () => {
        const keys = [1, 2].map((n) => unwrap(connection(stat).inputs[`tunnel${n}PresharedKey`]));
        const plain = JSON.stringify(Object.fromEntries(Object.entries(stat.outputs).filter(([k]) => !stat.secretOutputs.has(k))));
        for (const key of keys) {
            expect(userDataOf(stat)).to.not.include(key);
            expect(plain).to.not.include(key);
        }
    });

    it("alarms on each tunnel's TunnelState and on both down to the stack's alerts topic", () => {
        const topic = stat.outputs.alertTopicArn;
        const alarms = stat.ofType(T.alarm).filter((a) => a.name.startsWith("site-"));
        expect(alarms.map((a) => [a.name, a.inputs.alarmActions])).to.deep.equal(["site-tunnel-1-down", "site-tunnel-2-down", "site-tunnels-down"].map((n) => [n, [topic]]));
    });

    it("says in the alarm texts which tunnel is down, that the site runs on the other, and with BGP that BGP is down", () => {
        const text = (built: Built, name: string) => String(unwrap(built.one(T.alarm, name).inputs.alarmDescription));
        expect(text(stat, "site-tunnel-1-down")).to.match(/tunnel 1 \(AWS 192\.0\.2\.11\) is down\. The site runs on tunnel 2 alone/);
        expect(text(stat, "site-tunnel-2-down")).to.match(/tunnel 2 \(AWS 192\.0\.2\.12\) is down\. The site runs on tunnel 1 alone/);
        expect(text(stat, "site-tunnel-1-down")).to.not.match(/BGP/);
        expect(text(bgp, "site-tunnel-2-down")).to.match(/the BGP session over tunnel 2 \(AWS 192\.0\.2\.12, inside 169\.254\.210\.4\/30\) is down/);
        expect(text(stat, "site-tunnels-down")).to.match(/both tunnels are down: the site cannot reach the Orthanc pair/);
        expect(text(bgp, "site-tunnels-down")).to.match(/no BGP session established on either/);
        // Both down: the better of the two tunnels' states below 1 (one up keeps it OK).
        const both = stat.one(T.alarm, "site-tunnels-down").inputs;
        const queries = both.metricQueries as any[];
        expect(queries.map((q) => [q.id, q.expression ?? q.metric.dimensions.TunnelIpAddress, q.returnData])).to.deep.equal([["t1", "192.0.2.11", false], ["t2", "192.0.2.12", false], ["up", "MAX([t1, t2])", true]]);
        expect(both).to.deep.include({ comparisonOperator: "LessThanThreshold", threshold: 1, treatMissingData: "breaching" });
        const maxOf = (states: [number, number]) => Math.max(...states) < both.threshold;
        expect([maxOf([0, 0]), maxOf([1, 0]), maxOf([0, 1]), maxOf([1, 1])]).to.deep.equal([true, false, false, false]);
    });

    it("alarms on each tunnel's TunnelState to the alerts topic when one is given, and not otherwise", async () => {
        const bare = await alone();
        expect(bare.registrations.filter((r) => r.type === T.alarm)).to.have.length(0);
        const topic = "arn:aws:sns:eu-west-1:123456789012:orthweb-alerts";
        const run = await alone(topic);
        const alarms = run.registrations.filter((r) => r.type === T.alarm);
        expect(alarms.map((a) => a.name)).to.deep.equal(["site-tunnel-1-down", "site-tunnel-2-down", "site-tunnels-down"]);
        alarms.slice(0, 2).forEach((a, i) => {
            expect(a.inputs).to.deep.include({
                namespace: "AWS/VPN",
                metricName: "TunnelState",
                dimensions: { TunnelIpAddress: `192.0.2.1${i + 1}` },
                statistic: "Maximum",
                comparisonOperator: "LessThanThreshold",
                threshold: 1,
                period: TUNNEL_ALARM.periodSeconds,
                evaluationPeriods: TUNNEL_ALARM.evaluationPeriods,
                treatMissingData: "breaching",
                alarmActions: [topic],
                okActions: [topic],
            });
        });
    });

    it("renders the output from what AWS assigned (pure)", () => {
        const details = siteToSiteDetails({
            connectionId: "vpn-1",
            customerGatewayIp: "198.51.100.10",
            awsAddresses: ["192.0.2.1", "192.0.2.2"],
            presharedKeys: ["k1_abcdefgh", "k2_abcdefgh"],
            insideCidrs: ["169.254.20.0/30", "169.254.20.4/30"],
            onPremisesCidrs: ["10.40.0.0/16"],
            vpcCidr: "172.17.0.0/16",
            algorithms: DEFAULT_TUNNEL_ALGORITHMS,
        });
        expect(details.tunnels[1].insideAddress).to.deep.equal({ aws: "169.254.20.5", customerGateway: "169.254.20.6" });
        expect(details.swanctlConf.match(/remote_addrs = (\S+)/g)).to.deep.equal(["remote_addrs = 192.0.2.1", "remote_addrs = 192.0.2.2"]);
        expect(details.swanctlConf.match(/start_action = (\S+)/g)).to.deep.equal(["start_action = start", "start_action = start"]);
        expect(Object.keys(tunnelOptions(2, DEFAULT_TUNNEL_ALGORITHMS, "169.254.20.4/30", "k")).every((k) => k.startsWith("tunnel2"))).to.equal(true);
    });
});

describe("OrthancPair without the internet (network.internetAccess false)", () => {
    let isolated: Built;
    let connected: Built;
    before(async () => {
        const cache = { "orthweb:orthanc": { pullThroughCache: { dockerHubCredentialsArn: CACHE_ARN } } };
        isolated = await build(withConfig({ "orthweb:network": { internetAccess: false }, ...cache, "orthweb:traffic": { frontDoor: "none", siteToSiteVpn: SITE, clientVpn: { clients: ["a"] } } }));
        connected = await build(withConfig({ "orthweb:traffic": { frontDoor: "none", siteToSiteVpn: SITE } }));
    });

    it("has isolated subnets only: no public subnet, hence no internet gateway, and no NAT", () => {
        const vpc = isolated.one(T.vpc, "orthanc-vpc").inputs;
        expect(vpc.subnetSpecs).to.deep.equal([{ type: "Isolated" }]);
        expect(vpc.natGateways).to.deep.equal({ strategy: "None" });
        expect(isolated.ofType(T.eip)).to.have.length(0);
        expect(isolated.ofType(T.autoscalingGroup).map((g) => g.inputs.vpcZoneIdentifiers[0])).to.deep.equal([`subnet-isolated-${REGION}a`, `subnet-isolated-${REGION}b`]);
        // Each slot keeps a reserved address there: what the site's modalities are configured with survives a replacement.
        expect(isolated.ofType(T.subnetCidrReservation).map((r) => r.inputs.subnetId)).to.deep.equal([`subnet-isolated-${REGION}a`, `subnet-isolated-${REGION}b`]);
        expect(connected.one(T.vpc, "orthanc-vpc").inputs.subnetSpecs).to.deep.equal([{ type: "Public" }, { type: "Private" }]);
    });

    it("propagates the site's routes into the isolated route tables", () => {
        expect(isolated.ofType(T.propagation).map((p) => p.inputs.routeTableId)).to.deep.equal([`rtb-isolated-${REGION}a`, `rtb-isolated-${REGION}b`]);
    });

    it("puts the database and the client VPN in the isolated subnets", () => {
        expect(isolated.one(TYPES.subnetGroup, "orthanc-db").inputs.subnetIds).to.deep.equal([`subnet-isolated-${REGION}a`, `subnet-isolated-${REGION}b`]);
        expect(isolated.ofType("aws:ec2clientvpn/networkAssociation:NetworkAssociation").map((a) => a.inputs.subnetId)).to.deep.equal([`subnet-isolated-${REGION}a`, `subnet-isolated-${REGION}b`]);
    });

    it("reaches AWS through an S3 gateway endpoint and interface endpoints with private DNS, behind a group open to the VPC on 443", () => {
        const endpoints = isolated.ofType(T.vpcEndpoint);
        const s3 = endpoints.find((e) => e.inputs.vpcEndpointType === "Gateway")!;
        expect(s3.inputs.serviceName).to.equal(`com.amazonaws.${REGION}.s3`);
        expect(s3.inputs.routeTableIds).to.deep.equal([`rtb-isolated-${REGION}a`, `rtb-isolated-${REGION}b`]);
        const interfaces = endpoints.filter((e) => e.inputs.vpcEndpointType === "Interface");
        const wanted = instanceEndpoints(REGION).filter((e) => e.type === "Interface").map((e) => `com.amazonaws.${REGION}.${e.service}`);
        expect(interfaces.map((e) => e.inputs.serviceName)).to.deep.equal(wanted);
        const group = isolated.one(T.securityGroup, "orthanc-endpoints");
        for (const e of interfaces) {
            expect(e.inputs).to.deep.include({ privateDnsEnabled: true, subnetIds: [`subnet-isolated-${REGION}a`, `subnet-isolated-${REGION}b`], securityGroupIds: [group.id] });
        }
        expect(group.inputs.ingress).to.deep.equal([{ protocol: "tcp", fromPort: 443, toPort: 443, cidrBlocks: ["172.17.0.0/16"], description: "HTTPS from the VPC to AWS APIs" }]);
        expect(connected.ofType(T.vpcEndpoint).filter((e) => e.inputs.vpcEndpointType === "Interface")).to.have.length(0);
    });

    it("pulls the images through the ECR pull-through cache, forced on even in dev", () => {
        expect(isolated.config.environment).to.equal("dev");
        expect(isolated.ofType("aws:ecr/pullThroughCacheRule:PullThroughCacheRule")).to.have.length(1);
        const compose = bootstrapFilesOf(isolated).find((f) => f.path.endsWith("docker-compose.yml"))!.content;
        expect(compose).to.match(/image: \S+\.dkr\.ecr\.eu-west-1\.amazonaws\.com\//);
        expect(compose).to.not.match(/image: (orthancteam|nginx)/);
    });

    it("takes the compose plugin from the stack's bucket, copied there by pulumi up, not from GitHub", () => {
        const objects = isolated.ofType(T.bucketObject).filter((o) => String(o.inputs.key).startsWith("_orthweb/tools/"));
        expect(objects.map((o) => o.inputs.key)).to.deep.equal(["_orthweb/tools/v2.32.4/docker-compose-linux-x86_64", "_orthweb/tools/v2.32.4/docker-compose-linux-x86_64.sha256"]);
        const start = bootstrapFilesOf(isolated).find((f) => f.path.endsWith("start.sh"))!.content;
        expect(start).to.include("readonly COMPOSE_S3='s3://orthanc-bucket-0mock/_orthweb/tools/v2.32.4/docker-compose-linux-x86_64'");
        const connectedStart = bootstrapFilesOf(connected).find((f) => f.path.endsWith("start.sh"))!.content;
        expect(connectedStart).to.include("readonly COMPOSE_S3=''");
        expect(connected.ofType(T.bucketObject).filter((o) => String(o.inputs.key).startsWith("_orthweb/tools/"))).to.have.length(0);
    });
});

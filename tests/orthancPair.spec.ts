import { expect } from "chai";
import { PEER_CERTIFICATE_NAME } from "../rules/certificates";
import { OrthancPair } from "../components/orthancPair";
import { MOCK_CERT_PEM, MOCK_PRIVATE_KEY_PEM, runUnderMocks, Registration } from "../plan/mockRuntime";
import { build, Built, deepFreeze, isSecretInput, REGION, reveal, TYPES, userDataOf, withConfig } from "./harness";

const PAIR_ARGS = {
    region: REGION,
    environment: "dev" as const,
    vpcCidr: "172.17.0.0/16",
    instanceType: "t3.medium",
    orthancImage: "orthancteam/orthanc:25.12.3",
    nginxImage: "nginx:1.28.0-alpine",
    aet: "ORTHANC",
    database: { instanceClass: "db.t4g.small", engineVersion: "16", allocatedStorageGiB: 20 },
};

const pairs = new Map<string, Promise<readonly Registration[]>>();

/** The pair alone under mocks with `args` over PAIR_ARGS, built once per set of args and shared read-only. */
function pairAlone(args: Partial<ConstructorParameters<typeof OrthancPair>[1]>): Promise<readonly Registration[]> {
    const key = JSON.stringify(args);
    if (!pairs.has(key)) {
        const run = runUnderMocks({ stack: "unit", region: REGION }, () => new OrthancPair("pair", { ...PAIR_ARGS, placement: "public", ...args }));
        pairs.set(key, run.then((r) => deepFreeze(r.registrations)));
    }
    return pairs.get(key)!;
}

const of = (regs: readonly Registration[], type: string) => regs.filter((r) => r.type === type);

describe("OrthancPair", () => {
    let dev: Built;
    let prod: Built;

    before(async () => {
        dev = await build();
        prod = await build(withConfig({ "orthweb:environment": "prod", "orthweb:network": { webClientCidrs: ["0.0.0.0/0"], dicomClientCidrs: ["0.0.0.0/0"] } }), "prod");
    });

    describe("network", () => {
        it("spans two AZs with public and private subnets, with no NAT while instances are public", () => {
            const [vpc] = dev.ofType(TYPES.vpc);
            expect(vpc.inputs).to.deep.include({ cidrBlock: "172.17.0.0/16", numberOfAvailabilityZones: 2, enableDnsHostnames: true, subnetStrategy: "Auto" });
            expect(vpc.inputs.subnetSpecs).to.deep.equal([{ type: "Public" }, { type: "Private" }]);
            expect(vpc.inputs.natGateways).to.deep.equal({ strategy: "None" });
        });

        it("sends S3 traffic through a gateway endpoint on every route table of the VPC, not through NAT", async () => {
            for (const regs of [dev.registrations, await pairAlone({ placement: "private" })]) {
                const endpoints = of(regs, TYPES.vpcEndpoint);
                expect(endpoints).to.have.length(1);
                expect(endpoints[0].inputs).to.deep.include({ serviceName: "com.amazonaws.eu-west-1.s3", vpcEndpointType: "Gateway", vpcId: "vpc-0mock" });
                expect(endpoints[0].inputs.routeTableIds).to.deep.equal([
                    `rtb-public-${REGION}a`,
                    `rtb-public-${REGION}b`,
                    `rtb-private-${REGION}a`,
                    `rtb-private-${REGION}b`,
                ]);
            }
        });

        it("routes the same private subnets through one NAT in dev and one per AZ in prod when instances are private", async () => {
            for (const [environment, strategy] of [["dev", "Single"], ["prod", "OnePerAz"]] as const) {
                const regs = await pairAlone({ placement: "private", environment });
                const [vpc] = of(regs, TYPES.vpc);
                expect(vpc.inputs.subnetSpecs, environment).to.deep.equal([{ type: "Public" }, { type: "Private" }]);
                expect(vpc.inputs.natGateways, environment).to.deep.equal({ strategy });
            }
        });
    });

    describe("instances", () => {
        it("runs two instances, each the only one of its slot, in two different public subnets (one per AZ)", () => {
            const slots = dev.ofType(TYPES.autoscalingGroup);
            expect(slots.map((g) => g.name)).to.deep.equal(["orthanc-1", "orthanc-2"]);
            const subnets = slots.map((g) => g.inputs.vpcZoneIdentifiers);
            expect(subnets).to.deep.equal([[`subnet-public-${REGION}a`], [`subnet-public-${REGION}b`]]);
            expect(new Set(slots.map((g) => g.state.availabilityZones[0])).size).to.equal(2);
            for (const g of slots) expect([g.inputs.minSize, g.inputs.desiredCapacity]).to.deep.equal([1, 1]);
            expect(dev.ofType(TYPES.instance)).to.deep.equal([]);
        });

        it("gives each slot an Elastic IP, which the slot's instance takes (no association fixed to one instance)", () => {
            const eips = dev.ofType(TYPES.eip);
            expect(eips).to.have.length(2);
            expect(dev.ofType(TYPES.eipAssociation)).to.deep.equal([]);
            const claimed = dev.ofType(TYPES.autoscalingGroup).map((g) => g.inputs.tags.find((t: { key: string }) => t.key === "orthweb:address")?.value);
            expect(claimed).to.deep.equal(eips.map((e) => e.state.allocationId));
        });

        it("gives private instances no Elastic IP but a reserved address in their subnet", async () => {
            const regs = await pairAlone({ placement: "private" });
            expect(of(regs, TYPES.eip)).to.deep.equal([]);
            expect(of(regs, TYPES.autoscalingGroup).map((g) => g.inputs.vpcZoneIdentifiers)).to.deep.equal([[`subnet-private-${REGION}a`], [`subnet-private-${REGION}b`]]);
            expect(of(regs, TYPES.subnetCidrReservation).map((r) => r.inputs.subnetId)).to.deep.equal([`subnet-private-${REGION}a`, `subnet-private-${REGION}b`]);
        });

        it("launches from one template: Amazon Linux 2023, IMDSv2 required with hop limit 2, detailed monitoring", () => {
            const [lt] = dev.ofType(TYPES.launchTemplate);
            expect(lt.inputs.imageId).to.equal("resolve:ssm:/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64");
            expect(lt.inputs.metadataOptions).to.deep.equal({ httpEndpoint: "enabled", httpTokens: "required", httpPutResponseHopLimit: 2 });
            expect(lt.inputs.monitoring).to.deep.equal({ enabled: true });
            expect(lt.inputs.iamInstanceProfile.arn).to.be.a("string");
            for (const inst of dev.ofType(TYPES.instance)) expect(inst.inputs.launchTemplate.id).to.equal(lt.id);
        });

        it("picks the arm64 image for a Graviton instance type", async () => {
            const regs = await pairAlone({ instanceType: "m7g.large" });
            expect(of(regs, TYPES.launchTemplate)[0].inputs.imageId).to.match(/al2023-ami-kernel-default-arm64$/);
        });

        it("encrypts the gp3 root volume with the stack's KMS key", () => {
            const [lt] = dev.ofType(TYPES.launchTemplate);
            const [key] = dev.ofType(TYPES.kmsKey);
            expect(lt.inputs.blockDeviceMappings).to.deep.equal([
                { deviceName: "/dev/xvda", ebs: { volumeSize: 30, volumeType: "gp3", encrypted: "true", kmsKeyId: key.state.arn, deleteOnTermination: "true" } },
            ]);
        });
    });

    describe("data", () => {
        it("rotates the KMS key", () => {
            const keys = dev.ofType(TYPES.kmsKey);
            expect(keys).to.have.length(1);
            expect(keys[0].inputs.enableKeyRotation).to.equal(true);
        });

        it("keeps the bucket versioned, KMS-encrypted, closed to the public and TLS-only", () => {
            const [bucket] = dev.ofType(TYPES.bucket);
            const [key] = dev.ofType(TYPES.kmsKey);
            expect(dev.one(TYPES.bucketVersioning, "orthanc-bucket").inputs).to.deep.include({ bucket: bucket.id, versioningConfiguration: { status: "Enabled" } });
            expect(dev.one(TYPES.bucketEncryption, "orthanc-bucket").inputs.rules).to.deep.equal([
                { applyServerSideEncryptionByDefault: { sseAlgorithm: "aws:kms", kmsMasterKeyId: key.state.arn }, bucketKeyEnabled: true },
            ]);
            expect(dev.one(TYPES.bucketPublicAccess, "orthanc-bucket").inputs).to.include({ blockPublicAcls: true, blockPublicPolicy: true, ignorePublicAcls: true, restrictPublicBuckets: true });
            const policy = JSON.parse(dev.one(TYPES.bucketPolicy, "orthanc-bucket").inputs.policy);
            expect(policy.Statement).to.deep.include({
                Sid: "DenyInsecureTransport",
                Effect: "Deny",
                Principal: "*",
                Action: "s3:*",
                Resource: [bucket.state.arn, `${bucket.state.arn}/*`],
                Condition: { Bool: { "aws:SecureTransport": "false" } },
            });
        });

        it("lets dev stacks delete a non-empty bucket and keeps prod's", () => {
            expect(dev.ofType(TYPES.bucket)[0].inputs.forceDestroy).to.equal(true);
            expect(prod.ofType(TYPES.bucket)[0].inputs.forceDestroy).to.equal(false);
        });

        it("runs an encrypted, private PostgreSQL whose password RDS manages (the program never sees it)", () => {
            const db = dev.one(TYPES.rds, "orthanc-db");
            const [key] = dev.ofType(TYPES.kmsKey);
            expect(db.inputs).to.deep.include({ engine: "postgres", engineVersion: "16", storageEncrypted: true, kmsKeyId: key.state.arn, publiclyAccessible: false, manageMasterUserPassword: true });
            expect(db.inputs).to.not.have.property("password");
            expect(db.inputs.masterUserSecretKmsKeyId).to.equal(key.state.arn);
        });

        it("places the database in the private subnets", () => {
            const group = dev.one(TYPES.subnetGroup, "orthanc-db");
            expect(group.inputs.subnetIds).to.deep.equal([`subnet-private-${REGION}a`, `subnet-private-${REGION}b`]);
            expect(dev.one(TYPES.rds, "orthanc-db").inputs.dbSubnetGroupName).to.equal(group.state.name ?? group.inputs.name);
        });

        it("admits PostgreSQL only from the instance security group", () => {
            const dbSg = dev.one(TYPES.securityGroup, "orthanc-db");
            const instanceSg = dev.one(TYPES.securityGroup, "orthanc-instances");
            expect(dev.one(TYPES.rds, "orthanc-db").inputs.vpcSecurityGroupIds).to.deep.equal([dbSg.id]);
            const intoDb = dev.ofType(TYPES.ingressRule).filter((r) => r.inputs.securityGroupId === dbSg.id);
            expect(intoDb).to.have.length(1);
            expect(intoDb[0].inputs).to.deep.include({ referencedSecurityGroupId: instanceSg.id, fromPort: 5432, toPort: 5432, ipProtocol: "tcp" });
            expect(intoDb[0].inputs).to.not.have.property("cidrIpv4");
        });

        it("is multi-AZ, deletion-protected, snapshotted on delete and backed up 7 days in prod only", () => {
            expect(dev.one(TYPES.rds, "orthanc-db").inputs).to.deep.include({ multiAz: false, deletionProtection: false, skipFinalSnapshot: true, backupRetentionPeriod: 1 });
            const p = prod.one(TYPES.rds, "orthanc-db").inputs;
            expect(p).to.deep.include({ multiAz: true, deletionProtection: true, skipFinalSnapshot: false, backupRetentionPeriod: 7 });
            expect(p.finalSnapshotIdentifier).to.be.a("string").and.not.equal("");
        });
    });

    describe("security groups", () => {
        it("declares egress on every security group (the provider drops AWS's default allow-all)", () => {
            for (const built of [dev, prod]) {
                for (const sg of built.ofType(TYPES.securityGroup)) expect(sg.inputs, sg.name).to.have.property("egress");
            }
        });

        it("gives the instance group egress only: HTTPS out, PostgreSQL to the database group, the peer ports to itself; no inline ingress", () => {
            const sg = dev.one(TYPES.securityGroup, "orthanc-instances");
            const dbSg = dev.one(TYPES.securityGroup, "orthanc-db");
            expect(sg.inputs).to.not.have.property("ingress");
            expect(sg.inputs.egress.map((e: any) => [e.fromPort, e.toPort, e.cidrBlocks ?? e.securityGroups ?? (e.self ? "self" : undefined)])).to.deep.equal([
                [443, 443, ["0.0.0.0/0"]],
                [5432, 5432, [dbSg.id]],
                [8443, 8443, "self"],
                [11113, 11113, "self"],
            ]);
        });

        it("opens only the peer-only ports on the instances, and only to each other: a pair alone has no other instance ingress", async () => {
            const regs = await pairAlone({});
            const instanceSg = of(regs, TYPES.securityGroup).find((s) => s.name === "pair-instances")!;
            const rules = of(regs, TYPES.ingressRule).filter((r) => r.inputs.securityGroupId === instanceSg.id);
            expect(rules.map((r) => [r.inputs.fromPort, r.inputs.toPort, r.inputs.ipProtocol, r.inputs.referencedSecurityGroupId, r.inputs.cidrIpv4])).to.deep.equal([
                [8443, 8443, "tcp", instanceSg.id, undefined],
                [11113, 11113, "tcp", instanceSg.id, undefined],
            ]);
        });
    });

    describe("identity", () => {
        it("scopes the instance role to its bucket, its three secrets and its key, plus the SSM agent and reading instances (to find the peer)", () => {
            const policy = JSON.parse(dev.one(TYPES.rolePolicy, "orthanc-data").inputs.policy);
            const [bucket] = dev.ofType(TYPES.bucket);
            const [key] = dev.ofType(TYPES.kmsKey);
            const secrets = dev.ofType(TYPES.secret).map((s) => s.state.arn);
            const rdsSecret = dev.one(TYPES.rds, "orthanc-db").state.masterUserSecrets[0].secretArn;
            const byId = Object.fromEntries(policy.Statement.map((s: any) => [s.Sid, s]));
            expect(byId.ListBucket.Resource).to.deep.equal([bucket.state.arn]);
            expect(byId.ReadWriteObjects.Resource).to.deep.equal([`${bucket.state.arn}/*`]);
            expect([...byId.ReadSecrets.Resource].sort()).to.deep.equal([...secrets, rdsSecret].sort());
            expect(byId.UseDataKey.Resource).to.deep.equal([key.state.arn]);
            // The one action AWS cannot scope: reading instances, so that each finds its peer (peer.sh).
            expect(byId.FindPeer).to.deep.equal({ Sid: "FindPeer", Effect: "Allow", Action: ["ec2:DescribeInstances"], Resource: "*" });
            const others = policy.Statement.filter((s: any) => s.Sid !== "FindPeer");
            expect(JSON.stringify(others)).to.not.match(/"Resource":"\*"|"\*"\]/);
            // The SSM agent's own calls instead of AmazonSSMManagedInstanceCore (tests/iamEvaluation.spec.ts evaluates them).
            expect(dev.ofType(TYPES.rolePolicyAttachment)).to.deep.equal([]);
            expect(JSON.parse(dev.one(TYPES.rolePolicy, "orthanc-ssm-agent").inputs.policy).Statement.map((s: any) => s.Sid)).to.deep.equal(["SsmAgentCore", "SsmAgentDocuments"]);
        });

        it("keeps the Orthanc admin login in Secrets Manager, encrypted with the stack key", () => {
            const admin = dev.one(TYPES.secret, "orthanc-admin");
            const [key] = dev.ofType(TYPES.kmsKey);
            expect(admin.inputs.kmsKeyId).to.equal(key.state.arn);
            const secretString = dev.one(TYPES.secretVersion, "orthanc-admin").inputs.secretString;
            expect(isSecretInput(secretString), "passed as a Pulumi secret").to.equal(true);
            expect(JSON.parse(reveal(secretString))).to.deep.equal({ username: "admin", password: "mock-password-orthanc-admin" });
        });
    });

    describe("TLS", () => {
        it("self-signs an RSA 2048 server certificate naming both Elastic IPs' DNS names and addresses", () => {
            expect(dev.one(TYPES.privateKey, "orthanc-tls").inputs).to.include({ algorithm: "RSA", rsaBits: 2048 });
            const cert = dev.one(TYPES.selfSignedCert, "orthanc-tls").inputs;
            const eips = dev.ofType(TYPES.eip).map((e) => e.state);
            expect(cert.dnsNames).to.deep.equal(eips.map((e) => e.publicDns));
            expect(cert.ipAddresses).to.deep.equal(eips.map((e) => e.publicIp));
            expect(cert.allowedUses).to.deep.equal(["digital_signature", "key_encipherment", "server_auth"]);
            expect(cert.subject.commonName).to.equal(eips[0].publicDns);
        });

        it("adds a front door's names to the self-signed certificate", async () => {
            const regs = await pairAlone({ certificateNames: ["pacs.example.org"] });
            const [cert] = of(regs, TYPES.selfSignedCert).filter((c) => c.name === "pair-tls");
            expect(cert.inputs.dnsNames[0]).to.equal("pacs.example.org");
            expect(cert.inputs.dnsNames).to.have.length(3);
        });

        it("names private instances by the region's private domain (their names are not known before they exist)", async () => {
            const regs = await pairAlone({ placement: "private" });
            const [cert] = of(regs, TYPES.selfSignedCert).filter((c) => c.name === "pair-tls");
            expect(cert.inputs.dnsNames).to.deep.equal([`*.${REGION}.compute.internal`]);
            // Nothing about the certificate waits for an instance: the rollout chain can depend on it.
            expect(cert.options?.dependencies ?? []).to.not.include(`${TYPES.instance}::pair-2`);
        });

        it("stores certificate and key in Secrets Manager as a Pulumi secret", () => {
            const secretString = dev.one(TYPES.secretVersion, "orthanc-tls").inputs.secretString;
            expect(isSecretInput(secretString), "passed as a Pulumi secret").to.equal(true);
            expect(JSON.parse(reveal(secretString))).to.deep.equal({
                certificatePem: MOCK_CERT_PEM,
                privateKeyPem: MOCK_PRIVATE_KEY_PEM,
                // The peer link's (mutual TLS between the instances): read by the start script like the key above.
                peerCertificatePem: MOCK_CERT_PEM,
                peerPrivateKeyPem: MOCK_PRIVATE_KEY_PEM,
                peerCaPem: MOCK_CERT_PEM,
            });
        });

        it("installs a certificate of your own instead of generating one", async () => {
            const regs = await pairAlone({ tls: { certificatePem: "-----BEGIN CERTIFICATE-----\nMINE\n-----END CERTIFICATE-----\n", privateKeyPem: "MY-KEY" } });
            // Only the peer link's own CA and certificate are made: never one that clients see.
            expect(of(regs, TYPES.selfSignedCert).map((r) => r.name)).to.deep.equal(["pair-peer-ca"]);
            expect(of(regs, TYPES.privateKey).map((r) => r.name)).to.deep.equal(["pair-peer-ca", "pair-peer-server"]);
            const value = JSON.parse(reveal(of(regs, TYPES.secretVersion).find((s) => s.name === "pair-tls")!.inputs.secretString));
            expect(value.certificatePem).to.include("MINE");
            expect(value.privateKeyPem).to.equal("MY-KEY");
        });

        it("issues the peer link's CA and one certificate for both instances, server and client, named as the relay checks", () => {
            const leaf = dev.one(TYPES.certRequest, "orthanc-peer-server").inputs;
            expect(leaf.subject.commonName).to.equal(PEER_CERTIFICATE_NAME);
            expect(leaf.dnsNames).to.deep.equal([PEER_CERTIFICATE_NAME]);
            expect(dev.one(TYPES.locallySignedCert, "orthanc-peer-server").inputs.allowedUses).to.include.members(["server_auth", "client_auth"]);
            expect(dev.one(TYPES.selfSignedCert, "orthanc-peer-ca").inputs.isCaCertificate).to.equal(true);
        });
    });

    describe("user data", () => {
        it("carries no private key, no password and no secret value, only where to fetch them", () => {
            // Had any secret flowed into it, the user data itself would have become a secret.
            expect(isSecretInput(dev.ofType(TYPES.bucketObject)[0].inputs.content)).to.equal(false);
            const userData = userDataOf(dev);
            expect(userData).to.not.include("MOCK-PRIVATE-KEY-DO-NOT-LEAK");
            expect(userData).to.not.include("PRIVATE KEY");
            expect(userData).to.not.include("mock-password");
            for (const secret of dev.ofType(TYPES.secret)) expect(userData).to.include(secret.state.arn);
            expect(userData).to.include(dev.one(TYPES.rds, "orthanc-db").state.masterUserSecrets[0].secretArn);
        });

        it("points Orthanc at this stack's database and bucket", () => {
            const userData = userDataOf(dev);
            expect(userData).to.include(dev.one(TYPES.rds, "orthanc-db").state.address);
            expect(userData).to.include(dev.ofType(TYPES.bucket)[0].state.bucket);
        });
    });

    it("names every child after the component, so two pairs never collide", async () => {
        const regs = await pairAlone({});
        for (const r of regs.filter((x) => x.type !== "orthweb:index:OrthancPair")) expect(r.name, r.type).to.match(/^pair-/);
    });
});

import { expect } from "chai";
import { validateStackConfig } from "../stacks/config";
import { MOCK_ACCOUNT } from "../plan/mockRuntime";
import { AUDIT_RETENTION_DEFAULT_DAYS, auditRetentionDays, loadBalancerLogsAccess, logBucketPolicy, studyObjectDataEvents } from "../rules/audit";
import { studyBucketLifecycleRules } from "../components/pair/dataStore";
import { build, Built, TYPES, withConfig } from "./harness";

const dependsOn = (deps: string[] | undefined, type: string, name: string) => (deps ?? []).includes(`${type}::${name}`);

describe("audit trail and study bucket lifecycle", () => {
    let dev: Built;
    let prod: Built;
    before(async () => {
        dev = await build();
        prod = await build(withConfig({ "orthweb:environment": "prod", "orthweb:network": { webClientCidrs: ["198.51.100.0/24"], dicomClientCidrs: ["198.51.100.0/24"] }, "orthweb:audit": { retentionDays: 2190 }, "orthweb:storage": { noncurrentVersionDays: 30 } }), "prod");
    });

    describe("config", () => {
        const problems = (overrides: Record<string, unknown>) => validateStackConfig(withConfig(overrides)).problems;

        it("defaults retention to 365 days in prod and 30 in dev, noncurrent versions to 90 days", () => {
            expect(AUDIT_RETENTION_DEFAULT_DAYS).to.deep.equal({ dev: 30, prod: 365 });
            expect(auditRetentionDays("prod")).to.equal(365);
            expect(auditRetentionDays("dev", 7)).to.equal(7);
            expect(dev.config.storage.noncurrentVersionDays).to.equal(90);
            expect(dev.config.audit.retentionDays).to.equal(undefined);
        });

        it("names the key, the bad value and the range for retentionDays and noncurrentVersionDays, both at once", () => {
            const found = problems({ "orthweb:audit": { retentionDays: 0 }, "orthweb:storage": { noncurrentVersionDays: 1.5 } });
            expect(found).to.have.length(2);
            expect(found[0]).to.match(/^orthweb:storage\.noncurrentVersionDays: got 1\.5; allowed: a whole number of days from 1 to 3650/);
            expect(found[1]).to.match(/^orthweb:audit\.retentionDays: got 0; allowed: a whole number of days from 1 to 3653/);
        });

        it("rejects unknown keys in the new sections and a section that is not a map", () => {
            expect(problems({ "orthweb:audit": { retention: 30 } })[0]).to.match(/^orthweb:audit\.retention: unknown key; allowed keys: retentionDays/);
            expect(problems({ "orthweb:storage": "90" })[0]).to.match(/^orthweb:storage: got "90"; allowed: a map with the keys noncurrentVersionDays/);
        });
    });

    describe("study bucket", () => {
        it("expires noncurrent versions after noncurrentVersionDays, never current ones, once versioning is on", () => {
            const rules = dev.one(TYPES.bucketLifecycle, "orthanc-bucket").inputs.rules;
            expect(rules).to.deep.equal(studyBucketLifecycleRules(90));
            expect(rules[0]).to.deep.include({ status: "Enabled", filter: {}, noncurrentVersionExpiration: { noncurrentDays: 90 } });
            expect(rules[0].expiration).to.deep.equal({ expiredObjectDeleteMarker: true });
            expect(prod.one(TYPES.bucketLifecycle, "orthanc-bucket").inputs.rules[0].noncurrentVersionExpiration).to.deep.equal({ noncurrentDays: 30 });
            expect(dependsOn(dev.one(TYPES.bucketLifecycle, "orthanc-bucket").options?.dependencies, TYPES.bucketVersioning, "orthanc-bucket")).to.equal(true);
        });
    });

    describe("who read or wrote which study object", () => {
        it("records every object-level read and write of the study bucket as CloudTrail data events, with digests", () => {
            const trail = dev.one(TYPES.trail, "orthanc-data-events");
            const bucket = dev.one(TYPES.bucket, "orthanc-bucket");
            expect(trail.inputs).to.deep.include({ s3BucketName: dev.one(TYPES.bucket, "orthanc-audit").state.bucket, s3KeyPrefix: "cloudtrail", enableLogFileValidation: true, isMultiRegionTrail: false });
            expect(trail.inputs.advancedEventSelectors).to.deep.equal(studyObjectDataEvents(bucket.state.arn));
            const fields = trail.inputs.advancedEventSelectors[0].fieldSelectors;
            expect(fields).to.deep.include({ field: "resources.ARN", startsWith: [`${bucket.state.arn}/`] });
            expect(fields).to.deep.include({ field: "eventCategory", equals: ["Data"] });
            // No readOnly selector: reads and writes both.
            expect(fields.map((f: any) => f.field)).to.not.include("readOnly");
            expect(dependsOn(trail.options?.dependencies, TYPES.bucketPolicy, "orthanc-audit")).to.equal(true);
        });

        it("writes S3 server access logs of the study bucket under s3-access/ in the audit bucket", () => {
            const logging = dev.one(TYPES.bucketLogging, "orthanc-bucket");
            expect(logging.inputs).to.deep.include({ bucket: dev.one(TYPES.bucket, "orthanc-bucket").id, targetBucket: dev.one(TYPES.bucket, "orthanc-audit").state.bucket, targetPrefix: "s3-access/" });
        });

        it("lets each service write under its own prefix only, from this account only, and nothing without TLS", () => {
            const audit = dev.one(TYPES.bucket, "orthanc-audit").state.arn;
            const study = dev.one(TYPES.bucket, "orthanc-bucket").state.arn;
            const policy = JSON.parse(dev.one(TYPES.bucketPolicy, "orthanc-audit").inputs.policy);
            const puts = policy.Statement.filter((st: any) => st.Action === "s3:PutObject").map((st: any) => [Object.values(st.Principal)[0], st.Resource]);
            expect(puts).to.deep.equal([
                ["logging.s3.amazonaws.com", `${audit}/s3-access/*`],
                ["cloudtrail.amazonaws.com", `${audit}/cloudtrail/AWSLogs/${MOCK_ACCOUNT}/*`],
                ["delivery.logs.amazonaws.com", `${audit}/flow-logs/AWSLogs/${MOCK_ACCOUNT}/*`],
            ]);
            expect(policy.Statement[0].Condition).to.deep.equal({ ArnLike: { "aws:SourceArn": study }, StringEquals: { "aws:SourceAccount": MOCK_ACCOUNT } });
            expect(policy.Statement.every((st: any) => st.Effect === "Deny" || st.Condition?.StringEquals?.["aws:SourceAccount"] === MOCK_ACCOUNT)).to.equal(true);
            expect(policy.Statement.at(-1)).to.deep.include({ Sid: "DenyInsecureTransport", Effect: "Deny" });
            expect(policy.Statement.some((st: any) => st.Effect === "Allow" && /Get(Object)?$/.test(st.Action) && st.Action !== "s3:GetBucketAcl")).to.equal(false);
        });
    });

    describe("VPC flow logs", () => {
        it("record every accepted and rejected flow of the VPC into the audit bucket", () => {
            const flow = dev.one(TYPES.flowLog, "orthanc-flow-logs");
            expect(flow.inputs).to.deep.include({ vpcId: dev.ofType(TYPES.vpc)[0].state.vpcId, trafficType: "ALL", logDestinationType: "s3", maxAggregationInterval: 600 });
            expect(flow.inputs.logDestination).to.equal(`${dev.one(TYPES.bucket, "orthanc-audit").state.arn}/flow-logs`);
        });
    });

    describe("log storage", () => {
        it("is SSE-S3, private, owner-enforced and expires after the retention: 30 days in dev, as configured in prod", () => {
            for (const [b, days] of [[dev, 30], [prod, 2190]] as const) {
                expect(b.one(TYPES.bucketEncryption, "orthanc-audit").inputs.rules[0].applyServerSideEncryptionByDefault).to.deep.equal({ sseAlgorithm: "AES256" });
                expect(b.one(TYPES.bucketPublicAccess, "orthanc-audit").inputs).to.include({ blockPublicAcls: true, blockPublicPolicy: true, ignorePublicAcls: true, restrictPublicBuckets: true });
                expect(b.one(TYPES.bucketOwnership, "orthanc-audit").inputs.rule).to.deep.equal({ objectOwnership: "BucketOwnerEnforced" });
                expect(b.one(TYPES.bucketLifecycle, "orthanc-audit").inputs.rules[0]).to.deep.include({ filter: {}, expiration: { days } });
            }
        });

        it("is retained, not emptied, when a prod stack is destroyed; a dev stack's goes with it", () => {
            expect(prod.one(TYPES.bucket, "orthanc-audit").inputs.forceDestroy).to.equal(false);
            expect(prod.one(TYPES.bucket, "orthanc-audit").options?.retainOnDelete).to.equal(true);
            expect(dev.one(TYPES.bucket, "orthanc-audit").inputs.forceDestroy).to.equal(true);
            expect(dev.one(TYPES.bucket, "orthanc-audit").options?.retainOnDelete).to.equal(false);
        });

        it("is named in the stack outputs", () => {
            expect(dev.outputs.auditBucketName).to.equal(dev.one(TYPES.bucket, "orthanc-audit").state.bucket);
        });
    });

    describe("pure parts", () => {
        it("shares one ACL check between vended-log writers", () => {
            const policy = logBucketPolicy({ bucketArn: "arn:aws:s3:::l", accountId: "1", writers: [{ kind: "logDelivery", prefix: "a" }, { kind: "logDelivery", prefix: "b" }] });
            expect(policy.Statement.filter((st: any) => st.Action === "s3:GetBucketAcl")).to.have.length(1);
            expect(policy.Statement.filter((st: any) => st.Action === "s3:PutObject").map((st: any) => st.Resource)).to.deep.equal(["arn:aws:s3:::l/a/AWSLogs/1/*", "arn:aws:s3:::l/b/AWSLogs/1/*"]);
        });

        it("knows an NLB logs only with a TLS listener, an ALB always", () => {
            expect(loadBalancerLogsAccess("nlb", ["TCP", "TCP"])).to.equal(false);
            expect(loadBalancerLogsAccess("nlb", ["TCP", "TLS"])).to.equal(true);
            expect(loadBalancerLogsAccess("alb", ["HTTP"])).to.equal(true);
        });
    });
});

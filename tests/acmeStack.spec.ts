// orthweb:tls.source acme in a whole stack, under mocks: the secret the instances share the certificate in, the role's
// rights (only the challenge records of the certificate's names in the zone), the renewal script and timer in the
// bundle, the per-slot alarm, and for direct with a zone the instances' names.
import { expect } from "chai";
import { awsCliCalls } from "../rules/awsCliCalls";
import { ACME_DIRECTORIES } from "../rules/acme";
import { bootstrapFilesOf, build, Built, withConfig } from "./harness";

const ACME = { source: "acme", acme: { email: "pki@example.org" } };
const DNS_ACME = withConfig({ "orthweb:traffic": { frontDoor: "dns", dns: { zoneName: "example.org", recordName: "pacs" } }, "orthweb:tls": ACME });
const DIRECT_ACME = withConfig({ "orthweb:traffic": { frontDoor: "direct", direct: { zoneName: "example.org" } }, "orthweb:tls": ACME });

function policies(built: Built): { name: string; doc: { Statement: Record<string, any>[] } }[] {
    return built.ofType("aws:iam/rolePolicy:RolePolicy").map((p) => ({ name: p.name, doc: JSON.parse(String(p.inputs.policy)) }));
}

describe("tls.source acme in a stack", function () {
    this.timeout(60000);

    it("creates the acme secret under the pair's key and lets the role read and write only it", async () => {
        const built = await build(DNS_ACME);
        const secret = built.one("aws:secretsmanager/secret:Secret", "orthanc-acme");
        expect(secret.inputs.kmsKeyId).to.be.a("string");
        const acme = policies(built).find((p) => p.name === "orthanc-acme")!;
        const share = acme.doc.Statement.find((s) => s.Sid === "AcmeShareCertificate")!;
        expect(share.Action).to.deep.equal(["secretsmanager:GetSecretValue", "secretsmanager:PutSecretValue"]);
        expect(share.Resource).to.equal(secret.state.arn);
        const metric = acme.doc.Statement.find((s) => s.Sid === "AcmeDaysLeftMetric")!;
        expect(metric.Condition).to.deep.equal({ StringEquals: { "cloudwatch:namespace": "Orthweb/Certificates" } });
    });

    it("lets the role change only TXT _acme-challenge records of the front-door name, in the zone's ARN", async () => {
        const built = await build(DNS_ACME);
        const acme = policies(built).find((p) => p.name === "orthanc-acme")!;
        const change = acme.doc.Statement.find((s) => s.Action === "route53:ChangeResourceRecordSets")!;
        expect(change.Resource).to.match(/^arn:aws:route53:::hostedzone\/[^/*]+$/);
        expect(change.Condition["ForAllValues:StringEquals"]).to.deep.equal({
            "route53:ChangeResourceRecordSetsNormalizedRecordNames": ["_acme-challenge.pacs.example.org"],
            "route53:ChangeResourceRecordSetsRecordTypes": ["TXT"],
            "route53:ChangeResourceRecordSetsActions": ["UPSERT", "DELETE"],
        });
        // No other statement of any policy of the role grants a Route 53 change.
        const others = policies(built).flatMap((p) => p.doc.Statement).filter((s) => s.Sid !== change.Sid && [s.Action].flat().some((a: string) => /^route53:(Change|\*)|^\*$/.test(a)));
        expect(others).to.deep.equal([]);
    });

    it("delivers acme.sh and its timer with the settings, and start.sh reads the shared certificate", async () => {
        const built = await build(DNS_ACME);
        const files = Object.fromEntries(bootstrapFilesOf(built).map((f) => [f.path, f.content]));
        const script = files["/opt/orthweb/acme.sh"];
        expect(script).to.include(`readonly DIRECTORY='${ACME_DIRECTORIES.staging}'`);
        expect(script).to.include("readonly NAMES=('pacs.example.org')");
        expect(script).to.match(/readonly LEGO_IMAGE='goacme\/lego:v[\d.]+'/);
        expect(files["/etc/systemd/system/orthweb-acme.timer"]).to.include("OnUnitActiveSec=3600s");
        expect(files["/opt/orthweb/start.sh"]).to.match(/readonly ACME_SECRET_ARN='arn:aws:secretsmanager:/);
        // Every AWS call of the script is one the role's policies name (the evaluation is in acmeIam.spec.ts).
        const granted = new Set(policies(built).flatMap((p) => p.doc.Statement).flatMap((s) => [s.Action].flat()));
        // ec2:DescribeTags: the rollout policy's (claim.sh reads its slot the same way); the ECR login runs only with the cache.
        expect(script).to.include("readonly REGISTRY=''");
        const elsewhere = new Set(["ec2:DescribeTags", "ecr:GetAuthorizationToken"]);
        for (const call of awsCliCalls(script)) for (const action of call.iamActions) expect(granted.has(action) || elsewhere.has(action), action).to.equal(true);
    });

    it("watches each slot's certificate days, missing data breaching", async () => {
        const built = await build(DNS_ACME);
        const alarms = built.ofType("aws:cloudwatch/metricAlarm:MetricAlarm").filter((a) => a.inputs.namespace === "Orthweb/Certificates");
        expect(alarms.map((a) => a.inputs.dimensions)).to.deep.equal([{ Slot: "orthanc-1" }, { Slot: "orthanc-2" }]);
        for (const a of alarms) expect(a.inputs).to.include({ metricName: "DaysToExpiry", statistic: "Minimum", threshold: 14, comparisonOperator: "LessThanThreshold", treatMissingData: "breaching" });
        const selfSigned = await build(withConfig({ "orthweb:traffic": { frontDoor: "dns", dns: { zoneName: "example.org", recordName: "pacs" } } }));
        expect(selfSigned.ofType("aws:cloudwatch/metricAlarm:MetricAlarm").filter((a) => a.inputs.namespace === "Orthweb/Certificates")).to.deep.equal([]);
        expect(bootstrapFilesOf(selfSigned).map((f) => f.path)).to.not.include("/opt/orthweb/acme.sh");
    });

    it("says which names are trusted, and by whom", async () => {
        const built = await build(DNS_ACME);
        expect(built.outputs.certificateNotice).to.match(/an ACME certificate for pacs\.example\.org, renewed by the instances 30 days before expiry: Let's Encrypt STAGING: trusted by no one/);
    });

    it("direct with a zone: each instance by name in the zone, an A record on its slot's Elastic IP, named by the certificate", async () => {
        const built = await build(DIRECT_ACME);
        const records = built.ofType("aws:route53/record:Record");
        expect(records.map((r) => [r.inputs.name, r.inputs.type])).to.deep.equal([["pacs-1.example.org", "A"], ["pacs-2.example.org", "A"]]);
        const eips = built.ofType("aws:ec2/eip:Eip").map((e) => e.state.publicIp);
        expect(records.map((r) => r.inputs.records[0])).to.deep.equal(eips);
        expect(built.outputs.webUrls).to.deep.equal(["https://pacs-1.example.org/", "https://pacs-2.example.org/"]);
        const acme = policies(built).find((p) => p.name === "orthanc-acme")!;
        const change = acme.doc.Statement.find((s) => s.Action === "route53:ChangeResourceRecordSets")!;
        expect(change.Condition["ForAllValues:StringEquals"]["route53:ChangeResourceRecordSetsNormalizedRecordNames"]).to.deep.equal([
            "_acme-challenge.pacs-1.example.org",
            "_acme-challenge.pacs-2.example.org",
        ]);
        // The bootstrap (self-signed) certificate already names them.
        const cert = built.one("tls:index/selfSignedCert:SelfSignedCert", "orthanc-tls");
        expect(cert.inputs.dnsNames).to.include.members(["pacs-1.example.org", "pacs-2.example.org"]);
    });
});

describe("the plan says which names the instances' certificate carries, and who trusts it", function () {
    this.timeout(60000);

    it("acme in prod: the front-door name, trusted by browsers (Let's Encrypt); in dev: staging, trusted by no one", async () => {
        const { buildReport } = await import("../plan/report");
        const { instanceCertificateOf } = await import("../plan/cli");
        const prodConfig = withConfig({
            "orthweb:environment": "prod",
            "orthweb:orthanc": { pullThroughCache: { enabled: false } },
            "orthweb:network": { webClientCidrs: ["198.51.100.0/24"], dicomClientCidrs: ["198.51.100.0/24"] },
            "orthweb:traffic": { frontDoor: "dns", dns: { zoneName: "example.org", recordName: "pacs" } },
            "orthweb:tls": ACME,
        });
        const prod = await build(prodConfig);
        const text = instanceCertificateOf(prod.config, []);
        expect(text).to.equal("an ACME certificate for pacs.example.org, renewed by the instances 30 days before expiry: trusted by browsers and the usual trust stores (Let's Encrypt)");
        const report = buildReport(prod.registrations, { stack: "p", region: prod.config.region, webClientCidrs: ["198.51.100.0/24"], dicomClientCidrs: ["198.51.100.0/24"], aet: "ORTHANC", instanceCertificate: text });
        const dns = report.endpoints.filter((e) => e.frontDoor === "dns");
        expect(dns.map((e) => e.tls)).to.deep.equal([`TLS at the instances (nginx): ${text}`, `TLS at the instances (nginx): ${text}`]);
        const dev = await build(DNS_ACME);
        expect(instanceCertificateOf(dev.config, [])).to.match(/Let's Encrypt STAGING: trusted by no one/);
    });

    it("direct with a zone: the plan lists each instance by its name in the zone, as direct (not a DNS front door)", async () => {
        const { buildReport } = await import("../plan/report");
        const built = await build(DIRECT_ACME);
        const report = buildReport(built.registrations, { stack: "d", region: built.config.region, webClientCidrs: ["0.0.0.0/0"], dicomClientCidrs: ["0.0.0.0/0"], aet: "ORTHANC" });
        expect(report.pattern).to.equal("direct");
        expect(report.endpoints.map((e) => `${e.frontDoor} ${e.address}`)).to.deep.equal([
            "direct https://pacs-1.example.org/",
            "direct pacs-1.example.org:11112",
            "direct https://pacs-2.example.org/",
            "direct pacs-2.example.org:11112",
        ]);
    });

    it("self-signed: the names it carries, and that nobody trusts it until it is imported", async () => {
        const { instanceCertificateOf } = await import("../plan/cli");
        const built = await build(withConfig({ "orthweb:traffic": { frontDoor: "dns", dns: { zoneName: "example.org", recordName: "pacs" } } }));
        expect(instanceCertificateOf(built.config, ["pacs.example.org"])).to.equal(
            "a self-signed certificate for pacs.example.org: no browser or modality trusts it until its certificate is imported",
        );
    });
});

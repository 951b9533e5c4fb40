// The instance role's Route 53 rights for ACME, EVALUATED by the IAM simulator (tests/iamEvaluation.ts, AWS's action
// and condition-key data) with the request context Route 53 gives ChangeResourceRecordSets: the record names
// (normalized), types and change actions of the batch. The role is every policy the built stack attaches to it.
import { expect } from "chai";
import { ACME_LOCK_KEY } from "../components/bootstrap/acmeScript";
import { ACME_METRIC } from "../rules/acme";
import { awsCliCalls } from "../rules/awsCliCalls";
import { bootstrapFilesOf, build, Built, TYPES, withConfig } from "./harness";
import { ACCOUNT, decide, PolicyDocument } from "./iamEvaluation";

const STACK = withConfig({
    "orthweb:traffic": { frontDoor: "dns", dns: { zoneName: "example.org", recordName: "pacs" } },
    "orthweb:tls": { source: "acme", acme: { email: "pki@example.org" } },
});

interface Role {
    readonly principal: string;
    readonly policies: PolicyDocument[];
}

/** The instance profile's role and its inline policies (its managed attachment grants no Route 53, CloudWatch or secret write). */
function instanceRole(built: Built): Role {
    const profile = built.ofType(TYPES.instanceProfile)[0];
    const roleKey = (profile.options?.propertyDependencies.role ?? [])[0];
    const role = built.registrations.find((r) => `${r.type}::${r.name}` === roleKey)!;
    const policies = built
        .ofType(TYPES.rolePolicy)
        .filter((p) => (p.options?.propertyDependencies.role ?? []).includes(roleKey))
        .map((p) => JSON.parse(String(p.inputs.policy)) as PolicyDocument);
    return { principal: `arn:aws:sts::${ACCOUNT}:assumed-role/${role.state.name}/i-0123456789abcdef0`, policies };
}

describe("the instance role may write only the certificate's challenge records (evaluated)", function () {
    this.timeout(60000);
    let role: Role;
    let zoneArn: string;
    let secrets: { acme: string; admin: string };
    let built: Built;

    before(async () => {
        built = await build(STACK);
        role = instanceRole(built);
        const zone = built.invocations.find((i) => i.token === "aws:route53/getZone:getZone" && i.inputs.name === "example.org");
        zoneArn = `arn:aws:route53:::hostedzone/${zone!.outputs!.zoneId}`;
        const secret = (name: string) => String(built.one("aws:secretsmanager/secret:Secret", name).state.arn);
        secrets = { acme: secret("orthanc-acme"), admin: secret("orthanc-admin") };
    });

    const change = (resource: string, changes: { name: string; type: string; action: string }[]) =>
        decide({
            principal: role.principal,
            action: "route53:ChangeResourceRecordSets",
            resource,
            identityPolicies: role.policies,
            context: {
                "route53:ChangeResourceRecordSetsNormalizedRecordNames": changes.map((c) => c.name),
                "route53:ChangeResourceRecordSetsRecordTypes": changes.map((c) => c.type),
                "route53:ChangeResourceRecordSetsActions": changes.map((c) => c.action),
            },
        });
    const challenge = { name: "_acme-challenge.pacs.example.org", type: "TXT" };

    it("allows lego's UPSERT and DELETE of the TXT record _acme-challenge.<name> in the zone", async () => {
        expect(await change(zoneArn, [{ ...challenge, action: "UPSERT" }])).to.equal("Allowed");
        expect(await change(zoneArn, [{ ...challenge, action: "DELETE" }])).to.equal("Allowed");
    });

    it("denies an A record, another name, another zone, CREATE, and a batch that slips one of them in", async () => {
        expect(await change(zoneArn, [{ name: "pacs.example.org", type: "A", action: "UPSERT" }]), "an A record").to.equal("ImplicitlyDenied");
        expect(await change(zoneArn, [{ name: "_acme-challenge.pacs.example.org", type: "A", action: "UPSERT" }]), "the name, type A").to.equal("ImplicitlyDenied");
        expect(await change(zoneArn, [{ name: "_acme-challenge.www.example.org", type: "TXT", action: "UPSERT" }]), "another name").to.equal("ImplicitlyDenied");
        expect(await change(zoneArn, [{ name: "pacs.example.org", type: "TXT", action: "UPSERT" }]), "the name itself").to.equal("ImplicitlyDenied");
        expect(await change("arn:aws:route53:::hostedzone/Z0OTHERZONE", [{ ...challenge, action: "UPSERT" }]), "another zone").to.equal("ImplicitlyDenied");
        expect(await change(zoneArn, [{ ...challenge, action: "CREATE" }]), "CREATE").to.equal("ImplicitlyDenied");
        expect(await change(zoneArn, [{ ...challenge, action: "UPSERT" }, { name: "pacs.example.org", type: "A", action: "UPSERT" }]), "a batch").to.equal("ImplicitlyDenied");
    });

    it("allows what else lego calls (GetChange, ListResourceRecordSets on the zone), and no other zone's records", async () => {
        const ask = (action: string, resource: string) => decide({ principal: role.principal, action, resource, identityPolicies: role.policies });
        expect(await ask("route53:GetChange", "arn:aws:route53:::change/C0123456789")).to.equal("Allowed");
        expect(await ask("route53:ListResourceRecordSets", zoneArn)).to.equal("Allowed");
        expect(await ask("route53:ListResourceRecordSets", "arn:aws:route53:::hostedzone/Z0OTHERZONE")).to.equal("ImplicitlyDenied");
        expect(await ask("route53:ListHostedZonesByName", "*"), "lego is given the zone id: it never lists zones").to.equal("ImplicitlyDenied");
    });

    it("allows every call acme.sh makes, on the resources it names (the lock under the bucket's policy, the secret, the metric)", async () => {
        const script = bootstrapFilesOf(built).find((f) => f.path.endsWith("/acme.sh"))!.content;
        const study = built.one(TYPES.bucket, "orthanc-bucket");
        const bucketPolicy = JSON.parse(String(built.ofType(TYPES.bucketPolicy).find((p) => p.inputs.bucket === study.id)!.inputs.policy)) as PolicyDocument;
        expect(script).to.include(`readonly BUCKET='${study.state.bucket}'`);
        const secure = { "aws:SecureTransport": "true" };
        // What each call acts on, as AWS authorizes it (ec2:DescribeTags and PutMetricData take no resource).
        const on: Record<string, { resource: string; context?: Record<string, string>; resourcePolicy?: PolicyDocument }> = {
            "s3:PutObject": { resource: `arn:aws:s3:::${study.state.bucket}/${ACME_LOCK_KEY}`, context: secure, resourcePolicy: bucketPolicy },
            "s3:GetObject": { resource: `arn:aws:s3:::${study.state.bucket}/${ACME_LOCK_KEY}`, context: secure, resourcePolicy: bucketPolicy },
            "s3:DeleteObject": { resource: `arn:aws:s3:::${study.state.bucket}/${ACME_LOCK_KEY}`, context: secure, resourcePolicy: bucketPolicy },
            "secretsmanager:GetSecretValue": { resource: secrets.acme },
            "secretsmanager:PutSecretValue": { resource: secrets.acme },
            "cloudwatch:PutMetricData": { resource: "*", context: { "cloudwatch:namespace": ACME_METRIC.namespace } },
            "ec2:DescribeTags": { resource: "*" },
        };
        // The ECR login runs only with the pull-through cache (REGISTRY set); this stack has none.
        const actions = [...new Set(awsCliCalls(script).filter((c) => c.service !== "ecr").flatMap((c) => c.iamActions))];
        expect(actions.sort()).to.deep.equal(Object.keys(on).sort());
        for (const action of actions) {
            const verdict = await decide({ principal: role.principal, action, identityPolicies: role.policies, ...on[action] });
            expect(verdict, `${action} on ${on[action].resource}`).to.equal("Allowed");
        }
    });

    it("lets the script write the acme secret and its metric, and nothing beside them", async () => {
        const ask = (action: string, resource: string, context?: Record<string, string>) => decide({ principal: role.principal, action, resource, identityPolicies: role.policies, context });
        expect(await ask("secretsmanager:PutSecretValue", secrets.acme)).to.equal("Allowed");
        expect(await ask("secretsmanager:PutSecretValue", secrets.admin)).to.equal("ImplicitlyDenied");
        expect(await ask("cloudwatch:PutMetricData", "*", { "cloudwatch:namespace": "Orthweb/Certificates" })).to.equal("Allowed");
        expect(await ask("cloudwatch:PutMetricData", "*", { "cloudwatch:namespace": "AWS/EC2" })).to.equal("ImplicitlyDenied");
    });
});

// The VPC endpoints of the stack without the internet (Pulumi.site.yaml), checked against what its instances really
// run: the AWS services are read from the scripts the stack delivers (the config bundle in its bucket, the SSM
// document: plan/awsEndpoints.ts deliveredScripts), not from a list kept by hand, nor from the component's own
// derivation (which renders the scripts with stand-in values).
import { expect } from "chai";
import { renderBootstrapFiles } from "../components/bootstrap";
import { instanceScripts } from "../components/bootstrap/apply";
import { Registration } from "../plan/mockRuntime";
import { NO_INTERNET_ENDPOINT_SERVICES } from "../policy/rules";
import { awsCliCalls } from "../rules/awsCliCalls";
import { awsOwnedBuckets, endpointServiceOf, requiredEndpoints } from "../rules/vpcEndpoints";
import { deliveredScripts } from "../plan/awsEndpoints";
import { SAMPLE } from "./fixtures";
import { plannedStack, TYPES } from "./harness";
import { anonymousPrincipal, runSimulation, SimulationRequestPrincipal } from "@cloud-copilot/iam-simulate";
import { ACCOUNT, actionResourceTypes, arnOf } from "./iamEvaluation";

/**
 * What runs on an instance besides the scripts, and what it reaches: the SSM agent (AWS Systems Manager user guide,
 * "Create VPC endpoints"), docker pulling from ECR (ECR user guide, "Interface VPC endpoints": api, dkr and S3 for the
 * layers) and dnf (the Amazon Linux 2023 repositories are S3 buckets).
 */
const AGENT_SERVICES = ["ssm", "ssmmessages", "ec2messages", "ecr.api", "ecr.dkr", "s3"];


describe("VPC endpoints of the stack without the internet (Pulumi.site.yaml)", () => {
    let registrations: readonly Registration[];
    let scripts: string[];
    before(async () => {
        registrations = (await plannedStack("site")).registrations;
        scripts = deliveredScripts(registrations);
    });
    const endpoints = () => registrations.filter((r) => r.type === TYPES.vpcEndpoint);

    it("reads the AWS services its instances call from the scripts it delivers (start, metadata guard, peer, claim, apply)", () => {
        expect(scripts.length).to.equal(5);
        const services = new Set(scripts.flatMap((s) => awsCliCalls(s)).map((c) => c.service));
        expect([...services].sort()).to.deep.equal(["autoscaling", "ec2", "ecr", "elbv2", "resourcegroupstaggingapi", "s3", "secretsmanager"]);
    });

    it("has an endpoint for every service the scripts call and the agents need, and for nothing else", () => {
        const needed = new Set([...scripts.flatMap((s) => awsCliCalls(s)).map((c) => c.endpointService), ...AGENT_SERVICES]);
        const present = endpoints().map((e) => endpointServiceOf(String(e.inputs.serviceName)));
        const unused = present.filter((s) => !needed.has(s));
        const missing = [...needed].filter((s) => !present.includes(s));
        expect({ unused, missing }).to.deep.equal({ unused: [], missing: [] });
    });

    it("reaches S3 through the gateway endpoint, every other service through an interface endpoint with private DNS", () => {
        for (const e of endpoints()) {
            const gateway = endpointServiceOf(String(e.inputs.serviceName)) === "s3";
            expect(e.inputs.vpcEndpointType, String(e.inputs.serviceName)).to.equal(gateway ? "Gateway" : "Interface");
            if (!gateway) expect(e.inputs.privateDnsEnabled, String(e.inputs.serviceName)).to.equal(true);
        }
    });
});

/** Another account: where stolen credentials come from, or where a copy of the studies would go. */
const FOREIGN = "999999999999";
const ROLE = `arn:aws:iam::${ACCOUNT}:role/orthanc-instance`;
const THIEF = `arn:aws:iam::${FOREIGN}:user/thief`;
const EVERYTHING = { Version: "2012-10-17", Statement: [{ Effect: "Allow", Principal: "*", Action: "*", Resource: "*" }] };

/**
 * What AWS decides for a request made through an endpoint with this policy. The principal's own policies and the
 * resource's policy allow everything, so that the endpoint policy alone decides. The request context holds what AWS
 * puts in every request: aws:PrincipalAccount (signed requests only) and aws:ResourceAccount (the owner).
 */
async function throughEndpoint(
    endpointPolicy: unknown,
    request: { principal: SimulationRequestPrincipal; action: string; resource: string; resourceAccount: string },
): Promise<string> {
    const result = await runSimulation(
        {
            request: {
                principal: request.principal,
                action: request.action,
                resource: { resource: request.resource, accountId: request.resourceAccount },
                contextVariables: {
                    "aws:ResourceAccount": request.resourceAccount,
                    ...(typeof request.principal === "string" ? { "aws:PrincipalAccount": request.principal.split(":")[4] } : {}),
                },
            },
            identityPolicies: typeof request.principal === "string" ? [{ name: "everything", policy: { Version: "2012-10-17", Statement: [{ Effect: "Allow", Action: "*", Resource: "*" }] } }] : [],
            serviceControlPolicies: [],
            resourceControlPolicies: [],
            resourcePolicy: EVERYTHING,
            vpcEndpointPolicies: [{ name: "endpoint", policy: endpointPolicy }],
        },
        { simulationMode: "Strict" },
    );
    if (result.resultType === "error") throw new Error(`simulator refused ${request.action} on ${request.resource}: ${JSON.stringify(result.errors)}`);
    return result.overallResult;
}

/** A resource of the action's type, as AWS names it, in `account` ("*" where IAM takes no resource). */
async function resourceFor(action: string, account: string): Promise<string> {
    const { wildcardOnly, types } = await actionResourceTypes(action);
    const type = types.find((t) => t.required) ?? types[0];
    if (wildcardOnly || !type) return "*";
    const values = new Proxy({ Region: "eu-west-1", Account: account } as Record<string, string>, { get: (known, key: string) => known[key] ?? "example" });
    return arnOf(type.type, values);
}

describe("VPC endpoint policies, evaluated (iam-simulate with AWS's action data)", () => {
    let registrations: readonly Registration[];
    before(async () => {
        registrations = (await plannedStack("site")).registrations;
    });
    const policyOf = (service: string) => {
        const endpoint = registrations.find((r) => r.type === TYPES.vpcEndpoint && endpointServiceOf(String(r.inputs.serviceName)) === service);
        if (!endpoint) throw new Error(`no ${service} endpoint`);
        // An endpoint created without a policy gets AWS's default: full access for every principal.
        return endpoint.inputs.policy === undefined ? EVERYTHING : JSON.parse(String(endpoint.inputs.policy));
    };

    it("lets every call the scripts make through, for the instance role on this account's resources, and none for another account's credentials", async () => {
        const calls = deliveredScripts(registrations).flatMap((s) => awsCliCalls(s));
        expect(calls.length).to.be.greaterThan(10);
        const verdicts: string[] = [];
        for (const call of calls) {
            for (const action of call.iamActions) {
                const policy = policyOf(call.endpointService);
                const own = await throughEndpoint(policy, { principal: ROLE, action, resource: await resourceFor(action, ACCOUNT), resourceAccount: ACCOUNT });
                const foreign = await throughEndpoint(policy, { principal: THIEF, action, resource: await resourceFor(action, FOREIGN), resourceAccount: FOREIGN });
                verdicts.push(`${call.endpointService} ${action}: ${own}, foreign ${foreign}`);
            }
        }
        expect(verdicts.filter((v) => !/: Allowed, foreign ImplicitlyDenied$/.test(v))).to.deep.equal([]);
    });

    it("lets the agents' own calls through (SSM agent, docker's ECR pull) for this account only", async () => {
        const agentCalls: [string, string][] = [
            ["ssm", "ssm:UpdateInstanceInformation"],
            ["ssmmessages", "ssmmessages:CreateControlChannel"],
            ["ec2messages", "ec2messages:GetMessages"],
            ["ecr.dkr", "ecr:BatchGetImage"],
            ["ecr.api", "ecr:GetDownloadUrlForLayer"],
        ];
        for (const [service, action] of agentCalls) {
            expect(await throughEndpoint(policyOf(service), { principal: ROLE, action, resource: await resourceFor(action, ACCOUNT), resourceAccount: ACCOUNT }), action).to.equal("Allowed");
            expect(await throughEndpoint(policyOf(service), { principal: THIEF, action, resource: await resourceFor(action, FOREIGN), resourceAccount: FOREIGN }), action).to.equal("ImplicitlyDenied");
        }
    });

    it("keeps the studies in the account: the instance role cannot write to another account's bucket or secret through an endpoint", async () => {
        const exfil = await throughEndpoint(policyOf("s3"), { principal: ROLE, action: "s3:PutObject", resource: "arn:aws:s3:::someone-elses-bucket/studies.zip", resourceAccount: FOREIGN });
        expect(exfil).to.equal("ImplicitlyDenied");
        const stash = await throughEndpoint(policyOf("secretsmanager"), { principal: ROLE, action: "secretsmanager:PutSecretValue", resource: `arn:aws:secretsmanager:eu-west-1:${FOREIGN}:secret:drop-AbCdEf`, resourceAccount: FOREIGN });
        expect(stash).to.equal("ImplicitlyDenied");
        const own = await throughEndpoint(policyOf("s3"), { principal: ROLE, action: "s3:PutObject", resource: "arn:aws:s3:::orthanc-bucket-0mock/1.2.3", resourceAccount: ACCOUNT });
        expect(own).to.equal("Allowed");
    });

    it("lets dnf and docker read AWS's own buckets anonymously or presigned, and nothing be written there", async () => {
        for (const { bucket } of awsOwnedBuckets("eu-west-1")) {
            const object = `arn:aws:s3:::${bucket}/some/object`;
            expect(await throughEndpoint(policyOf("s3"), { principal: anonymousPrincipal, action: "s3:GetObject", resource: object, resourceAccount: FOREIGN }), bucket).to.equal("Allowed");
            expect(await throughEndpoint(policyOf("s3"), { principal: THIEF, action: "s3:GetObject", resource: object, resourceAccount: FOREIGN }), bucket).to.equal("Allowed");
            expect(await throughEndpoint(policyOf("s3"), { principal: ROLE, action: "s3:PutObject", resource: object, resourceAccount: FOREIGN }), bucket).to.equal("ImplicitlyDenied");
        }
        // Another AWS-looking bucket is not among them.
        expect(await throughEndpoint(policyOf("s3"), { principal: anonymousPrincipal, action: "s3:GetObject", resource: "arn:aws:s3:::al2023-repos-us-east-1-de612dc2/x", resourceAccount: FOREIGN })).to.equal("ImplicitlyDenied");
    });

    it("gives the S3 gateway endpoint of a stack with the internet the same policy", async () => {
        const dev = (await plannedStack("dev")).registrations.filter((r) => r.type === TYPES.vpcEndpoint);
        expect(dev.map((e) => (e.inputs.policy === undefined ? EVERYTHING : JSON.parse(String(e.inputs.policy))))).to.deep.equal([policyOf("s3")]);
    });
});

describe("rules/vpcEndpoints: the endpoints derived from scripts", () => {
    it("joins the scripts' services with the agents', the S3 gateway first, and says who needs each", () => {
        const found = requiredEndpoints(['aws ec2 describe-tags --region "$R"', "aws s3 cp s3://b/k ./k"]);
        expect(found.map((e) => [e.service, e.type])).to.deep.equal([
            ["s3", "Gateway"],
            ["ec2", "Interface"],
            ["ec2messages", "Interface"],
            ["ecr.api", "Interface"],
            ["ecr.dkr", "Interface"],
            ["ssm", "Interface"],
            ["ssmmessages", "Interface"],
        ]);
        expect(found[0].neededBy).to.include("aws s3 cp");
        expect(found[1].neededBy).to.deep.equal(["aws ec2 describe-tags"]);
    });

    it("names the AWS-owned buckets dnf and docker read in the region", () => {
        expect(awsOwnedBuckets("eu-west-1").map((b) => b.bucket)).to.deep.equal(["al2023-repos-eu-west-1-de612dc2", "prod-eu-west-1-starport-layer-bucket"]);
    });

    it("is what the policy pack requires of a VPC without the internet (the pack cannot render the scripts itself)", () => {
        expect([...NO_INTERNET_ENDPOINT_SERVICES].sort()).to.deep.equal(requiredEndpoints(instanceScripts(renderBootstrapFiles(SAMPLE))).map((e) => e.service).sort());
    });
});

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

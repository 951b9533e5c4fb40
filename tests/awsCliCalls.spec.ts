import { expect } from "chai";
import { renderBootstrapFiles } from "../components/bootstrap";
import { renderApplyScript } from "../components/bootstrap/apply";
import { awsCliCalls } from "../rules/awsCliCalls";
import { SAMPLE } from "./fixtures";

describe("awsCliCalls: the AWS API calls a script makes, read from the script", () => {
    it("joins continuation lines, skips comments, and maps each call to its IAM action and endpoint", () => {
        const script = [
            "#!/bin/bash",
            "# aws ec2 terminate-instances is only mentioned here",
            "x=$(aws autoscaling describe-auto-scaling-groups --region \"$REGION\" \\",
            "    --query 'AutoScalingGroups[0]' --output text)",
            "aws ecr get-login-password --region r | docker login --username AWS --password-stdin reg",
            "aws elbv2 describe-target-health --target-group-arn a; aws elbv2 register-targets --targets t",
            "aws elbv2 describe-target-health --target-group-arn b",
            "if aws secretsmanager get-secret-value --secret-id s; then :; fi",
        ].join("\n");
        expect(awsCliCalls(script)).to.deep.equal([
            { service: "autoscaling", operation: "describe-auto-scaling-groups", iamActions: ["autoscaling:DescribeAutoScalingGroups"], endpointService: "autoscaling" },
            { service: "ecr", operation: "get-login-password", iamActions: ["ecr:GetAuthorizationToken"], endpointService: "ecr.api" },
            { service: "elbv2", operation: "describe-target-health", iamActions: ["elasticloadbalancing:DescribeTargetHealth"], endpointService: "elasticloadbalancing" },
            { service: "elbv2", operation: "register-targets", iamActions: ["elasticloadbalancing:RegisterTargets"], endpointService: "elasticloadbalancing" },
            { service: "secretsmanager", operation: "get-secret-value", iamActions: ["secretsmanager:GetSecretValue"], endpointService: "secretsmanager" },
        ]);
    });

    it("tells an S3 download from an upload by where the s3:// URL stands", () => {
        const calls = (line: string) => awsCliCalls(line).flatMap((c) => c.iamActions);
        expect(calls(`aws s3 cp --only-show-errors --region "$R" "s3://$B/$K" "$work/bundle.json"`)).to.deep.equal(["s3:GetObject"]);
        expect(calls(`aws s3 cp --region "$R" "$COMPOSE_S3" "$1/docker-compose"`)).to.deep.equal(["s3:GetObject"]);
        expect(calls(`aws s3 cp --sse aws:kms ./report.json "s3://$B/reports/x.json"`)).to.deep.equal(["s3:PutObject"]);
        expect(calls(`aws s3 sync s3://b/p ./d`)).to.deep.equal(["s3:GetObject", "s3:ListBucket"]);
    });

    it("refuses a service it has no facts for, naming it", () => {
        expect(() => awsCliCalls("aws route53 change-resource-record-sets --hosted-zone-id Z"))
            .to.throw(/'aws route53 change-resource-record-sets'.*'route53' is not in CLI_SERVICES/);
    });

    it("finds the calls of every rendered instance script (apply, start, claim, peer)", () => {
        const scripts = [
            ...renderBootstrapFiles(SAMPLE).filter((f) => f.path.endsWith(".sh")).map((f) => f.content),
            renderApplyScript({ region: "eu-west-1", bucket: "b", bundleKey: `config/${"a".repeat(64)}.json`, tagFilters: { project: "p", stack: "s" } }),
        ];
        const found = new Set(scripts.flatMap((s) => awsCliCalls(s)).flatMap((c) => c.iamActions));
        for (const action of ["autoscaling:DescribeAutoScalingInstances", "autoscaling:CompleteLifecycleAction", "ec2:AssignPrivateIpAddresses",
            "ec2:AssociateAddress", "ec2:DescribeTags", "tag:GetResources", "elasticloadbalancing:DeregisterTargets", "s3:GetObject",
            "ecr:GetAuthorizationToken", "secretsmanager:GetSecretValue"]) {
            expect(found, action).to.include(action);
        }
    });
});

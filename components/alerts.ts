// Alerts: the SNS topic people subscribe to (alertTopicArn), e-mail subscriptions, and the CloudWatch alarms and
// EventBridge rule that publish to it. The specs (metric, threshold, action) come from rules/alarms.ts.
// Route 53 publishes its metrics only in us-east-1: those alarms, and a companion topic with the same
// subscriptions (an alarm notifies topics of its own region), go through a us-east-1 provider.
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { ACME_CHECK_INTERVAL_SECONDS, ACME_METRIC, ALARM_BELOW_DAYS } from "../rules/acme";
import { AlarmSpec, certificateExpiryAlarm, databaseAlarms, emptySlotAlarm, LoadBalancerKind, rolloutStoppedPattern, route53Alarm, statusCheckAlarms, targetGroupAlarm } from "../rules/alarms";
import { partitionOf, Tags, tagsFor } from "./naming";

export interface WatchedTargetGroup {
    /** web | dicom (the listener role) */
    readonly role: string;
    readonly loadBalancerType: LoadBalancerKind;
    readonly loadBalancerArnSuffix: pulumi.Input<string>;
    readonly targetGroupArnSuffix: pulumi.Input<string>;
}

export interface AlertsArgs {
    readonly region: string;
    /** Who is told (each confirms the subscription by mail). @default [] */
    readonly emails?: readonly string[];
    /** Each instance's Auto Scaling group (a slot of one): what the status-check and empty-slot alarms watch. */
    readonly slotGroupNames: pulumi.Input<string>[];
    /** With a load balancer: every target group that the instances are registered in. @default [] */
    readonly targetGroups?: readonly WatchedTargetGroup[];
    /** With the dns front door: the health check each instance's record uses. @default [] */
    readonly route53HealthCheckIds?: pulumi.Input<string>[];
    readonly database: { readonly identifier: pulumi.Input<string>; readonly allocatedStorageGiB: number };
    /** The SSM document the rollout runs: a failed run on an instance means the rollout stopped. */
    readonly rolloutDocumentName: pulumi.Input<string>;
    /** With orthweb:tls.source acme: each slot's name (the renewal step's metric dimension). @default none */
    readonly certificateSlots?: readonly string[];
    readonly tags?: Tags;
}

export class Alerts extends pulumi.ComponentResource {
    public readonly topicArn: pulumi.Output<string>;
    /** The us-east-1 topic the Route 53 alarms publish to (the same subscriptions); absent when not needed. */
    public readonly usEast1TopicArn?: pulumi.Output<string>;
    /** Every alarm's resource name and spec, in creation order. */
    public readonly alarms: { readonly name: string; readonly spec: AlarmSpec }[] = [];

    constructor(name: string, args: AlertsArgs, opts: pulumi.ComponentResourceOptions = {}) {
        super("orthweb:index:Alerts", name, {}, opts);
        const tags = args.tags ?? {};
        const emails = args.emails ?? [];
        const parent = { parent: this };

        const topic = this.createTopic(name, emails, tags, parent);
        this.topicArn = topic.arn;

        const watch = (spec: AlarmSpec, dimensions: Record<string, pulumi.Input<string>>, topicArn: pulumi.Input<string>, opts: pulumi.CustomResourceOptions = parent) => {
            const alarmName = `${name}-${spec.role}`;
            new aws.cloudwatch.MetricAlarm(
                alarmName,
                {
                    alarmDescription: spec.description,
                    namespace: spec.namespace,
                    metricName: spec.metricName,
                    dimensions,
                    statistic: spec.statistic,
                    period: spec.periodSeconds,
                    evaluationPeriods: spec.evaluationPeriods,
                    threshold: spec.threshold,
                    comparisonOperator: spec.comparison,
                    treatMissingData: spec.treatMissingData,
                    alarmActions: [topicArn],
                    okActions: [topicArn],
                    tags: tagsFor(alarmName, tags),
                },
                opts,
            );
            this.alarms.push({ name: alarmName, spec });
        };

        args.slotGroupNames.forEach((group, i) => {
            for (const spec of [...statusCheckAlarms(i + 1), emptySlotAlarm(i + 1)]) watch(spec, { AutoScalingGroupName: group }, topic.arn);
        });
        for (const tg of args.targetGroups ?? []) {
            watch(targetGroupAlarm(tg.role, tg.loadBalancerType, args.slotGroupNames.length), { LoadBalancer: tg.loadBalancerArnSuffix, TargetGroup: tg.targetGroupArnSuffix }, topic.arn);
        }
        const checks = args.route53HealthCheckIds ?? [];
        if (checks.length > 0) {
            let provider: aws.Provider | undefined;
            let usEast1Topic = topic;
            if (args.region !== "us-east-1") {
                provider = new aws.Provider(`${name}-us-east-1`, { region: "us-east-1", defaultTags: { tags } }, parent);
                usEast1Topic = this.createTopic(`${name}-us-east-1`, emails, tags, { parent: this, provider });
            }
            this.usEast1TopicArn = usEast1Topic.arn;
            checks.forEach((id, i) => watch(route53Alarm(i + 1), { HealthCheckId: id }, usEast1Topic.arn, { parent: this, provider }));
        }
        (args.certificateSlots ?? []).forEach((slot, i) =>
            watch(certificateExpiryAlarm(i + 1, ALARM_BELOW_DAYS, ACME_METRIC, ACME_CHECK_INTERVAL_SECONDS), { [ACME_METRIC.dimension]: slot }, topic.arn),
        );
        for (const spec of databaseAlarms(args.database.allocatedStorageGiB)) watch(spec, { DBInstanceIdentifier: args.database.identifier }, topic.arn);

        const rule = new aws.cloudwatch.EventRule(
            `${name}-rollout-stopped`,
            {
                description: `${name}: a rollout stopped (the apply document failed on an instance; the other one keeps serving)`,
                eventPattern: pulumi.output(args.rolloutDocumentName).apply((doc) => JSON.stringify(rolloutStoppedPattern(doc))),
                tags: tagsFor(`${name}-rollout-stopped`, tags),
            },
            parent,
        );
        new aws.cloudwatch.EventTarget(`${name}-rollout-stopped`, { rule: rule.name, arn: topic.arn }, parent);
        this.allowPublishers(name, topic, rule, args.region, parent);

        this.registerOutputs({ topicArn: this.topicArn, usEast1TopicArn: this.usEast1TopicArn });
    }

    private createTopic(name: string, emails: readonly string[], tags: Tags, opts: pulumi.CustomResourceOptions): aws.sns.Topic {
        const topic = new aws.sns.Topic(name, { displayName: "Orthweb alerts", tags: tagsFor(name, tags) }, opts);
        emails.forEach((email, i) => new aws.sns.TopicSubscription(`${name}-email-${i + 1}`, { topic: topic.arn, protocol: "email", endpoint: email }, opts));
        return topic;
    }

    /** The topic policy replaces SNS's default one: the account keeps managing it; CloudWatch and the rule may publish. */
    private allowPublishers(name: string, topic: aws.sns.Topic, rule: aws.cloudwatch.EventRule, region: string, opts: pulumi.CustomResourceOptions) {
        const account = aws.getCallerIdentityOutput({}, opts).accountId;
        new aws.sns.TopicPolicy(
            name,
            {
                arn: topic.arn,
                policy: pulumi.all([topic.arn, rule.arn, account]).apply(([topicArn, ruleArn, accountId]) =>
                    JSON.stringify({
                        Version: "2012-10-17",
                        Statement: [
                            {
                                Sid: "AccountManages",
                                Effect: "Allow",
                                Principal: { AWS: `arn:${partitionOf(region)}:iam::${accountId}:root` },
                                Action: ["sns:GetTopicAttributes", "sns:SetTopicAttributes", "sns:AddPermission", "sns:RemovePermission", "sns:DeleteTopic", "sns:Subscribe", "sns:ListSubscriptionsByTopic", "sns:Publish"],
                                Resource: topicArn,
                            },
                            { Sid: "CloudWatchAlarms", Effect: "Allow", Principal: { Service: "cloudwatch.amazonaws.com" }, Action: "sns:Publish", Resource: topicArn, Condition: { StringEquals: { "aws:SourceAccount": accountId } } },
                            { Sid: "RolloutStoppedRule", Effect: "Allow", Principal: { Service: "events.amazonaws.com" }, Action: "sns:Publish", Resource: topicArn, Condition: { ArnEquals: { "aws:SourceArn": ruleArn } } },
                        ],
                    }),
                ),
            },
            opts,
        );
    }
}

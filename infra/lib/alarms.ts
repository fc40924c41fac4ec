/**
 * Alarms that page (through one SNS topic): a rollback that could not be verified, a write that
 * never showed, a failed execution of any state machine, a runtime lagging the active policy,
 * and events parked in the dead-letter queue.
 */
import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { pascalCase } from './functions.js';
import type { GovernanceMetrics } from './metrics.js';

/** A runtime may lag while it reloads after an activation; this long, it is stuck. */
const POLICY_LAG_PERIODS = 3;

export interface GovernanceAlarmsProps {
  readonly metrics: GovernanceMetrics;
  /** Each gets a failed-executions alarm. */
  readonly stateMachines: ReadonlyArray<{ readonly id: string; readonly stateMachine: sfn.IStateMachine }>;
  /** Alarmed when it holds any message. */
  readonly deadLetterQueue: sqs.IQueue;
  /** Alarmed when it holds any message: evidence drafts the writer could not write. */
  readonly evidenceDeadLetterQueue: sqs.IQueue;
  /** Subscribed to the topic by email. @default - no subscription */
  readonly alarmEmail?: string;
}

export class GovernanceAlarms extends Construct {
  readonly topic: sns.Topic;
  readonly alarms: readonly cloudwatch.Alarm[];

  constructor(scope: Construct, id: string, props: GovernanceAlarmsProps) {
    super(scope, id);
    const key = new kms.Key(this, 'TopicKey', { description: 'nhi-governor: encrypts the alarm topic', enableKeyRotation: true });
    // CloudWatch publishes alarm notifications to an encrypted topic only if it may use the key.
    key.addToResourcePolicy(
      new iam.PolicyStatement({
        principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['kms:Decrypt', 'kms:GenerateDataKey'],
        resources: ['*'],
      }),
    );
    this.topic = new sns.Topic(this, 'Topic', { displayName: 'nhi-governor alarms', masterKey: key, enforceSSL: true });
    if (props.alarmEmail) this.topic.addSubscription(new subscriptions.EmailSubscription(props.alarmEmail));

    const { metrics } = props;
    const alarms: cloudwatch.Alarm[] = [
      this.atLeastOne('RollbackFailed', metrics.reasonCode('ROLLBACK_FAILED'), 'A rollback could not be verified: the NHI may be left half-changed (ROLLBACK_FAILED). Page security.'),
      this.atLeastOne('WriteNotApplied', metrics.reasonCode('WRITE_NOT_APPLIED'), 'A write never showed on its target after a rewrite (WRITE_NOT_APPLIED).'),
      ...props.stateMachines.map(({ id: smId, stateMachine }) =>
        this.atLeastOne(
          `${pascalCase(smId)}ExecutionsFailed`,
          new cloudwatch.MathExpression({
            expression: 'FILL(failed, 0) + FILL(timedOut, 0) + FILL(aborted, 0)',
            usingMetrics: { failed: stateMachine.metricFailed(), timedOut: stateMachine.metricTimedOut(), aborted: stateMachine.metricAborted() },
            period: Duration.minutes(5),
            label: `${smId} executions failed, timed out or aborted`,
          }),
          `An execution of the ${smId} state machine failed, timed out or was aborted: a change ended outside its terminal statuses.`,
        ),
      ),
      new cloudwatch.Alarm(this, 'PolicyVersionLag', {
        alarmDescription: 'A runtime has been deciding with a superseded policy version for 15 minutes (PolicyVersionLag).',
        metric: metrics.policyVersionLag(),
        threshold: 0,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        evaluationPeriods: POLICY_LAG_PERIODS,
        datapointsToAlarm: POLICY_LAG_PERIODS,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      }),
      this.atLeastOne(
        'EventsDeadLettered',
        props.deadLetterQueue.metricApproximateNumberOfMessagesVisible({ statistic: 'Maximum', period: Duration.minutes(5) }),
        'Events could not be delivered to or started by ingest and wait in the dead-letter queue.',
      ),
      this.atLeastOne(
        'EvidenceDeadLettered',
        props.evidenceDeadLetterQueue.metricApproximateNumberOfMessagesVisible({ statistic: 'Maximum', period: Duration.minutes(5) }),
        'Evidence drafts the evidence writer could not write wait in its dead-letter queue: those events are missing from their chains.',
      ),
    ];
    for (const alarm of alarms) alarm.addAlarmAction(new actions.SnsAction(this.topic));
    this.alarms = alarms;
  }

  private atLeastOne(id: string, metric: cloudwatch.IMetric, description: string): cloudwatch.Alarm {
    return new cloudwatch.Alarm(this, id, {
      alarmDescription: description,
      metric,
      threshold: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
  }
}

/**
 * The CloudWatch dashboard security and platform teams watch: outcomes (terminal statuses,
 * reason codes), speed (event → VERIFIED, approvals), what is stuck (open escalations, policy
 * lag) and pressure (throttles), next to the alarms.
 */
import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { REASON_CODE_NAMES } from '../../lambdas/domain/reasons.js';
import { TERMINAL_STATUSES } from '../../lambdas/domain/status.js';
import type { GovernanceMetrics } from './metrics.js';

const WIDTH = 8;
const HEIGHT = 6;

export interface GovernanceDashboardProps {
  /** The dashboard's name. */
  readonly dashboardName: string;
  readonly metrics: GovernanceMetrics;
  /** Their throttles are plotted. */
  readonly functions: ReadonlyArray<{ readonly name: string; readonly fn: lambda.IFunction }>;
  /** Their executions and throttles are plotted. */
  readonly stateMachines: ReadonlyArray<{ readonly id: string; readonly stateMachine: sfn.IStateMachine }>;
  /** Shown in an alarm status widget. */
  readonly alarms: readonly cloudwatch.IAlarm[];
}

export class GovernanceDashboard extends Construct {
  readonly dashboard: cloudwatch.Dashboard;

  constructor(scope: Construct, id: string, props: GovernanceDashboardProps) {
    super(scope, id);
    const { metrics } = props;
    const hourly = Duration.hours(1);
    this.dashboard = new cloudwatch.Dashboard(this, 'Dashboard', {
      dashboardName: props.dashboardName,
      defaultInterval: Duration.days(7),
      widgets: [
        [
          graph('Changes by terminal status (per hour)', TERMINAL_STATUSES.map((status) => metrics.changesCompleted(status).with({ period: hourly })), { stacked: true }),
          new cloudwatch.SingleValueWidget({ title: 'Open escalations', metrics: [metrics.openEscalations()], width: WIDTH, height: HEIGHT, sparkline: true }),
          graph('Policy version lag (versions behind the active policy)', [metrics.policyVersionLag()], {
            leftAnnotations: [{ value: 1, label: 'lagging', color: cloudwatch.Color.RED }],
          }),
        ],
        [
          graph('Reason codes (per hour)', REASON_CODE_NAMES.map((code) => metrics.reasonCode(code).with({ period: hourly })), { stacked: true }),
          graph('Event → VERIFIED latency', [metrics.eventToVerified('p50'), metrics.eventToVerified('p95')]),
          graph('Approval latency (requested → decided)', [metrics.approvalLatency('p50'), metrics.approvalLatency('p95')]),
        ],
        [
          graph('Throttles', [
            metrics.reasonCode('THROTTLED').with({ label: 'AWS calls throttled (THROTTLED)' }),
            ...props.functions.map(({ name, fn }) => fn.metricThrottles({ label: `Lambda ${name}` })),
            ...props.stateMachines.map(({ id, stateMachine }) => stateMachine.metricThrottled({ label: `Step Functions ${id}` })),
          ]),
          graph(
            'Executions',
            props.stateMachines.flatMap(({ id, stateMachine }) => [
              stateMachine.metricStarted({ label: `${id} started` }),
              stateMachine.metricSucceeded({ label: `${id} succeeded` }),
              stateMachine.metricFailed({ label: `${id} failed` }),
            ]),
          ),
          new cloudwatch.AlarmStatusWidget({ title: 'Alarms', alarms: [...props.alarms], width: WIDTH, height: HEIGHT }),
        ],
      ],
    });
  }
}

function graph(title: string, left: cloudwatch.IMetric[], options: Partial<cloudwatch.GraphWidgetProps> = {}): cloudwatch.GraphWidget {
  return new cloudwatch.GraphWidget({ title, left, width: WIDTH, height: HEIGHT, ...options });
}

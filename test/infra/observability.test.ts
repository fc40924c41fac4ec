/** The dashboard shows what docs/architecture.md promises to watch; the alarms page through one SNS topic. */
import { Match } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { GOVERNANCE_METRICS } from '../../infra/lib/metrics.js';
import { FUNCTIONS, STATE_MACHINES } from '../../infra/resources.js';
import { REASON_CODE_NAMES } from '../../lambdas/domain/reasons.js';
import { TERMINAL_STATUSES } from '../../lambdas/domain/status.js';
import { buildStack, resourcesOfType } from './support/stack.js';

const { template, json } = buildStack();

interface PlottedMetric {
  readonly namespace: string;
  readonly name: string;
  readonly dimensions: Readonly<Record<string, string>>;
  readonly stat: string;
}

/** Every metric of every dashboard widget, tokens shown as "<token>". */
function dashboardMetrics(): { titles: string[]; metrics: PlottedMetric[] } {
  const [[, dashboard] = []] = resourcesOfType(json, 'AWS::CloudWatch::Dashboard');
  const body = dashboard?.Properties?.['DashboardBody'] as { 'Fn::Join': [string, unknown[]] };
  const text = body['Fn::Join'][1].map((part) => (typeof part === 'string' ? part : '<token>')).join('');
  const widgets = (JSON.parse(text) as { widgets: Array<{ properties: { title: string; metrics?: unknown[][] } }> }).widgets;
  const metrics = widgets.flatMap((w) =>
    (w.properties.metrics ?? []).map((row) => {
      const options = row[row.length - 1] as { stat: string };
      const [namespace, name, ...dims] = row.slice(0, -1) as string[];
      const dimensions: Record<string, string> = {};
      for (let i = 0; i + 1 < dims.length; i += 2) dimensions[dims[i] as string] = dims[i + 1] as string;
      return { namespace: namespace ?? '', name: name ?? '', dimensions, stat: options.stat };
    }),
  );
  return { titles: widgets.map((w) => w.properties.title), metrics };
}

/** The metric an alarm watches, whether CDK rendered it flat or as a one-metric `Metrics` list. */
function alarmMetric(properties: Record<string, unknown>): PlottedMetric | undefined {
  const flat = properties['MetricName'] ? properties : undefined;
  const stat = (properties['Metrics'] as Array<{ ReturnData?: boolean; MetricStat?: { Metric: Record<string, unknown>; Stat: string } }> | undefined)?.find((m) => m.ReturnData !== false)?.MetricStat;
  const metric = flat ?? stat?.Metric;
  if (!metric) return undefined;
  const dims = (metric['Dimensions'] as Array<{ Name: string; Value: string }> | undefined) ?? [];
  return {
    namespace: String(metric['Namespace']),
    name: String(metric['MetricName']),
    dimensions: Object.fromEntries(dims.map((d) => [d.Name, d.Value])),
    stat: String(flat ? properties['Statistic'] : stat?.Stat),
  };
}

const SERVICE = { service: 'nhi-governor' };

describe('dashboard', () => {
  const { titles, metrics } = dashboardMetrics();
  const plotted = (name: string, dimensions: Record<string, string>, stat: string): boolean =>
    metrics.some((m) => m.namespace === 'NhiGovernor' && m.name === name && m.stat === stat && JSON.stringify(Object.entries(m.dimensions).sort()) === JSON.stringify(Object.entries(dimensions).sort()));

  it('exists under the prefix, with the promised widgets', () => {
    template.hasResourceProperties('AWS::CloudWatch::Dashboard', { DashboardName: 'nhigov-governance' });
    expect(titles).toEqual([
      'Changes by terminal status (per hour)',
      'Open escalations',
      'Policy version lag (versions behind the active policy)',
      'Reason codes (per hour)',
      'Event → VERIFIED latency',
      'Approval latency (requested → decided)',
      'Throttles',
      'Executions',
      'Alarms',
    ]);
  });

  it('plots every terminal status and every reason code from the NhiGovernor EMF metrics', () => {
    for (const status of TERMINAL_STATUSES) expect(plotted(GOVERNANCE_METRICS.changeCompleted.name, { ...SERVICE, status }, 'Sum'), status).toBe(true);
    for (const reasonCode of REASON_CODE_NAMES) expect(plotted(GOVERNANCE_METRICS.reasonCode.name, { ...SERVICE, reasonCode }, 'Sum'), reasonCode).toBe(true);
  });

  it('plots latency percentiles, open escalations, policy lag and throttles', () => {
    for (const metric of [GOVERNANCE_METRICS.eventToVerified, GOVERNANCE_METRICS.approvalLatency]) {
      expect(plotted(metric.name, SERVICE, 'p50')).toBe(true);
      expect(plotted(metric.name, SERVICE, 'p95')).toBe(true);
    }
    expect(plotted(GOVERNANCE_METRICS.openEscalations.name, SERVICE, 'Maximum')).toBe(true);
    expect(plotted('PolicyVersionLag', SERVICE, 'Maximum')).toBe(true);
    expect(metrics.filter((m) => m.namespace === 'AWS/Lambda' && m.name === 'Throttles')).toHaveLength(FUNCTIONS.length);
    expect(metrics.filter((m) => m.namespace === 'AWS/States' && m.name === 'ExecutionThrottled')).toHaveLength(STATE_MACHINES.length);
  });
});

describe('alarms', () => {
  const alarms = resourcesOfType(json, 'AWS::CloudWatch::Alarm');

  it('alarm on ROLLBACK_FAILED and WRITE_NOT_APPLIED at the first occurrence', () => {
    for (const reasonCode of ['ROLLBACK_FAILED', 'WRITE_NOT_APPLIED']) {
      const alarm = alarms.find(([, a]) => {
        const metric = alarmMetric(a.Properties ?? {});
        return metric?.name === 'ReasonCode' && metric.dimensions['reasonCode'] === reasonCode;
      });
      expect(alarmMetric(alarm?.[1].Properties ?? {})).toEqual({ namespace: 'NhiGovernor', name: 'ReasonCode', dimensions: { ...SERVICE, reasonCode }, stat: 'Sum' });
      expect(alarm?.[1].Properties).toMatchObject({ Threshold: 1, ComparisonOperator: 'GreaterThanOrEqualToThreshold', EvaluationPeriods: 1 });
    }
  });

  it('alarm on failed, timed-out or aborted executions of every state machine', () => {
    const failed = alarms.filter(([, a]) => JSON.stringify(a.Properties?.['Metrics'] ?? []).includes('ExecutionsFailed'));
    expect(failed).toHaveLength(STATE_MACHINES.length);
  });

  it('alarm on policy version lag that lasts 15 minutes', () => {
    const alarm = alarms.find(([, a]) => alarmMetric(a.Properties ?? {})?.name === 'PolicyVersionLag');
    expect(alarmMetric(alarm?.[1].Properties ?? {})).toEqual({ namespace: 'NhiGovernor', name: 'PolicyVersionLag', dimensions: SERVICE, stat: 'Maximum' });
    expect(alarm?.[1].Properties).toMatchObject({ Threshold: 0, ComparisonOperator: 'GreaterThanThreshold', EvaluationPeriods: 3, DatapointsToAlarm: 3 });
  });

  it('send every alarm to an encrypted topic with the alarm email subscribed', () => {
    for (const [, alarm] of alarms) expect(alarm.Properties?.['AlarmActions']).toEqual([{ Ref: expect.stringMatching(/^AlarmsTopic/) }]);
    template.hasResourceProperties('AWS::SNS::Topic', { KmsMasterKeyId: Match.anyValue() });
    template.hasResourceProperties('AWS::SNS::Subscription', { Protocol: 'email', Endpoint: 'oncall@example.com' });
  });
});

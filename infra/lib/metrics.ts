/**
 * The custom metrics the dashboard and alarms read: EMF metrics in namespace `NhiGovernor`,
 * emitted by the handlers with Powertools Metrics, which adds the `service` dimension
 * (POWERTOOLS_SERVICE_NAME) to each. Handlers must emit exactly these names and dimensions.
 */
import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type { ReasonCode } from '../../lambdas/domain/reasons.js';
import { GOVERNANCE_METRICS } from '../../lambdas/domain/metrics.js';
import type { TerminalStatus } from '../../lambdas/domain/status.js';
import { METRICS_NAMESPACE, POWERTOOLS_SERVICE_NAME } from './functions.js';

/** Name, unit and extra dimension of each metric: the contract between handlers and infra. */
export { GOVERNANCE_METRICS };

type Statistic = 'Sum' | 'Maximum' | 'p50' | 'p95';

/** CloudWatch metric objects for GOVERNANCE_METRICS. */
export class GovernanceMetrics {
  constructor(private readonly period: Duration = Duration.minutes(5)) {}

  changesCompleted(status: TerminalStatus): cloudwatch.Metric {
    return this.metric(GOVERNANCE_METRICS.changeCompleted.name, 'Sum', { status }, status);
  }

  reasonCode(code: ReasonCode): cloudwatch.Metric {
    return this.metric(GOVERNANCE_METRICS.reasonCode.name, 'Sum', { reasonCode: code }, code);
  }

  eventToVerified(statistic: 'p50' | 'p95'): cloudwatch.Metric {
    return this.metric(GOVERNANCE_METRICS.eventToVerified.name, statistic, {}, `event → VERIFIED ${statistic}`);
  }

  approvalLatency(statistic: 'p50' | 'p95'): cloudwatch.Metric {
    return this.metric(GOVERNANCE_METRICS.approvalLatency.name, statistic, {}, `approval ${statistic}`);
  }

  openEscalations(): cloudwatch.Metric {
    return this.metric(GOVERNANCE_METRICS.openEscalations.name, 'Maximum', {}, 'open escalations');
  }

  policyVersionLag(): cloudwatch.Metric {
    return this.metric(GOVERNANCE_METRICS.policyVersionLag.name, 'Maximum', {}, 'versions behind');
  }

  private metric(metricName: string, statistic: Statistic, dimensions: Record<string, string>, label: string): cloudwatch.Metric {
    return new cloudwatch.Metric({
      namespace: METRICS_NAMESPACE,
      metricName,
      dimensionsMap: { service: POWERTOOLS_SERVICE_NAME, ...dimensions },
      statistic,
      period: this.period,
      label,
    });
  }
}

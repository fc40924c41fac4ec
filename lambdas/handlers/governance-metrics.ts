import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { GOVERNANCE_METRICS, METRICS_NAMESPACE } from '../domain/metrics.js';
import type { ReasonCode } from '../domain/reasons.js';
import type { TerminalStatus } from '../domain/status.js';

/** Powertools Metrics (EMF on stdout): CloudWatch Logs extracts it in AWS; locally it is printed. */
function metrics(): Metrics {
  return new Metrics({ namespace: METRICS_NAMESPACE, serviceName: 'nhi-governor' });
}

export interface CompletionFigures {
  readonly status: TerminalStatus;
  readonly reasonCodes: readonly ReasonCode[];
  /** Set when the change ended VERIFIED: trigger → VERIFIED. */
  readonly eventToVerifiedMs?: number;
  /** Changes currently ESCALATED, when known. */
  readonly openEscalations?: number;
}

/** One change reached its terminal status: the dashboard's status, reason-code and latency series. */
export function emitCompletion(figures: CompletionFigures): void {
  const byStatus = metrics();
  byStatus.addDimension(GOVERNANCE_METRICS.changeCompleted.dimension, figures.status);
  byStatus.addMetric(GOVERNANCE_METRICS.changeCompleted.name, MetricUnit.Count, 1);
  byStatus.publishStoredMetrics();
  for (const code of figures.reasonCodes) {
    const byCode = metrics();
    byCode.addDimension(GOVERNANCE_METRICS.reasonCode.dimension, code);
    byCode.addMetric(GOVERNANCE_METRICS.reasonCode.name, MetricUnit.Count, 1);
    byCode.publishStoredMetrics();
  }
  const plain = metrics();
  if (figures.eventToVerifiedMs !== undefined) plain.addMetric(GOVERNANCE_METRICS.eventToVerified.name, MetricUnit.Milliseconds, figures.eventToVerifiedMs);
  if (figures.openEscalations !== undefined) plain.addMetric(GOVERNANCE_METRICS.openEscalations.name, MetricUnit.Count, figures.openEscalations);
  if (figures.eventToVerifiedMs !== undefined || figures.openEscalations !== undefined) plain.publishStoredMetrics();
}

/** An approval POST refused as unauthenticated (bad signature, unknown approval id): a metric, not evidence. */
export function emitApprovalLinkRefused(reason: string): void {
  const m = metrics();
  m.addDimension(GOVERNANCE_METRICS.approvalLinkRefused.dimension, reason);
  m.addMetric(GOVERNANCE_METRICS.approvalLinkRefused.name, MetricUnit.Count, 1);
  m.publishStoredMetrics();
}

export function emitApprovalLatency(ms: number): void {
  const m = metrics();
  m.addMetric(GOVERNANCE_METRICS.approvalLatency.name, MetricUnit.Milliseconds, Math.max(0, ms));
  m.publishStoredMetrics();
}

/** An event that calls for nothing, by its source. */
export function emitEventIgnored(source: string): void {
  const m = metrics();
  m.addDimension(GOVERNANCE_METRICS.eventIgnored.dimension, source);
  m.addMetric(GOVERNANCE_METRICS.eventIgnored.name, MetricUnit.Count, 1);
  m.publishStoredMetrics();
}

/** An event id delivered again with other content. */
export function emitEventIdReused(): void {
  const m = metrics();
  m.addMetric(GOVERNANCE_METRICS.eventIdReused.name, MetricUnit.Count, 1);
  m.publishStoredMetrics();
}

/**
 * The custom metrics the CloudWatch dashboard and alarms read (EMF, namespace `NhiGovernor`,
 * Powertools adds the `service` dimension). Handlers emit exactly these; infra/lib/metrics.ts
 * draws them.
 */
export const METRICS_NAMESPACE = 'NhiGovernor';

export const GOVERNANCE_METRICS = {
  /** 1 per change reaching a terminal status; dimension `status` (a TERMINAL_STATUSES value). */
  changeCompleted: { name: 'ChangeCompleted', unit: 'Count', dimension: 'status' },
  /** 1 per reason code a completed change carries; dimension `reasonCode`. */
  reasonCode: { name: 'ReasonCode', unit: 'Count', dimension: 'reasonCode' },
  /** Trigger → VERIFIED, per change that ends VERIFIED. */
  eventToVerified: { name: 'EventToVerifiedLatency', unit: 'Milliseconds' },
  /** APPROVAL_REQUESTED → decision (approve or reject). */
  approvalLatency: { name: 'ApprovalLatency', unit: 'Milliseconds' },
  /** Gauge: changes that ended ESCALATED. */
  openEscalations: { name: 'OpenEscalations', unit: 'Count' },
  /** 1 per event that calls for nothing (another Health event type, an archived finding); dimension `source`. */
  eventIgnored: { name: 'EventIgnored', unit: 'Count', dimension: 'source' },
  /** 1 per delivery of an event id already used for different content (refused; it ends in the DLQ). */
  eventIdReused: { name: 'EventIdReused', unit: 'Count' },
  /** 1 per approval POST refused before it names a request it could decide (bad signature, unknown approval id); dimension `reason`. Not evidence. */
  approvalLinkRefused: { name: 'ApprovalLinkRefused', unit: 'Count', dimension: 'reason' },
  /** Gauge: policy versions a runtime is behind the active one (0 when current). */
  policyVersionLag: { name: 'PolicyVersionLag', unit: 'Count' },
} as const;

import type { GovernancePolicy } from './policy.js';
import type { Plan } from './plan-model.js';
import { isReasonCode, type ReasonCode } from './reasons.js';
import type { TerminalStatus } from './status.js';

export interface ActionResult {
  readonly actionId: string;
  readonly status: 'VERIFIED' | 'FAILED';
  /** The ASL error name when it failed: a reason code. */
  readonly error?: string;
}

export interface Outcome {
  readonly status: TerminalStatus;
  readonly next: 'COMPLETE' | 'ROLLBACK' | 'ESCALATE';
  readonly reasonCodes: ReasonCode[];
  /** Actions to undo, in the order to undo them (reverse of the plan). */
  readonly rollbackActionIds: string[];
}

/**
 * What the policy says happens after Apply. Verified revocations stay (undoing them would
 * restore access) and the change escalates; a rotation is all-or-nothing and rolls back.
 */
export function decideOutcome(plan: Plan, results: readonly ActionResult[], policy: GovernancePolicy): Outcome {
  const failed = results.filter((r) => r.status !== 'VERIFIED');
  const reasonCodes = [...new Set(failed.map((r) => (isReasonCode(r.error) ? r.error : 'TARGET_UNAVAILABLE')))];
  if (failed.length === 0) return outcomeOfFindings(plan);
  const byId = new Map(plan.actions.map((a) => [a.actionId, a]));
  const failedGroups = new Set(failed.map((r) => byId.get(r.actionId)?.group));
  const rollbackGroups = new Set<string>();
  if (failedGroups.has('rotation') && policy.failureHandling.rotation === 'rollback') rollbackGroups.add('rotation');
  if ((failedGroups.has('revocation') || failedGroups.has('containment')) && policy.failureHandling.revocation === 'rollback') {
    rollbackGroups.add('revocation');
    rollbackGroups.add('containment');
  }
  const rollbackActionIds = plan.actions
    .filter((a) => rollbackGroups.has(a.group) && a.inverse !== null)
    .map((a) => a.actionId)
    .reverse();
  if (rollbackActionIds.length > 0) return { status: 'ROLLED_BACK', next: 'ROLLBACK', reasonCodes, rollbackActionIds };
  return { status: 'ESCALATED', next: 'ESCALATE', reasonCodes, rollbackActionIds: [] };
}

/** Findings that need a person (an NHI without an owner, an account that could not be read): a change reporting one ends ESCALATED, whatever it wrote. */
export const ESCALATING_FINDINGS: readonly ReasonCode[] = ['OWNER_UNKNOWN', 'GOVERNANCE_REMOVED', 'OWNER_TAG_CHANGED', 'CONNECTOR_ACCESS_DENIED'];

/** The findings of a plan that need a person (each code once, in the order found). */
export function escalatingFindings(plan: Pick<Plan, 'findings'>): ReasonCode[] {
  return [...new Set(plan.findings.map((f) => f.reasonCode).filter((code) => ESCALATING_FINDINGS.includes(code)))];
}

/**
 * Every action verified (or none planned): NO_CHANGES for a plan without actions, VERIFIED for
 * one with; ESCALATED either way when a finding needs a person (an NHI without an owner).
 */
export function outcomeOfFindings(plan: Pick<Plan, 'actions' | 'findings'>): Outcome {
  const reasonCodes = escalatingFindings(plan);
  if (reasonCodes.length > 0) return { status: 'ESCALATED', next: 'ESCALATE', reasonCodes, rollbackActionIds: [] };
  return { status: plan.actions.length === 0 ? 'NO_CHANGES' : 'VERIFIED', next: 'COMPLETE', reasonCodes: [], rollbackActionIds: [] };
}

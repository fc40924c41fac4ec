import type { ActionResult, Outcome } from './outcome.js';
import type { Plan, PlanAction } from './plan-model.js';
import type { GovernancePolicy } from './policy.js';
import type { ReasonCode } from './reasons.js';
import { normalizeEmail, verifyApprovalLinkSignature, type SignedApprovalLink } from './approval-link.js';
import { DEFAULT_RULE, describeQuorum, quorumOf, type ApprovalRequirement, type Quorum } from './approval-rules.js';

/** An approval request's lifecycle in the approvals table. */
export type ApprovalStatus = 'PENDING' | 'APPROVED' | 'REJECTED' | 'EXPIRED';
export type ApprovalDecision = 'approve' | 'reject';

/** Who may decide a request, fixed when it is made (from the plan and the policy). */
export interface ApprovalFacts {
  readonly status: ApprovalStatus;
  /** Deadline, epoch seconds: the approval task's timeout. */
  readonly exp: number;
  /** The approvers of the policy's group. */
  readonly approvers: readonly string[];
  /** Owners of the NHIs the change touches (and, for a termination, the person leaving). */
  readonly owners: readonly string[];
  /** Who the change hands an NHI to (incoming owner, a leaver's manager): barred as owners are. */
  readonly recipients?: readonly string[];
  /** The person who asked for the change, when a person did. */
  readonly requestedBy?: string;
  readonly forbidOwnerApproval: boolean;
  readonly forbidRequesterApproval: boolean;
  /** Every approval rule the change must meet (absent on older requests: one approver of the group). */
  readonly rules?: readonly ApprovalRequirement[];
  /** The approvals recorded so far, by approver (one each: the same approver twice counts once). */
  readonly approvals?: Readonly<Record<string, { readonly decidedAt: string; readonly channel: string }>>;
}

/**
 * A request for new work found after Apply that the change's decision does not cover (CheckIntent):
 * it asks only for the follow-up's actions, for its own reasons, as a follow-up of the earlier plan.
 */
export interface FollowUpScope {
  readonly round: number;
  /** The plan hash the earlier decision was taken on. */
  readonly of: string;
  readonly actionIds: readonly string[];
  readonly reasons: readonly string[];
}

/** The actions a request asks about: a follow-up's alone, else the whole plan's. */
export function actionsInScope(plan: Pick<Plan, 'actions'>, followUp: FollowUpScope | undefined): readonly PlanAction[] {
  if (!followUp) return plan.actions;
  const wanted = new Set(followUp.actionIds);
  return plan.actions.filter((a) => wanted.has(a.actionId));
}

/** Why a request needs a person: a follow-up's own reasons, else the plan's. */
export function reasonsInScope(plan: Pick<Plan, 'approval'>, followUp: FollowUpScope | undefined): readonly string[] {
  return followUp ? followUp.reasons : plan.approval.reasons;
}

/**
 * Why a link is refused, with its HTTP status. The governance refusals carry the contract's
 * reason code; the link refusals (bad signature, expired, reused) are about the link itself.
 */
export const REFUSALS = {
  LINK_SIGNATURE_INVALID: { httpStatus: 403, reasonCode: null },
  LINK_EXPIRED: { httpStatus: 410, reasonCode: null },
  ALREADY_DECIDED: { httpStatus: 409, reasonCode: null },
  APPROVER_NOT_AUTHORIZED: { httpStatus: 403, reasonCode: 'APPROVER_NOT_AUTHORIZED' },
  SELF_APPROVAL_FORBIDDEN: { httpStatus: 403, reasonCode: 'SELF_APPROVAL_FORBIDDEN' },
} as const satisfies Record<string, { httpStatus: number; reasonCode: ReasonCode | null }>;
export type RefusalReason = keyof typeof REFUSALS;

export interface Refusal {
  readonly reason: RefusalReason;
  readonly httpStatus: number;
  readonly reasonCode: ReasonCode | null;
  readonly message: string;
}

export type LinkVerdict = { readonly ok: true; readonly approver: string } | ({ readonly ok: false } & Refusal);

function refuse(reason: RefusalReason, message: string): LinkVerdict {
  return { ok: false, reason, message, ...REFUSALS[reason] };
}

/**
 * Separation of duties: the approver must be in the policy's group, and (as the policy says) may
 * not approve a change to an NHI they own, nor a change they asked for. Null when allowed.
 */
export function separationOfDuties(facts: ApprovalFacts, approverEmail: string): Refusal | null {
  const approver = normalizeEmail(approverEmail);
  const verdict = (reason: RefusalReason, message: string): Refusal => ({ reason, message, ...REFUSALS[reason] });
  if (!facts.approvers.map(normalizeEmail).includes(approver)) {
    return verdict('APPROVER_NOT_AUTHORIZED', `${approver} is not in the approver group of this change`);
  }
  if (facts.forbidOwnerApproval && facts.owners.map(normalizeEmail).includes(approver)) {
    return verdict('SELF_APPROVAL_FORBIDDEN', `${approver} owns an NHI this change touches and may not approve it`);
  }
  if (facts.forbidOwnerApproval && (facts.recipients ?? []).map(normalizeEmail).includes(approver)) {
    return verdict('SELF_APPROVAL_FORBIDDEN', `this change hands ${approver} an NHI: another approver must decide it`);
  }
  if (facts.forbidRequesterApproval && facts.requestedBy !== undefined && normalizeEmail(facts.requestedBy) === approver) {
    return verdict('SELF_APPROVAL_FORBIDDEN', `${approver} requested this change and may not approve it`);
  }
  return null;
}

/** The approvers a request is sent to: the group, less those separation of duties bars. */
export function eligibleApprovers(facts: ApprovalFacts): string[] {
  return [...new Set(facts.approvers.map(normalizeEmail))].filter((approver) => separationOfDuties(facts, approver) === null);
}

export function isExpired(facts: Pick<ApprovalFacts, 'exp'>, link: Pick<SignedApprovalLink, 'exp'>, now: Date): boolean {
  return now.getTime() >= Math.min(facts.exp, link.exp) * 1000;
}

/**
 * Judges a link against its request, in the order the API answers: signature (403), expiry
 * (410), already decided (409), then who is deciding (403 with the reason code). A GET is judged
 * the same way so the page never offers a decision the POST would refuse.
 */
export function judgeLink(facts: ApprovalFacts, link: SignedApprovalLink, key: Uint8Array | string, now: Date): LinkVerdict {
  if (!verifyApprovalLinkSignature(key, link)) return refuse('LINK_SIGNATURE_INVALID', 'the link signature is not valid');
  if (isExpired(facts, link, now) || facts.status === 'EXPIRED') {
    return refuse('LINK_EXPIRED', `the link expired at ${new Date(Math.min(facts.exp, link.exp) * 1000).toISOString()}`);
  }
  if (facts.status !== 'PENDING') return refuse('ALREADY_DECIDED', `this request was already decided (${facts.status})`);
  const duty = separationOfDuties(facts, link.approver);
  if (duty) return { ok: false, ...duty };
  const approver = normalizeEmail(link.approver);
  if (facts.approvals?.[approver]) {
    return refuse('ALREADY_DECIDED', `${approver} already approved this change (${describeQuorum(quorumOfFacts(facts))}); the same approver counts once`);
  }
  return { ok: true, approver };
}

/** A request's requirements: its rules, or (an older request) one approver of the group. */
export function requirementsOf(facts: Pick<ApprovalFacts, 'rules' | 'approvers'> & { readonly group?: string }): readonly ApprovalRequirement[] {
  return facts.rules && facts.rules.length > 0 ? facts.rules : [{ name: DEFAULT_RULE, group: facts.group ?? 'approvers', minApprovers: 1, approvers: facts.approvers, reasons: [] }];
}

/** Where a request stands: the approvals recorded against its requirements. */
export function quorumOfFacts(facts: ApprovalFacts): Quorum {
  return quorumOf(requirementsOf(facts), Object.keys(facts.approvals ?? {}), eligibleApprovers(facts));
}

/**
 * After-the-fact approval rejected: undo what was applied, as the policy says. Every verified
 * reversible action is undone, in reverse plan order (the Rollback map verifies each); when the
 * policy keeps containment on rejection, nothing is undone and the change escalates.
 */
export function outcomeOfRejection(plan: Plan, results: readonly ActionResult[], policy: GovernancePolicy): Outcome {
  const reasonCodes: ReasonCode[] = ['APPROVAL_REJECTED'];
  if (!policy.triggers.credentialExposed.rollbackOnReject) return { status: 'ESCALATED', next: 'ESCALATE', reasonCodes, rollbackActionIds: [] };
  const verified = new Set(results.filter((r) => r.status === 'VERIFIED').map((r) => r.actionId));
  const rollbackActionIds = plan.actions
    .filter((a) => verified.has(a.actionId) && a.inverse !== null)
    .map((a) => a.actionId)
    .reverse();
  if (rollbackActionIds.length === 0) return { status: 'REJECTED', next: 'COMPLETE', reasonCodes, rollbackActionIds: [] };
  return { status: 'ROLLED_BACK', next: 'ROLLBACK', reasonCodes, rollbackActionIds };
}

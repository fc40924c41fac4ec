/**
 * Rolling back a past change, as pure decisions: may this change be rolled back now, which of
 * its actions to undo, in which order, and what the rollback's outcome is. The rollback is a
 * change of its own (kind 'rollback'), with its own plan, approval and evidence chain.
 */
import { canonicalJson, contentHash, sha256Hex } from './canonical.js';
import type { EvidenceEvent } from './evidence.js';
import type { JsonObject, Plan, PlanAction, PlanTrigger } from './plan-model.js';
import { approversOf, type GovernancePolicy } from './policy.js';
import { isReasonCode, type ReasonCode } from './reasons.js';
import { isTerminalStatus, type ActionStatus, type ChangeStatus } from './status.js';

export const ROLLBACK_TRIGGER = 'Rollback Requested' satisfies PlanTrigger['detailType'];

/**
 * A rollback that was rejected or failed before writing anything may be asked again; each ask is
 * a new attempt with its own id. This bounds how many are looked up.
 */
export const MAX_ROLLBACK_ATTEMPTS = 20;

/** What the rollback decisions need to know of a change (a subset of the changes table record). */
export interface ChangeView {
  readonly changeId: string;
  readonly kind: 'change' | 'rollback' | 'attestation';
  readonly status: ChangeStatus;
  readonly parentChangeId?: string;
  readonly actions: Readonly<Record<string, { readonly status: ActionStatus }>>;
}

/**
 * The id (and execution name) of attempt `attempt` to roll back `parentChangeId`: the same
 * request always gives the same id, so asking twice starts one rollback.
 */
export function rollbackChangeId(parentChangeId: string, attempt: number): string {
  return `rbk-${sha256Hex(`rollback:${parentChangeId}:${attempt}`).slice(0, 24)}`;
}

/**
 * The rollback attempts of a change, oldest first: attempt n exists only if attempt n-1 ended
 * without effect, so the lookup stops at the first id that is not there.
 */
export async function findRollbackAttempts<T extends ChangeView>(parentChangeId: string, get: (changeId: string) => Promise<T | undefined>): Promise<T[]> {
  const attempts: T[] = [];
  for (let attempt = 1; attempt <= MAX_ROLLBACK_ATTEMPTS; attempt += 1) {
    const found = await get(rollbackChangeId(parentChangeId, attempt));
    if (!found) break;
    attempts.push(found);
  }
  return attempts;
}

/** A rollback that ended without writing to any target (rejected, timed out, refused, stale). */
export function endedWithoutEffect(rollback: ChangeView): boolean {
  if (!isTerminalStatus(rollback.status) || rollback.status === 'ROLLED_BACK') return false;
  return Object.values(rollback.actions).every((action) => action.status === 'SKIPPED');
}

/**
 * Actions of the change to undo, in plan order: those it verified, that have an inverse, and
 * that finalize has not made permanent since. Actions it never verified changed nothing to undo;
 * actions its own workflow already rolled back are ROLLED_BACK, not VERIFIED.
 */
export function selectRollbackActions(plan: Plan, change: ChangeView, finalizedActionIds: ReadonlySet<string>): PlanAction[] {
  return plan.actions.filter(
    (action) => change.actions[action.actionId]?.status === 'VERIFIED' && action.inverse !== null && !finalizedActionIds.has(action.actionId),
  );
}

/** Actions of a change that finalize made permanent: FINALIZED events on its chain name them. */
export function finalizedActionIds(events: readonly Pick<EvidenceEvent, 'type' | 'actionId'>[]): Set<string> {
  return new Set(events.flatMap((event) => (event.type === 'FINALIZED' && event.actionId ? [event.actionId] : [])));
}

/** Undo in reverse plan order: what was done last is undone first (ownership moves come back last). */
export function undoOrder(actions: readonly PlanAction[]): string[] {
  return actions.map((action) => action.actionId).reverse();
}

export type RollbackRequestVerdict =
  | { readonly verdict: 'start'; readonly attempt: number; readonly rollbackChangeId: string; readonly actionIds: readonly string[] }
  | { readonly verdict: 'duplicate'; readonly rollbackChangeId: string; readonly status: ChangeStatus }
  | { readonly verdict: 'refused'; readonly reasonCode: 'INPUT_INVALID'; readonly reason: string };

export interface RollbackRequestInput {
  readonly parentChangeId: string;
  /** undefined: no such change. */
  readonly parent: ChangeView | undefined;
  /** The parent's plan; null when it never planned. */
  readonly plan: Plan | null;
  /** Actions of the parent finalize made permanent (FINALIZED evidence). */
  readonly finalizedActionIds: ReadonlySet<string>;
  /** The parent's rollback attempts, oldest first (findRollbackAttempts). */
  readonly attempts: readonly ChangeView[];
}

/**
 * Whether a rollback of the change may start now. Refused: unknown, itself a rollback, still in
 * flight, already rolled back (by its own workflow or by an earlier rollback), a rollback that
 * wrote and then escalated (it needs a person), nothing reversible left. A rollback already in
 * flight is the same request again: it is returned, not started twice.
 */
export function decideRollbackRequest(input: RollbackRequestInput): RollbackRequestVerdict {
  const { parent, parentChangeId } = input;
  const refuse = (reason: string): RollbackRequestVerdict => ({ verdict: 'refused', reasonCode: 'INPUT_INVALID', reason });
  if (!parent) return refuse(`no change ${parentChangeId}`);
  if (parent.kind === 'attestation') return refuse(`${parentChangeId} is an attestation campaign: roll back the follow-up changes it started (nhigov attest status ${parentChangeId})`);
  if (parent.kind === 'rollback') return refuse(`${parentChangeId} is itself a rollback (of ${parent.parentChangeId ?? 'an unknown change'}); a rollback is not rolled back`);
  if (!isTerminalStatus(parent.status)) return refuse(`${parentChangeId} is still ${parent.status}: only a finished change can be rolled back (nhigov wait ${parentChangeId})`);
  if (parent.status === 'ROLLED_BACK') return refuse(`${parentChangeId} already ended ROLLED_BACK: its own workflow undid it`);
  const latest = input.attempts.at(-1);
  if (latest && !isTerminalStatus(latest.status)) return { verdict: 'duplicate', rollbackChangeId: latest.changeId, status: latest.status };
  if (latest?.status === 'ROLLED_BACK') return refuse(`${parentChangeId} was already rolled back by ${latest.changeId}`);
  if (latest && !endedWithoutEffect(latest)) {
    return refuse(`rollback ${latest.changeId} of ${parentChangeId} ended ${latest.status} after writing: it needs a person (nhigov show ${latest.changeId})`);
  }
  const attempt = input.attempts.length + 1;
  if (attempt > MAX_ROLLBACK_ATTEMPTS) return refuse(`${parentChangeId} has had ${MAX_ROLLBACK_ATTEMPTS} rollback attempts; no more are started`);
  const actions = input.plan ? selectRollbackActions(input.plan, parent, input.finalizedActionIds) : [];
  if (actions.length === 0) {
    const finalized = input.finalizedActionIds.size > 0 ? ' (finalize has made some of them permanent)' : '';
    return refuse(`${parentChangeId} has no verified reversible action to undo${finalized}`);
  }
  return { verdict: 'start', attempt, rollbackChangeId: rollbackChangeId(parentChangeId, attempt), actionIds: undoOrder(actions) };
}

export interface RollbackAttemptInput extends Omit<RollbackRequestInput, 'attempts'> {
  readonly changeId: string;
  readonly attempt: number;
  /** Every rollback attempt of the parent found (findRollbackAttempts), oldest first. */
  readonly attempts: readonly ChangeView[];
}

/**
 * Why rollback `changeId` (attempt `attempt` of its parent) may not plan, or null when it may:
 * the request is judged as if it came now, against the attempts before it.
 */
export function refusalOfRollbackAttempt(input: RollbackAttemptInput): string | null {
  const { changeId, parentChangeId, attempt } = input;
  const earlier = input.attempts.slice(0, attempt - 1);
  if (earlier.length !== attempt - 1) return `attempt ${attempt} of ${parentChangeId} comes after ${earlier.length} earlier attempt(s), not ${attempt - 1}`;
  const verdict = decideRollbackRequest({ ...input, attempts: earlier });
  if (verdict.verdict === 'refused') return verdict.reason;
  if (verdict.verdict === 'start' && verdict.rollbackChangeId === changeId) return null;
  return `${parentChangeId} already has rollback ${verdict.rollbackChangeId} (${verdict.verdict === 'duplicate' ? verdict.status : 'next attempt'})`;
}

export interface RollbackPlanInput {
  readonly rollbackChangeId: string;
  readonly attempt: number;
  readonly parentChangeId: string;
  readonly parentPlanHash: string;
  readonly parentPlan: Plan;
  /** The parent's actions to undo (selectRollbackActions), in plan order. */
  readonly actions: readonly PlanAction[];
  readonly requestedBy: string;
  readonly reason: string | null;
  readonly policy: GovernancePolicy;
  readonly policyVersion: string;
  readonly now: Date;
}

/**
 * The action that undoes a parent action, as a plan action of the rollback: the parent's stored
 * inverse, from the state the change left (its `after`) back to the state before it. It keeps the
 * parent action's id, so evidence and outcomes of both changes name the same action.
 */
export function undoAction(action: PlanAction, rollbackChangeId: string, phase: number): PlanAction {
  if (!action.inverse) throw new TypeError(`action ${action.actionId} (${action.kind}) is irreversible`);
  const { inverse } = action;
  return {
    actionId: action.actionId,
    kind: inverse.kind,
    params: inverse.params,
    target: action.target,
    before: action.after,
    after: action.before,
    fingerprint: contentHash(action.after),
    inverse: { kind: action.kind, params: action.params },
    risk: { reversible: true, prod: action.risk.prod },
    idempotencyKey: sha256Hex(`${rollbackChangeId}:${inverse.kind}:${contentHash(inverse.params)}`).slice(0, 32),
    finding: action.finding,
    phase,
    group: action.group,
  };
}

/**
 * The rollback's plan: one undo action per parent action to undo, in undo order (reverse plan
 * order), each with its before/after as the approver will see them. A rollback restores access
 * a change removed: it always asks for approval, from the policy's group, and the owners of the
 * parent's NHIs may not approve it (nor, per policy, the person who asked for it).
 */
export function planRollback(input: RollbackPlanInput): Plan {
  const { policy, parentPlan } = input;
  const order = undoOrder(input.actions);
  const byId = new Map(input.actions.map((action) => [action.actionId, action]));
  const actions = order.map((actionId, index) => undoAction(byId.get(actionId) as PlanAction, input.rollbackChangeId, index + 1));
  const detail: JsonObject = {
    parentChangeId: input.parentChangeId,
    parentPlanHash: input.parentPlanHash,
    attempt: input.attempt,
    reason: input.reason,
    undoOrder: order,
  };
  return {
    changeId: input.rollbackChangeId,
    trigger: { eventId: `rollback:${input.parentChangeId}:${input.attempt}`, detailType: ROLLBACK_TRIGGER, source: 'nhigov', detail, requestedBy: input.requestedBy },
    policyVersion: input.policyVersion,
    createdAt: input.now.toISOString(),
    asOf: input.now.toISOString(),
    actions,
    findings: [],
    approval: {
      required: true,
      reasons: [`rollback of ${input.parentChangeId} restores the state before it (${actions.length} action${actions.length === 1 ? '' : 's'})`],
      afterTheFact: false,
      group: policy.approval.group,
      approvers: approversOf(policy),
      owners: [...parentPlan.approval.owners],
    },
  };
}

export type RollbackTargetVerdict = 'undo' | 'already-restored' | 'moved';

/**
 * Before an undo action runs, its target is re-read: still as the change left it (the undo's
 * `before`) → undo; already back in the state before the change (the undo's `after`, restored
 * out of band) → nothing to write; anything else, or gone → the target moved since the change,
 * and the rollback stops (PLAN_STALE) rather than guess.
 */
export function classifyRollbackTarget(undo: Pick<PlanAction, 'before' | 'after'>, live: JsonObject | null): RollbackTargetVerdict {
  if (live === null) return 'moved';
  const observed = canonicalJson(live);
  if (observed === canonicalJson(undo.before)) return 'undo';
  if (observed === canonicalJson(undo.after)) return 'already-restored';
  return 'moved';
}

export interface UndoResult {
  readonly actionId: string;
  readonly status: 'VERIFIED' | 'FAILED';
  /** The ASL error name when it failed. */
  readonly error?: string;
}

export interface RollbackOutcome {
  readonly status: 'ROLLED_BACK' | 'ESCALATED';
  readonly reasonCodes: ReasonCode[];
  readonly restored: string[];
  readonly failed: Array<{ actionId: string; reasonCode: ReasonCode }>;
}

/** Every undo verified → ROLLED_BACK; any undo not verified → ESCALATED with ROLLBACK_FAILED first. */
export function settleRollback(results: readonly UndoResult[], skipped: readonly string[] = []): RollbackOutcome {
  const failed = results
    .filter((result) => result.status !== 'VERIFIED')
    .map((result) => ({ actionId: result.actionId, reasonCode: isReasonCode(result.error) ? result.error : ('TARGET_UNAVAILABLE' as ReasonCode) }));
  const restored = [...results.filter((result) => result.status === 'VERIFIED').map((result) => result.actionId), ...skipped];
  if (failed.length === 0) return { status: 'ROLLED_BACK', reasonCodes: [], restored, failed };
  const reasonCodes = [...new Set<ReasonCode>(['ROLLBACK_FAILED', ...failed.map((f) => f.reasonCode)])];
  return { status: 'ESCALATED', reasonCodes, restored, failed };
}

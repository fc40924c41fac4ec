import { z } from 'zod';
import { isAppError, AppError } from '../domain/reasons.js';
import {
  decideRollbackRequest,
  finalizedActionIds,
  findRollbackAttempts,
  planRollback,
  rollbackChangeId,
  ROLLBACK_TRIGGER,
  selectRollbackActions,
} from '../domain/rollback.js';
import type { Plan } from '../domain/plan-model.js';
import { AUTOMATION_ACTOR, parseInput, runtime, type Runtime } from './runtime.js';
import { plannedActions, recordPlanned } from './plan-evidence.js';

/** The rollback execution's input, exactly as `nhigov rollback` (or anyone) starts it. */
export const rollbackRequestSchema = z.object({
  changeId: z.string().regex(/^rbk-[0-9a-f]{24}$/, 'a rollback change id (rbk-...)'),
  parentChangeId: z.string().min(1).max(128),
  attempt: z.number().int().positive(),
  requestedBy: z.string().trim().toLowerCase().pipe(z.email()),
  reason: z.string().max(1000).nullish(),
});
export type RollbackRequest = z.infer<typeof rollbackRequestSchema>;

export interface RollbackPlanOutput {
  readonly planHash: string;
  readonly policyVersion: string;
  /** A rollback always asks for approval first. */
  readonly decision: 'APPROVE_FIRST';
  /** The undo actions (ids of the parent actions they undo), in undo order. */
  readonly actionIds: string[];
  readonly maxConcurrency: 1;
  /** The RequestApproval task's timeout (policy approval.timeoutSeconds). */
  readonly approvalTimeoutSeconds: number;
  readonly parentChangeId: string;
}

/**
 * Creates the rollback change (kind 'rollback', linked to its parent), re-checks that the parent
 * may be rolled back (the request may not have come through the CLI), and stores the rollback's
 * plan: the parent's verified reversible actions. A refusal is recorded and ends the rollback
 * FAILED with INPUT_INVALID; nothing is written to any target.
 */
export async function rollbackPlanCore(rt: Runtime, request: RollbackRequest): Promise<RollbackPlanOutput> {
  const { changeId, parentChangeId, attempt, requestedBy } = request;
  const reason = request.reason ?? null;
  if (changeId !== rollbackChangeId(parentChangeId, attempt)) {
    throw new AppError('INPUT_INVALID', `rollback ${changeId} is not attempt ${attempt} of ${parentChangeId} (expected ${rollbackChangeId(parentChangeId, attempt)})`);
  }
  const now = new Date();
  await rt.changes.create({ changeId, kind: 'rollback', parentChangeId, status: 'PLANNED', trigger: ROLLBACK_TRIGGER, eventId: `rollback:${parentChangeId}:${attempt}`, createdAt: now.toISOString(), actions: {}, reasonCodes: [] });
  const existing = await rt.changes.get(changeId);
  if (existing?.planHash) return replay(rt, existing.planHash, parentChangeId);

  let signed;
  try {
    signed = await rt.loadPolicy();
  } catch (error) {
    await rt.evidence.append({ changeId, type: 'TRIGGERED', actor: requestedBy, policyVersion: 'none', reasonCode: 'POLICY_INVALID', data: { parentChangeId, attempt, reason, refused: isAppError(error) ? error.message : String(error) } });
    throw error;
  }
  const policyVersion = signed.version;
  await rt.evidence.append({ changeId, type: 'TRIGGERED', actor: requestedBy, policyVersion, data: { detailType: ROLLBACK_TRIGGER, parentChangeId, attempt, reason } });

  const parent = await rt.changes.get(parentChangeId);
  const parentPlan = parent?.planHash ? await rt.loadPlan(parent.planHash) : null;
  const finalized = parent ? finalizedActionIds(await rt.evidence.listByChange(parentChangeId)) : new Set<string>();
  const attempts = await findRollbackAttempts(parentChangeId, (id) => rt.changes.get(id));
  const earlier = attempts.slice(0, attempt - 1);
  const verdict =
    earlier.length === attempt - 1
      ? decideRollbackRequest({ parentChangeId, parent, plan: parentPlan, finalizedActionIds: finalized, attempts: earlier })
      : ({ verdict: 'refused', reasonCode: 'INPUT_INVALID', reason: `attempt ${attempt} of ${parentChangeId} comes after ${earlier.length} earlier attempt(s), not ${attempt - 1}` } as const);
  if (verdict.verdict !== 'start' || verdict.rollbackChangeId !== changeId) {
    const refused = verdict.verdict === 'refused' ? verdict.reason : `${parentChangeId} already has rollback ${verdict.rollbackChangeId} (${verdict.verdict === 'duplicate' ? verdict.status : 'next attempt'})`;
    await rt.evidence.append({ changeId, type: 'DECIDED', actor: AUTOMATION_ACTOR, policyVersion, reasonCode: 'INPUT_INVALID', data: { decision: 'REFUSED', parentChangeId, refused } });
    throw new AppError('INPUT_INVALID', `rollback of ${parentChangeId} refused: ${refused}`);
  }
  if (!parent?.planHash || !parentPlan) throw new AppError('INPUT_INVALID', `${parentChangeId} has no plan`);

  const actions = selectRollbackActions(parentPlan, parent, finalized);
  const plan = planRollback({ rollbackChangeId: changeId, attempt, parentChangeId, parentPlanHash: parent.planHash, parentPlan, actions, requestedBy, reason, policy: signed.policy, policyVersion, now });
  const undoes = (actionId: unknown) => parentPlan.actions.find((p) => p.actionId === actionId)?.kind ?? null;
  const planHash = await recordPlanned(rt, plan, {
    parentChangeId,
    parentPlanHash: parent.planHash,
    actions: plannedActions(plan).map((action) => ({ ...action, undoes: undoes(action.actionId) })),
  });
  await rt.evidence.append({
    changeId,
    type: 'DECIDED',
    actor: AUTOMATION_ACTOR,
    policyVersion,
    data: { decision: 'APPROVE_FIRST', approvalRequired: true, approvalReasons: [...plan.approval.reasons], approvers: [...plan.approval.approvers], parentChangeId },
  });
  await rt.changes.update(changeId, { planHash, policyVersion, actionCount: actions.length });
  return output(plan, planHash, signed.policy.approval.timeoutSeconds, parentChangeId);
}

/** A retried step returns the plan it already stored. */
async function replay(rt: Runtime, planHash: string, parentChangeId: string): Promise<RollbackPlanOutput> {
  const plan = await rt.loadPlan(planHash);
  const { policy } = await rt.loadPolicy();
  return output(plan, planHash, policy.approval.timeoutSeconds, parentChangeId);
}

function output(plan: Plan, planHash: string, approvalTimeoutSeconds: number, parentChangeId: string): RollbackPlanOutput {
  return { planHash, policyVersion: plan.policyVersion, decision: 'APPROVE_FIRST', actionIds: plan.actions.map((a) => a.actionId), maxConcurrency: 1, approvalTimeoutSeconds, parentChangeId };
}

export const handler = async (input: unknown): Promise<RollbackPlanOutput> => rollbackPlanCore(runtime(), parseInput(rollbackRequestSchema, input, 'rollback-plan'));

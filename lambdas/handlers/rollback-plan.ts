import { z } from 'zod';
import { AppError } from '../domain/reasons.js';
import { finalizedActionIds, findRollbackAttempts, planRollback, refusalOfRollbackAttempt, rollbackChangeId, ROLLBACK_TRIGGER, selectRollbackActions } from '../domain/rollback.js';
import { beginChange } from './core/begin-change.js';
import { loadChangeHistory } from './core/change-history.js';
import { refusedUndos } from '../domain/rollback-history.js';
import type { PlanFinding } from '../domain/plan-model.js';
import type { EvidenceDraft } from '../domain/evidence.js';
import { plannedActions } from './core/plan-evidence.js';
import { AUTOMATION_ACTOR, parseInput, runtime, type Runtime } from './runtime.js';

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
  const { planHash, plan, signed } = await beginChange(rt, {
    record: { changeId, kind: 'rollback', parentChangeId, trigger: ROLLBACK_TRIGGER, eventId: `rollback:${parentChangeId}:${attempt}` },
    now,
    refused: { actor: requestedBy, data: { parentChangeId, attempt, reason } },
    triggered: () => ({ actor: requestedBy, data: { detailType: ROLLBACK_TRIGGER, parentChangeId, attempt, reason } }),
    plan: async ({ policy, version: policyVersion }) => {
      const parent = await rt.changes.getWithActions(parentChangeId);
      const parentPlan = parent?.planHash ? await rt.loadPlan(parent.planHash) : null;
      const finalized = parent ? finalizedActionIds(await rt.trail.listByChange(parentChangeId)) : new Set<string>();
      const attempts = await findRollbackAttempts(parentChangeId, (id) => rt.changes.getWithActions(id));
      const refused = refusalOfRollbackAttempt({ changeId, parentChangeId, attempt, parent, plan: parentPlan, finalizedActionIds: finalized, attempts });
      if (refused !== null) {
        await rt.evidence.append({ changeId, type: 'DECIDED', actor: AUTOMATION_ACTOR, policyVersion, reasonCode: 'INPUT_INVALID', data: { decision: 'REFUSED', parentChangeId, refused } });
        throw new AppError('INPUT_INVALID', `rollback of ${parentChangeId} refused: ${refused}`);
      }
      if (!parent?.planHash || !parentPlan) throw new AppError('INPUT_INVALID', `${parentChangeId} has no plan`);
      const verified = selectRollbackActions(parentPlan, parent, finalized);
      // What came after the parent prevails: an exposed credential is never given back, a target taken over stays as its new change left it.
      const superseded = [...refusedUndos(parentChangeId, verified, await loadChangeHistory(rt)).values()];
      const actions = verified.filter((action) => !superseded.some((r) => r.actionId === action.actionId));
      const findings: PlanFinding[] = superseded.map((r) => ({ nhi: r.nhi, reasonCode: 'SUPERSEDED', message: `${r.actionId}: ${r.message}`, data: { actionId: r.actionId, why: r.why, laterChangeId: r.laterChangeId, signal: r.signal } }));
      const supersededEvents: EvidenceDraft[] = superseded.map((r) => ({
        changeId,
        type: 'DECIDED',
        actor: AUTOMATION_ACTOR,
        policyVersion,
        nhi: r.nhi,
        actionId: r.actionId,
        reasonCode: 'SUPERSEDED',
        data: { message: r.message, why: r.why, laterChangeId: r.laterChangeId, signal: r.signal },
      }));
      if (actions.length === 0) {
        for (const event of supersededEvents) await rt.evidence.append(event);
        const why = superseded.map((r) => `${r.actionId} ${r.message}`).join('; ');
        await rt.evidence.append({ changeId, type: 'DECIDED', actor: AUTOMATION_ACTOR, policyVersion, reasonCode: 'SUPERSEDED', data: { decision: 'REFUSED', parentChangeId, refused: why } });
        throw new AppError('INPUT_INVALID', `rollback of ${parentChangeId} refused: every undo is superseded by what came after: ${why}`);
      }
      const plan = { ...planRollback({ rollbackChangeId: changeId, attempt, parentChangeId, parentPlanHash: parent.planHash, parentPlan, actions, requestedBy, reason, policy, policyVersion, now }), findings };
      const undoes = (actionId: unknown) => parentPlan.actions.find((p) => p.actionId === actionId)?.kind ?? null;
      return {
        plan,
        planned: { parentChangeId, parentPlanHash: parent.planHash, actions: plannedActions(plan).map((action) => ({ ...action, undoes: undoes(action.actionId) })) },
        events: supersededEvents,
        decided: { decision: 'APPROVE_FIRST', approvalRequired: true, approvalReasons: [...plan.approval.reasons], approvers: [...plan.approval.approvers], parentChangeId },
      };
    },
  });
  return { planHash, policyVersion: plan.policyVersion, decision: 'APPROVE_FIRST', actionIds: plan.actions.map((a) => a.actionId), maxConcurrency: 1, approvalTimeoutSeconds: signed.policy.approval.timeoutSeconds, parentChangeId };
}

export const handler = async (input: unknown): Promise<RollbackPlanOutput> => rollbackPlanCore(runtime(), parseInput(rollbackRequestSchema, input, 'rollback-plan'));

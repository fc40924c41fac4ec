import type { JsonObject, Plan } from '../domain/plan-model.js';

/**
 * What a PLANNED event records of each action (plan, rollback and finalize alike): exact target,
 * before, after, fingerprint, finding and risk. The full plan is stored under its hash.
 */
export function plannedActions(plan: Pick<Plan, 'actions'>): JsonObject[] {
  return plan.actions.map((a) => ({
    actionId: a.actionId,
    kind: a.kind,
    target: { ...a.target },
    before: a.before,
    after: a.after,
    fingerprint: a.fingerprint,
    finding: a.finding,
    risk: { ...a.risk },
  }));
}

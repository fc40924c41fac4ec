import type { JsonObject, Plan } from '../../domain/plan-model.js';
import type { EvidenceOutbox } from '../../stores/evidence-outbox.js';
import type { PlanStore } from '../../stores/plan-store.js';
import { AUTOMATION_ACTOR } from '../runtime.js';

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

/**
 * Stores the plan (immutable, under its hash) and records PLANNED: the hash and every action as
 * plannedActions shows it, plus what this kind of plan adds in `data`. Returns the hash.
 */
export async function recordPlanned(rt: { readonly plans: Pick<PlanStore, 'put'>; readonly evidence: Pick<EvidenceOutbox, 'append'> }, plan: Plan, data: JsonObject = {}): Promise<string> {
  const planHash = await rt.plans.put(plan);
  await rt.evidence.append({
    changeId: plan.changeId,
    type: 'PLANNED',
    actor: AUTOMATION_ACTOR,
    policyVersion: plan.policyVersion,
    data: { planHash, actions: plannedActions(plan), ...data },
  });
  return planHash;
}

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

/** The bytes of planned actions one PLANNED event carries at most: an evidence item must fit DynamoDB's 400 KB. */
export const PLANNED_PART_BYTES = 256 * 1024;

/** The actions in order, split into runs of at most `maxBytes` of JSON each (an action larger than that is a run of its own). */
export function plannedParts(actions: readonly JsonObject[], maxBytes = PLANNED_PART_BYTES): JsonObject[][] {
  const parts: JsonObject[][] = [[]];
  let bytes = 0;
  for (const action of actions) {
    const size = Buffer.byteLength(JSON.stringify(action)) + 1;
    const current = parts[parts.length - 1] ?? [];
    if (current.length > 0 && bytes + size > maxBytes) {
      parts.push([action]);
      bytes = size;
    } else {
      current.push(action);
      bytes += size;
    }
  }
  return parts;
}

/**
 * Stores the plan (immutable, under its hash) and records PLANNED: the hash and every action as
 * plannedActions shows it, plus what this kind of plan adds in `data`. A plan whose actions do not
 * fit one evidence item is recorded as consecutive PLANNED events, each with its `part` of `parts`
 * (the first carries `data`). Returns the hash.
 */
export async function recordPlanned(rt: { readonly plans: Pick<PlanStore, 'put'>; readonly evidence: Pick<EvidenceOutbox, 'append'> }, plan: Plan, data: JsonObject = {}): Promise<string> {
  const planHash = await rt.plans.put(plan);
  const parts = plannedParts(plannedActions(plan));
  for (const [index, actions] of parts.entries()) {
    const part: JsonObject = parts.length > 1 ? { part: index + 1, parts: parts.length } : {};
    // One part per hand-over: the queue's batch has a size limit of its own, and the parts must stay in order.
    await rt.evidence.append({
      changeId: plan.changeId,
      type: 'PLANNED',
      actor: AUTOMATION_ACTOR,
      policyVersion: plan.policyVersion,
      data: index === 0 ? { planHash, actions, ...part, ...data } : { planHash, actions, ...part },
    });
  }
  return planHash;
}

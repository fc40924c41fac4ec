import type { JsonObject, JsonValue, Plan } from '../../domain/plan-model.js';
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

/** The bytes of lists one PLANNED event carries at most: an evidence item must fit DynamoDB's 400 KB. */
export const PLANNED_PART_BYTES = 256 * 1024;

const jsonBytes = (value: JsonValue): number => Buffer.byteLength(JSON.stringify(value)) + 1;

/**
 * The items in order, split into runs of at most `maxBytes` of JSON each (the first run has
 * `firstMaxBytes`; an item larger than its run's budget is a run of its own).
 */
export function plannedParts<T extends JsonValue>(items: readonly T[], maxBytes = PLANNED_PART_BYTES, firstMaxBytes = maxBytes): T[][] {
  const parts: T[][] = [[]];
  let bytes = 0;
  for (const item of items) {
    const size = jsonBytes(item);
    const current = parts[parts.length - 1] ?? [];
    const budget = parts.length === 1 ? firstMaxBytes : maxBytes;
    if (current.length > 0 && bytes + size > budget) {
      parts.push([item]);
      bytes = size;
    } else {
      current.push(item);
      bytes += size;
    }
  }
  return parts;
}

type Listed = { readonly list: 'actions' | 'findings'; readonly item: JsonValue };

/**
 * Stores the plan (immutable, under its hash) and records PLANNED: the hash and every action as
 * plannedActions shows it (or as `data.actions` gives them), plus what this kind of plan adds in
 * `data`. A plan whose actions and findings do not fit one evidence item is recorded as
 * consecutive PLANNED events, each with its `part` of `parts` and its share of the two lists, in
 * order (the first carries the rest of `data`). Returns the hash.
 */
export async function recordPlanned(rt: { readonly plans: Pick<PlanStore, 'put'>; readonly evidence: Pick<EvidenceOutbox, 'append'> }, plan: Plan, data: JsonObject = {}): Promise<string> {
  const planHash = await rt.plans.put(plan);
  const { actions = plannedActions(plan), findings, ...rest } = data;
  const listed: Listed[] = [
    ...(Array.isArray(actions) ? actions : []).map((item): Listed => ({ list: 'actions', item })),
    ...(Array.isArray(findings) ? findings : []).map((item): Listed => ({ list: 'findings', item })),
  ];
  const parts = plannedParts(listed.map((l) => l.item), PLANNED_PART_BYTES, PLANNED_PART_BYTES - jsonBytes(rest));
  let offset = 0;
  for (const [index, items] of parts.entries()) {
    const mine = listed.slice(offset, offset + items.length);
    offset += items.length;
    const lists: JsonObject = { actions: mine.filter((l) => l.list === 'actions').map((l) => l.item) };
    if (findings !== undefined) lists.findings = mine.filter((l) => l.list === 'findings').map((l) => l.item);
    const part: JsonObject = parts.length > 1 ? { part: index + 1, parts: parts.length } : {};
    // One part per hand-over: the queue's batch has a size limit of its own, and the parts must stay in order.
    await rt.evidence.append({
      changeId: plan.changeId,
      type: 'PLANNED',
      actor: AUTOMATION_ACTOR,
      policyVersion: plan.policyVersion,
      data: index === 0 ? { planHash, ...lists, ...part, ...rest } : { planHash, ...lists, ...part },
    });
  }
  return planHash;
}

import { contentHash, sha256Hex } from './canonical.js';
import { AppError, type ReasonCode } from './reasons.js';
import { isProd, type Snapshot } from './snapshot.js';
import type { ActionKindCatalog, ActionTarget, JsonObject, PlanAction } from './plan-model.js';

export interface ActionIntent {
  readonly kind: string;
  readonly target: ActionTarget;
  readonly params: JsonObject;
  readonly finding: ReasonCode;
  readonly phase: number;
  readonly group: PlanAction['group'];
  /** Tags of the NHI the action touches (for the prod risk flag). */
  readonly nhiTags: Readonly<Record<string, string>>;
  /** The state before, when the planner knows it better than the snapshot (e.g. a previous write in this plan). */
  readonly before?: JsonObject;
}

/**
 * Turns intents into exact, ordered plan actions: before/after from the snapshot, the
 * fingerprint, the inverse, risk and idempotency key. Intents whose target is already in the
 * desired state are dropped (re-planning after apply yields nothing).
 */
export function buildActions(changeId: string, intents: readonly ActionIntent[], snapshot: Snapshot, catalog: ActionKindCatalog): PlanAction[] {
  const ordered = intents
    .map((intent, index) => ({ intent, index }))
    .sort((a, b) => a.intent.phase - b.intent.phase || a.index - b.index)
    .map(({ intent }) => intent);
  const actions: PlanAction[] = [];
  for (const intent of ordered) {
    const spec = catalog.get(intent.kind);
    if (!spec) throw new AppError('POLICY_INVALID', `the policy asks for action kind "${intent.kind}", which no connector provides`);
    const before = intent.before ?? spec.beforeFromSnapshot(intent.params, snapshot);
    if (before === null) throw new AppError('TARGET_NOT_FOUND', `${intent.kind}: ${intent.target.type} ${intent.target.id} is not in the live state`);
    const after = spec.desiredState(intent.params, before);
    if (contentHash(before) === contentHash(after)) continue;
    const inverse = spec.irreversible ? null : spec.inverse(intent.params, before);
    const actionId = `a${actions.length + 1}`;
    actions.push({
      actionId,
      kind: intent.kind,
      params: intent.params,
      target: intent.target,
      before,
      after,
      fingerprint: contentHash(before),
      inverse,
      risk: { reversible: inverse !== null, prod: isProd({ tags: intent.nhiTags }) },
      idempotencyKey: sha256Hex(`${changeId}:${intent.kind}:${contentHash(intent.params)}`).slice(0, 32),
      finding: intent.finding,
      phase: intent.phase,
      group: intent.group,
    });
  }
  return actions;
}

import { contentHash, sha256Hex } from './canonical.js';
import { AppError, type ReasonCode } from './reasons.js';
import type { Snapshot } from './snapshot.js';
import { formatIssues } from './events.js';
import type { ActionInvocation, ActionKindCatalog, ActionKindSpec, ActionTarget, JsonObject, PlanAction } from './plan-model.js';

export interface ActionIntent {
  readonly kind: string;
  readonly target: ActionTarget;
  readonly params: JsonObject;
  readonly finding: ReasonCode;
  readonly phase: number;
  readonly group: PlanAction['group'];
  /** A touched NHI carries env=prod (the risk flag). */
  readonly prod: boolean;
  /** Other governed NHIs (plan refs) the action writes to: a rotation writes its key user's keys. */
  readonly touches?: readonly string[];
  /** The state before, when the planner knows it better than the snapshot. */
  readonly before?: JsonObject;
}

export interface PlannedAction {
  readonly action: PlanAction;
  readonly intent: ActionIntent;
}

/**
 * Turns intents into exact, ordered plan actions: before/after from the snapshot, the
 * fingerprint, the inverse, risk and idempotency key. Intents whose target is already in the
 * desired state are dropped (re-planning after apply yields nothing), and so are repeats of an
 * intent already planned (same kind and params). `account` is stamped on every target: the
 * account the snapshot was read in, where connectors will act.
 */
export function buildActions(changeId: string, intents: readonly ActionIntent[], snapshot: Snapshot, catalog: ActionKindCatalog, account?: string): PlannedAction[] {
  const ordered = intents
    .map((intent, index) => ({ intent, index }))
    .sort((a, b) => a.intent.phase - b.intent.phase || a.index - b.index)
    .map(({ intent }) => intent);
  const planned: PlannedAction[] = [];
  const seen = new Set<string>();
  for (const intent of ordered) {
    const spec = catalog.get(intent.kind);
    if (!spec) throw new AppError('POLICY_INVALID', `the policy asks for action kind "${intent.kind}", which no connector provides`);
    const params = acceptedParams(spec, intent.params);
    const paramsHash = contentHash(params);
    // Names repeat across accounts (a user svc-a in two of them): the account is part of what an action is.
    const identity = account ? `${account}:${intent.kind}:${paramsHash}` : `${intent.kind}:${paramsHash}`;
    if (seen.has(identity)) continue;
    seen.add(identity);
    const before = intent.before ?? spec.beforeFromSnapshot(params, snapshot);
    if (before === null) throw new AppError('TARGET_NOT_FOUND', `${intent.kind}: ${intent.target.type} ${intent.target.id} is not in the live state`);
    const after = spec.desiredState(params, before);
    const fingerprint = contentHash(before);
    if (fingerprint === contentHash(after)) continue;
    const inverse = spec.irreversible ? null : acceptedInvocation(catalog, spec.inverse(params, before));
    const action: PlanAction = {
      actionId: `a${planned.length + 1}`,
      kind: intent.kind,
      params,
      target: account ? { ...intent.target, account } : intent.target,
      before,
      after,
      fingerprint,
      inverse,
      risk: { reversible: inverse !== null, prod: intent.prod },
      idempotencyKey: sha256Hex(`${changeId}:${identity}`).slice(0, 32),
      finding: intent.finding,
      phase: intent.phase,
      group: intent.group,
    };
    planned.push({ action, intent });
  }
  return planned;
}

/** Params as the kind's schema accepts them: later steps run them as stored, without parsing again. */
function acceptedParams(spec: ActionKindSpec, params: JsonObject): JsonObject {
  const parsed = spec.schema.safeParse(params);
  if (!parsed.success) throw new AppError('INPUT_INVALID', `${spec.kind}: ${formatIssues(parsed.error)}`);
  return parsed.data;
}

function acceptedInvocation(catalog: ActionKindCatalog, invocation: ActionInvocation | null): ActionInvocation | null {
  if (!invocation) return null;
  const spec = catalog.get(invocation.kind);
  if (!spec) throw new AppError('POLICY_INVALID', `an inverse asks for action kind "${invocation.kind}", which no connector provides`);
  return { kind: invocation.kind, params: acceptedParams(spec, invocation.params) };
}

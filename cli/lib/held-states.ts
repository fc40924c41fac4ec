import { ACTION_CATALOG } from '../../lambdas/connectors/registry.js';
import { deriveHeldStates, heldStatesOf, judgeHeldState, type HeldOrigin, type HeldState, type HeldVerdict } from '../../lambdas/domain/held-states.js';
import type { ActionTarget, JsonObject } from '../../lambdas/domain/plan-model.js';
import type { NhiSnapshot, Snapshot } from '../../lambdas/domain/snapshot.js';
import { loadChangeHistory } from '../../lambdas/handlers/core/change-history.js';
import type { StackContext } from './context.js';

/** One held state of an NHI and whether it holds in the live state now. */
export interface HeldStateView {
  readonly target: ActionTarget;
  readonly kind: string;
  readonly held: JsonObject;
  /** null: the live state cannot tell (the target is gone, or out of the snapshot). */
  readonly live: JsonObject | null;
  readonly verdict: HeldVerdict;
  readonly establishedBy: HeldOrigin;
  readonly lastVerifiedBy: HeldOrigin;
  readonly restoresAccess: boolean;
}

/** Every held state of the stack, from its change history (the same derivation reconcile uses). */
export async function loadHeldStates(ctx: StackContext): Promise<HeldState[]> {
  const history = await loadChangeHistory({ changes: ctx.changes, loadPlan: (hash) => ctx.plans.get(hash) });
  return [...deriveHeldStates(history).values()];
}

/** The held states of one NHI, each judged against `snapshot`. */
export function heldStateViews(held: readonly HeldState[], snapshot: Snapshot, nhi: Pick<NhiSnapshot, 'name' | 'arn'>): HeldStateView[] {
  return heldStatesOf(held, new Set([nhi.name, nhi.arn])).map((state) => {
    const live = ACTION_CATALOG.get(state.kind)?.beforeFromSnapshot(state.params, snapshot) ?? null;
    return {
      target: state.target,
      kind: state.kind,
      held: state.state,
      live,
      verdict: judgeHeldState(state, live),
      establishedBy: state.establishedBy,
      lastVerifiedBy: state.lastVerifiedBy,
      restoresAccess: state.restoresAccess,
    };
  });
}

/**
 * Held states: what a change verified stays the desired state of its target until a later change
 * supersedes it. Derived, never stored: the changes table says which actions were verified (and
 * which were undone since), the immutable plans say what each verified action left behind.
 */
import { canonicalJson, contentHash } from './canonical.js';
import type { ActionTarget, JsonObject, Plan, PlanAction } from './plan-model.js';
import type { ActionStatus, ChangeStatus } from './status.js';

/** One past change as the derivation needs it: its record's action statuses and its plan. */
export interface ChangeHistoryEntry {
  readonly changeId: string;
  /** The changes table's kind: 'rollback' for a rollback, anything else acts on its own. */
  readonly kind: string;
  readonly status: ChangeStatus;
  readonly createdAt: string;
  readonly actions: Readonly<Record<string, { readonly status: ActionStatus }>>;
  readonly plan: Pick<Plan, 'actions' | 'trigger'>;
}

/** The verified action a held state comes from. */
export interface HeldOrigin {
  readonly changeId: string;
  readonly actionId: string;
  /** The change's trigger (Employee Terminated, Rollback Requested, ...). */
  readonly trigger: string;
  readonly at: string;
}

export interface HeldState {
  /** The facet of the target the state is about (a key's status, a principal's quarantine, an owner tag). */
  readonly facet: string;
  readonly target: ActionTarget;
  /** The action kind and params that put the state back (the verified action itself). */
  readonly kind: string;
  readonly params: JsonObject;
  readonly state: JsonObject;
  readonly group: PlanAction['group'];
  /** The change that decided this state; a later change that verified the same state again does not replace it. */
  readonly establishedBy: HeldOrigin;
  /** The last change that verified it (the establishing one, or a later one that put it back). */
  readonly lastVerifiedBy: HeldOrigin;
  /** true: a rollback gave this state back (access restored), not a revocation decided by a change. */
  readonly restoresAccess: boolean;
}

/**
 * Params that carry the value written, not the thing written to: two actions differing only in
 * them act on the same facet (moving an owner tag to A, then to B; a session deny moved later).
 */
const VALUE_PARAMS: ReadonlySet<string> = new Set(['toOwner', 'issuedBefore']);

/**
 * The facet an action acts on: its exact target, the shape of the state it reads (a key's
 * `status`, a quarantine's `present`/`documentHash`) and its params without the value written.
 * An action and its inverse share a facet, and so do deactivating and deleting one key.
 */
export function facetOf(action: Pick<PlanAction, 'target' | 'params' | 'after'>): string {
  const identity = Object.fromEntries(Object.entries(action.params).filter(([key]) => !VALUE_PARAMS.has(key)));
  // Names repeat across accounts (a user svc-a in two of them): a target's account is part of it.
  const account = action.target.account ? `${action.target.account}:` : '';
  return `${account}${action.target.type}:${action.target.id}:${Object.keys(action.after).sort().join(',')}:${contentHash(identity).slice(0, 16)}`;
}

/**
 * Whether the action of a history entry holds its state now: verified and not undone since (an
 * undone action is ROLLED_BACK and holds nothing: the rollback that undid it holds its own).
 */
function holds(entry: ChangeHistoryEntry, action: PlanAction): boolean {
  const status = entry.actions[action.actionId]?.status;
  // A rollback that found a target already restored decided that state too.
  return status === 'VERIFIED' || (status === 'SKIPPED' && entry.kind === 'rollback' && entry.status === 'ROLLED_BACK');
}

/** Oldest first; a rollback is always created after the change it undoes. */
export function chronological(history: readonly ChangeHistoryEntry[]): ChangeHistoryEntry[] {
  return [...history].sort((a, b) => a.createdAt.localeCompare(b.createdAt) || a.changeId.localeCompare(b.changeId));
}

/**
 * The held state of every facet, from the whole history: each verified action holds its `after`
 * on its facet; a later verified action on the same facet supersedes it (a rollback's undo, a new
 * change, finalize's deletion); an undone action holds nothing.
 * Verifying the state already held again (a reconcile putting it back) keeps who decided it.
 */
export function deriveHeldStates(history: readonly ChangeHistoryEntry[]): Map<string, HeldState> {
  const held = new Map<string, HeldState>();
  for (const entry of chronological(history)) {
    for (const action of entry.plan.actions) {
      if (!holds(entry, action)) continue;
      const facet = facetOf(action);
      const current = held.get(facet);
      const origin: HeldOrigin = { changeId: entry.changeId, actionId: action.actionId, trigger: entry.plan.trigger.detailType, at: entry.createdAt };
      if (current && canonicalJson(current.state) === canonicalJson(action.after)) {
        held.set(facet, { ...current, lastVerifiedBy: origin });
        continue;
      }
      held.set(facet, {
        facet,
        target: action.target,
        kind: action.kind,
        params: action.params,
        state: action.after,
        group: action.group,
        establishedBy: origin,
        lastVerifiedBy: origin,
        restoresAccess: entry.kind === 'rollback',
      });
    }
  }
  return held;
}

/** The held states of one NHI (by its plan ref, name or ARN), in a stable order. */
export function heldStatesOf(held: Iterable<HeldState>, refs: ReadonlySet<string>): HeldState[] {
  return [...held].filter((h) => refs.has(h.target.nhi)).sort((a, b) => a.facet.localeCompare(b.facet));
}

export type HeldVerdict = 'holds' | 'drifted' | 'unknown';

/** Whether a held state holds in `live` (null: the live state cannot tell). */
export function judgeHeldState(held: Pick<HeldState, 'state'>, live: JsonObject | null): HeldVerdict {
  if (live === null) return 'unknown';
  return canonicalJson(live) === canonicalJson(held.state) ? 'holds' : 'drifted';
}

/**
 * What came after a change, as a rollback of it must see it: an undo that would give back a
 * credential reported exposed since, or put back a target another change has taken over since,
 * is refused for that action (SUPERSEDED), naming the later change or signal; the rest proceeds.
 */
import { chronological, deriveHeldStates, facetOf, type ChangeHistoryEntry } from './held-states.js';
import type { JsonObject, PlanAction } from './plan-model.js';

export interface UndoRefusal {
  readonly actionId: string;
  readonly nhi: string;
  readonly why: 'exposed' | 'taken-over';
  /** The later change that prevails. */
  readonly laterChangeId: string;
  /** The provider signal behind an exposure (GuardDuty, AWS Health, ...), when there was one. */
  readonly signal: string | null;
  readonly message: string;
}

const EXPOSURE = 'Credential Exposed';

/** Every string an action and its inverse name: a key id in params is a key the undo would touch. */
function namedIds(action: PlanAction): Set<string> {
  const values = (params: JsonObject) => Object.values(params).filter((v): v is string => typeof v === 'string');
  return new Set([action.target.id, ...values(action.params), ...values(action.inverse?.params ?? {})]);
}

/** An undo gives access back when the action it undoes took access away. */
function restoresAccess(action: PlanAction): boolean {
  return action.group === 'revocation' || action.group === 'containment' || action.group === 'rotation';
}

function signalOf(entry: ChangeHistoryEntry): string | null {
  const cause = entry.plan.trigger.cause;
  return cause ? `${cause.source} ${cause.type} ${cause.reference}` : null;
}

/**
 * The undos of `parentChangeId`'s `actions` that its later history forbids, by action id. The
 * history is every change of the stack (loadChangeHistory); "later" is created after the parent,
 * rollbacks of the parent itself left out.
 */
export function refusedUndos(parentChangeId: string, actions: readonly PlanAction[], history: readonly ChangeHistoryEntry[]): Map<string, UndoRefusal> {
  const ordered = chronological(history);
  const parentIndex = ordered.findIndex((e) => e.changeId === parentChangeId);
  const later = ordered.slice(parentIndex + 1).filter((e) => !(e.kind === 'rollback' && e.plan.trigger.detail.parentChangeId === parentChangeId));
  const held = deriveHeldStates(history);
  const refusals = new Map<string, UndoRefusal>();
  for (const action of actions) {
    const ids = namedIds(action);
    const exposure = restoresAccess(action)
      ? later.find((e) => {
          if (e.plan.trigger.detailType !== EXPOSURE) return false;
          const { accessKeyId, nhi, secretId } = e.plan.trigger.detail;
          if (typeof accessKeyId === 'string') return ids.has(accessKeyId);
          // An exposure naming only the NHI exposes every credential of it.
          return typeof nhi === 'string' && secretId === undefined && (nhi === action.target.nhi || ids.has(nhi));
        })
      : undefined;
    if (exposure) {
      const signal = signalOf(exposure);
      const what = typeof exposure.plan.trigger.detail.accessKeyId === 'string' ? `access key ${exposure.plan.trigger.detail.accessKeyId}` : `the credentials of ${action.target.nhi}`;
      refusals.set(action.actionId, {
        actionId: action.actionId,
        nhi: action.target.nhi,
        why: 'exposed',
        laterChangeId: exposure.changeId,
        signal,
        message: `not undone: ${what} was reported exposed since (${exposure.changeId}${signal ? `, from ${signal}` : ''}); an exposed credential is never given back`,
      });
      continue;
    }
    const holder = held.get(facetOf(action))?.establishedBy;
    if (holder && holder.changeId !== parentChangeId && later.some((e) => e.changeId === holder.changeId)) {
      refusals.set(action.actionId, {
        actionId: action.actionId,
        nhi: action.target.nhi,
        why: 'taken-over',
        laterChangeId: holder.changeId,
        signal: null,
        message: `not undone: ${action.target.type} ${action.target.id} was taken over since by ${holder.changeId} (${holder.trigger}, ${holder.actionId}), whose state prevails`,
      });
    }
  }
  return refusals;
}

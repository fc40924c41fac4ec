import type { ChangeHistoryEntry } from '../../domain/held-states.js';
import type { Plan } from '../../domain/plan-model.js';
import type { ActionRecord, ChangeRecord, ChangeStore } from '../../stores/change-store.js';
import { mapBounded } from '../../lib/map-bounded.js';

/** What loading the history needs of a runtime. */
export interface HistoryRuntime {
  readonly changes: Pick<ChangeStore, 'listAll' | 'actions'>;
  loadPlan(planHash: string): Promise<Plan>;
}

const EXPOSURE_TRIGGER = 'Credential Exposed';

/** A record whose plan matters to held states or to what came after: it verified something, or reported an exposure. */
function relevant(record: ChangeRecord, actions: Readonly<Record<string, ActionRecord>>): boolean {
  if (!record.planHash) return false;
  if (record.trigger === EXPOSURE_TRIGGER) return true;
  return Object.values(actions).some((a) => a.status === 'VERIFIED' || a.status === 'SKIPPED');
}

/**
 * Every change (and rollback, and finalize run) that verified an action or reported an exposure,
 * with its plan: one scan of the changes table and one of the actions table, then the plans
 * (immutable, cached by hash).
 */
export async function loadChangeHistory(rt: HistoryRuntime): Promise<ChangeHistoryEntry[]> {
  const [records, actionsByChange] = await Promise.all([rt.changes.listAll(), rt.changes.actions.all()]);
  const withActions = records.map((record) => ({ record, actions: actionsByChange.get(record.changeId) ?? {} })).filter(({ record, actions }) => relevant(record, actions));
  return mapBounded(withActions, 8, async ({ record, actions }) => {
    const plan = await rt.loadPlan(record.planHash ?? '');
    return { changeId: record.changeId, kind: record.kind, status: record.status, createdAt: record.createdAt, actions, plan };
  });
}

import type { ChangeHistoryEntry } from '../../domain/held-states.js';
import type { Plan } from '../../domain/plan-model.js';
import type { ChangeRecord, ChangeStore } from '../../stores/change-store.js';
import { mapBounded } from '../../lib/map-bounded.js';

/** What loading the history needs of a runtime. */
export interface HistoryRuntime {
  readonly changes: Pick<ChangeStore, 'listAll'>;
  loadPlan(planHash: string): Promise<Plan>;
}

const EXPOSURE_TRIGGER = 'Credential Exposed';

/** A record whose plan matters to held states or to what came after: it verified something, or reported an exposure. */
function relevant(record: ChangeRecord): boolean {
  if (!record.planHash) return false;
  if (record.trigger === EXPOSURE_TRIGGER) return true;
  return Object.values(record.actions ?? {}).some((a) => a.status === 'VERIFIED' || a.status === 'SKIPPED');
}

/**
 * Every change (and rollback, and finalize run) that verified an action or reported an exposure,
 * with its plan: one scan of the changes table, then the plans (immutable, cached by hash).
 */
export async function loadChangeHistory(rt: HistoryRuntime): Promise<ChangeHistoryEntry[]> {
  const records = (await rt.changes.listAll()).filter(relevant);
  return mapBounded(records, 8, async (record) => {
    const plan = await rt.loadPlan(record.planHash ?? '');
    return { changeId: record.changeId, kind: record.kind, status: record.status, createdAt: record.createdAt, actions: record.actions ?? {}, plan };
  });
}

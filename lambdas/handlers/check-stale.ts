import { z } from 'zod';
import { connectorAction } from '../connectors/registry.js';
import { DETAIL_READ_CONCURRENCY } from '../connectors/snapshot-reader.js';
import { mapBounded } from '../lib/map-bounded.js';
import { contentHash } from '../domain/canonical.js';
import { AppError, isAppError } from '../domain/reasons.js';
import { AUTOMATION_ACTOR, parseInput, runtime, type Runtime } from './runtime.js';

const inputSchema = z.object({ changeId: z.string().min(1), planHash: z.string().regex(/^[0-9a-f]{64}$/) });

/** One action's target read back against its fingerprint. */
type CheckedAction =
  | { readonly outcome: 'held' }
  | { readonly outcome: 'moved'; readonly actionId: string; readonly expected: string; readonly observed: Record<string, unknown> }
  | { readonly outcome: 'unreachable'; readonly actionId: string; readonly account: string; readonly message: string };

/**
 * Compares every action's fingerprint with the live target (not with a state file): a plan
 * whose live state moved is stale and is not applied.
 */
export async function checkStaleCore(rt: Runtime, changeId: string, planHash: string): Promise<{ stale: false }> {
  const plan = await rt.loadPlan(planHash);
  // Side by side, as many at once as the snapshot reader's detail reads: one after another, a
  // 2,000-action plan took as many round trips in a row before anything was written. Results come
  // back in plan order.
  const checked = await mapBounded(plan.actions, DETAIL_READ_CONCURRENCY, async (action): Promise<CheckedAction> => {
    try {
      const live = await connectorAction(action.kind).read(await rt.connectorsFor(plan, action.target, 'read'), action.params);
      return contentHash(live) === action.fingerprint ? { outcome: 'held' } : { outcome: 'moved', actionId: action.actionId, expected: action.fingerprint, observed: live };
    } catch (error) {
      const account = action.target.account;
      if (!isAppError(error) || error.reasonCode !== 'CONNECTOR_ACCESS_DENIED' || account === undefined || account === rt.home?.id) throw error;
      return { outcome: 'unreachable', actionId: action.actionId, account, message: error.message };
    }
  });
  const moved = checked.flatMap((c) => (c.outcome === 'moved' ? [{ actionId: c.actionId, expected: c.expected, observed: c.observed }] : []));
  const unreachable = checked.flatMap((c) => (c.outcome === 'unreachable' ? [c] : []));
  // A member account that cannot be reached fails only its own actions: Write refuses them unwritten (nothing checked, nothing written).
  for (const { actionId, account, message } of unreachable) {
    await rt.evidence.append({ changeId, type: 'WRITE_FAILED', actor: AUTOMATION_ACTOR, policyVersion: plan.policyVersion, actionId, reasonCode: 'CONNECTOR_ACCESS_DENIED', data: { account, message, attempt: 0 } });
    await rt.changes.actions.record(changeId, actionId, { status: 'FAILED', attempts: 0, reasonCode: 'CONNECTOR_ACCESS_DENIED' });
  }
  if (moved.length > 0) {
    await rt.evidence.append({ changeId, type: 'STALE_CHECKED', actor: AUTOMATION_ACTOR, policyVersion: plan.policyVersion, reasonCode: 'PLAN_STALE', data: { planHash, moved: moved as never } });
    throw new AppError('PLAN_STALE', `the live state of ${moved.map((m) => m.actionId).join(', ')} moved since the plan was made`);
  }
  await rt.evidence.append({ changeId, type: 'STALE_CHECKED', actor: AUTOMATION_ACTOR, policyVersion: plan.policyVersion, data: { planHash, actions: plan.actions.length } });
  await rt.changes.update(changeId, { status: 'APPLYING' });
  return { stale: false };
}

export const handler = async (input: unknown) => {
  const { changeId, planHash } = parseInput(inputSchema, input, 'check-stale');
  return checkStaleCore(runtime(), changeId, planHash);
};

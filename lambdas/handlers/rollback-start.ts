import { z } from 'zod';
import { connectorAction } from '../connectors/registry.js';
import type { JsonObject } from '../domain/plan-model.js';
import { AppError, isAppError } from '../domain/reasons.js';
import { classifyRollbackTarget } from '../domain/rollback.js';
import { AUTOMATION_ACTOR, parseInput, runtime, type Runtime } from './runtime.js';

const inputSchema = z.object({ changeId: z.string().min(1), planHash: z.string().regex(/^[0-9a-f]{64}$/) });

export interface RollbackStartOutput {
  /** Actions to undo, in undo order. */
  readonly actionIds: string[];
  /** Actions whose target is already back in its state before the change: nothing to write. */
  readonly skipped: string[];
}

/**
 * After approval, re-reads every target: the rollback only undoes what is still as the change
 * left it. A target already restored is skipped (and recorded); a target that moved elsewhere or
 * is gone stops the rollback with PLAN_STALE before anything is written.
 *
 * The parent's chain gets one event, when the rollback settles (rollback-settle): a finished
 * change's chain must end with a closing event, so nothing is left open on it meanwhile.
 */
export async function rollbackStartCore(rt: Runtime, changeId: string, planHash: string): Promise<RollbackStartOutput> {
  const plan = await rt.loadPlan(planHash);
  const parentChangeId = String(plan.trigger.detail.parentChangeId ?? '');
  const moved: JsonObject[] = [];
  const skipped: string[] = [];
  for (const action of plan.actions) {
    const connector = connectorAction(action.kind);
    let live: JsonObject | null;
    try {
      live = await connector.read(await rt.connectorsFor(plan, action.target, 'read'), action.params);
    } catch (error) {
      if (!isAppError(error) || error.reasonCode !== 'TARGET_NOT_FOUND') throw error;
      live = null;
    }
    const verdict = classifyRollbackTarget(action, live);
    if (verdict === 'moved') moved.push({ actionId: action.actionId, expected: action.before, observed: live });
    if (verdict === 'already-restored') skipped.push(action.actionId);
  }
  const common = { changeId, actor: AUTOMATION_ACTOR, policyVersion: plan.policyVersion } as const;
  if (moved.length > 0) {
    await rt.evidence.append({ ...common, type: 'STALE_CHECKED', reasonCode: 'PLAN_STALE', data: { planHash, moved } });
    throw new AppError('PLAN_STALE', `the live state of ${moved.map((m) => m.actionId).join(', ')} moved since ${parentChangeId} changed it: nothing was rolled back`);
  }
  const toUndo = plan.actions.map((action) => action.actionId).filter((id) => !skipped.includes(id));
  await rt.evidence.append({ ...common, type: 'STALE_CHECKED', data: { planHash, undo: toUndo, alreadyRestored: skipped } });
  for (const actionId of skipped) {
    const action = plan.actions.find((a) => a.actionId === actionId);
    await rt.changes.actions.record(changeId, actionId, { status: 'SKIPPED', attempts: 0, ...(action ? { observed: action.after } : {}) });
  }
  await rt.evidence.append({ ...common, type: 'ROLLBACK_STARTED', data: { parentChangeId, undo: toUndo, alreadyRestored: skipped } });
  await rt.changes.update(changeId, { status: 'ROLLING_BACK' });
  return { actionIds: toUndo, skipped };
}

export const handler = async (input: unknown): Promise<RollbackStartOutput> => {
  const { changeId, planHash } = parseInput(inputSchema, input, 'rollback-start');
  return rollbackStartCore(runtime(), changeId, planHash);
};

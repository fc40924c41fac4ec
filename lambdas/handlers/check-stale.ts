import { z } from 'zod';
import { connectorAction } from '../connectors/registry.js';
import { contentHash } from '../domain/canonical.js';
import { AppError } from '../domain/reasons.js';
import { AUTOMATION_ACTOR, parseInput, runtime, type Runtime } from './runtime.js';

const inputSchema = z.object({ changeId: z.string().min(1), planHash: z.string().regex(/^[0-9a-f]{64}$/) });

/**
 * Compares every action's fingerprint with the live target (not with a state file): a plan
 * whose live state moved is stale and is not applied.
 */
export async function checkStaleCore(rt: Runtime, changeId: string, planHash: string): Promise<{ stale: false }> {
  const plan = await rt.loadPlan(planHash);
  const moved: Array<{ actionId: string; expected: string; observed: Record<string, unknown> }> = [];
  for (const action of plan.actions) {
    const live = await connectorAction(action.kind).read(rt.connectors, action.params);
    if (contentHash(live) !== action.fingerprint) moved.push({ actionId: action.actionId, expected: action.fingerprint, observed: live });
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

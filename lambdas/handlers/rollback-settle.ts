import { z } from 'zod';
import { isReasonCode } from '../domain/reasons.js';
import { settleRollback, type RollbackOutcome } from '../domain/rollback.js';
import { AUTOMATION_ACTOR, parseInput, runtime, type Runtime } from './runtime.js';

const inputSchema = z.object({
  changeId: z.string().min(1),
  planHash: z.string().regex(/^[0-9a-f]{64}$/),
  results: z.array(z.object({ actionId: z.string(), status: z.enum(['VERIFIED', 'FAILED']), error: z.string().optional() })).default([]),
  skipped: z.array(z.string()).default([]),
  /** The undo Map's own failure ({Error, Cause}), when it failed as a whole. */
  error: z.object({ Error: z.string(), Cause: z.string().optional() }).optional(),
});

/**
 * Decides the rollback's outcome (every undo verified → ROLLED_BACK, else ESCALATED with
 * ROLLBACK_FAILED) and links it on the parent change's chain: a ROLLED_BACK or ROLLBACK_FAILED
 * event naming the rollback. The parent's restored actions are marked ROLLED_BACK, so `show`
 * and finalize see them as undone; the parent keeps its own terminal status.
 */
export async function rollbackSettleCore(rt: Runtime, input: z.infer<typeof inputSchema>): Promise<RollbackOutcome> {
  const { changeId, planHash } = input;
  const plan = await rt.loadPlan(planHash);
  const parentChangeId = String(plan.trigger.detail.parentChangeId ?? '');
  const results = input.error
    ? plan.actions.filter((a) => !input.skipped.includes(a.actionId)).map((a) => ({ actionId: a.actionId, status: 'FAILED' as const, error: isReasonCode(input.error?.Error) ? input.error.Error : 'ROLLBACK_FAILED' }))
    : input.results;
  const outcome = settleRollback(results, input.skipped);
  const rollback = await rt.changes.actions.ofChange(changeId);
  for (const actionId of outcome.restored) {
    const observed = rollback[actionId]?.observed;
    await rt.changes.actions.recordResult(parentChangeId, actionId, { status: 'ROLLED_BACK', ...(observed ? { observed } : {}) });
  }
  const link = { rollbackChangeId: changeId, restored: outcome.restored, failed: outcome.failed.map((f) => ({ actionId: f.actionId, reasonCode: f.reasonCode })) };
  // On the parent's chain before this rollback completes: its checkpoint names the parent's head.
  if (outcome.status === 'ROLLED_BACK') {
    await rt.evidence.record({ changeId: parentChangeId, type: 'ROLLED_BACK', actor: AUTOMATION_ACTOR, policyVersion: plan.policyVersion, data: link });
  } else {
    await rt.evidence.record({ changeId: parentChangeId, type: 'ROLLBACK_FAILED', actor: AUTOMATION_ACTOR, policyVersion: plan.policyVersion, reasonCode: 'ROLLBACK_FAILED', data: link });
  }
  if (outcome.reasonCodes.length > 0) await rt.changes.update(changeId, { reasonCodes: outcome.reasonCodes });
  rt.logger.info('rollback settled', { changeId, parentChangeId, status: outcome.status, restored: outcome.restored.length, failed: outcome.failed.length });
  return outcome;
}

export const handler = async (input: unknown): Promise<RollbackOutcome> => rollbackSettleCore(runtime(), parseInput(inputSchema, input, 'rollback-settle'));

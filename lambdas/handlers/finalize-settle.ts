import { z } from 'zod';
import { sourceOf, targetData } from '../domain/finalize.js';
import { decideOutcome } from '../domain/outcome.js';
import type { ReasonCode } from '../domain/reasons.js';
import { AUTOMATION_ACTOR, parseInput, runtime, type Runtime } from './runtime.js';

const inputSchema = z.object({
  changeId: z.string().min(1),
  planHash: z.string().regex(/^[0-9a-f]{64}$/),
  results: z.array(z.object({ actionId: z.string(), status: z.enum(['VERIFIED', 'FAILED']), error: z.string().optional() })),
});

export interface FinalizeOutcome {
  readonly status: 'VERIFIED' | 'ESCALATED';
  readonly reasonCodes: ReasonCode[];
  readonly finalized: number;
}

/**
 * Links each verified deletion both ways: a FINALIZED event on the run's chain naming the change
 * that deactivated the key, and one on that change's chain naming the run. Every deletion
 * verified gone → VERIFIED; any not → ESCALATED with its reason (a deletion is never undone).
 */
export async function finalizeSettleCore(rt: Runtime, input: z.infer<typeof inputSchema>): Promise<FinalizeOutcome> {
  const { changeId, planHash } = input;
  const plan = await rt.loadPlan(planHash);
  const run = await rt.changes.actions.ofChange(changeId);
  const linked = new Set((await rt.trail.listByChange(changeId)).filter((e) => e.type === 'FINALIZED' && e.actionId).map((e) => e.actionId));
  let finalized = 0;
  for (const result of input.results.filter((r) => r.status === 'VERIFIED')) {
    const action = plan.actions.find((a) => a.actionId === result.actionId);
    const source = action ? sourceOf(plan, action.target.id) : null;
    if (!action || !source) continue;
    finalized += 1;
    if (linked.has(action.actionId)) continue; // a retried step: this deletion is linked already
    const observed = run[action.actionId]?.observed ?? action.after;
    const common = { actor: AUTOMATION_ACTOR, policyVersion: plan.policyVersion, nhi: action.target.nhi } as const;
    // Both on their chains before the run goes on: its checkpoint names the original's head, and a retried step reads its own links above.
    await rt.evidence.record({ ...common, changeId: source.changeId, actionId: source.actionId, type: 'FINALIZED', data: { finalizeChangeId: changeId, finalizeActionId: action.actionId, kind: action.kind, ...targetData({ targetId: action.target.id, targetType: action.target.type === 'accessKey' ? 'accessKey' : 'user' }), observed: observed as never } });
    await rt.evidence.record({ ...common, changeId, actionId: action.actionId, type: 'FINALIZED', data: { originalChangeId: source.changeId, originalActionId: source.actionId, kind: action.kind, ...targetData({ targetId: action.target.id, targetType: action.target.type === 'accessKey' ? 'accessKey' : 'user' }) } });
  }
  const { policy } = await rt.loadPolicy();
  const outcome = decideOutcome(plan, input.results, policy);
  const status = outcome.status === 'VERIFIED' ? 'VERIFIED' : 'ESCALATED';
  if (outcome.reasonCodes.length > 0) await rt.changes.update(changeId, { reasonCodes: outcome.reasonCodes });
  rt.logger.info('finalize settled', { changeId, status, finalized, failed: input.results.length - finalized });
  return { status, reasonCodes: outcome.reasonCodes, finalized };
}

export const handler = async (input: unknown): Promise<FinalizeOutcome> => finalizeSettleCore(runtime(), parseInput(inputSchema, input, 'finalize-settle'));

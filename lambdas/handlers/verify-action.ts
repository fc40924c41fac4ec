import { z } from 'zod';
import { waitUntil } from '../connectors/waiters.js';
import { AppError } from '../domain/reasons.js';
import { resolveAction } from './action-context.js';
import { AUTOMATION_ACTOR, parseInput, runtime, type Runtime } from './runtime.js';

const inputSchema = z.object({
  changeId: z.string().min(1),
  planHash: z.string().regex(/^[0-9a-f]{64}$/),
  actionId: z.string().min(1),
  /** true after the rewrite: a target that still does not show the write is WRITE_NOT_APPLIED. */
  final: z.boolean().default(false),
  /** inverse: verify that undoing the action restored the state before it. */
  mode: z.enum(['write', 'inverse']).default('write'),
});

/**
 * Reads the target back through a separate read (never the write's response), polling until
 * the policy's verify timeout for IAM propagation, and records the observed state.
 */
export async function verifyCore(rt: Runtime, input: z.infer<typeof inputSchema>): Promise<{ verified: true; observed: Record<string, unknown> }> {
  const { changeId, planHash, actionId, final, mode } = input;
  const { plan, action, connector, params, expected } = await resolveAction(rt, planHash, actionId, mode);
  const { policy } = await rt.loadPolicyVersion(plan.policyVersion);
  const common = { changeId, actor: AUTOMATION_ACTOR, policyVersion: plan.policyVersion, nhi: action.target.nhi, actionId } as const;
  if (mode === 'write') await rt.changes.moveTo(changeId, 'VERIFYING');
  const connectors = await rt.connectorsFor(plan, action.target, 'read');
  const outcome = await waitUntil(
    () => connector.verify(connectors, params, expected),
    (result) => result.converged,
    policy.failureHandling.verifyTimeoutSeconds * 1000,
  );
  if (outcome.done) {
    await rt.evidence.append({ ...common, type: mode === 'inverse' ? 'ROLLED_BACK' : 'VERIFIED', data: { observed: outcome.last.observed, expected, polls: outcome.polls } });
    await rt.changes.actions.recordResult(changeId, actionId, { status: mode === 'inverse' ? 'ROLLED_BACK' : 'VERIFIED', observed: outcome.last.observed });
    return { verified: true, observed: outcome.last.observed };
  }
  const reasonCode = mode === 'inverse' ? 'ROLLBACK_FAILED' : final ? 'WRITE_NOT_APPLIED' : 'VERIFY_TIMEOUT';
  await rt.evidence.append({ ...common, type: mode === 'inverse' ? 'ROLLBACK_FAILED' : 'VERIFY_FAILED', reasonCode, data: { observed: outcome.last.observed, expected, polls: outcome.polls } });
  await rt.changes.actions.recordResult(changeId, actionId, { status: 'FAILED', reasonCode, observed: outcome.last.observed });
  throw new AppError(reasonCode, `${connector.description} (${connector.label(params)}): still ${JSON.stringify(outcome.last.observed)} after ${policy.failureHandling.verifyTimeoutSeconds}s, expected ${JSON.stringify(expected)}`);
}

export const handler = async (input: unknown) => verifyCore(runtime(), parseInput(inputSchema, input, 'verify-action'));

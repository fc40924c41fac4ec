import { z } from 'zod';
import type { JsonObject } from '../domain/plan-model.js';
import { AppError, isAppError } from '../domain/reasons.js';
import { resolveAction } from './action-context.js';
import { AUTOMATION_ACTOR, parseInput, runtime, type Runtime } from './runtime.js';

const inputSchema = z.object({
  changeId: z.string().min(1),
  planHash: z.string().regex(/^[0-9a-f]{64}$/),
  actionId: z.string().min(1),
  /** write: first time; rewrite: once more after the write did not show; inverse: undo it. */
  mode: z.enum(['write', 'rewrite', 'inverse']).default('write'),
});

export async function writeCore(rt: Runtime, input: z.infer<typeof inputSchema>): Promise<{ written: true; attempt: number }> {
  const { changeId, planHash, actionId, mode } = input;
  const { plan, action, connector, params } = await resolveAction(rt, planHash, actionId, mode);
  // The one writer of `attempts`: verify and rollback settle record outcomes without touching it.
  // CheckStale could not reach the target's account (FAILED, no attempt): not checked, so not written.
  const begun = await rt.changes.actions.beginAttempt(changeId, actionId, mode === 'write' ? { status: 'FAILED', attempts: 0, reasonCode: 'CONNECTOR_ACCESS_DENIED' } : undefined);
  if (begun === 'refused') {
    throw new AppError('CONNECTOR_ACCESS_DENIED', `${connector.description} (${connector.label(params)}): account ${action.target.account ?? 'unknown'} could not be reached to check the target before writing`);
  }
  const { previous } = begun;
  const attempt = (previous?.attempts ?? 0) + 1;
  // PLANNED with attempts recorded: the last attempt ended (a crash, a timeout) between starting and recording its result.
  const interrupted: JsonObject = previous?.status === 'PLANNED' && previous.attempts > 0 ? { interruptedAttempt: previous.attempts } : {};
  const common = { changeId, actor: AUTOMATION_ACTOR, policyVersion: plan.policyVersion, nhi: action.target.nhi, actionId } as const;
  await rt.evidence.append({ ...common, type: 'WRITE_ATTEMPTED', data: { kind: connector.kind, target: { ...action.target }, attempt, mode, idempotencyKey: action.idempotencyKey, ...interrupted } });
  try {
    await connector.write(await rt.connectorsFor(plan, action.target, 'write'), params);
  } catch (error) {
    const failure = isAppError(error) ? error : new AppError(connector.classify(error), `${connector.description} (${connector.label(params)}): ${String(error)}`, { cause: error });
    await rt.evidence.append({ ...common, type: 'WRITE_FAILED', reasonCode: failure.reasonCode, data: { attempt, message: failure.message } });
    await rt.changes.actions.record(changeId, actionId, { status: 'FAILED', attempts: attempt, reasonCode: mode === 'inverse' ? 'ROLLBACK_FAILED' : failure.reasonCode });
    rt.logger.warn('write failed', { changeId, actionId, reasonCode: failure.reasonCode, attempt });
    throw failure;
  }
  await rt.evidence.append({ ...common, type: 'WRITTEN', data: { attempt } });
  await rt.changes.actions.record(changeId, actionId, { status: 'WRITTEN', attempts: attempt });
  return { written: true, attempt };
}

export const handler = async (input: unknown) => writeCore(runtime(), parseInput(inputSchema, input, 'write-action'));

import { z } from 'zod';
import { AppError, isAppError, isReasonCode, REASON_CODES, type ReasonCode } from '../domain/reasons.js';
import { writeCheckpoint } from './checkpoint.js';
import { TERMINAL_STATUSES, type TerminalStatus } from '../domain/status.js';
import { notifyEscalation } from './escalation-notice.js';
import { routeFindings } from './findings-notice.js';
import { emitCompletion } from './governance-metrics.js';
import { AUTOMATION_ACTOR, parseInput, runtime, type Runtime } from './runtime.js';

const inputSchema = z.object({
  changeId: z.string().min(1),
  status: z.enum(TERMINAL_STATUSES),
  reasonCodes: z.array(z.string()).default([]),
  /** A Catch's error ({Error, Cause}) when the workflow ends FAILED. */
  error: z.object({ Error: z.string(), Cause: z.string().optional() }).optional(),
});

/** Records the one terminal status of a change, with the reason codes that led there. */
export async function completeCore(rt: Runtime, input: z.infer<typeof inputSchema>): Promise<{ changeId: string; status: TerminalStatus; reasonCodes: ReasonCode[] }> {
  const { changeId, status } = input;
  const change = await rt.changes.get(changeId);
  const codes = new Set<ReasonCode>([...(change?.reasonCodes ?? []), ...input.reasonCodes.filter(isReasonCode)]);
  if (input.error) codes.add(isReasonCode(input.error.Error) ? input.error.Error : 'TARGET_UNAVAILABLE');
  const reasonCodes = [...codes];
  const policyVersion = change?.policyVersion ?? 'none';
  const failure: Record<string, string> = input.error ? { error: input.error.Error, cause: causeMessage(input.error.Cause) } : {};
  if (status === 'ESCALATED') {
    const routes = [...new Set(reasonCodes.map((code) => REASON_CODES[code].route).filter((r) => r !== null))];
    const notified = await notifyEscalation(rt, { changeId, trigger: change?.trigger ?? 'change', ...(change?.planHash ? { planHash: change.planHash } : {}), reasonCodes });
    await rt.evidence.appendOnce('ESCALATED', { changeId, type: 'ESCALATED', actor: AUTOMATION_ACTOR, policyVersion, ...(reasonCodes[0] ? { reasonCode: reasonCodes[0] } : {}), data: { reasonCodes, routes, notified } });
  }
  const routed = await routeFindings(rt, { changeId, status, trigger: change?.trigger ?? 'change', ...(change?.planHash ? { planHash: change.planHash } : {}) });
  if (routed) await rt.evidence.appendOnce('FINDINGS_ROUTED', { changeId, type: 'FINDINGS_ROUTED', actor: AUTOMATION_ACTOR, policyVersion, data: routed });
  // On the chain (with everything handed over before it) before the change shows as ended. A
  // retried Complete (a long change whose evidence the writer is still catching up on) waits for
  // the same COMPLETED rather than adding a second.
  await rt.evidence.record({ changeId, type: 'COMPLETED', actor: AUTOMATION_ACTOR, policyVersion, ...(reasonCodes[0] ? { reasonCode: reasonCodes[0] } : {}), data: { status, reasonCodes, ...failure } }, { once: 'COMPLETED' });
  if (change) await rt.changes.update(changeId, { status, reasonCodes });
  // The head leaves the evidence table: a signed checkpoint in storage no function role can overwrite.
  if (rt.checkpoints) await checkpointEnded(rt, changeId);
  emitCompletion({
    status,
    reasonCodes,
    ...(status === 'VERIFIED' && change ? { eventToVerifiedMs: Date.now() - Date.parse(change.createdAt) } : {}),
    openEscalations: await rt.changes.countByStatus('ESCALATED'),
  });
  rt.logger.info('change completed', { changeId, status, reasonCodes });
  return { changeId, status, reasonCodes };
}

async function checkpointEnded(rt: Runtime, changeId: string): Promise<void> {
  try {
    await writeCheckpoint(rt, { reason: 'change-ended', changeId });
  } catch (error) {
    if (isAppError(error)) throw error;
    throw new AppError('TARGET_UNAVAILABLE', `writing the checkpoint of ${changeId}: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
  }
}

const lambdaCauseSchema = z.object({ errorMessage: z.string().optional() });

/** Lambda errors arrive as a JSON Cause ({errorType, errorMessage}); keep only the message. */
function causeMessage(cause: string | undefined): string {
  if (!cause) return '';
  let raw: unknown;
  try {
    raw = JSON.parse(cause);
  } catch {
    return cause;
  }
  const parsed = lambdaCauseSchema.safeParse(raw);
  return (parsed.success ? parsed.data.errorMessage : undefined) ?? cause;
}

export const handler = async (input: unknown) => completeCore(runtime(), parseInput(inputSchema, input, 'complete'));

import { z } from 'zod';
import { nextCheckpoint, type CheckpointHead, type CheckpointReason, type PolicyMark, type SignedCheckpoint } from '../domain/checkpoint.js';
import { AppError, isAppError } from '../domain/reasons.js';
import { isTerminalStatus } from '../domain/status.js';
import { mapBounded } from '../lib/map-bounded.js';
import { parseInput, runtime, type Runtime } from './runtime.js';

const inputSchema = z.union([
  z.object({ reason: z.literal('change-ended'), changeId: z.string().min(1) }),
  // The hourly schedule (and `nhigov evidence checkpoint`): heads of the changes in flight.
  z.object({ reason: z.literal('scheduled') }).passthrough(),
  // `nhigov policy activate`: raise the policy high-water mark now, not at the next checkpoint.
  z.object({ reason: z.literal('policy-activated') }),
]);
export type CheckpointRequest = z.infer<typeof inputSchema>;

export interface CheckpointResult {
  readonly number: number;
  readonly hash: string;
  readonly reason: CheckpointReason;
  readonly heads: number;
  readonly policy: PolicyMark | null;
}

/** What writing a checkpoint reads and writes (structural, so tests can keep it in memory). */
export interface CheckpointRuntime {
  readonly trail: Pick<Runtime['trail'], 'listByChange' | 'head'>;
  readonly changes: Pick<Runtime['changes'], 'get' | 'listAll'>;
  readonly policies: Pick<Runtime['policies'], 'loadVerifiedRecord'>;
  readonly checkpoints: Pick<NonNullable<Runtime['checkpoints']>, 'append' | 'forChange'> | null;
  readonly env: Pick<Runtime['env'], 'NHIGOV_POLICY_PUBLIC_KEY'>;
  readonly logger: Pick<Runtime['logger'], 'info'>;
}

/**
 * Writes one signed checkpoint. The heads are read here, from the evidence table, never taken
 * from the caller: an ended change with every event hash, plus the finished changes its workflow
 * appended to (a rollback's parent, the changes a finalize run finalized).
 */
export async function writeCheckpoint(rt: CheckpointRuntime, request: CheckpointRequest): Promise<CheckpointResult> {
  const store = rt.checkpoints;
  if (!store) throw new AppError('INPUT_INVALID', 'no checkpoint bucket and key are configured for this function (NHIGOV_CHECKPOINT_BUCKET, NHIGOV_CHECKPOINT_KEY_ARN)');
  const heads = request.reason === 'change-ended' ? await endedHeads(rt, request.changeId) : request.reason === 'scheduled' ? await inFlightHeads(rt) : [];
  const policy = await activeMark(rt);
  const started = Date.now();
  const written: SignedCheckpoint = await store.append((previous) => nextCheckpoint(previous, { at: new Date().toISOString(), reason: request.reason, heads, policy }));
  rt.logger.info('checkpoint written', { number: written.body.number, reason: request.reason, heads: heads.length, ms: Date.now() - started });
  return { number: written.body.number, hash: written.hash, reason: request.reason, heads: heads.length, policy: written.body.policy };
}

async function endedHeads(rt: CheckpointRuntime, changeId: string): Promise<CheckpointHead[]> {
  const [record, events] = await Promise.all([rt.changes.get(changeId), rt.trail.listByChange(changeId)]);
  const linked = new Set<string>();
  if (record?.parentChangeId) linked.add(record.parentChangeId);
  for (const event of events) {
    const original = event.data.originalChangeId;
    if (event.type === 'FINALIZED' && typeof original === 'string') linked.add(original);
  }
  linked.delete(changeId);
  const chains = [{ changeId, events }, ...(await mapBounded([...linked], 4, async (id) => ({ changeId: id, events: await rt.trail.listByChange(id) })))];
  return chains.flatMap(({ changeId: id, events: chain }) => {
    const last = chain.at(-1);
    return last ? [{ changeId: id, seq: last.seq, hash: last.hash, ended: true, hashes: chain.map((e) => e.hash) }] : [];
  });
}

/** A change that ended this long ago without its own checkpoint (its complete step failed after COMPLETED) is caught by the next scheduled run. */
const CATCH_UP_MS = 2 * 3_600_000;

async function inFlightHeads(rt: CheckpointRuntime, now: number = Date.now()): Promise<CheckpointHead[]> {
  const changes = await rt.changes.listAll();
  const running = changes.filter((c) => !isTerminalStatus(c.status));
  const heads = await mapBounded(running, 8, async (c) => {
    const head = await rt.trail.head(c.changeId);
    return head ? [{ changeId: c.changeId, seq: head.seq, hash: head.hash, ended: false }] : [];
  });
  const store = rt.checkpoints;
  const recent = changes.filter((c) => isTerminalStatus(c.status) && now - Date.parse(c.updatedAt) < CATCH_UP_MS);
  const missed = store
    ? await mapBounded(recent, 8, async (c) => ((await store.forChange(c.changeId)).some((cp) => cp.body.heads.some((h) => h.changeId === c.changeId && h.ended)) ? [] : endedHeads(rt, c.changeId)))
    : [];
  return [...heads.flat(), ...missed.flat()];
}

/** The active policy when it verifies (nextCheckpoint keeps the newer of it and the previous mark); null otherwise. */
async function activeMark(rt: CheckpointRuntime): Promise<PolicyMark | null> {
  try {
    const { signed } = await rt.policies.loadVerifiedRecord(rt.env.NHIGOV_POLICY_PUBLIC_KEY);
    return { version: signed.version, signedAt: signed.signature.signedAt };
  } catch (error) {
    if (isAppError(error) && error.reasonCode === 'POLICY_INVALID') return null;
    throw error;
  }
}

export const handler = async (input: unknown): Promise<CheckpointResult> => writeCheckpoint(runtime(), parseInput(inputSchema, input, 'checkpoint'));

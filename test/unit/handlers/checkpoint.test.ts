import { describe, expect, it } from 'vitest';
import { GENESIS_HASH, sealEvidence, type EvidenceEvent, type EvidenceType } from '../../../lambdas/domain/evidence.js';
import { checkpointHash, verifyCheckpointChain, type CheckpointBody, type SignedCheckpoint } from '../../../lambdas/domain/checkpoint.js';
import { AppError } from '../../../lambdas/domain/reasons.js';
import { writeCheckpoint, type CheckpointRuntime } from '../../../lambdas/handlers/checkpoint.js';
import type { ChangeRecord } from '../../../lambdas/stores/change-store.js';

const NOW = new Date().toISOString();

function chain(changeId: string, entries: ReadonlyArray<{ type: EvidenceType; data?: Record<string, string> }>): EvidenceEvent[] {
  const events: EvidenceEvent[] = [];
  for (const [i, entry] of entries.entries()) {
    events.push(sealEvidence({ changeId, type: entry.type, actor: 'nhigov:automation', policyVersion: 'p', data: entry.data ?? {} }, i + 1, NOW, events.at(-1)?.hash ?? GENESIS_HASH));
  }
  return events;
}

function record(changeId: string, status: ChangeRecord['status'], extra: Partial<ChangeRecord> = {}): ChangeRecord {
  return { changeId, kind: 'change', status, trigger: 'test', eventId: changeId, createdAt: NOW, updatedAt: NOW, ...extra };
}

/** The stores writeCheckpoint uses, in memory; checkpoints are "signed" with their hash. */
function memoryRuntime(records: readonly ChangeRecord[], chains: readonly EvidenceEvent[][], active: { version: string; signedAt: string } | null = null) {
  const written: SignedCheckpoint[] = [];
  const byId = new Map(chains.map((c) => [c[0]?.changeId ?? '', c]));
  const rt: CheckpointRuntime = {
    trail: { listByChange: async (id) => byId.get(id) ?? [], head: async (id) => byId.get(id)?.at(-1) },
    changes: { get: async (id) => records.find((r) => r.changeId === id), listAll: async () => [...records] },
    policies: {
      loadVerifiedRecord: async () => {
        if (!active) throw new AppError('POLICY_INVALID', 'none active');
        return {
          signed: { version: active.version, policy: {} as never, signature: { version: active.version, keyId: '0'.repeat(16), signature: '', signedAt: active.signedAt } },
          record: { version: active.version, policyText: '', signatureText: '', activatedBy: 'a@example.com', activatedAt: NOW },
        };
      },
    },
    checkpoints: {
      append: async (build: (previous: SignedCheckpoint | null) => CheckpointBody | Promise<CheckpointBody>) => {
        const body = await build(written.at(-1) ?? null);
        const signed = { body, hash: checkpointHash(body), keyId: 'test', signature: 'test' };
        written.push(signed);
        return signed;
      },
      forChange: async (id) => written.filter((c) => c.body.heads.some((h) => h.changeId === id)),
    },
    env: { NHIGOV_POLICY_PUBLIC_KEY: 'unused' },
    logger: { info: () => undefined },
  };
  return { rt, written };
}

const FINISHED: Array<{ type: EvidenceType }> = [{ type: 'TRIGGERED' }, { type: 'DECIDED' }, { type: 'COMPLETED' }];

describe('writeCheckpoint', () => {
  it('an ended change: its head and every event hash, plus the finished changes its workflow appended to', async () => {
    const parent = chain('chg-parent', [...FINISHED, { type: 'ROLLED_BACK', data: { rollbackChangeId: 'rbk-1' } }]);
    const rollback = chain('rbk-1', FINISHED);
    const original = chain('chg-original', [...FINISHED, { type: 'FINALIZED', data: { finalizeChangeId: 'fin-1' } }]);
    const finalize = chain('fin-1', [{ type: 'TRIGGERED' }, { type: 'FINALIZED', data: { originalChangeId: 'chg-original' } }, { type: 'COMPLETED' }]);
    const { rt, written } = memoryRuntime([record('chg-parent', 'VERIFIED'), record('rbk-1', 'ROLLED_BACK', { kind: 'rollback', parentChangeId: 'chg-parent' }), record('fin-1', 'VERIFIED')], [parent, rollback, original, finalize]);

    await writeCheckpoint(rt, { reason: 'change-ended', changeId: 'rbk-1' });
    await writeCheckpoint(rt, { reason: 'change-ended', changeId: 'fin-1' });
    expect(written[0]?.body.heads).toEqual([
      { changeId: 'rbk-1', seq: 3, hash: rollback[2]?.hash, ended: true, hashes: rollback.map((e) => e.hash) },
      { changeId: 'chg-parent', seq: 4, hash: parent[3]?.hash, ended: true, hashes: parent.map((e) => e.hash) },
    ]);
    expect(written[1]?.body.heads.map((h) => [h.changeId, h.seq])).toEqual([
      ['fin-1', 3],
      ['chg-original', 4],
    ]);
    expect(verifyCheckpointChain(written, () => true)).toEqual({ ok: true, checkpoints: 2 });
  });

  it('scheduled: heads of the changes in flight, and of a change that ended without a checkpoint of its own', async () => {
    const running = chain('chg-running', [{ type: 'TRIGGERED' }, { type: 'DECIDED' }]);
    const missed = chain('chg-missed', FINISHED);
    const { rt, written } = memoryRuntime([record('chg-running', 'AWAITING_APPROVAL'), record('chg-missed', 'VERIFIED')], [running, missed]);
    const result = await writeCheckpoint(rt, { reason: 'scheduled' });
    expect(result).toMatchObject({ number: 1, heads: 2, policy: null });
    expect(written[0]?.body.heads.map((h) => [h.changeId, h.seq, h.ended])).toEqual([
      ['chg-running', 2, false],
      ['chg-missed', 3, true],
    ]);
    // Once checkpointed, the ended change is not caught up again.
    await writeCheckpoint(rt, { reason: 'scheduled' });
    expect(written[1]?.body.heads.map((h) => h.changeId)).toEqual(['chg-running']);
  });

  it('carries the newest policy mark: an older active policy never lowers it', async () => {
    const strict = { version: 'b'.repeat(64), signedAt: '2026-02-01T00:00:00.000Z' };
    const weak = { version: 'a'.repeat(64), signedAt: '2026-01-01T00:00:00.000Z' };
    const first = memoryRuntime([], [], strict);
    await writeCheckpoint(first.rt, { reason: 'policy-activated' });
    const second: CheckpointRuntime = { ...first.rt, policies: memoryRuntime([], [], weak).rt.policies };
    const result = await writeCheckpoint(second, { reason: 'policy-activated' });
    expect(result.policy).toEqual(strict);
  });

  it('refuses without a checkpoint bucket and key', async () => {
    const { rt } = memoryRuntime([], []);
    await expect(writeCheckpoint({ ...rt, checkpoints: null }, { reason: 'scheduled' })).rejects.toMatchObject({ reasonCode: 'INPUT_INVALID' });
  });
});

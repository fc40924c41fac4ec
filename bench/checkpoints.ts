/**
 * Signed checkpoints: how long one checkpoint write takes (list the latest, KMS Sign, conditional
 * PutObject), alone and with 8 writers racing for numbers, and how long `nhigov evidence verify`
 * takes over 1,000 finished changes, each anchored by its own checkpoint. Seeds straight through
 * the stores on a local stack.
 */
import { randomUUID } from 'node:crypto';
import { nextCheckpoint } from '../lambdas/domain/checkpoint.js';
import { createDocumentClient } from '../lambdas/stores/dynamo.js';
import { EvidenceWriter } from '../lambdas/stores/evidence-writer.js';
import { mapBounded } from '../lambdas/lib/map-bounded.js';
import type { VerifyDocument } from '../cli/lib/evidence-verify.js';
import { median, percentile, printFigure, withStack } from './support.js';

const CHANGES = Number(process.env.NHIGOV_BENCH_CHANGES ?? 1000);

export async function runCheckpointsBench(): Promise<void> {
  await withStack(async (stack) => {
    const ctx = await stack.context();
    const now = new Date().toISOString();
    const ids = Array.from({ length: CHANGES }, (_, i) => `chg-bench${String(i).padStart(19, '0')}`);
    // Seeded as the evidence writer writes (the bench holds the emulator's keys, not a function role).
    const writer = new EvidenceWriter(createDocumentClient(stack.clients.dynamodb), stack.outputs.tables.evidence ?? '');
    const seedStarted = Date.now();
    await mapBounded(ids, 16, async (changeId) => {
      await ctx.changes.create({ changeId, kind: 'change', status: 'VERIFIED', trigger: 'bench', eventId: changeId, createdAt: now, reasonCodes: [] });
      const drafts = (['TRIGGERED', 'DECIDED', 'COMPLETED'] as const).map((type) => ({ draftId: randomUUID(), draft: { changeId, type, actor: 'bench', policyVersion: 'bench', data: { type } } }));
      await writer.write(changeId, drafts);
    });
    printFigure('seeded changes (3 events each)', `${CHANGES} in ${((Date.now() - seedStarted) / 1000).toFixed(1)} s`);

    const writeOne = async (changeId: string): Promise<number> => {
      const chain = await ctx.evidence.listByChange(changeId);
      const last = chain.at(-1);
      const heads = last ? [{ changeId, seq: last.seq, hash: last.hash, ended: true, hashes: chain.map((e) => e.hash) }] : [];
      const started = performance.now();
      await ctx.checkpoints.append((previous) => nextCheckpoint(previous, { at: new Date().toISOString(), reason: 'change-ended', heads, policy: null }));
      return performance.now() - started;
    };
    const alone = await mapBounded(ids.slice(0, 100), 1, writeOne);
    printFigure('checkpoint write, one writer (median / p95)', `${median(alone).toFixed(1)} / ${percentile(alone, 95).toFixed(1)} ms`);
    const racing = await mapBounded(ids.slice(100), 8, writeOne);
    // Every write above must have landed, each on its own number: the chain of checkpoints verifies below.
    printFigure('checkpoint write, 8 writers racing (median / p95)', `${median(racing).toFixed(1)} / ${percentile(racing, 95).toFixed(1)} ms`);

    const verifyStarted = Date.now();
    const result = stack.cli(['evidence', 'verify', '--json']);
    const verifyMs = Date.now() - verifyStarted;
    const doc = JSON.parse(result.stdout) as VerifyDocument;
    const anchored = doc.results.filter((r) => r.anchored).length;
    printFigure(`evidence verify over ${doc.changes} changes (CLI, exit ${result.code})`, `${(verifyMs / 1000).toFixed(1)} s, ${doc.checkpoints?.count ?? 0} checkpoints, ${anchored} chains anchored`);
  });
}

/**
 * The insider: write access to the tables (PutItem, DeleteItem straight to DynamoDB), none to the
 * signing keys. Each attack is done as such a person would, with the project's own hashing, and
 * each must be caught by the trust anchors: the signed checkpoints in the Object-Locked bucket,
 * and the policy high-water mark they carry.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DeleteCommand, PutCommand, QueryCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { DeleteObjectCommand, ListObjectVersionsCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { PROJECT_ROOT } from '../../local/build.js';
import type { ShowDocument } from '../../cli/lib/changes.js';
import type { StackContext } from '../../cli/lib/context.js';
import type { VerifyDocument } from '../../cli/lib/evidence-verify.js';
import { signPolicyFile } from '../../cli/lib/policy-files.js';
import type { PolicyStatusDocument } from '../../cli/lib/policy-status.js';
import { GENESIS_HASH, sealEvidence, verifyChain, type EvidenceEvent } from '../../lambdas/domain/evidence.js';
import { checkpointKey } from '../../lambdas/domain/checkpoint.js';
import { createDocumentClient } from '../../lambdas/stores/dynamo.js';
import { startTestStack, type TestStack } from '../support/local-stack.js';
import { createGovernedUser, keyStatuses, ownerEmail, runTermination } from '../support/estate.js';

const DEFAULT_POLICY = readFileSync(path.join(PROJECT_ROOT, 'policy', 'default-policy.yaml'), 'utf8');

/** The insider's rewrite: `actor` of event k changed, every later hash recomputed, each item put back. */
function rewriteFrom(events: readonly EvidenceEvent[], k: number, actor: string): EvidenceEvent[] {
  const out: EvidenceEvent[] = [];
  for (const event of events) {
    const { hash: _hash, prevHash: _prev, seq, at, ...draft } = event;
    out.push(sealEvidence({ ...draft, ...(seq === k ? { actor } : {}) }, seq, at, out.at(-1)?.hash ?? GENESIS_HASH));
  }
  return out;
}

describe('an insider with write access to the tables but not the signing keys', () => {
  let stack: TestStack;
  let ctx: StackContext;
  let db: DynamoDBDocumentClient;
  let tables: { evidence: string; changes: string; policies: string };
  let finished: ShowDocument[];

  const putEvent = (event: EvidenceEvent) => db.send(new PutCommand({ TableName: tables.evidence, Item: { ...event, day: event.at.slice(0, 10) } }));
  const verify = (changeId?: string) => stack.cli(['evidence', 'verify', ...(changeId ? [changeId] : []), '--json']);

  beforeAll(async () => {
    stack = await startTestStack();
    ctx = await stack.context();
    db = createDocumentClient(stack.direct.dynamodb);
    tables = { evidence: stack.outputs.tables.evidence ?? '', changes: stack.outputs.tables.changes ?? '', policies: stack.outputs.tables.policies ?? '' };
    finished = [];
    for (let i = 0; i < 4; i += 1) {
      const owner = ownerEmail();
      await createGovernedUser(stack.direct, { owner, keys: 1 });
      const done = await runTermination(ctx, owner);
      if (done.status !== 'VERIFIED') throw new Error(`change ${done.changeId} ended ${done.status}`);
      finished.push(done);
    }
  });
  afterAll(() => stack?.stop());

  it('every finished change is checkpointed, and verify says how far the checkpoints reach', () => {
    const doc = JSON.parse(verify().stdout) as VerifyDocument;
    expect(doc.ok).toBe(true);
    expect(doc.checkpoints).toMatchObject({ ok: true, latest: expect.objectContaining({ number: expect.any(Number) }), cannotCover: expect.arrayContaining([expect.stringMatching(/since the last checkpoint of a change still running/)]) });
    for (const change of finished) {
      expect(doc.results.find((r) => r.changeId === change.changeId)).toMatchObject({ ok: true, anchored: { ended: true, seq: change.evidence.length }, uncovered: 0 });
    }
    const latencies = readFileSync(path.join(stack.stateDir, 'gateway.log'), 'utf8')
      .split('\n')
      .filter((line) => line.includes('"checkpoint written"'))
      .map((line) => Number((JSON.parse(line.slice(line.indexOf('{'))) as { ms: number }).ms))
      .sort((a, b) => a - b);
    expect(latencies.length).toBeGreaterThanOrEqual(4);
    console.info(`checkpoint write latency: median ${latencies[Math.floor(latencies.length / 2)]} ms over ${latencies.length} checkpoints`);
  });

  it('a finished chain rewritten consistently (one actor changed, every later hash recomputed, PutItem) fails verify at that seq', async () => {
    const target = finished[0] as ShowDocument;
    const events = await ctx.evidence.listByChange(target.changeId);
    const rewritten = rewriteFrom(events, 3, 'someone-else');
    expect(verifyChain(rewritten).ok).toBe(true); // the chain alone holds: only the checkpoint can tell
    for (const event of rewritten.slice(2)) await putEvent(event);

    const result = verify(target.changeId);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`${target.changeId} at seq 3`);
    expect(JSON.parse(result.stdout)).toMatchObject({ ok: false, results: [expect.objectContaining({ changeId: target.changeId, brokenAt: 3, reason: expect.stringMatching(/not the one checkpointed/) })] });
  });

  it('the last events deleted together with the change record fail verify, naming the first missing seq', async () => {
    const target = finished[1] as ShowDocument;
    const n = target.evidence.length;
    for (const seq of [n - 1, n]) await db.send(new DeleteCommand({ TableName: tables.evidence, Key: { changeId: target.changeId, seq } }));
    await db.send(new DeleteCommand({ TableName: tables.changes, Key: { changeId: target.changeId } }));

    const result = verify();
    expect(result.code).toBe(1);
    const doc = JSON.parse(result.stdout) as VerifyDocument;
    expect(doc.results.find((r) => r.changeId === target.changeId)).toMatchObject({ ok: false, status: null, brokenAt: n - 1, reason: expect.stringMatching(new RegExp(`vouch for ${n} event`)) });
  });

  it('a change wiped whole (every event and its record) does not vanish from verify', async () => {
    const target = finished[2] as ShowDocument;
    for (const event of target.evidence) await db.send(new DeleteCommand({ TableName: tables.evidence, Key: { changeId: target.changeId, seq: event.seq } }));
    await db.send(new DeleteCommand({ TableName: tables.changes, Key: { changeId: target.changeId } }));

    const single = verify(target.changeId);
    expect(single.code).toBe(1);
    expect(single.stderr).toContain(`${target.changeId} at seq 1`);
    const doc = JSON.parse(verify().stdout) as VerifyDocument;
    expect(doc.results.find((r) => r.changeId === target.changeId)).toMatchObject({ ok: false, events: 0, brokenAt: 1, reason: expect.stringMatching(/deleted whole/) });
  });

  it('an event added after the checkpoint of an ended change fails verify at its seq', async () => {
    const target = finished[3] as ShowDocument;
    const head = (await ctx.evidence.head(target.changeId)) as EvidenceEvent;
    await putEvent(sealEvidence({ changeId: target.changeId, type: 'ESCALATED', actor: 'nhigov:automation', policyVersion: head.policyVersion, data: { note: 'added later' } }, head.seq + 1, new Date().toISOString(), head.hash));
    const result = verify(target.changeId);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`${target.changeId} at seq ${head.seq + 1}`);
  });

  it('a running change is held to its in-flight checkpoint (`nhigov evidence checkpoint`, hourly in AWS)', async () => {
    const owner = ownerEmail();
    await createGovernedUser(stack.direct, { owner, keys: 1, env: 'prod' });
    const waiting = await runTermination(ctx, owner);
    expect(waiting.status).toBe('AWAITING_APPROVAL');
    const written = stack.json<{ number: number; heads: number }>(['evidence', 'checkpoint']);
    expect(written.heads).toBeGreaterThanOrEqual(1);
    const before = stack.json<VerifyDocument>(['evidence', 'verify', waiting.changeId]);
    const n = waiting.evidence.length;
    expect(before.results[0]).toMatchObject({ ok: true, anchored: { checkpoint: written.number, seq: n, ended: false }, uncovered: 0 });

    const events = await ctx.evidence.listByChange(waiting.changeId);
    for (const event of rewriteFrom(events, 2, 'someone-else').slice(1)) await putEvent(event);
    const result = verify(waiting.changeId);
    expect(result.code).toBe(1);
    expect(JSON.parse(result.stdout)).toMatchObject({ results: [expect.objectContaining({ brokenAt: n, reason: expect.stringMatching(new RegExp(`after seq 0 up to seq ${n} was rewritten`)) })] });
  });

  it('a checkpoint can be neither replaced nor deleted', async () => {
    const bucket = ctx.outputs.checkpoints.bucket;
    const key = checkpointKey(1);
    await expect(stack.direct.s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: '{}', IfNoneMatch: '*' }))).rejects.toMatchObject({ name: 'PreconditionFailed' });
    const versions = await stack.direct.s3.send(new ListObjectVersionsCommand({ Bucket: bucket, Prefix: key }));
    const versionId = versions.Versions?.[0]?.VersionId;
    await expect(stack.direct.s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: key, VersionId: versionId }))).rejects.toMatchObject({ name: 'AccessDenied' });
  });

  it('an older signed policy copied into the ACTIVE slot is refused: the change ends FAILED POLICY_INVALID, nothing written, status shows it', async () => {
    const key = path.join(stack.stateDir, 'policy.key');
    const file = (name: string, text: string) => {
      const f = path.join(stack.stateDir, `${name}.yaml`);
      writeFileSync(f, text);
      signPolicyFile(f, key);
      return f;
    };
    const weak = file('weak', DEFAULT_POLICY.replace('name: default', 'name: weak').replace(/requiredForTags:\n\s+env: prod/, 'requiredForTags: {}').replace('requiredForIrreversible: true', 'requiredForIrreversible: false'));
    await sleep(5);
    const strict = file('strict', DEFAULT_POLICY.replace('name: default', 'name: strict'));
    const weakVersion = stack.json<{ version: string }>(['policy', 'activate', weak, '--as', 'lead@example.com']).version;
    stack.json(['policy', 'activate', strict, '--as', 'lead@example.com']);

    // One DynamoDB write: the weak version's record into the ACTIVE slot.
    const versions = await db.send(new QueryCommand({ TableName: tables.policies, KeyConditionExpression: 'pk = :p', ExpressionAttributeValues: { ':p': 'VERSION' } }));
    const weakRecord = versions.Items?.find((item) => item.version === weakVersion);
    expect(weakRecord).toBeDefined();
    await db.send(new PutCommand({ TableName: tables.policies, Item: { ...weakRecord, pk: 'ACTIVE', sk: 'ACTIVE' } }));

    const owner = ownerEmail();
    const user = await createGovernedUser(stack.direct, { owner, keys: 1, env: 'prod' });
    const done = await runTermination(ctx, owner);
    expect(done.status).toBe('FAILED');
    expect(done.reasonCodes).toContain('POLICY_INVALID');
    expect(done.planHash).toBeNull();
    expect(Object.values(await keyStatuses(stack.direct, user.userName))).toEqual(['Active']);
    expect(done.evidence[0]).toMatchObject({ type: 'TRIGGERED', reasonCode: 'POLICY_INVALID', data: expect.objectContaining({ refused: expect.stringMatching(/superseded by/) }) });

    const status = stack.json<PolicyStatusDocument>(['policy', 'status']);
    expect(status.active).toMatchObject({ version: weakVersion, valid: false, reason: expect.stringMatching(/superseded by/) });
    expect(status.runtimes).toContainEqual(expect.objectContaining({ state: 'refusing', refusal: expect.stringMatching(/superseded by/) }));

    // Activating the weak file with its old signature is refused too; signing it again is the way back.
    const again = stack.cli(['policy', 'activate', weak, '--as', 'lead@example.com']);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/POLICY_INVALID: .*superseded by/);
    signPolicyFile(weak, key);
    expect(stack.json<{ activated: boolean }>(['policy', 'activate', weak, '--as', 'lead@example.com']).activated).toBe(true);
  });
});

import { gzipSync } from 'node:zlib';
import { randomUUID } from 'node:crypto';
import { GetCommand, PutCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { canonicalJson, sha256Hex } from '../../lambdas/domain/canonical.js';
import { isAppError } from '../../lambdas/domain/reasons.js';
import { ChangeStore, type ChangeRecord } from '../../lambdas/stores/change-store.js';
import { createDocumentClient } from '../../lambdas/stores/dynamo.js';
import { PlanStore } from '../../lambdas/stores/plan-store.js';
import { mapBounded } from '../../lambdas/lib/map-bounded.js';
import { events, planFor } from '../fixtures/planning.js';
import { snapshotOf, user } from '../fixtures/estate-builder.js';
import { startTestStack, type TestStack } from '../support/local-stack.js';

/** The DynamoDB stores against the local stack's tables (moto), no SDK mocks. */

let stack: TestStack;
let db: DynamoDBDocumentClient;
let changes: ChangeStore;
let plans: PlanStore;
let plansTable: string;

const run = randomUUID().slice(0, 8);
const record = (n: number, fields: Partial<ChangeRecord> = {}): Omit<ChangeRecord, 'updatedAt'> => ({
  changeId: `st-${run}-${n}`,
  kind: 'change',
  status: 'PLANNED',
  trigger: 'Employee Terminated',
  eventId: `evt-${run}-${n}`,
  createdAt: new Date(Date.UTC(2026, 6, 1, 0, 0, n)).toISOString(),
  reasonCodes: [],
  ...fields,
});

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => expect.fail('expected a rejection'),
    (error: unknown) => error,
  );
}

describe('stores against the local stack', () => {
  beforeAll(async () => {
    stack = await startTestStack();
    db = createDocumentClient(stack.direct.dynamodb);
    changes = new ChangeStore(db, stack.outputs.tables.changes ?? '', stack.outputs.tables.actions ?? '');
    plansTable = stack.outputs.tables.plans ?? '';
    plans = new PlanStore(db, plansTable);
  });
  afterAll(() => stack?.stop());

  describe('ChangeStore', () => {
    it('creates a change once and reads it back parsed; update sets only the fields given', async () => {
      expect(await changes.create(record(1))).toBe(true);
      expect(await changes.create(record(1, { trigger: 'other' }))).toBe(false);
      await changes.update(`st-${run}-1`, { status: 'APPLYING', planHash: 'a'.repeat(64) });
      const read = await changes.get(`st-${run}-1`);
      expect(read).toMatchObject({ ...record(1), status: 'APPLYING', planHash: 'a'.repeat(64) });
      expect(read?.updatedAt).not.toBe(record(1).createdAt);
      expect(await changes.get(`st-${run}-nope`)).toBeUndefined();
    });

    it('recordResult changes an action\'s outcome and leaves its attempt count to the write step', async () => {
      const changeId = `st-${run}-2`;
      await changes.create(record(2));
      await changes.actions.record(changeId, 'a1', { status: 'FAILED', attempts: 3, reasonCode: 'THROTTLED' });
      await changes.actions.recordResult(changeId, 'a1', { status: 'VERIFIED', observed: { status: 'Inactive' } });
      expect(await changes.actions.get(changeId, 'a1')).toEqual({ status: 'VERIFIED', attempts: 3, observed: { status: 'Inactive' } });
      await changes.actions.recordResult(changeId, 'a1', { status: 'FAILED', reasonCode: 'VERIFY_TIMEOUT', observed: { status: 'Active' } });
      expect(await changes.actions.get(changeId, 'a1')).toEqual({ status: 'FAILED', attempts: 3, reasonCode: 'VERIFY_TIMEOUT', observed: { status: 'Active' } });
      await changes.actions.recordResult(changeId, 'a1', { status: 'ROLLED_BACK' });
      expect(await changes.actions.get(changeId, 'a1')).toEqual({ status: 'ROLLED_BACK', attempts: 3 });
    });

    it('beginAttempt starts an attempt in one call: the record before it back, one attempt more, an outcome cleared; refused, it changes nothing', async () => {
      const changeId = record(6).changeId;
      await changes.create(record(6));
      const refusal = { status: 'FAILED', attempts: 0, reasonCode: 'CONNECTOR_ACCESS_DENIED' } as const;
      expect(await changes.actions.beginAttempt(changeId, 'a1', refusal)).toEqual({ previous: undefined });
      expect(await changes.actions.get(changeId, 'a1')).toEqual({ status: 'PLANNED', attempts: 1 });
      // Interrupted (still PLANNED), then started again: the earlier attempt is named by what comes back.
      expect(await changes.actions.beginAttempt(changeId, 'a1', refusal)).toEqual({ previous: { status: 'PLANNED', attempts: 1 } });
      await changes.actions.record(changeId, 'a1', { status: 'FAILED', attempts: 2, reasonCode: 'THROTTLED', observed: { status: 'Active' } });
      expect(await changes.actions.beginAttempt(changeId, 'a1')).toEqual({ previous: { status: 'FAILED', attempts: 2, reasonCode: 'THROTTLED', observed: { status: 'Active' } } });
      expect(await changes.actions.get(changeId, 'a1')).toEqual({ status: 'PLANNED', attempts: 3 });
      // The check before writing could not be made: refused, the record left as it is.
      await changes.actions.record(changeId, 'a2', refusal);
      expect(await changes.actions.beginAttempt(changeId, 'a2', refusal)).toBe('refused');
      expect(await changes.actions.get(changeId, 'a2')).toEqual(refusal);
      // An undo is not refused by it.
      expect(await changes.actions.beginAttempt(changeId, 'a2')).toEqual({ previous: refusal });
    });

    it('recordResult for an action never written records it with one attempt', async () => {
      const changeId = `st-${run}-3`;
      await changes.create(record(3));
      await changes.actions.recordResult(changeId, 'a9', { status: 'VERIFIED', observed: { present: true } });
      expect(await changes.actions.get(changeId, 'a9')).toEqual({ status: 'VERIFIED', attempts: 1, observed: { present: true } });
      expect(await changes.actions.get(changeId, 'a8')).toBeUndefined();
    });

    it('each action is an item of its own: 1,200 outcomes of one change read back whole (every page), the change record untouched, other changes apart', async () => {
      const changeId = `st-${run}-4`;
      const other = `st-${run}-5`;
      await changes.create(record(4));
      await changes.create(record(5));
      const before = await changes.get(changeId);
      const ids = Array.from({ length: 1200 }, (_, i) => `a${i + 1}`);
      const observed = { status: 'Inactive', padding: 'x'.repeat(900) };
      await mapBounded(ids, 16, (actionId) => changes.actions.record(changeId, actionId, { status: 'VERIFIED', attempts: 1, observed }));
      await changes.actions.record(other, 'a1', { status: 'FAILED', attempts: 2, reasonCode: 'THROTTLED' });
      const read = await changes.getWithActions(changeId);
      expect(Object.keys(read?.actions ?? {}).sort()).toEqual([...ids].sort());
      expect(read?.actions.a1200).toEqual({ status: 'VERIFIED', attempts: 1, observed });
      expect(await changes.get(changeId)).toEqual(before);
      expect((await changes.getWithActions(other))?.actions).toEqual({ a1: { status: 'FAILED', attempts: 2, reasonCode: 'THROTTLED' } });
      const all = await changes.actions.all();
      expect(Object.keys(all.get(changeId) ?? {})).toHaveLength(1200);
      expect(all.get(other)).toEqual({ a1: { status: 'FAILED', attempts: 2, reasonCode: 'THROTTLED' } });
      expect(await changes.getWithActions(`st-${run}-nope`)).toBeUndefined();
    });

    it('lists every record (listAll), by kind in a window oldest first, the newest first with a limit, and counts by status', async () => {
      const made = [10, 11, 12, 13].map((n) => record(n, { kind: n % 2 === 0 ? 'change' : 'rollback', status: n === 12 ? 'ESCALATED' : 'VERIFIED' }));
      for (const r of made) await changes.create(r);
      const all = await changes.listAll();
      expect(all.map((r) => r.changeId)).toEqual(expect.arrayContaining(made.map((r) => r.changeId)));
      expect(all.every((r) => typeof r.updatedAt === 'string')).toBe(true);

      const window = await changes.createdBetween('change', record(10).createdAt, record(13).createdAt);
      expect(window.map((r) => r.changeId)).toEqual([`st-${run}-10`, `st-${run}-12`]);
      expect((await changes.list('rollback', 1)).map((r) => r.changeId)).toEqual([`st-${run}-13`]);
      expect(await changes.countByStatus('ESCALATED')).toBe(1);
    });
  });

  describe('PlanStore', () => {
    const plan = planFor(events.terminated('alice@example.com'), snapshotOf({ users: [user('svc-alice', { owner: 'alice@example.com', keys: [{ accessKeyId: 'AKIAALICE0000001' }] })] }), { changeId: `st-${run}-plan` });

    it('stores a plan under the hash of its canonical JSON and reads it back parsed, equal', async () => {
      const planHash = await plans.put(plan);
      expect(planHash).toBe(sha256Hex(canonicalJson(plan)));
      expect(await plans.put(plan)).toBe(planHash);
      expect(await plans.get(planHash)).toEqual(plan);
    });

    it('stores a plan past DynamoDB\'s item size gzipped (a 2,000-action change) and reads it back equal; a forged one is refused', async () => {
      const owner = 'leaver@example.com';
      const users = Array.from({ length: 1000 }, (_, i) => user(`svc-big-${i}`, { owner, keys: [{ accessKeyId: `AKIABIG${String(i).padStart(10, '0')}A` }, { accessKeyId: `AKIABIG${String(i).padStart(10, '0')}B` }] }));
      const big = planFor(events.terminated(owner), snapshotOf({ users }), { changeId: `st-${run}-big` });
      expect(big.actions.filter((a) => a.kind === 'iam.deactivateAccessKey')).toHaveLength(2000);
      const text = canonicalJson(big);
      expect(Buffer.byteLength(text)).toBeGreaterThan(400 * 1024);
      const planHash = await plans.put(big);
      const item = (await db.send(new GetCommand({ TableName: plansTable, Key: { planHash } }))).Item ?? {};
      expect(item['body']).toBeUndefined();
      expect((item['bodyGzip'] as Uint8Array).byteLength).toBeLessThan(400 * 1024);
      expect(await plans.get(planHash)).toEqual(big);
      const forged = sha256Hex(`forged-big-${run}`);
      await db.send(new PutCommand({ TableName: plansTable, Item: { planHash: forged, changeId: big.changeId, bodyGzip: gzipSync(canonicalJson({ ...big, policyVersion: 'other' })) } }));
      const stale = await rejection(plans.get(forged));
      expect(isAppError(stale) && stale.reasonCode).toBe('PLAN_STALE');
    });

    it('refuses a body that does not match its hash (PLAN_STALE), and a body that is not a plan (INPUT_INVALID)', async () => {
      const planHash = await plans.put(plan);
      const tampered = canonicalJson({ ...plan, policyVersion: 'other' });
      const forged = sha256Hex(`forged-${run}`);
      await db.send(new PutCommand({ TableName: plansTable, Item: { planHash: forged, changeId: plan.changeId, body: tampered } }));
      const stale = await rejection(plans.get(forged));
      expect(isAppError(stale) && stale.reasonCode).toBe('PLAN_STALE');

      const notAPlan = canonicalJson({ ...plan, actions: [{ actionId: 'a1' }] });
      await db.send(new PutCommand({ TableName: plansTable, Item: { planHash: sha256Hex(notAPlan), changeId: plan.changeId, body: notAPlan } }));
      const invalid = await rejection(plans.get(sha256Hex(notAPlan)));
      expect(isAppError(invalid) && invalid.reasonCode).toBe('INPUT_INVALID');
      expect(String((invalid as Error).message)).toMatch(/is not a plan/);

      const extra = canonicalJson({ ...plan, smuggled: true });
      await db.send(new PutCommand({ TableName: plansTable, Item: { planHash: sha256Hex(extra), changeId: plan.changeId, body: extra } }));
      expect(isAppError(await rejection(plans.get(sha256Hex(extra))))).toBe(true);
      expect(await plans.get(planHash)).toEqual(plan);
    });
  });
});

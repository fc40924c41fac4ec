import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { SQSClient } from '@aws-sdk/client-sqs';
import { plannedActions, plannedParts, PLANNED_PART_BYTES, recordPlanned } from '../../../lambdas/handlers/core/plan-evidence.js';
import type { EvidenceDraft } from '../../../lambdas/domain/evidence.js';
import { events, planFor } from '../../fixtures/planning.js';
import { snapshotOf, user } from '../../fixtures/estate-builder.js';
import type { JsonObject } from '../../../lambdas/domain/plan-model.js';
import { isAppError } from '../../../lambdas/domain/reasons.js';
import { EvidenceOutbox, MAX_DRAFT_BYTES } from '../../../lambdas/stores/evidence-outbox.js';

const action = (n: number, padding: number): JsonObject => ({ actionId: `a${n}`, kind: 'iam.deactivateAccessKey', before: { note: 'x'.repeat(padding) } });
const bytes = (part: readonly JsonObject[]) => part.reduce((sum, a) => sum + Buffer.byteLength(JSON.stringify(a)) + 1, 0);

describe('plannedParts: a plan whose actions do not fit one evidence item is recorded in parts', () => {
  it('keeps every action, in order, in parts of at most the budget (an action over it alone)', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 3_000 }), { maxLength: 60 }), fc.integer({ min: 500, max: 20_000 }), (paddings, budget) => {
        const actions = paddings.map((padding, n) => action(n, padding));
        const parts = plannedParts(actions, budget);
        expect(parts.flat()).toEqual(actions);
        for (const part of parts) if (part.length > 1) expect(bytes(part)).toBeLessThanOrEqual(budget);
        // Greedy: no part could have taken the first action of the next one.
        for (let i = 1; i < parts.length; i += 1) expect(bytes(parts[i - 1] ?? []) + bytes((parts[i] ?? []).slice(0, 1))).toBeGreaterThan(budget);
      }),
    );
  });

  it('a 2,000-action plan (about 500 bytes per action) is four parts under the default budget; a small plan is one', () => {
    const large = Array.from({ length: 2_000 }, (_, n) => action(n, 420));
    const parts = plannedParts(large);
    expect(parts.length).toBe(Math.ceil(bytes(large) / PLANNED_PART_BYTES));
    expect(parts.every((part) => bytes(part) <= PLANNED_PART_BYTES)).toBe(true);
    expect(plannedParts([action(1, 10)])).toEqual([[action(1, 10)]]);
    expect(plannedParts([])).toEqual([[]]);
  });
});

describe('recordPlanned', () => {
  const owner = 'leaver@example.com';
  const users = Array.from({ length: 900 }, (_, i) => user(`svc-${String(i).padStart(4, '0')}`, { owner, keys: [{ accessKeyId: `AKIA${String(i).padStart(16, '0')}` }] }));
  const plan = planFor(events.terminated(owner), snapshotOf({ users }), { changeId: 'chg-big' });

  async function recorded(data: JsonObject): Promise<EvidenceDraft[]> {
    const drafts: EvidenceDraft[] = [];
    await recordPlanned({ plans: { put: async () => 'f'.repeat(64) }, evidence: { append: async (...d: EvidenceDraft[]) => { drafts.push(...d); } } }, plan, data);
    return drafts;
  }

  it('records a plan too large for one evidence item as PLANNED parts under the budget, whose lists join to the whole, the rest of data on the first', async () => {
    const findings = plan.actions.map((a) => ({ nhi: a.target.nhi, reasonCode: a.finding, message: 'x'.repeat(100) }));
    const drafts = await recorded({ findings, note: 'kept' });
    expect(drafts.length).toBeGreaterThan(1);
    expect(drafts.every((d) => d.type === 'PLANNED' && Buffer.byteLength(JSON.stringify(d.data)) < MAX_DRAFT_BYTES)).toBe(true);
    expect(drafts.map((d) => d.data?.part)).toEqual(drafts.map((_, i) => i + 1));
    expect(drafts.every((d) => d.data?.parts === drafts.length && d.data?.planHash === 'f'.repeat(64))).toBe(true);
    expect(drafts.flatMap((d) => (Array.isArray(d.data?.actions) ? d.data.actions : []))).toEqual(plannedActions(plan));
    expect(drafts.flatMap((d) => (Array.isArray(d.data?.findings) ? d.data.findings : []))).toEqual(findings);
    expect(drafts.map((d) => d.data?.note)).toEqual(['kept', ...drafts.slice(1).map(() => undefined)]);
  });

  it('records a small plan as one PLANNED, as before: every action, the data, no part', async () => {
    const small = planFor(events.terminated(owner), snapshotOf({ users: users.slice(0, 2) }), { changeId: 'chg-small' });
    const drafts: EvidenceDraft[] = [];
    await recordPlanned({ plans: { put: async () => 'e'.repeat(64) }, evidence: { append: async (...d: EvidenceDraft[]) => { drafts.push(...d); } } }, small, { findings: [] });
    expect(drafts).toHaveLength(1);
    expect(drafts[0]?.data).toEqual({ planHash: 'e'.repeat(64), actions: plannedActions(small), findings: [] });
  });
});

describe('EvidenceOutbox refuses a draft no evidence item can hold', () => {
  it('throws INPUT_INVALID naming the event and sends nothing', async () => {
    let sent = 0;
    const sqs = { send: async () => { sent += 1; return {}; } } as unknown as SQSClient;
    const outbox = new EvidenceOutbox(sqs, 'https://sqs.example/queue.fifo', { written: async () => ({ event: undefined, headSeq: 0 }), headSeq: async () => 0 });
    const error = await outbox.append({ changeId: 'chg-1', type: 'PLANNED', actor: 'test', policyVersion: 'v1', data: { blob: 'x'.repeat(MAX_DRAFT_BYTES) } }).catch((e: unknown) => e);
    expect(isAppError(error) && error.reasonCode).toBe('INPUT_INVALID');
    expect(String(error)).toMatch(/evidence PLANNED of chg-1 is \d+ bytes/);
    expect(sent).toBe(0);
    await outbox.append({ changeId: 'chg-1', type: 'PLANNED', actor: 'test', policyVersion: 'v1', data: { blob: 'x'.repeat(1000) } });
    expect(sent).toBe(1);
  });
});

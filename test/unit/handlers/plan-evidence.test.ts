import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { SQSClient } from '@aws-sdk/client-sqs';
import { plannedParts, PLANNED_PART_BYTES } from '../../../lambdas/handlers/core/plan-evidence.js';
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

describe('EvidenceOutbox refuses a draft no evidence item can hold', () => {
  it('throws INPUT_INVALID naming the event and sends nothing', async () => {
    let sent = 0;
    const sqs = { send: async () => { sent += 1; return {}; } } as unknown as SQSClient;
    const outbox = new EvidenceOutbox(sqs, 'https://sqs.example/queue.fifo', { written: async () => undefined });
    const error = await outbox.append({ changeId: 'chg-1', type: 'PLANNED', actor: 'test', policyVersion: 'v1', data: { blob: 'x'.repeat(MAX_DRAFT_BYTES) } }).catch((e: unknown) => e);
    expect(isAppError(error) && error.reasonCode).toBe('INPUT_INVALID');
    expect(String(error)).toMatch(/evidence PLANNED of chg-1 is \d+ bytes/);
    expect(sent).toBe(0);
    await outbox.append({ changeId: 'chg-1', type: 'PLANNED', actor: 'test', policyVersion: 'v1', data: { blob: 'x'.repeat(1000) } });
    expect(sent).toBe(1);
  });
});

import { Logger } from '@aws-lambda-powertools/logger';
import { describe, expect, it } from 'vitest';
import { changeIdForEvent, triggerContentHash, type GovernanceEvent } from '../../../lambdas/domain/events.js';
import { ingestEvent, type ExecutionStarter } from '../../../lambdas/handlers/ingest.js';
import type { ChangeRecord } from '../../../lambdas/stores/change-store.js';
import { providerEvent } from '../../support/signals.js';

const ARN = 'arn:aws:states:us-east-1:123456789012:stateMachine:nhigov-change';
const CONTEXT = { workflowRoleArns: [] };

/** Step Functions as ingest sees it; each change record is stamped with the time Plan started it. */
function fakeStack(plannedAt: () => string, historySince = '2026-07-01T00:00:00.000Z') {
  const records = new Map<string, ChangeRecord>();
  const start: ExecutionStarter = async ({ name, input }) => {
    const duplicate = records.has(name);
    if (!duplicate) {
      const { event } = JSON.parse(input) as { event: GovernanceEvent };
      records.set(name, { changeId: name, kind: 'change', status: 'PLANNED', trigger: event.detailType, eventId: event.id, contentHash: triggerContentHash(event), createdAt: plannedAt(), updatedAt: plannedAt() });
    }
    return { executionArn: `${ARN}:${name}`, duplicate };
  };
  return { rt: { logger: new Logger({ serviceName: 'test', logLevel: 'SILENT' }), changes: { get: async (id: string) => records.get(id) }, trail: { hasEventAboutBefore: async (_nhi: string, before: string) => historySince < before } }, start, records };
}

const callAt = (time: string) => providerEvent('cloudTrail', { '2026-07-01T12:00:03Z': time });

describe('ingest of CloudTrail writes', () => {
  it('starts one reconcile for the calls of one NHI its plan came after, and the next one for a call it may have missed', async () => {
    let clock = '2026-07-01T12:00:06.000Z';
    const { rt, start, records } = fakeStack(() => clock);
    const first = await ingestEvent(rt, callAt('2026-07-01T12:00:03Z'), ARN, start, CONTEXT);
    // Delivered again: the same change (its plan came after the call, beyond the clock slack).
    const again = await ingestEvent(rt, callAt('2026-07-01T12:00:03Z'), ARN, start, CONTEXT);
    expect(again).toEqual(first.outcome === 'started' ? { outcome: 'started', changes: [{ ...first.changes[0], duplicate: true }] } : first);
    expect(records.size).toBe(1);
    // A call in the same window after the reconcile read the state: a follow-up, shared by the calls it covers.
    clock = '2026-07-01T12:00:11.000Z';
    const missed = await ingestEvent(rt, callAt('2026-07-01T12:00:08Z'), ARN, start, CONTEXT);
    const base = first.outcome === 'started' ? first.changes[0]?.changeId : '';
    const followUp = missed.outcome === 'started' ? missed.changes[0] : undefined;
    expect(followUp).toMatchObject({ duplicate: false });
    expect(followUp?.changeId).not.toBe(base);
    expect(followUp?.changeId).toBe(changeIdForEvent('cloudtrail:example-user:2026-07-01T12:00:00.000Z+'));
    expect(records.size).toBe(2);
    const redelivered = await ingestEvent(rt, callAt('2026-07-01T12:00:08Z'), ARN, start, CONTEXT);
    expect(redelivered.outcome === 'started' && redelivered.changes[0]).toMatchObject({ changeId: followUp?.changeId, duplicate: true });
    expect(records.size).toBe(2);
  });

  it('starts nothing for an NHI the workflow had not acted on before the call: setting an NHI up is not drift', async () => {
    const { rt, start, records } = fakeStack(() => '2026-07-01T12:00:06.000Z', '2026-07-01T12:00:05.000Z');
    const verdict = await ingestEvent(rt, callAt('2026-07-01T12:00:03Z'), ARN, start, CONTEXT);
    expect(verdict).toEqual({ outcome: 'ignored', reason: 'CloudTrail write to example-user: no change had acted on it before the call, nothing held to restore' });
    expect(records.size).toBe(0);
    const later = await ingestEvent(rt, callAt('2026-07-01T12:00:07Z'), ARN, start, CONTEXT);
    expect(later.outcome).toBe('started');
    expect(records.size).toBe(1);
  });
});

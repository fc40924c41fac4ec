import { Logger } from '@aws-lambda-powertools/logger';
import type { SQSRecord } from 'aws-lambda';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { changeIdForEvent, triggerContentHash, type GovernanceEvent } from '../../../lambdas/domain/events.js';
import { EventIdReusedError, handler, ingestEvent, type ExecutionStarter } from '../../../lambdas/handlers/ingest.js';
import type { ChangeRecord } from '../../../lambdas/stores/change-store.js';
import { providerEvent } from '../../support/signals.js';

const ARN = 'arn:aws:states:us-east-1:123456789012:stateMachine:nhigov-change';
const termination = (email: string) => ({ id: 'hr-7', source: 'hr.system', 'detail-type': 'Employee Terminated', detail: { employeeId: 'E7', email } });

/** Step Functions as ingest sees it: a name starts once; the change record appears when Plan runs. */
function fakeStack() {
  const records = new Map<string, ChangeRecord>();
  const started = new Set<string>();
  const start: ExecutionStarter = async ({ name, input }) => {
    const duplicate = started.has(name);
    if (!duplicate) {
      started.add(name);
      const { event } = JSON.parse(input) as { event: GovernanceEvent };
      records.set(name, { changeId: name, kind: 'change', status: 'PLANNED', trigger: event.detailType, eventId: event.id, contentHash: triggerContentHash(event), createdAt: 'now', updatedAt: 'now' });
    }
    return { executionArn: `${ARN}:${name}`, duplicate };
  };
  const rt = { logger: new Logger({ serviceName: 'test', logLevel: 'SILENT' }), changes: { get: async (id: string) => records.get(id) }, trail: { hasEventAboutBefore: async () => false } };
  return { rt, start, records };
}

describe('ingestEvent', () => {
  afterEach(() => vi.restoreAllMocks());

  it('starts one change per trigger: a Health event with two keys is two changes', async () => {
    vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    const { rt, start } = fakeStack();
    const event = providerEvent('health', { ACCESS_KEY_ID_HERE: 'AKIAEXAMPLEKEY000001' }, (e) => {
      e.detail.affectedEntities = [{ entityValue: 'AKIAEXAMPLEKEY000001' }, { entityValue: 'AKIAEXAMPLEKEY000002' }];
    });
    const verdict = await ingestEvent(rt, event, ARN, start);
    expect(verdict.outcome === 'started' && verdict.changes.map((c) => c.duplicate)).toEqual([false, false]);
  });

  it('the same content delivered twice starts one change', async () => {
    const { rt, start } = fakeStack();
    const first = await ingestEvent(rt, termination('dave@example.com'), ARN, start);
    const again = await ingestEvent(rt, termination('DAVE@example.com'), ARN, start);
    expect(first).toEqual({ outcome: 'started', changes: [expect.objectContaining({ changeId: changeIdForEvent('hr-7'), duplicate: false })] });
    expect(again).toEqual({ outcome: 'started', changes: [expect.objectContaining({ changeId: changeIdForEvent('hr-7'), duplicate: true })] });
  });

  it('refuses an event id already used for different content, naming the earlier change (the handler fails it: SQS dead-letters it)', async () => {
    const { rt, start } = fakeStack();
    await ingestEvent(rt, termination('dave@example.com'), ARN, start);
    const refused = ingestEvent(rt, termination('erin@example.com'), ARN, start);
    await expect(refused).rejects.toBeInstanceOf(EventIdReusedError);
    await expect(refused).rejects.toThrow(`event id hr-7 was already used for different content by change ${changeIdForEvent('hr-7')}`);
  });

  it('records an event that calls for nothing as ignored, with why; a malformed one as INPUT_INVALID', async () => {
    const write = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    const { rt, start, records } = fakeStack();
    const other = providerEvent('health', {}, (e) => (e.detail.eventTypeCode = 'AWS_RISK_IAM_QUARANTINE'));
    expect(await ingestEvent(rt, other, ARN, start)).toEqual({ outcome: 'ignored', reason: 'AWS Health event AWS_RISK_IAM_QUARANTINE is not an exposed credential' });
    expect(write.mock.calls.map(([chunk]) => String(chunk)).join('')).toContain('"EventIgnored"');
    expect(await ingestEvent(rt, { ...termination('x'), id: 'hr-8' }, ARN, start)).toMatchObject({ outcome: 'invalid', reasonCode: 'INPUT_INVALID' });
    expect(records.size).toBe(0);
  });

  it('the handler hands a batch back unprocessed when too little time is left for a start, instead of timing out with the whole batch', async () => {
    const logged = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    for (const table of ['EVIDENCE', 'CHANGES', 'ACTIONS', 'PLANS', 'POLICIES']) vi.stubEnv(`NHIGOV_TABLE_${table}`, table.toLowerCase());
    vi.stubEnv('NHIGOV_POLICY_PUBLIC_KEY', 'unused');
    vi.stubEnv('NHIGOV_CHANGE_STATE_MACHINE_ARN', ARN);
    const record = (messageId: string, body: string) => ({ messageId, receiptHandle: messageId, body, attributes: {} as SQSRecord['attributes'], messageAttributes: {}, md5OfBody: '', eventSource: 'aws:sqs', eventSourceARN: 'arn:aws:sqs:us-east-1:123456789012:q', awsRegion: 'us-east-1' });
    // Not JSON (dropped when there is time) and a termination (started when there is time): both handed back.
    const out = await handler({ Records: [record('m0', 'not json'), record('m1', JSON.stringify(termination('dave@example.com')))] }, { getRemainingTimeInMillis: () => 4_000 });
    expect(out.batchItemFailures).toEqual([{ itemIdentifier: 'm0' }, { itemIdentifier: 'm1' }]);
    expect(logged.mock.calls.map(([chunk]) => String(chunk)).join('')).toContain('batch handed back unprocessed');
    vi.unstubAllEnvs();
  });
});

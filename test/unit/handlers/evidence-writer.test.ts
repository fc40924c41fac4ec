import type { SQSEvent } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import type { EvidenceHandover } from '../../../lambdas/domain/evidence-handover.js';
import { ChangeMessageVisibilityBatchCommand } from '@aws-sdk/client-sqs';
import { groupByChange, releaserOf, senderRolesOf, writeBatch } from '../../../lambdas/handlers/evidence-writer.js';

type SqsRecord = SQSEvent['Records'][number];

const ROLE = { writeAction: 'AROAWRITEACTION00001', approvalApi: 'AROAAPPROVALAPI00001', complete: 'AROACOMPLETE00000001' } as const;
const SENDERS = senderRolesOf({ 'write-action': ROLE.writeAction, 'approval-api': ROLE.approvalApi, complete: ROLE.complete });
/** SQS's SenderId of a Lambda function: its role's unique id and the session Lambda names after the function. */
const WRITE_ACTION = `${ROLE.writeAction}:nhigov-write-action`;
const APPROVAL_API = `${ROLE.approvalApi}:nhigov-approval-api`;

function record(messageId: string, body: unknown, senderId: string = WRITE_ACTION): SqsRecord {
  return {
    messageId,
    receiptHandle: messageId,
    body: typeof body === 'string' ? body : JSON.stringify(body),
    attributes: { ApproximateReceiveCount: '1', SentTimestamp: '0', SenderId: senderId, ApproximateFirstReceiveTimestamp: '0' },
    messageAttributes: {},
    md5OfBody: '',
    eventSource: 'aws:sqs',
    eventSourceARN: 'arn:aws:sqs:us-east-1:123456789012:nhigov-evidence.fifo',
    awsRegion: 'us-east-1',
  };
}

const draft = (changeId: string, n: number, type = 'WRITTEN') => ({ draftId: `${changeId}-${n}`, draft: { changeId, type, actor: 'test', policyVersion: 'v', data: { n } } });

/** What the writer was asked to write, per change, in order. */
function recordingStore(failing: ReadonlySet<string> = new Set()) {
  const written: Array<[string, string[]]> = [];
  return {
    written,
    write: (changeId: string, handovers: readonly EvidenceHandover[]) => {
      if (failing.has(changeId)) return Promise.reject(new Error('the transaction failed'));
      written.push([changeId, handovers.map((h) => h.draftId)]);
      return Promise.resolve([]);
    },
  };
}

/** The receipt handles released, per call; `fails` makes every release reject. */
function recordingRelease(fails = false) {
  const released: string[][] = [];
  return {
    released,
    release: (records: readonly SqsRecord[]) => {
      released.push(records.map((r) => r.receiptHandle));
      return fails ? Promise.reject(new Error('AccessDenied')) : Promise.resolve();
    },
  };
}

function recordingLog() {
  const lines: Array<{ level: string; message: string; fields: Record<string, unknown> }> = [];
  return {
    lines,
    error: (message: string, fields: Record<string, unknown>) => void lines.push({ level: 'error', message, fields }),
    warn: (message: string, fields: Record<string, unknown>) => void lines.push({ level: 'warn', message, fields }),
  };
}

describe('evidence writer: a batch of the evidence queue', () => {
  it('is grouped by change, each change keeping the order the queue delivered its drafts in', () => {
    const { changes, refused } = groupByChange([record('1', draft('chg-a', 1)), record('2', draft('chg-b', 1)), record('3', draft('chg-a', 2)), record('4', draft('chg-b', 2)), record('5', draft('chg-a', 3))], SENDERS);
    expect(refused).toEqual([]);
    expect(changes.map((c) => [c.changeId, c.items.map((i) => i.record.messageId)])).toEqual([
      ['chg-a', ['1', '3', '5']],
      ['chg-b', ['2', '4']],
    ]);
  });

  it('refuses a message that is not JSON or not a draft (unknown type, missing actor, extra field), and keeps the rest', () => {
    const { changes, refused } = groupByChange(
      [
        record('1', 'not json'),
        record('2', { ...draft('chg-a', 1), draft: { ...draft('chg-a', 1).draft, type: 'FORGED' } }),
        record('3', { draftId: 'x', draft: { changeId: 'chg-a', type: 'WRITTEN', policyVersion: 'v', data: {} } }),
        record('4', { ...draft('chg-a', 2), seq: 1 }),
        record('5', draft('chg-a', 3)),
      ],
      SENDERS,
    );
    expect(refused.map((r) => [r.record.messageId, r.refusal])).toEqual([
      ['1', 'NOT_A_DRAFT'],
      ['2', 'NOT_A_DRAFT'],
      ['3', 'NOT_A_DRAFT'],
      ['4', 'NOT_A_DRAFT'],
    ]);
    expect(changes.map((c) => c.items.map((i) => i.record.messageId))).toEqual([['5']]);
  });
});

describe('evidence writer: who handed each draft over', () => {
  it('refuses a draft type its sender may not hand over: the approval API cannot hand over VERIFIED or COMPLETED', () => {
    const { changes, refused } = groupByChange(
      [record('1', draft('chg-a', 1, 'VERIFIED'), APPROVAL_API), record('2', draft('chg-a', 2, 'COMPLETED'), APPROVAL_API), record('3', draft('chg-a', 3, 'APPROVED'), APPROVAL_API), record('4', draft('chg-a', 4, 'APPROVED'), WRITE_ACTION)],
      SENDERS,
    );
    expect(refused.map((r) => [r.record.messageId, r.refusal, r.sender])).toEqual([
      ['1', 'TYPE_NOT_ALLOWED', 'approval-api'],
      ['2', 'TYPE_NOT_ALLOWED', 'approval-api'],
      ['4', 'TYPE_NOT_ALLOWED', 'write-action'],
    ]);
    expect(refused[0]?.reason).toBe('approval-api may not hand over VERIFIED (draft chg-a-1 of chg-a)');
    expect(changes.map((c) => c.items.map((i) => i.record.messageId))).toEqual([['3']]);
  });

  it('refuses a draft from a sender that is no sending function: an IAM user, the account root, another role, none', () => {
    const senders = ['AIDAEXAMPLEUSER00001', '123456789012', 'AROASOMEOTHERROLE001:nhigov-write-action', ''];
    const { changes, refused } = groupByChange(
      senders.map((senderId, i) => record(String(i), draft('chg-a', i, 'COMPLETED'), senderId)),
      SENDERS,
    );
    expect(changes).toEqual([]);
    expect(refused.map((r) => [r.refusal, r.senderId, r.sender])).toEqual(senders.map((senderId) => ['SENDER_UNKNOWN', senderId, undefined]));
  });

  it('takes the role id of the SenderId, whatever the session: the role is the function', () => {
    const { changes, refused } = groupByChange([record('1', draft('chg-a', 1, 'COMPLETED'), `${ROLE.complete}:any-session-name`)], SENDERS);
    expect(refused).toEqual([]);
    expect(changes.map((c) => c.changeId)).toEqual(['chg-a']);
  });

  it('writes the drafts of a change around its refused one in order, reports only the refused one failed, and logs why and who', async () => {
    const store = recordingStore();
    const log = recordingLog();
    const releases = recordingRelease();
    const out = await writeBatch(
      [
        record('forged', draft('chg-a', 0, 'VERIFIED'), APPROVAL_API),
        record('a1', draft('chg-a', 1, 'WRITE_ATTEMPTED')),
        record('b1', draft('chg-b', 1)),
        record('a2', draft('chg-a', 2, 'WRITTEN')),
        record('root', draft('chg-b', 9, 'COMPLETED'), '123456789012'),
      ],
      SENDERS,
      store,
      log,
      releases.release,
    );
    expect(out.batchItemFailures).toEqual([{ itemIdentifier: 'forged' }, { itemIdentifier: 'root' }]);
    // Released at once, in one call: each would be refused on every delivery, and holds up its change's message group meanwhile.
    expect(releases.released).toEqual([['forged', 'root']]);
    expect(store.written).toEqual([
      ['chg-a', ['chg-a-1', 'chg-a-2']],
      ['chg-b', ['chg-b-1']],
    ]);
    expect(log.lines.map((l) => [l.level, l.message, l.fields.refusal, l.fields.senderId, l.fields.sender])).toEqual([
      ['error', 'evidence draft refused (INPUT_INVALID)', 'TYPE_NOT_ALLOWED', APPROVAL_API, 'approval-api'],
      ['error', 'evidence draft refused (INPUT_INVALID)', 'SENDER_UNKNOWN', '123456789012', undefined],
    ]);
  });

  it('reports every draft of a change it could not write as failed, and the refused ones, so the queue delivers both again', async () => {
    const store = recordingStore(new Set(['chg-a']));
    const releases = recordingRelease();
    const out = await writeBatch([record('a1', draft('chg-a', 1)), record('forged', draft('chg-b', 1, 'COMPLETED'), APPROVAL_API), record('a2', draft('chg-a', 2))], SENDERS, store, recordingLog(), releases.release);
    expect(out.batchItemFailures.map((f) => f.itemIdentifier).sort()).toEqual(['a1', 'a2', 'forged']);
    expect(store.written).toEqual([]);
    // Only the refused record is released: a draft that could not be written waits its visibility timeout, as a retry should.
    expect(releases.released).toEqual([['forged']]);
  });

  it('releases nothing when nothing is refused', async () => {
    const releases = recordingRelease();
    await writeBatch([record('a1', draft('chg-a', 1))], SENDERS, recordingStore(), recordingLog(), releases.release);
    expect(releases.released).toEqual([]);
  });

  it('still writes and reports the batch when the release fails, and says the refused drafts wait their visibility timeout', async () => {
    const store = recordingStore();
    const log = recordingLog();
    const out = await writeBatch([record('forged', draft('chg-a', 0, 'VERIFIED'), APPROVAL_API), record('a1', draft('chg-a', 1))], SENDERS, store, log, recordingRelease(true).release);
    expect(out.batchItemFailures).toEqual([{ itemIdentifier: 'forged' }]);
    expect(store.written).toEqual([['chg-a', ['chg-a-1']]]);
    expect(log.lines.at(-1)).toMatchObject({ level: 'warn', message: expect.stringContaining('not released'), fields: { drafts: 1, error: 'Error: AccessDenied' } });
  });

  it('releases at most ten receipt handles per ChangeMessageVisibilityBatch (the SQS limit), each to visibility 0, and fails when SQS keeps one hidden', async () => {
    const calls: ChangeMessageVisibilityBatchCommand[] = [];
    const sqs = {
      send: (command: ChangeMessageVisibilityBatchCommand) => {
        calls.push(command);
        return Promise.resolve({ Successful: [], Failed: calls.length === 3 ? [{ Id: '0', Code: 'ReceiptHandleIsInvalid', SenderFault: true }] : [], $metadata: {} });
      },
    };
    const records = Array.from({ length: 23 }, (_, i) => record(`m${i}`, draft('chg-a', i)));
    await expect(releaserOf(sqs, 'https://sqs.example/q.fifo')(records)).rejects.toThrow(/kept 1 of 3 hidden: ReceiptHandleIsInvalid/);
    expect(calls.map((c) => c.input.Entries?.length)).toEqual([10, 10, 3]);
    expect(calls.flatMap((c) => c.input.Entries ?? []).map((e) => [e.ReceiptHandle, e.VisibilityTimeout])).toEqual(records.map((r) => [r.receiptHandle, 0]));
    expect(calls.every((c) => c.input.QueueUrl === 'https://sqs.example/q.fifo')).toBe(true);
  });
});

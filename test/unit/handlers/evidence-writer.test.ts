import type { SQSEvent } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { groupByChange } from '../../../lambdas/handlers/evidence-writer.js';

type SqsRecord = SQSEvent['Records'][number];

function record(messageId: string, body: unknown): SqsRecord {
  return {
    messageId,
    receiptHandle: messageId,
    body: typeof body === 'string' ? body : JSON.stringify(body),
    attributes: { ApproximateReceiveCount: '1', SentTimestamp: '0', SenderId: 'test', ApproximateFirstReceiveTimestamp: '0' },
    messageAttributes: {},
    md5OfBody: '',
    eventSource: 'aws:sqs',
    eventSourceARN: 'arn:aws:sqs:us-east-1:123456789012:nhigov-evidence.fifo',
    awsRegion: 'us-east-1',
  };
}

const draft = (changeId: string, n: number) => ({ draftId: `${changeId}-${n}`, draft: { changeId, type: 'WRITTEN', actor: 'test', policyVersion: 'v', data: { n } } });

describe('evidence writer: a batch of the evidence queue', () => {
  it('is grouped by change, each change keeping the order the queue delivered its drafts in', () => {
    const { changes, refused } = groupByChange([record('1', draft('chg-a', 1)), record('2', draft('chg-b', 1)), record('3', draft('chg-a', 2)), record('4', draft('chg-b', 2)), record('5', draft('chg-a', 3))]);
    expect(refused).toEqual([]);
    expect(changes.map((c) => [c.changeId, c.items.map((i) => i.record.messageId)])).toEqual([
      ['chg-a', ['1', '3', '5']],
      ['chg-b', ['2', '4']],
    ]);
  });

  it('refuses a message that is not JSON or not a draft (unknown type, missing actor, extra field), and keeps the rest', () => {
    const { changes, refused } = groupByChange([
      record('1', 'not json'),
      record('2', { ...draft('chg-a', 1), draft: { ...draft('chg-a', 1).draft, type: 'FORGED' } }),
      record('3', { draftId: 'x', draft: { changeId: 'chg-a', type: 'WRITTEN', policyVersion: 'v', data: {} } }),
      record('4', { ...draft('chg-a', 2), seq: 1 }),
      record('5', draft('chg-a', 3)),
    ]);
    expect(refused.map((r) => r.record.messageId)).toEqual(['1', '2', '3', '4']);
    expect(changes.map((c) => c.items.map((i) => i.record.messageId))).toEqual([['5']]);
  });
});

import { QueryCommand, TransactWriteCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { describe, expect, it } from 'vitest';
import { verifyChain } from '../../../lambdas/domain/evidence.js';
import { EvidenceWriter } from '../../../lambdas/stores/evidence-writer.js';

/** A table that records each transaction's puts, and answers the head query of an empty chain. */
function recordingTable(): { db: DynamoDBDocumentClient; transactions: Array<Array<Record<string, unknown>>> } {
  const transactions: Array<Array<Record<string, unknown>>> = [];
  const send = async (command: unknown): Promise<unknown> => {
    if (command instanceof QueryCommand) return { Items: [] };
    if (command instanceof TransactWriteCommand) {
      transactions.push((command.input.TransactItems ?? []).map((entry) => entry.Put?.Item ?? {}));
      return {};
    }
    throw new Error(`unexpected command ${String(command)}`);
  };
  return { db: { send } as unknown as DynamoDBDocumentClient, transactions };
}

const handovers = (changeId: string, count: number, bytes: number) =>
  Array.from({ length: count }, (_, i) => ({ draftId: `${changeId}-${i}`, draft: { changeId, type: 'WRITTEN' as const, actor: 'test', policyVersion: 'v', data: { i, pad: 'x'.repeat(bytes) } } }));

describe("EvidenceWriter: one transaction per batch, within DynamoDB's limits", () => {
  it('puts a batch in one transaction, each put conditional on the seq being free', async () => {
    const { db, transactions } = recordingTable();
    const written = await new EvidenceWriter(db, 'evidence').write('chg-1', handovers('chg-1', 10, 10));
    expect(transactions.map((t) => t.length)).toEqual([10]);
    expect(written.map((e) => e.seq)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(verifyChain(written)).toEqual({ ok: true, events: 10 });
  });

  it('splits at 100 puts and at 3.5 MiB of items, and the chain runs on across the transactions', async () => {
    const { db, transactions } = recordingTable();
    const writer = new EvidenceWriter(db, 'evidence');
    const small = await writer.write('chg-2', handovers('chg-2', 150, 10));
    expect(transactions.map((t) => t.length)).toEqual([100, 50]);
    const large = await writer.write('chg-3', handovers('chg-3', 12, 340 * 1024));
    expect(transactions.slice(2).map((t) => t.length)).toEqual([10, 2]);
    for (const t of transactions) expect(t.reduce((n, item) => n + Buffer.byteLength(JSON.stringify(item)), 0)).toBeLessThanOrEqual(3.5 * 1024 * 1024);
    expect(verifyChain(small)).toEqual({ ok: true, events: 150 });
    expect(verifyChain(large)).toEqual({ ok: true, events: 12 });
  });
});

import { Logger } from '@aws-lambda-powertools/logger';
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { z } from 'zod';
import { evidenceHandoverSchema, type EvidenceHandover } from '../domain/evidence-handover.js';
import { formatIssues } from '../domain/events.js';
import { AppError } from '../domain/reasons.js';
import { createDocumentClient } from '../stores/dynamo.js';
import { EvidenceWriter } from '../stores/evidence-writer.js';

const envSchema = z.object({ NHIGOV_TABLE_EVIDENCE: z.string().min(1) });

type SqsRecord = SQSEvent['Records'][number];

/** The drafts of one change in the order the queue delivered them, with the records they came in. */
export interface ChangeBatch {
  readonly changeId: string;
  readonly items: Array<{ readonly record: SqsRecord; readonly handover: EvidenceHandover }>;
}

/**
 * Groups a batch of the evidence queue by change, keeping the delivery order. A record that does
 * not parse is refused, with the reason: it is never written, and ends in the dead-letter queue.
 */
export function groupByChange(records: readonly SqsRecord[]): { readonly changes: ChangeBatch[]; readonly refused: Array<{ readonly record: SqsRecord; readonly reason: string }> } {
  const byChange = new Map<string, ChangeBatch>();
  const refused: Array<{ record: SqsRecord; reason: string }> = [];
  for (const record of records) {
    let raw: unknown;
    try {
      raw = JSON.parse(record.body);
    } catch {
      refused.push({ record, reason: 'not JSON' });
      continue;
    }
    const parsed = evidenceHandoverSchema.safeParse(raw);
    if (!parsed.success) {
      refused.push({ record, reason: formatIssues(parsed.error) });
      continue;
    }
    const { changeId } = parsed.data.draft;
    const batch = byChange.get(changeId) ?? { changeId, items: [] };
    batch.items.push({ record, handover: parsed.data });
    byChange.set(changeId, batch);
  }
  return { changes: [...byChange.values()], refused };
}

let writer: EvidenceWriter | undefined;
const logger = new Logger({ serviceName: 'nhi-governor' });

function evidenceWriter(): EvidenceWriter {
  if (writer) return writer;
  const env = envSchema.safeParse(process.env);
  if (!env.success) throw new AppError('INPUT_INVALID', `evidence-writer configuration is incomplete: ${formatIssues(env.error)}`);
  writer = new EvidenceWriter(createDocumentClient(), env.data.NHIGOV_TABLE_EVIDENCE);
  return writer;
}

/**
 * The evidence queue's consumer, the only function whose role may put evidence items. Changes of
 * one batch are written side by side; a change whose drafts could not all be written reports them
 * (and so every later draft of it) as failed, and the queue delivers them again in order.
 */
export const handler = async (event: SQSEvent): Promise<SQSBatchResponse> => {
  const store = evidenceWriter();
  const { changes, refused } = groupByChange(event.Records);
  for (const { record, reason } of refused) logger.error('evidence draft refused (INPUT_INVALID)', { messageId: record.messageId, reason });
  const failed = await Promise.all(
    changes.map(async ({ changeId, items }) => {
      try {
        await store.write(changeId, items.map((i) => i.handover));
        return [];
      } catch (error) {
        logger.warn('evidence not written; the queue delivers it again', { changeId, drafts: items.length, error: String(error) });
        return items.map((i) => ({ itemIdentifier: i.record.messageId }));
      }
    }),
  );
  return { batchItemFailures: [...refused.map(({ record }) => ({ itemIdentifier: record.messageId })), ...failed.flat()] };
};

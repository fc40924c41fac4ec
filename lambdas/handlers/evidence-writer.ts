import { Logger } from '@aws-lambda-powertools/logger';
import { ChangeMessageVisibilityBatchCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { z } from 'zod';
import { evidenceHandoverSchema, type EvidenceHandover } from '../domain/evidence-handover.js';
import { EVIDENCE_SENDER_NAMES, EVIDENCE_SENDERS_ENV, mayHandOver, senderRoleId, type EvidenceSender } from '../domain/evidence-senders.js';
import { formatIssues } from '../domain/events.js';
import { AppError } from '../domain/reasons.js';
import { createDocumentClient } from '../stores/dynamo.js';
import { EvidenceWriter } from '../stores/evidence-writer.js';

const senderRolesSchema = z.partialRecord(z.enum(EVIDENCE_SENDER_NAMES), z.string().min(1));

const envSchema = z.object({
  NHIGOV_TABLE_EVIDENCE: z.string().min(1),
  /** The evidence queue itself: refused drafts are made visible again at once (releaseRefused). */
  NHIGOV_EVIDENCE_QUEUE_URL: z.string().min(1),
  [EVIDENCE_SENDERS_ENV]: z
    .string()
    .transform((text, ctx): unknown => {
      try {
        return JSON.parse(text);
      } catch {
        ctx.addIssue({ code: 'custom', message: 'is not JSON' });
        return z.NEVER;
      }
    })
    .pipe(senderRolesSchema),
});

type SqsRecord = SQSEvent['Records'][number];

/** The function of each sender role id, from the writer's environment ({functionName: roleId}). */
export type SenderRoles = ReadonlyMap<string, EvidenceSender>;

export function senderRolesOf(byFunction: Partial<Record<EvidenceSender, string>>): SenderRoles {
  return new Map(
    EVIDENCE_SENDER_NAMES.flatMap((sender) => {
      const roleId = byFunction[sender];
      return roleId === undefined ? [] : [[roleId, sender] as const];
    }),
  );
}

/** Why a record is never written: not a draft, sent by no known function, or a type its sender may not hand over. */
export type Refusal = 'NOT_A_DRAFT' | 'SENDER_UNKNOWN' | 'TYPE_NOT_ALLOWED';

export interface RefusedRecord {
  readonly record: SqsRecord;
  readonly refusal: Refusal;
  readonly reason: string;
  /** SQS's SenderId of the message, and the function it names, if any. */
  readonly senderId: string;
  readonly sender?: EvidenceSender;
}

/** The drafts of one change in the order the queue delivered them, with the records they came in. */
export interface ChangeBatch {
  readonly changeId: string;
  readonly items: Array<{ readonly record: SqsRecord; readonly handover: EvidenceHandover }>;
}

/**
 * Groups a batch of the evidence queue by change, keeping the delivery order. A record that does
 * not parse, whose sender is not a function that may hand drafts over, or whose draft type its
 * sender may not hand over, is refused with the reason: it is never written, and ends in the
 * dead-letter queue. A refusal depends only on the message (its body and SenderId), so every
 * delivery of it is refused: the drafts of its change after it are written without it, in order.
 */
export function groupByChange(records: readonly SqsRecord[], senders: SenderRoles): { readonly changes: ChangeBatch[]; readonly refused: RefusedRecord[] } {
  const byChange = new Map<string, ChangeBatch>();
  const refused: RefusedRecord[] = [];
  for (const record of records) {
    const senderId = record.attributes.SenderId ?? '';
    const sender = senders.get(senderRoleId(senderId));
    if (!sender) {
      refused.push({ record, refusal: 'SENDER_UNKNOWN', reason: `sender ${senderId || '(none)'} is not a function that may hand evidence over`, senderId });
      continue;
    }
    let raw: unknown;
    try {
      raw = JSON.parse(record.body);
    } catch {
      refused.push({ record, refusal: 'NOT_A_DRAFT', reason: 'not JSON', senderId, sender });
      continue;
    }
    const parsed = evidenceHandoverSchema.safeParse(raw);
    if (!parsed.success) {
      refused.push({ record, refusal: 'NOT_A_DRAFT', reason: formatIssues(parsed.error), senderId, sender });
      continue;
    }
    const { changeId, type } = parsed.data.draft;
    if (!mayHandOver(sender, type)) {
      refused.push({ record, refusal: 'TYPE_NOT_ALLOWED', reason: `${sender} may not hand over ${type} (draft ${parsed.data.draftId} of ${changeId})`, senderId, sender });
      continue;
    }
    const batch = byChange.get(changeId) ?? { changeId, items: [] };
    batch.items.push({ record, handover: parsed.data });
    byChange.set(changeId, batch);
  }
  return { changes: [...byChange.values()], refused };
}

/** Makes records visible on the queue again at once (their receipt handles). */
export type ReleaseRecords = (records: readonly SqsRecord[]) => Promise<void>;

/**
 * One batch: the refused records and the changes whose drafts could not all be written are
 * reported as failed (the queue delivers them again, in order, and a record failed on every
 * delivery moves to the dead-letter queue); the other changes are written side by side.
 *
 * A refusal depends only on the message, so waiting a visibility timeout (an hour in AWS) before
 * each of its deliveries gains nothing, and on a FIFO queue it holds up its message group, the
 * change it names: refused records are released at once, and reach the dead-letter queue after
 * their deliveries in seconds. A release that fails only costs that wait.
 */
export async function writeBatch(records: readonly SqsRecord[], senders: SenderRoles, store: Pick<EvidenceWriter, 'write'>, log: Pick<Logger, 'error' | 'warn'>, release: ReleaseRecords): Promise<SQSBatchResponse> {
  const { changes, refused } = groupByChange(records, senders);
  for (const { record, refusal, reason, senderId, sender } of refused) {
    log.error('evidence draft refused (INPUT_INVALID)', { messageId: record.messageId, refusal, reason, senderId, ...(sender ? { sender } : {}) });
  }
  if (refused.length > 0) {
    await release(refused.map(({ record }) => record)).catch((error: unknown) => log.warn('refused evidence drafts not released; the queue delivers them after its visibility timeout', { drafts: refused.length, error: String(error) }));
  }
  const failed = await Promise.all(
    changes.map(async ({ changeId, items }) => {
      try {
        await store.write(changeId, items.map((i) => i.handover));
        return [];
      } catch (error) {
        log.warn('evidence not written; the queue delivers it again', { changeId, drafts: items.length, error: String(error) });
        return items.map((i) => ({ itemIdentifier: i.record.messageId }));
      }
    }),
  );
  return { batchItemFailures: [...refused.map(({ record }) => ({ itemIdentifier: record.messageId })), ...failed.flat()] };
}

interface Configuration {
  readonly writer: EvidenceWriter;
  readonly senders: SenderRoles;
  readonly release: ReleaseRecords;
}

let configured: Configuration | undefined;
const logger = new Logger({ serviceName: 'nhi-governor' });

/** Releases records of the evidence queue: visibility 0, ten receipt handles per call (SQS's batch limit). */
export function releaserOf(sqs: Pick<SQSClient, 'send'>, queueUrl: string): ReleaseRecords {
  return async (records) => {
    for (let start = 0; start < records.length; start += 10) {
      const entries = records.slice(start, start + 10).map((record, i) => ({ Id: String(i), ReceiptHandle: record.receiptHandle, VisibilityTimeout: 0 }));
      const out = await sqs.send(new ChangeMessageVisibilityBatchCommand({ QueueUrl: queueUrl, Entries: entries }));
      if ((out.Failed ?? []).length > 0) throw new Error(`SQS kept ${out.Failed?.length} of ${entries.length} hidden: ${out.Failed?.map((f) => f.Code).join(', ')}`);
    }
  };
}

function configuration(): Configuration {
  if (configured) return configured;
  const env = envSchema.safeParse(process.env);
  if (!env.success) throw new AppError('INPUT_INVALID', `evidence-writer configuration is incomplete: ${formatIssues(env.error)}`);
  configured = {
    writer: new EvidenceWriter(createDocumentClient(), env.data.NHIGOV_TABLE_EVIDENCE),
    senders: senderRolesOf(env.data[EVIDENCE_SENDERS_ENV]),
    release: releaserOf(new SQSClient({ useQueueUrlAsEndpoint: false }), env.data.NHIGOV_EVIDENCE_QUEUE_URL),
  };
  return configured;
}

/**
 * The evidence queue's consumer, the only function whose role may put evidence items. Changes of
 * one batch are written side by side; a change whose drafts could not all be written reports them
 * (and so every later draft of it) as failed, and the queue delivers them again in order.
 */
export const handler = async (event: SQSEvent): Promise<SQSBatchResponse> => {
  const { writer, senders, release } = configuration();
  return writeBatch(event.Records, senders, writer, logger, release);
};

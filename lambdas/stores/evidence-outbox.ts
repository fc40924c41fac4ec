import { createHash, randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { SendMessageBatchCommand, SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { EvidenceHandover } from '../domain/evidence-handover.js';
import type { EvidenceDraft, EvidenceEvent } from '../domain/evidence.js';
import { AppError } from '../domain/reasons.js';
import type { EvidenceStore, WrittenSearch } from './evidence-store.js';

/** How `record` waits for the writer; shortened by tests. */
export interface RecordTiming {
  /** Gives up (TARGET_UNAVAILABLE, the workflow retries the step) after this long. */
  readonly deadlineMs: number;
  readonly firstPollMs: number;
  readonly maxPollMs: number;
}

/**
 * Inside every recording handler's Lambda timeout (30 s at least). A poll reads only the events
 * appended since the last one (a key condition), so polling often costs little; at 500 ms the
 * wait for COMPLETED behind a 20-NHI change's 150 events ended on average ~250 ms after it was written.
 */
export const DEFAULT_RECORD_TIMING: RecordTiming = { deadlineMs: 20_000, firstPollMs: 20, maxPollMs: 100 };

/** How far the writer's clock may run behind a sender's: an event is looked for back to this long before its hand-over. */
const CLOCK_SKEW_MS = 60_000;

/** SQS FIFO's de-duplication window: a draft handed over again within it is dropped. */
const FIFO_DEDUPLICATION_MS = 5 * 60_000;

/** SendMessageBatch takes at most 10 entries. */
const SQS_BATCH = 10;

/** The largest draft handed over: its event must fit one DynamoDB item (400 KB) with its seq, hashes and names. */
export const MAX_DRAFT_BYTES = 350 * 1024;

/**
 * How every function but the evidence writer appends evidence: it hands each draft to the writer
 * through the evidence queue (FIFO, one message group per change, so a change's drafts are
 * written in the order they were handed over) and goes on. Parallel branches of a change never
 * wait for each other; only `record` waits, for the one draft it hands over to be on the chain.
 */
export class EvidenceOutbox {
  constructor(
    private readonly sqs: SQSClient,
    /** null: this function was given no evidence queue (capability evidenceAppend), so it may not append. */
    private readonly queueUrl: string | null,
    private readonly store: Pick<EvidenceStore, 'written' | 'headSeq'>,
    private readonly timing: RecordTiming = DEFAULT_RECORD_TIMING,
  ) {}

  /** Hands drafts over, in order; returns once the queue holds them (they are written shortly after). */
  async append(...drafts: EvidenceDraft[]): Promise<void> {
    const handovers = drafts.map((draft): EvidenceHandover => ({ draftId: randomUUID(), draft }));
    await this.handOver(handovers);
  }

  /**
   * Hands one draft over under an id derived from `once` (unique within its change): a retried
   * step hands the same draft over again, which the queue's de-duplication drops, so the event is
   * on the chain once. For the events a change records once, at its end.
   */
  async appendOnce(once: string, draft: EvidenceDraft): Promise<void> {
    await this.handOver([{ draftId: onceId(draft.changeId, once), draft }]);
  }

  /**
   * Hands one draft over and waits until it is on the chain: for what must be recorded before
   * anyone acts on it (a change at rest: completed, awaiting or decided approval; a link on
   * another change's chain before the linking change is checkpointed). Drafts handed over
   * earlier for the same change are on the chain before it. With `once`, as appendOnce: a retried
   * step waits for the draft its first attempt handed over instead of adding another.
   */
  async record(draft: EvidenceDraft, options: { readonly once?: string } = {}): Promise<EvidenceEvent> {
    const handover: EvidenceHandover = { draftId: options.once === undefined ? randomUUID() : onceId(draft.changeId, options.once), draft };
    // A once-only draft may be on the chain from an earlier attempt, within the queue's de-duplication window (after it, the queue takes the draft again).
    const lookBackMs = CLOCK_SKEW_MS + (options.once === undefined ? 0 : FIFO_DEDUPLICATION_MS);
    // A fresh draft's event comes after the head of now: only the events after it are searched.
    const afterSeq = options.once === undefined ? await this.store.headSeq(draft.changeId) : 0;
    let search: WrittenSearch = { afterSeq, notBefore: new Date(Date.now() - lookBackMs).toISOString() };
    await this.handOver([handover]);
    const deadline = Date.now() + this.timing.deadlineMs;
    for (let pollMs = this.timing.firstPollMs; ; pollMs = Math.min(this.timing.maxPollMs, pollMs * 2)) {
      await sleep(pollMs);
      const { event: written, headSeq } = await this.store.written(draft.changeId, handover.draftId, search);
      if (written) return written;
      search = { ...search, afterSeq: headSeq };
      if (Date.now() > deadline) {
        throw new AppError('TARGET_UNAVAILABLE', `evidence ${draft.type} of ${draft.changeId} (draft ${handover.draftId}) was not on the chain ${this.timing.deadlineMs / 1000}s after it was handed over`);
      }
    }
  }

  private async handOver(handovers: readonly EvidenceHandover[]): Promise<void> {
    const QueueUrl = this.queueUrl;
    if (QueueUrl === null) throw new AppError('INPUT_INVALID', 'this function has no evidence queue to hand drafts to (NHIGOV_EVIDENCE_QUEUE_URL; capability evidenceAppend)');
    const oversized = handovers.find((h) => Buffer.byteLength(JSON.stringify(h.draft)) > MAX_DRAFT_BYTES);
    // Refused here, where the step fails and says why, not in the writer, where it would block the change's chain until dead-lettered.
    if (oversized) throw new AppError('INPUT_INVALID', `evidence ${oversized.draft.type} of ${oversized.draft.changeId} is ${Buffer.byteLength(JSON.stringify(oversized.draft))} bytes, over the ${MAX_DRAFT_BYTES} an evidence event may hold`);
    const message = (h: EvidenceHandover) => ({ MessageBody: JSON.stringify(h), MessageGroupId: h.draft.changeId, MessageDeduplicationId: h.draftId });
    if (handovers.length === 1 && handovers[0]) {
      await this.sqs.send(new SendMessageCommand({ QueueUrl, ...message(handovers[0]) }));
      return;
    }
    for (let i = 0; i < handovers.length; i += SQS_BATCH) {
      const batch = handovers.slice(i, i + SQS_BATCH);
      const out = await this.sqs.send(new SendMessageBatchCommand({ QueueUrl, Entries: batch.map((h, n) => ({ Id: String(n), ...message(h) })) }));
      if ((out.Failed ?? []).length > 0) {
        // Entries after a refused one must not go ahead of it: the caller's retry hands them all over again (new ids, new events).
        throw new AppError('TARGET_UNAVAILABLE', `the evidence queue refused ${out.Failed?.length} of ${batch.length} drafts: ${out.Failed?.map((f) => f.Message ?? f.Code).join('; ')}`);
      }
    }
  }
}

/** The draft id of a change's once-only event: the same on every attempt (SQS FIFO de-duplicates by it for five minutes). */
function onceId(changeId: string, once: string): string {
  return createHash('sha256').update(`${changeId}\n${once}`).digest('hex').slice(0, 64);
}

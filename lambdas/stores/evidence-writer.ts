import { TransactWriteCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { EvidenceHandover } from '../domain/evidence-handover.js';
import { GENESIS_HASH, sealEvidence, type EvidenceEvent } from '../domain/evidence.js';
import { AppError } from '../domain/reasons.js';
import { isTransactionConflict } from './dynamo.js';
import { DRAFT_ID_ATTRIBUTE, headItem, toStoredItem } from './evidence-store.js';

/** A chain's last event as the writer knows it: enough to seal the next one onto it. */
interface Head {
  readonly seq: number;
  readonly hash: string;
  readonly draftId: string | undefined;
}

/** A draft sealed onto the chain, and the item that stores it. */
interface SealedDraft {
  readonly event: EvidenceEvent;
  readonly draftId: string;
  readonly item: Record<string, unknown>;
}

/** Heads remembered per change (the changes this writer wrote last); a stale one only costs a re-read. */
const REMEMBERED_HEADS = 2_000;
/** A put that keeps colliding means another writer is on the chain: give up, the batch is retried. */
const MAX_COLLISIONS = 5;
/** DynamoDB's limits on one transaction: 100 actions, 4 MB of items (kept under, as JSON overstates an item's size only slightly). */
const TRANSACTION_ITEMS = 100;
const TRANSACTION_BYTES = 3.5 * 1024 * 1024;

/**
 * The one writer of the evidence table. Each change's drafts arrive in order, one batch at a time
 * (the evidence queue is FIFO, grouped by change), so the writer seals them onto the head it knows
 * (kept from its last write, read once otherwise) and puts them in one transaction, each put with
 * `attribute_not_exists`: one DynamoDB call per batch, and all or nothing, so a writer that dies
 * mid-batch leaves no hole in the chain. A transaction cancelled by a taken seq means the head it
 * knew is stale: it reads the head again and goes on from there, skipping drafts already on the
 * chain (a redelivered batch).
 */
export class EvidenceWriter {
  private readonly heads = new Map<string, Head>();

  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly tableName: string,
    private readonly clock: () => Date = () => new Date(),
  ) {}

  /** Appends one change's drafts, in order; returns the events written (drafts found already on the chain are skipped). */
  async write(changeId: string, handovers: readonly EvidenceHandover[]): Promise<EvidenceEvent[]> {
    const foreign = handovers.find((h) => h.draft.changeId !== changeId);
    if (foreign) throw new AppError('INPUT_INVALID', `draft ${foreign.draftId} of ${foreign.draft.changeId} handed over with the drafts of ${changeId}`);
    try {
      return await this.writeInOrder(changeId, handovers);
    } catch (error) {
      this.heads.delete(changeId);
      throw error;
    }
  }

  private async writeInOrder(changeId: string, handovers: readonly EvidenceHandover[]): Promise<EvidenceEvent[]> {
    let head = this.heads.get(changeId) ?? (await this.readHead(changeId));
    let pending = afterHead(handovers, head);
    const written: EvidenceEvent[] = [];
    let collisions = 0;
    while (pending.length > 0) {
      const sealed = this.sealOnto(head, pending);
      if (await this.putAllNew(sealed)) {
        const last = sealed[sealed.length - 1] as SealedDraft;
        written.push(...sealed.map((s) => s.event));
        head = { seq: last.event.seq, hash: last.event.hash, draftId: last.draftId };
        this.remember(changeId, head);
        pending = pending.slice(sealed.length);
        continue;
      }
      collisions += 1;
      if (collisions > MAX_COLLISIONS) {
        throw new AppError('TARGET_UNAVAILABLE', `evidence of ${changeId}: seq ${(head?.seq ?? 0) + 1} was taken ${collisions} times by another writer`);
      }
      head = await this.readHead(changeId);
      pending = afterHead(pending, head);
    }
    return written;
  }

  /** The next drafts sealed in order onto `head`, as many as one transaction holds. */
  private sealOnto(head: Head | undefined, pending: readonly EvidenceHandover[]): SealedDraft[] {
    const sealed: SealedDraft[] = [];
    let bytes = 0;
    let previous = { seq: head?.seq ?? 0, hash: head?.hash ?? GENESIS_HASH };
    for (const handover of pending.slice(0, TRANSACTION_ITEMS)) {
      const event = sealEvidence(handover.draft, previous.seq + 1, this.clock().toISOString(), previous.hash);
      const item = toStoredItem(event, handover.draftId);
      bytes += Buffer.byteLength(JSON.stringify(item));
      if (sealed.length > 0 && bytes > TRANSACTION_BYTES) break;
      sealed.push({ event, draftId: handover.draftId, item });
      previous = event;
    }
    return sealed;
  }

  /** False when a seq is taken (the transaction is cancelled: nothing of it is written). */
  private async putAllNew(sealed: readonly SealedDraft[]): Promise<boolean> {
    try {
      await this.db.send(
        new TransactWriteCommand({
          TransactItems: sealed.map(({ item }) => ({ Put: { TableName: this.tableName, Item: item, ConditionExpression: 'attribute_not_exists(seq)' } })),
        }),
      );
      return true;
    } catch (error) {
      if (isTransactionConflict(error)) return false;
      throw error;
    }
  }

  private async readHead(changeId: string): Promise<Head | undefined> {
    const item = await headItem(this.db, this.tableName, changeId);
    if (!item) return undefined;
    const { seq, hash } = item;
    const draftId = item[DRAFT_ID_ATTRIBUTE];
    if (typeof seq !== 'number' || typeof hash !== 'string') throw new AppError('TARGET_UNAVAILABLE', `evidence of ${changeId}: the head item has no seq or hash`);
    return { seq, hash, draftId: typeof draftId === 'string' ? draftId : undefined };
  }

  private remember(changeId: string, head: Head): void {
    this.heads.delete(changeId);
    this.heads.set(changeId, head);
    if (this.heads.size > REMEMBERED_HEADS) {
      const oldest = this.heads.keys().next();
      if (!oldest.done) this.heads.delete(oldest.value);
    }
  }
}

/**
 * The drafts not yet on the chain. Drafts of a change are written in order and nothing else
 * writes its chain, so when the head is one of them, it and those before it are written.
 */
function afterHead(handovers: readonly EvidenceHandover[], head: Head | undefined): EvidenceHandover[] {
  const at = head?.draftId === undefined ? -1 : handovers.findIndex((h) => h.draftId === head.draftId);
  return handovers.slice(at + 1);
}

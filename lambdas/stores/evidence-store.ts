import { GetCommand, paginateQuery, paginateScan, PutCommand, QueryCommand, type DynamoDBDocumentClient, type QueryCommandInput } from '@aws-sdk/lib-dynamodb';
import { GENESIS_HASH, sealEvidence, type EvidenceDraft, type EvidenceEvent } from '../domain/evidence.js';
import { AppError } from '../domain/reasons.js';
import { isConditionalCheckFailed } from './dynamo.js';
import { EvidenceSequence } from './evidence-sequence.js';
import { setTimeout as sleep } from 'node:timers/promises';

/** How an append waits its turn; each field can be shortened by tests. */
export interface AppendTiming {
  /**
   * How long the chain may stand still, with our seq not yet reachable, before the seq after its
   * head is taken as abandoned (its writer died between taking the seq and writing) and filled
   * with a SEQ_ABANDONED event. Too short only costs a live but slow writer a new seq.
   */
  readonly stallMs: number;
  /** An append gives up (TARGET_UNAVAILABLE, retried by the workflow) after this long. */
  readonly deadlineMs: number;
  /** The least time per event ahead of us to assume (the pace observed replaces it when slower). */
  readonly perEventMs: number;
}

/** Inside every appending handler's Lambda timeout (60 s at least). */
export const DEFAULT_APPEND_TIMING: AppendTiming = { stallMs: 10_000, deadlineMs: 45_000, perEventMs: 20 };
const MAX_POLL_MS = 1_000;
/** What fills an abandoned seq. */
export const SEQ_FILLER_ACTOR = 'nhi-governor/evidence-store';
/** A time-window query walks one byDay partition per day: refuse windows longer than this. */
export const MAX_WINDOW_DAYS = 366;

export interface TimeWindow {
  /** Inclusive, ISO 8601. */
  readonly from: string;
  /** Inclusive, ISO 8601. */
  readonly to: string;
}

export interface EvidenceTables {
  readonly evidence: string;
  /** Holds the change items whose counter hands out seqs (EvidenceSequence). */
  readonly changes: string;
}

/**
 * Append-only evidence: one item per event, keyed (changeId, seq). A writer takes its seq from
 * the change's counter (EvidenceSequence), waits until the event before it is written, seals its
 * event onto that one's hash and puts it with `attribute_not_exists`. Parallel Map branches of a
 * change thus queue in counter order instead of racing for the head (which starved some writers
 * under load). Nothing here updates or deletes an item.
 */
export class EvidenceStore {
  private readonly sequence: EvidenceSequence;
  private readonly tableName: string;

  constructor(
    private readonly db: DynamoDBDocumentClient,
    tables: EvidenceTables,
    private readonly clock: () => Date = () => new Date(),
    private readonly timing: AppendTiming = DEFAULT_APPEND_TIMING,
  ) {
    this.tableName = tables.evidence;
    this.sequence = new EvidenceSequence(db, tables.changes);
  }

  async append(draft: EvidenceDraft): Promise<EvidenceEvent> {
    const deadline = Date.now() + this.timing.deadlineMs;
    for (let tries = 1; ; tries += 1) {
      const seq = await this.sequence.next(draft.changeId);
      const prev = seq === 1 ? null : await this.awaitPredecessor(draft, seq, deadline);
      if (prev !== 'taken') {
        const event = sealEvidence(draft, seq, this.clock().toISOString(), prev?.hash ?? GENESIS_HASH);
        if (await this.putNew(event)) return event;
      }
      // Our seq was filled as abandoned while we were slow, or the chain predates the counter.
      const head = await this.head(draft.changeId);
      await this.sequence.atLeast(draft.changeId, head?.seq ?? 0);
      if (Date.now() > deadline) {
        throw new AppError('TARGET_UNAVAILABLE', `appending evidence to ${draft.changeId}: ${tries} seqs taken before this writer could use them in ${this.timing.deadlineMs / 1000}s`);
      }
    }
  }

  /**
   * Waits until the chain's head is seq - 1 and returns it; 'taken' when the head is already at
   * or past seq. Fills the seq after the head when the chain stands still longer than stallMs.
   */
  private async awaitPredecessor(draft: EvidenceDraft, seq: number, deadline: number): Promise<EvidenceEvent | 'taken'> {
    const watch = new HeadWatch(this.timing.perEventMs);
    for (;;) {
      const head = await this.head(draft.changeId);
      const headSeq = head?.seq ?? 0;
      if (headSeq === seq - 1 && head) return head;
      if (headSeq >= seq) return 'taken';
      const now = Date.now();
      watch.observe(headSeq, now);
      if (watch.stillSince(now) > this.timing.stallMs) {
        await this.fillAbandoned(draft, head);
        watch.restart(now);
        continue;
      }
      if (now > deadline) {
        throw new AppError('TARGET_UNAVAILABLE', `appending evidence to ${draft.changeId}: seq ${seq} still waits for seq ${seq - 1} after ${this.timing.deadlineMs / 1000}s (head ${headSeq})`);
      }
      // Sleep about as long as the events ahead should take at the pace seen so far: a writer far
      // back in the queue looks a few times, not every few milliseconds.
      const ahead = seq - 1 - headSeq;
      await sleep(Math.min(MAX_POLL_MS, watch.perEventMs(now) * ahead) * (0.5 + Math.random() / 2));
    }
  }

  /** Seals a SEQ_ABANDONED event onto the head; if the late writer (or another filler) wins the seq, nothing is lost. */
  private async fillAbandoned(draft: EvidenceDraft, head: EvidenceEvent | undefined): Promise<void> {
    const seq = (head?.seq ?? 0) + 1;
    const filler: EvidenceDraft = {
      changeId: draft.changeId,
      type: 'SEQ_ABANDONED',
      actor: SEQ_FILLER_ACTOR,
      policyVersion: draft.policyVersion,
      data: { reason: `the writer that took seq ${seq} did not append within ${this.timing.stallMs / 1000}s (it ended, or was too slow and took a new seq)` },
    };
    await this.putNew(sealEvidence(filler, seq, this.clock().toISOString(), head?.hash ?? GENESIS_HASH));
  }

  /** Puts an event whose seq must be free; false when another writer holds the seq. */
  private async putNew(event: EvidenceEvent): Promise<boolean> {
    try {
      await this.db.send(
        new PutCommand({
          TableName: this.tableName,
          Item: { ...event, day: event.at.slice(0, 10) },
          ConditionExpression: 'attribute_not_exists(seq)',
        }),
      );
      return true;
    } catch (error) {
      if (!isConditionalCheckFailed(error)) throw error;
      // The SDK retried our put (a lost reply): the item it collided with may be our own.
      return sdkAttempts(error) > 1 && (await this.at(event.changeId, event.seq))?.hash === event.hash;
    }
  }

  async head(changeId: string): Promise<EvidenceEvent | undefined> {
    const out = await this.db.send(
      new QueryCommand({
        TableName: this.tableName,
        KeyConditionExpression: 'changeId = :c',
        ExpressionAttributeValues: { ':c': changeId },
        ScanIndexForward: false,
        Limit: 1,
        ConsistentRead: true,
      }),
    );
    return out.Items?.[0] ? toEvent(out.Items[0]) : undefined;
  }

  /** One event by position (strongly consistent). */
  async at(changeId: string, seq: number): Promise<EvidenceEvent | undefined> {
    const out = await this.db.send(new GetCommand({ TableName: this.tableName, Key: { changeId, seq }, ConsistentRead: true }));
    return out.Item ? toEvent(out.Item) : undefined;
  }

  /** A change's chain in seq order (strongly consistent). */
  async listByChange(changeId: string): Promise<EvidenceEvent[]> {
    return this.queryAll({
      TableName: this.tableName,
      KeyConditionExpression: 'changeId = :c',
      ExpressionAttributeValues: { ':c': changeId },
      ConsistentRead: true,
    });
  }

  /** Every event about one NHI (GSI byNhi), oldest first, optionally within a window. */
  async listByNhi(nhi: string, window?: TimeWindow): Promise<EvidenceEvent[]> {
    return this.queryAll({
      TableName: this.tableName,
      IndexName: 'byNhi',
      KeyConditionExpression: window ? '#n = :n AND #at BETWEEN :from AND :to' : '#n = :n',
      ExpressionAttributeNames: window ? { '#n': 'nhi', '#at': 'at' } : { '#n': 'nhi' },
      ExpressionAttributeValues: window ? { ':n': nhi, ':from': window.from, ':to': window.to } : { ':n': nhi },
    });
  }

  /** Every event recorded within the window (GSI byDay, one partition per UTC day), oldest first. */
  async listByWindow(window: TimeWindow): Promise<EvidenceEvent[]> {
    const days = daysOf(window);
    const events: EvidenceEvent[] = [];
    for (const day of days) {
      events.push(
        ...(await this.queryAll({
          TableName: this.tableName,
          IndexName: 'byDay',
          KeyConditionExpression: '#d = :d AND #at BETWEEN :from AND :to',
          ExpressionAttributeNames: { '#d': 'day', '#at': 'at' },
          ExpressionAttributeValues: { ':d': day, ':from': window.from, ':to': window.to },
        })),
      );
    }
    return events;
  }

  /** Every chain in the table, each in seq order: what `evidence verify` without a change id reads. */
  async listAllChains(): Promise<Map<string, EvidenceEvent[]>> {
    const chains = new Map<string, EvidenceEvent[]>();
    for await (const page of paginateScan({ client: this.db }, { TableName: this.tableName, ConsistentRead: true })) {
      for (const item of page.Items ?? []) {
        const event = toEvent(item);
        const chain = chains.get(event.changeId) ?? [];
        chain.push(event);
        chains.set(event.changeId, chain);
      }
    }
    for (const chain of chains.values()) chain.sort((a, b) => a.seq - b.seq);
    return chains;
  }

  private async queryAll(input: QueryCommandInput): Promise<EvidenceEvent[]> {
    const events: EvidenceEvent[] = [];
    for await (const page of paginateQuery({ client: this.db }, input)) events.push(...(page.Items ?? []).map(toEvent));
    return events;
  }
}

/** A chain's head as one waiting writer sees it: how fast it moves, and how long it has stood still. */
class HeadWatch {
  private first: { seq: number; at: number } | undefined;
  private last = { seq: -1, at: 0 };

  constructor(private readonly floorMs: number) {}

  observe(headSeq: number, now: number): void {
    this.first ??= { seq: headSeq, at: now };
    if (headSeq !== this.last.seq) this.last = { seq: headSeq, at: now };
  }

  /** How long the head has not moved (or since restart). */
  stillSince(now: number): number {
    return now - this.last.at;
  }

  /** After filling an abandoned seq: the stall clock starts again. */
  restart(now: number): void {
    this.last = { ...this.last, at: now };
  }

  /** Time per event at the pace seen so far (no progress yet: the time waited), at least the floor. */
  perEventMs(now: number): number {
    const first = this.first ?? { seq: this.last.seq, at: now };
    const moved = this.last.seq - first.seq;
    return Math.max(this.floorMs, moved > 0 ? (now - first.at) / moved : now - first.at);
  }
}

/** The UTC days (YYYY-MM-DD) a window touches. */
export function daysOf(window: TimeWindow): string[] {
  const from = Date.parse(window.from);
  const to = Date.parse(window.to);
  if (Number.isNaN(from) || Number.isNaN(to)) throw new AppError('INPUT_INVALID', `time window ${window.from} .. ${window.to} is not ISO 8601`);
  if (to < from) throw new AppError('INPUT_INVALID', `time window ends (${window.to}) before it starts (${window.from})`);
  const days: string[] = [];
  for (let t = Date.UTC(...utcDay(from)); t <= to; t += 86_400_000) {
    days.push(new Date(t).toISOString().slice(0, 10));
    if (days.length > MAX_WINDOW_DAYS) throw new AppError('INPUT_INVALID', `time window spans more than ${MAX_WINDOW_DAYS} days`);
  }
  return days;
}

function utcDay(epochMs: number): [number, number, number] {
  const d = new Date(epochMs);
  return [d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate()];
}

function sdkAttempts(error: unknown): number {
  return (error as { $metadata?: { attempts?: number } }).$metadata?.attempts ?? 1;
}


/** Drops storage-only attributes (the byDay index key) so the event hashes as written. */
function toEvent(item: Record<string, unknown>): EvidenceEvent {
  const { day: _day, ...event } = item;
  return event as unknown as EvidenceEvent;
}

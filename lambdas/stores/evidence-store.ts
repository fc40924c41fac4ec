import { GetCommand, PutCommand, QueryCommand, ScanCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { GENESIS_HASH, sealEvidence, type EvidenceDraft, type EvidenceEvent } from '../domain/evidence.js';
import { AppError } from '../domain/reasons.js';
import { isConditionalCheckFailed } from './dynamo.js';

/**
 * Parallel Map branches (up to the policy's maxConcurrency, at most 40) contend for the next seq
 * of one change; each collision costs one round trip. A writer keeps trying until this deadline
 * (well inside every handler's Lambda timeout) rather than for a fixed count: with 40 contenders
 * a fixed count of rounds can be lost by plain bad luck.
 */
const APPEND_DEADLINE_MS = 30_000;
/** Backoff between collisions: exponential with full jitter, from 5 ms, capped at 200 ms. */
const APPEND_BACKOFF_BASE_MS = 5;
const APPEND_BACKOFF_CAP_MS = 200;
/** A time-window query walks one byDay partition per day: refuse windows longer than this. */
export const MAX_WINDOW_DAYS = 366;

export interface TimeWindow {
  /** Inclusive, ISO 8601. */
  readonly from: string;
  /** Inclusive, ISO 8601. */
  readonly to: string;
}

/**
 * Append-only evidence: one item per event, keyed (changeId, seq). A writer takes the next seq
 * with a conditional put (attribute_not_exists); when a parallel writer took it first, it
 * re-reads the head and tries again, so concurrent Map branches never lose or reorder events.
 * Nothing here updates or deletes an item.
 */
export class EvidenceStore {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly tableName: string,
    private readonly clock: () => Date = () => new Date(),
  ) {}

  async append(draft: EvidenceDraft): Promise<EvidenceEvent> {
    const deadline = Date.now() + APPEND_DEADLINE_MS;
    let attempt = 0;
    for (; attempt === 0 || Date.now() < deadline; attempt += 1) {
      const head = await this.head(draft.changeId);
      const event = sealEvidence(draft, (head?.seq ?? 0) + 1, this.clock().toISOString(), head?.hash ?? GENESIS_HASH);
      try {
        await this.db.send(
          new PutCommand({
            TableName: this.tableName,
            Item: { ...event, day: event.at.slice(0, 10) },
            ConditionExpression: 'attribute_not_exists(seq)',
          }),
        );
        return event;
      } catch (error) {
        if (!isConditionalCheckFailed(error)) throw error;
        // The SDK retried our put (a lost reply): the item it collided with may be our own.
        if (sdkAttempts(error) > 1 && (await this.at(draft.changeId, event.seq))?.hash === event.hash) return event;
        await sleep(Math.random() * Math.min(APPEND_BACKOFF_CAP_MS, APPEND_BACKOFF_BASE_MS * 2 ** Math.min(attempt, 6)));
      }
    }
    throw new AppError('TARGET_UNAVAILABLE', `appending evidence to ${draft.changeId}: the next seq kept being taken by parallel writers (${attempt} attempts in ${APPEND_DEADLINE_MS / 1000}s)`);
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
    let startKey: Record<string, unknown> | undefined;
    do {
      const out = await this.db.send(new ScanCommand({ TableName: this.tableName, ConsistentRead: true, ExclusiveStartKey: startKey }));
      for (const item of out.Items ?? []) {
        const event = toEvent(item);
        const chain = chains.get(event.changeId) ?? [];
        chain.push(event);
        chains.set(event.changeId, chain);
      }
      startKey = out.LastEvaluatedKey;
    } while (startKey);
    for (const chain of chains.values()) chain.sort((a, b) => a.seq - b.seq);
    return chains;
  }

  private async queryAll(input: ConstructorParameters<typeof QueryCommand>[0]): Promise<EvidenceEvent[]> {
    const events: EvidenceEvent[] = [];
    let startKey: Record<string, unknown> | undefined;
    do {
      const out = await this.db.send(new QueryCommand({ ...input, ExclusiveStartKey: startKey }));
      events.push(...(out.Items ?? []).map(toEvent));
      startKey = out.LastEvaluatedKey;
    } while (startKey);
    return events;
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

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Drops storage-only attributes (the byDay index key) so the event hashes as written. */
function toEvent(item: Record<string, unknown>): EvidenceEvent {
  const { day: _day, ...event } = item;
  return event as unknown as EvidenceEvent;
}

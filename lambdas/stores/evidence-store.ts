import { PutCommand, QueryCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { GENESIS_HASH, sealEvidence, type EvidenceDraft, type EvidenceEvent } from '../domain/evidence.js';
import { isConditionalCheckFailed } from './dynamo.js';

const MAX_APPEND_ATTEMPTS = 50;

/**
 * Append-only evidence: one item per event, keyed (changeId, seq). A writer takes the next seq
 * with a conditional put (attribute_not_exists); when a parallel writer took it first, it
 * re-reads the head and tries again, so concurrent Map branches never lose or reorder events.
 */
export class EvidenceStore {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly tableName: string,
    private readonly clock: () => Date = () => new Date(),
  ) {}

  async append(draft: EvidenceDraft): Promise<EvidenceEvent> {
    for (let attempt = 0; attempt < MAX_APPEND_ATTEMPTS; attempt += 1) {
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
        await new Promise((resolve) => setTimeout(resolve, Math.random() * 20 * (attempt + 1)));
      }
    }
    throw new Error(`evidence append for ${draft.changeId} kept colliding after ${MAX_APPEND_ATTEMPTS} attempts`);
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

  async listByChange(changeId: string): Promise<EvidenceEvent[]> {
    const events: EvidenceEvent[] = [];
    let startKey: Record<string, unknown> | undefined;
    do {
      const out = await this.db.send(
        new QueryCommand({
          TableName: this.tableName,
          KeyConditionExpression: 'changeId = :c',
          ExpressionAttributeValues: { ':c': changeId },
          ConsistentRead: true,
          ExclusiveStartKey: startKey,
        }),
      );
      events.push(...(out.Items ?? []).map(toEvent));
      startKey = out.LastEvaluatedKey;
    } while (startKey);
    return events;
  }
}

/** Drops storage-only attributes (the byDay index key) so the event hashes as written. */
function toEvent(item: Record<string, unknown>): EvidenceEvent {
  const { day: _day, ...event } = item;
  return event as unknown as EvidenceEvent;
}

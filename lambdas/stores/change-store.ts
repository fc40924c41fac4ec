import { GetCommand, PutCommand, QueryCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { ChangeStatus } from '../domain/status.js';
import type { ActionStatus } from '../domain/status.js';
import type { ReasonCode } from '../domain/reasons.js';
import { isConditionalCheckFailed } from './dynamo.js';

export interface ActionRecord {
  readonly status: ActionStatus;
  readonly attempts: number;
  readonly reasonCode?: ReasonCode;
  readonly observed?: Record<string, unknown>;
}

/** The index of changes (a projection for listing; evidence is the record). */
export interface ChangeRecord {
  readonly changeId: string;
  /** 'change' | 'rollback': the byKind index lists changes newest first. */
  readonly kind: 'change' | 'rollback';
  readonly status: ChangeStatus;
  readonly trigger: string;
  readonly eventId: string;
  readonly createdAt: string;
  readonly updatedAt: string;
  readonly executionArn?: string;
  readonly planHash?: string;
  readonly policyVersion?: string;
  readonly actionCount?: number;
  readonly reasonCodes?: ReasonCode[];
  readonly actions?: Record<string, ActionRecord>;
  readonly approval?: Record<string, unknown>;
  readonly parentChangeId?: string;
}

export class ChangeStore {
  constructor(private readonly db: DynamoDBDocumentClient, private readonly tableName: string) {}

  /** Creates the change once; a second create for the same id (a redelivery) is a no-op. */
  async create(record: Omit<ChangeRecord, 'updatedAt'>): Promise<boolean> {
    try {
      await this.db.send(
        new PutCommand({ TableName: this.tableName, Item: { ...record, updatedAt: record.createdAt }, ConditionExpression: 'attribute_not_exists(changeId)' }),
      );
      return true;
    } catch (error) {
      if (isConditionalCheckFailed(error)) return false;
      throw error;
    }
  }

  async get(changeId: string): Promise<ChangeRecord | undefined> {
    const out = await this.db.send(new GetCommand({ TableName: this.tableName, Key: { changeId }, ConsistentRead: true }));
    return out.Item as ChangeRecord | undefined;
  }

  async update(changeId: string, fields: Partial<Omit<ChangeRecord, 'changeId' | 'actions'>>): Promise<void> {
    const entries = Object.entries({ ...fields, updatedAt: new Date().toISOString() }).filter(([, v]) => v !== undefined);
    await this.db.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: { changeId },
        UpdateExpression: `SET ${entries.map((_, i) => `#f${i} = :v${i}`).join(', ')}`,
        ExpressionAttributeNames: Object.fromEntries(entries.map(([k], i) => [`#f${i}`, k])),
        ExpressionAttributeValues: Object.fromEntries(entries.map(([, v], i) => [`:v${i}`, v])),
        ConditionExpression: 'attribute_exists(changeId)',
      }),
    );
  }

  /** Records one action's outcome; attempts only grow. */
  async recordAction(changeId: string, actionId: string, record: ActionRecord): Promise<void> {
    await this.db.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: { changeId },
        UpdateExpression: 'SET #a.#id = :r, updatedAt = :now',
        ExpressionAttributeNames: { '#a': 'actions', '#id': actionId },
        ExpressionAttributeValues: { ':r': record, ':now': new Date().toISOString() },
        ConditionExpression: 'attribute_exists(changeId)',
      }),
    );
  }

  /** Changes of `kind` created in [from, to] (ISO times), oldest first, every page. */
  async createdBetween(kind: ChangeRecord['kind'], from: string, to: string): Promise<ChangeRecord[]> {
    const records: ChangeRecord[] = [];
    for await (const page of this.byKind(kind, { KeyConditionExpression: '#k = :k AND createdAt BETWEEN :from AND :to', values: { ':from': from, ':to': to }, ScanIndexForward: true })) {
      records.push(...((page.Items ?? []) as unknown as ChangeRecord[]));
    }
    return records;
  }

  /** How many changes (of every kind) are in `status` now: the open-escalations gauge. */
  async countByStatus(status: ChangeStatus): Promise<number> {
    let count = 0;
    for (const kind of ['change', 'rollback'] as const) {
      for await (const page of this.byKind(kind, { FilterExpression: '#s = :s', names: { '#s': 'status' }, values: { ':s': status }, Select: 'COUNT' })) count += page.Count ?? 0;
    }
    return count;
  }

  /** The newest `limit` changes of `kind`, newest first (across pages). */
  async list(kind: ChangeRecord['kind'] = 'change', limit = 200): Promise<ChangeRecord[]> {
    const records: ChangeRecord[] = [];
    for await (const page of this.byKind(kind, { ScanIndexForward: false })) {
      records.push(...((page.Items ?? []) as unknown as ChangeRecord[]));
      if (records.length >= limit) break;
    }
    return records.slice(0, limit);
  }

  /** Every page of a query on the byKind index (kind, createdAt): the one way this store lists. */
  private async *byKind(
    kind: ChangeRecord['kind'],
    query: {
      KeyConditionExpression?: string;
      FilterExpression?: string;
      names?: Record<string, string>;
      values?: Record<string, unknown>;
      ScanIndexForward?: boolean;
      Select?: 'COUNT';
    },
  ): AsyncGenerator<{ Items?: Record<string, unknown>[]; Count?: number }> {
    let startKey: Record<string, unknown> | undefined;
    do {
      const page = await this.db.send(
        new QueryCommand({
          TableName: this.tableName,
          IndexName: 'byKind',
          KeyConditionExpression: query.KeyConditionExpression ?? '#k = :k',
          ...(query.FilterExpression ? { FilterExpression: query.FilterExpression } : {}),
          ExpressionAttributeNames: { '#k': 'kind', ...query.names },
          ExpressionAttributeValues: { ':k': kind, ...query.values },
          ...(query.ScanIndexForward === undefined ? {} : { ScanIndexForward: query.ScanIndexForward }),
          ...(query.Select ? { Select: query.Select } : {}),
          ExclusiveStartKey: startKey,
        }),
      );
      yield page;
      startKey = page.LastEvaluatedKey;
    } while (startKey);
  }
}

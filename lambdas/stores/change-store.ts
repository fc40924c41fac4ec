import { GetCommand, paginateQuery, paginateScan, PutCommand, UpdateCommand, type DynamoDBDocumentClient, type QueryCommandInput } from '@aws-sdk/lib-dynamodb';
import type { ChangeStatus } from '../domain/status.js';
import { ActionStore } from './action-store.js';
import { toChangeRecord, type ChangeRecord, type ChangeWithActions } from './change-record.js';
import { isConditionalCheckFailed } from './dynamo.js';

export type { ActionRecord, ChangeRecord, ChangeWithActions } from './change-record.js';

type ByKindQuery = Pick<QueryCommandInput, 'KeyConditionExpression' | 'FilterExpression' | 'ScanIndexForward' | 'Select'> & {
  readonly names?: Record<string, string>;
  readonly values?: Record<string, unknown>;
};

export class ChangeStore {
  /** The outcome of each action, items of their own (the actions table). */
  readonly actions: ActionStore;

  constructor(private readonly db: DynamoDBDocumentClient, private readonly tableName: string, actionsTableName: string) {
    this.actions = new ActionStore(db, actionsTableName);
  }

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
    return out.Item ? toChangeRecord(out.Item) : undefined;
  }

  /** The change with each of its actions' outcomes (two reads: the record, then its actions). */
  async getWithActions(changeId: string): Promise<ChangeWithActions | undefined> {
    const [record, actions] = await Promise.all([this.get(changeId), this.actions.ofChange(changeId)]);
    return record ? { ...record, actions } : undefined;
  }

  async update(changeId: string, fields: Partial<Omit<ChangeRecord, 'changeId'>>): Promise<void> {
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

  /**
   * Moves a change to `status` unless it is there already: one conditional write, so the parallel
   * actions of a change that each announce the same status neither read the record first nor
   * write it again.
   */
  async moveTo(changeId: string, status: ChangeRecord['status']): Promise<void> {
    try {
      await this.db.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { changeId },
          UpdateExpression: 'SET #s = :s, updatedAt = :now',
          ExpressionAttributeNames: { '#s': 'status' },
          ExpressionAttributeValues: { ':s': status, ':now': new Date().toISOString() },
          ConditionExpression: 'attribute_exists(changeId) AND #s <> :s',
        }),
      );
    } catch (error) {
      if (!isConditionalCheckFailed(error)) throw error;
    }
  }

  /** Changes of `kind` created in [from, to] (ISO times), oldest first, every page. */
  async createdBetween(kind: ChangeRecord['kind'], from: string, to: string): Promise<ChangeRecord[]> {
    const records: ChangeRecord[] = [];
    for await (const page of this.byKind(kind, { KeyConditionExpression: '#k = :k AND createdAt BETWEEN :from AND :to', values: { ':from': from, ':to': to }, ScanIndexForward: true })) {
      records.push(...(page.Items ?? []).map(toChangeRecord));
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
      records.push(...(page.Items ?? []).map(toChangeRecord));
      if (records.length >= limit) break;
    }
    return records.slice(0, limit);
  }

  /** Every change record of every kind, in no particular order (a strongly consistent scan, every page). */
  async listAll(): Promise<ChangeRecord[]> {
    const records: ChangeRecord[] = [];
    for await (const page of paginateScan({ client: this.db }, { TableName: this.tableName, ConsistentRead: true })) {
      records.push(...(page.Items ?? []).map(toChangeRecord));
    }
    return records;
  }

  /** Every page of a query on the byKind index (kind, createdAt): the one way this store lists by kind. */
  private byKind(kind: ChangeRecord['kind'], query: ByKindQuery) {
    const { names, values, ...rest } = query;
    return paginateQuery(
      { client: this.db },
      {
        TableName: this.tableName,
        IndexName: 'byKind',
        ...rest,
        KeyConditionExpression: query.KeyConditionExpression ?? '#k = :k',
        ExpressionAttributeNames: { '#k': 'kind', ...names },
        ExpressionAttributeValues: { ':k': kind, ...values },
      },
    );
  }
}

import { GetCommand, paginateQuery, paginateScan, PutCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { formatIssues } from '../domain/events.js';
import { AppError } from '../domain/reasons.js';
import { actionRecordSchema, type ActionRecord } from './change-record.js';
import { isConditionalCheckFailed } from './dynamo.js';

/** An action's outcome after its write: everything but the attempts, which the write alone counts. */
export type ActionResult = Omit<ActionRecord, 'attempts'>;

/** Outcomes by change id, then by action id. */
export type ActionsByChange = ReadonlyMap<string, Readonly<Record<string, ActionRecord>>>;

function toActionRecord(item: Record<string, unknown>): ActionRecord {
  const parsed = actionRecordSchema.safeParse(item);
  if (!parsed.success) throw new AppError('INPUT_INVALID', `action record ${String(item.changeId)}/${String(item.actionId)} is malformed: ${formatIssues(parsed.error)}`);
  return parsed.data;
}

/**
 * Each action's outcome, one item per (changeId, actionId): the parallel actions of a change write
 * their own items, so no write grows with the size of the change (one item for every action
 * reached 140 KB at 971 actions, and each of its three updates per action rewrote all of it).
 */
export class ActionStore {
  constructor(private readonly db: DynamoDBDocumentClient, private readonly tableName: string) {}

  /** Records one action's whole record (its attempt count included): the write step owns it. */
  async record(changeId: string, actionId: string, record: ActionRecord): Promise<void> {
    await this.db.send(new PutCommand({ TableName: this.tableName, Item: { ...record, changeId, actionId, updatedAt: new Date().toISOString() } }));
  }

  /**
   * Records an action's outcome without touching its attempt count (verify, rollback settle).
   * An action with no record yet (never written through the workflow) gets one with 1 attempt.
   */
  async recordResult(changeId: string, actionId: string, result: ActionResult): Promise<void> {
    const set = Object.entries(result).filter(([, v]) => v !== undefined);
    const remove = (['reasonCode', 'observed'] as const).filter((field) => result[field] === undefined);
    try {
      await this.db.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { changeId, actionId },
          UpdateExpression: [`SET ${[...set.map(([k]) => `#${k} = :${k}`), 'updatedAt = :now'].join(', ')}`, remove.length > 0 ? `REMOVE ${remove.map((k) => `#${k}`).join(', ')}` : ''].join(' ').trim(),
          ExpressionAttributeNames: Object.fromEntries([...set.map(([k]) => k), ...remove].map((k) => [`#${k}`, k])),
          ExpressionAttributeValues: { ...Object.fromEntries(set.map(([k, v]) => [`:${k}`, v])), ':now': new Date().toISOString() },
          ConditionExpression: 'attribute_exists(changeId)',
        }),
      );
    } catch (error) {
      if (!isConditionalCheckFailed(error)) throw error;
      await this.record(changeId, actionId, { ...result, attempts: 1 });
    }
  }

  /**
   * Starts a write attempt in one call: the action becomes PLANNED with one attempt more, and the
   * record as it was before is returned (undefined for an action never recorded). `refuseIf`: the
   * record is left as it is and `refused` returned when the action is found in that state (a check
   * before writing that could not be made). One conditional update, where a read and a put took two.
   */
  async beginAttempt(changeId: string, actionId: string, refuseIf?: { readonly status: ActionRecord['status']; readonly attempts: number; readonly reasonCode: NonNullable<ActionRecord['reasonCode']> }): Promise<{ readonly previous: ActionRecord | undefined } | 'refused'> {
    try {
      const out = await this.db.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { changeId, actionId },
          UpdateExpression: 'SET #status = :planned, #attempts = if_not_exists(#attempts, :zero) + :one, updatedAt = :now REMOVE #reasonCode, #observed',
          ExpressionAttributeNames: { '#status': 'status', '#attempts': 'attempts', '#reasonCode': 'reasonCode', '#observed': 'observed' },
          ExpressionAttributeValues: {
            ':planned': 'PLANNED',
            ':zero': 0,
            ':one': 1,
            ':now': new Date().toISOString(),
            ...(refuseIf ? { ':refusedStatus': refuseIf.status, ':refusedAttempts': refuseIf.attempts, ':refusedReason': refuseIf.reasonCode } : {}),
          },
          ...(refuseIf ? { ConditionExpression: 'NOT (#status = :refusedStatus AND #attempts = :refusedAttempts AND #reasonCode = :refusedReason)' } : {}),
          ReturnValues: 'ALL_OLD',
        }),
      );
      return { previous: out.Attributes ? toActionRecord(out.Attributes) : undefined };
    } catch (error) {
      if (refuseIf && isConditionalCheckFailed(error)) return 'refused';
      throw error;
    }
  }

  async get(changeId: string, actionId: string): Promise<ActionRecord | undefined> {
    const out = await this.db.send(new GetCommand({ TableName: this.tableName, Key: { changeId, actionId }, ConsistentRead: true }));
    return out.Item ? toActionRecord(out.Item) : undefined;
  }

  /** Every action outcome of one change, by action id (one query, every page). */
  async ofChange(changeId: string): Promise<Record<string, ActionRecord>> {
    const actions: Record<string, ActionRecord> = {};
    const pages = paginateQuery(
      { client: this.db },
      { TableName: this.tableName, KeyConditionExpression: 'changeId = :c', ExpressionAttributeValues: { ':c': changeId }, ConsistentRead: true },
    );
    for await (const page of pages) {
      for (const item of page.Items ?? []) actions[String(item.actionId)] = toActionRecord(item);
    }
    return actions;
  }

  /** Every action outcome of every change (a strongly consistent scan, every page). */
  async all(): Promise<ActionsByChange> {
    const byChange = new Map<string, Record<string, ActionRecord>>();
    for await (const page of paginateScan({ client: this.db }, { TableName: this.tableName, ConsistentRead: true })) {
      for (const item of page.Items ?? []) {
        const changeId = String(item.changeId);
        const actions = byChange.get(changeId) ?? {};
        actions[String(item.actionId)] = toActionRecord(item);
        byChange.set(changeId, actions);
      }
    }
    return byChange;
  }
}

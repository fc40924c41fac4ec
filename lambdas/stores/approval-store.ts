import { GetCommand, PutCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { ApprovalLinkFields } from '../domain/approval-link.js';
import type { ApprovalDecision, ApprovalFacts, ApprovalStatus } from '../domain/approval.js';
import { isConditionalCheckFailed } from './dynamo.js';

/** How long an approval item outlives its deadline (expired links answer 410, not 404). */
export const APPROVAL_RETENTION_SECONDS = 30 * 24 * 3600;
/** Refusals kept on a request after its change ended (a public endpoint must not grow an item without bound). */
export const MAX_LATE_REFUSALS = 50;

export interface ApprovalDecisionRecord {
  readonly decision: ApprovalDecision;
  readonly approver: string;
  readonly channel: ApprovalLinkFields['channel'];
  readonly comment: string;
  readonly decidedAt: string;
  /** The AWS identity that posted the decision, as it says of itself (nhigov approve / the console send it). */
  readonly callerIdentity?: string;
}

/**
 * One approval request. Keyed by the sha256 of the link's approval id (a random nonce): the task
 * token lives here and only here, never in a link, a message or a log.
 */
export interface ApprovalRecord extends ApprovalFacts {
  /** sha256 (hex) of the approval id the links carry. */
  readonly approvalId: string;
  readonly changeId: string;
  readonly planHash: string;
  readonly policyVersion: string;
  readonly taskToken: string;
  readonly afterTheFact: boolean;
  readonly group: string;
  readonly requestedAt: string;
  readonly expiresAt: string;
  /** DynamoDB TTL (epoch seconds). */
  readonly expiresAtEpoch: number;
  readonly decision?: ApprovalDecisionRecord;
  /** Refusals after the change ended: kept here, since a closed evidence chain takes no more events. */
  readonly lateRefusals?: ReadonlyArray<Record<string, unknown>>;
}

export class ApprovalStore {
  constructor(private readonly db: DynamoDBDocumentClient, private readonly tableName: string) {}

  /** Stores a new request once (a random key: a collision is a bug, not a retry). */
  async create(record: ApprovalRecord): Promise<void> {
    await this.db.send(new PutCommand({ TableName: this.tableName, Item: record, ConditionExpression: 'attribute_not_exists(approvalId)' }));
  }

  async get(approvalKey: string): Promise<ApprovalRecord | undefined> {
    const out = await this.db.send(new GetCommand({ TableName: this.tableName, Key: { approvalId: approvalKey }, ConsistentRead: true }));
    return out.Item as ApprovalRecord | undefined;
  }

  /**
   * Single use: moves a PENDING request to its decision, atomically. False when someone decided
   * (or it expired) first.
   */
  async claim(approvalKey: string, decision: ApprovalDecisionRecord): Promise<boolean> {
    const status: ApprovalStatus = decision.decision === 'approve' ? 'APPROVED' : 'REJECTED';
    return this.conditionalSet(approvalKey, { status, decision }, 'PENDING');
  }

  /** Gives a claimed request back (the workflow could not be told): it may be decided again. */
  async release(approvalKey: string, from: ApprovalStatus): Promise<void> {
    await this.db.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: { approvalId: approvalKey },
        UpdateExpression: 'SET #s = :pending REMOVE #d',
        ConditionExpression: '#s = :from',
        ExpressionAttributeNames: { '#s': 'status', '#d': 'decision' },
        ExpressionAttributeValues: { ':pending': 'PENDING', ':from': from },
      }),
    );
  }

  async markExpired(approvalKey: string): Promise<void> {
    await this.db.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: { approvalId: approvalKey },
        UpdateExpression: 'SET #s = :expired',
        ConditionExpression: 'attribute_exists(approvalId)',
        ExpressionAttributeNames: { '#s': 'status' },
        ExpressionAttributeValues: { ':expired': 'EXPIRED' },
      }),
    );
  }

  /** Keeps the first MAX_LATE_REFUSALS refusals after the change ended (the rest are only logged). */
  async recordLateRefusal(approvalKey: string, refusal: Record<string, unknown>): Promise<boolean> {
    try {
      await this.db.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { approvalId: approvalKey },
          UpdateExpression: 'SET lateRefusals = list_append(if_not_exists(lateRefusals, :empty), :r)',
          ConditionExpression: 'attribute_exists(approvalId) AND (attribute_not_exists(lateRefusals) OR size(lateRefusals) < :max)',
          ExpressionAttributeValues: { ':empty': [], ':r': [refusal], ':max': MAX_LATE_REFUSALS },
        }),
      );
      return true;
    } catch (error) {
      if (isConditionalCheckFailed(error)) return false;
      throw error;
    }
  }

  private async conditionalSet(approvalKey: string, fields: Record<string, unknown>, expectedStatus: ApprovalStatus): Promise<boolean> {
    const entries = Object.entries(fields);
    try {
      await this.db.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { approvalId: approvalKey },
          UpdateExpression: `SET ${entries.map((_, i) => `#f${i} = :v${i}`).join(', ')}`,
          ConditionExpression: '#status = :expected',
          ExpressionAttributeNames: { ...Object.fromEntries(entries.map(([k], i) => [`#f${i}`, k])), '#status': 'status' },
          ExpressionAttributeValues: { ...Object.fromEntries(entries.map(([, v], i) => [`:v${i}`, v])), ':expected': expectedStatus },
        }),
      );
      return true;
    } catch (error) {
      if (isConditionalCheckFailed(error)) return false;
      throw error;
    }
  }
}

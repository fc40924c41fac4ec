import { GetCommand, PutCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { ApprovalLinkFields } from '../domain/approval-link.js';
import type { ApprovalDecision, ApprovalFacts, ApprovalStatus, FollowUpScope } from '../domain/approval.js';
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
  /** Bumped by every recorded approval (compare-and-set); absent on requests made before quorums. */
  readonly version?: number;
  /** Refusals after the change ended: kept here, since a closed evidence chain takes no more events. */
  readonly lateRefusals?: ReadonlyArray<Record<string, unknown>>;
  /** A follow-up's request (new work after Apply): only its actions, on the grown plan `planHash`. */
  readonly followUp?: FollowUpScope;
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

  /**
   * Records one approver's approval on a PENDING request, once per approver: a conditional update
   * on the request's version (compare-and-set), so concurrent approvers are counted one after the
   * other and exactly one of them meets the quorum. `final`: this approval meets it, and the request
   * becomes APPROVED with it. False when it moved on meanwhile (another approval, a decision, or
   * this approver already approved): read it again. True: the request is `seen` with exactly
   * these fields set (the version condition guarantees nothing else changed).
   */
  async recordApproval(approvalKey: string, approver: string, entry: { decidedAt: string; channel: string }, seenVersion: number, final: ApprovalDecisionRecord | null): Promise<boolean> {
    try {
      await this.db.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { approvalId: approvalKey },
          // The approval that meets the quorum decides the request in the same write.
          UpdateExpression: `SET approvals.#who = :entry, #v = :next${final ? ', #s = :approved, #d = :decision' : ''}`,
          ConditionExpression: '#s = :pending AND #v = :seen AND attribute_exists(approvals) AND attribute_not_exists(approvals.#who)',
          ExpressionAttributeNames: { '#s': 'status', '#who': approver, '#v': 'version', ...(final ? { '#d': 'decision' } : {}) },
          ExpressionAttributeValues: { ':pending': 'PENDING', ':entry': entry, ':seen': seenVersion, ':next': seenVersion + 1, ...(final ? { ':approved': 'APPROVED', ':decision': final } : {}) },
        }),
      );
      return true;
    } catch (error) {
      if (isConditionalCheckFailed(error)) return false;
      throw error;
    }
  }

  /**
   * Gives a claimed request back (the workflow could not be told): it may be decided again. With
   * `approver`, their recorded approval is taken back too, so they can post it again.
   */
  async release(approvalKey: string, from: ApprovalStatus, approver?: string): Promise<void> {
    await this.db.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: { approvalId: approvalKey },
        UpdateExpression: approver ? 'SET #s = :pending REMOVE #d, approvals.#who' : 'SET #s = :pending REMOVE #d',
        ConditionExpression: '#s = :from',
        ExpressionAttributeNames: { '#s': 'status', '#d': 'decision', ...(approver ? { '#who': approver } : {}) },
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

import { GetCommand, PutCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { campaignSchema, type AnswerRecord, type Campaign, type FollowUp } from '../domain/attestation.js';
import { formatIssues } from '../domain/events.js';
import { AppError } from '../domain/reasons.js';
import type { ChangeStatus } from '../domain/status.js';
import { isConditionalCheckFailed } from './dynamo.js';

/** What a campaign record is: a changes-table item of kind `attestation`, so its evidence chain is a chain like any change's. */
export const CAMPAIGN_KIND = 'attestation';
export const CAMPAIGN_TRIGGER = 'Attestation Campaign';
/** A campaign's status while owners may answer: it waits for people. */
export const CAMPAIGN_OPEN_STATUS: ChangeStatus = 'AWAITING_APPROVAL';

export interface StoredCampaign {
  readonly campaign: Campaign;
  readonly status: string;
  readonly policyVersion: string;
}

/**
 * Attestation campaigns on the changes table: the item carries the change record fields (kind,
 * status, the evidence seq counter) and the campaign under `campaign`. Every update is one
 * conditional write on a nested path, so concurrent answers and sweeps never undo each other.
 */
export class AttestationStore {
  constructor(private readonly db: DynamoDBDocumentClient, private readonly tableName: string) {}

  /** False when the campaign exists already (a retried scheduled start). */
  async create(campaign: Campaign, policyVersion: string): Promise<boolean> {
    const at = campaign.startedAt;
    // An account nobody could be asked in shows on the record, as on a change that could not read one.
    const reasonCodes = (campaign.unreadableAccounts ?? []).length > 0 ? ['CONNECTOR_ACCESS_DENIED'] : [];
    const item = { changeId: campaign.campaignId, kind: CAMPAIGN_KIND, status: CAMPAIGN_OPEN_STATUS, trigger: CAMPAIGN_TRIGGER, eventId: campaign.campaignId, createdAt: at, updatedAt: at, policyVersion, actions: {}, reasonCodes, campaign };
    try {
      await this.db.send(new PutCommand({ TableName: this.tableName, Item: item, ConditionExpression: 'attribute_not_exists(changeId)' }));
      return true;
    } catch (error) {
      if (isConditionalCheckFailed(error)) return false;
      throw error;
    }
  }

  async get(campaignId: string): Promise<StoredCampaign | undefined> {
    const out = await this.db.send(new GetCommand({ TableName: this.tableName, Key: { changeId: campaignId }, ConsistentRead: true }));
    const item = out.Item;
    if (!item || item.kind !== CAMPAIGN_KIND) return undefined;
    const parsed = campaignSchema.safeParse(item.campaign);
    if (!parsed.success) throw new AppError('INPUT_INVALID', `campaign ${campaignId} is malformed: ${formatIssues(parsed.error)}`);
    return { campaign: parsed.data, status: String(item.status), policyVersion: String(item.policyVersion ?? 'none') };
  }

  /** Records an owner's first answer for one of their NHIs while the campaign is open; false otherwise. */
  async recordAnswer(campaignId: string, ref: string, owner: string, answer: AnswerRecord): Promise<boolean> {
    const kept = answer.answer === 'KEEP';
    return this.update(campaignId, {
      UpdateExpression: `SET #c.#n.#r.answer = :a${kept ? ', #c.#n.#r.outcome = :kept' : ''}`,
      ConditionExpression: '#c.#state = :open AND #c.#n.#r.#owner = :owner AND attribute_not_exists(#c.#n.#r.answer) AND attribute_not_exists(#c.#n.#r.outcome)',
      ExpressionAttributeNames: { '#c': 'campaign', '#n': 'nhis', '#r': ref, '#state': 'state', '#owner': 'owner' },
      ExpressionAttributeValues: { ':a': answer, ':open': 'OPEN', ':owner': owner, ...(kept ? { ':kept': 'KEPT' } : {}) },
    });
  }

  /** Claims the escalation of one owner (once, whoever sweeps). */
  async claimEscalation(campaignId: string, owner: string, at: string): Promise<boolean> {
    return this.update(campaignId, {
      UpdateExpression: 'SET #c.#o.#who.escalatedAt = :at',
      ConditionExpression: '#c.#state = :open AND attribute_not_exists(#c.#o.#who.escalatedAt)',
      ExpressionAttributeNames: { '#c': 'campaign', '#o': 'owners', '#who': owner, '#state': 'state' },
      ExpressionAttributeValues: { ':at': at, ':open': 'OPEN' },
    });
  }

  /** Marks unanswered NHIs OWNER_UNKNOWN (each only if still unanswered); false when one was answered meanwhile. */
  async markLapsed(campaignId: string, refs: readonly string[]): Promise<boolean> {
    const names = Object.fromEntries(refs.map((ref, i) => [`#r${i}`, ref]));
    return this.update(campaignId, {
      UpdateExpression: `SET ${refs.map((_, i) => `#c.#n.#r${i}.outcome = :unknown`).join(', ')}`,
      ConditionExpression: ['#c.#state = :open', ...refs.map((_, i) => `attribute_not_exists(#c.#n.#r${i}.answer) AND attribute_not_exists(#c.#n.#r${i}.outcome)`)].join(' AND '),
      ExpressionAttributeNames: { '#c': 'campaign', '#n': 'nhis', '#state': 'state', ...names },
      ExpressionAttributeValues: { ':unknown': 'OWNER_UNKNOWN', ':open': 'OPEN' },
    });
  }

  /** Claims NHIs for one follow-up change (none may have one yet) and records it, not started; a lapsed NHI stays OWNER_UNKNOWN. */
  async claimFollowUp(campaignId: string, changeId: string, followUp: FollowUp): Promise<boolean> {
    const names = Object.fromEntries(followUp.nhis.map((ref, i) => [`#r${i}`, ref]));
    return this.update(campaignId, {
      UpdateExpression: `SET #c.#f.#id = :f, ${followUp.nhis.map((_, i) => `#c.#n.#r${i}.changeId = :id, #c.#n.#r${i}.outcome = if_not_exists(#c.#n.#r${i}.outcome, :planned)`).join(', ')}`,
      ConditionExpression: ['attribute_not_exists(#c.#f.#id)', ...followUp.nhis.map((_, i) => `attribute_not_exists(#c.#n.#r${i}.changeId)`)].join(' AND '),
      ExpressionAttributeNames: { '#c': 'campaign', '#n': 'nhis', '#f': 'followUps', '#id': changeId, ...names },
      ExpressionAttributeValues: { ':f': followUp, ':id': changeId, ':planned': 'DISABLE_PLANNED' },
    });
  }

  async markStarted(campaignId: string, changeId: string): Promise<void> {
    await this.update(campaignId, {
      UpdateExpression: 'SET #c.#f.#id.started = :t',
      ConditionExpression: 'attribute_exists(#c.#f.#id)',
      ExpressionAttributeNames: { '#c': 'campaign', '#f': 'followUps', '#id': changeId },
      ExpressionAttributeValues: { ':t': true },
    });
  }

  /** Closes an open campaign with its terminal status (after its COMPLETED event). */
  async close(campaignId: string, status: ChangeStatus, at: string): Promise<boolean> {
    return this.update(campaignId, {
      UpdateExpression: 'SET #c.#state = :closed, #c.closedAt = :at, #s = :status, updatedAt = :at',
      ConditionExpression: '#c.#state = :open',
      ExpressionAttributeNames: { '#c': 'campaign', '#state': 'state', '#s': 'status' },
      ExpressionAttributeValues: { ':closed': 'CLOSED', ':open': 'OPEN', ':at': at, ':status': status },
    });
  }

  private async update(campaignId: string, input: { UpdateExpression: string; ConditionExpression: string; ExpressionAttributeNames: Record<string, string>; ExpressionAttributeValues: Record<string, unknown> }): Promise<boolean> {
    try {
      await this.db.send(new UpdateCommand({ TableName: this.tableName, Key: { changeId: campaignId }, ...input }));
      return true;
    } catch (error) {
      if (isConditionalCheckFailed(error)) return false;
      throw error;
    }
  }
}

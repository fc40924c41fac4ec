import { UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { AppError } from '../domain/reasons.js';
import { isConditionalCheckFailed } from './dynamo.js';

/** The attribute of a change item (changes table) that counts the seqs handed out for its chain. */
export const EVIDENCE_SEQ_ATTRIBUTE = 'evidenceSeq';

/**
 * Hands out the seqs of a change's evidence chain from an atomic counter on the change item, so
 * parallel writers queue in a fixed order instead of racing for the same next seq. Only changes
 * that exist get seqs: the counter never creates a change item.
 */
export class EvidenceSequence {
  constructor(private readonly db: DynamoDBDocumentClient, private readonly changesTable: string) {}

  /** The next seq of the change's chain; every call gets a different one. */
  async next(changeId: string): Promise<number> {
    let out;
    try {
      out = await this.db.send(
        new UpdateCommand({
          TableName: this.changesTable,
          Key: { changeId },
          UpdateExpression: 'ADD #seq :one',
          ConditionExpression: 'attribute_exists(changeId)',
          ExpressionAttributeNames: { '#seq': EVIDENCE_SEQ_ATTRIBUTE },
          ExpressionAttributeValues: { ':one': 1 },
          ReturnValues: 'UPDATED_NEW',
        }),
      );
    } catch (error) {
      if (isConditionalCheckFailed(error)) throw new AppError('INPUT_INVALID', `no change ${changeId} to append evidence to`);
      throw error;
    }
    const seq = out.Attributes?.[EVIDENCE_SEQ_ATTRIBUTE];
    if (typeof seq !== 'number' || !Number.isInteger(seq) || seq < 1) {
      throw new AppError('TARGET_UNAVAILABLE', `allocating an evidence seq for ${changeId}: DynamoDB answered without the new counter value`);
    }
    return seq;
  }

  /**
   * Moves the counter to at least `seq`: after a seq this writer held was found taken (its slot
   * was filled as abandoned, or the chain predates the counter). Never moves it back.
   */
  async atLeast(changeId: string, seq: number): Promise<void> {
    try {
      await this.db.send(
        new UpdateCommand({
          TableName: this.changesTable,
          Key: { changeId },
          UpdateExpression: 'SET #seq = :s',
          ConditionExpression: 'attribute_exists(changeId) AND (attribute_not_exists(#seq) OR #seq < :s)',
          ExpressionAttributeNames: { '#seq': EVIDENCE_SEQ_ATTRIBUTE },
          ExpressionAttributeValues: { ':s': seq },
        }),
      );
    } catch (error) {
      if (!isConditionalCheckFailed(error)) throw error;
    }
  }
}

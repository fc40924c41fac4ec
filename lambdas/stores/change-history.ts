import { QueryCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { ChangeRecord } from './change-store.js';

/**
 * Changes by creation time, through the changes table's byKind index (kind, createdAt): a
 * bounded range query, never a scan. Finalize reads its window of past changes with it.
 */
export class ChangeHistory {
  constructor(private readonly db: DynamoDBDocumentClient, private readonly tableName: string) {}

  /** Changes of `kind` created in [from, to] (ISO times), oldest first, every page. */
  async createdBetween(kind: ChangeRecord['kind'], from: string, to: string): Promise<ChangeRecord[]> {
    const records: ChangeRecord[] = [];
    let startKey: Record<string, unknown> | undefined;
    do {
      const out = await this.db.send(
        new QueryCommand({
          TableName: this.tableName,
          IndexName: 'byKind',
          KeyConditionExpression: '#k = :k AND createdAt BETWEEN :from AND :to',
          ExpressionAttributeNames: { '#k': 'kind' },
          ExpressionAttributeValues: { ':k': kind, ':from': from, ':to': to },
          ScanIndexForward: true,
          ExclusiveStartKey: startKey,
        }),
      );
      records.push(...((out.Items ?? []) as ChangeRecord[]));
      startKey = out.LastEvaluatedKey;
    } while (startKey);
    return records;
  }
}

import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

export function createDocumentClient(client: DynamoDBClient = new DynamoDBClient({})): DynamoDBDocumentClient {
  return DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true, convertClassInstanceToMap: false } });
}

export function isConditionalCheckFailed(error: unknown): boolean {
  return (error as { name?: string }).name === 'ConditionalCheckFailedException';
}

/** A transaction cancelled because one of its conditions did not hold (the others may name no reason). */
export function isTransactionConflict(error: unknown): boolean {
  if (!(error instanceof Error) || error.name !== 'TransactionCanceledException') return false;
  const reasons: unknown = Reflect.get(error, 'CancellationReasons');
  return Array.isArray(reasons) && reasons.some((reason: unknown) => typeof reason === 'object' && reason !== null && Reflect.get(reason, 'Code') === 'ConditionalCheckFailed');
}

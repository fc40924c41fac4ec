import { GetCommand, PutCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { canonicalJson, sha256Hex } from '../domain/canonical.js';
import type { Plan } from '../domain/plan-model.js';
import { AppError } from '../domain/reasons.js';
import { isConditionalCheckFailed } from './dynamo.js';

/** Plans are stored immutably under the hash of their canonical JSON. */
export class PlanStore {
  constructor(private readonly db: DynamoDBDocumentClient, private readonly tableName: string) {}

  async put(plan: Plan): Promise<string> {
    const body = canonicalJson(plan);
    const planHash = sha256Hex(body);
    try {
      await this.db.send(
        new PutCommand({ TableName: this.tableName, Item: { planHash, changeId: plan.changeId, body }, ConditionExpression: 'attribute_not_exists(planHash)' }),
      );
    } catch (error) {
      // The same content under the same hash is already there: storing it again changes nothing.
      if (!isConditionalCheckFailed(error)) throw error;
    }
    return planHash;
  }

  async get(planHash: string): Promise<Plan> {
    const out = await this.db.send(new GetCommand({ TableName: this.tableName, Key: { planHash }, ConsistentRead: true }));
    const body = out.Item?.body;
    if (typeof body !== 'string') throw new AppError('INPUT_INVALID', `no stored plan ${planHash}`);
    if (sha256Hex(body) !== planHash) throw new AppError('PLAN_STALE', `stored plan ${planHash} does not match its hash`);
    return JSON.parse(body) as Plan;
  }
}

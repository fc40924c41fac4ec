import { GetCommand, PutCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { canonicalJson, sha256Hex } from '../domain/canonical.js';
import { formatIssues } from '../domain/events.js';
import type { Plan } from '../domain/plan-model.js';
import { planSchema } from '../domain/plan-schema.js';
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
    const body: unknown = out.Item?.body;
    if (typeof body !== 'string') throw new AppError('INPUT_INVALID', `no stored plan ${planHash}`);
    return parseStoredPlan(planHash, body);
  }
}

/** A stored plan's body: its hash checked first, then its shape. */
export function parseStoredPlan(planHash: string, body: string): Plan {
  if (sha256Hex(body) !== planHash) throw new AppError('PLAN_STALE', `stored plan ${planHash} does not match its hash`);
  const parsed = planSchema.safeParse(JSON.parse(body));
  if (!parsed.success) throw new AppError('INPUT_INVALID', `stored plan ${planHash.slice(0, 12)} is not a plan: ${formatIssues(parsed.error)}`);
  return parsed.data;
}

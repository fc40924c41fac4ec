import { gunzipSync, gzipSync } from 'node:zlib';
import { GetCommand, PutCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { canonicalJson, sha256Hex } from '../domain/canonical.js';
import { formatIssues } from '../domain/events.js';
import type { Plan } from '../domain/plan-model.js';
import { planSchema } from '../domain/plan-schema.js';
import { AppError } from '../domain/reasons.js';
import { isConditionalCheckFailed } from './dynamo.js';

/**
 * A body this long is stored gzipped: a DynamoDB item holds at most 400 KB, and a plan takes about
 * 825 bytes per action (a 2,000-action plan is 1.6 MB as text; its canonical JSON repeats itself
 * and compresses about tenfold). Shorter bodies stay readable text in the table.
 */
const GZIP_ABOVE_BYTES = 256 * 1024;

/** Plans are stored immutably under the hash of their canonical JSON. */
export class PlanStore {
  constructor(private readonly db: DynamoDBDocumentClient, private readonly tableName: string) {}

  async put(plan: Plan): Promise<string> {
    const body = canonicalJson(plan);
    const planHash = sha256Hex(body);
    const stored = Buffer.byteLength(body, 'utf8') > GZIP_ABOVE_BYTES ? { bodyGzip: gzipSync(body) } : { body };
    try {
      await this.db.send(
        new PutCommand({ TableName: this.tableName, Item: { planHash, changeId: plan.changeId, ...stored }, ConditionExpression: 'attribute_not_exists(planHash)' }),
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
    const zipped: unknown = out.Item?.bodyGzip;
    if (typeof body === 'string') return parseStoredPlan(planHash, body);
    if (zipped instanceof Uint8Array) return parseStoredPlan(planHash, gunzipSync(zipped).toString('utf8'));
    throw new AppError('INPUT_INVALID', `no stored plan ${planHash}`);
  }
}

/** A stored plan's body: its hash checked first, then its shape. */
export function parseStoredPlan(planHash: string, body: string): Plan {
  if (sha256Hex(body) !== planHash) throw new AppError('PLAN_STALE', `stored plan ${planHash} does not match its hash`);
  const parsed = planSchema.safeParse(JSON.parse(body));
  if (!parsed.success) throw new AppError('INPUT_INVALID', `stored plan ${planHash.slice(0, 12)} is not a plan: ${formatIssues(parsed.error)}`);
  return parsed.data;
}

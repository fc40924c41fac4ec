import { GetCommand, PutCommand, QueryCommand, TransactWriteCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { verifySignedPolicy, type SignedPolicy } from '../domain/policy-signature.js';
import { AppError } from '../domain/reasons.js';

/** One stored policy version: the text exactly as signed, its signature, and who activated it. */
export interface PolicyVersionRecord {
  readonly version: string;
  readonly policyText: string;
  readonly signatureText: string;
  readonly activatedBy: string;
  readonly activatedAt: string;
}

export interface RuntimeRecord {
  readonly runtime: string;
  readonly version: string;
  readonly seenAt: string;
}

const ACTIVE = { pk: 'ACTIVE', sk: 'ACTIVE' } as const;

/**
 * Policy versions (pk VERSION / sk version), the ACTIVE pointer, and what each runtime last
 * decided with (pk RUNTIME / sk runtime name).
 */
export class PolicyStore {
  constructor(private readonly db: DynamoDBDocumentClient, private readonly tableName: string) {}

  /** Stores the version (once) and points ACTIVE at it, in one transaction. */
  async activate(record: PolicyVersionRecord): Promise<void> {
    await this.db.send(
      new TransactWriteCommand({
        TransactItems: [
          { Put: { TableName: this.tableName, Item: { pk: 'VERSION', sk: `${record.activatedAt}#${record.version}`, ...record } } },
          { Put: { TableName: this.tableName, Item: { ...ACTIVE, ...record } } },
        ],
      }),
    );
  }

  async active(): Promise<PolicyVersionRecord | undefined> {
    const out = await this.db.send(new GetCommand({ TableName: this.tableName, Key: ACTIVE, ConsistentRead: true }));
    if (!out.Item) return undefined;
    const { pk: _pk, sk: _sk, ...record } = out.Item;
    return record as PolicyVersionRecord;
  }

  /** Loads the active policy and verifies it against the trusted key. Fails closed. */
  async loadVerified(publicKeyPem: string): Promise<SignedPolicy> {
    const record = await this.active();
    if (!record) throw new AppError('POLICY_INVALID', 'no governance policy is active (nhigov policy activate)');
    return verifySignedPolicy(record.policyText, record.signatureText, publicKeyPem);
  }

  async history(): Promise<PolicyVersionRecord[]> {
    const out = await this.db.send(
      new QueryCommand({ TableName: this.tableName, KeyConditionExpression: 'pk = :p', ExpressionAttributeValues: { ':p': 'VERSION' }, ScanIndexForward: false }),
    );
    return (out.Items ?? []).map(({ pk: _pk, sk: _sk, ...record }) => record as PolicyVersionRecord);
  }

  async recordRuntime(runtime: string, version: string, seenAt: string): Promise<void> {
    await this.db.send(new PutCommand({ TableName: this.tableName, Item: { pk: 'RUNTIME', sk: runtime, runtime, version, seenAt } }));
  }

  async runtimes(): Promise<RuntimeRecord[]> {
    const out = await this.db.send(
      new QueryCommand({ TableName: this.tableName, KeyConditionExpression: 'pk = :p', ExpressionAttributeValues: { ':p': 'RUNTIME' } }),
    );
    return (out.Items ?? []).map(({ runtime, version, seenAt }) => ({ runtime, version, seenAt }) as RuntimeRecord);
  }
}

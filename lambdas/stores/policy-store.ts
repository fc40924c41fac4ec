import { z } from 'zod';
import { GetCommand, paginateQuery, PutCommand, TransactWriteCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { verifySignedPolicy, type SignedPolicy } from '../domain/policy-signature.js';
import { supersededBy, type PolicyMark } from '../domain/checkpoint.js';
import { formatIssues } from '../domain/events.js';
import { AppError } from '../domain/reasons.js';

/** lagOf is pure: it lives in domain/policy-lag.ts (re-exported for callers of the store). */
export { lagOf, type RuntimeLag } from '../domain/policy-lag.js';

/** One stored policy version: the text exactly as signed, its signature, and who activated it. */
export interface PolicyVersionRecord {
  readonly version: string;
  readonly policyText: string;
  readonly signatureText: string;
  readonly activatedBy: string;
  readonly activatedAt: string;
  /** The version that was active before this activation (null: the first one). */
  readonly supersedes?: string | null;
}

export interface RuntimeRecord {
  readonly runtime: string;
  /** The last version this runtime verified and decided with. */
  readonly version: string;
  readonly seenAt: string;
  /** Set when the runtime's latest attempt to load the active policy was refused (fail closed). */
  readonly refusedAt?: string;
  readonly refusal?: string;
  /** The version the ACTIVE pointer named when the runtime refused it. */
  readonly refusedVersion?: string;
  /** The first refusal since the runtime last loaded a policy successfully. */
  readonly refusingSince?: string;
}

const ACTIVE = { pk: 'ACTIVE', sk: 'ACTIVE' } as const;

/**
 * Policy versions (pk VERSION / sk activatedAt#version, never overwritten), the ACTIVE pointer,
 * and what each runtime last decided with (pk RUNTIME / sk runtime name).
 */
export class PolicyStore {
  constructor(private readonly db: DynamoDBDocumentClient, private readonly tableName: string) {}

  /**
   * Records the activation (once) and points ACTIVE at it, in one transaction. With
   * `expectedActive`, refuses (POLICY_INVALID) when another activation won the race.
   * Callers verify the signature first (activatePolicy in the CLI library does).
   */
  async activate(record: PolicyVersionRecord, options: { expectedActive?: string | null } = {}): Promise<void> {
    const guard =
      options.expectedActive === undefined
        ? {}
        : options.expectedActive === null
          ? { ConditionExpression: 'attribute_not_exists(pk)' }
          : { ConditionExpression: 'version = :expected', ExpressionAttributeValues: { ':expected': options.expectedActive } };
    try {
      await this.db.send(
        new TransactWriteCommand({
          TransactItems: [
            { Put: { TableName: this.tableName, Item: { pk: 'VERSION', sk: `${record.activatedAt}#${record.version}`, ...record }, ConditionExpression: 'attribute_not_exists(sk)' } },
            { Put: { TableName: this.tableName, Item: { ...ACTIVE, ...record }, ...guard } },
          ],
        }),
      );
    } catch (error) {
      if ((error as { name?: string }).name === 'TransactionCanceledException') {
        throw new AppError('POLICY_INVALID', 'the active policy changed while activating (another activation won); check `nhigov policy status` and retry', { cause: error });
      }
      throw error;
    }
  }

  async active(): Promise<PolicyVersionRecord | undefined> {
    const out = await this.db.send(new GetCommand({ TableName: this.tableName, Key: ACTIVE, ConsistentRead: true }));
    return out.Item ? toVersionRecord(out.Item) : undefined;
  }

  /** Loads the active policy and verifies it against the trusted key. Fails closed. */
  async loadVerified(publicKeyPem: string, mark: PolicyMark | null = null): Promise<SignedPolicy> {
    return (await this.loadVerifiedRecord(publicKeyPem, mark)).signed;
  }

  /**
   * loadVerified, with the ACTIVE record it came from. With the high-water mark (the newest
   * policy ever activated, from the checkpoint chain), a policy signed before it is refused.
   */
  async loadVerifiedRecord(publicKeyPem: string, mark: PolicyMark | null = null): Promise<{ signed: SignedPolicy; record: PolicyVersionRecord }> {
    const record = await this.active();
    if (!record) throw new AppError('POLICY_INVALID', 'no governance policy is active (nhigov policy activate)');
    const signed = verifySignedPolicy(record.policyText, record.signatureText, publicKeyPem);
    if (signed.version !== record.version) {
      throw new AppError('POLICY_INVALID', `the ACTIVE pointer names version ${String(record.version).slice(0, 12)} but holds ${signed.version.slice(0, 12)}`);
    }
    const newer = supersededBy(signed.signature, mark);
    if (newer) throw new AppError('POLICY_INVALID', supersededMessage(signed, newer));
    return { signed, record };
  }

  /**
   * A version that was activated at some time, verified against the trusted key (fail closed):
   * a change keeps deciding with the version it was planned under.
   */
  async loadVerifiedVersion(version: string, publicKeyPem: string): Promise<SignedPolicy> {
    const record = (await this.history()).find((r) => r.version === version);
    if (!record) throw new AppError('POLICY_INVALID', `policy version ${version.slice(0, 12)} was never activated`);
    const signed = verifySignedPolicy(record.policyText, record.signatureText, publicKeyPem);
    if (signed.version !== version) throw new AppError('POLICY_INVALID', `the stored record of version ${version.slice(0, 12)} holds ${signed.version.slice(0, 12)}`);
    return signed;
  }

  /** Every activation, newest first (a version activated twice appears twice). */
  async history(): Promise<PolicyVersionRecord[]> {
    const records: PolicyVersionRecord[] = [];
    const pages = paginateQuery(
      { client: this.db },
      { TableName: this.tableName, KeyConditionExpression: 'pk = :p', ExpressionAttributeValues: { ':p': 'VERSION' }, ScanIndexForward: false, ConsistentRead: true },
    );
    for await (const page of pages) records.push(...(page.Items ?? []).map(toVersionRecord));
    return records;
  }

  /** The runtime verified and decided with `version` (clears an earlier refusal). */
  async recordRuntime(runtime: string, version: string, seenAt: string): Promise<void> {
    await this.db.send(new PutCommand({ TableName: this.tableName, Item: { pk: 'RUNTIME', sk: runtime, runtime, version, seenAt } }));
  }

  /** The runtime refused the active policy; its last good version stays recorded. */
  async recordRefusal(runtime: string, refusal: { readonly at: string; readonly reason: string; readonly activeVersion: string | null }): Promise<void> {
    await this.db.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: { pk: 'RUNTIME', sk: runtime },
        UpdateExpression: 'SET #r = :r, refusedAt = :at, refusingSince = if_not_exists(refusingSince, :at), refusal = :why, refusedVersion = :v',
        ExpressionAttributeNames: { '#r': 'runtime' },
        ExpressionAttributeValues: { ':r': runtime, ':at': refusal.at, ':why': refusal.reason.slice(0, 500), ':v': refusal.activeVersion ?? 'none' },
      }),
    );
  }

  async runtime(runtime: string): Promise<RuntimeRecord | undefined> {
    const out = await this.db.send(new GetCommand({ TableName: this.tableName, Key: { pk: 'RUNTIME', sk: runtime }, ConsistentRead: true }));
    return out.Item ? toRuntimeRecord(out.Item) : undefined;
  }

  async runtimes(): Promise<RuntimeRecord[]> {
    const records: RuntimeRecord[] = [];
    const pages = paginateQuery({ client: this.db }, { TableName: this.tableName, KeyConditionExpression: 'pk = :p', ExpressionAttributeValues: { ':p': 'RUNTIME' }, ConsistentRead: true });
    for await (const page of pages) records.push(...(page.Items ?? []).map(toRuntimeRecord));
    return records;
  }
}

/** Why a superseded policy is refused (runtimes, `policy status`, `policy activate`). */
export function supersededMessage(signed: Pick<SignedPolicy, 'version' | 'signature'>, newer: PolicyMark): string {
  return `policy version ${signed.version.slice(0, 12)} (signed at ${signed.signature.signedAt}) is superseded by ${newer.version.slice(0, 12)} (signed at ${newer.signedAt}): a signed policy older than the newest activated one cannot be active again; to go back to it, sign it again`;
}

const versionRecordSchema: z.ZodType<PolicyVersionRecord> = z.object({
  version: z.string(),
  policyText: z.string(),
  signatureText: z.string(),
  activatedBy: z.string(),
  activatedAt: z.string(),
  supersedes: z.string().nullable().optional(),
});

/** A VERSION (or ACTIVE) item; the key attributes are dropped. A malformed one is a refused policy. */
function toVersionRecord(item: Record<string, unknown>): PolicyVersionRecord {
  const parsed = versionRecordSchema.safeParse(item);
  if (!parsed.success) throw new AppError('POLICY_INVALID', `stored policy record ${String(item.sk)} is malformed: ${formatIssues(parsed.error)}`);
  return parsed.data;
}

const runtimeItemSchema = z.object({
  runtime: z.string().optional(),
  version: z.string().optional(),
  seenAt: z.string().optional(),
  refusedAt: z.string().optional(),
  refusal: z.string().optional(),
  refusedVersion: z.string().optional(),
  refusingSince: z.string().optional(),
});

function toRuntimeRecord(item: Record<string, unknown>): RuntimeRecord {
  const parsed = runtimeItemSchema.safeParse(item);
  if (!parsed.success) throw new AppError('INPUT_INVALID', `runtime record ${String(item.sk)} is malformed: ${formatIssues(parsed.error)}`);
  const { runtime, version, seenAt, refusedAt, refusal, refusedVersion, refusingSince } = parsed.data;
  return {
    runtime: runtime ?? '',
    version: version ?? 'none',
    seenAt: seenAt ?? '',
    ...(refusedAt ? { refusedAt, refusal: refusal ?? '', refusedVersion: refusedVersion ?? 'none', refusingSince: refusingSince ?? refusedAt } : {}),
  };
}

import {
  GetAccessKeyLastUsedCommand,
  GetAccountAuthorizationDetailsCommand,
  ListAccessKeysCommand,
  type AttachedPolicy,
  type ManagedPolicyDetail,
  type PolicyDetail,
  type Tag,
} from '@aws-sdk/client-iam';
import { GetSecretValueCommand, ListSecretsCommand, type Tag as SecretTag } from '@aws-sdk/client-secrets-manager';
import {
  holdsAccessKey,
  isGoverned,
  ownerOf,
  SECRET_USER_TAG,
  type AccessKeySnapshot,
  type GroupSnapshot,
  type ManagedPolicySnapshot,
  type RoleSnapshot,
  type SecretSnapshot,
  type Snapshot,
  type UngovernedPrincipal,
  type UserSnapshot,
} from '../domain/snapshot.js';
import type { SnapshotScope } from '../domain/snapshot-scope.js';
import { jsonObjectSchema } from '../domain/plan-schema.js';
import type { JsonObject } from '../domain/plan-model.js';
import { mapBounded } from '../lib/map-bounded.js';
import { classifyAwsError, connectorStep } from './errors.js';
import { heldKeyIdOfValue } from './secrets/key-secret.js';
import { CREDENTIAL_READ_PERMISSIONS, readUserCredentials, type UserCredentials } from './credentials-reader.js';
import { CREDENTIAL_REPORT_PERMISSIONS, readCredentialReport, reportedLastUse, type CredentialReportRow } from './credential-report.js';
import type { ConnectorContext } from './types.js';

export type { SnapshotScope } from '../domain/snapshot-scope.js';

export const SNAPSHOT_PERMISSIONS = [
  'iam:GetAccountAuthorizationDetails',
  'iam:ListAccessKeys',
  'iam:GetAccessKeyLastUsed',
  'secretsmanager:ListSecrets',
  'secretsmanager:GetSecretValue',
  ...CREDENTIAL_READ_PERMISSIONS,
  ...CREDENTIAL_REPORT_PERMISSIONS,
] as const;

/** Per-identity reads in flight at once: well under IAM's per-account read throttle. */
export const DETAIL_READ_CONCURRENCY = 4;

/**
 * The bulk pages of an account and nothing per identity: users' `accessKeys` are empty and their
 * credentials absent (not read), key secrets' `heldAccessKeyId` absent (not read).
 */
export interface BulkRead extends Snapshot {
  readonly ungoverned: readonly UngovernedPrincipal[];
  readonly groups: readonly GroupSnapshot[];
  readonly managedPolicies: readonly ManagedPolicySnapshot[];
}

/** What to read per identity: access keys (user names), other credentials (user names), the key a key secret holds (ARNs). */
export interface DetailWanted {
  readonly keys: ReadonlySet<string>;
  readonly credentials: ReadonlySet<string>;
  readonly secrets: ReadonlySet<string>;
}

/** The per-identity reads: a user's keys, its other credentials, the key id a secret holds. */
export interface Detail {
  readonly keys: ReadonlyMap<string, AccessKeySnapshot[]>;
  readonly credentials: ReadonlyMap<string, UserCredentials>;
  readonly held: ReadonlyMap<string, string | null>;
}

/**
 * Reads the governed estate in bulk: GetAccountAuthorizationDetails (paginated) for users,
 * roles, tags and policies; ListSecrets for secrets and their version stages. Only access keys
 * and the key a secret holds have no bulk call, so they are read per identity, and only in scope:
 * a termination costs calls per NHI the person owns, not per NHI in the account.
 *
 * Scope is closed over key holding (closeOverKeyHolding), so the planner can tell which secret
 * holds which key. Only governed users are read: the connector role may touch nothing else (its
 * permissions are scoped to nhi-governed=true), so a secret naming an ungoverned user is
 * reported, not rotated.
 */
export async function readSnapshot(ctx: ConnectorContext, scope: SnapshotScope): Promise<Snapshot> {
  const bulk = await readBulk(ctx);
  const named = 'nhi' in scope ? [scope.nhi] : 'nhis' in scope ? scope.nhis : [];
  const inScope = (nhi: { name: string; arn: string; tags: Record<string, string> }): boolean =>
    'all' in scope ? true : 'owner' in scope ? ownerOf(nhi) === scope.owner : named.includes(nhi.name) || named.includes(nhi.arn);
  const closed = closeOverKeyHolding(
    bulk,
    bulk.users.filter(inScope).map((u) => u.name),
    bulk.secrets.filter((s) => holdsAccessKey(s) && inScope(s)).map((s) => s.arn),
  );
  // The whole account: the credential report saves per-user calls (console password, certificates, key use).
  const report = 'all' in scope && closed.users.size > 0 ? await readCredentialReport(ctx) : null;
  const detail = await readDetail(ctx, { keys: closed.users, credentials: closed.users, secrets: closed.secrets }, report);
  return withDetail(bulk, detail, report);
}

/** GetAccountAuthorizationDetails and ListSecrets, side by side: a handful of pages for the whole account. */
export async function readBulk(ctx: ConnectorContext): Promise<BulkRead> {
  const takenAt = ctx.now().toISOString();
  const [details, secrets] = await Promise.all([readAuthorizationDetails(ctx), readSecrets(ctx)]);
  return { takenAt, ...details, secrets };
}

/**
 * A selection closed over key holding: a key secret brings in the governed user it names (tag
 * nhigov:user), and a user brings in every key secret naming it. Pure.
 */
export function closeOverKeyHolding(bulk: Pick<Snapshot, 'users' | 'secrets'>, userNames: Iterable<string>, secretArns: Iterable<string>): { users: Set<string>; secrets: Set<string> } {
  const governed = new Set(bulk.users.map((u) => u.name));
  const keySecrets = bulk.secrets.filter(holdsAccessKey);
  const keySecretArns = new Set(keySecrets.map((s) => s.arn));
  const users = new Set([...userNames].filter((name) => governed.has(name)));
  const secrets = new Set([...secretArns].filter((arn) => keySecretArns.has(arn)));
  for (const secret of keySecrets) {
    const holder = secret.tags[SECRET_USER_TAG] ?? '';
    if (secrets.has(secret.arn) && governed.has(holder)) users.add(holder);
  }
  for (const secret of keySecrets) if (users.has(secret.tags[SECRET_USER_TAG] ?? '')) secrets.add(secret.arn);
  return { users, secrets };
}

/** Reads per identity exactly what `wanted` names. The report (a read of the whole account) spares key-use, console and certificate calls. */
export async function readDetail(ctx: ConnectorContext, wanted: DetailWanted, report: ReadonlyMap<string, CredentialReportRow> | null): Promise<Detail> {
  // IAM reads one after the other (one per-account throttle); Secrets Manager's alongside.
  const readIam = async () => {
    const keys = new Map(await mapBounded([...wanted.keys].sort(), DETAIL_READ_CONCURRENCY, async (name) => [name, await readAccessKeys(ctx, name, report?.get(name))] as const));
    return { keys, credentials: await readUserCredentials(ctx, [...wanted.credentials].sort(), DETAIL_READ_CONCURRENCY, report) };
  };
  const [iam, held] = await Promise.all([readIam(), mapBounded([...wanted.secrets].sort(), DETAIL_READ_CONCURRENCY, async (arn) => [arn, await readHeldKeyId(ctx, arn)] as const)]);
  return { ...iam, held: new Map(held) };
}

/**
 * The snapshot: the bulk read with the detail merged in. A user whose keys were read and whose
 * other credentials were not keeps the report's console password; a user whose keys were not read
 * is what `unread` makes of it (by default, as the bulk read saw it).
 */
export function withDetail(bulk: BulkRead, detail: Detail, report: ReadonlyMap<string, CredentialReportRow> | null, unread: (user: UserSnapshot) => UserSnapshot = (user) => user): Snapshot {
  const users = bulk.users.map((user): UserSnapshot => {
    const keys = detail.keys.get(user.name);
    if (!keys) return unread(user);
    const held = detail.credentials.get(user.name);
    const row = report?.get(user.name);
    return { ...user, accessKeys: keys, ...(held ? { credentials: held.credentials, loginProfile: held.loginProfile } : row ? { loginProfile: row.passwordEnabled } : {}) };
  });
  const secrets = bulk.secrets.map((secret) => (detail.held.has(secret.arn) ? { ...secret, heldAccessKeyId: detail.held.get(secret.arn) ?? null } : secret));
  return { takenAt: bulk.takenAt, users, roles: bulk.roles, secrets, ungoverned: bulk.ungoverned, groups: bulk.groups, managedPolicies: bulk.managedPolicies };
}

async function readAuthorizationDetails(ctx: ConnectorContext): Promise<Omit<BulkRead, 'takenAt' | 'secrets'>> {
  const groups: GroupSnapshot[] = [];
  const managedPolicies: ManagedPolicySnapshot[] = [];
  const users: UserSnapshot[] = [];
  const roles: RoleSnapshot[] = [];
  const ungoverned: UngovernedPrincipal[] = [];
  let marker: string | undefined;
  do {
    const page = await connectorStep('reading account authorization details', classifyAwsError, () =>
      // Customer-managed policies come in the same pages, with every version's document: what an attached one grants costs no call of its own.
      ctx.iam.send(new GetAccountAuthorizationDetailsCommand({ Filter: ['User', 'Role', 'Group', 'LocalManagedPolicy'], Marker: marker, MaxItems: 1000 })),
    );
    for (const group of page.GroupDetailList ?? []) {
      if (group.GroupName) groups.push({ name: group.GroupName, inlinePolicies: toInline(group.GroupPolicyList), attachedPolicies: toAttached(group.AttachedManagedPolicies) });
    }
    for (const policy of page.Policies ?? []) {
      const managed = toManagedPolicy(policy);
      if (managed) managedPolicies.push(managed);
    }
    for (const user of page.UserDetailList ?? []) {
      const tags = toTags(user.Tags);
      if (!user.UserName || !user.Arn) continue;
      if (!isGoverned({ tags })) {
        ungoverned.push({ type: 'user', name: user.UserName, arn: user.Arn, tags });
        continue;
      }
      users.push({
        type: 'user',
        name: user.UserName,
        arn: user.Arn,
        tags,
        accessKeys: [],
        attachedPolicies: toAttached(user.AttachedManagedPolicies),
        inlinePolicies: toInline(user.UserPolicyList),
        groups: user.GroupList ?? [],
      });
    }
    for (const role of page.RoleDetailList ?? []) {
      const tags = toTags(role.Tags);
      if (!role.RoleName || !role.Arn) continue;
      if (!isGoverned({ tags })) {
        ungoverned.push({ type: 'role', name: role.RoleName, arn: role.Arn, tags });
        continue;
      }
      roles.push({ type: 'role', name: role.RoleName, arn: role.Arn, tags, attachedPolicies: toAttached(role.AttachedManagedPolicies), inlinePolicies: toInline(role.RolePolicyList) });
    }
    marker = page.IsTruncated ? page.Marker : undefined;
  } while (marker);
  return { users, roles, ungoverned, groups, managedPolicies };
}

/** A key's last use comes from the credential report when it names the key (matched by creation time), else from GetAccessKeyLastUsed. */
async function readAccessKeys(ctx: ConnectorContext, userName: string, reported?: CredentialReportRow): Promise<AccessKeySnapshot[]> {
  const out = await connectorStep(`listing access keys of ${userName}`, classifyAwsError, () => ctx.iam.send(new ListAccessKeysCommand({ UserName: userName })));
  const keys: AccessKeySnapshot[] = [];
  for (const key of out.AccessKeyMetadata ?? []) {
    if (!key.AccessKeyId) continue;
    const fromReport = reportedLastUse(reported, key.CreateDate);
    const lastUsedAt =
      fromReport !== undefined
        ? fromReport
        : ((
            await connectorStep(`reading last use of ${key.AccessKeyId}`, classifyAwsError, () => ctx.iam.send(new GetAccessKeyLastUsedCommand({ AccessKeyId: key.AccessKeyId })))
          ).AccessKeyLastUsed?.LastUsedDate?.toISOString() ?? null);
    keys.push({
      accessKeyId: key.AccessKeyId,
      userName,
      status: key.Status === 'Active' ? 'Active' : 'Inactive',
      createdAt: (key.CreateDate ?? new Date(0)).toISOString(),
      lastUsedAt,
    });
  }
  return keys.sort((a, b) => a.accessKeyId.localeCompare(b.accessKeyId));
}

/** The AccessKeyId the AWSCURRENT value names. The value itself goes no further than this function. */
async function readHeldKeyId(ctx: ConnectorContext, secretArn: string): Promise<string | null> {
  return connectorStep(`reading which key secret ${secretArn} holds`, classifyAwsError, async () => {
    const out = await ctx.secrets.send(new GetSecretValueCommand({ SecretId: secretArn, VersionStage: 'AWSCURRENT' }));
    return heldKeyIdOfValue(out.SecretString);
  });
}

async function readSecrets(ctx: ConnectorContext): Promise<SecretSnapshot[]> {
  const secrets: SecretSnapshot[] = [];
  let nextToken: string | undefined;
  do {
    const page = await connectorStep('listing secrets', classifyAwsError, () =>
      ctx.secrets.send(new ListSecretsCommand({ NextToken: nextToken, MaxResults: 100, Filters: [{ Key: 'tag-key', Values: ['nhi-governed'] }] })),
    );
    for (const secret of page.SecretList ?? []) {
      const tags = toTags(secret.Tags);
      if (!isGoverned({ tags }) || !secret.Name || !secret.ARN) continue;
      const current = Object.entries(secret.SecretVersionsToStages ?? {}).find(([, stages]) => stages.includes('AWSCURRENT'));
      secrets.push({
        type: 'secret',
        name: secret.Name,
        arn: secret.ARN,
        tags,
        currentVersionId: current?.[0] ?? null,
        lastRotatedAt: secret.LastRotatedDate?.toISOString() ?? null,
        lastChangedAt: secret.LastChangedDate?.toISOString() ?? null,
        createdAt: secret.CreatedDate?.toISOString() ?? null,
      });
    }
    nextToken = page.NextToken;
  } while (nextToken);
  return secrets;
}

function toTags(tags: ReadonlyArray<Tag | SecretTag> | undefined): Record<string, string> {
  return Object.fromEntries((tags ?? []).flatMap((t) => (t.Key ? [[t.Key, t.Value ?? '']] : [])));
}

function toAttached(policies: AttachedPolicy[] | undefined): UserSnapshot['attachedPolicies'] {
  return (policies ?? []).flatMap((p) => (p.PolicyArn ? [{ policyArn: p.PolicyArn, policyName: p.PolicyName ?? '' }] : []));
}

/** A policy whose default version's document the page does not carry is left out: nothing can be judged of it. */
function toManagedPolicy(policy: ManagedPolicyDetail): ManagedPolicySnapshot | null {
  const versions = policy.PolicyVersionList ?? [];
  const current = versions.find((v) => v.VersionId === policy.DefaultVersionId);
  if (!policy.Arn || !policy.DefaultVersionId || !current?.Document) return null;
  return {
    arn: policy.Arn,
    name: policy.PolicyName ?? policy.Arn.split('/').pop() ?? policy.Arn,
    defaultVersionId: policy.DefaultVersionId,
    document: parsePolicyDocument(current.Document),
    versionCount: versions.length,
    attachmentCount: policy.AttachmentCount ?? 0,
    boundaryUsageCount: policy.PermissionsBoundaryUsageCount ?? 0,
  };
}

function parsePolicyDocument(encoded: string): JsonObject {
  return jsonObjectSchema.parse(JSON.parse(decodeURIComponent(encoded)));
}

function toInline(policies: PolicyDetail[] | undefined): UserSnapshot['inlinePolicies'] {
  return (policies ?? []).flatMap((p) => {
    if (!p.PolicyName || !p.PolicyDocument) return [];
    return [{ name: p.PolicyName, document: parsePolicyDocument(p.PolicyDocument) }];
  });
}

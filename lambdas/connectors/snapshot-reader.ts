import {
  GetAccessKeyLastUsedCommand,
  GetAccountAuthorizationDetailsCommand,
  ListAccessKeysCommand,
  type AttachedPolicy,
  type PolicyDetail,
  type Tag,
} from '@aws-sdk/client-iam';
import { ListSecretsCommand, type Tag as SecretTag } from '@aws-sdk/client-secrets-manager';
import {
  isGoverned,
  ownerOf,
  type AccessKeySnapshot,
  type RoleSnapshot,
  type SecretSnapshot,
  type Snapshot,
  type UserSnapshot,
} from '../domain/snapshot.js';
import { classifyAwsError, connectorStep } from './errors.js';
import type { ConnectorContext } from './types.js';

/** Which NHIs need per-identity detail (access keys): all, or those of one owner / one NHI. */
export type SnapshotScope = { readonly all: true } | { readonly owner: string } | { readonly nhi: string };

export const SNAPSHOT_PERMISSIONS = ['iam:GetAccountAuthorizationDetails', 'iam:ListAccessKeys', 'iam:GetAccessKeyLastUsed', 'secretsmanager:ListSecrets'] as const;

/**
 * Reads the governed estate in bulk: GetAccountAuthorizationDetails (paginated) for users,
 * roles, tags and policies; ListSecrets for secrets. Only access keys have no bulk call, so they
 * are read per user, and only for users in scope: a termination costs calls per NHI the person
 * owns, not per NHI in the account.
 */
export async function readSnapshot(ctx: ConnectorContext, scope: SnapshotScope): Promise<Snapshot> {
  const takenAt = ctx.now().toISOString();
  const [details, secrets] = await Promise.all([readAuthorizationDetails(ctx), readSecrets(ctx)]);
  const inScope = (nhi: { name: string; arn: string; tags: Record<string, string> }): boolean =>
    'all' in scope ? true : 'owner' in scope ? ownerOf(nhi) === scope.owner : nhi.name === scope.nhi || nhi.arn === scope.nhi;
  const users: UserSnapshot[] = [];
  for (const user of details.users) {
    users.push(inScope(user) ? { ...user, accessKeys: await readAccessKeys(ctx, user.name) } : user);
  }
  return { takenAt, users, roles: details.roles, secrets };
}

async function readAuthorizationDetails(ctx: ConnectorContext): Promise<{ users: UserSnapshot[]; roles: RoleSnapshot[] }> {
  const users: UserSnapshot[] = [];
  const roles: RoleSnapshot[] = [];
  let marker: string | undefined;
  do {
    const page = await connectorStep('reading account authorization details', classifyAwsError, () =>
      ctx.iam.send(new GetAccountAuthorizationDetailsCommand({ Filter: ['User', 'Role'], Marker: marker, MaxItems: 1000 })),
    );
    for (const user of page.UserDetailList ?? []) {
      const tags = toTags(user.Tags);
      if (!isGoverned({ tags }) || !user.UserName || !user.Arn) continue;
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
      if (!isGoverned({ tags }) || !role.RoleName || !role.Arn) continue;
      roles.push({ type: 'role', name: role.RoleName, arn: role.Arn, tags, attachedPolicies: toAttached(role.AttachedManagedPolicies), inlinePolicies: toInline(role.RolePolicyList) });
    }
    marker = page.IsTruncated ? page.Marker : undefined;
  } while (marker);
  return { users, roles };
}

async function readAccessKeys(ctx: ConnectorContext, userName: string): Promise<AccessKeySnapshot[]> {
  const out = await connectorStep(`listing access keys of ${userName}`, classifyAwsError, () => ctx.iam.send(new ListAccessKeysCommand({ UserName: userName })));
  const keys: AccessKeySnapshot[] = [];
  for (const key of out.AccessKeyMetadata ?? []) {
    if (!key.AccessKeyId) continue;
    const lastUsed = await connectorStep(`reading last use of ${key.AccessKeyId}`, classifyAwsError, () =>
      ctx.iam.send(new GetAccessKeyLastUsedCommand({ AccessKeyId: key.AccessKeyId })),
    );
    keys.push({
      accessKeyId: key.AccessKeyId,
      userName,
      status: key.Status === 'Active' ? 'Active' : 'Inactive',
      createdAt: (key.CreateDate ?? new Date(0)).toISOString(),
      lastUsedAt: lastUsed.AccessKeyLastUsed?.LastUsedDate?.toISOString() ?? null,
    });
  }
  return keys;
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

function toInline(policies: PolicyDetail[] | undefined): UserSnapshot['inlinePolicies'] {
  return (policies ?? []).flatMap((p) => {
    if (!p.PolicyName || !p.PolicyDocument) return [];
    return [{ name: p.PolicyName, document: JSON.parse(decodeURIComponent(p.PolicyDocument)) as Record<string, unknown> }];
  });
}

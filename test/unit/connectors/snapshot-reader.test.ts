import { describe, expect, it } from 'vitest';
import type { IAMClient } from '@aws-sdk/client-iam';
import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { readSnapshot, SNAPSHOT_PERMISSIONS } from '../../../lambdas/connectors/snapshot-reader.js';
import type { ConnectorContext } from '../../../lambdas/connectors/types.js';

const governed = (owner: string) => [{ Key: 'nhi-governed', Value: 'true' }, { Key: 'owner', Value: owner }];
const keySecretTags = (owner: string, user: string) => [...governed(owner), { Key: 'nhigov:kind', Value: 'iam-access-key' }, { Key: 'nhigov:user', Value: user }];

/** A bulk-read estate: alice owns svc-a; bob owns svc-b, whose key alice's secret holds; carol's svc-c is out of every scope here. */
function stubContext(): { ctx: ConnectorContext; calls: string[] } {
  const calls: string[] = [];
  const keys: Record<string, string[]> = { 'svc-a': ['AKIAAAAA00000001'], 'svc-b': ['AKIABBBB00000001'], 'svc-c': ['AKIACCCC00000001'] };
  const answer = (service: string, cmd: { constructor: { name: string }; input: Record<string, unknown> }): unknown => {
    const action = cmd.constructor.name.replace(/Command$/, '');
    calls.push(`${service}:${action}`);
    const i = cmd.input;
    switch (action) {
      case 'GetAccountAuthorizationDetails':
        return {
          UserDetailList: [
            { UserName: 'svc-a', Arn: 'arn:aws:iam::1:user/svc-a', Tags: governed('alice@example.com'), GroupList: ['devs'], UserPolicyList: [{ PolicyName: 'p', PolicyDocument: encodeURIComponent('{"Statement":[]}') }] },
            { UserName: 'svc-b', Arn: 'arn:aws:iam::1:user/svc-b', Tags: governed('bob@example.com') },
            { UserName: 'svc-c', Arn: 'arn:aws:iam::1:user/svc-c', Tags: governed('carol@example.com') },
            { UserName: 'human', Arn: 'arn:aws:iam::1:user/human', Tags: [] },
          ],
          RoleDetailList: [{ RoleName: 'role-a', Arn: 'arn:aws:iam::1:role/role-a', Tags: governed('alice@example.com') }],
          IsTruncated: false,
        };
      case 'ListAccessKeys':
        return { AccessKeyMetadata: (keys[String(i.UserName)] ?? []).map((id) => ({ AccessKeyId: id, Status: 'Active', CreateDate: new Date('2026-01-01T00:00:00Z') })) };
      case 'GetAccessKeyLastUsed':
        return { AccessKeyLastUsed: { LastUsedDate: new Date('2026-06-01T00:00:00Z') } };
      case 'ListSecrets':
        return {
          SecretList: [
            { Name: 'app/b-key', ARN: 'arn:sm:app/b-key', Tags: keySecretTags('alice@example.com', 'svc-b'), SecretVersionsToStages: { v1: ['AWSCURRENT'], v0: ['AWSPREVIOUS'] } },
            { Name: 'app/c-key', ARN: 'arn:sm:app/c-key', Tags: keySecretTags('carol@example.com', 'svc-c'), SecretVersionsToStages: { v1: ['AWSCURRENT'] } },
          ],
        };
      case 'GetSecretValue':
        return { VersionId: 'v1', SecretString: JSON.stringify({ AccessKeyId: i.SecretId === 'arn:sm:app/b-key' ? 'AKIABBBB00000001' : 'AKIACCCC00000001', SecretAccessKey: 'very-secret' }) };
      default:
        throw new Error(`unexpected ${service}:${action}`);
    }
  };
  const ctx = {
    iam: { send: async (cmd: never) => answer('iam', cmd) } as unknown as IAMClient,
    secrets: { send: async (cmd: never) => answer('secretsmanager', cmd) } as unknown as SecretsManagerClient,
    now: () => new Date('2026-07-01T00:00:00Z'),
  };
  return { ctx, calls };
}

describe('readSnapshot', () => {
  it('reads in bulk, and per identity only what is in scope and the keys its key secrets hold', async () => {
    const { ctx, calls } = stubContext();
    const snapshot = await readSnapshot(ctx, { owner: 'alice@example.com' });
    expect(snapshot.users.map((u) => u.name)).toEqual(['svc-a', 'svc-b', 'svc-c']);
    expect(snapshot.roles.map((r) => r.name)).toEqual(['role-a']);
    expect(snapshot.users.find((u) => u.name === 'svc-a')).toMatchObject({ groups: ['devs'], inlinePolicies: [{ name: 'p', document: { Statement: [] } }], accessKeys: [{ accessKeyId: 'AKIAAAAA00000001', status: 'Active', lastUsedAt: '2026-06-01T00:00:00.000Z' }] });
    expect(snapshot.users.find((u) => u.name === 'svc-b')?.accessKeys.map((k) => k.accessKeyId)).toEqual(['AKIABBBB00000001']);
    expect(snapshot.users.find((u) => u.name === 'svc-c')?.accessKeys).toEqual([]);
    expect(snapshot.secrets.find((s) => s.name === 'app/b-key')).toMatchObject({ currentVersionId: 'v1', heldAccessKeyId: 'AKIABBBB00000001' });
    expect(snapshot.secrets.find((s) => s.name === 'app/c-key')?.heldAccessKeyId).toBeUndefined();
    expect(JSON.stringify(snapshot)).not.toContain('very-secret');
    expect(calls.filter((c) => c === 'iam:ListAccessKeys')).toHaveLength(2);
    expect(calls.filter((c) => c === 'secretsmanager:GetSecretValue')).toHaveLength(1);
    expect([...new Set(calls)].every((c) => (SNAPSHOT_PERMISSIONS as readonly string[]).includes(c))).toBe(true);
  });

  it('takes several NHIs as scope (an exposed user and the secret the event names)', async () => {
    const { ctx } = stubContext();
    const snapshot = await readSnapshot(ctx, { nhis: ['svc-a', 'arn:sm:app/c-key'] });
    expect(snapshot.users.find((u) => u.name === 'svc-a')?.accessKeys).toHaveLength(1);
    expect(snapshot.secrets.find((s) => s.name === 'app/c-key')?.heldAccessKeyId).toBe('AKIACCCC00000001');
    expect(snapshot.users.find((u) => u.name === 'svc-c')?.accessKeys).toHaveLength(1);
  });

  it('brings in the key secrets that name a user in scope', async () => {
    const { ctx } = stubContext();
    const snapshot = await readSnapshot(ctx, { nhi: 'svc-c' });
    expect(snapshot.secrets.find((s) => s.name === 'app/c-key')?.heldAccessKeyId).toBe('AKIACCCC00000001');
    expect(snapshot.users.find((u) => u.name === 'svc-a')?.accessKeys).toEqual([]);
  });
});

import { describe, expect, it } from 'vitest';
import type { IAMClient } from '@aws-sdk/client-iam';
import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { readSnapshot, SNAPSHOT_PERMISSIONS } from '../../../lambdas/connectors/snapshot-reader.js';
import type { ConnectorContext } from '../../../lambdas/connectors/types.js';
import { parseCredentialReport, reportedLastUse } from '../../../lambdas/connectors/credential-report.js';

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
          GroupDetailList: [{ GroupName: 'devs', GroupPolicyList: [], AttachedManagedPolicies: [{ PolicyName: 'app-admin', PolicyArn: 'arn:aws:iam::1:policy/app-admin' }] }],
          // Only customer-managed policies are asked for; moto leaves PolicyName out (the name is then the ARN's last part).
          Policies: i.Filter && (i.Filter as string[]).includes('LocalManagedPolicy')
            ? [
                {
                  Arn: 'arn:aws:iam::1:policy/app-admin',
                  DefaultVersionId: 'v2',
                  AttachmentCount: 2,
                  PermissionsBoundaryUsageCount: 1,
                  PolicyVersionList: [
                    { VersionId: 'v1', IsDefaultVersion: false, Document: encodeURIComponent('{"Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}') },
                    { VersionId: 'v2', IsDefaultVersion: true, Document: encodeURIComponent('{"Statement":[{"Effect":"Allow","Action":"iam:*","Resource":"*"}]}') },
                  ],
                },
                { Arn: 'arn:aws:iam::1:policy/no-document', DefaultVersionId: 'v1', AttachmentCount: 0, PolicyVersionList: [] },
              ]
            : [],
          IsTruncated: false,
        };
      case 'ListAccessKeys':
        return { AccessKeyMetadata: (keys[String(i.UserName)] ?? []).map((id) => ({ AccessKeyId: id, Status: 'Active', CreateDate: new Date('2026-01-01T00:00:00Z') })) };
      case 'ListSSHPublicKeys':
        return { SSHPublicKeys: i.UserName === 'svc-a' ? [{ UserName: 'svc-a', SSHPublicKeyId: 'APKAAAAA000000000001', Status: 'Active' }] : [] };
      case 'ListSigningCertificates':
        return { Certificates: i.UserName === 'svc-a' ? [{ UserName: 'svc-a', CertificateId: 'CERTAAAA0000000000000001', Status: 'Inactive' }] : [] };
      case 'ListServiceSpecificCredentials':
        // The bulk call answers every user's, svc-c's too (out of scope: not kept).
        return {
          ServiceSpecificCredentials: i.AllUsers
            ? [
                { UserName: 'svc-b', ServiceSpecificCredentialId: 'ACCABBBB000000000001', Status: 'Active' },
                { UserName: 'svc-c', ServiceSpecificCredentialId: 'ACCACCCC000000000001', Status: 'Active' },
              ]
            : [],
          IsTruncated: false,
        };
      case 'GetLoginProfile':
        if (i.UserName === 'svc-a') return { LoginProfile: { UserName: 'svc-a' } };
        throw Object.assign(new Error('no login profile'), { name: 'NoSuchEntity', $metadata: { httpStatusCode: 404 } });
      case 'GenerateCredentialReport':
        return { State: 'COMPLETE' };
      case 'GetCredentialReport':
        return {
          Content: new TextEncoder().encode(
            [
              'user,arn,password_enabled,access_key_1_active,access_key_1_last_rotated,access_key_1_last_used_date,access_key_2_active,access_key_2_last_rotated,access_key_2_last_used_date,cert_1_active,cert_2_active',
              'svc-a,arn:aws:iam::1:user/svc-a,true,true,2026-01-01T00:00:00+00:00,2026-05-01T00:00:00+00:00,false,N/A,N/A,false,false',
              'svc-b,arn:aws:iam::1:user/svc-b,false,true,2026-01-01T00:00:00+00:00,N/A,false,N/A,N/A,true,false',
              // svc-c's key is newer than the report: its last use is read per key.
              'svc-c,arn:aws:iam::1:user/svc-c,false,false,N/A,N/A,false,N/A,N/A,false,false',
            ].join('\n'),
          ),
        };
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
    expect(snapshot.users.find((u) => u.name === 'svc-a')).toMatchObject({
      loginProfile: true,
      credentials: [
        { type: 'signingCertificate', id: 'CERTAAAA0000000000000001', status: 'Inactive' },
        { type: 'sshPublicKey', id: 'APKAAAAA000000000001', status: 'Active' },
      ],
    });
    expect(snapshot.users.find((u) => u.name === 'svc-b')).toMatchObject({ loginProfile: false, credentials: [{ type: 'serviceSpecificCredential', id: 'ACCABBBB000000000001', status: 'Active' }] });
    expect(snapshot.users.find((u) => u.name === 'svc-c')?.credentials, 'out of scope: not read').toBeUndefined();
    expect(calls.filter((c) => c === 'iam:ListAccessKeys')).toHaveLength(2);
    expect(calls.filter((c) => c === 'iam:ListServiceSpecificCredentials'), 'one bulk call for every user').toHaveLength(1);
    expect(calls.filter((c) => c === 'secretsmanager:GetSecretValue')).toHaveLength(1);
    expect([...new Set(calls)].every((c) => (SNAPSHOT_PERMISSIONS as readonly string[]).includes(c))).toBe(true);
  });

  it('reads groups with their attached managed policies, and customer-managed policies with their default documents, in the same bulk call', async () => {
    const { ctx, calls } = stubContext();
    const snapshot = await readSnapshot(ctx, { nhi: 'svc-a' });
    expect(snapshot.groups).toEqual([{ name: 'devs', inlinePolicies: [], attachedPolicies: [{ policyArn: 'arn:aws:iam::1:policy/app-admin', policyName: 'app-admin' }] }]);
    expect(snapshot.managedPolicies, 'a policy whose default document the page lacks is left out').toEqual([
      { arn: 'arn:aws:iam::1:policy/app-admin', name: 'app-admin', defaultVersionId: 'v2', document: { Statement: [{ Effect: 'Allow', Action: 'iam:*', Resource: '*' }] }, versionCount: 2, attachmentCount: 2, boundaryUsageCount: 1 },
    ]);
    expect(calls.filter((c) => c === 'iam:GetAccountAuthorizationDetails'), 'no call of its own').toHaveLength(1);
  });

  it('reads the whole account with the credential report: no per-user console read, certificates only where one is active, key use matched by creation time', async () => {
    const { ctx, calls } = stubContext();
    const snapshot = await readSnapshot(ctx, { all: true });
    expect(snapshot.users.find((u) => u.name === 'svc-a')).toMatchObject({ loginProfile: true, accessKeys: [{ accessKeyId: 'AKIAAAAA00000001', lastUsedAt: '2026-05-01T00:00:00.000Z' }] });
    expect(snapshot.users.find((u) => u.name === 'svc-b')).toMatchObject({ loginProfile: false, accessKeys: [{ lastUsedAt: null }] });
    expect(snapshot.users.find((u) => u.name === 'svc-c')?.accessKeys[0]?.lastUsedAt).toBe('2026-06-01T00:00:00.000Z');
    expect(calls.filter((c) => c === 'iam:GetLoginProfile')).toEqual([]);
    expect(calls.filter((c) => c === 'iam:ListSigningCertificates'), 'svc-b shows an active certificate').toHaveLength(1);
    expect(calls.filter((c) => c === 'iam:GetAccessKeyLastUsed'), 'only svc-c, whose key the report does not name').toHaveLength(1);
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

describe('parseCredentialReport', () => {
  it('leaves out a row whose user name holds a comma (read per call instead), and reads N/A as unknown', () => {
    const report = parseCredentialReport(
      ['user,password_enabled,access_key_1_last_rotated,access_key_1_last_used_date,access_key_2_last_rotated,access_key_2_last_used_date,cert_1_active,cert_2_active', 'a,b,true,N/A,N/A,N/A,N/A,false,false', 'svc,false,2026-01-01T00:00:00+00:00,N/A,N/A,N/A,false,true'].join('\n'),
    );
    expect([...report.keys()]).toEqual(['svc']);
    expect(report.get('svc')).toEqual({ passwordEnabled: false, activeCertificate: true, keys: [{ createdAt: '2026-01-01T00:00:00.000Z', lastUsedAt: null }, { createdAt: null, lastUsedAt: null }] });
    expect(reportedLastUse(report.get('svc'), new Date('2026-01-01T00:00:00.400Z'))).toBeNull();
    expect(reportedLastUse(report.get('svc'), new Date('2026-01-02T00:00:00Z'))).toBeUndefined();
    expect(() => parseCredentialReport('user,arn\nx,y')).toThrow(/lacks a column/);
  });
});

import { describe, expect, it } from 'vitest';
import type { IAMClient } from '@aws-sdk/client-iam';
import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { readSnapshot, SNAPSHOT_PERMISSIONS } from '../../../lambdas/connectors/snapshot-reader.js';
import type { ConnectorContext } from '../../../lambdas/connectors/types.js';
import type { Plan } from '../../../lambdas/domain/plan-model.js';
import type { Snapshot, UserSnapshot } from '../../../lambdas/domain/snapshot.js';
import { detailWanted, readPlanningSnapshot } from '../../../lambdas/handlers/core/planning-read.js';
import { events, PLAN_NOW, planFor } from '../../fixtures/planning.js';

interface StubKey {
  readonly id: string;
  readonly created: string;
  readonly used: string | null;
  readonly active?: boolean;
}

interface StubEstate {
  readonly users: Record<string, { readonly owner: string | null; readonly keys: readonly StubKey[] }>;
  /** Key secrets: name → [user tag, held key id]. */
  readonly secrets: Record<string, readonly [string, string]>;
  /** Users the credential report does not name yet (made since it was). */
  readonly unreported?: readonly string[];
}

const arnOf = (name: string) => `arn:aws:iam::123456789012:user/${name}`;
const secretArn = (name: string) => `arn:aws:secretsmanager:us-east-1:123456789012:secret:${name}`;
const tags = (owner: string | null) => [{ Key: 'nhi-governed', Value: 'true' }, ...(owner ? [{ Key: 'owner', Value: owner }] : [])];
const VERSION = 'a1b2c3d4-0000-4000-8000-000000000001';
const reportDate = (iso: string | null) => (iso ? iso.replace(/\.\d{3}Z$/, '+00:00') : 'N/A');

/** An account answering the snapshot's reads from `estate`, counting every call. */
function stubAccount(estate: StubEstate): { ctx: ConnectorContext; calls: string[] } {
  const calls: string[] = [];
  const answer = (service: string, cmd: { constructor: { name: string }; input: Record<string, unknown> }): unknown => {
    const action = cmd.constructor.name.replace(/Command$/, '');
    calls.push(`${service}:${action}`);
    const userName = String(cmd.input.UserName ?? '');
    switch (action) {
      case 'GetAccountAuthorizationDetails':
        return {
          UserDetailList: Object.entries(estate.users).map(([name, u]) => ({ UserName: name, Arn: arnOf(name), Tags: tags(u.owner) })),
          RoleDetailList: [{ RoleName: 'role-a', Arn: 'arn:aws:iam::123456789012:role/role-a', Tags: tags('alice@example.com') }],
          IsTruncated: false,
        };
      case 'GenerateCredentialReport':
        return { State: 'COMPLETE' };
      case 'GetCredentialReport': {
        const header = 'user,arn,password_enabled,access_key_1_active,access_key_1_last_rotated,access_key_1_last_used_date,access_key_2_active,access_key_2_last_rotated,access_key_2_last_used_date,cert_1_active,cert_2_active';
        const rows = Object.entries(estate.users)
          .filter(([name]) => !(estate.unreported ?? []).includes(name))
          .map(([name, u]) => {
            const slot = (k: StubKey | undefined) => (k ? [String(k.active ?? true), reportDate(k.created), reportDate(k.used)] : ['false', 'N/A', 'N/A']);
            return [name, arnOf(name), 'false', ...slot(u.keys[0]), ...slot(u.keys[1]), 'false', 'false'].join(',');
          });
        return { Content: new TextEncoder().encode([header, ...rows].join('\n')) };
      }
      case 'ListAccessKeys':
        return { AccessKeyMetadata: (estate.users[userName]?.keys ?? []).map((k) => ({ AccessKeyId: k.id, Status: k.active === false ? 'Inactive' : 'Active', CreateDate: new Date(k.created) })) };
      case 'GetAccessKeyLastUsed': {
        const key = Object.values(estate.users).flatMap((u) => u.keys).find((k) => k.id === cmd.input.AccessKeyId);
        return { AccessKeyLastUsed: key?.used ? { LastUsedDate: new Date(key.used) } : {} };
      }
      case 'ListSSHPublicKeys':
        return { SSHPublicKeys: [] };
      case 'ListSigningCertificates':
        return { Certificates: [] };
      case 'ListServiceSpecificCredentials':
        return { ServiceSpecificCredentials: [], IsTruncated: false };
      case 'GetLoginProfile':
        throw Object.assign(new Error('no login profile'), { name: 'NoSuchEntity', $metadata: { httpStatusCode: 404 } });
      case 'ListSecrets':
        return {
          SecretList: Object.entries(estate.secrets).map(([name, [user]]) => ({
            Name: name,
            ARN: secretArn(name),
            Tags: [...tags('alice@example.com'), { Key: 'nhigov:kind', Value: 'iam-access-key' }, { Key: 'nhigov:user', Value: user }],
            SecretVersionsToStages: { [VERSION]: ['AWSCURRENT'] },
            CreatedDate: new Date('2026-06-20T00:00:00Z'),
          })),
        };
      case 'GetSecretValue': {
        const held = Object.entries(estate.secrets).find(([name]) => secretArn(name) === cmd.input.SecretId)?.[1][1];
        return { VersionId: VERSION, SecretString: JSON.stringify({ AccessKeyId: held, SecretAccessKey: 'very-secret' }) };
      }
      default:
        throw new Error(`unexpected ${service}:${action}`);
    }
  };
  const ctx = {
    iam: { send: async (cmd: never) => answer('iam', cmd) } as unknown as IAMClient,
    secrets: { send: async (cmd: never) => answer('secretsmanager', cmd) } as unknown as SecretsManagerClient,
    now: () => PLAN_NOW,
  };
  return { ctx, calls };
}

const count = (calls: readonly string[], action: string) => calls.filter((c) => c === action).length;

/** As of PLAN_NOW (2026-07-01) under the default policy (90 days everywhere). */
const ESTATE: StubEstate = {
  users: {
    // Never used since January: deactivated as unused.
    'svc-idle': { owner: 'alice@example.com', keys: [{ id: 'AKIAIDLE0000000001', created: '2026-01-01T00:00:00.000Z', used: null }] },
    // Used yesterday, made in June: nothing to do.
    'svc-busy': { owner: 'alice@example.com', keys: [{ id: 'AKIABUSY0000000001', created: '2026-06-01T00:00:00.000Z', used: '2026-06-30T00:00:00.000Z' }] },
    // Used, but made in February and held by a secret: the secret is rotated.
    'svc-aged': { owner: 'alice@example.com', keys: [{ id: 'AKIAAGED0000000001', created: '2026-02-01T00:00:00.000Z', used: '2026-06-30T00:00:00.000Z' }] },
    // Held by a secret, recent: nothing to do.
    'svc-held': { owner: 'alice@example.com', keys: [{ id: 'AKIAHELD0000000001', created: '2026-06-20T00:00:00.000Z', used: '2026-06-30T00:00:00.000Z' }] },
    // Two keys, one inactive and old (nothing to do), one in use.
    'svc-two': {
      owner: 'alice@example.com',
      keys: [
        { id: 'AKIATWOA0000000001', created: '2026-01-01T00:00:00.000Z', used: null, active: false },
        { id: 'AKIATWOB0000000001', created: '2026-06-01T00:00:00.000Z', used: '2026-06-30T00:00:00.000Z' },
      ],
    },
    // No owner: reported from the bulk read alone.
    'svc-orphan': { owner: null, keys: [{ id: 'AKIAORPH0000000001', created: '2026-06-01T00:00:00.000Z', used: '2026-06-30T00:00:00.000Z' }] },
    // Made after the report: read one by one in the first pass.
    'svc-new': { owner: 'alice@example.com', keys: [{ id: 'AKIANEWW0000000001', created: '2026-06-30T12:00:00.000Z', used: null }] },
  },
  secrets: { 'app/aged-key': ['svc-aged', 'AKIAAGED0000000001'], 'app/held-key': ['svc-held', 'AKIAHELD0000000001'] },
  unreported: ['svc-new'],
};

describe('readPlanningSnapshot: a reconcile of the whole account', () => {
  const reconcile = events.reconcile('all');
  const planOn = (snapshot: Snapshot): Plan => planFor(reconcile, snapshot);

  it('plans exactly what the full read plans', async () => {
    const full = planOn(await readSnapshot(stubAccount(ESTATE).ctx, { all: true }));
    const planned = planOn(await readPlanningSnapshot(stubAccount(ESTATE).ctx, reconcile, planOn));
    expect(planned.actions).toEqual(full.actions);
    expect(planned.findings).toEqual(full.findings);
    expect(planned.actions.map((a) => [a.kind, a.target.id])).toEqual([
      ['iam.deactivateAccessKey', 'AKIAIDLE0000000001'],
      ['secrets.rotateAccessKeySecret', 'app/aged-key'],
    ]);
  });

  it('reads one by one only the NHIs that may need an action, what key holding brings in, and the users the report does not name', async () => {
    const { ctx, calls } = stubAccount(ESTATE);
    const snapshot = await readPlanningSnapshot(ctx, reconcile, planOn);
    const listed = (name: string) => snapshot.users.find((u) => u.name === name);
    expect(count(calls, 'iam:ListAccessKeys'), 'svc-idle, svc-aged (its secret is due), svc-new (not in the report)').toBe(3);
    expect(count(calls, 'secretsmanager:GetSecretValue'), 'app/aged-key only').toBe(1);
    expect(count(calls, 'iam:GetAccessKeyLastUsed'), 'the report dates every key it names; svc-new it does not name').toBe(1);
    expect(count(calls, 'iam:ListSSHPublicKeys'), 'other credentials: only svc-new, read whole in the first pass').toBe(1);
    expect(count(calls, 'iam:GenerateCredentialReport') + count(calls, 'iam:GetCredentialReport')).toBe(2);
    expect(listed('svc-busy')).toMatchObject({ accessKeys: [], reportedKeys: [{ active: true, createdAt: '2026-06-01T00:00:00.000Z', lastUsedAt: '2026-06-30T00:00:00.000Z' }], loginProfile: false });
    expect(listed('svc-busy')?.credentials, 'not read').toBeUndefined();
    expect(listed('svc-idle')?.reportedKeys, 'read one by one').toBeUndefined();
    expect(listed('svc-idle')?.accessKeys.map((k) => k.accessKeyId)).toEqual(['AKIAIDLE0000000001']);
    expect(snapshot.secrets.find((s) => s.name === 'app/held-key')?.heldAccessKeyId, 'not read').toBeUndefined();
    expect(snapshot.detailFromReport).toBe(true);
    expect([...new Set(calls)].every((c) => (SNAPSHOT_PERMISSIONS as readonly string[]).includes(c))).toBe(true);
  });

  it('makes as few calls as the bulk pages when nothing may need an action', async () => {
    const quiet: StubEstate = { users: { 'svc-busy': ESTATE.users['svc-busy'] ?? { owner: null, keys: [] } }, secrets: {} };
    const { ctx, calls } = stubAccount(quiet);
    const plan = planOn(await readPlanningSnapshot(ctx, reconcile, planOn));
    expect(plan.actions).toEqual([]);
    expect(plan.findings).toEqual([]);
    expect(calls.sort()).toEqual(['iam:GenerateCredentialReport', 'iam:GetAccountAuthorizationDetails', 'iam:GetCredentialReport', 'secretsmanager:ListSecrets']);
  });

  it('reads a scoped trigger exactly, as readSnapshot does', async () => {
    const { ctx, calls } = stubAccount(ESTATE);
    const snapshot = await readPlanningSnapshot(ctx, events.reconcile({ nhi: 'svc-busy' }), () => {
      throw new Error('a scoped read plans once, from the snapshot it returns');
    });
    expect(snapshot.detailFromReport).toBeUndefined();
    expect(snapshot.users.find((u) => u.name === 'svc-busy')?.accessKeys).toHaveLength(1);
    expect(count(calls, 'iam:GetCredentialReport')).toBe(0);
  });
});

describe('detailWanted', () => {
  const user = (name: string, read: Partial<UserSnapshot> = {}): UserSnapshot => ({
    type: 'user',
    name,
    arn: arnOf(name),
    tags: { 'nhi-governed': 'true', owner: 'alice@example.com' },
    accessKeys: [],
    attachedPolicies: [],
    inlinePolicies: [],
    groups: [],
    reportedKeys: [],
    ...read,
  });
  const keySecret = (name: string, holder: string) => ({
    type: 'secret' as const,
    name,
    arn: secretArn(name),
    tags: { 'nhi-governed': 'true', owner: 'alice@example.com', 'nhigov:kind': 'iam-access-key', 'nhigov:user': holder },
    currentVersionId: 'v1',
    lastRotatedAt: null,
    lastChangedAt: null,
    createdAt: null,
  });
  const exact = { reportedKeys: undefined, accessKeys: [], credentials: [], loginProfile: false };
  const coarse: Snapshot = {
    takenAt: PLAN_NOW.toISOString(),
    users: [user('a'), user('b'), user('c', exact), user('d')],
    roles: [],
    secrets: [keySecret('b-key', 'b'), { ...keySecret('c-key', 'c'), heldAccessKeyId: 'AKIACCCC' }, keySecret('d-key', 'd')],
    detailFromReport: true,
  };
  const finding = (nhi: string, reasonCode: Plan['findings'][number]['reasonCode']) => ({ nhi, reasonCode, message: '' });
  const wanted = (plan: { actions?: Array<{ target: { nhi: string } }>; findings?: Array<ReturnType<typeof finding>> }) => {
    const w = detailWanted(coarse, { actions: plan.actions ?? [], findings: plan.findings ?? [] });
    return { keys: [...w.keys].sort(), credentials: [...w.credentials].sort(), secrets: [...w.secrets].sort() };
  };

  it('nothing to act on: nothing to read', () => {
    expect(wanted({})).toEqual({ keys: [], credentials: [], secrets: [] });
  });

  it('a finding on a user reads its keys and the key secrets naming it, by name or by ARN (a member account)', () => {
    expect(wanted({ findings: [finding('b', 'KEY_UNUSED')] })).toEqual({ keys: ['b'], credentials: [], secrets: [secretArn('b-key')] });
    expect(wanted({ findings: [finding(arnOf('b'), 'KEY_UNUSED')] })).toEqual({ keys: ['b'], credentials: [], secrets: [secretArn('b-key')] });
  });

  it('a finding on a key secret reads the key it holds and its user', () => {
    expect(wanted({ findings: [finding('d-key', 'SECRET_ROTATION_OVERDUE')] })).toEqual({ keys: ['d'], credentials: [], secrets: [secretArn('d-key')] });
  });

  it('a held state not judged yet reads the user whole: keys and other credentials', () => {
    expect(wanted({ findings: [finding('a', 'HELD_STATE_DRIFT')] })).toEqual({ keys: ['a'], credentials: ['a'], secrets: [] });
  });

  it('an action target is read too; findings of the bulk read alone are not', () => {
    expect(wanted({ actions: [{ target: { nhi: 'a' } }], findings: [finding('d', 'OWNER_UNKNOWN')] })).toEqual({ keys: ['a'], credentials: [], secrets: [] });
  });

  it('what was read already is not read again', () => {
    expect(wanted({ findings: [finding('c', 'KEY_UNUSED'), finding('c-key', 'SECRET_ROTATION_OVERDUE')] })).toEqual({ keys: [], credentials: [], secrets: [] });
  });
});

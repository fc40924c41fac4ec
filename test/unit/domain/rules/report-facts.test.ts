import { describe, expect, it } from 'vitest';
import { ACTION_CATALOG } from '../../../../lambdas/connectors/registry.js';
import type { HeldState } from '../../../../lambdas/domain/held-states.js';
import { planChange } from '../../../../lambdas/domain/plan.js';
import type { Plan } from '../../../../lambdas/domain/plan-model.js';
import type { GovernancePolicy } from '../../../../lambdas/domain/policy.js';
import type { ReportedAccessKey, SecretSnapshot, Snapshot, UserSnapshot } from '../../../../lambdas/domain/snapshot.js';
import { DEFAULT_POLICY, DEFAULT_POLICY_VERSION, policyWith } from '../../../fixtures/policies.js';
import { events, PLAN_NOW } from '../../../fixtures/planning.js';

/** The first pass of a reconcile of the whole account: users as the credential report shows them, no held key read. */
const reportedUser = (name: string, reportedKeys: ReportedAccessKey[], owner: string | null = 'alice@example.com'): UserSnapshot => ({
  type: 'user',
  name,
  arn: `arn:aws:iam::123456789012:user/${name}`,
  tags: { 'nhi-governed': 'true', ...(owner ? { owner } : {}) },
  accessKeys: [],
  attachedPolicies: [],
  inlinePolicies: [],
  groups: [],
  loginProfile: false,
  reportedKeys,
});

const keySecret = (name: string, user: string, dates: Partial<Pick<SecretSnapshot, 'lastRotatedAt' | 'lastChangedAt' | 'createdAt'>> = {}): SecretSnapshot => ({
  type: 'secret',
  name,
  arn: `arn:aws:secretsmanager:us-east-1:123456789012:secret:${name}`,
  tags: { 'nhi-governed': 'true', owner: 'alice@example.com', 'nhigov:kind': 'iam-access-key', 'nhigov:user': user },
  currentVersionId: 'a1b2c3d4-0000-4000-8000-000000000001',
  lastRotatedAt: null,
  lastChangedAt: null,
  createdAt: '2026-06-20T00:00:00.000Z',
  ...dates,
});

const coarse = (users: UserSnapshot[], secrets: SecretSnapshot[] = [], detailFromReport = true): Snapshot => ({ takenAt: PLAN_NOW.toISOString(), users, roles: [], secrets, ...(detailFromReport ? { detailFromReport } : {}) });

const plan = (snapshot: Snapshot, options: { policy?: GovernancePolicy; held?: HeldState[] } = {}): Plan =>
  planChange({ changeId: 'chg-test', policy: options.policy ?? DEFAULT_POLICY, policyVersion: DEFAULT_POLICY_VERSION, event: events.reconcile('all'), estates: [{ snapshot }], now: PLAN_NOW, catalog: ACTION_CATALOG, held: options.held ?? [] });

const codes = (p: Plan) => p.findings.map((f) => [f.nhi, f.reasonCode]);

const key = (createdAt: string | null, lastUsedAt: string | null, active = true): ReportedAccessKey => ({ active, createdAt, lastUsedAt });
const RECENT = '2026-06-20T00:00:00.000Z';
const OLD = '2026-01-01T00:00:00.000Z';

describe('reconcile over keys the credential report shows (no key ids): findings, never actions', () => {
  it('an active key unused past inactivityDays, or older than maxKeyAgeDays, selects its user', () => {
    const p = plan(coarse([reportedUser('idle', [key(OLD, null)]), reportedUser('aged', [key(OLD, RECENT)]), reportedUser('busy', [key(RECENT, RECENT)])]));
    expect(p.actions).toEqual([]);
    expect(codes(p)).toEqual([
      ['aged', 'KEY_AGE_EXCEEDED'],
      ['idle', 'KEY_UNUSED'],
    ]);
  });

  it('an inactive key is nothing to act on; an active key the report does not date is read', () => {
    const p = plan(coarse([reportedUser('off', [key(OLD, null, false)]), reportedUser('undated', [key(null, null)])]));
    expect(codes(p)).toEqual([['undated', 'KEY_UNUSED']]);
  });

  it('a user without an owner is reported from the bulk read alone: its keys select nothing', () => {
    expect(codes(plan(coarse([reportedUser('orphan', [key(OLD, null)], null)])))).toEqual([['orphan', 'OWNER_UNKNOWN']]);
  });

  it('a key secret whose held key was not read: selected when any key of its user could make the rotation due', () => {
    const users = [reportedUser('u-old', [key('2026-03-01T00:00:00.000Z', RECENT), key(RECENT, RECENT)]), reportedUser('u-new', [key(RECENT, RECENT)]), reportedUser('u-none', [])];
    // u-old's older key is past 90 days as of 2026-07-01 (122 days): due, whichever key the secret holds.
    const p = plan(coarse(users, [keySecret('old-key', 'u-old'), keySecret('new-key', 'u-new'), keySecret('stale-key', 'u-none', { createdAt: OLD }), keySecret('gone-user-key', 'nobody', { lastChangedAt: OLD })]));
    expect(codes(p)).toEqual([
      ['u-old', 'KEY_AGE_EXCEEDED'],
      ['gone-user-key', 'SECRET_ROTATION_OVERDUE'],
      ['old-key', 'KEY_AGE_EXCEEDED'],
      ['stale-key', 'SECRET_ROTATION_OVERDUE'],
    ]);
  });

  it('a baseline over its active key count is read when the report shows too many keys', () => {
    const policy = policyWith(() => ({ baselines: [{ name: 'one-key', maxActiveAccessKeys: 1 }] }));
    const p = plan(coarse([reportedUser('two', [key(RECENT, RECENT), key(RECENT, RECENT)]), reportedUser('one', [key(RECENT, RECENT), key(OLD, null, false)])]), { policy });
    expect(codes(p)).toEqual([['two', 'EXCESSIVE_PRIVILEGE']]);
  });
});

describe('held states over a snapshot partly from the report', () => {
  const origin = { changeId: 'chg-old', actionId: 'a1', trigger: 'Employee Terminated', at: '2026-06-01T00:00:00.000Z' };
  const held: HeldState = {
    facet: 'accessKey:AKIAHELD:status',
    target: { type: 'accessKey', id: 'AKIAHELD0000000001', nhi: 'svc' },
    kind: 'iam.deactivateAccessKey',
    params: { userName: 'svc', accessKeyId: 'AKIAHELD0000000001' },
    state: { status: 'Inactive' },
    group: 'revocation',
    establishedBy: origin,
    lastVerifiedBy: origin,
    restoresAccess: false,
  };

  it('a key not read one by one cannot be judged: the user is selected, nothing is planned', () => {
    const p = plan(coarse([reportedUser('svc', [key(RECENT, RECENT)])]), { held: [held] });
    expect(p.actions).toEqual([]);
    expect(codes(p)).toEqual([['svc', 'HELD_STATE_DRIFT']]);
  });

  it('out of a report-based read, a target the snapshot does not have stays unjudged, as before', () => {
    const exact: UserSnapshot = { ...reportedUser('svc', []), reportedKeys: undefined, credentials: [] };
    expect(plan(coarse([exact], [], false), { held: [held] }).findings).toEqual([]);
  });
});

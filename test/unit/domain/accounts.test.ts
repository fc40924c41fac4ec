import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ACTION_CATALOG } from '../../../lambdas/connectors/registry.js';
import { accountOfArn, governedAccounts, memberRoleArn, partitionOfRegion } from '../../../lambdas/domain/accounts.js';
import { accountsForEvent } from '../../../lambdas/domain/event-accounts.js';
import type { GovernanceEvent } from '../../../lambdas/domain/events.js';
import { outcomeOfFindings } from '../../../lambdas/domain/outcome.js';
import { planChange, type AccountEstate } from '../../../lambdas/domain/plan.js';
import { parsePolicy } from '../../../lambdas/domain/policy.js';
import { isAppError } from '../../../lambdas/domain/reasons.js';
import type { Snapshot } from '../../../lambdas/domain/snapshot.js';
import { ACCOUNT, role, secret, snapshotOf, user } from '../../fixtures/estate-builder.js';
import { events, PLAN_NOW } from '../../fixtures/planning.js';
import { DEFAULT_POLICY, DEFAULT_POLICY_VERSION, policyWith } from '../../fixtures/policies.js';
import { stringify } from 'yaml';

const HOME = { id: ACCOUNT, partition: 'aws' };
const MEMBER_A = '111111111111';
const MEMBER_B = '222222222222';
const ALICE = 'alice@example.com';
const POLICY = policyWith(() => ({ accounts: [{ id: MEMBER_A }, { id: MEMBER_B, roleName: 'gov-reader' }] }));
const ACCOUNTS = governedAccounts(POLICY, HOME);

/** The same estate as the stack's own account has, moved into `account` (names repeat across accounts). */
function inAccount(snapshot: Snapshot, account: string): Snapshot {
  const move = <T extends { arn: string }>(nhi: T): T => ({ ...nhi, arn: nhi.arn.replace(`:${ACCOUNT}:`, `:${account}:`) });
  return { ...snapshot, users: snapshot.users.map(move), roles: snapshot.roles.map(move), secrets: snapshot.secrets.map(move) };
}

const estate = snapshotOf({
  users: [user('svc-a', { owner: ALICE, keys: [{ accessKeyId: 'AKIAHOME0000000000A1' }] })],
  roles: [role('deployer', { owner: ALICE })],
  secrets: [secret('app/key', { owner: 'bob@example.com', holds: { user: 'svc-a', accessKeyId: 'AKIAHOME0000000000A1' } })],
});
const memberEstate = (account: string, keyId: string): Snapshot => {
  const moved = inAccount(estate, account);
  return { ...moved, users: moved.users.map((u) => ({ ...u, accessKeys: u.accessKeys.map((k) => ({ ...k, accessKeyId: keyId })) })), secrets: [] };
};

function plan(event: GovernanceEvent, estates: AccountEstate[], unreadable: Parameters<typeof planChange>[0]['unreadable'] = []) {
  return planChange({ changeId: 'chg-accounts', policy: POLICY, policyVersion: DEFAULT_POLICY_VERSION, event, estates, unreadable, now: PLAN_NOW, catalog: ACTION_CATALOG });
}

describe('the policy\'s accounts block', () => {
  const text = (accounts: unknown): string => stringify({ ...DEFAULT_POLICY, accounts });

  it('governs the stack\'s own account first, then each member with its role (nhigov-member unless named)', () => {
    expect(ACCOUNTS).toEqual([
      { id: ACCOUNT, roleArn: null },
      { id: MEMBER_A, roleArn: `arn:aws:iam::${MEMBER_A}:role/nhigov-member` },
      { id: MEMBER_B, roleArn: `arn:aws:iam::${MEMBER_B}:role/gov-reader` },
    ]);
    expect(governedAccounts({ accounts: [{ id: ACCOUNT }] }, HOME)).toEqual([{ id: ACCOUNT, roleArn: null }]);
  });

  it('refuses an unquoted id (a YAML number loses leading zeros), a short one, a bad role name and a repeated account', () => {
    const refused = (accounts: unknown): string => {
      try {
        parsePolicy(text(accounts));
        return 'accepted';
      } catch (error) {
        return isAppError(error) ? `${error.reasonCode}: ${error.message}` : String(error);
      }
    };
    expect(refused([{ id: 11111111111 }])).toMatch(/POLICY_INVALID.*accounts\.0\.id: a 12-digit account id as a string/);
    expect(refused([{ id: '11111' }])).toMatch(/POLICY_INVALID.*accounts\.0\.id/);
    expect(refused([{ id: MEMBER_A, roleName: 'no spaces' }])).toMatch(/POLICY_INVALID.*accounts\.0\.roleName/);
    expect(refused([{ id: MEMBER_A }, { id: MEMBER_A }])).toMatch(/POLICY_INVALID.*accounts\.1\.id: "111111111111" is listed twice/);
    expect(refused([{ id: MEMBER_A, roleName: 'nhigov-member' }])).toBe('accepted');
  });

  it('names member roles in the stack\'s partition', () => {
    expect(partitionOfRegion('cn-north-1')).toBe('aws-cn');
    expect(partitionOfRegion('us-gov-west-1')).toBe('aws-us-gov');
    expect(memberRoleArn(partitionOfRegion('eu-west-1'), MEMBER_A)).toBe(`arn:aws:iam::${MEMBER_A}:role/nhigov-member`);
  });
});

describe('which accounts a trigger reads', () => {
  const ids = (event: GovernanceEvent) => accountsForEvent(event, ACCOUNTS).map((a) => a.id);

  it('a termination or a reconcile of all reads every governed account; an NHI by name the stack\'s own; by ARN its account', () => {
    expect(ids(events.terminated(ALICE))).toEqual([ACCOUNT, MEMBER_A, MEMBER_B]);
    expect(ids(events.reconcile('all'))).toEqual([ACCOUNT, MEMBER_A, MEMBER_B]);
    expect(ids(events.ownerChanged('svc-a', ALICE, 'bob@example.com'))).toEqual([ACCOUNT]);
    expect(ids(events.reconcile({ nhi: `arn:aws:iam::${MEMBER_B}:user/svc-a` }))).toEqual([MEMBER_B]);
  });

  it('a provider\'s finding naming a user by name is acted on in the account it reported from', () => {
    const fromMember: GovernanceEvent = { ...events.exposed('svc-a', { accessKeyId: 'AKIAMEMBER00000000A1' }), cause: { source: 'aws.guardduty', detailType: 'GuardDuty Finding', eventId: 'e', type: 't', reference: 'r', account: MEMBER_A } };
    expect(ids(fromMember)).toEqual([MEMBER_A]);
  });

  it('an ARN in an account the policy does not govern is refused, naming the account', () => {
    expect(() => ids(events.reconcile({ nhi: 'arn:aws:iam::999999999999:user/x' }))).toThrow(/account 999999999999, which the policy does not govern/);
  });

  it('never reads an account outside the governed ones, and always the one an ARN names', () => {
    const account = fc.constantFrom(ACCOUNT, MEMBER_A, MEMBER_B);
    fc.assert(
      fc.property(account, fc.stringMatching(/^[a-z][a-z0-9-]{0,20}$/), (id, name) => {
        const read = ids(events.reconcile({ nhi: `arn:aws:iam::${id}:role/${name}` }));
        expect(read).toEqual([id]);
        expect(accountOfArn(`arn:aws:iam::${id}:role/${name}`)).toBe(id);
      }),
    );
  });
});

describe('one plan across accounts', () => {
  const estates: AccountEstate[] = [
    { account: ACCOUNT, snapshot: estate },
    { account: MEMBER_A, snapshot: memberEstate(MEMBER_A, 'AKIAMEMBERA0000000A1'), member: true },
    { account: MEMBER_B, snapshot: memberEstate(MEMBER_B, 'AKIAMEMBERB0000000A1'), member: true },
  ];

  it('a termination finds the leaver\'s NHIs in every account: each target names its account, member NHIs by ARN', () => {
    const p = plan(events.terminated(ALICE), estates);
    const keys = p.actions.filter((a) => a.kind === 'iam.deactivateAccessKey');
    expect(keys.map((a) => [a.target.account, a.target.nhi, a.target.id])).toEqual([
      [ACCOUNT, 'svc-a', 'AKIAHOME0000000000A1'],
      [MEMBER_A, `arn:aws:iam::${MEMBER_A}:user/svc-a`, 'AKIAMEMBERA0000000A1'],
      [MEMBER_B, `arn:aws:iam::${MEMBER_B}:user/svc-a`, 'AKIAMEMBERB0000000A1'],
    ]);
    expect(p.actions.every((a) => a.target.account !== undefined)).toBe(true);
    // Numbered once across accounts, in phase order; the same action in two accounts is two actions.
    expect(p.actions.map((a) => a.actionId)).toEqual(p.actions.map((_, i) => `a${i + 1}`));
    expect(p.actions.map((a) => a.phase)).toEqual([...p.actions.map((a) => a.phase)].sort((x, y) => x - y));
    expect(new Set(p.actions.map((a) => a.idempotencyKey)).size).toBe(p.actions.length);
    const roleActions = p.actions.filter((a) => a.target.type === 'role');
    expect(new Set(roleActions.map((a) => a.target.account))).toEqual(new Set([ACCOUNT, MEMBER_A, MEMBER_B]));
  });

  it('an account that could not be read is a CONNECTOR_ACCESS_DENIED finding naming it: the others are planned, the change escalates', () => {
    const roleArn = `arn:aws:iam::${MEMBER_B}:role/gov-reader`;
    const p = plan(events.terminated(ALICE), estates.slice(0, 2), [{ account: MEMBER_B, roleArn, message: 'AccessDenied' }]);
    expect(new Set(p.actions.map((a) => a.target.account))).toEqual(new Set([ACCOUNT, MEMBER_A]));
    expect(p.findings).toContainEqual(expect.objectContaining({ nhi: roleArn, account: MEMBER_B, reasonCode: 'CONNECTOR_ACCESS_DENIED', message: expect.stringContaining(`account ${MEMBER_B} was not read`) }));
    expect(outcomeOfFindings(p)).toMatchObject({ status: 'ESCALATED', reasonCodes: ['CONNECTOR_ACCESS_DENIED'] });
  });

  it('an approval rule on a member account matches only actions there', () => {
    const policy = policyWith(() => ({
      accounts: [{ id: MEMBER_A }],
      approval: { ...DEFAULT_POLICY.approval, requiredForTags: {}, requiredForIrreversible: false, rules: [{ name: 'member-a', match: { accounts: [MEMBER_A] }, group: DEFAULT_POLICY.approval.group }] },
    }));
    const p = planChange({ changeId: 'chg-rule', policy, policyVersion: DEFAULT_POLICY_VERSION, event: events.terminated(ALICE), estates: estates.slice(0, 2), now: PLAN_NOW, catalog: ACTION_CATALOG });
    const rule = p.approval.rules?.find((r) => r.name === 'member-a');
    expect(rule?.reasons.length).toBeGreaterThan(0);
    expect(rule?.reasons.every((why) => why.includes(`account ${MEMBER_A}`) && why.includes(`arn:aws:iam::${MEMBER_A}:`))).toBe(true);
  });
});

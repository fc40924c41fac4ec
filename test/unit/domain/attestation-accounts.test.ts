import { describe, expect, it } from 'vitest';
import { ACTION_CATALOG } from '../../../lambdas/connectors/registry.js';
import { governedAccounts } from '../../../lambdas/domain/accounts.js';
import { attestationSettings, campaignEstate, campaignIdFor, campaignSchema, openCampaign, summarizeCampaign, sweepSteps, type Campaign } from '../../../lambdas/domain/attestation.js';
import { accountsForEvent } from '../../../lambdas/domain/event-accounts.js';
import { planChange } from '../../../lambdas/domain/plan.js';
import type { Snapshot } from '../../../lambdas/domain/snapshot.js';
import { attestationRequestMail, attestationUnreadableMail } from '../../../lambdas/notifications/attestation-message.js';
import { ACCOUNT, role, snapshotOf, user } from '../../fixtures/estate-builder.js';
import { events, PLAN_NOW } from '../../fixtures/planning.js';
import { DEFAULT_POLICY_VERSION, policyWith } from '../../fixtures/policies.js';

const MEMBER = '111111111111';
const DENIED = '222222222222';
const DENIED_ROLE = `arn:aws:iam::${DENIED}:role/nhigov-member`;
const [ALICE, BOB] = ['alice@example.com', 'bob@example.com'];
const POLICY = policyWith(() => ({ accounts: [{ id: MEMBER }, { id: DENIED }] }));
const NOW = new Date('2026-07-01T00:00:00.000Z');

/** `snapshot` with every ARN moved into `account`: the same names, another account. */
function inAccount(snapshot: Snapshot, account: string): Snapshot {
  const move = <T extends { arn: string }>(nhi: T): T => ({ ...nhi, arn: nhi.arn.replace(`:${ACCOUNT}:`, `:${account}:`) });
  return { ...snapshot, users: snapshot.users.map(move), roles: snapshot.roles.map(move), secrets: snapshot.secrets.map(move) };
}

const hub = snapshotOf({ users: [user('svc-x', { owner: ALICE })], roles: [role('role-h', { owner: BOB })] });
const member = inAccount(snapshotOf({ users: [user('svc-x', { owner: ALICE })], roles: [role('role-m', { owner: null })] }), MEMBER);
const memberUser = `arn:aws:iam::${MEMBER}:user/svc-x`;
const memberRole = `arn:aws:iam::${MEMBER}:role/role-m`;

function crossAccountCampaign(): Campaign {
  return openCampaign({
    campaignId: campaignIdFor('accounts'),
    now: NOW,
    requestedBy: 'tester',
    settings: attestationSettings({ ...POLICY, attestation: { answerWindowSeconds: 100, escalationWindowSeconds: 50 } }),
    estate: campaignEstate([
      { account: ACCOUNT, snapshot: hub },
      { account: MEMBER, snapshot: member, member: true },
    ]),
    linkKeyFor: () => 'e'.repeat(64),
    accounts: [ACCOUNT, MEMBER],
    unreadable: [{ account: DENIED, roleArn: DENIED_ROLE, message: `account ${DENIED}: AccessDenied` }],
  });
}

function answered(c: Campaign, ref: string, answer: 'KEEP' | 'RELEASE'): Campaign {
  const nhi = c.nhis[ref];
  if (!nhi) throw new Error(`no ${ref}`);
  return { ...c, nhis: { ...c.nhis, [ref]: { ...nhi, answer: { answer, at: NOW.toISOString(), channel: 'email' }, ...(answer === 'KEEP' ? { outcome: 'KEPT' as const } : {}) } } };
}

describe('a campaign across governed accounts', () => {
  it('asks about every account\'s NHIs, each with its account; a member account\'s by ARN, so one name in two accounts is two NHIs', () => {
    const c = crossAccountCampaign();
    expect(campaignSchema.parse(c)).toEqual(c);
    expect(Object.entries(c.nhis).map(([ref, n]) => [ref, n.account, n.owner]).sort()).toEqual(
      [
        ['svc-x', ACCOUNT, ALICE],
        ['role-h', ACCOUNT, BOB],
        [memberUser, MEMBER, ALICE],
        [memberRole, MEMBER, null],
      ].sort(),
    );
    expect(c.nhis[memberRole]?.outcome).toBe('OWNER_UNKNOWN');
    // One link per owner, whatever the number of accounts their NHIs are in.
    expect(Object.keys(c.owners).sort()).toEqual([ALICE, BOB]);
  });

  it('the summary names the account of each NHI, the accounts read, and the account that could not be', () => {
    const s = summarizeCampaign(crossAccountCampaign());
    expect(s.accounts).toEqual([ACCOUNT, MEMBER]);
    expect(s.unreadableAccounts).toEqual([{ account: DENIED, roleArn: DENIED_ROLE, message: `account ${DENIED}: AccessDenied` }]);
    expect(s.items.find((i) => i.nhi === memberUser)).toMatchObject({ account: MEMBER, owner: ALICE });
    expect(s.items.find((i) => i.nhi === 'svc-x')).toMatchObject({ account: ACCOUNT, owner: ALICE });
  });

  it('a release starts one follow-up per account, naming member NHIs by ARN, so each change reads and acts in that account alone', () => {
    const c = answered(answered(crossAccountCampaign(), 'svc-x', 'RELEASE'), memberUser, 'RELEASE');
    const followUps = sweepSteps(c, new Date(NOW.getTime() + 1000)).followUps;
    expect(followUps.map((f) => [f.reason, f.owner, f.account, f.nhis])).toEqual(
      expect.arrayContaining([
        ['NOT_NEEDED', ALICE, ACCOUNT, ['svc-x']],
        ['NOT_NEEDED', ALICE, MEMBER, [memberUser]],
      ]),
    );
    expect(followUps).toHaveLength(2);
    expect(new Set(followUps.map((f) => f.changeKey)).size).toBe(2);

    const accounts = governedAccounts(POLICY, { id: ACCOUNT, partition: 'aws' });
    for (const f of followUps) {
      const event = events.attestation({ campaignId: c.campaignId, reason: f.reason, owner: f.owner, nhis: [...f.nhis] });
      expect(accountsForEvent(event, accounts).map((a) => a.id)).toEqual([f.account]);
    }
  });

  it('the member account\'s follow-up quarantines the NHI there: the target names the account and the NHI by ARN', () => {
    const event = events.attestation({ campaignId: campaignIdFor('accounts'), reason: 'NOT_NEEDED', owner: ALICE, nhis: [memberUser] });
    const plan = planChange({ changeId: 'chg-member', policy: POLICY, policyVersion: DEFAULT_POLICY_VERSION, event, estates: [{ account: MEMBER, snapshot: member, member: true }], now: PLAN_NOW, catalog: ACTION_CATALOG });
    expect(plan.actions.map((a) => [a.kind, a.target.account, a.target.nhi, a.finding])).toEqual([['iam.attachQuarantinePolicy', MEMBER, memberUser, 'ATTESTATION_DECLINED']]);
    expect(plan.findings).toEqual([]);
  });

  it('an account nobody could be asked in keeps the campaign from closing VERIFIED', () => {
    let c = crossAccountCampaign();
    for (const ref of ['svc-x', 'role-h', memberUser]) c = answered(c, ref, 'KEEP');
    // Without the unowned role, every NHI asked about was answered.
    const everyoneAnswered: Campaign = { ...c, nhis: Object.fromEntries(Object.entries(c.nhis).filter(([ref]) => ref !== memberRole)) };
    expect(sweepSteps(everyoneAnswered, new Date(NOW.getTime() + 1000)).close).toBe('ESCALATED');
    const { unreadableAccounts: _denied, ...allRead } = everyoneAnswered;
    expect(sweepSteps(allRead, new Date(NOW.getTime() + 1000)).close).toBe('VERIFIED');
  });

  it('the owner\'s mail names the account of each NHI; the unreadable account is mailed by name', () => {
    const c = crossAccountCampaign();
    const mine = Object.entries(c.nhis).filter(([, n]) => n.owner === ALICE).sort(([a], [b]) => (a < b ? -1 : 1));
    const mail = attestationRequestMail({ campaignId: c.campaignId, owner: ALICE, nhis: mine, link: 'https://x.example/a', answerBy: c.answerBy, actBy: c.actBy, onNoAnswer: 'disable' });
    expect(mail.text).toContain(`user ${memberUser} in account ${MEMBER}`);
    expect(mail.text).toContain(`user svc-x in account ${ACCOUNT}`);
    expect(mail.html).toContain(`<code>${memberUser}</code> in account ${MEMBER}`);
    const denied = attestationUnreadableMail({ campaignId: c.campaignId, accounts: c.unreadableAccounts ?? [] });
    expect(denied.subject).toContain('CONNECTOR_ACCESS_DENIED');
    expect(denied.text).toContain(`account ${DENIED} was not read`);
  });
});

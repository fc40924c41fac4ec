import { describe, expect, it } from 'vitest';
import {
  attestationSettings,
  campaignIdFor,
  campaignSchema,
  judgeAnswer,
  MAX_FOLLOW_UP_NHIS,
  openCampaign,
  summarizeCampaign,
  sweepSteps,
  type Campaign,
} from '../../../lambdas/domain/attestation.js';
import { parsePolicy } from '../../../lambdas/domain/policy.js';
import { attestationLinkDomain, signApprovalLink, verifyApprovalLinkSignature } from '../../../lambdas/domain/approval-link.js';
import { role, secret, snapshotOf, user } from '../../fixtures/estate-builder.js';
import { events, planFor } from '../../fixtures/planning.js';
import { DEFAULT_POLICY } from '../../fixtures/policies.js';
import { Estate } from '../../../lambdas/domain/rules/estate.js';
import { stringify } from 'yaml';

const [A, B, C] = ['alice@example.com', 'bob@example.com', 'carol@example.com'];
const NOW = new Date('2026-07-01T00:00:00.000Z');
const policy = { ...DEFAULT_POLICY, attestation: { answerWindowSeconds: 100, escalationWindowSeconds: 50, managers: { [C]: 'carols-boss@example.com' } } };

function campaign(): Campaign {
  const estate = new Estate(snapshotOf({ users: [user('svc-a', { owner: A }), user('svc-b', { owner: B }), user('svc-c', { owner: C }), user('svc-orphan', { owner: null })], roles: [role('role-b', { owner: B })] }));
  return openCampaign({ campaignId: campaignIdFor('test'), now: NOW, requestedBy: 'tester', settings: attestationSettings(policy), estate: estate.governed.map((nhi) => ({ ref: estate.ref(nhi), nhi })), linkKeyFor: (owner) => 'ab'.repeat(32).slice(0, 63) + String(owner.length % 10) });
}

const at = (seconds: number) => new Date(NOW.getTime() + seconds * 1000);

function answered(c: Campaign, ref: string, answer: 'KEEP' | 'RELEASE'): Campaign {
  const nhi = c.nhis[ref];
  if (!nhi) throw new Error(`no ${ref}`);
  return { ...c, nhis: { ...c.nhis, [ref]: { ...nhi, answer: { answer, at: NOW.toISOString(), channel: 'email' }, ...(answer === 'KEEP' ? { outcome: 'KEPT' as const } : {}) } } };
}

describe('attestation campaign', () => {
  it('asks every owner about their governed NHIs; an NHI without an owner is OWNER_UNKNOWN from the start; the windows come from the policy', () => {
    const c = campaign();
    expect(campaignSchema.parse(c)).toEqual(c);
    expect(Object.keys(c.owners).sort()).toEqual([A, B, C]);
    expect(c.owners[C]?.manager).toBe('carols-boss@example.com');
    expect(c.owners[A]?.manager).toBe(DEFAULT_POLICY.routes.owner);
    expect(c.nhis['svc-orphan']).toMatchObject({ owner: null, outcome: 'OWNER_UNKNOWN' });
    expect([c.answerBy, c.actBy]).toEqual([at(100).toISOString(), at(150).toISOString()]);
  });

  it('defaults: 14 days to answer, 7 more after the escalation, then disable', () => {
    const s = attestationSettings(DEFAULT_POLICY);
    expect([s.answerWindowSeconds, s.escalationWindowSeconds, s.onNoAnswer]).toEqual([14 * 86400, 7 * 86400, 'disable']);
  });

  it('an owner answers once, only for their own NHIs, only while the campaign is open', () => {
    const c = campaign();
    expect(judgeAnswer(c, A, 'svc-a')).toEqual({ ok: true });
    expect(judgeAnswer(c, A, 'svc-b')).toMatchObject({ ok: false, reason: 'NOT_YOURS', httpStatus: 403 });
    expect(judgeAnswer(answered(c, 'svc-a', 'KEEP'), A, 'svc-a')).toMatchObject({ ok: false, reason: 'ALREADY_ANSWERED', httpStatus: 409 });
    expect(judgeAnswer({ ...c, state: 'CLOSED' }, A, 'svc-a')).toMatchObject({ ok: false, reason: 'CAMPAIGN_CLOSED', httpStatus: 410 });
  });

  it('a release is followed up at once; unanswered owners are escalated after the answer window, then lapse and are disabled', () => {
    let c = answered(answered(campaign(), 'svc-a', 'KEEP'), 'svc-b', 'RELEASE');
    const early = sweepSteps(c, at(10));
    expect(early.escalations).toEqual([]);
    expect(early.followUps.map((f) => [f.reason, f.owner, f.nhis])).toEqual([['NOT_NEEDED', B, ['svc-b']]]);
    expect(early.close).toBeNull();

    const followUp = early.followUps[0];
    if (!followUp) throw new Error('no follow-up');
    const nhiB = c.nhis['svc-b'];
    if (!nhiB) throw new Error('no svc-b');
    c = { ...c, nhis: { ...c.nhis, 'svc-b': { ...nhiB, changeId: 'chg-1', outcome: 'DISABLE_PLANNED' } } };
    expect(sweepSteps(c, at(10)).followUps).toEqual([]);

    const escalating = sweepSteps(c, at(100));
    expect(escalating.escalations).toEqual([
      { owner: B, manager: DEFAULT_POLICY.routes.owner, nhis: ['role-b'] },
      { owner: C, manager: 'carols-boss@example.com', nhis: ['svc-c'] },
    ]);
    expect(escalating.lapsed).toEqual([]);
    const ownerC = c.owners[C];
    const ownerB = c.owners[B];
    if (!ownerC || !ownerB) throw new Error('owners missing');
    c = { ...c, owners: { ...c.owners, [B]: { ...ownerB, escalatedAt: at(100).toISOString() }, [C]: { ...ownerC, escalatedAt: at(100).toISOString() } } };
    expect(sweepSteps(c, at(120)).escalations).toEqual([]);

    const lapsing = sweepSteps(c, at(150));
    expect(lapsing.lapsed).toEqual(['role-b', 'svc-c']);
    expect(lapsing.followUps.map((f) => [f.reason, f.owner, f.nhis])).toEqual([['NO_ANSWER', B, ['role-b']], ['NO_ANSWER', C, ['svc-c']]]);
    expect(lapsing.close).toBe('ESCALATED');
  });

  it('with onNoAnswer escalate, lapsed NHIs are not disabled', () => {
    const c = { ...campaign(), onNoAnswer: 'escalate' as const };
    const steps = sweepSteps(c, at(150));
    expect(steps.lapsed).toHaveLength(4);
    expect(steps.followUps).toEqual([]);
  });

  it('closes VERIFIED when every owned NHI was answered and nothing is unowned; a closed campaign has no steps', () => {
    const estate = new Estate(snapshotOf({ users: [user('svc-a', { owner: A })] }));
    const c = openCampaign({ campaignId: campaignIdFor('x'), now: NOW, requestedBy: 't', settings: attestationSettings(policy), estate: estate.governed.map((nhi) => ({ ref: estate.ref(nhi), nhi })), linkKeyFor: () => 'c'.repeat(64) });
    expect(sweepSteps(answered(c, 'svc-a', 'KEEP'), at(1)).close).toBe('VERIFIED');
    expect(sweepSteps({ ...c, state: 'CLOSED' }, at(1000))).toEqual({ escalations: [], lapsed: [], followUps: [], close: null });
  });

  it('splits a large release into follow-ups of at most MAX_FOLLOW_UP_NHIS, each with its own stable key', () => {
    const users = Array.from({ length: MAX_FOLLOW_UP_NHIS + 5 }, (_, i) => user(`svc-${String(i).padStart(3, '0')}`, { owner: A }));
    const estate = new Estate(snapshotOf({ users }));
    let c = openCampaign({ campaignId: campaignIdFor('big'), now: NOW, requestedBy: 't', settings: attestationSettings(policy), estate: estate.governed.map((nhi) => ({ ref: estate.ref(nhi), nhi })), linkKeyFor: () => 'd'.repeat(64) });
    for (const ref of Object.keys(c.nhis)) c = answered(c, ref, 'RELEASE');
    const steps = sweepSteps(c, at(1));
    expect(steps.followUps.map((f) => f.nhis.length)).toEqual([MAX_FOLLOW_UP_NHIS, 5]);
    expect(sweepSteps(c, at(2)).followUps.map((f) => f.changeKey)).toEqual(steps.followUps.map((f) => f.changeKey));
  });

  it('summarizes who answered, who did not, and what it changed', () => {
    const c = answered(answered(campaign(), 'svc-a', 'KEEP'), 'svc-b', 'RELEASE');
    const s = summarizeCampaign({ ...c, followUps: { 'chg-1': { reason: 'NOT_NEEDED', owner: B, nhis: ['svc-b'], eventId: 'e', started: true } } });
    expect(s).toMatchObject({ nhis: 5, answered: 2, unanswered: 3, ownerUnknown: 1 });
    expect(s.owners.find((o) => o.owner === B)).toMatchObject({ asked: 2, answered: 1, released: 1, kept: 0 });
    expect(s.changes).toEqual([{ changeId: 'chg-1', reason: 'NOT_NEEDED', owner: B, account: null, nhis: ['svc-b'], started: true }]);
  });

  it('a campaign link verifies only for its campaign: not as an approval link, not for another campaign', () => {
    const key = 'k'.repeat(48);
    const fields = { approvalId: 'n'.repeat(24), approver: A, exp: 2_000_000_000, channel: 'email' as const };
    const link = signApprovalLink(key, fields, attestationLinkDomain(campaignIdFor('one')));
    expect(verifyApprovalLinkSignature(key, link, attestationLinkDomain(campaignIdFor('one')))).toBe(true);
    expect(verifyApprovalLinkSignature(key, link, attestationLinkDomain(campaignIdFor('two')))).toBe(false);
    expect(verifyApprovalLinkSignature(key, link)).toBe(false);
    expect(verifyApprovalLinkSignature(key, signApprovalLink(key, fields), attestationLinkDomain(campaignIdFor('one')))).toBe(false);
  });

  it('the policy block is optional and validated', () => {
    const text = (attestation: unknown) => stringify({ ...DEFAULT_POLICY, attestation });
    expect(parsePolicy(text({ answerWindowSeconds: 60, onNoAnswer: 'escalate' })).attestation).toEqual({ answerWindowSeconds: 60, onNoAnswer: 'escalate' });
    expect(() => parsePolicy(text({ onNoAnswer: 'delete' }))).toThrow(/attestation.onNoAnswer/);
    expect(() => parsePolicy(text({ managers: { 'not-an-email': 'x@example.com' } }))).toThrow(/attestation.managers/);
  });
});

describe('Attestation Concluded plans a reversible disable', () => {
  const detail = (reason: 'NOT_NEEDED' | 'NO_ANSWER', nhis: string[], owner: string | null = A) => ({ campaignId: campaignIdFor('p'), reason, owner, nhis });

  it('quarantines users and roles (reversible), with the reason as the finding', () => {
    const snapshot = snapshotOf({ users: [user('svc-a', { owner: A })], roles: [role('role-a', { owner: A })] });
    const plan = planFor(events.attestation(detail('NOT_NEEDED', ['svc-a', 'role-a'])), snapshot);
    expect(plan.actions.map((a) => [a.kind, a.target.id, a.finding, a.risk.reversible])).toEqual([
      ['iam.attachQuarantinePolicy', 'svc-a', 'ATTESTATION_DECLINED', true],
      ['iam.attachQuarantinePolicy', 'role-a', 'ATTESTATION_DECLINED', true],
    ]);
    expect(plan.trigger).toMatchObject({ detailType: 'Attestation Concluded', detail: { campaignId: campaignIdFor('p') } });
    const lapsed = planFor(events.attestation(detail('NO_ANSWER', ['svc-a'])), snapshot);
    expect(lapsed.actions.map((a) => a.finding)).toEqual(['OWNER_UNKNOWN']);
  });

  it('writes nothing to an NHI that changed hands since, to a secret, or to one that is gone', () => {
    const snapshot = snapshotOf({ users: [user('svc-moved', { owner: B })], secrets: [secret('app/s', { owner: A })] });
    const plan = planFor(events.attestation(detail('NOT_NEEDED', ['svc-moved', 'app/s', 'svc-gone'])), snapshot);
    expect(plan.actions).toEqual([]);
    expect(plan.findings.map((f) => [f.nhi, f.reasonCode])).toEqual([
      ['svc-moved', 'OWNER_CHANGED'],
      ['app/s', 'ATTESTATION_DECLINED'],
      ['svc-gone', 'TARGET_NOT_FOUND'],
    ]);
  });
});

import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { signApprovalLink } from '../../../lambdas/domain/approval-link.js';
import { eligibleApprovers, judgeLink, outcomeOfRejection, REFUSALS, separationOfDuties, type ApprovalFacts } from '../../../lambdas/domain/approval.js';
import { parsePolicy } from '../../../lambdas/domain/policy.js';
import type { Plan, PlanAction } from '../../../lambdas/domain/plan-model.js';

const KEY = 'the-link-key';
const NOW = new Date('2030-01-01T00:00:00Z');
const nowSeconds = NOW.getTime() / 1000;
const facts: ApprovalFacts = {
  status: 'PENDING',
  exp: nowSeconds + 3600,
  approvers: ['approver@example.com', 'secops@example.com'],
  owners: ['alice@example.com', 'secops@example.com'],
  requestedBy: 'approver@example.com',
  forbidOwnerApproval: true,
  forbidRequesterApproval: true,
};
const linkFor = (approver: string, exp = facts.exp) => signApprovalLink(KEY, { approvalId: 'AbCdEfGhIjKlMnOpQrStUvWx', approver, exp, channel: 'email' });

describe('judgeLink', () => {
  const open: ApprovalFacts = { ...facts, owners: [], requestedBy: undefined };

  it('lets an approver of the group decide a pending request with a valid link', () => {
    expect(judgeLink(open, linkFor('Approver@Example.com'), KEY, NOW)).toEqual({ ok: true, approver: 'approver@example.com' });
  });

  it('answers the contract statuses: bad signature 403, expired 410, reused 409', () => {
    expect(judgeLink(open, { ...linkFor('approver@example.com'), sig: 'AAAA' }, KEY, NOW)).toMatchObject({ ok: false, reason: 'LINK_SIGNATURE_INVALID', httpStatus: 403 });
    expect(judgeLink(open, linkFor('approver@example.com', nowSeconds - 1), KEY, NOW)).toMatchObject({ ok: false, reason: 'LINK_EXPIRED', httpStatus: 410 });
    expect(judgeLink({ ...open, exp: nowSeconds }, linkFor('approver@example.com', nowSeconds + 999), KEY, NOW)).toMatchObject({ ok: false, reason: 'LINK_EXPIRED' });
    expect(judgeLink({ ...open, status: 'EXPIRED' }, linkFor('approver@example.com'), KEY, NOW)).toMatchObject({ ok: false, reason: 'LINK_EXPIRED' });
    expect(judgeLink({ ...open, status: 'APPROVED' }, linkFor('approver@example.com'), KEY, NOW)).toMatchObject({ ok: false, reason: 'ALREADY_DECIDED', httpStatus: 409 });
    expect(judgeLink({ ...open, status: 'REJECTED' }, linkFor('approver@example.com'), KEY, NOW)).toMatchObject({ ok: false, reason: 'ALREADY_DECIDED', httpStatus: 409 });
  });

  it('checks the signature before anything else: a forged link learns nothing', () => {
    const forged = { ...linkFor('mallory@example.com', nowSeconds - 10), sig: linkFor('approver@example.com').sig };
    expect(judgeLink({ ...facts, status: 'APPROVED' }, forged, KEY, NOW)).toMatchObject({ reason: 'LINK_SIGNATURE_INVALID' });
  });

  it('refuses outsiders (APPROVER_NOT_AUTHORIZED), owners and requesters (SELF_APPROVAL_FORBIDDEN), with 403', () => {
    expect(judgeLink(facts, linkFor('mallory@example.com'), KEY, NOW)).toMatchObject({ ok: false, reasonCode: 'APPROVER_NOT_AUTHORIZED', httpStatus: 403 });
    expect(judgeLink(facts, linkFor('secops@example.com'), KEY, NOW)).toMatchObject({ ok: false, reasonCode: 'SELF_APPROVAL_FORBIDDEN', httpStatus: 403 });
    expect(judgeLink(facts, linkFor('approver@example.com'), KEY, NOW)).toMatchObject({ ok: false, reasonCode: 'SELF_APPROVAL_FORBIDDEN' });
  });

  it('expiry is monotone: once a link has expired it stays expired, and it expires at its exp', () => {
    fc.assert(
      fc.property(fc.integer({ min: -7200, max: 7200 }), fc.integer({ min: 0, max: 7200 }), (offset, later) => {
        const link = linkFor('approver@example.com', nowSeconds + offset);
        const first = judgeLink(open, link, KEY, NOW);
        const after = judgeLink(open, link, KEY, new Date(NOW.getTime() + later * 1000));
        expect(first.ok).toBe(offset > 0);
        if (!first.ok) expect(after).toMatchObject({ ok: false, reason: 'LINK_EXPIRED' });
      }),
    );
  });
});

describe('separation of duties', () => {
  const emails = fc.constantFrom('a@example.com', 'b@example.com', 'c@example.com', 'd@example.com', 'e@example.com');
  const factsArb = fc.record({
    status: fc.constant('PENDING' as const),
    exp: fc.constant(nowSeconds + 60),
    approvers: fc.uniqueArray(emails, { maxLength: 5 }),
    owners: fc.uniqueArray(emails, { maxLength: 5 }),
    requestedBy: fc.option(emails, { nil: undefined }),
    forbidOwnerApproval: fc.boolean(),
    forbidRequesterApproval: fc.boolean(),
  });

  it('never lets someone outside the group, an owner or the requester decide (when the policy forbids it)', () => {
    fc.assert(
      fc.property(factsArb, emails, (f, who) => {
        const refusal = separationOfDuties(f, who);
        if (!f.approvers.includes(who)) return refusal?.reasonCode === 'APPROVER_NOT_AUTHORIZED';
        if (f.forbidOwnerApproval && f.owners.includes(who)) return refusal?.reasonCode === 'SELF_APPROVAL_FORBIDDEN';
        if (f.forbidRequesterApproval && f.requestedBy === who) return refusal?.reasonCode === 'SELF_APPROVAL_FORBIDDEN';
        return refusal === null;
      }),
    );
  });

  it('sends the request only to approvers who may decide it', () => {
    fc.assert(fc.property(factsArb, (f) => eligibleApprovers(f).every((a) => separationOfDuties(f, a) === null) && f.approvers.filter((a) => separationOfDuties(f, a) === null).every((a) => eligibleApprovers(f).includes(a))));
    expect(eligibleApprovers(facts)).toEqual([]);
    expect(eligibleApprovers({ ...facts, owners: ['alice@example.com'], requestedBy: undefined })).toEqual(['approver@example.com', 'secops@example.com']);
  });

  it('maps every refusal to the contract status', () => {
    expect(REFUSALS.LINK_SIGNATURE_INVALID.httpStatus).toBe(403);
    expect(REFUSALS.LINK_EXPIRED.httpStatus).toBe(410);
    expect(REFUSALS.ALREADY_DECIDED.httpStatus).toBe(409);
    expect(REFUSALS.APPROVER_NOT_AUTHORIZED).toEqual({ httpStatus: 403, reasonCode: 'APPROVER_NOT_AUTHORIZED' });
    expect(REFUSALS.SELF_APPROVAL_FORBIDDEN).toEqual({ httpStatus: 403, reasonCode: 'SELF_APPROVAL_FORBIDDEN' });
  });
});

describe('outcomeOfRejection (after-the-fact approval rejected)', () => {
  const policy = parsePolicy(readFileSync(path.resolve('policy/default-policy.yaml'), 'utf8'));
  const action = (actionId: string, reversible = true): PlanAction =>
    ({
      actionId,
      kind: 'iam.deactivateAccessKey',
      params: {},
      target: { type: 'accessKey', id: `AKIA${actionId}`, nhi: 'svc' },
      before: { status: 'Active' },
      after: { status: 'Inactive' },
      fingerprint: '0',
      inverse: reversible ? { kind: 'iam.reactivateAccessKey', params: {} } : null,
      risk: { reversible, prod: true },
      idempotencyKey: actionId,
      finding: 'CREDENTIAL_EXPOSED',
      phase: 1,
      group: 'containment',
    }) as PlanAction;
  const plan = { actions: [action('a1'), action('a2', false), action('a3')] } as unknown as Plan;
  const verified = ['a1', 'a2', 'a3'].map((actionId) => ({ actionId, status: 'VERIFIED' as const }));

  it('undoes every verified reversible action, in reverse plan order', () => {
    expect(outcomeOfRejection(plan, verified, policy)).toEqual({ status: 'ROLLED_BACK', next: 'ROLLBACK', reasonCodes: ['APPROVAL_REJECTED'], rollbackActionIds: ['a3', 'a1'] });
  });

  it('keeps the containment and escalates when the policy says not to roll back on rejection', () => {
    const keep = { ...policy, triggers: { ...policy.triggers, credentialExposed: { containFirst: true, rollbackOnReject: false } } };
    expect(outcomeOfRejection(plan, verified, keep)).toMatchObject({ status: 'ESCALATED', next: 'ESCALATE', rollbackActionIds: [] });
  });

  it('ends REJECTED when nothing applied can be undone', () => {
    expect(outcomeOfRejection(plan, [{ actionId: 'a2', status: 'VERIFIED' }], policy)).toMatchObject({ status: 'REJECTED', next: 'COMPLETE' });
  });
});

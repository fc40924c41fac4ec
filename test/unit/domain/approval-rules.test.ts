import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { approvalRequirements, quorumOf, ruleMatch, type ApprovalRequirement, type TouchedAction } from '../../../lambdas/domain/approval-rules.js';
import { judgeLink, quorumOfFacts, separationOfDuties, type ApprovalFacts } from '../../../lambdas/domain/approval.js';
import { signApprovalLink } from '../../../lambdas/domain/approval-link.js';
import { parsePolicy } from '../../../lambdas/domain/policy.js';
import { user, snapshotOf } from '../../fixtures/estate-builder.js';
import { events, planFor } from '../../fixtures/planning.js';
import { DEFAULT_POLICY, policyWith } from '../../fixtures/policies.js';

const A = 'approver@example.com';
const S = 'secops@example.com';
const ARN = 'arn:aws:iam::123456789012:user/svc-a';

const touched = (tags: Record<string, string>, kind = 'iam.deactivateAccessKey', arn = ARN): TouchedAction => ({ actionId: 'a1', kind, nhis: [{ ref: 'svc-a', arn, tags }] });
const criticalRule = { name: 'critical-two-person', match: { tags: { tier: 'critical' } }, group: 'iam-approvers', minApprovers: 2 };
const withRules = (rules: NonNullable<typeof DEFAULT_POLICY.approval.rules>) => policyWith((p) => ({ approval: { ...p.approval, rules } }));

describe('approval rules: matching', () => {
  it('matches on tags (all equal), accounts and kinds; every key given must hold', () => {
    expect(ruleMatch(criticalRule, touched({ tier: 'critical' }))).toBe('tier=critical on svc-a (a1 iam.deactivateAccessKey)');
    expect(ruleMatch(criticalRule, touched({ tier: 'gold' }))).toBeNull();
    expect(ruleMatch({ match: { accounts: ['123456789012'] } }, touched({}))).toContain('account 123456789012');
    expect(ruleMatch({ match: { accounts: ['999999999999'] } }, touched({}))).toBeNull();
    expect(ruleMatch({ match: { kinds: ['iam.deleteAccessKey'] } }, touched({}))).toBeNull();
    expect(ruleMatch({ match: { kinds: ['iam.deactivateAccessKey'], tags: { tier: 'critical' } } }, touched({ tier: 'critical' }))).not.toBeNull();
    expect(ruleMatch({ match: { kinds: ['iam.deactivateAccessKey'], tags: { tier: 'critical' } } }, touched({}))).toBeNull();
  });

  it('the default rule comes from requiredForTags / requiredForIrreversible; each matching policy rule follows with its reasons', () => {
    const policy = withRules([criticalRule]);
    expect(approvalRequirements(policy, [touched({ tier: 'critical' })], [])).toEqual([{ name: 'critical-two-person', group: 'iam-approvers', minApprovers: 2, approvers: [A, S], reasons: ['tier=critical on svc-a (a1 iam.deactivateAccessKey)'] }]);
    expect(approvalRequirements(policy, [touched({})], ['env=prod on svc-a']).map((r) => [r.name, r.minApprovers])).toEqual([['default', 1]]);
    expect(approvalRequirements(policy, [touched({})], [])).toEqual([]);
  });

  it('the policy refuses a rule naming an unknown group, a quorum larger than its group, a duplicate name, an empty match', () => {
    const yaml = (rules: string) => `${JSON.stringify({ ...DEFAULT_POLICY, approval: { ...DEFAULT_POLICY.approval, rules: JSON.parse(rules) } })}`;
    expect(() => parsePolicy(yaml('[{"name":"x","match":{"kinds":["k"]},"group":"nope"}]'))).toThrow(/approval.rules.0.group/);
    expect(() => parsePolicy(yaml('[{"name":"x","match":{"kinds":["k"]},"group":"iam-approvers","minApprovers":3}]'))).toThrow(/exceeds the 2 members/);
    expect(() => parsePolicy(yaml('[{"name":"x","match":{"kinds":["k"]},"group":"iam-approvers"},{"name":"x","match":{"kinds":["k"]},"group":"iam-approvers"}]'))).toThrow(/used by another rule/);
    expect(() => parsePolicy(yaml('[{"name":"x","match":{},"group":"iam-approvers"}]'))).toThrow(/name at least one/);
    expect(parsePolicy(yaml('[{"name":"x","match":{"tags":{"tier":"critical"}},"group":"iam-approvers","minApprovers":2}]')).approval.rules?.[0]?.minApprovers).toBe(2);
  });

  it('the plan records which rules applied and why, and whom the change hands an NHI to', () => {
    const base = user('svc-a', { owner: 'bob@example.com', keys: [{ accessKeyId: 'AKIASVCA00000001' }] });
    const snapshot = snapshotOf({ users: [{ ...base, tags: { ...base.tags, tier: 'critical' } }] });
    const plan = planFor(events.ownerChanged('svc-a', 'bob@example.com', A), snapshot, { policy: withRules([criticalRule]) });
    expect(plan.approval.required).toBe(true);
    expect(plan.approval.rules?.map((r) => [r.name, r.minApprovers, r.group])).toEqual([['critical-two-person', 2, 'iam-approvers']]);
    expect(plan.approval.reasons.some((r) => r.startsWith('rule critical-two-person (2 of iam-approvers): tier=critical on svc-a'))).toBe(true);
    expect(plan.approval.recipients).toEqual([A]);
    const leaver = planFor(events.terminated('bob@example.com', S), snapshotOf({ users: [user('svc-b', { owner: 'bob@example.com', env: 'prod', keys: [{ accessKeyId: 'AKIASVCB00000001' }] })] }));
    expect(leaver.approval.recipients).toEqual([S]);
  });
});

const facts = (over: Partial<ApprovalFacts> = {}): ApprovalFacts => ({ status: 'PENDING', exp: 2_000_000_000, approvers: [A, S], owners: [], forbidOwnerApproval: true, forbidRequesterApproval: true, ...over });

describe('separation of duties', () => {
  it('refuses whoever the change hands an NHI to, an owner, the requester: SELF_APPROVAL_FORBIDDEN', () => {
    expect(separationOfDuties(facts({ recipients: [A] }), ' Approver@Example.com ')?.reason).toBe('SELF_APPROVAL_FORBIDDEN');
    expect(separationOfDuties(facts({ owners: [S] }), S)?.reason).toBe('SELF_APPROVAL_FORBIDDEN');
    expect(separationOfDuties(facts({ requestedBy: S }), S)?.reason).toBe('SELF_APPROVAL_FORBIDDEN');
    expect(separationOfDuties(facts({ recipients: [A] }), S)).toBeNull();
  });

  it('an approver who already approved is refused as ALREADY_DECIDED, naming what is still needed', () => {
    const rules: ApprovalRequirement[] = [{ name: 'two', group: 'g', minApprovers: 2, approvers: [A, S], reasons: [] }];
    const f = facts({ rules, approvals: { [A]: { decidedAt: 'now', channel: 'email' } } });
    const key = 'k';
    const verdict = judgeLink(f, signApprovalLink(key, { approvalId: 'a'.repeat(24), approver: A, exp: f.exp, channel: 'email' }), key, new Date(0));
    expect(verdict).toMatchObject({ ok: false, reason: 'ALREADY_DECIDED' });
    expect(verdict.ok ? '' : verdict.message).toContain('1 more approval needed');
    expect(quorumOfFacts(f).stillNeeded).toBe(1);
  });
});

const people = ['a@x.io', 'b@x.io', 'c@x.io', 'd@x.io', 'e@x.io'];
const requirementArb = fc.record({
  name: fc.constantFrom('r1', 'r2', 'r3'),
  group: fc.constant('g'),
  approvers: fc.subarray(people, { minLength: 1 }),
  minApprovers: fc.integer({ min: 1, max: 3 }),
  reasons: fc.constant([] as string[]),
}).map((r) => ({ ...r, minApprovers: Math.min(r.minApprovers, r.approvers.length) }));

describe('quorum (property)', () => {
  it('met exactly when every requirement has minApprovers distinct approvers of its group; duplicates and outsiders never count', () => {
    fc.assert(
      fc.property(fc.array(requirementArb, { minLength: 1, maxLength: 3 }), fc.array(fc.constantFrom(...people, 'out@x.io'), { maxLength: 8 }), (requirements, approvals) => {
        const q = quorumOf(requirements, approvals, people);
        const distinct = new Set(approvals);
        const expected = requirements.every((r) => r.approvers.filter((a) => distinct.has(a)).length >= r.minApprovers);
        expect(q.met).toBe(expected);
        // The same approvals twice over count the same.
        expect(quorumOf(requirements, [...approvals, ...approvals], people)).toEqual(q);
        expect(q.met).toBe(q.stillNeeded === 0);
      }),
    );
  });

  it('adding approvals never raises what is still needed; with every eligible approver in, a reachable quorum is met', () => {
    fc.assert(
      fc.property(fc.array(requirementArb, { minLength: 1, maxLength: 3 }), fc.subarray(people), fc.constantFrom(...people), (requirements, approvals, next) => {
        const before = quorumOf(requirements, approvals, people);
        const after = quorumOf(requirements, [...approvals, next], people);
        expect(after.stillNeeded).toBeLessThanOrEqual(before.stillNeeded);
        expect(before.reachable).toBe(true);
        expect(quorumOf(requirements, people, people).met).toBe(true);
        // stillNeeded more approvers really are enough: the greedy count is achievable.
        expect(before.stillNeeded).toBeLessThanOrEqual(people.length - new Set(approvals).size);
      }),
    );
  });

  it('a requirement its eligible approvers cannot meet is unreachable', () => {
    const q = quorumOf([{ name: 'two', group: 'g', minApprovers: 2, approvers: [A, S], reasons: [] }], [], [S]);
    expect(q).toMatchObject({ met: false, reachable: false, stillNeeded: 2 });
  });
});

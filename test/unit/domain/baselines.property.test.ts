import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { JsonObject, Plan } from '../../../lambdas/domain/plan-model.js';
import type { BaselinePolicy } from '../../../lambdas/domain/policy.js';
import { grantedForbidden, statementsOf } from '../../../lambdas/domain/policy-statements.js';
import type { AccessKeySnapshot, GroupSnapshot, Snapshot, UserSnapshot } from '../../../lambdas/domain/snapshot.js';
import { leastRecentlyUsedFirst } from '../../../lambdas/domain/rules/baselines.js';
import { applyPlan } from '../../fixtures/apply-plan.js';
import { snapshotOf, user } from '../../fixtures/estate-builder.js';
import { events, PLAN_NOW, planFor } from '../../fixtures/planning.js';
import { policyWith } from '../../fixtures/policies.js';

/** NHIGOV_PROPERTY_RUNS=5000 for a deeper search than the default run. */
const RUNS = { numRuns: Number(process.env.NHIGOV_PROPERTY_RUNS ?? 300) };
const LONG = { timeout: Math.max(10_000, RUNS.numRuns * 20) };

const MANAGED = ['arn:aws:iam::aws:policy/ReadOnlyAccess', 'arn:aws:iam::aws:policy/AdministratorAccess', 'arn:aws:iam::123456789012:policy/app-read', 'arn:aws:iam::123456789012:policy/app-write'];
/** Actions that sit on every side of the forbidden ones: all, all of IAM, part of IAM, other services. */
const ACTIONS = ['*', 'iam:*', 'IAM:*', 'iam:PassRole', 'iam:Get*', 's3:*', 's3:GetObject', 'ec2:Describe*', 'sts:AssumeRole'];
const FORBIDDEN = ['*', 'iam:*', 's3:*', 'iam:PassRole'];

const statementArb: fc.Arbitrary<JsonObject> = fc.oneof(
  fc.record({ Effect: fc.constantFrom('Allow', 'Deny'), Action: fc.oneof(fc.constantFrom(...ACTIONS), fc.uniqueArray(fc.constantFrom(...ACTIONS), { minLength: 1, maxLength: 3 })), Resource: fc.constant('*') }),
  fc.record({ Effect: fc.constant('Allow'), NotAction: fc.uniqueArray(fc.constantFrom(...ACTIONS), { minLength: 1, maxLength: 2 }), Resource: fc.constant('*') }),
);
const documentArb: fc.Arbitrary<JsonObject> = fc.oneof(
  fc.array(statementArb, { minLength: 1, maxLength: 4 }).map((Statement) => ({ Version: '2012-10-17', Statement })),
  statementArb.map((Statement) => ({ Version: '2012-10-17', Statement })),
);
/** The account's groups: one granting everything, one all of IAM, one reading S3, one with only a Deny. */
const GROUPS: GroupSnapshot[] = [
  { name: 'admins', inlinePolicies: [{ name: 'all', document: { Statement: [{ Effect: 'Allow', Action: '*', Resource: '*' }] } }] },
  { name: 'iam-admins', inlinePolicies: [{ name: 'iam', document: { Statement: { Effect: 'Allow', Action: ['iam:*'], Resource: '*' } } }] },
  { name: 'readers', inlinePolicies: [{ name: 'read', document: { Statement: [{ Effect: 'Allow', Action: 's3:GetObject', Resource: '*' }] } }] },
  { name: 'denied', inlinePolicies: [{ name: 'deny', document: { Statement: [{ Effect: 'Deny', Action: '*', Resource: '*' }] } }] },
];
const dayArb = fc.integer({ min: 1, max: 400 }).map((d) => new Date(PLAN_NOW.getTime() - d * 86_400_000).toISOString());
const keyArb = (i: number) =>
  fc.record({ status: fc.constantFrom<'Active' | 'Inactive'>('Active', 'Active', 'Inactive'), createdAt: dayArb, lastUsedAt: fc.option(dayArb, { nil: null }) }).map((k) => ({ ...k, accessKeyId: `AKIAPROP0000000${i}` }));

const userArb: fc.Arbitrary<UserSnapshot> = fc
  .record({
    env: fc.constantFrom<'dev' | 'prod'>('dev', 'prod'),
    managed: fc.uniqueArray(fc.constantFrom(...MANAGED), { maxLength: 4 }),
    inline: fc.array(documentArb, { maxLength: 3 }),
    keys: fc.tuple(keyArb(1), keyArb(2)).chain(([a, b]) => fc.constantFrom<Array<typeof a>>([], [a], [a, b])),
    loginProfile: fc.boolean(),
    groups: fc.uniqueArray(fc.constantFrom(...GROUPS.map((g) => g.name)), { maxLength: 3 }),
  })
  .map(({ env, managed, inline, keys, loginProfile, groups }) => ({
    ...user('svc-prop', { owner: 'alice@example.com', env, keys, groups, inline: inline.map((document, i) => ({ name: `app-${i}`, document })) }),
    attachedPolicies: managed.map((policyArn) => ({ policyArn, policyName: policyArn.split('/').pop() ?? policyArn })),
    credentials: [],
    loginProfile,
  }));

const baselineArb: fc.Arbitrary<BaselinePolicy> = fc.record(
  {
    name: fc.constant('service-users'),
    match: fc.constantFrom({ tags: { env: 'dev' } }, {}),
    allowManagedPolicies: fc.uniqueArray(fc.constantFrom(...MANAGED), { maxLength: 3 }),
    forbidActions: fc.uniqueArray(fc.constantFrom(...FORBIDDEN), { minLength: 1, maxLength: 3 }),
    maxActiveAccessKeys: fc.integer({ min: 0, max: 2 }),
    consoleAccess: fc.boolean(),
  },
  { requiredKeys: ['name'] },
);

function reconcile(subject: UserSnapshot, baseline: BaselinePolicy): { plan: Plan; snapshot: Snapshot; policy: ReturnType<typeof policyWith> } {
  const policy = policyWith(() => ({ baselines: [baseline], triggers: { ...policyWith(() => ({})).triggers, reconcile: { deactivateUnusedKeys: false, rotateAgedSecretKeys: false, escalateUnowned: true } } }));
  const snapshot = { ...snapshotOf({ users: [subject] }), groups: GROUPS };
  return { plan: planFor(events.reconcile({ nhi: 'svc-prop' }), snapshot, { policy }), snapshot, policy };
}

const applies = (baseline: BaselinePolicy, subject: UserSnapshot) => Object.entries(baseline.match?.tags ?? {}).every(([k, v]) => subject.tags[k] === v);
const activeKeys = (u: UserSnapshot): AccessKeySnapshot[] => u.accessKeys.filter((k) => k.status === 'Active');

describe('baselines (property)', () => {
  it('never removes what the baseline allows: allowed policies, statements granting nothing forbidden, the most recently used keys, an allowed console', () => {
    fc.assert(
      fc.property(userArb, baselineArb, (subject, baseline) => {
        const { plan } = reconcile(subject, baseline);
        // Interesting cases only: a baseline that applies and finds excess.
        fc.pre(applies(baseline, subject) && plan.actions.length > 0);
        const forbid = baseline.forbidActions ?? [];
        for (const action of plan.actions) {
          expect(action.finding).toBe('EXCESSIVE_PRIVILEGE');
          if (action.kind === 'iam.detachManagedPolicy') expect(baseline.allowManagedPolicies ?? MANAGED).not.toContain(action.params.policyArn);
          if (action.kind === 'iam.putInlinePolicy' || action.kind === 'iam.deleteInlinePolicy') {
            const before = statementsOf(action.before.document as JsonObject);
            const after = action.kind === 'iam.putInlinePolicy' ? statementsOf(action.params.document as JsonObject) : [];
            // Exactly the statements granting a forbidden action go; every other one stays, unchanged.
            expect(after).toEqual(before.filter((s) => grantedForbidden(s, forbid).length === 0));
          }
          if (action.kind === 'iam.containConsoleAccess') expect(baseline.consoleAccess).toBe(false);
          if (action.kind === 'iam.removeUserFromGroup') {
            const granted = GROUPS.find((g) => g.name === action.params.groupName)?.inlinePolicies.flatMap((p) => statementsOf(p.document as JsonObject).flatMap((st) => grantedForbidden(st, forbid)));
            expect(granted?.length, `group ${String(action.params.groupName)} grants a forbidden action`).toBeGreaterThan(0);
          }
        }
        const deactivated = new Set(plan.actions.filter((a) => a.kind === 'iam.deactivateAccessKey').map((a) => a.target.id));
        const active = activeKeys(subject);
        const kept = active.filter((k) => !deactivated.has(k.accessKeyId));
        expect(kept.length).toBe(Math.min(active.length, baseline.maxActiveAccessKeys ?? active.length));
        // The keys kept are the most recently used.
        expect(kept.map((k) => k.accessKeyId).sort()).toEqual(leastRecentlyUsedFirst(active).slice(active.length - kept.length).map((k) => k.accessKeyId).sort());
      }),
      RUNS,
    );
  }, LONG.timeout);

  it('re-planning after apply finds nothing: the excess is gone and nothing else is', () => {
    fc.assert(
      fc.property(userArb, baselineArb, (subject, baseline) => {
        const { plan, snapshot, policy } = reconcile(subject, baseline);
        fc.pre(plan.actions.length > 0);
        const applied = applyPlan(snapshot, plan, PLAN_NOW);
        expect(planFor(events.reconcile({ nhi: 'svc-prop' }), applied, { policy }).actions).toEqual([]);
      }),
      RUNS,
    );
  }, LONG.timeout);

  it('a baseline that does not match the NHI plans nothing for it', () => {
    fc.assert(
      fc.property(userArb, baselineArb, (subject, baseline) => {
        fc.pre(!applies(baseline, subject));
        expect(reconcile(subject, baseline).plan.actions).toEqual([]);
      }),
      RUNS,
    );
  }, LONG.timeout);
});

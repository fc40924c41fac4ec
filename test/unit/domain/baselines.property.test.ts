import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { JsonObject, Plan } from '../../../lambdas/domain/plan-model.js';
import type { BaselinePolicy } from '../../../lambdas/domain/policy.js';
import { grantedForbidden, statementsOf } from '../../../lambdas/domain/policy-statements.js';
import type { AccessKeySnapshot, GroupSnapshot, ManagedPolicySnapshot, Snapshot, UserSnapshot } from '../../../lambdas/domain/snapshot.js';
import { leastRecentlyUsedFirst } from '../../../lambdas/domain/rules/baselines.js';
import { applyPlan } from '../../fixtures/apply-plan.js';
import { snapshotOf, user } from '../../fixtures/estate-builder.js';
import { events, PLAN_NOW, planFor } from '../../fixtures/planning.js';
import { policyWith } from '../../fixtures/policies.js';

/** NHIGOV_PROPERTY_RUNS=5000 for a deeper search than the default run. */
const RUNS = { numRuns: Number(process.env.NHIGOV_PROPERTY_RUNS ?? 300) };
const LONG = { timeout: Math.max(10_000, RUNS.numRuns * 20) };

/** Customer-managed policies (the bulk read gives their documents) and AWS managed ones (judged by ARN only). */
const CUSTOMER = ['arn:aws:iam::123456789012:policy/app-read', 'arn:aws:iam::123456789012:policy/app-write'];
const MANAGED = ['arn:aws:iam::aws:policy/ReadOnlyAccess', 'arn:aws:iam::aws:policy/AdministratorAccess', ...CUSTOMER];
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
/** The account's groups: one granting everything, one all of IAM, one reading S3, one with only a Deny (managed policies attached by the estate). */
const GROUPS: GroupSnapshot[] = [
  { name: 'admins', inlinePolicies: [{ name: 'all', document: { Statement: [{ Effect: 'Allow', Action: '*', Resource: '*' }] } }] },
  { name: 'iam-admins', inlinePolicies: [{ name: 'iam', document: { Statement: { Effect: 'Allow', Action: ['iam:*'], Resource: '*' } } }] },
  { name: 'readers', inlinePolicies: [{ name: 'read', document: { Statement: [{ Effect: 'Allow', Action: 's3:GetObject', Resource: '*' }] } }] },
  { name: 'denied', inlinePolicies: [{ name: 'deny', document: { Statement: [{ Effect: 'Deny', Action: '*', Resource: '*' }] } }] },
];
/** The customer-managed policies and what the groups have attached: documents, versions up to IAM's five, attachments up to three. */
const estateArb = fc.record({
  managedPolicies: fc.tuple(
    ...CUSTOMER.map((arn) =>
      // Weighted towards what an edit needs (this NHI's alone, room for a version), so edits are common.
      fc.record({ document: documentArb, versionCount: fc.constantFrom(1, 2, 3, 4, 5), attachmentCount: fc.constantFrom(1, 1, 1, 2, 3), boundaryUsageCount: fc.constantFrom(0, 0, 0, 1) }).map(
        (p): ManagedPolicySnapshot => ({ arn, name: arn.split('/').pop() ?? arn, defaultVersionId: `v${p.versionCount}`, ...p }),
      ),
    ),
  ),
  groupPolicies: fc.tuple(...GROUPS.map(() => fc.uniqueArray(fc.constantFrom(...MANAGED), { maxLength: 2 }))),
});
type Estate = { managedPolicies: ManagedPolicySnapshot[]; groupPolicies: string[][] };
const attachedOf = (arns: readonly string[]) => arns.map((policyArn) => ({ policyArn, policyName: policyArn.split('/').pop() ?? policyArn }));
const groupsOf = (estate: Estate): GroupSnapshot[] => GROUPS.map((g, i) => ({ ...g, attachedPolicies: attachedOf(estate.groupPolicies[i] ?? []) }));

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
    attachedPolicies: attachedOf(managed),
    credentials: [],
    loginProfile,
  }));

const baselineArb: fc.Arbitrary<BaselinePolicy> = fc.record(
  {
    name: fc.constant('service-users'),
    match: fc.constantFrom({ tags: { env: 'dev' } }, {}),
    // Often exactly the customer-managed ones: what their statements grant is then judged (an edit, or a detach when it cannot be edited).
    allowManagedPolicies: fc.oneof(fc.uniqueArray(fc.constantFrom(...MANAGED), { maxLength: 3 }), fc.constant(CUSTOMER)),
    forbidActions: fc.uniqueArray(fc.constantFrom(...FORBIDDEN), { minLength: 1, maxLength: 3 }),
    maxActiveAccessKeys: fc.integer({ min: 0, max: 2 }),
    consoleAccess: fc.boolean(),
  },
  { requiredKeys: ['name'] },
);

function reconcile(subject: UserSnapshot, baseline: BaselinePolicy, estate: Estate): { plan: Plan; snapshot: Snapshot; policy: ReturnType<typeof policyWith> } {
  const policy = policyWith(() => ({ baselines: [baseline], triggers: { ...policyWith(() => ({})).triggers, reconcile: { deactivateUnusedKeys: false, rotateAgedSecretKeys: false, escalateUnowned: true } } }));
  const snapshot = { ...snapshotOf({ users: [subject] }), groups: groupsOf(estate), managedPolicies: estate.managedPolicies };
  return { plan: planFor(events.reconcile({ nhi: 'svc-prop' }), snapshot, { policy }), snapshot, policy };
}

const applies = (baseline: BaselinePolicy, subject: UserSnapshot) => Object.entries(baseline.match?.tags ?? {}).every(([k, v]) => subject.tags[k] === v);
const activeKeys = (u: UserSnapshot): AccessKeySnapshot[] => u.accessKeys.filter((k) => k.status === 'Active');
const allowed = (baseline: BaselinePolicy, arn: string): boolean => !baseline.allowManagedPolicies || baseline.allowManagedPolicies.includes(arn);
const grants = (document: Readonly<Record<string, unknown>>, forbid: readonly string[]): boolean => statementsOf(document as JsonObject).some((st) => grantedForbidden(st, forbid).length > 0);

describe('baselines (property)', () => {
  it('never removes what the baseline allows: allowed policies, statements granting nothing forbidden, the most recently used keys, an allowed console', () => {
    fc.assert(
      fc.property(userArb, baselineArb, estateArb, (subject, baseline, estate) => {
        const { plan } = reconcile(subject, baseline, estate);
        // Interesting cases only: a baseline that applies and finds excess.
        fc.pre(applies(baseline, subject) && plan.actions.length > 0);
        const forbid = baseline.forbidActions ?? [];
        const customer = (arn: unknown) => estate.managedPolicies.find((p) => p.arn === arn);
        for (const action of plan.actions) {
          expect(action.finding).toBe('EXCESSIVE_PRIVILEGE');
          if (action.kind === 'iam.detachManagedPolicy') {
            // Not allowed, or a customer-managed policy granting a forbidden action that cannot be edited for this NHI alone.
            const policy = customer(action.params.policyArn);
            const editable = policy !== undefined && policy.attachmentCount === 1 && policy.boundaryUsageCount === 0 && policy.versionCount < 5 && statementsOf(policy.document as JsonObject).some((st) => grantedForbidden(st, forbid).length === 0);
            expect(!allowed(baseline, String(action.params.policyArn)) || (policy !== undefined && grants(policy.document, forbid) && !editable), `detached ${String(action.params.policyArn)}`).toBe(true);
          }
          if (action.kind === 'iam.editManagedPolicy') {
            const policy = customer(action.params.policyArn);
            expect(policy && allowed(baseline, policy.arn) && policy.attachmentCount === 1 && policy.boundaryUsageCount === 0 && policy.versionCount < 5).toBe(true);
            expect(action.before).toMatchObject({ versionId: policy?.defaultVersionId, versionIsDefault: true });
            // Exactly the statements granting a forbidden action go; every other one stays, unchanged.
            const kept = statementsOf(policy?.document as JsonObject).filter((st) => grantedForbidden(st, forbid).length === 0);
            expect(kept.length).toBeGreaterThan(0);
            expect(statementsOf(action.params.document as JsonObject)).toEqual(kept);
          }
          if (action.kind === 'iam.putInlinePolicy' || action.kind === 'iam.deleteInlinePolicy') {
            const before = statementsOf(action.before.document as JsonObject);
            const after = action.kind === 'iam.putInlinePolicy' ? statementsOf(action.params.document as JsonObject) : [];
            // Exactly the statements granting a forbidden action go; every other one stays, unchanged.
            expect(after).toEqual(before.filter((s) => grantedForbidden(s, forbid).length === 0));
          }
          if (action.kind === 'iam.containConsoleAccess') expect(baseline.consoleAccess).toBe(false);
          if (action.kind === 'iam.removeUserFromGroup') {
            const group = groupsOf(estate).find((g) => g.name === action.params.groupName);
            const inlineGrants = group?.inlinePolicies.some((p) => grants(p.document, forbid)) ?? false;
            const managedExcess = (group?.attachedPolicies ?? []).some((p) => !allowed(baseline, p.policyArn) || grants(customer(p.policyArn)?.document ?? {}, forbid));
            expect(inlineGrants || managedExcess, `group ${String(action.params.groupName)} grants what the baseline does not allow`).toBe(true);
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
      fc.property(userArb, baselineArb, estateArb, (subject, baseline, estate) => {
        const { plan, snapshot, policy } = reconcile(subject, baseline, estate);
        fc.pre(plan.actions.length > 0);
        const applied = applyPlan(snapshot, plan, PLAN_NOW);
        expect(planFor(events.reconcile({ nhi: 'svc-prop' }), applied, { policy }).actions).toEqual([]);
      }),
      RUNS,
    );
  }, LONG.timeout);

  it('a customer-managed policy only this NHI holds is edited, never detached, to exactly its statements granting nothing forbidden (or detached when none is left); re-planning after apply finds nothing', () => {
    const own: fc.Arbitrary<ManagedPolicySnapshot> = fc
      .record({ document: documentArb, versionCount: fc.integer({ min: 1, max: 4 }) })
      .map(({ document, versionCount }) => ({ arn: CUSTOMER[0] ?? '', name: 'app-read', defaultVersionId: `v${versionCount}`, document, versionCount, attachmentCount: 1, boundaryUsageCount: 0 }));
    fc.assert(
      fc.property(own, fc.uniqueArray(fc.constantFrom(...FORBIDDEN), { minLength: 1, maxLength: 3 }), (policy, forbidActions) => {
        const subject: UserSnapshot = { ...user('svc-prop', { owner: 'alice@example.com', env: 'dev' }), attachedPolicies: attachedOf([policy.arn]), credentials: [], loginProfile: false };
        const baseline: BaselinePolicy = { name: 'service-users', allowManagedPolicies: [policy.arn], forbidActions };
        const { plan, snapshot, policy: governance } = reconcile(subject, baseline, { managedPolicies: [policy], groupPolicies: [] });
        const kept = statementsOf(policy.document as JsonObject).filter((st) => grantedForbidden(st, forbidActions).length === 0);
        const granting = statementsOf(policy.document as JsonObject).length > kept.length;
        const expected = !granting ? [] : kept.length === 0 ? ['iam.detachManagedPolicy'] : ['iam.editManagedPolicy'];
        expect(plan.actions.map((a) => a.kind)).toEqual(expected);
        const edit = plan.actions.find((a) => a.kind === 'iam.editManagedPolicy');
        if (edit) expect(statementsOf(edit.params.document as JsonObject)).toEqual(kept);
        expect(planFor(events.reconcile({ nhi: 'svc-prop' }), applyPlan(snapshot, plan, PLAN_NOW), { policy: governance }).actions).toEqual([]);
      }),
      RUNS,
    );
  }, LONG.timeout);

  it('a baseline that does not match the NHI plans nothing for it', () => {
    fc.assert(
      fc.property(userArb, baselineArb, estateArb, (subject, baseline, estate) => {
        fc.pre(!applies(baseline, subject));
        expect(reconcile(subject, baseline, estate).plan.actions).toEqual([]);
      }),
      RUNS,
    );
  }, LONG.timeout);
});

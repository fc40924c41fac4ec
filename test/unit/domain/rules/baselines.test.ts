import { describe, expect, it } from 'vitest';
import type { ManagedPolicySnapshot, Snapshot, UserSnapshot } from '../../../../lambdas/domain/snapshot.js';
import { contentHash } from '../../../../lambdas/domain/canonical.js';
import { snapshotOf, user } from '../../../fixtures/estate-builder.js';
import { events, planFor } from '../../../fixtures/planning.js';
import { policyWith } from '../../../fixtures/policies.js';

const APP = 'arn:aws:iam::123456789012:policy/app';
const READ_ONLY = 'arn:aws:iam::aws:policy/ReadOnlyAccess';
const ALL_OF_IAM = { Effect: 'Allow', Action: 'iam:*', Resource: '*' };
const READ_OBJECTS = { Effect: 'Allow', Action: 's3:GetObject', Resource: 'arn:aws:s3:::b/*' };
const DOCUMENT = { Version: '2012-10-17', Statement: [ALL_OF_IAM, READ_OBJECTS] };

const customer = (over: Partial<ManagedPolicySnapshot> = {}): ManagedPolicySnapshot => ({ arn: APP, name: 'app', defaultVersionId: 'v2', document: DOCUMENT, versionCount: 2, attachmentCount: 1, boundaryUsageCount: 0, ...over });
const withPolicies = (arns: readonly string[], groups: readonly string[] = []): UserSnapshot => ({
  ...user('svc-app', { owner: 'alice@example.com', groups: [...groups] }),
  attachedPolicies: arns.map((policyArn) => ({ policyArn, policyName: policyArn.split('/').pop() ?? policyArn })),
  credentials: [],
  loginProfile: false,
});
const baseline = { name: 'service-users', allowManagedPolicies: [READ_ONLY, APP], forbidActions: ['*', 'iam:*'] };

function plan(snapshot: Snapshot) {
  return planFor(events.reconcile({ nhi: 'svc-app' }), snapshot, { policy: policyWith(() => ({ baselines: [baseline] })) });
}

describe('baselines: customer-managed policies', () => {
  it('this NHI alone holds it: a new default version without the offending statement; before fingerprints the default version and its document', () => {
    const p = plan({ ...snapshotOf({ users: [withPolicies([APP])] }), managedPolicies: [customer()] });
    expect(p.actions).toHaveLength(1);
    const [edit] = p.actions;
    expect(edit).toMatchObject({
      kind: 'iam.editManagedPolicy',
      params: { principalType: 'user', principalName: 'svc-app', policyArn: APP, versionId: 'v2', document: { Version: '2012-10-17', Statement: [READ_OBJECTS] } },
      before: { versionId: 'v2', versionIsDefault: true, documentSha256: contentHash(DOCUMENT), attachmentCount: 1 },
      after: { versionId: 'v2', versionIsDefault: false, documentSha256: contentHash({ Version: '2012-10-17', Statement: [READ_OBJECTS] }), attachmentCount: 1 },
      inverse: { kind: 'iam.restoreManagedPolicyVersion', params: { policyArn: APP, versionId: 'v2', documentSha256: contentHash(DOCUMENT) } },
    });
    expect(p.findings.find((f) => f.reasonCode === 'EXCESSIVE_PRIVILEGE')?.data).toMatchObject({
      before: { customerManagedPolicies: [{ policyArn: APP, defaultVersionId: 'v2', statements: 2, forbidden: ['iam:*'], attachments: 1, boundaryOf: 0, versions: 2 }] },
      excess: [{ kind: 'iam.editManagedPolicy', policyArn: APP, forbidden: ['iam:*'], statementsRemoved: 1 }],
    });
  });

  it.each([
    ['attached to other principals too', customer({ attachmentCount: 3 }), /attached to 3 principals/],
    ['the permissions boundary of another principal', customer({ boundaryUsageCount: 1 }), /permissions boundary of 1/],
    ['at IAM’s five versions', customer({ versionCount: 5 }), /5 versions/],
    ['granting nothing but forbidden actions', customer({ document: { Statement: [ALL_OF_IAM] } }), /every statement/],
  ])('%s: detached from this NHI, the policy left as it is, and the finding says why', (_name, policy, why) => {
    const p = plan({ ...snapshotOf({ users: [withPolicies([APP])] }), managedPolicies: [policy] });
    expect(p.actions.map((a) => [a.kind, a.params.policyArn])).toEqual([['iam.detachManagedPolicy', APP]]);
    const excess = p.findings.find((f) => f.reasonCode === 'EXCESSIVE_PRIVILEGE')?.data?.excess;
    expect(JSON.stringify(excess)).toMatch(why);
  });

  it('an allowed customer-managed policy granting nothing forbidden, and an allowed AWS managed one, are left alone', () => {
    const p = plan({ ...snapshotOf({ users: [withPolicies([APP, READ_ONLY])] }), managedPolicies: [customer({ document: { Statement: [READ_OBJECTS] } })] });
    expect(p.actions).toEqual([]);
  });
});

describe('baselines: managed policies attached to a group', () => {
  const groups = (attached: readonly string[]) => [{ name: 'deployers', inlinePolicies: [], attachedPolicies: attached.map((policyArn) => ({ policyArn, policyName: policyArn.split('/').pop() ?? policyArn })) }];

  it('a group policy the baseline does not allow: the user leaves the group, the finding names the group policy', () => {
    const admin = 'arn:aws:iam::aws:policy/AdministratorAccess';
    const p = plan({ ...snapshotOf({ users: [withPolicies([], ['deployers'])] }), groups: groups([admin]) });
    expect(p.actions.map((a) => [a.kind, a.params])).toEqual([['iam.removeUserFromGroup', { userName: 'svc-app', groupName: 'deployers' }]]);
    expect(p.findings.find((f) => f.reasonCode === 'EXCESSIVE_PRIVILEGE')?.data).toMatchObject({
      before: { groups: ['deployers'], groupGrants: [{ group: 'deployers', managedPolicies: [{ policyArn: admin, allowed: false }] }] },
      excess: [{ kind: 'iam.removeUserFromGroup', groupName: 'deployers', groupPolicies: [{ managedPolicy: admin, allowed: false }] }],
    });
  });

  it('an allowed customer-managed group policy granting a forbidden action: the user leaves the group (the shared policy is not edited)', () => {
    const p = plan({ ...snapshotOf({ users: [withPolicies([], ['deployers'])] }), groups: groups([APP]), managedPolicies: [customer()] });
    expect(p.actions.map((a) => a.kind)).toEqual(['iam.removeUserFromGroup']);
    expect(p.findings[0]?.data?.excess).toEqual([{ kind: 'iam.removeUserFromGroup', target: 'svc-app', groupName: 'deployers', groupPolicies: [{ managedPolicy: APP, forbidden: ['iam:*'] }] }]);
  });

  it('a group whose attached policies are allowed and grant nothing forbidden is kept', () => {
    const p = plan({ ...snapshotOf({ users: [withPolicies([], ['deployers'])] }), groups: groups([READ_ONLY, APP]), managedPolicies: [customer({ document: { Statement: [READ_OBJECTS] } })] });
    expect(p.actions).toEqual([]);
  });
});

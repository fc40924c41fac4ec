import { describe, expect, it } from 'vitest';
import { renderPermissionChanges } from '../../../cli/lib/render-permissions.js';
import { snapshotOf, user } from '../../fixtures/estate-builder.js';
import { events, planFor } from '../../fixtures/planning.js';
import { policyWith } from '../../fixtures/policies.js';

const ADMIN = 'arn:aws:iam::aws:policy/AdministratorAccess';
const READ_ONLY = 'arn:aws:iam::aws:policy/ReadOnlyAccess';

describe('the plan, per NHI, permissions before → after', () => {
  it('names each removed permission in words a reviewer reads', () => {
    const subject = {
      ...user('svc-app', {
        owner: 'alice@example.com',
        keys: [
          { accessKeyId: 'AKIAAPP000000001', createdAt: '2026-06-01T00:00:00.000Z', lastUsedAt: '2026-06-30T00:00:00.000Z' },
          { accessKeyId: 'AKIAAPP000000002', createdAt: '2026-06-01T00:00:00.000Z', lastUsedAt: null },
        ],
        inline: [{ name: 'app', document: { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: '*', Resource: '*' }, { Effect: 'Allow', Action: 's3:GetObject', Resource: 'arn:aws:s3:::b/*' }] } }],
      }),
      attachedPolicies: [ADMIN, READ_ONLY].map((policyArn) => ({ policyArn, policyName: policyArn.split('/').pop() ?? '' })),
      loginProfile: true,
    };
    const policy = policyWith(() => ({ baselines: [{ name: 'service-users', allowManagedPolicies: [READ_ONLY], forbidActions: ['*', 'iam:*'], maxActiveAccessKeys: 1, consoleAccess: false }] }));
    const plan = planFor(events.reconcile({ nhi: 'svc-app' }), snapshotOf({ users: [subject] }), { policy });
    expect(renderPermissionChanges(plan)).toEqual([
      '  permissions of svc-app, before → after:',
      `    a1 managed policy ${ADMIN}: attached → detached`,
      '    a2 inline policy app: 2 statement(s) → 1, removed: Allow * on *',
      '    a3 access key AKIAAPP000000002: Active → Inactive',
      '    a4 console password: usable → contained (no console session can act)',
    ]);
    expect(plan.findings.find((f) => f.reasonCode === 'EXCESSIVE_PRIVILEGE')?.data).toMatchObject({ baselines: ['service-users'], before: { managedPolicies: [ADMIN, READ_ONLY], activeAccessKeys: ['AKIAAPP000000001', 'AKIAAPP000000002'], consoleAccess: true } });
  });

  it('says what a customer-managed policy keeps when it is edited, and a group left for its attached policy', () => {
    const APP = 'arn:aws:iam::123456789012:policy/app';
    const subject = { ...user('svc-app', { owner: 'alice@example.com', groups: ['deployers'] }), attachedPolicies: [{ policyArn: APP, policyName: 'app' }], credentials: [], loginProfile: false };
    const snapshot = {
      ...snapshotOf({ users: [subject] }),
      groups: [{ name: 'deployers', inlinePolicies: [], attachedPolicies: [{ policyArn: ADMIN, policyName: 'AdministratorAccess' }] }],
      managedPolicies: [{ arn: APP, name: 'app', defaultVersionId: 'v1', versionCount: 1, attachmentCount: 1, boundaryUsageCount: 0, document: { Statement: [{ Effect: 'Allow', Action: 'iam:*', Resource: '*' }, { Effect: 'Allow', Action: 's3:GetObject', Resource: 'arn:aws:s3:::b/*' }] } }],
    };
    const policy = policyWith(() => ({ baselines: [{ name: 'service-users', allowManagedPolicies: [READ_ONLY, APP], forbidActions: ['*', 'iam:*'] }] }));
    expect(renderPermissionChanges(planFor(events.reconcile({ nhi: 'svc-app' }), snapshot, { policy }))).toEqual([
      '  permissions of svc-app, before → after:',
      `    a1 customer-managed policy ${APP}: default v1 → a new version keeping 1 statement(s): Allow s3:GetObject on arn:aws:s3:::b/*`,
      '    a2 group deployers: member → not a member',
    ]);
  });
});

import { describe, expect, it } from 'vitest';
import { sessionDenyDocument } from '../../../../lambdas/connectors/iam/session-revocation.js';
import { applyPlan } from '../../../fixtures/apply-plan.js';
import { role, secret, snapshotOf, user } from '../../../fixtures/estate-builder.js';
import { actionsOf, events, PLAN_NOW, planFor } from '../../../fixtures/planning.js';
import { policyWith } from '../../../fixtures/policies.js';

const ALICE = 'alice@example.com';
const MANAGER = 'mgr@example.com';
const recent = { createdAt: '2026-06-01T00:00:00.000Z', lastUsedAt: '2026-06-30T00:00:00.000Z' };

function aliceEstate() {
  return snapshotOf({
    users: [
      user('svc-pay', { owner: ALICE, keys: [{ accessKeyId: 'AKIAPAY000000001', ...recent }, { accessKeyId: 'AKIAPAY000000002', status: 'Inactive' }] }),
      user('svc-etl', { owner: 'bob@example.com', keys: [{ accessKeyId: 'AKIAETL000000001', ...recent }] }),
      user('svc-shadow', { owner: ALICE, governed: false, keys: [{ accessKeyId: 'AKIASHADOW000001' }] }),
    ],
    roles: [role('role-batch', { owner: ALICE })],
    secrets: [secret('app/etl-key', { owner: ALICE, holds: { user: 'svc-etl', accessKeyId: 'AKIAETL000000001' } }), secret('app/db-password', { owner: ALICE })],
  });
}

describe('Employee Terminated', () => {
  it('moves ownership to the manager first, then revokes users and roles and rotates key secrets', () => {
    const plan = planFor(events.terminated(ALICE, MANAGER), aliceEstate());
    expect(actionsOf(plan)).toEqual([
      ['iam.moveOwnerTag', 'svc-pay'],
      ['iam.moveOwnerTag', 'role-batch'],
      ['secrets.moveOwnerTag', 'app/db-password'],
      ['secrets.moveOwnerTag', 'app/etl-key'],
      ['secrets.rotateAccessKeySecret', 'app/etl-key'],
      ['iam.deactivateAccessKey', 'AKIAPAY000000001'],
      ['iam.putSessionRevocationDeny', 'svc-pay'],
      ['iam.attachQuarantinePolicy', 'role-batch'],
      ['iam.putSessionRevocationDeny', 'role-batch'],
    ]);
    expect(plan.actions.map((a) => a.phase)).toEqual([0, 0, 0, 0, 1, 1, 1, 1, 1]);
    expect(plan.actions.every((a) => a.finding === 'OWNER_TERMINATED')).toBe(true);
    expect(plan.actions.find((a) => a.kind === 'iam.moveOwnerTag')?.params).toEqual({ principalType: 'user', principalName: 'svc-pay', toOwner: MANAGER });
    expect(plan.actions.find((a) => a.kind === 'iam.moveOwnerTag')?.inverse).toEqual({ kind: 'iam.moveOwnerTag', params: { principalType: 'user', principalName: 'svc-pay', toOwner: ALICE } });
    expect(plan.actions.find((a) => a.kind === 'iam.putSessionRevocationDeny')?.params.issuedBefore).toBe(PLAN_NOW.toISOString());
    expect(plan.findings).toEqual([
      { nhi: 'app/db-password', reasonCode: 'OWNER_TERMINATED', message: expect.stringMatching(/not tagged as holding an IAM access key .*: rotate it by hand/), owner: 'alice@example.com' },
    ]);
    expect(plan.approval.owners).toEqual(['alice@example.com', 'bob@example.com']);
  });

  it('rotates a key secret: new version derived from the change, old key expected active, rotation group', () => {
    const plan = planFor(events.terminated(ALICE), aliceEstate());
    const rotation = plan.actions.find((a) => a.kind === 'secrets.rotateAccessKeySecret');
    expect(rotation?.group).toBe('rotation');
    expect(rotation?.params).toMatchObject({ secretId: 'app/etl-key', userName: 'svc-etl', replacedAccessKeyId: 'AKIAETL000000001', replacedVersionId: '11111111-aaaa-4aaa-8aaa-aaaaaaaaaaaa' });
    expect(rotation?.params.rotationVersionId).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(rotation?.before).toEqual({ currentVersionId: '11111111-aaaa-4aaa-8aaa-aaaaaaaaaaaa', replacedKeyStatus: 'Active' });
    expect(rotation?.after).toEqual({ currentVersionId: rotation?.params.rotationVersionId, replacedKeyStatus: 'Inactive' });
    expect(rotation?.inverse).toEqual({ kind: 'secrets.restoreAccessKeySecret', params: rotation?.params });
    expect(planFor(events.terminated(ALICE), aliceEstate(), { changeId: 'chg-other' }).actions.find((a) => a.kind === rotation?.kind)?.params.rotationVersionId).not.toBe(rotation?.params.rotationVersionId);
  });

  it('without a manager reports every owned NHI for reassignment and moves nothing', () => {
    const plan = planFor(events.terminated(ALICE), aliceEstate());
    expect(plan.actions.some((a) => a.group === 'ownership')).toBe(false);
    expect(plan.findings.map((f) => [f.nhi, f.reasonCode])).toEqual([
      ['svc-pay', 'OWNER_TERMINATED'],
      ['role-batch', 'OWNER_TERMINATED'],
      ['app/db-password', 'OWNER_TERMINATED'],
      ['app/etl-key', 'OWNER_TERMINATED'],
      ['app/db-password', 'OWNER_TERMINATED'],
    ]);
  });

  it('lets the rotation deactivate a key it replaces instead of a second action on the same key', () => {
    const snapshot = snapshotOf({
      users: [user('svc-pay', { owner: ALICE, keys: [{ accessKeyId: 'AKIAPAY000000001', ...recent }] })],
      secrets: [secret('app/pay-key', { owner: ALICE, holds: { user: 'svc-pay', accessKeyId: 'AKIAPAY000000001' } })],
    });
    expect(actionsOf(planFor(events.terminated(ALICE), snapshot))).toEqual([
      ['secrets.rotateAccessKeySecret', 'app/pay-key'],
      ['iam.putSessionRevocationDeny', 'svc-pay'],
    ]);
  });

  it('does not revoke the key its own rotation made: re-planning after apply plans nothing', () => {
    const snapshot = snapshotOf({
      users: [user('svc-pay', { owner: ALICE, keys: [{ accessKeyId: 'AKIAPAY000000001', ...recent }] })],
      secrets: [secret('app/pay-key', { owner: ALICE, holds: { user: 'svc-pay', accessKeyId: 'AKIAPAY000000001' } })],
    });
    const plan = planFor(events.terminated(ALICE), snapshot);
    const applied = applyPlan(snapshot, plan, PLAN_NOW);
    expect(applied.users[0]?.accessKeys.map((k) => k.status)).toEqual(['Inactive', 'Active']);
    expect(planFor(events.terminated(ALICE), applied).actions).toEqual([]);
  });

  it('refuses a rotation when the key user already has 2 keys, and deactivates the key instead when it owns the user', () => {
    const snapshot = snapshotOf({
      users: [user('svc-pay', { owner: ALICE, keys: [{ accessKeyId: 'AKIAPAY000000001', ...recent }, { accessKeyId: 'AKIAPAY000000002', status: 'Inactive' }] })],
      secrets: [secret('app/pay-key', { owner: ALICE, holds: { user: 'svc-pay', accessKeyId: 'AKIAPAY000000001' } })],
    });
    const plan = planFor(events.terminated(ALICE), snapshot);
    expect(actionsOf(plan)).toEqual([
      ['iam.deactivateAccessKey', 'AKIAPAY000000001'],
      ['iam.putSessionRevocationDeny', 'svc-pay'],
    ]);
    const refusal = plan.findings.find((f) => f.nhi === 'app/pay-key' && f.data?.blockedBy === 'ACCESS_KEY_LIMIT');
    expect(refusal?.message).toMatch(/already has 2 access keys, IAM's limit: delete AKIAPAY000000002 \(Inactive\) first/);
  });

  it('keeps a session deny that already cuts at or after now, replaces an older one', () => {
    const covering = user('svc-a', { owner: ALICE, inline: [{ name: 'nhigov-revoke-older-sessions', document: sessionDenyDocument('2026-07-02T00:00:00.000Z') }] });
    const older = user('svc-b', { owner: ALICE, inline: [{ name: 'nhigov-revoke-older-sessions', document: sessionDenyDocument('2026-01-01T00:00:00.000Z') }] });
    const plan = planFor(events.terminated(ALICE), snapshotOf({ users: [covering, older] }));
    expect(actionsOf(plan)).toEqual([['iam.putSessionRevocationDeny', 'svc-b']]);
    expect(plan.actions[0]?.before).toEqual({ present: true, issuedBefore: '2026-01-01T00:00:00.000Z' });
    expect(plan.actions[0]?.inverse?.params.issuedBefore).toBe('2026-01-01T00:00:00.000Z');
  });

  it('follows the policy: what it does to users, roles and secrets, and whether it reassigns', () => {
    const policy = policyWith((p) => ({ triggers: { ...p.triggers, employeeTerminated: { reassignToManager: false, users: ['revokeSessions'], roles: [], secrets: [] } } }));
    const plan = planFor(events.terminated(ALICE, MANAGER), aliceEstate(), { policy });
    expect(actionsOf(plan)).toEqual([['iam.putSessionRevocationDeny', 'svc-pay']]);
    expect(plan.findings[0]?.message).toMatch(/does not reassign/);
  });

  it('asks for approval on prod NHIs and leaves exempted ones alone', () => {
    const snapshot = snapshotOf({ users: [user('svc-prod', { owner: ALICE, env: 'prod', keys: [{ accessKeyId: 'AKIAPROD00000001' }] }), user('svc-exempt', { owner: ALICE, keys: [{ accessKeyId: 'AKIAEXEMPT000001' }] })] });
    const policy = policyWith(() => ({ exemptions: [{ nhi: 'svc-exempt', reason: 'migration', ticket: 'SEC-9', approver: 'secops@example.com', expiresAt: '2026-12-31T00:00:00.000Z' }] }));
    const plan = planFor(events.terminated(ALICE), snapshot, { policy });
    expect(plan.actions.every((a) => a.target.nhi === 'svc-prod' && a.risk.prod)).toBe(true);
    expect(plan.approval).toMatchObject({ required: true, reasons: ['env=prod on svc-prod'], afterTheFact: false });
    expect(plan.findings.filter((f) => f.reasonCode === 'EXEMPTED').map((f) => f.nhi)).toEqual(['svc-exempt']);
  });

  it('plans nothing for a person who owns nothing governed', () => {
    const plan = planFor(events.terminated('nobody@example.com'), aliceEstate());
    expect(plan.actions).toEqual([]);
    expect(plan.approval.required).toBe(false);
  });
});

import { describe, expect, it } from 'vitest';
import type { GovernanceEvent } from '../../../../lambdas/domain/events.js';
import { role, secret, snapshotOf, user } from '../../../fixtures/estate-builder.js';
import { actionsOf, events, planFor } from '../../../fixtures/planning.js';
import { policyWith } from '../../../fixtures/policies.js';

const ALICE = 'alice@example.com';
const estate = snapshotOf({
  users: [
    user('svc-a', { owner: ALICE, keys: [{ accessKeyId: 'AKIASVCA00000001' }, { accessKeyId: 'AKIASVCA00000002', status: 'Inactive' }] }),
    user('svc-b', { owner: ALICE, keys: [{ accessKeyId: 'AKIASVCB00000001' }] }),
  ],
  roles: [role('role-ci', { owner: ALICE })],
  secrets: [secret('app/b-key', { owner: ALICE, holds: { user: 'svc-b', accessKeyId: 'AKIASVCB00000001' } }), secret('app/password', { owner: ALICE })],
});

describe('Credential Exposed', () => {
  it('deactivates the named key at once and asks for approval after the fact', () => {
    const plan = planFor(events.exposed('svc-a', { accessKeyId: 'AKIASVCA00000001' }), estate);
    expect(actionsOf(plan)).toEqual([['iam.deactivateAccessKey', 'AKIASVCA00000001']]);
    expect(plan.actions[0]).toMatchObject({ group: 'containment', finding: 'CREDENTIAL_EXPOSED', inverse: { kind: 'iam.reactivateAccessKey' } });
    expect(plan.approval).toMatchObject({ required: true, afterTheFact: true, reasons: ['containment of an exposed credential: applied first, approved after the fact'] });
  });

  it('asks before acting when the policy does not contain first', () => {
    const policy = policyWith((p) => ({ triggers: { ...p.triggers, credentialExposed: { containFirst: false, rollbackOnReject: true } } }));
    const plan = planFor(events.exposed('svc-a', { accessKeyId: 'AKIASVCA00000001' }), estate, { policy });
    expect(plan.approval).toMatchObject({ required: false, afterTheFact: false });
  });

  it('deactivates an exposed key a secret holds (a failed rotation would roll back to it) and reports the secret', () => {
    const plan = planFor(events.exposed('svc-b', { accessKeyId: 'AKIASVCB00000001', secretId: 'app/b-key' }), estate);
    expect(actionsOf(plan)).toEqual([['iam.deactivateAccessKey', 'AKIASVCB00000001']]);
    expect(plan.findings).toEqual([expect.objectContaining({ nhi: 'app/b-key', reasonCode: 'CREDENTIAL_EXPOSED', message: expect.stringMatching(/rotate the secret/) })]);
  });

  it('rotates an exposed key secret, in the rotation group (all-or-nothing: an unverifiable rotation rolls back)', () => {
    const plan = planFor(events.exposed('app/b-key'), estate);
    expect(actionsOf(plan)).toEqual([['secrets.rotateAccessKeySecret', 'app/b-key']]);
    expect(plan.actions[0]).toMatchObject({ group: 'rotation', finding: 'CREDENTIAL_EXPOSED' });
    expect(plan.approval.afterTheFact).toBe(true);
  });

  it('contains a whole user (active keys and sessions) or a role (sessions) when no key is named', () => {
    expect(actionsOf(planFor(events.exposed('svc-a'), estate))).toEqual([
      ['iam.deactivateAccessKey', 'AKIASVCA00000001'],
      ['iam.putSessionRevocationDeny', 'svc-a'],
    ]);
    expect(actionsOf(planFor(events.exposed('role-ci'), estate))).toEqual([['iam.putSessionRevocationDeny', 'role-ci']]);
  });

  it('reports, and touches nothing, when the key is not the named NHI\'s or the NHI is not governed', () => {
    const wrongOwner = planFor(events.exposed('svc-a', { accessKeyId: 'AKIASVCB00000001' }), estate);
    expect(wrongOwner.actions).toEqual([]);
    expect(wrongOwner.findings[0]?.message).toMatch(/belongs to user svc-b, not to svc-a; contain it by hand/);
    const unknown = planFor(events.exposed('svc-zzz', { accessKeyId: 'AKIASVCA00000001' }), estate);
    expect(unknown.actions).toEqual([]);
    expect(unknown.findings.map((f) => [f.nhi, f.reasonCode])).toEqual([['svc-zzz', 'CREDENTIAL_EXPOSED']]);
  });

  it('reports a secret that holds no IAM key instead of rotating it', () => {
    const plan = planFor(events.exposed('app/password'), estate);
    expect(plan.actions).toEqual([]);
    expect(plan.findings[0]?.message).toMatch(/not tagged as holding an IAM access key/);
  });

  it('finds the user of a key reported without one (AWS Health) and contains it', () => {
    const exposedKey = (accessKeyId: string): GovernanceEvent => ({ id: 'evt-health', detailType: 'Credential Exposed', source: 'security.findings', detail: { accessKeyId, severity: 'critical' } });
    const event = exposedKey('AKIASVCB00000001');
    const plan = planFor(event, estate);
    expect(actionsOf(plan)).toEqual([['iam.deactivateAccessKey', 'AKIASVCB00000001']]);
    expect(plan.approval.afterTheFact).toBe(true);
    const unknown = exposedKey('AKIAUNKNOWN0000001');
    expect(planFor(unknown, estate).findings).toEqual([expect.objectContaining({ nhi: 'AKIAUNKNOWN0000001', reasonCode: 'CREDENTIAL_EXPOSED', message: expect.stringMatching(/no IAM user this account can see has it/) })]);
  });

  it('contains first only at or above the policy\'s severity floor (default high); below it the exposure is a change like any other', () => {
    const at = (severity: 'low' | 'medium' | 'high' | 'critical', floor?: 'low' | 'medium' | 'high' | 'critical') => {
      const policy = policyWith((p) => ({ triggers: { ...p.triggers, credentialExposed: { containFirst: true, rollbackOnReject: true, ...(floor ? { containFirstMinSeverity: floor } : {}) } } }));
      const exposed: GovernanceEvent = { id: 'evt-exposed', detailType: 'Credential Exposed', source: 'security.findings', detail: { nhi: 'svc-a', accessKeyId: 'AKIASVCA00000001', severity } };
      return planFor(exposed, estate, { policy }).approval.afterTheFact;
    };
    expect([at('low'), at('medium'), at('high'), at('critical')]).toEqual([false, false, true, true]);
    expect([at('low', 'medium'), at('medium', 'medium')]).toEqual([false, true]);
    expect(at('high', 'critical')).toBe(false);
  });
});

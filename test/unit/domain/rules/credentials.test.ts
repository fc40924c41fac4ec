import { describe, expect, it } from 'vitest';
import { CONSOLE_CONTAINMENT_DOCUMENT, CONSOLE_CONTAINMENT_POLICY_NAME } from '../../../../lambdas/connectors/iam/console-containment.js';
import type { UserCredentialSnapshot, UserSnapshot } from '../../../../lambdas/domain/snapshot.js';
import { applyPlan } from '../../../fixtures/apply-plan.js';
import { snapshotOf, user } from '../../../fixtures/estate-builder.js';
import { actionsOf, events, PLAN_NOW, planFor } from '../../../fixtures/planning.js';

const ALICE = 'alice@example.com';
const recent = { createdAt: '2026-06-01T00:00:00.000Z', lastUsedAt: '2026-06-30T00:00:00.000Z' };

const credential = (type: UserCredentialSnapshot['type'], id: string, status: 'Active' | 'Inactive' = 'Active'): UserCredentialSnapshot => ({ type, id, userName: 'svc-pay', status });

/** svc-pay holds one of every long-term credential (an inactive SSH key among them), as the bulk read shows it. */
function consoleUser(extra: Partial<UserSnapshot> = {}): UserSnapshot {
  return {
    ...user('svc-pay', { owner: ALICE, keys: [{ accessKeyId: 'AKIAPAY000000001', ...recent }] }),
    credentials: [
      credential('serviceSpecificCredential', 'ACCAPAY0000000000001'),
      credential('signingCertificate', 'CERTPAY00000000000000001'),
      credential('sshPublicKey', 'APKAPAY0000000000001'),
      credential('sshPublicKey', 'APKAPAY0000000000002', 'Inactive'),
    ],
    loginProfile: true,
    ...extra,
  };
}

describe('every long-term credential of a user', () => {
  it('a termination deactivates each active one by its exact id and contains the console password; re-planning after apply finds nothing', () => {
    const snapshot = snapshotOf({ users: [consoleUser()] });
    const plan = planFor(events.terminated(ALICE), snapshot);
    expect(actionsOf(plan)).toEqual([
      ['iam.deactivateAccessKey', 'AKIAPAY000000001'],
      ['iam.deactivateServiceSpecificCredential', 'ACCAPAY0000000000001'],
      ['iam.deactivateSigningCertificate', 'CERTPAY00000000000000001'],
      ['iam.deactivateSshPublicKey', 'APKAPAY0000000000001'],
      ['iam.containConsoleAccess', 'svc-pay'],
      ['iam.putSessionRevocationDeny', 'svc-pay'],
    ]);
    const ssh = plan.actions.find((a) => a.kind === 'iam.deactivateSshPublicKey');
    expect(ssh).toMatchObject({ target: { type: 'credential', nhi: 'svc-pay' }, before: { status: 'Active' }, after: { status: 'Inactive' }, inverse: { kind: 'iam.reactivateSshPublicKey' } });
    expect(plan.actions.find((a) => a.kind === 'iam.containConsoleAccess')).toMatchObject({ before: { contained: false }, after: { contained: true }, inverse: { kind: 'iam.releaseConsoleAccess', params: { userName: 'svc-pay' } } });
    expect(planFor(events.terminated(ALICE), applyPlan(snapshot, plan, PLAN_NOW)).actions).toEqual([]);
  });

  it('a console password already contained is not contained again; a user read out of scope gets nothing it cannot see', () => {
    const contained = consoleUser({ inlinePolicies: [{ name: CONSOLE_CONTAINMENT_POLICY_NAME, document: CONSOLE_CONTAINMENT_DOCUMENT }], credentials: [] });
    expect(actionsOf(planFor(events.terminated(ALICE), snapshotOf({ users: [contained] }))).map(([kind]) => kind)).not.toContain('iam.containConsoleAccess');
    const { credentials: _c, loginProfile: _l, ...unread } = consoleUser();
    expect(actionsOf(planFor(events.terminated(ALICE), snapshotOf({ users: [unread] }))).map(([kind]) => kind)).toEqual(['iam.deactivateAccessKey', 'iam.putSessionRevocationDeny']);
  });

  it('an exposure naming the user contains every credential; one naming a key deactivates only that key', () => {
    const snapshot = snapshotOf({ users: [consoleUser()] });
    const whole = planFor(events.exposed('svc-pay'), snapshot);
    expect(whole.actions.map((a) => a.kind)).toEqual(expect.arrayContaining(['iam.deactivateSshPublicKey', 'iam.deactivateSigningCertificate', 'iam.deactivateServiceSpecificCredential', 'iam.containConsoleAccess']));
    expect(whole.actions.every((a) => a.group === 'containment')).toBe(true);
    expect(actionsOf(planFor(events.exposed('svc-pay', { accessKeyId: 'AKIAPAY000000001' }), snapshot))).toEqual([['iam.deactivateAccessKey', 'AKIAPAY000000001']]);
  });
});

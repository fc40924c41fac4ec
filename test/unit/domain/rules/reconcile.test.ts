import { describe, expect, it } from 'vitest';
import { secret, snapshotOf, user } from '../../../fixtures/estate-builder.js';
import { actionsOf, events, planFor } from '../../../fixtures/planning.js';
import { policyWith } from '../../../fixtures/policies.js';

const ALICE = 'alice@example.com';
/** PLAN_NOW is 2026-07-01: 90 days before is 2026-04-02. */
const fresh = { createdAt: '2026-06-01T00:00:00.000Z', lastUsedAt: '2026-06-30T00:00:00.000Z' };
const oldButUsed = { createdAt: '2026-01-01T00:00:00.000Z', lastUsedAt: '2026-06-30T00:00:00.000Z' };

describe('Reconcile Requested', () => {
  it('deactivates keys unused past inactivityDays, and never-used keys older than that', () => {
    const snapshot = snapshotOf({
      users: [
        user('svc-a', {
          owner: ALICE,
          keys: [
            { accessKeyId: 'AKIAUNUSED000001', createdAt: '2025-01-01T00:00:00.000Z', lastUsedAt: '2026-03-01T00:00:00.000Z' },
            { accessKeyId: 'AKIANEVER0000001', createdAt: '2026-03-01T00:00:00.000Z', lastUsedAt: null },
          ],
        }),
        user('svc-b', { owner: ALICE, keys: [{ accessKeyId: 'AKIANEVERNEW0001', createdAt: '2026-06-01T00:00:00.000Z', lastUsedAt: null }, { accessKeyId: 'AKIAUSED00000001', ...fresh }] }),
      ],
    });
    const plan = planFor(events.reconcile(), snapshot);
    expect(actionsOf(plan)).toEqual([
      ['iam.deactivateAccessKey', 'AKIAUNUSED000001'],
      ['iam.deactivateAccessKey', 'AKIANEVER0000001'],
    ]);
    expect(plan.actions.every((a) => a.finding === 'KEY_UNUSED' && a.group === 'revocation')).toBe(true);
  });

  it('rotates an aged key a governed secret holds; reports one nothing holds', () => {
    const snapshot = snapshotOf({
      users: [user('svc-a', { owner: ALICE, keys: [{ accessKeyId: 'AKIAHELD00000001', ...oldButUsed }] }), user('svc-b', { owner: ALICE, keys: [{ accessKeyId: 'AKIABARE00000001', ...oldButUsed }] })],
      secrets: [secret('app/a-key', { owner: ALICE, holds: { user: 'svc-a', accessKeyId: 'AKIAHELD00000001' }, lastChangedAt: '2026-06-01T00:00:00.000Z' })],
    });
    const plan = planFor(events.reconcile(), snapshot);
    expect(actionsOf(plan)).toEqual([['secrets.rotateAccessKeySecret', 'app/a-key']]);
    expect(plan.actions[0]).toMatchObject({ finding: 'KEY_AGE_EXCEEDED', group: 'rotation' });
    expect(plan.findings).toEqual([expect.objectContaining({ nhi: 'svc-b', reasonCode: 'KEY_AGE_EXCEEDED', data: { accessKeyId: 'AKIABARE00000001' } })]);
  });

  it('escalates an NHI without an owner and writes nothing to it', () => {
    const snapshot = snapshotOf({ users: [user('svc-orphan', { owner: null, keys: [{ accessKeyId: 'AKIAORPHAN000001', createdAt: '2025-01-01T00:00:00.000Z', lastUsedAt: null }] })] });
    const plan = planFor(events.reconcile(), snapshot);
    expect(plan.actions).toEqual([]);
    expect(plan.findings.map((f) => [f.nhi, f.reasonCode])).toEqual([['svc-orphan', 'OWNER_UNKNOWN']]);
  });

  it('does not rotate a secret whose key user has no owner', () => {
    const snapshot = snapshotOf({
      users: [user('svc-orphan', { owner: null, keys: [{ accessKeyId: 'AKIAORPHAN000001', ...oldButUsed }] })],
      secrets: [secret('app/orphan-key', { owner: ALICE, holds: { user: 'svc-orphan', accessKeyId: 'AKIAORPHAN000001' } })],
    });
    const plan = planFor(events.reconcile(), snapshot);
    expect(plan.actions).toEqual([]);
    expect(plan.findings.map((f) => [f.nhi, f.reasonCode])).toEqual([
      ['svc-orphan', 'OWNER_UNKNOWN'],
      ['app/orphan-key', 'KEY_AGE_EXCEEDED'],
    ]);
  });

  it('rotates a key secret overdue for rotation; reports a secret no connector can rotate', () => {
    const snapshot = snapshotOf({
      users: [user('svc-a', { owner: ALICE, keys: [{ accessKeyId: 'AKIAHELD00000001', createdAt: '2026-04-22T00:00:00.000Z', lastUsedAt: '2026-06-30T00:00:00.000Z' }] })],
      secrets: [
        secret('app/a-key', { owner: ALICE, holds: { user: 'svc-a', accessKeyId: 'AKIAHELD00000001' }, lastRotatedAt: '2026-01-01T00:00:00.000Z' }),
        secret('app/password', { owner: ALICE, lastChangedAt: '2026-02-01T00:00:00.000Z' }),
      ],
    });
    const policy = policyWith((p) => ({ thresholds: { ...p.thresholds, secretRotationDays: 60 } }));
    const plan = planFor(events.reconcile(), snapshot, { policy });
    expect(actionsOf(plan)).toEqual([['secrets.rotateAccessKeySecret', 'app/a-key']]);
    expect(plan.actions[0]?.finding).toBe('SECRET_ROTATION_OVERDUE');
    expect(plan.findings.map((f) => [f.nhi, f.reasonCode])).toEqual([['app/password', 'SECRET_ROTATION_OVERDUE']]);
  });

  it('one action per key: an unused key a secret holds is deactivated, not rotated', () => {
    const snapshot = snapshotOf({
      users: [user('svc-a', { owner: ALICE, keys: [{ accessKeyId: 'AKIAHELD00000001', createdAt: '2025-01-01T00:00:00.000Z', lastUsedAt: '2025-02-01T00:00:00.000Z' }] })],
      secrets: [secret('app/a-key', { owner: ALICE, holds: { user: 'svc-a', accessKeyId: 'AKIAHELD00000001' } })],
    });
    expect(actionsOf(planFor(events.reconcile(), snapshot))).toEqual([['iam.deactivateAccessKey', 'AKIAHELD00000001']]);
  });

  it('evaluates thresholds at asOf', () => {
    const snapshot = snapshotOf({ users: [user('svc-a', { owner: ALICE, keys: [{ accessKeyId: 'AKIAKEY000000001', createdAt: '2026-03-01T00:00:00.000Z', lastUsedAt: '2026-05-01T00:00:00.000Z' }] })] });
    expect(planFor(events.reconcile(), snapshot).actions).toEqual([]);
    const later = planFor(events.reconcile('all', '2026-08-15T00:00:00.000Z'), snapshot);
    expect(actionsOf(later)).toEqual([['iam.deactivateAccessKey', 'AKIAKEY000000001']]);
    expect(later.asOf).toBe('2026-08-15T00:00:00.000Z');
  });

  it('limits itself to the scope: one owner, or one NHI', () => {
    const unused = { createdAt: '2025-01-01T00:00:00.000Z', lastUsedAt: null };
    const snapshot = snapshotOf({ users: [user('svc-a', { owner: ALICE, keys: [{ accessKeyId: 'AKIAAAAA00000001', ...unused }] }), user('svc-b', { owner: 'bob@example.com', keys: [{ accessKeyId: 'AKIABBBB00000001', ...unused }] })] });
    expect(actionsOf(planFor(events.reconcile({ owner: ALICE }), snapshot))).toEqual([['iam.deactivateAccessKey', 'AKIAAAAA00000001']]);
    expect(actionsOf(planFor(events.reconcile({ nhi: 'arn:aws:iam::123456789012:user/svc-b' }), snapshot))).toEqual([['iam.deactivateAccessKey', 'AKIABBBB00000001']]);
    expect(planFor(events.reconcile({ nhi: 'svc-none' }), snapshot).findings.map((f) => f.reasonCode)).toEqual(['TARGET_NOT_FOUND']);
  });

  it('reports instead of acting when the policy turns a remedy off', () => {
    const snapshot = snapshotOf({ users: [user('svc-a', { owner: ALICE, keys: [{ accessKeyId: 'AKIAKEY000000001', createdAt: '2025-01-01T00:00:00.000Z', lastUsedAt: null }] })] });
    const policy = policyWith((p) => ({ triggers: { ...p.triggers, reconcile: { deactivateUnusedKeys: false, rotateAgedSecretKeys: false, escalateUnowned: true } } }));
    const plan = planFor(events.reconcile(), snapshot, { policy });
    expect(plan.actions).toEqual([]);
    expect(plan.findings.map((f) => f.reasonCode)).toEqual(['KEY_UNUSED', 'KEY_AGE_EXCEEDED']);
  });
});

import { describe, expect, it } from 'vitest';
import { findingsDigests } from '../../../lambdas/notifications/findings-digest.js';
import { secret, snapshotOf, user } from '../../fixtures/estate-builder.js';
import { events, planFor } from '../../fixtures/planning.js';
import { DEFAULT_POLICY } from '../../fixtures/policies.js';

describe('findings digests', () => {
  it('sends an owner-routed finding to its NHI\'s own owner, one digest per recipient; an NHI without an owner tag falls back to routes.owner', () => {
    const policy = { ...DEFAULT_POLICY, routes: { ...DEFAULT_POLICY.routes, owner: 'nhi-owners@example.com' } };
    const digests = findingsDigests(policy, [
      { nhi: 'svc-a', reasonCode: 'KEY_AGE_EXCEEDED', message: 'old key', owner: 'alice@example.com' },
      { nhi: 'svc-b', reasonCode: 'KEY_AGE_EXCEEDED', message: 'old key', owner: 'bob@example.com' },
      { nhi: 'app/c', reasonCode: 'SECRET_ROTATION_OVERDUE', message: 'overdue', owner: 'alice@example.com' },
      { nhi: 'svc-d', reasonCode: 'EXEMPTED', message: 'exempted' },
      { nhi: 'svc-e', reasonCode: 'OWNER_UNKNOWN', message: 'no owner' },
    ]);
    expect(digests.map((d) => [d.email, d.routes, d.findings.map((f) => f.nhi)])).toEqual([
      ['alice@example.com', ['owner'], ['svc-a', 'app/c']],
      ['bob@example.com', ['owner'], ['svc-b']],
      ['nhi-owners@example.com', ['owner'], ['svc-d']],
      [policy.routes.security, ['security'], ['svc-e']],
    ]);
  });

  it('merges two routes that name the same address (the default policy\'s owner and security) into one digest', () => {
    expect(DEFAULT_POLICY.routes.owner).toBe(DEFAULT_POLICY.routes.security);
    const digests = findingsDigests(DEFAULT_POLICY, [
      { nhi: 'svc-d', reasonCode: 'EXEMPTED', message: 'exempted' },
      { nhi: 'svc-e', reasonCode: 'OWNER_UNKNOWN', message: 'no owner' },
    ]);
    expect(digests).toHaveLength(1);
    expect(digests[0]?.routes).toEqual(['owner', 'security']);
  });

  it('the plan names each finding\'s owner from the NHI\'s owner tag', () => {
    const snapshot = snapshotOf({
      users: [user('svc-bare', { owner: 'carol@example.com', keys: [{ accessKeyId: 'AKIABARE00000001', createdAt: '2026-01-01T00:00:00.000Z', lastUsedAt: '2026-06-30T00:00:00.000Z' }] })],
      secrets: [secret('app/plain', { owner: 'dan@example.com', lastChangedAt: '2025-01-01T00:00:00.000Z' })],
    });
    const plan = planFor(events.reconcile(), snapshot);
    expect(plan.findings.map((f) => [f.nhi, f.reasonCode, f.owner])).toEqual(
      expect.arrayContaining([
        ['svc-bare', 'KEY_AGE_EXCEEDED', 'carol@example.com'],
        ['app/plain', 'SECRET_ROTATION_OVERDUE', 'dan@example.com'],
      ]),
    );
  });
});

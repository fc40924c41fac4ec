import { describe, expect, it } from 'vitest';
import { contentHash } from '../../../lambdas/domain/canonical.js';
import { findNhi } from '../../../lambdas/domain/snapshot.js';
import { actionIdsByPhase } from '../../../lambdas/domain/plan.js';
import { role, secret, snapshotOf, user } from '../../fixtures/estate-builder.js';
import { events, planFor } from '../../fixtures/planning.js';
import { generateEstate } from '../../fixtures/snapshot-generator.js';
import { policyWith } from '../../fixtures/policies.js';

const ALICE = 'alice@example.com';
const exemption = (nhi: string, expiresAt = '2026-12-31T00:00:00.000Z') => ({ nhi, reason: 'vendor migration', ticket: 'SEC-42', approver: 'secops@example.com', expiresAt });

describe('planChange', () => {
  it('names an NHI whose name is shared (a user and a role "deploy") by its ARN, so no target is ambiguous', () => {
    const snapshot = snapshotOf({ users: [user('deploy', { owner: ALICE, keys: [{ accessKeyId: 'AKIADEPLOY000001' }] })], roles: [role('deploy', { owner: ALICE })] });
    const plan = planFor(events.terminated(ALICE), snapshot);
    expect(new Set(plan.actions.map((a) => a.target.nhi))).toEqual(new Set(['arn:aws:iam::123456789012:user/deploy', 'arn:aws:iam::123456789012:role/deploy']));
    for (const action of plan.actions) expect(findNhi(snapshot, action.target.nhi).ambiguous).toBe(false);
  });

  it('does not rotate a secret whose key user is exempted: a rotation writes to both', () => {
    const snapshot = snapshotOf({
      users: [user('svc-a', { owner: 'bob@example.com', keys: [{ accessKeyId: 'AKIASVCA00000001' }] })],
      secrets: [secret('app/a-key', { owner: ALICE, holds: { user: 'svc-a', accessKeyId: 'AKIASVCA00000001' } })],
    });
    const plan = planFor(events.terminated(ALICE), snapshot, { policy: policyWith(() => ({ exemptions: [exemption('svc-a')] })) });
    expect(plan.actions).toEqual([]);
    expect(plan.findings.filter((f) => f.reasonCode === 'EXEMPTED').map((f) => f.nhi)).toEqual(['svc-a']);
  });

  it('asks approval for prod on the key user of a rotation, and lists every touched owner', () => {
    const snapshot = snapshotOf({
      users: [user('svc-a', { owner: 'bob@example.com', env: 'prod', keys: [{ accessKeyId: 'AKIASVCA00000001' }] })],
      secrets: [secret('app/a-key', { owner: ALICE, holds: { user: 'svc-a', accessKeyId: 'AKIASVCA00000001' } })],
    });
    const plan = planFor(events.terminated(ALICE), snapshot);
    expect(plan.actions[0]?.risk).toEqual({ reversible: true, prod: true });
    expect(plan.approval.reasons).toEqual(['env=prod on svc-a']);
    expect(plan.approval.owners).toEqual([ALICE, 'bob@example.com']);
  });

  it('ignores an expired exemption', () => {
    const snapshot = snapshotOf({ users: [user('svc-a', { owner: ALICE, keys: [{ accessKeyId: 'AKIASVCA00000001' }] })] });
    const plan = planFor(events.terminated(ALICE), snapshot, { policy: policyWith(() => ({ exemptions: [exemption('svc-a', '2026-06-30T00:00:00.000Z')] })) });
    expect(plan.actions.length).toBeGreaterThan(0);
    expect(plan.findings.some((f) => f.reasonCode === 'EXEMPTED')).toBe(false);
  });

  it('gives each action its fingerprint, an idempotency key tied to the change, and records the trigger', () => {
    const snapshot = snapshotOf({ users: [user('svc-a', { owner: ALICE, keys: [{ accessKeyId: 'AKIASVCA00000001' }] })] });
    const plan = planFor(events.terminated(ALICE), snapshot);
    const other = planFor(events.terminated(ALICE), snapshot, { changeId: 'chg-other' });
    for (const action of plan.actions) expect(action.fingerprint).toBe(contentHash(action.before));
    expect(plan.actions.map((a) => a.idempotencyKey)).not.toEqual(other.actions.map((a) => a.idempotencyKey));
    expect(plan.trigger).toEqual({ eventId: 'evt-term', detailType: 'Employee Terminated', source: 'hr.system', detail: { employeeId: 'e-1', email: ALICE } });
    expect(plan).toMatchObject({ changeId: 'chg-test', createdAt: '2026-07-01T00:00:00.000Z', asOf: '2026-07-01T00:00:00.000Z' });
  });

  it('plans a 10,000-NHI reconcile in well under the bench goal', () => {
    const estate = generateEstate(10_000);
    const started = performance.now();
    const plan = planFor(events.reconcile(), estate);
    expect(plan.actions.length).toBeGreaterThan(1000);
    expect(performance.now() - started).toBeLessThan(5_000);
  });
});

describe('actionIdsByPhase', () => {
  it('groups action ids by phase, ownership moves first', () => {
    const snapshot = snapshotOf({ users: [user('svc-a', { owner: ALICE, keys: [{ accessKeyId: 'AKIASVCA00000001' }] })], roles: [role('role-a', { owner: ALICE })] });
    const plan = planFor(events.terminated(ALICE, 'mgr@example.com'), snapshot);
    expect(actionIdsByPhase(plan)).toEqual([
      ['a1', 'a2'],
      ['a3', 'a4', 'a5', 'a6'],
    ]);
    expect(actionIdsByPhase({ actions: [] })).toEqual([]);
  });
});

import { describe, expect, it } from 'vitest';
import type { ChangeHistoryEntry } from '../../../lambdas/domain/held-states.js';
import type { Plan } from '../../../lambdas/domain/plan-model.js';
import { refusedUndos } from '../../../lambdas/domain/rollback-history.js';
import { snapshotOf, user } from '../../fixtures/estate-builder.js';
import { events, planFor } from '../../fixtures/planning.js';

const DAVE = 'dave@example.com';
const KEY = 'AKIAEXPOSED00001';
const OTHER = 'AKIAOTHER0000001';
const live = (status: 'Active' | 'Inactive') =>
  snapshotOf({ users: [user('svc-x', { owner: DAVE, keys: [{ accessKeyId: KEY, status, createdAt: '2026-06-01T00:00:00.000Z' }, { accessKeyId: OTHER, status, createdAt: '2026-06-01T00:00:00.000Z' }] })] });

function entry(plan: Plan, createdAt: string, verified = true): ChangeHistoryEntry {
  return { changeId: plan.changeId, kind: 'change', status: plan.actions.length ? 'VERIFIED' : 'NO_CHANGES', createdAt, actions: Object.fromEntries(plan.actions.map((a) => [a.actionId, { status: verified ? 'VERIFIED' : 'FAILED' }])), plan };
}

describe('a rollback and what came after', () => {
  const term = planFor(events.terminated(DAVE), live('Active'), { changeId: 'chg-term' });
  const keyUndo = (id: string) => term.actions.find((a) => a.target.id === id)?.actionId ?? '';
  const deny = term.actions.find((a) => a.kind === 'iam.putSessionRevocationDeny');

  it('never gives back a key reported exposed since, names the exposure, and lets the rest proceed', () => {
    const exposure = planFor({ ...events.exposed('svc-x', { accessKeyId: KEY }), cause: { source: 'aws.guardduty', detailType: 'GuardDuty Finding', eventId: 'e-1', type: 'UnauthorizedAccess:IAMUser/InstanceCredentialExfiltration', reference: 'finding-1' } }, live('Inactive'), { changeId: 'chg-exposed' });
    expect(exposure.actions).toEqual([]);
    const refused = refusedUndos('chg-term', term.actions, [entry(term, '2026-07-01T00:00:00.000Z'), entry(exposure, '2026-07-02T00:00:00.000Z')]);
    expect([...refused.keys()]).toEqual([keyUndo(KEY)]);
    expect(refused.get(keyUndo(KEY))).toMatchObject({ why: 'exposed', laterChangeId: 'chg-exposed', signal: 'aws.guardduty UnauthorizedAccess:IAMUser/InstanceCredentialExfiltration finding-1' });
    expect(refused.get(keyUndo(KEY))?.message).toContain(`access key ${KEY} was reported exposed since (chg-exposed`);
  });

  it('ignores an exposure reported before the change', () => {
    const exposure = planFor(events.exposed('svc-x', { accessKeyId: KEY }), live('Active'), { changeId: 'chg-exposed' });
    expect(refusedUndos('chg-term', term.actions, [entry(exposure, '2026-06-30T00:00:00.000Z', false), entry(term, '2026-07-01T00:00:00.000Z')]).size).toBe(0);
  });

  it('leaves a target another change has taken over since as that change left it', () => {
    const later = planFor(events.exposed('svc-x'), live('Inactive'), { changeId: 'chg-later', now: new Date('2026-07-02T00:00:00.000Z') });
    expect(later.actions.map((a) => a.kind)).toEqual(['iam.putSessionRevocationDeny']);
    // The exposure named the whole user: its keys are exposed too; its session deny replaced the termination's.
    const refused = refusedUndos('chg-term', term.actions, [entry(term, '2026-07-01T00:00:00.000Z'), entry(later, '2026-07-02T00:00:00.000Z')]);
    expect(refused.get(deny?.actionId ?? '')).toMatchObject({ why: 'exposed', laterChangeId: 'chg-later' });
    const ownerMove = { ...later, changeId: 'chg-move', trigger: { ...later.trigger, detailType: 'Owner Changed' as const, detail: { nhi: 'svc-x' } } };
    const takenOver = refusedUndos('chg-term', term.actions, [entry(term, '2026-07-01T00:00:00.000Z'), entry(ownerMove, '2026-07-02T00:00:00.000Z')]);
    expect([...takenOver.values()].map((r) => [r.actionId, r.why, r.laterChangeId])).toEqual([[deny?.actionId, 'taken-over', 'chg-move']]);
  });
});

import { describe, expect, it } from 'vitest';
import type { Plan } from '../../../lambdas/domain/plan-model.js';
import { planDecision } from '../../../lambdas/domain/plan.js';
import { snapshotScopeFor } from '../../../lambdas/domain/snapshot-scope.js';
import { snapshotOf, user } from '../../fixtures/estate-builder.js';
import { events, planFor } from '../../fixtures/planning.js';

const ALICE = 'alice@example.com';

describe('planDecision', () => {
  const plan = planFor(events.terminated(ALICE), snapshotOf({ users: [user('svc-a', { owner: ALICE, keys: [{ accessKeyId: 'AKIASVCA00000001' }] })] }));
  const approval = (required: boolean, afterTheFact: boolean): Plan['approval'] => ({ ...plan.approval, required, afterTheFact });

  it('NO_CHANGES without actions, whatever the approval says', () => {
    expect(planDecision({ actions: [], approval: approval(true, true) })).toBe('NO_CHANGES');
  });

  it('APPLY, APPROVE_FIRST or CONTAIN_FIRST by the approval', () => {
    expect(plan.actions.length).toBeGreaterThan(0);
    expect(planDecision({ actions: plan.actions, approval: approval(false, false) })).toBe('APPLY');
    expect(planDecision({ actions: plan.actions, approval: approval(true, false) })).toBe('APPROVE_FIRST');
    expect(planDecision({ actions: plan.actions, approval: approval(true, true) })).toBe('CONTAIN_FIRST');
  });
});

describe('snapshotScopeFor', () => {
  it('reads per identity only what the trigger can touch', () => {
    expect(snapshotScopeFor(events.terminated(ALICE))).toEqual({ owner: ALICE });
    expect(snapshotScopeFor(events.ownerChanged('svc-a', ALICE, 'bob@example.com'))).toEqual({ nhi: 'svc-a' });
    expect(snapshotScopeFor(events.exposed('svc-a'))).toEqual({ nhi: 'svc-a' });
    expect(snapshotScopeFor(events.exposed('svc-a', { secretId: 'app/key' }))).toEqual({ nhis: ['svc-a', 'app/key'] });
    expect(snapshotScopeFor(events.reconcile())).toEqual({ all: true });
    expect(snapshotScopeFor(events.reconcile({ owner: ALICE }))).toEqual({ owner: ALICE });
    expect(snapshotScopeFor(events.reconcile({ nhi: 'svc-a' }))).toEqual({ nhi: 'svc-a' });
  });
});

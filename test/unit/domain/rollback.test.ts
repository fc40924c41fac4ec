import { describe, expect, it } from 'vitest';
import type { Plan } from '../../../lambdas/domain/plan-model.js';
import {
  classifyRollbackTarget,
  decideRollbackRequest,
  endedWithoutEffect,
  finalizedActionIds,
  findRollbackAttempts,
  MAX_ROLLBACK_ATTEMPTS,
  planRollback,
  refusalOfRollbackAttempt,
  rollbackChangeId,
  selectRollbackActions,
  settleRollback,
  type ChangeView,
  type RollbackRequestInput,
} from '../../../lambdas/domain/rollback.js';
import type { ActionStatus, ChangeStatus } from '../../../lambdas/domain/status.js';
import { snapshotOf, user } from '../../fixtures/estate-builder.js';
import { events, PLAN_NOW, planFor } from '../../fixtures/planning.js';
import { DEFAULT_POLICY, DEFAULT_POLICY_VERSION } from '../../fixtures/policies.js';

const ALICE = 'alice@example.com';
const PARENT = 'chg-parent';

/** Alice's termination: a1, a2 deactivate her two keys, a3 denies older sessions. */
function terminationPlan(): Plan {
  const snapshot = snapshotOf({ users: [user('svc-pay', { owner: ALICE, keys: [{ accessKeyId: 'AKIAPAY000000001' }, { accessKeyId: 'AKIAPAY000000002' }] })] });
  return planFor(events.terminated(ALICE), snapshot, { changeId: PARENT });
}

function change(status: ChangeStatus, actions: Record<string, ActionStatus> = {}, extra: Partial<ChangeView> = {}): ChangeView {
  return { changeId: PARENT, kind: 'change', status, actions: Object.fromEntries(Object.entries(actions).map(([id, s]) => [id, { status: s }])), ...extra };
}

const ALL_VERIFIED = { a1: 'VERIFIED', a2: 'VERIFIED', a3: 'VERIFIED' } as const;

function request(overrides: Partial<RollbackRequestInput> = {}): RollbackRequestInput {
  return { parentChangeId: PARENT, parent: change('VERIFIED', ALL_VERIFIED), plan: terminationPlan(), finalizedActionIds: new Set(), attempts: [], ...overrides };
}

function attempt(n: number, status: ChangeStatus, actions: Record<string, ActionStatus> = {}): ChangeView {
  return { changeId: rollbackChangeId(PARENT, n), kind: 'rollback', parentChangeId: PARENT, status, actions: Object.fromEntries(Object.entries(actions).map(([id, s]) => [id, { status: s }])) };
}

describe('rollback ids', () => {
  it('derives the same id for the same change and attempt, and another for the next attempt', () => {
    expect(rollbackChangeId(PARENT, 1)).toMatch(/^rbk-[0-9a-f]{24}$/);
    expect(rollbackChangeId(PARENT, 1)).toBe(rollbackChangeId(PARENT, 1));
    expect(rollbackChangeId(PARENT, 2)).not.toBe(rollbackChangeId(PARENT, 1));
    expect(rollbackChangeId('chg-other', 1)).not.toBe(rollbackChangeId(PARENT, 1));
  });

  it('looks attempts up in order and stops at the first missing one', async () => {
    const stored = new Map([attempt(1, 'REJECTED'), attempt(2, 'AWAITING_APPROVAL')].map((a) => [a.changeId, a]));
    const asked: string[] = [];
    const found = await findRollbackAttempts(PARENT, async (id) => {
      asked.push(id);
      return stored.get(id);
    });
    expect(found.map((a) => a.status)).toEqual(['REJECTED', 'AWAITING_APPROVAL']);
    expect(asked).toEqual([rollbackChangeId(PARENT, 1), rollbackChangeId(PARENT, 2), rollbackChangeId(PARENT, 3)]);
  });
});

describe('decideRollbackRequest', () => {
  it('starts attempt 1 with the verified reversible actions in reverse order', () => {
    expect(decideRollbackRequest(request())).toEqual({ verdict: 'start', attempt: 1, rollbackChangeId: rollbackChangeId(PARENT, 1), actionIds: ['a3', 'a2', 'a1'] });
  });

  it.each([
    ['an unknown change', { parent: undefined, plan: null }, /no change chg-parent/],
    ['a rollback', { parent: change('ROLLED_BACK', {}, { kind: 'rollback', parentChangeId: 'chg-x' }) }, /itself a rollback \(of chg-x\)/],
    ['a change in flight', { parent: change('AWAITING_APPROVAL') }, /still AWAITING_APPROVAL/],
    ['a change its own workflow rolled back', { parent: change('ROLLED_BACK', { a1: 'ROLLED_BACK' }) }, /its own workflow undid it/],
    ['a change that verified nothing', { parent: change('ESCALATED', { a1: 'FAILED', a2: 'FAILED', a3: 'FAILED' }) }, /no verified reversible action/],
    ['a change that never planned', { parent: change('FAILED'), plan: null }, /no verified reversible action/],
    ['a change whose keys finalize deleted', { parent: change('VERIFIED', { a1: 'VERIFIED', a2: 'VERIFIED' }), finalizedActionIds: new Set(['a1', 'a2']) }, /finalize has made some of them permanent/],
  ] as const)('refuses %s', (_, overrides, reason) => {
    const verdict = decideRollbackRequest(request(overrides as Partial<RollbackRequestInput>));
    expect(verdict.verdict).toBe('refused');
    expect(verdict.verdict === 'refused' && verdict.reason).toMatch(reason);
  });

  it('returns the rollback in flight instead of starting a second one', () => {
    expect(decideRollbackRequest(request({ attempts: [attempt(1, 'AWAITING_APPROVAL')] }))).toEqual({ verdict: 'duplicate', rollbackChangeId: rollbackChangeId(PARENT, 1), status: 'AWAITING_APPROVAL' });
  });

  it('refuses a change already rolled back by an earlier rollback', () => {
    const verdict = decideRollbackRequest(request({ attempts: [attempt(1, 'ROLLED_BACK', { a1: 'VERIFIED' })] }));
    expect(verdict).toMatchObject({ verdict: 'refused', reason: `${PARENT} was already rolled back by ${rollbackChangeId(PARENT, 1)}` });
  });

  it('refuses after a rollback that wrote and escalated: a person takes it from there', () => {
    const verdict = decideRollbackRequest(request({ attempts: [attempt(1, 'ESCALATED', { a3: 'VERIFIED', a2: 'FAILED' })] }));
    expect(verdict).toMatchObject({ verdict: 'refused' });
    expect(verdict.verdict === 'refused' && verdict.reason).toMatch(/after writing: it needs a person/);
  });

  it('starts the next attempt after one rejected, timed out or refused before writing', () => {
    const earlier = [attempt(1, 'REJECTED'), attempt(2, 'ESCALATED', {}), attempt(3, 'FAILED', { a2: 'SKIPPED' })];
    expect(decideRollbackRequest(request({ attempts: earlier }))).toMatchObject({ verdict: 'start', attempt: 4, rollbackChangeId: rollbackChangeId(PARENT, 4) });
  });

  it('bounds the attempts', () => {
    const earlier = Array.from({ length: MAX_ROLLBACK_ATTEMPTS }, (_, i) => attempt(i + 1, 'REJECTED'));
    expect(decideRollbackRequest(request({ attempts: earlier }))).toMatchObject({ verdict: 'refused' });
  });
});

describe('selectRollbackActions', () => {
  it('keeps only actions verified by the change, with an inverse, not finalized', () => {
    const plan = terminationPlan();
    const selected = selectRollbackActions(plan, change('ESCALATED', { a1: 'VERIFIED', a2: 'FAILED', a3: 'VERIFIED' }), new Set(['a1']));
    expect(selected.map((a) => a.actionId)).toEqual(['a3']);
  });

  it('skips irreversible actions even when verified', () => {
    const plan = terminationPlan();
    const irreversible: Plan = { ...plan, actions: plan.actions.map((a) => (a.actionId === 'a2' ? { ...a, inverse: null, risk: { ...a.risk, reversible: false } } : a)) };
    expect(selectRollbackActions(irreversible, change('VERIFIED', ALL_VERIFIED), new Set()).map((a) => a.actionId)).toEqual(['a1', 'a3']);
  });

  it('reads finalized actions off the chain', () => {
    expect([...finalizedActionIds([{ type: 'VERIFIED', actionId: 'a1' }, { type: 'FINALIZED', actionId: 'a2' }, { type: 'FINALIZED' }])]).toEqual(['a2']);
  });
});

describe('planRollback', () => {
  const parentPlan = terminationPlan();
  const plan = planRollback({
    rollbackChangeId: rollbackChangeId(PARENT, 1),
    attempt: 1,
    parentChangeId: PARENT,
    parentPlanHash: 'f'.repeat(64),
    parentPlan,
    actions: parentPlan.actions,
    requestedBy: 'requester@example.com',
    reason: 'wrong person',
    policy: DEFAULT_POLICY,
    policyVersion: DEFAULT_POLICY_VERSION,
    now: PLAN_NOW,
  });

  it('plans each parent action inverted, in reverse order, under the same action ids', () => {
    expect(plan.actions.map((a) => [a.actionId, a.kind])).toEqual([
      ['a3', 'iam.deleteSessionRevocationDeny'],
      ['a2', 'iam.reactivateAccessKey'],
      ['a1', 'iam.reactivateAccessKey'],
    ]);
    const undoKey = plan.actions[2];
    const parentKey = parentPlan.actions[0];
    expect(undoKey?.target).toEqual(parentKey?.target);
    expect(undoKey?.before).toEqual({ status: 'Inactive' });
    expect(undoKey?.after).toEqual({ status: 'Active' });
    expect(undoKey?.inverse).toEqual({ kind: 'iam.deactivateAccessKey', params: parentKey?.params });
    expect(plan.actions.map((a) => a.phase)).toEqual([1, 2, 3]);
  });

  it('always asks for approval; the parent NHI owners may not give it; the requester and reason are recorded', () => {
    expect(plan.approval).toMatchObject({ required: true, afterTheFact: false, group: 'iam-approvers', approvers: ['approver@example.com', 'secops@example.com'] });
    expect(plan.approval.owners).toContain(ALICE);
    expect(plan.trigger).toMatchObject({ detailType: 'Rollback Requested', requestedBy: 'requester@example.com', detail: { parentChangeId: PARENT, attempt: 1, reason: 'wrong person', undoOrder: ['a3', 'a2', 'a1'] } });
  });

  it('gives undo actions idempotency keys of their own', () => {
    const parentKeys = new Set(parentPlan.actions.map((a) => a.idempotencyKey));
    expect(plan.actions.every((a) => !parentKeys.has(a.idempotencyKey))).toBe(true);
  });
});

describe('classifyRollbackTarget', () => {
  const undo = { before: { status: 'Inactive' }, after: { status: 'Active' } };
  it('undoes a target still as the change left it', () => expect(classifyRollbackTarget(undo, { status: 'Inactive' })).toBe('undo'));
  it('skips a target already restored out of band', () => expect(classifyRollbackTarget(undo, { status: 'Active' })).toBe('already-restored'));
  it('stops on a target that moved or is gone', () => {
    expect(classifyRollbackTarget(undo, null)).toBe('moved');
    expect(classifyRollbackTarget({ before: { present: true, issuedBefore: 'T1' }, after: { present: false, issuedBefore: null } }, { present: true, issuedBefore: 'T2' })).toBe('moved');
  });
});

describe('settleRollback', () => {
  it('is ROLLED_BACK when every undo verified (skipped ones count as restored)', () => {
    expect(settleRollback([{ actionId: 'a3', status: 'VERIFIED' }, { actionId: 'a1', status: 'VERIFIED' }], ['a2'])).toEqual({ status: 'ROLLED_BACK', reasonCodes: [], restored: ['a3', 'a1', 'a2'], failed: [] });
  });

  it('is ESCALATED with ROLLBACK_FAILED first when an undo did not verify', () => {
    const outcome = settleRollback([
      { actionId: 'a3', status: 'VERIFIED' },
      { actionId: 'a2', status: 'FAILED', error: 'WRITE_NOT_APPLIED' },
      { actionId: 'a1', status: 'FAILED', error: 'States.TaskFailed' },
    ]);
    expect(outcome.status).toBe('ESCALATED');
    expect(outcome.reasonCodes).toEqual(['ROLLBACK_FAILED', 'WRITE_NOT_APPLIED', 'TARGET_UNAVAILABLE']);
    expect(outcome.restored).toEqual(['a3']);
  });
});

describe('endedWithoutEffect', () => {
  it('holds for terminal rollbacks that wrote nothing, not for in-flight or successful ones', () => {
    expect(endedWithoutEffect(attempt(1, 'REJECTED'))).toBe(true);
    expect(endedWithoutEffect(attempt(1, 'FAILED', { a1: 'SKIPPED' }))).toBe(true);
    expect(endedWithoutEffect(attempt(1, 'ESCALATED', { a1: 'PLANNED' }))).toBe(false);
    expect(endedWithoutEffect(attempt(1, 'ROLLING_BACK'))).toBe(false);
    expect(endedWithoutEffect(attempt(1, 'ROLLED_BACK'))).toBe(false);
  });
});

describe('refusalOfRollbackAttempt (what rollback-plan re-checks when a rollback execution starts)', () => {
  const judged = (attemptNo: number, attempts: ChangeView[], overrides: Partial<RollbackRequestInput> = {}) =>
    refusalOfRollbackAttempt({ ...request(overrides), changeId: rollbackChangeId(PARENT, attemptNo), attempt: attemptNo, attempts });

  it('lets the first attempt plan when the parent may be rolled back (its own record is among the attempts found)', () => {
    expect(judged(1, [attempt(1, 'PLANNED')])).toBeNull();
    expect(judged(1, [])).toBeNull();
  });

  it('lets a later attempt plan after earlier ones that ended without effect', () => {
    expect(judged(2, [attempt(1, 'REJECTED', { a1: 'SKIPPED' }), attempt(2, 'PLANNED')])).toBeNull();
  });

  it('refuses an attempt number that does not follow the attempts found', () => {
    expect(judged(3, [attempt(1, 'REJECTED')])).toBe(`attempt 3 of ${PARENT} comes after 1 earlier attempt(s), not 2`);
  });

  it('refuses with decideRollbackRequest\'s reason', () => {
    expect(judged(1, [], { parent: change('APPLYING', ALL_VERIFIED) })).toMatch(/is still APPLYING/);
    expect(judged(1, [], { parent: undefined })).toBe(`no change ${PARENT}`);
  });

  it('refuses an attempt when an earlier one is still in flight, naming it', () => {
    expect(judged(2, [attempt(1, 'AWAITING_APPROVAL'), attempt(2, 'PLANNED')])).toBe(`${PARENT} already has rollback ${rollbackChangeId(PARENT, 1)} (AWAITING_APPROVAL)`);
  });

  it('refuses an id that is not the attempt the request would start now', () => {
    expect(refusalOfRollbackAttempt({ ...request(), changeId: rollbackChangeId(PARENT, 7), attempt: 1, attempts: [] })).toBe(`${PARENT} already has rollback ${rollbackChangeId(PARENT, 1)} (next attempt)`);
  });
});

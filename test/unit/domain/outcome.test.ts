import { describe, expect, it } from 'vitest';
import { decideOutcome, type ActionResult } from '../../../lambdas/domain/outcome.js';
import type { Plan, PlanAction } from '../../../lambdas/domain/plan-model.js';
import type { GovernancePolicy } from '../../../lambdas/domain/policy.js';
import { DEFAULT_POLICY, policyWith } from '../../fixtures/policies.js';

function action(actionId: string, group: PlanAction['group'], reversible = true): PlanAction {
  return {
    actionId,
    kind: 'iam.deactivateAccessKey',
    params: { userName: 'svc', accessKeyId: `AKIA${actionId}` },
    target: { type: 'accessKey', id: `AKIA${actionId}`, nhi: 'svc' },
    before: { status: 'Active' },
    after: { status: 'Inactive' },
    fingerprint: 'f',
    inverse: reversible ? { kind: 'iam.reactivateAccessKey', params: { userName: 'svc', accessKeyId: `AKIA${actionId}` } } : null,
    risk: { reversible, prod: false },
    idempotencyKey: actionId,
    finding: 'OWNER_TERMINATED',
    phase: 1,
    group,
  };
}

function planOf(actions: PlanAction[]): Plan {
  return {
    changeId: 'chg-1',
    trigger: { eventId: 'e', detailType: 'Employee Terminated', source: 'hr.system', detail: {} },
    policyVersion: 'v',
    createdAt: '2026-07-01T00:00:00.000Z',
    asOf: '2026-07-01T00:00:00.000Z',
    actions,
    findings: [],
    approval: { required: false, reasons: [], afterTheFact: false, group: 'g', approvers: [], owners: [] },
  };
}

const handling = (failureHandling: Partial<GovernancePolicy['failureHandling']>): GovernancePolicy =>
  policyWith((p) => ({ failureHandling: { ...p.failureHandling, ...failureHandling } }));

const ok = (actionId: string): ActionResult => ({ actionId, status: 'VERIFIED' });
const failed = (actionId: string, error?: string): ActionResult => ({ actionId, status: 'FAILED', ...(error === undefined ? {} : { error }) });

describe('decideOutcome', () => {
  it('every action verified: VERIFIED, complete, no reason codes', () => {
    const plan = planOf([action('a1', 'revocation'), action('a2', 'rotation')]);
    expect(decideOutcome(plan, [ok('a1'), ok('a2')], DEFAULT_POLICY)).toEqual({ status: 'VERIFIED', next: 'COMPLETE', reasonCodes: [], rollbackActionIds: [] });
  });

  it('no actions at all: NO_CHANGES (the NoChanges path goes through Summarize)', () => {
    expect(decideOutcome(planOf([]), [], DEFAULT_POLICY)).toEqual({ status: 'NO_CHANGES', next: 'COMPLETE', reasonCodes: [], rollbackActionIds: [] });
  });

  it('a finding that needs a person (OWNER_UNKNOWN) ends ESCALATED, with or without actions', () => {
    const unowned = { nhi: 'svc-orphan', reasonCode: 'OWNER_UNKNOWN' as const, message: 'no owner tag' };
    const unused = { nhi: 'svc-old', reasonCode: 'KEY_UNUSED' as const, message: 'unused' };
    const escalated = { status: 'ESCALATED', next: 'ESCALATE', reasonCodes: ['OWNER_UNKNOWN'], rollbackActionIds: [] };
    expect(decideOutcome({ ...planOf([]), findings: [unused, unowned, unowned] }, [], DEFAULT_POLICY)).toEqual(escalated);
    expect(decideOutcome({ ...planOf([action('a1', 'revocation')]), findings: [unowned] }, [ok('a1')], DEFAULT_POLICY)).toEqual(escalated);
    expect(decideOutcome({ ...planOf([]), findings: [unused] }, [], DEFAULT_POLICY).status).toBe('NO_CHANGES');
  });

  it('a failed revocation under `escalate`: verified revocations stay, the change escalates with the failure\'s reason', () => {
    const plan = planOf([action('a1', 'revocation'), action('a2', 'revocation')]);
    expect(decideOutcome(plan, [ok('a1'), failed('a2', 'WRITE_NOT_APPLIED')], handling({ revocation: 'escalate' }))).toEqual({
      status: 'ESCALATED',
      next: 'ESCALATE',
      reasonCodes: ['WRITE_NOT_APPLIED'],
      rollbackActionIds: [],
    });
  });

  it('a failed rotation under `rollback` rolls back the rotation group, reversible actions only, in reverse plan order', () => {
    const plan = planOf([action('a1', 'revocation'), action('a2', 'rotation'), action('a3', 'rotation', false), action('a4', 'rotation')]);
    expect(decideOutcome(plan, [ok('a1'), ok('a2'), failed('a3', 'VERIFY_TIMEOUT'), ok('a4')], handling({ rotation: 'rollback', revocation: 'escalate' }))).toEqual({
      status: 'ROLLED_BACK',
      next: 'ROLLBACK',
      reasonCodes: ['VERIFY_TIMEOUT'],
      rollbackActionIds: ['a4', 'a2'],
    });
  });

  it('a failed rotation under `escalate` escalates', () => {
    const plan = planOf([action('a1', 'rotation')]);
    expect(decideOutcome(plan, [failed('a1', 'THROTTLED')], handling({ rotation: 'escalate' }))).toMatchObject({ status: 'ESCALATED', next: 'ESCALATE', rollbackActionIds: [] });
  });

  it('a failed revocation under `rollback` rolls back revocations and containment together, not ownership', () => {
    const plan = planOf([action('a1', 'ownership'), action('a2', 'containment'), action('a3', 'revocation')]);
    expect(decideOutcome(plan, [ok('a1'), ok('a2'), failed('a3', 'VERIFY_TIMEOUT')], handling({ revocation: 'rollback' }))).toEqual({
      status: 'ROLLED_BACK',
      next: 'ROLLBACK',
      reasonCodes: ['VERIFY_TIMEOUT'],
      rollbackActionIds: ['a3', 'a2'],
    });
  });

  it('a failed containment counts as a failed revocation', () => {
    const plan = planOf([action('a1', 'containment'), action('a2', 'revocation')]);
    expect(decideOutcome(plan, [failed('a1', 'THROTTLED'), ok('a2')], handling({ revocation: 'rollback' })).rollbackActionIds).toEqual(['a2', 'a1']);
  });

  it('a group to roll back with nothing reversible escalates instead', () => {
    const plan = planOf([action('a1', 'rotation', false)]);
    expect(decideOutcome(plan, [failed('a1', 'VERIFY_TIMEOUT')], handling({ rotation: 'rollback' }))).toEqual({ status: 'ESCALATED', next: 'ESCALATE', reasonCodes: ['VERIFY_TIMEOUT'], rollbackActionIds: [] });
  });

  it('an error that is not a reason code (or none) reads as TARGET_UNAVAILABLE; reason codes are listed once', () => {
    const plan = planOf([action('a1', 'revocation'), action('a2', 'revocation'), action('a3', 'revocation'), action('a4', 'revocation')]);
    const outcome = decideOutcome(plan, [failed('a1', 'States.Timeout'), failed('a2'), failed('a3', 'THROTTLED'), failed('a4', 'THROTTLED')], handling({ revocation: 'escalate' }));
    expect(outcome.reasonCodes).toEqual(['TARGET_UNAVAILABLE', 'THROTTLED']);
  });

  it('a failed result for an action the plan does not have changes no group', () => {
    const plan = planOf([action('a1', 'rotation')]);
    expect(decideOutcome(plan, [ok('a1'), failed('zz', 'THROTTLED')], handling({ rotation: 'rollback', revocation: 'rollback' }))).toMatchObject({ status: 'ESCALATED', rollbackActionIds: [] });
  });
});

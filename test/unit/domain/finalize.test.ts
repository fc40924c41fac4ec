import { describe, expect, it } from 'vitest';
import { ACTION_CATALOG } from '../../../lambdas/connectors/registry.js';
import {
  deletionIntent,
  finalizeChangeId,
  finalizeExecutionName,
  finalizeWindow,
  isReportedSkip,
  liveVerdict,
  planFinalize,
  preselect,
  rollbackStateOf,
  sourceOf,
  stagedKeyOf,
  stagedKeysOf,
  verifiedTimes,
  type StagedKey,
} from '../../../lambdas/domain/finalize.js';
import { buildActions } from '../../../lambdas/domain/plan-builder.js';
import { rollbackChangeId } from '../../../lambdas/domain/rollback.js';
import { snapshotOf, user } from '../../fixtures/estate-builder.js';
import { events as triggers, planFor } from '../../fixtures/planning.js';
import { DEFAULT_POLICY, DEFAULT_POLICY_VERSION } from '../../fixtures/policies.js';

const AS_OF = new Date('2026-08-01T00:00:00.000Z');
const WINDOW = finalizeWindow(AS_OF, 30);
const LONG_AGO = '2026-06-15T00:00:00.000Z';
const RECENTLY = '2026-07-20T00:00:00.000Z';

function staged(overrides: Partial<StagedKey> = {}): StagedKey {
  return {
    changeId: 'chg-a',
    changeStatus: 'VERIFIED',
    actionId: 'a1',
    actionStatus: 'VERIFIED',
    userName: 'svc-pay',
    targetId: 'AKIAPAY000000001',
    targetType: 'accessKey',
    finalKind: 'iam.deleteAccessKey',
    nhi: 'svc-pay',
    verifiedAt: LONG_AGO,
    rollback: 'none',
    finalized: false,
    action: { finding: 'OWNER_TERMINATED', risk: { reversible: true, prod: false } },
    policyVersion: DEFAULT_POLICY_VERSION,
    ...overrides,
  };
}

describe('finalizeWindow', () => {
  it('puts the cutoff a grace period before asOf and reads changes from the lookback on', () => {
    expect(WINDOW).toEqual({ asOf: '2026-08-01T00:00:00.000Z', cutoff: '2026-07-02T00:00:00.000Z', from: '2026-04-03T00:00:00.000Z' });
  });

  it('names runs fin-{execution name}', () => {
    const name = finalizeExecutionName('now', AS_OF, 'nonce');
    expect(name).toMatch(/^[0-9a-f]{24}$/);
    expect(finalizeChangeId(name)).toBe(`fin-${name}`);
    expect(finalizeExecutionName('now', AS_OF, 'other')).not.toBe(name);
  });
});

describe('stagedKeyOf', () => {
  it('names the key a deactivation or a rotation leaves Inactive, the console password a containment disables, and nothing else', () => {
    const key = { targetType: 'accessKey', finalKind: 'iam.deleteAccessKey' };
    expect(stagedKeyOf({ kind: 'iam.deactivateAccessKey', params: { userName: 'svc-pay', accessKeyId: 'AKIAPAY000000001' } })).toEqual({ userName: 'svc-pay', targetId: 'AKIAPAY000000001', ...key });
    expect(stagedKeyOf({ kind: 'secrets.rotateAccessKeySecret', params: { secretId: 'app/key', userName: 'svc-etl', replacedAccessKeyId: 'AKIAETL000000001', replacedVersionId: 'v1', rotationVersionId: 'v2' } })).toEqual({
      userName: 'svc-etl',
      targetId: 'AKIAETL000000001',
      ...key,
    });
    expect(stagedKeyOf({ kind: 'iam.containConsoleAccess', params: { userName: 'svc-pay' } })).toEqual({ userName: 'svc-pay', targetId: 'svc-pay', targetType: 'user', finalKind: 'iam.deleteLoginProfile' });
    expect(stagedKeyOf({ kind: 'iam.releaseConsoleAccess', params: { userName: 'svc-pay' } })).toBeNull();
    expect(stagedKeyOf({ kind: 'iam.reactivateAccessKey', params: { userName: 'svc-pay', accessKeyId: 'AKIAPAY000000001' } })).toBeNull();
    expect(stagedKeyOf({ kind: 'iam.putSessionRevocationDeny', params: { principalType: 'user', principalName: 'svc-pay' } })).toBeNull();
  });
});

describe('preselect', () => {
  it('keeps a verified deactivation past the grace period for a live check', () => {
    const { toCheck, skipped } = preselect([staged()], WINDOW);
    expect(toCheck.map((k) => k.targetId)).toEqual(['AKIAPAY000000001']);
    expect(skipped).toEqual([]);
  });

  it.each([
    ['in-grace', { verifiedAt: RECENTLY }, false],
    ['already-finalized', { finalized: true }, false],
    ['change-in-flight', { changeStatus: 'AWAITING_APPROVAL' }, true],
    ['rolled-back', { changeStatus: 'ROLLED_BACK' }, true],
    ['rolled-back', { actionStatus: 'ROLLED_BACK' }, true],
    ['rolled-back', { rollback: 'rolled-back' }, true],
    ['rollback-in-flight', { rollback: 'in-flight' }, true],
    ['rollback-escalated', { rollback: 'escalated' }, true],
    ['not-verified', { actionStatus: 'FAILED', verifiedAt: null }, true],
    ['not-verified', { actionStatus: undefined, verifiedAt: null }, true],
  ] as const)('skips (%s) %o', (reason, overrides, reported) => {
    const { toCheck, skipped } = preselect([staged(overrides as Partial<StagedKey>)], WINDOW);
    expect(toCheck).toEqual([]);
    expect(skipped.map((s) => s.reason)).toEqual([reason]);
    expect(isReportedSkip(skipped[0] as never)).toBe(reported);
  });

  it('lets only the latest deactivation of a key count', () => {
    const old = staged({ changeId: 'chg-old', verifiedAt: '2026-05-01T00:00:00.000Z' });
    const newer = staged({ changeId: 'chg-new', verifiedAt: RECENTLY });
    for (const order of [[old, newer], [newer, old]]) {
      const { toCheck, skipped } = preselect(order, WINDOW);
      expect(toCheck).toEqual([]);
      expect(skipped.map((s) => [s.key.changeId, s.reason]).sort()).toEqual([['chg-new', 'in-grace'], ['chg-old', 'superseded']]);
    }
  });

  it('judges each key on its own', () => {
    const keys = [staged(), staged({ targetId: 'AKIAPAY000000002', actionId: 'a2', rollback: 'rolled-back' }), staged({ targetId: 'AKIAETL000000001', changeId: 'chg-b' })];
    expect(preselect(keys, WINDOW).toCheck.map((k) => k.targetId)).toEqual(['AKIAPAY000000001', 'AKIAETL000000001']);
  });
});

describe('liveVerdict', () => {
  it('deletes a key still Inactive', () => expect(liveVerdict(staged(), 'disabled')).toEqual({ due: true }));
  it('skips a key reactivated out of band, as drift', () => {
    const verdict = liveVerdict(staged(), 'enabled');
    expect(verdict).toMatchObject({ due: false, skip: { reason: 'reactivated', reasonCode: 'PLAN_STALE' } });
  });
  it('skips a key already gone', () => expect(liveVerdict(staged(), 'absent')).toMatchObject({ due: false, skip: { reason: 'already-deleted', reasonCode: 'TARGET_NOT_FOUND' } }));
});

describe('rollbackStateOf', () => {
  const rb = (status: 'REJECTED' | 'ROLLED_BACK' | 'AWAITING_APPROVAL' | 'ESCALATED', actions: Record<string, { status: 'VERIFIED' | 'FAILED' }> = {}) => ({ changeId: rollbackChangeId('chg-a', 1), kind: 'rollback' as const, status, actions });
  it('reads the latest attempt', () => {
    expect(rollbackStateOf([])).toBe('none');
    expect(rollbackStateOf([rb('REJECTED')])).toBe('none');
    expect(rollbackStateOf([rb('REJECTED'), rb('AWAITING_APPROVAL')])).toBe('in-flight');
    expect(rollbackStateOf([rb('ROLLED_BACK')])).toBe('rolled-back');
    expect(rollbackStateOf([rb('ESCALATED', { a1: { status: 'FAILED' } })])).toBe('escalated');
  });

  it('takes the time of the last VERIFIED event of each action', () => {
    const times = verifiedTimes([
      { type: 'VERIFIED', actionId: 'a1', at: 'T1' },
      { type: 'VERIFY_FAILED', actionId: 'a2', at: 'T2' },
      { type: 'VERIFIED', actionId: 'a2', at: 'T3' },
      { type: 'VERIFIED', actionId: 'a1', at: 'T4' },
    ]);
    expect(Object.fromEntries(times)).toEqual({ a1: 'T4', a2: 'T3' });
  });
});

describe('planFinalize', () => {
  const due = [staged(), staged({ changeId: 'chg-b', actionId: 'a3', targetId: 'AKIAETL000000001', userName: 'svc-etl', nhi: 'svc-etl', action: { finding: 'KEY_UNUSED', risk: { reversible: true, prod: true } } })];
  const actions = buildActions('fin-run', due.map((k) => deletionIntent(k, { status: 'Inactive' })), snapshotOf({}), ACTION_CATALOG).map((p) => p.action);
  const reactivated = liveVerdict(staged({ targetId: 'AKIAX00000000001', changeId: 'chg-c' }), 'enabled');
  const plan = planFinalize({
    changeId: 'fin-run',
    window: WINDOW,
    due,
    actions,
    skipped: reactivated.due ? [] : [reactivated.skip],
    policy: DEFAULT_POLICY,
    policyVersion: DEFAULT_POLICY_VERSION,
    now: AS_OF,
    source: 'nhigov',
  });

  it('deletes each due key, irreversibly, inheriting finding and prod risk from the deactivation', () => {
    expect(plan.actions.map((a) => [a.actionId, a.kind, a.target.id, a.finding, a.risk.prod, a.risk.reversible, a.inverse])).toEqual([
      ['a1', 'iam.deleteAccessKey', 'AKIAPAY000000001', 'OWNER_TERMINATED', false, false, null],
      ['a2', 'iam.deleteAccessKey', 'AKIAETL000000001', 'KEY_UNUSED', true, false, null],
    ]);
    expect(plan.actions[0]?.before).toEqual({ status: 'Inactive' });
    expect(plan.actions[0]?.after).toEqual({ status: 'Absent' });
  });

  it('asks for no approval: the decision of each source change covers it', () => {
    expect(plan.approval).toMatchObject({ required: false, reasons: ['covered by the decision of chg-a', 'covered by the decision of chg-b'] });
  });

  it('links each deletion to the change and action that deactivated the key', () => {
    expect(sourceOf(plan, 'AKIAETL000000001')).toEqual({ changeId: 'chg-b', actionId: 'a3' });
    expect(sourceOf(plan, 'AKIAUNKNOWN00001')).toBeNull();
  });

  it('reports the reactivated key as a drift finding and in the skipped list', () => {
    expect(plan.findings).toEqual([{ nhi: 'svc-pay', reasonCode: 'PLAN_STALE', message: expect.stringContaining('enabled again') }]);
    expect(plan.trigger.detail.skipped).toEqual([{ accessKeyId: 'AKIAX00000000001', changeId: 'chg-c', reason: 'reactivated', message: expect.any(String) }]);
    expect(plan.trigger.detail).toMatchObject({ asOf: WINDOW.asOf, cutoff: WINDOW.cutoff, graceDays: 30 });
  });
});

describe('a contained console password', () => {
  const contained = staged({ targetId: 'svc-pay', targetType: 'user', finalKind: 'iam.deleteLoginProfile', actionId: 'a4' });
  it('is judged like a key, and its deletion is the login profile of the user', () => {
    expect(preselect([contained], WINDOW).toCheck).toEqual([contained]);
    expect(liveVerdict(contained, 'enabled')).toMatchObject({ due: false, skip: { reason: 'reactivated', message: expect.stringContaining('the console password of svc-pay') } });
    const [action] = buildActions('fin-run', [deletionIntent(contained, { loginProfile: true })], snapshotOf({}), ACTION_CATALOG).map((p) => p.action);
    expect(action).toMatchObject({ kind: 'iam.deleteLoginProfile', params: { userName: 'svc-pay' }, target: { type: 'user', id: 'svc-pay' }, before: { loginProfile: true }, after: { loginProfile: false }, inverse: null });
  });
});

describe('stagedKeysOf (a change\'s records, as finalize judges its deactivations)', () => {
  const plan = planFor(triggers.terminated('alice@example.com'), snapshotOf({ users: [user('svc-pay', { owner: 'alice@example.com', keys: [{ accessKeyId: 'AKIAPAY000000001' }, { accessKeyId: 'AKIAPAY000000002' }] })] }), { changeId: 'chg-a' });
  const deactivations = plan.actions.filter((a) => stagedKeyOf(a) !== null);

  it('one staged key per deactivation, with its outcome, verification time, finalize mark and rollback state', () => {
    expect(deactivations.length).toBe(2);
    const [first, second] = deactivations;
    const keys = stagedKeysOf(
      { changeId: 'chg-a', kind: 'change', status: 'VERIFIED', actions: { [first!.actionId]: { status: 'VERIFIED' }, [second!.actionId]: { status: 'FAILED' } } },
      plan,
      [
        { type: 'VERIFIED', actionId: first!.actionId, at: LONG_AGO },
        { type: 'FINALIZED', actionId: second!.actionId, at: RECENTLY },
      ],
      [{ changeId: rollbackChangeId('chg-a', 1), kind: 'rollback', status: 'AWAITING_APPROVAL', actions: {} }],
    );
    expect(keys).toEqual([
      { changeId: 'chg-a', changeStatus: 'VERIFIED', actionId: first!.actionId, actionStatus: 'VERIFIED', userName: 'svc-pay', targetId: stagedKeyOf(first!)?.targetId, targetType: 'accessKey', finalKind: 'iam.deleteAccessKey', nhi: 'svc-pay', verifiedAt: LONG_AGO, rollback: 'in-flight', finalized: false, action: { finding: first!.finding, risk: first!.risk }, policyVersion: plan.policyVersion },
      { changeId: 'chg-a', changeStatus: 'VERIFIED', actionId: second!.actionId, actionStatus: 'FAILED', userName: 'svc-pay', targetId: stagedKeyOf(second!)?.targetId, targetType: 'accessKey', finalKind: 'iam.deleteAccessKey', nhi: 'svc-pay', verifiedAt: null, rollback: 'in-flight', finalized: true, action: { finding: second!.finding, risk: second!.risk }, policyVersion: plan.policyVersion },
    ]);
  });

  it('nothing for a plan without deactivations', () => {
    expect(stagedKeysOf({ changeId: 'chg-b', kind: 'change', status: 'VERIFIED', actions: {} }, { ...plan, actions: plan.actions.filter((a) => stagedKeyOf(a) === null) }, [], [])).toEqual([]);
  });
});

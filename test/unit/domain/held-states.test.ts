import { describe, expect, it } from 'vitest';
import { ACTION_CATALOG } from '../../../lambdas/connectors/registry.js';
import { deriveHeldStates, facetOf, type ChangeHistoryEntry, type HeldState } from '../../../lambdas/domain/held-states.js';
import { planChange } from '../../../lambdas/domain/plan.js';
import type { Plan } from '../../../lambdas/domain/plan-model.js';
import { planRollback } from '../../../lambdas/domain/rollback.js';
import { escalatingFindings } from '../../../lambdas/domain/outcome.js';
import type { ActionStatus, ChangeStatus } from '../../../lambdas/domain/status.js';
import type { Snapshot } from '../../../lambdas/domain/snapshot.js';
import { role, snapshotOf, user } from '../../fixtures/estate-builder.js';
import { events, PLAN_NOW, planFor } from '../../fixtures/planning.js';
import { DEFAULT_POLICY, DEFAULT_POLICY_VERSION, policyWith } from '../../fixtures/policies.js';

const DAVE = 'dave@example.com';
const KEY = 'AKIAHELD00000001';

function entry(plan: Plan, createdAt: string, statuses: Record<string, ActionStatus>, options: { kind?: 'change' | 'rollback'; status?: ChangeStatus } = {}): ChangeHistoryEntry {
  return {
    changeId: plan.changeId,
    kind: options.kind ?? 'change',
    status: options.status ?? 'VERIFIED',
    createdAt,
    actions: Object.fromEntries(Object.entries(statuses).map(([id, status]) => [id, { status }])),
    plan,
  };
}

function allVerified(plan: Plan): Record<string, ActionStatus> {
  return Object.fromEntries(plan.actions.map((a) => [a.actionId, 'VERIFIED' as const]));
}

const estate = (status: 'Active' | 'Inactive', env: 'dev' | 'prod' = 'dev'): Snapshot =>
  snapshotOf({ users: [user('svc-held', { owner: DAVE, env, keys: [{ accessKeyId: KEY, status, createdAt: '2026-06-01T00:00:00.000Z', lastUsedAt: '2026-06-30T00:00:00.000Z' }] })] });

function termination(): Plan {
  return planFor(events.terminated(DAVE), estate('Active'), { changeId: 'chg-term' });
}

function keyHold(held: Map<string, HeldState>): HeldState | undefined {
  return [...held.values()].find((h) => h.target.id === KEY);
}

function rollbackOf(parent: Plan, changeId: string): Plan {
  const actions = parent.actions.filter((a) => a.inverse !== null);
  return planRollback({ rollbackChangeId: changeId, attempt: 1, parentChangeId: parent.changeId, parentPlanHash: 'f'.repeat(64), parentPlan: parent, actions, requestedBy: 'r@example.com', reason: null, policy: DEFAULT_POLICY, policyVersion: DEFAULT_POLICY_VERSION, now: PLAN_NOW });
}

describe('held states', () => {
  it('hold what a verified action left, naming the change, until nothing supersedes it', () => {
    const term = termination();
    const held = deriveHeldStates([entry(term, '2026-07-01T00:00:00.000Z', allVerified(term))]);
    expect(keyHold(held)).toMatchObject({ kind: 'iam.deactivateAccessKey', state: { status: 'Inactive' }, establishedBy: { changeId: 'chg-term', trigger: 'Employee Terminated' }, restoresAccess: false });
    // The session deny on the user is a facet of its own.
    expect([...held.values()].map((h) => h.kind).sort()).toEqual(['iam.deactivateAccessKey', 'iam.putSessionRevocationDeny']);
  });

  it('hold nothing for an action never verified, or undone by its own change', () => {
    const term = termination();
    const keyAction = term.actions.find((a) => a.kind === 'iam.deactivateAccessKey')?.actionId ?? '';
    expect(keyHold(deriveHeldStates([entry(term, '2026-07-01T00:00:00.000Z', { [keyAction]: 'FAILED' })]))).toBeUndefined();
    expect(keyHold(deriveHeldStates([entry(term, '2026-07-01T00:00:00.000Z', { [keyAction]: 'ROLLED_BACK' }, { status: 'ROLLED_BACK' })]))).toBeUndefined();
  });

  it('are superseded by a rollback: the restored state is held, as access given back', () => {
    const term = termination();
    const rbk = rollbackOf(term, 'rbk-1');
    const parentStatuses = Object.fromEntries(term.actions.map((a) => [a.actionId, 'ROLLED_BACK' as const]));
    const held = deriveHeldStates([entry(rbk, '2026-07-02T00:00:00.000Z', allVerified(rbk), { kind: 'rollback', status: 'ROLLED_BACK' }), entry(term, '2026-07-01T00:00:00.000Z', parentStatuses)]);
    expect(keyHold(held)).toMatchObject({ kind: 'iam.reactivateAccessKey', state: { status: 'Active' }, establishedBy: { changeId: 'rbk-1', trigger: 'Rollback Requested' }, restoresAccess: true });
  });

  it('are superseded by a later change on the same target, and by finalize deleting the key', () => {
    const term = termination();
    const rbk = rollbackOf(term, 'rbk-1');
    const exposure = planFor(events.exposed('svc-held', { accessKeyId: KEY }), estate('Active'), { changeId: 'chg-exposed' });
    const history = [
      entry(term, '2026-07-01T00:00:00.000Z', Object.fromEntries(term.actions.map((a) => [a.actionId, 'ROLLED_BACK' as const]))),
      entry(rbk, '2026-07-02T00:00:00.000Z', allVerified(rbk), { kind: 'rollback', status: 'ROLLED_BACK' }),
      entry(exposure, '2026-07-03T00:00:00.000Z', allVerified(exposure)),
    ];
    expect(keyHold(deriveHeldStates(history))).toMatchObject({ state: { status: 'Inactive' }, establishedBy: { changeId: 'chg-exposed' }, restoresAccess: false });
    const deletion = { ...exposure, changeId: 'fin-1', actions: [{ ...exposure.actions[0]!, kind: 'iam.deleteAccessKey', before: { status: 'Inactive' }, after: { status: 'Absent' }, inverse: null }] };
    const finalized = deriveHeldStates([...history, entry(deletion, '2026-08-01T00:00:00.000Z', { a1: 'VERIFIED' })]);
    expect(keyHold(finalized)).toMatchObject({ kind: 'iam.deleteAccessKey', state: { status: 'Absent' }, establishedBy: { changeId: 'fin-1' } });
  });

  it('keep who decided a state when a later change only puts it back', () => {
    const term = termination();
    const restore = planFor(events.reconcile({ nhi: 'svc-held' }), estate('Active'), { changeId: 'chg-reconcile' });
    const restoreAction = { ...term.actions.find((a) => a.kind === 'iam.deactivateAccessKey')!, actionId: 'a1' };
    const reconcile = { ...restore, actions: [restoreAction] };
    const held = deriveHeldStates([entry(term, '2026-07-01T00:00:00.000Z', allVerified(term)), entry(reconcile, '2026-07-02T00:00:00.000Z', { a1: 'VERIFIED' })]);
    expect(keyHold(held)).toMatchObject({ establishedBy: { changeId: 'chg-term' }, lastVerifiedBy: { changeId: 'chg-reconcile' } });
  });

  it('tell facets of one target apart: an owner tag moved twice is one facet, a quarantine another', () => {
    const base = { target: { type: 'role' as const, id: 'r', nhi: 'r' } };
    const ownerA = facetOf({ ...base, params: { principalType: 'role', principalName: 'r', toOwner: 'a@example.com' }, after: { owner: 'a@example.com' } });
    const ownerB = facetOf({ ...base, params: { principalType: 'role', principalName: 'r', toOwner: 'b@example.com' }, after: { owner: 'b@example.com' } });
    const quarantine = facetOf({ ...base, params: { principalType: 'role', principalName: 'r' }, after: { present: true, documentHash: 'x' } });
    expect(ownerA).toBe(ownerB);
    expect(quarantine).not.toBe(ownerA);
  });
});

describe('reconcile against held states', () => {
  const heldFrom = (plan: Plan, statuses = allVerified(plan), kind: 'change' | 'rollback' = 'change') => [...deriveHeldStates([entry(plan, '2026-07-01T00:00:00.000Z', statuses, { kind })]).values()];
  /** The key's held state only: the session deny the termination also left is a facet of its own. */
  const keyOnly = (held: HeldState[]) => held.filter((h) => h.target.id === KEY);
  const reconcile = (snapshot: Snapshot, held: HeldState[], policy = DEFAULT_POLICY) =>
    planChange({ changeId: 'chg-rec', policy, policyVersion: DEFAULT_POLICY_VERSION, event: events.reconcile({ nhi: 'svc-held' }), estates: [{ snapshot }], now: PLAN_NOW, catalog: ACTION_CATALOG, held });

  it('plans the way back for a key switched on by hand, naming the change, with no approval even on prod', () => {
    const plan = reconcile(estate('Active', 'prod'), keyOnly(heldFrom(termination())));
    expect(plan.actions.map((a) => [a.kind, a.target.id, a.finding])).toEqual([['iam.deactivateAccessKey', KEY, 'HELD_STATE_DRIFT']]);
    expect(plan.approval.required).toBe(false);
    expect(plan.findings).toEqual([expect.objectContaining({ reasonCode: 'HELD_STATE_DRIFT', data: expect.objectContaining({ heldBy: 'chg-term', held: { status: 'Inactive' }, live: { status: 'Active' } }) })]);
  });

  it('finds nothing while every held state holds', () => {
    const plan = reconcile(estate('Inactive'), keyOnly(heldFrom(termination())));
    expect(plan.actions).toEqual([]);
    expect(plan.findings).toEqual([]);
  });

  it('asks approval to give back access a rollback restored, as the policy asks for any change', () => {
    const rbk = rollbackOf(termination(), 'rbk-1');
    const plan = reconcile(estate('Inactive', 'prod'), keyOnly(heldFrom(rbk, allVerified(rbk), 'rollback')));
    expect(plan.actions.map((a) => [a.kind, a.finding])).toEqual([['iam.reactivateAccessKey', 'HELD_STATE_DRIFT']]);
    expect(plan.approval.required).toBe(true);
  });

  it('only reports when the policy says so, and with approval "all" asks for it like any change', () => {
    const held = keyOnly(heldFrom(termination()));
    const reportOnly = reconcile(estate('Active'), held, policyWith(() => ({ heldStates: { restore: false, approval: 'grantsOnly' } })));
    expect(reportOnly.actions).toEqual([]);
    expect(reportOnly.findings.map((f) => f.reasonCode)).toEqual(['HELD_STATE_DRIFT']);
    const gated = reconcile(estate('Active', 'prod'), held, policyWith(() => ({ heldStates: { restore: true, approval: 'all' } })));
    expect(gated.approval.required).toBe(true);
  });

  it('re-attaches a detached quarantine', () => {
    const quarantined = planFor(events.terminated(DAVE), snapshotOf({ roles: [role('svc-held', { owner: DAVE })] }), { changeId: 'chg-term' });
    const plan = reconcile(snapshotOf({ roles: [role('svc-held', { owner: DAVE })] }), heldFrom(quarantined));
    expect(plan.actions.map((a) => [a.kind, a.finding]).sort()).toEqual([
      ['iam.attachQuarantinePolicy', 'HELD_STATE_DRIFT'],
      ['iam.putSessionRevocationDeny', 'HELD_STATE_DRIFT'],
    ]);
  });

  it('escalates an NHI a change acted on that lost its nhi-governed tag, and writes nothing to it', () => {
    const held = heldFrom(termination());
    const gone = { ...snapshotOf({}), ungoverned: [{ type: 'user' as const, name: 'svc-held', arn: 'arn:aws:iam::123456789012:user/svc-held', tags: { owner: DAVE } }] };
    const plan = planChange({ changeId: 'chg-rec', policy: DEFAULT_POLICY, policyVersion: DEFAULT_POLICY_VERSION, event: events.reconcile({ owner: DAVE }), estates: [{ snapshot: gone }], now: PLAN_NOW, catalog: ACTION_CATALOG, held });
    expect(plan.actions).toEqual([]);
    expect(plan.findings).toEqual([expect.objectContaining({ nhi: 'svc-held', reasonCode: 'GOVERNANCE_REMOVED', data: expect.objectContaining({ tag: null, heldBy: ['chg-term'] }) })]);
    expect(escalatingFindings(plan)).toEqual(['GOVERNANCE_REMOVED']);
    // An ungoverned NHI no change ever acted on is none of ours.
    expect(planChange({ changeId: 'chg-rec', policy: DEFAULT_POLICY, policyVersion: DEFAULT_POLICY_VERSION, event: events.reconcile('all'), estates: [{ snapshot: gone }], now: PLAN_NOW, catalog: ACTION_CATALOG, held: [] }).findings).toEqual([]);
  });
});

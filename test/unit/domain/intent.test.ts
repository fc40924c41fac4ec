import { describe, expect, it } from 'vitest';
import { coveredByDecision, describeWork, newWork, snapshotAsFound, touchedNhis, withFollowUp } from '../../../lambdas/domain/intent.js';
import type { Plan } from '../../../lambdas/domain/plan-model.js';
import { applyPlan } from '../../fixtures/apply-plan.js';
import { secret, snapshotOf, user } from '../../fixtures/estate-builder.js';
import { events, PLAN_NOW, planFor } from '../../fixtures/planning.js';

const ALICE = 'alice@example.com';
const MANAGER = 'mgr@example.com';
const recent = { createdAt: '2026-06-01T00:00:00.000Z', lastUsedAt: '2026-06-30T00:00:00.000Z' };
const LATER = new Date(PLAN_NOW.getTime() + 3_600_000);

/** Alice's prod user with one key, and a key secret of hers holding a key of svc-etl. */
function estate() {
  return snapshotOf({
    users: [
      user('svc-pay', { owner: ALICE, env: 'prod', keys: [{ accessKeyId: 'AKIAPAY000000001', ...recent }] }),
      user('svc-etl', { owner: 'bob@example.com', keys: [{ accessKeyId: 'AKIAETL000000001', ...recent }] }),
    ],
    secrets: [secret('app/etl-key', { owner: ALICE, holds: { user: 'svc-etl', accessKeyId: 'AKIAETL000000001' } })],
  });
}

/** The applied estate, then `change` done to it out of band (a key added during the wait). */
function replanAfter(plan: Plan, change: (s: ReturnType<typeof estate>) => ReturnType<typeof estate> = (s) => s) {
  const live = change(applyPlan(estate(), plan, PLAN_NOW));
  const replan = planFor(events.terminated(ALICE, MANAGER), snapshotAsFound(plan, live), { now: LATER });
  return { live, replan, work: newWork(plan, replan, [live]) };
}

describe('the intent re-check after Apply', () => {
  const plan = planFor(events.terminated(ALICE, MANAGER), estate());

  it('finds nothing left when Apply did it all: the owner moves, the rotation and its new key, the session deny are the change\'s own', () => {
    expect(plan.actions.map((a) => a.kind)).toEqual(expect.arrayContaining(['iam.moveOwnerTag', 'secrets.rotateAccessKeySecret', 'iam.putSessionRevocationDeny']));
    const { replan, work } = replanAfter(plan);
    // The re-plan sees the leaver's NHIs (owner tags as found) and would move the session cut-off: not new work.
    expect(replan.actions.length).toBeGreaterThan(0);
    expect(work).toEqual([]);
    expect(touchedNhis(plan)).toEqual(['app/etl-key', 'svc-pay']);
  });

  it('finds a key added during the approval wait, which the decision covers; the grown plan keeps every earlier id', () => {
    const { replan, work } = replanAfter(plan, (s) => ({
      ...s,
      users: s.users.map((u) => (u.name === 'svc-pay' ? { ...u, accessKeys: [...u.accessKeys, { accessKeyId: 'AKIAPAYNEW000001', userName: 'svc-pay', status: 'Active' as const, createdAt: PLAN_NOW.toISOString(), lastUsedAt: null }] } : u)),
    }));
    expect(work.map((a) => [a.kind, a.target.id])).toEqual([['iam.deactivateAccessKey', 'AKIAPAYNEW000001']]);
    expect(coveredByDecision(plan, replan)).toBe(true);
    const grown = withFollowUp(plan, work);
    expect(grown.actions.slice(0, plan.actions.length)).toEqual(plan.actions);
    expect(grown.actions.at(-1)).toMatchObject({ actionId: `a${plan.actions.length + 1}`, target: { id: 'AKIAPAYNEW000001' } });
    expect(describeWork(work)).toBe('iam.deactivateAccessKey on accessKey AKIAPAYNEW000001 (svc-pay)');
  });

  it('is not covered when the re-plan needs an approval the change never had', () => {
    const dev = planFor(events.terminated('carol@example.com'), snapshotOf({ users: [user('svc-dev', { owner: 'carol@example.com', keys: [{ accessKeyId: 'AKIADEV000000001', ...recent }] })] }));
    expect(dev.approval.required).toBe(false);
    expect(coveredByDecision(dev, plan)).toBe(false);
    expect(coveredByDecision(plan, dev)).toBe(true);
  });
});

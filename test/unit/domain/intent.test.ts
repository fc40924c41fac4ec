import { describe, expect, it } from 'vitest';
import { ACTION_CATALOG } from '../../../lambdas/connectors/registry.js';
import type { GovernanceEvent } from '../../../lambdas/domain/events.js';
import { coveredByDecision, describeWork, followUpApproval, isNewWorkOf, newWork, renumberActionIds, snapshotAsFound, touchedNhis, withFollowUp } from '../../../lambdas/domain/intent.js';
import { canonicalJson, sha256Hex } from '../../../lambdas/domain/canonical.js';
import { planChange } from '../../../lambdas/domain/plan.js';
import type { Plan } from '../../../lambdas/domain/plan-model.js';
import type { GovernancePolicy } from '../../../lambdas/domain/policy.js';
import type { Snapshot, UserSnapshot } from '../../../lambdas/domain/snapshot.js';
import { parseStoredPlan } from '../../../lambdas/stores/plan-store.js';
import { applyPlan } from '../../fixtures/apply-plan.js';
import { secret, snapshotOf, user } from '../../fixtures/estate-builder.js';
import { events, PLAN_NOW, planFor } from '../../fixtures/planning.js';
import { DEFAULT_POLICY, DEFAULT_POLICY_VERSION, policyWith } from '../../fixtures/policies.js';

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

/** The re-plan as check-intent makes it: approval judged for the new work alone. */
function scopedReplan(plan: Plan, event: GovernanceEvent, live: Snapshot, policy: GovernancePolicy = DEFAULT_POLICY) {
  const isNew = isNewWorkOf(plan, [live]);
  const replan = planChange({ changeId: 'chg-test', policy, policyVersion: DEFAULT_POLICY_VERSION, event, estates: [{ snapshot: snapshotAsFound(plan, live) }], now: LATER, catalog: ACTION_CATALOG, approvalScope: isNew });
  return { replan, work: replan.actions.filter(isNew) };
}

const CAROL = 'carol@example.com';

/** During the write: `name` tagged as given and given a new key. */
function duringTheWrite(live: Snapshot, name: string, tags: Record<string, string>, newKeyId?: string): Snapshot {
  const changed = (u: UserSnapshot): UserSnapshot => ({
    ...u,
    tags: { ...u.tags, ...tags },
    accessKeys: newKeyId ? [...u.accessKeys, { accessKeyId: newKeyId, userName: u.name, status: 'Active' as const, createdAt: PLAN_NOW.toISOString(), lastUsedAt: null }] : u.accessKeys,
  });
  return { ...live, users: live.users.map((u) => (u.name === name ? changed(u) : u)) };
}

describe('new work the decision does not cover: a follow-up approval of the new actions alone', () => {
  const devEstate = () => snapshotOf({ users: [user('svc-dev', { owner: CAROL, keys: [{ accessKeyId: 'AKIADEV000000001', ...recent }] }), user('svc-dev2', { owner: CAROL, keys: [{ accessKeyId: 'AKIADEV200000001', ...recent }] })] });
  const terminated = events.terminated(CAROL);
  const dev = planFor(terminated, devEstate());

  it('a dev user made prod and given a key during the write: the new key needs the prod approval, asked as a follow-up with the change\'s owners barred', () => {
    expect(dev.approval.required).toBe(false);
    const live = duringTheWrite(applyPlan(devEstate(), dev, PLAN_NOW), 'svc-dev', { env: 'prod' }, 'AKIADEVNEW000001');
    const { replan, work } = scopedReplan(dev, terminated, live);
    expect(work.map((a) => [a.kind, a.target.id])).toEqual([['iam.deactivateAccessKey', 'AKIADEVNEW000001']]);
    expect(coveredByDecision(dev, replan)).toBe(false);
    const grown = withFollowUp(dev, work);
    const approval = followUpApproval(dev, replan, work, grown);
    expect(approval).toMatchObject({ required: true, afterTheFact: false, reasons: ['env=prod on svc-dev'], group: DEFAULT_POLICY.approval.group });
    expect(approval.owners).toContain(CAROL);
    expect(approval.rules?.map((r) => [r.name, r.minApprovers])).toEqual([['default', 1]]);
    expect(approval.approvers.length).toBeGreaterThan(0);
  });

  it('the grown plan carries the follow-up\'s request itself: stored and hashed with it, read back as it was made', () => {
    const live = duringTheWrite(applyPlan(devEstate(), dev, PLAN_NOW), 'svc-dev', { env: 'prod' }, 'AKIADEVNEW000001');
    const { replan, work } = scopedReplan(dev, terminated, live);
    const of = sha256Hex(canonicalJson(dev));
    const approval = followUpApproval(dev, replan, work, withFollowUp(dev, work));
    const grown = withFollowUp(dev, work, { round: 1, of, approval });
    const added = `a${dev.actions.length + 1}`;
    expect(grown.followUp).toEqual({ round: 1, of, actionIds: [added], approval });
    // The decision taken on the earlier plan stays the plan's approval; the follow-up's is its own.
    expect(grown.approval).toEqual(dev.approval);
    const body = canonicalJson(grown);
    expect(parseStoredPlan(sha256Hex(body), body)).toEqual(grown);
    // Another request is another plan: the approval requirements are covered by the hash.
    const widened = withFollowUp(dev, work, { round: 1, of, approval: { ...approval, approvers: [...approval.approvers, 'mallory@example.com'] } });
    expect(sha256Hex(canonicalJson(widened))).not.toBe(sha256Hex(body));
  });

  it('a plan grown under the decision has no followUp field: it hashes as before, and an earlier round\'s request is not carried on', () => {
    const live = duringTheWrite(applyPlan(devEstate(), dev, PLAN_NOW), 'svc-dev2', {}, 'AKIADEV2NEW00001');
    const { work } = scopedReplan(dev, terminated, live);
    const grown = withFollowUp(dev, work);
    expect(Object.keys(grown)).not.toContain('followUp');
    expect(canonicalJson(grown)).toBe(canonicalJson({ ...dev, actions: [...dev.actions, ...work.map((a, i) => ({ ...a, actionId: `a${dev.actions.length + i + 1}` }))] }));
    const requested = withFollowUp(dev, work, { round: 1, of: 'f'.repeat(64), approval: { ...dev.approval, required: true } });
    expect(Object.keys(withFollowUp(requested, []))).not.toContain('followUp');
  });

  it('judges the new work alone: a key on a dev user is covered even when an action the change already did is now on a prod NHI', () => {
    const live = duringTheWrite(duringTheWrite(applyPlan(devEstate(), dev, PLAN_NOW), 'svc-dev', { env: 'prod' }), 'svc-dev2', {}, 'AKIADEV2NEW00001');
    const { replan, work } = scopedReplan(dev, terminated, live);
    expect(work.map((a) => a.target.id)).toEqual(['AKIADEV2NEW00001']);
    expect(replan.approval.required).toBe(false);
    expect(coveredByDecision(dev, replan)).toBe(true);
    // Unscoped, the prod user's session deny (the change's own action, re-planned) would have asked for an approval.
    expect(planFor(terminated, snapshotAsFound(dev, live), { now: LATER }).approval.required).toBe(true);
  });

  it('names the grown plan\'s action ids in the reasons of the rules the new work matches', () => {
    const policy = policyWith((p) => ({ approval: { ...p.approval, rules: [{ name: 'critical-two-person', match: { tags: { tier: 'critical' } }, group: p.approval.group, minApprovers: 2 }] } }));
    const plan = planFor(terminated, devEstate(), { policy });
    const live = duringTheWrite(applyPlan(devEstate(), plan, PLAN_NOW), 'svc-dev', { tier: 'critical' }, 'AKIADEVNEW000001');
    const { replan, work } = scopedReplan(plan, terminated, live, policy);
    const grown = withFollowUp(plan, work);
    const added = grown.actions.at(-1)?.actionId ?? '';
    expect(added).toBe(`a${plan.actions.length + 1}`);
    const rule = followUpApproval(plan, replan, work, grown).rules?.find((r) => r.name === 'critical-two-person');
    expect(rule?.minApprovers).toBe(2);
    expect(rule?.reasons).toEqual([`tier=critical on svc-dev (${added} iam.deactivateAccessKey)`]);
  });

  it('renumbers only the action ids an approval reason names', () => {
    const ids = new Map([['a1', 'a7'], ['a2', 'a8']]);
    expect(renumberActionIds('irreversible action a2 (iam.deleteAccessKey)', ids)).toBe('irreversible action a8 (iam.deleteAccessKey)');
    expect(renumberActionIds('tier=critical on a1-svc (a1 iam.deactivateAccessKey)', ids)).toBe('tier=critical on a1-svc (a7 iam.deactivateAccessKey)');
    expect(renumberActionIds('env=prod on a1', ids)).toBe('env=prod on a1');
  });
});

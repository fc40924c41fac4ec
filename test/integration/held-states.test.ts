import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DeleteRolePolicyCommand, GetRolePolicyCommand, TagUserCommand, UntagUserCommand, UpdateAccessKeyCommand } from '@aws-sdk/client-iam';
import { setTimeout as sleep } from 'node:timers/promises';
import { startTestStack, type TestStack } from '../support/local-stack.js';
import { createGovernedRole, createGovernedUser, eventFile, keyStatuses, ownerEmail, terminationEvent, unique } from '../support/estate.js';

const APPROVER = 'approver@example.com';
const REQUESTER = 'requester@example.com';
const QUARANTINE = 'nhigov-quarantine';
const STEPS_TIMEOUT_MS = 300_000;

/** Polls `check` every 250 ms until it holds; fails after `ms`. */
async function until(check: () => Promise<boolean>, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`not within ${ms / 1000} s`);
    await sleep(250);
  }
}

interface ShowDoc {
  changeId: string;
  status: string;
  plan: { findings: Array<{ nhi: string; reasonCode: string; message: string; data?: Record<string, unknown> }> } | null;
  actions: Array<{ actionId: string; kind: string; target: { type: string; id: string }; status: string; finding: string }>;
  evidence: Array<{ type: string; actionId?: string; reasonCode?: string; data: Record<string, unknown> }>;
}

interface NhiDoc {
  nhi: string;
  held: Array<{ target: { type: string; id: string }; kind: string; verdict: string; establishedBy: { changeId: string } }>;
}

describe('held states: what a verified change left stays true', () => {
  let stack: TestStack;
  beforeAll(async () => {
    stack = await startTestStack();
  });
  afterAll(() => stack?.stop());

  function run(event: { source: string; 'detail-type': string; detail: unknown }, settle: 'VERIFIED' | 'NO_CHANGES' | 'ESCALATED' = 'VERIFIED'): ShowDoc {
    const { changeId } = stack.json<{ changeId: string }>(['event', eventFile(stack.stateDir, { id: unique('evt'), ...event })]);
    const done = stack.json<ShowDoc>(['wait', changeId, '--timeout', '90']);
    expect(done.status, JSON.stringify(done.plan?.findings)).toBe(settle);
    return done;
  }

  const reconcile = (owner: string, settle: 'VERIFIED' | 'NO_CHANGES' | 'ESCALATED' = 'VERIFIED') => run({ source: 'nhigov', 'detail-type': 'Reconcile Requested', detail: { scope: { owner } } }, settle);

  async function quarantined(roleName: string): Promise<boolean> {
    try {
      await stack.direct.iam.send(new GetRolePolicyCommand({ RoleName: roleName, PolicyName: QUARANTINE }));
      return true;
    } catch (error) {
      if (['NoSuchEntity', 'NoSuchEntityException'].includes((error as { name?: string }).name ?? '')) return false;
      throw error;
    }
  }

  it('puts back a key switched on by hand and a detached quarantine, naming the termination, with no approval', async () => {
    const owner = ownerEmail();
    const user = await createGovernedUser(stack.direct, { owner, env: 'dev', keys: 1 });
    const roleName = await createGovernedRole(stack.direct, { owner, env: 'dev' });
    const term = run({ source: 'hr.system', 'detail-type': 'Employee Terminated', detail: terminationEvent(owner).detail });
    const [keyId] = user.keyIds as [string];
    expect(await keyStatuses(stack.direct, user.userName)).toEqual({ [keyId]: 'Inactive' });
    expect(await quarantined(roleName)).toBe(true);

    // Around the workflow: the key back on, the quarantine removed.
    await stack.direct.iam.send(new UpdateAccessKeyCommand({ UserName: user.userName, AccessKeyId: keyId, Status: 'Active' }));
    await stack.direct.iam.send(new DeleteRolePolicyCommand({ RoleName: roleName, PolicyName: QUARANTINE }));
    const drifted = stack.json<NhiDoc>(['show', '--nhi', user.userName]);
    expect(drifted.held.find((h) => h.target.id === keyId)).toMatchObject({ verdict: 'drifted', establishedBy: { changeId: term.changeId } });

    const restored = reconcile(owner);
    expect(restored.actions.map((a) => [a.kind, a.target.id, a.finding, a.status]).sort()).toEqual([
      ['iam.attachQuarantinePolicy', roleName, 'HELD_STATE_DRIFT', 'VERIFIED'],
      ['iam.deactivateAccessKey', keyId, 'HELD_STATE_DRIFT', 'VERIFIED'],
    ]);
    expect(restored.evidence.some((e) => e.type === 'APPROVAL_REQUESTED')).toBe(false);
    const drift = restored.evidence.filter((e) => e.type === 'DECIDED' && e.reasonCode === 'HELD_STATE_DRIFT');
    expect(drift).toHaveLength(2);
    expect(drift.every((e) => e.data.heldBy === term.changeId)).toBe(true);
    expect(restored.plan?.findings.every((f) => f.reasonCode === 'HELD_STATE_DRIFT' && f.message.includes(term.changeId))).toBe(true);

    // Judged by reading IAM back; and the held states hold again, still the termination's.
    expect(await keyStatuses(stack.direct, user.userName)).toEqual({ [keyId]: 'Inactive' });
    expect(await quarantined(roleName)).toBe(true);
    const held = stack.json<NhiDoc>(['show', '--nhi', user.userName]);
    expect(held.held.find((h) => h.target.id === keyId)).toMatchObject({ verdict: 'holds', establishedBy: { changeId: term.changeId } });

    // Taken out of governance by hand: escalated to security, not dropped in silence.
    await stack.direct.iam.send(new UntagUserCommand({ UserName: user.userName, TagKeys: ['nhi-governed'] }));
    const removed = reconcile(owner, 'ESCALATED');
    expect(removed.plan?.findings).toEqual([expect.objectContaining({ nhi: user.userName, reasonCode: 'GOVERNANCE_REMOVED', message: expect.stringContaining(term.changeId) })]);
    expect(removed.actions).toEqual([]);
  }, STEPS_TIMEOUT_MS);

  it('rolls back a termination but never gives back a key reported exposed since; what it restored is then held', async () => {
    const owner = ownerEmail();
    const user = await createGovernedUser(stack.direct, { owner, env: 'dev', keys: 2 });
    const [exposedKey, otherKey] = user.keyIds as [string, string];
    const term = run({ source: 'hr.system', 'detail-type': 'Employee Terminated', detail: terminationEvent(owner).detail });
    // The exposure finds the key already off: nothing to do.
    const exposure = run({ source: 'security.findings', 'detail-type': 'Credential Exposed', detail: { nhi: user.userName, accessKeyId: exposedKey, severity: 'high' } }, 'NO_CHANGES');

    const requested = stack.json<{ changeId: string }>(['rollback', term.changeId, '--as', REQUESTER, '--reason', 'wrong person']);
    const waiting = stack.json<ShowDoc>(['wait', requested.changeId, '--timeout', '60']);
    expect(waiting.status).toBe('AWAITING_APPROVAL');
    expect(waiting.actions.map((a) => a.target.id)).not.toContain(exposedKey);
    stack.json(['approve', requested.changeId, '--as', APPROVER]);
    const done = stack.json<ShowDoc>(['wait', requested.changeId, '--timeout', '90']);
    expect(done.status).toBe('ROLLED_BACK');
    expect(await keyStatuses(stack.direct, user.userName)).toEqual({ [exposedKey]: 'Inactive', [otherKey]: 'Active' });
    // Why, on the rollback's plan and chain: the exposure that came after.
    const superseded = done.evidence.find((e) => e.reasonCode === 'SUPERSEDED');
    expect(superseded?.data).toMatchObject({ why: 'exposed', laterChangeId: exposure.changeId });
    expect(done.plan?.findings).toEqual([expect.objectContaining({ reasonCode: 'SUPERSEDED', message: expect.stringContaining(exposure.changeId) })]);
    expect(stack.cli(['evidence', 'verify', requested.changeId]).code).toBe(0);

    // The rollback's state is held now: a reconcile leaves the restored key on and the exposed key off.
    reconcile(owner, 'NO_CHANGES');
    expect(await keyStatuses(stack.direct, user.userName)).toEqual({ [exposedKey]: 'Inactive', [otherKey]: 'Active' });
    const held = stack.json<NhiDoc>(['show', '--nhi', user.userName]);
    expect(held.held.find((h) => h.target.id === otherKey)).toMatchObject({ kind: 'iam.reactivateAccessKey', verdict: 'holds', establishedBy: { changeId: requested.changeId } });
    expect(held.held.find((h) => h.target.id === exposedKey)).toMatchObject({ verdict: 'holds', establishedBy: { changeId: term.changeId } });
  }, STEPS_TIMEOUT_MS);

  it('within a minute and with nobody sending an event: a change made around the workflow is put back; its own writes start nothing', async () => {
    const owner = ownerEmail();
    const user = await createGovernedUser(stack.direct, { owner, env: 'dev', keys: 1 });
    const roleName = await createGovernedRole(stack.direct, { owner, env: 'dev' });
    const [keyId] = user.keyIds as [string];
    const reconciles = () => stack.json<Array<{ changeId: string; trigger: string }>>(['changes']).filter((c) => c.trigger === 'Reconcile Requested').map((c) => c.changeId);
    const before = new Set(reconciles());
    const term = run({ source: 'hr.system', 'detail-type': 'Employee Terminated', detail: terminationEvent(owner).detail });
    // The workflow's own writes (its key, quarantine and session denies) reach the bus as CloudTrail events too, and start no reconcile.
    await sleep(3_000);
    expect(reconciles().filter((id) => !before.has(id))).toEqual([]);

    // By hand, through the gateway with the emulator's credentials: as CloudTrail sees any caller.
    await stack.clients.iam.send(new UpdateAccessKeyCommand({ UserName: user.userName, AccessKeyId: keyId, Status: 'Active' }));
    await until(async () => (await keyStatuses(stack.direct, user.userName))[keyId] === 'Inactive', 60_000);
    const [reversal] = reconciles().filter((id) => !before.has(id));
    const shown = stack.json<ShowDoc & { plan: { trigger: { cause?: { detailType: string } } } | null }>(['wait', reversal ?? '', '--timeout', '60']);
    expect(shown.status).toBe('VERIFIED');
    expect(shown.plan?.trigger.cause?.detailType).toBe('AWS API Call via CloudTrail');
    expect(shown.evidence.find((e) => e.type === 'DECIDED' && e.reasonCode === 'HELD_STATE_DRIFT')?.data).toMatchObject({ heldBy: term.changeId });

    await stack.clients.iam.send(new DeleteRolePolicyCommand({ RoleName: roleName, PolicyName: QUARANTINE }));
    await until(() => quarantined(roleName), 60_000);

    // The owner tag moved by hand: reported and escalated to security.
    const seen = new Set(reconciles());
    await stack.clients.iam.send(new TagUserCommand({ UserName: user.userName, Tags: [{ Key: 'owner', Value: 'mallory@example.com' }] }));
    let escalated: ShowDoc | undefined;
    await until(async () => {
      const id = reconciles().find((c) => !seen.has(c));
      escalated = id ? stack.json<ShowDoc>(['show', id]) : undefined;
      return escalated?.status === 'ESCALATED';
    }, 60_000);
    expect(escalated?.plan?.findings).toEqual([expect.objectContaining({ nhi: user.userName, reasonCode: 'OWNER_TAG_CHANGED', message: expect.stringContaining('mallory@example.com') })]);
  }, STEPS_TIMEOUT_MS);
});

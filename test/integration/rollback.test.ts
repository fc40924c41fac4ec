import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GetUserPolicyCommand, UpdateAccessKeyCommand } from '@aws-sdk/client-iam';
import { rollbackChangeId } from '../../lambdas/domain/rollback.js';
import { startTestStack, type TestStack } from '../support/local-stack.js';
import { createGovernedUser, eventFile, keyStatuses, ownerEmail, terminationEvent } from '../support/estate.js';

const APPROVER = 'approver@example.com';
const REQUESTER = 'requester@example.com';
const SECOPS = 'secops@example.com';
const SESSION_DENY = 'nhigov-revoke-older-sessions';
/** A dozen CLI steps each (a termination, a rollback, approvals): more than the default budget on a busy machine. */
const STEPS_TIMEOUT_MS = 300_000;

interface ShowDoc {
  changeId: string;
  status: string;
  reasonCodes: string[];
  actions: Array<{ actionId: string; kind: string; target: { type: string; id: string }; status: string; observed: Record<string, unknown> | null }>;
  evidence: Array<{ type: string; seq: number; actor: string; reasonCode?: string; data: Record<string, unknown> }>;
}

interface Requested {
  changeId: string;
  parentChangeId: string;
  executionArn: string;
  duplicate: boolean;
  status: string;
}

describe('rollback: a person undoes a past change', () => {
  let stack: TestStack;
  beforeAll(async () => {
    stack = await startTestStack();
  });
  afterAll(() => stack?.stop());

  /** A verified termination of a non-prod user with `keys` keys: both keys Inactive, the session deny in place. */
  async function verifiedTermination(keys = 2) {
    const owner = ownerEmail();
    const user = await createGovernedUser(stack.direct, { owner, env: 'dev', keys });
    const { changeId } = stack.json<{ changeId: string }>(['event', eventFile(stack.stateDir, terminationEvent(owner))]);
    expect(stack.json<ShowDoc>(['wait', changeId, '--timeout', '90']).status).toBe('VERIFIED');
    expect(Object.values(await keyStatuses(stack.direct, user.userName))).toEqual(keys === 2 ? ['Inactive', 'Inactive'] : ['Inactive']);
    return { ...user, changeId };
  }

  async function sessionDenyPresent(userName: string): Promise<boolean> {
    try {
      await stack.direct.iam.send(new GetUserPolicyCommand({ UserName: userName, PolicyName: SESSION_DENY }));
      return true;
    } catch (error) {
      if ((error as { name?: string }).name === 'NoSuchEntityException' || (error as { name?: string }).name === 'NoSuchEntity') return false;
      throw error;
    }
  }

  it('rolls back a verified termination after approval: keys Active again, session deny gone, verified, linked both ways', async () => {
    const parent = await verifiedTermination();
    const requested = stack.json<Requested>(['rollback', parent.changeId, '--as', REQUESTER, '--reason', 'terminated the wrong person']);
    expect(requested).toMatchObject({ changeId: rollbackChangeId(parent.changeId, 1), parentChangeId: parent.changeId, duplicate: false });
    expect(requested.executionArn).toContain(`:nhigov-rollback:${requested.changeId}`);

    const waiting = stack.json<ShowDoc>(['wait', requested.changeId, '--timeout', '60']);
    expect(waiting.status).toBe('AWAITING_APPROVAL');
    // Nothing is written before the approval.
    expect(Object.values(await keyStatuses(stack.direct, parent.userName))).toEqual(['Inactive', 'Inactive']);
    // Asking again while it waits is the same rollback, not a second one.
    const again = stack.json<Requested>(['rollback', parent.changeId, '--as', REQUESTER]);
    expect(again).toMatchObject({ changeId: requested.changeId, duplicate: true, status: 'AWAITING_APPROVAL' });

    stack.json(['approve', requested.changeId, '--as', APPROVER]);
    const done = stack.json<ShowDoc>(['wait', requested.changeId, '--timeout', '90']);
    expect(done.status).toBe('ROLLED_BACK');
    expect(done.actions.map((a) => [a.actionId, a.kind, a.status])).toEqual([
      ['a3', 'iam.deleteSessionRevocationDeny', 'VERIFIED'],
      ['a2', 'iam.reactivateAccessKey', 'VERIFIED'],
      ['a1', 'iam.reactivateAccessKey', 'VERIFIED'],
    ]);
    expect(done.actions.filter((a) => a.kind === 'iam.reactivateAccessKey').map((a) => a.observed)).toEqual([{ status: 'Active' }, { status: 'Active' }]);

    // Judged by reading IAM back.
    expect(Object.values(await keyStatuses(stack.direct, parent.userName))).toEqual(['Active', 'Active']);
    expect(await sessionDenyPresent(parent.userName)).toBe(false);

    // The rollback's own chain: requested by a person, approved, each undo verified, linked to its parent.
    const types = done.evidence.map((e) => e.type);
    expect(types[0]).toBe('TRIGGERED');
    expect(done.evidence[0]).toMatchObject({ actor: REQUESTER, data: { parentChangeId: parent.changeId, reason: 'terminated the wrong person' } });
    expect(types).toEqual(expect.arrayContaining(['PLANNED', 'APPROVAL_REQUESTED', 'APPROVED', 'ROLLBACK_STARTED']));
    expect(types.filter((t) => t === 'VERIFIED')).toHaveLength(3);
    expect(done.evidence.find((e) => e.type === 'ROLLBACK_STARTED')?.data).toMatchObject({ parentChangeId: parent.changeId, undo: ['a3', 'a2', 'a1'] });
    expect(types.at(-1)).toBe('COMPLETED');
    expect(stack.cli(['evidence', 'verify', requested.changeId]).code).toBe(0);

    // The parent keeps its status; its chain ends with the link, its actions show as rolled back.
    const original = stack.json<ShowDoc>(['show', parent.changeId]);
    expect(original.status).toBe('VERIFIED');
    expect(original.evidence.at(-1)).toMatchObject({ type: 'ROLLED_BACK', data: { rollbackChangeId: requested.changeId, restored: ['a3', 'a2', 'a1'] } });
    expect(original.actions.map((a) => a.status)).toEqual(['ROLLED_BACK', 'ROLLED_BACK', 'ROLLED_BACK']);
    expect(stack.cli(['evidence', 'verify', parent.changeId]).code).toBe(0);

    // Asking once more is refused: it is already rolled back, and no second rollback exists.
    const third = stack.cli(['rollback', parent.changeId, '--as', REQUESTER, '--json']);
    expect(third.code).toBe(2);
    expect(third.stderr).toContain(`already rolled back by ${requested.changeId}`);
    expect(third.stdout).toBe('');
    expect(stack.cli(['show', rollbackChangeId(parent.changeId, 2)]).code).toBe(2);
  }, STEPS_TIMEOUT_MS);

  it('refuses an unknown change and a change in flight, and starts nothing', async () => {
    const unknown = stack.cli(['rollback', 'chg-000000000000000000000000', '--as', REQUESTER]);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('no change chg-000000000000000000000000');
    expect(stack.cli(['rollback', 'chg-000000000000000000000000', '--as', 'not-an-email']).code).toBe(2);

    // A prod termination waits for approval: in flight.
    const owner = ownerEmail();
    const user = await createGovernedUser(stack.direct, { owner, env: 'prod', keys: 1 });
    const { changeId } = stack.json<{ changeId: string }>(['event', eventFile(stack.stateDir, terminationEvent(owner))]);
    expect(stack.json<ShowDoc>(['wait', changeId, '--timeout', '60']).status).toBe('AWAITING_APPROVAL');
    const inFlight = stack.cli(['rollback', changeId, '--as', REQUESTER]);
    expect(inFlight.code).toBe(2);
    expect(inFlight.stderr).toContain(`${changeId} is still AWAITING_APPROVAL`);
    expect(stack.cli(['show', rollbackChangeId(changeId, 1)]).code).toBe(2);
    expect(Object.values(await keyStatuses(stack.direct, user.userName))).toEqual(['Active']);
  });

  it('asks again after a rejection, and skips a target already restored out of band', async () => {
    const parent = await verifiedTermination();
    // An approver who asks for a rollback may not approve it: another approver decides.
    const first = stack.json<Requested>(['rollback', parent.changeId, '--as', APPROVER]);
    expect(stack.json<ShowDoc>(['wait', first.changeId, '--timeout', '60']).status).toBe('AWAITING_APPROVAL');
    const self = stack.cli(['approve', first.changeId, '--as', APPROVER]);
    expect(self.code).toBe(1);
    expect(self.stderr).toContain('SELF_APPROVAL_FORBIDDEN');
    stack.json(['approve', first.changeId, '--as', SECOPS, '--reject', '--comment', 'not without a ticket']);
    expect(stack.json<ShowDoc>(['wait', first.changeId, '--timeout', '60']).status).toBe('REJECTED');
    expect(Object.values(await keyStatuses(stack.direct, parent.userName))).toEqual(['Inactive', 'Inactive']);
    expect(await sessionDenyPresent(parent.userName)).toBe(true);

    // Someone reactivates one key by hand; the second attempt leaves it alone and restores the rest.
    const [keyA, keyB] = parent.keyIds as [string, string];
    await stack.direct.iam.send(new UpdateAccessKeyCommand({ UserName: parent.userName, AccessKeyId: keyA, Status: 'Active' }));
    const second = stack.json<Requested>(['rollback', parent.changeId, '--as', REQUESTER, '--reason', 'ticket OPS-42']);
    expect(second.changeId).toBe(rollbackChangeId(parent.changeId, 2));
    expect(stack.json<ShowDoc>(['wait', second.changeId, '--timeout', '60']).status).toBe('AWAITING_APPROVAL');
    stack.json(['approve', second.changeId, '--as', APPROVER]);
    const done = stack.json<ShowDoc>(['wait', second.changeId, '--timeout', '90']);
    expect(done.status).toBe('ROLLED_BACK');
    const byKey = Object.fromEntries(done.actions.map((a) => [a.target.id, a.status]));
    expect(byKey[keyA]).toBe('SKIPPED');
    expect(byKey[keyB]).toBe('VERIFIED');
    expect(await keyStatuses(stack.direct, parent.userName)).toEqual({ [keyA]: 'Active', [keyB]: 'Active' });
    expect(await sessionDenyPresent(parent.userName)).toBe(false);
    expect(done.evidence.find((e) => e.type === 'STALE_CHECKED')?.data).toMatchObject({ alreadyRestored: [done.actions.find((a) => a.target.id === keyA)?.actionId] });
  }, STEPS_TIMEOUT_MS);

  it('ends ESCALATED with ROLLBACK_FAILED when an undo cannot be verified, and says so on the parent', async () => {
    const parent = await verifiedTermination(1);
    const requested = stack.json<Requested>(['rollback', parent.changeId, '--as', REQUESTER]);
    expect(stack.json<ShowDoc>(['wait', requested.changeId, '--timeout', '60']).status).toBe('AWAITING_APPROVAL');
    await stack.fault({ service: 'iam', action: 'UpdateAccessKey', mode: 'accessDenied', times: 10 });
    try {
      stack.json(['approve', requested.changeId, '--as', APPROVER]);
      const done = stack.json<ShowDoc>(['wait', requested.changeId, '--timeout', '90']);
      expect(done.status).toBe('ESCALATED');
      expect(done.reasonCodes[0]).toBe('ROLLBACK_FAILED');
      expect(done.reasonCodes).toContain('CONNECTOR_ACCESS_DENIED');
      expect(done.actions.find((a) => a.kind === 'iam.reactivateAccessKey')?.status).toBe('FAILED');
      expect(done.actions.find((a) => a.kind === 'iam.deleteSessionRevocationDeny')?.status).toBe('VERIFIED');
    } finally {
      await stack.clearFaults();
    }
    expect(Object.values(await keyStatuses(stack.direct, parent.userName))).toEqual(['Inactive']);
    const original = stack.json<ShowDoc>(['show', parent.changeId]);
    expect(original.evidence.at(-1)).toMatchObject({ type: 'ROLLBACK_FAILED', reasonCode: 'ROLLBACK_FAILED', data: { rollbackChangeId: requested.changeId } });
    expect(stack.cli(['evidence', 'verify', parent.changeId]).code).toBe(0);
    // A rollback that wrote and escalated is a person's to finish: no automatic second attempt.
    const again = stack.cli(['rollback', parent.changeId, '--as', REQUESTER]);
    expect(again.code).toBe(2);
    expect(again.stderr).toContain('it needs a person');
  }, STEPS_TIMEOUT_MS);
});

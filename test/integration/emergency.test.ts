import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestStack, type TestStack } from '../support/local-stack.js';
import { createGovernedUser, eventFile, keyStatuses, ownerEmail, unique } from '../support/estate.js';
import { activatePolicyVariant, APPROVER, SECOPS, sentMail, show, waitForStatus } from '../support/approvals.js';

function exposure(userName: string, accessKeyId: string) {
  return { id: unique('exposed'), source: 'security.findings', 'detail-type': 'Credential Exposed', detail: { nhi: userName, accessKeyId, severity: 'critical' } };
}

/** A prod user with two keys; the first one is reported exposed. */
async function exposedProdKey(stack: TestStack) {
  const user = await createGovernedUser(stack.direct, { owner: ownerEmail(), env: 'prod', keys: 2 });
  const [exposed, other] = user.keyIds as [string, string];
  const { changeId } = stack.json<{ changeId: string }>(['event', eventFile(stack.stateDir, exposure(user.userName, exposed))]);
  const waiting = await waitForStatus(stack, changeId, 'AWAITING_APPROVAL');
  return { user, exposed, other, changeId, waiting };
}

describe('emergency path: an exposed prod key is contained first, approved after the fact', () => {
  let stack: TestStack;
  beforeAll(async () => {
    stack = await startTestStack();
  });
  afterAll(() => stack?.stop());

  it('contains (Inactive, verified) before any approval; a rejection rolls it back → ROLLED_BACK, key Active again', async () => {
    const { user, exposed, other, changeId, waiting } = await exposedProdKey(stack);
    // Contained before anyone was asked: read back from IAM, not from the workflow.
    expect(await keyStatuses(stack.direct, user.userName)).toEqual({ [exposed]: 'Inactive', [other]: 'Active' });
    expect(waiting.approval).toMatchObject({ status: 'PENDING', afterTheFact: true });
    const types = waiting.evidence.map((e) => e.type);
    expect(types.indexOf('VERIFIED')).toBeGreaterThan(-1);
    expect(types.indexOf('VERIFIED')).toBeLessThan(types.indexOf('APPROVAL_REQUESTED'));
    expect(waiting.evidence.find((e) => e.type === 'APPROVAL_REQUESTED')?.data.afterTheFact).toBe(true);
    const mail = (await sentMail(stack)).find((m) => m.body.includes(changeId));
    expect(mail?.subject).toContain('after the fact');

    const rejected = stack.cli(['approve', changeId, '--as', SECOPS, '--reject', '--comment', 'key was a honeytoken']);
    expect(rejected.code, rejected.stderr).toBe(0);
    const done = await waitForStatus(stack, changeId, 'ROLLED_BACK');
    expect(await keyStatuses(stack.direct, user.userName)).toEqual({ [exposed]: 'Active', [other]: 'Active' });
    expect(done.reasonCodes).toContain('APPROVAL_REJECTED');
    expect(done.actions).toEqual([expect.objectContaining({ kind: 'iam.deactivateAccessKey', status: 'ROLLED_BACK', observed: { status: 'Active' } })]);
    const after = done.evidence.map((e) => e.type);
    expect(after.slice(after.indexOf('REJECTED'))).toEqual(['REJECTED', 'ROLLBACK_STARTED', 'WRITE_ATTEMPTED', 'WRITTEN', 'ROLLED_BACK', 'COMPLETED']);
    expect(stack.cli(['evidence', 'verify', changeId]).code).toBe(0);
  });

  it('an approval after the fact keeps the containment → VERIFIED', async () => {
    const { user, exposed, other, changeId } = await exposedProdKey(stack);
    const approved = stack.cli(['approve', changeId, '--as', APPROVER]);
    expect(approved.code, approved.stderr).toBe(0);
    const done = await waitForStatus(stack, changeId, 'VERIFIED');
    expect(await keyStatuses(stack.direct, user.userName)).toEqual({ [exposed]: 'Inactive', [other]: 'Active' });
    expect(done.evidence.map((e) => e.type).slice(-2)).toEqual(['APPROVED', 'COMPLETED']);
  });

  it('an unanswered after-the-fact approval escalates (APPROVAL_TIMEOUT) and keeps the containment', async () => {
    activatePolicyVariant(stack, 'short-approval', (policy) => {
      policy.approval.timeoutSeconds = 3;
    });
    const { user, exposed, changeId } = await exposedProdKey(stack);
    const done = await waitForStatus(stack, changeId, 'ESCALATED', 30_000);
    expect(done.reasonCodes).toContain('APPROVAL_TIMEOUT');
    expect((await keyStatuses(stack.direct, user.userName))[exposed]).toBe('Inactive');
  });
});

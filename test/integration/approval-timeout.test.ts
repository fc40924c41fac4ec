import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestStack, type TestStack } from '../support/local-stack.js';
import { createGovernedUser, eventFile, keyStatuses, ownerEmail, terminationEvent } from '../support/estate.js';
import { activatePolicyVariant, approvalRecord, APPROVER, hasSessionDeny, linkFromUrl, linksIn, postDecision, sentMail, show, waitForStatus } from '../support/approvals.js';

const TIMEOUT_SECONDS = 3;

describe('approval timeout', () => {
  let stack: TestStack;
  beforeAll(async () => {
    stack = await startTestStack();
    activatePolicyVariant(stack, 'short-approval', (policy) => {
      policy.approval.timeoutSeconds = TIMEOUT_SECONDS;
    });
  });
  afterAll(() => stack?.stop());

  it('an unanswered request ends ESCALATED with APPROVAL_TIMEOUT, nothing written, the security route told; late links answer 410', async () => {
    const owner = ownerEmail();
    const user = await createGovernedUser(stack.direct, { owner, env: 'prod', keys: 1 });
    const { changeId } = stack.json<{ changeId: string }>(['event', eventFile(stack.stateDir, terminationEvent(owner))]);
    await waitForStatus(stack, changeId, 'AWAITING_APPROVAL');
    const record = await approvalRecord(stack, changeId);
    expect(record.exp - Math.floor(Date.parse(record.requestedAt) / 1000)).toBe(TIMEOUT_SECONDS);

    const done = await waitForStatus(stack, changeId, 'ESCALATED', 30_000);
    expect(done.reasonCodes).toContain('APPROVAL_TIMEOUT');
    expect(Object.values(await keyStatuses(stack.direct, user.userName))).toEqual(['Active']);
    expect(await hasSessionDeny(stack, user.userName)).toBe(false);
    expect(done.evidence.map((e) => e.type)).not.toContain('WRITE_ATTEMPTED');

    // The escalation goes to the owner route of APPROVAL_TIMEOUT (security), by email.
    const escalated = done.evidence.find((e) => e.type === 'ESCALATED');
    expect(escalated?.data.notified).toEqual(expect.arrayContaining([expect.objectContaining({ route: 'security', to: 'security-oncall@example.com', delivered: true })]));
    const notice = (await sentMail(stack)).find((m) => m.destinations.ToAddresses?.includes('security-oncall@example.com') && m.subject.includes(changeId));
    expect(notice?.subject).toContain('Escalated');
    expect(notice?.body).toContain('APPROVAL_TIMEOUT');

    // The emailed link no longer decides anything.
    const mail = (await sentMail(stack)).find((m) => m.body.includes(changeId) && m.destinations.ToAddresses?.includes(APPROVER));
    const link = linkFromUrl(linksIn(mail?.body ?? '')[0] ?? '');
    expect(await postDecision(stack, link, 'approve')).toMatchObject({ status: 410, body: { reason: 'LINK_EXPIRED' } });
    const cli = stack.cli(['approve', changeId, '--as', APPROVER]);
    expect(cli.code).toBe(1);
    expect(cli.stderr).toContain('LINK_EXPIRED');
    expect(show(stack, changeId).status).toBe('ESCALATED');
    expect(stack.cli(['evidence', 'verify', changeId]).code).toBe(0);
  });
});

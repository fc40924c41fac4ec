import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { GetSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import { CreateAccessKeyCommand } from '@aws-sdk/client-iam';
import { startTestStack, type TestStack } from '../support/local-stack.js';
import { createGovernedUser, createKeySecret, eventFile, keyStatuses, ownerEmail, terminationEvent, unique } from '../support/estate.js';
import { activatePolicyVariant, approvalRecord, APPROVER, hasSessionDeny, linkFromUrl, linksIn, postDecision, SECOPS, sentMail, show, waitForStatus, type ShowDoc } from '../support/approvals.js';

/**
 * The paths a change takes when it does not simply go through: an exposed key contained and then
 * judged after the fact, approvals nobody answers, injected faults, a rotation that cannot finish.
 * One stack for all (a stack start is ~10-15 s of CI); each block activates the policy variant it
 * needs in its beforeAll, and the blocks run in order.
 */
describe('failure paths', () => {
  let stack: TestStack;
  beforeAll(async () => {
    stack = await startTestStack();
  });
  afterAll(() => stack?.stop());

  // First: it needs the default policy the stack starts with (approvals that wait).
  describe('emergency path: an exposed prod key is contained first, approved after the fact', () => {
    function exposure(userName: string, accessKeyId: string) {
      return { id: unique('exposed'), source: 'security.findings', 'detail-type': 'Credential Exposed', detail: { nhi: userName, accessKeyId, severity: 'critical' } };
    }

    /** A prod user with two keys; the first one is reported exposed. */
    async function exposedProdKey() {
      const user = await createGovernedUser(stack.direct, { owner: ownerEmail(), env: 'prod', keys: 2 });
      const [exposed, other] = user.keyIds as [string, string];
      const { changeId } = stack.json<{ changeId: string }>(['event', eventFile(stack.stateDir, exposure(user.userName, exposed))]);
      const waiting = await waitForStatus(stack, changeId, 'AWAITING_APPROVAL');
      return { user, exposed, other, changeId, waiting };
    }

    it('contains (Inactive, verified) before any approval; a rejection rolls it back → ROLLED_BACK, key Active again', async () => {
      const { user, exposed, other, changeId, waiting } = await exposedProdKey();
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

    it('a key added while the containment is written is contained by a follow-up round; a rejection after the fact undoes every round → ROLLED_BACK', async () => {
      const user = await createGovernedUser(stack.direct, { owner: ownerEmail(), env: 'prod', keys: 1 });
      const first = user.keyIds[0] ?? '';
      // The exposure names the user alone: every active key is contained, older sessions denied.
      await stack.fault({ service: 'iam', action: 'UpdateAccessKey', mode: 'delay', ms: 6000, times: 1 });
      let changeId = '';
      let added = '';
      try {
        const event = { id: unique('exposed'), source: 'security.findings', 'detail-type': 'Credential Exposed', detail: { nhi: user.userName, severity: 'critical' } };
        ({ changeId } = stack.json<{ changeId: string }>(['event', eventFile(stack.stateDir, event)]));
        for (let i = 0; i < 100 && !['APPLYING', 'VERIFYING'].includes(show(stack, changeId).status); i += 1) await new Promise((r) => setTimeout(r, 100));
        added = (await stack.direct.iam.send(new CreateAccessKeyCommand({ UserName: user.userName }))).AccessKey?.AccessKeyId ?? '';
      } finally {
        await stack.clearFaults();
      }
      const waiting = await waitForStatus(stack, changeId, 'AWAITING_APPROVAL', 60_000);
      expect(await keyStatuses(stack.direct, user.userName)).toEqual({ [first]: 'Inactive', [added]: 'Inactive' });
      expect(await hasSessionDeny(stack, user.userName)).toBe(true);
      expect(waiting.evidence.filter((e) => e.type === 'PLANNED'), 'the first plan and the grown one').toHaveLength(2);
      expect(waiting.actions.find((a) => a.target.id === added)).toMatchObject({ kind: 'iam.deactivateAccessKey', status: 'VERIFIED' });

      const rejected = stack.cli(['approve', changeId, '--as', SECOPS, '--reject', '--comment', 'a drill']);
      expect(rejected.code, rejected.stderr).toBe(0);
      const done = await waitForStatus(stack, changeId, 'ROLLED_BACK', 60_000);
      // Both rounds undone, read back from IAM: the first round's key and session deny, the follow-up's key.
      expect(await keyStatuses(stack.direct, user.userName)).toEqual({ [first]: 'Active', [added]: 'Active' });
      expect(await hasSessionDeny(stack, user.userName)).toBe(false);
      expect(done.actions.length).toBeGreaterThanOrEqual(3);
      expect(done.actions.map((a) => [a.actionId, a.status])).toEqual(done.actions.map((a) => [a.actionId, 'ROLLED_BACK']));
      const started = done.evidence.find((e) => e.type === 'ROLLBACK_STARTED');
      expect(started?.data.actions).toHaveLength(done.actions.length);
      expect(started?.data.actions).toEqual(expect.arrayContaining(done.actions.map((a) => a.actionId)));
      expect(stack.cli(['evidence', 'verify', changeId]).code).toBe(0);
    });

    it('an approval after the fact keeps the containment → VERIFIED', async () => {
      const { user, exposed, other, changeId } = await exposedProdKey();
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
      const { user, exposed, changeId } = await exposedProdKey();
      const done = await waitForStatus(stack, changeId, 'ESCALATED', 30_000);
      expect(done.reasonCodes).toContain('APPROVAL_TIMEOUT');
      expect((await keyStatuses(stack.direct, user.userName))[exposed]).toBe('Inactive');
    });
  });

  describe('approval timeout', () => {
    const TIMEOUT_SECONDS = 3;
    beforeAll(() => {
      activatePolicyVariant(stack, 'short-approval-timeout', (policy) => {
        policy.approval.timeoutSeconds = TIMEOUT_SECONDS;
      });
    });

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

  describe('workflow under faults: retries, eventual consistency, writes that never land', () => {
    /** Verify gives up after this long (the policy's verifyTimeoutSeconds), so a swallowed write fails fast. */
    const VERIFY_TIMEOUT_SECONDS = 3;
    beforeAll(() => {
      activatePolicyVariant(stack, 'faults', (policy) => {
        policy.failureHandling.verifyTimeoutSeconds = VERIFY_TIMEOUT_SECONDS;
        // One action at a time: a fault rule's `times` then hits the first action's calls only.
        policy.apply.maxConcurrency = 1;
      });
    });
    afterEach(async () => stack?.clearFaults());

    async function terminate(keys: number) {
      const owner = ownerEmail();
      const user = await createGovernedUser(stack.direct, { owner, env: 'dev', keys });
      const { changeId } = stack.json<{ changeId: string }>(['event', eventFile(stack.stateDir, terminationEvent(owner))]);
      return { user, changeId };
    }

    const keyAction = (doc: ShowDoc, keyId: string) => doc.actions.find((a) => a.kind === 'iam.deactivateAccessKey' && a.target.id === keyId);

    it('throttled twice on UpdateAccessKey: retried with backoff → VERIFIED, 3 attempts recorded', async () => {
      await stack.fault({ service: 'iam', action: 'UpdateAccessKey', mode: 'throttle', times: 2 });
      const { user, changeId } = await terminate(1);
      const done = await waitForStatus(stack, changeId, 'VERIFIED');
      const action = keyAction(done, user.keyIds[0]!);
      expect(action).toMatchObject({ status: 'VERIFIED', attempts: 3 });
      const failures = done.evidence.filter((e) => e.type === 'WRITE_FAILED');
      expect(failures.map((e) => e.reasonCode)).toEqual(['THROTTLED', 'THROTTLED']);
      expect(done.evidence.filter((e) => e.type === 'WRITE_ATTEMPTED' && e.data.kind === 'iam.deactivateAccessKey').map((e) => e.data.attempt)).toEqual([1, 2, 3]);
      expect(await keyStatuses(stack.direct, user.userName)).toEqual({ [user.keyIds[0]!]: 'Inactive' });
    });

    it('a lagging write (eventual consistency): verify polls until IAM shows it → VERIFIED', async () => {
      await stack.fault({ service: 'iam', action: 'UpdateAccessKey', mode: 'lag', ms: 1500, times: 1 });
      const { user, changeId } = await terminate(1);
      const done = await waitForStatus(stack, changeId, 'VERIFIED');
      expect(keyAction(done, user.keyIds[0]!)).toMatchObject({ status: 'VERIFIED', attempts: 1, observed: { status: 'Inactive' } });
      const verified = done.evidence.find((e) => e.type === 'VERIFIED' && e.data.observed && (e.data.observed as { status?: string }).status === 'Inactive');
      expect(verified?.data.polls as number).toBeGreaterThan(1);
      expect(done.evidence.map((e) => e.type)).not.toContain('VERIFY_FAILED');
      expect(await keyStatuses(stack.direct, user.userName)).toEqual({ [user.keyIds[0]!]: 'Inactive' });
    });

    it('a swallowed write (and its rewrite) is never VERIFIED → ESCALATED WRITE_NOT_APPLIED; the verified revocations stay', async () => {
      await stack.fault({ service: 'iam', action: 'UpdateAccessKey', mode: 'swallow', times: 2 });
      const { user, changeId } = await terminate(2);
      const done = await waitForStatus(stack, changeId, 'ESCALATED', 60_000);
      expect(done.reasonCodes).toContain('WRITE_NOT_APPLIED');
      const [swallowed, landed] = done.actions.filter((a) => a.kind === 'iam.deactivateAccessKey');
      expect(swallowed).toMatchObject({ status: 'FAILED', reasonCode: 'WRITE_NOT_APPLIED', attempts: 2, observed: { status: 'Active' } });
      expect(landed).toMatchObject({ status: 'VERIFIED' });
      expect(done.actions.find((a) => a.kind === 'iam.putSessionRevocationDeny')?.status).toBe('VERIFIED');
      const types = done.evidence.map((e) => e.type);
      expect(types.filter((t) => t === 'VERIFY_FAILED')).toHaveLength(2);
      expect(types).not.toContain('ROLLBACK_STARTED');

      // Read back: the swallowed key is still Active, the other revocations are kept.
      expect(await keyStatuses(stack.direct, user.userName)).toEqual({ [swallowed!.target.id]: 'Active', [landed!.target.id]: 'Inactive' });
      expect(await hasSessionDeny(stack, user.userName)).toBe(true);

      // WRITE_NOT_APPLIED routes to the platform team.
      expect(done.evidence.find((e) => e.type === 'ESCALATED')?.data.notified).toEqual(expect.arrayContaining([expect.objectContaining({ route: 'platform', to: 'platform-team@example.com', delivered: true })]));
      expect((await sentMail(stack)).some((m) => m.destinations.ToAddresses?.includes('platform-team@example.com') && m.subject.includes(changeId))).toBe(true);
    });
  });

  /** A rotation is all-or-nothing: when its last step never shows, it is rolled back to the previous key and secret version. */
  describe('rotation whose last step fails', () => {
    beforeAll(() => {
      activatePolicyVariant(stack, 'fast-verify', (policy) => {
        policy.failureHandling.verifyTimeoutSeconds = 3;
      });
    });
    afterEach(async () => stack?.clearFaults());

    it('ends ROLLED_BACK with the old key active, the new one inactive and the previous secret version current', async () => {
      const secretOwner = ownerEmail('secret-owner');
      // The user is someone else's: the termination touches it only through the secret's rotation.
      const user = await createGovernedUser(stack.direct, { owner: ownerEmail('user-owner'), env: 'dev', keys: 1 });
      const oldKey = user.keys[0]!;
      const secretName = await createKeySecret(stack.direct, { owner: secretOwner, userName: user.userName, key: oldKey });
      const before = await stack.direct.secrets.send(new GetSecretValueCommand({ SecretId: secretName, VersionStage: 'AWSCURRENT' }));

      // The rotation's last step (deactivating the old key) is swallowed, and so is the rewrite's.
      await stack.fault({ service: 'iam', action: 'UpdateAccessKey', mode: 'swallow', times: 2 });
      const { changeId } = stack.json<{ changeId: string }>(['event', eventFile(stack.stateDir, terminationEvent(secretOwner))]);
      const done = await waitForStatus(stack, changeId, 'ROLLED_BACK', 120_000);

      const rotation = done.actions.find((a) => a.kind === 'secrets.rotateAccessKeySecret');
      expect(rotation).toMatchObject({ status: 'ROLLED_BACK' });
      expect(done.reasonCodes).toContain('WRITE_NOT_APPLIED');
      const types = done.evidence.map((e) => e.type);
      expect(types).toContain('VERIFY_FAILED');
      expect(types).toContain('ROLLBACK_STARTED');
      expect(types).toContain('ROLLED_BACK');
      expect(types.at(-1)).toBe('COMPLETED');

      // Read back: the previous version is AWSCURRENT again and names the old key, which is Active.
      const after = await stack.direct.secrets.send(new GetSecretValueCommand({ SecretId: secretName, VersionStage: 'AWSCURRENT' }));
      expect(after.VersionId).toBe(before.VersionId);
      expect(JSON.parse(after.SecretString ?? '{}').AccessKeyId).toBe(oldKey.AccessKeyId);
      const statuses = await keyStatuses(stack.direct, user.userName);
      expect(statuses[oldKey.AccessKeyId]).toBe('Active');
      const newKeys = Object.entries(statuses).filter(([id]) => id !== oldKey.AccessKeyId);
      expect(newKeys.every(([, status]) => status === 'Inactive')).toBe(true);
    });
  });
});

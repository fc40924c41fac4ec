import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startTestStack, type TestStack } from '../support/local-stack.js';
import { createGovernedUser, eventFile, keyStatuses, ownerEmail, terminationEvent } from '../support/estate.js';
import { activatePolicyVariant, hasSessionDeny, sentMail, waitForStatus, type ShowDoc } from '../support/approvals.js';

/** Verify gives up after this long (the policy's verifyTimeoutSeconds), so a swallowed write fails fast. */
const VERIFY_TIMEOUT_SECONDS = 3;

describe('workflow under faults: retries, eventual consistency, writes that never land', () => {
  let stack: TestStack;
  beforeAll(async () => {
    stack = await startTestStack();
    activatePolicyVariant(stack, 'faults', (policy) => {
      policy.failureHandling.verifyTimeoutSeconds = VERIFY_TIMEOUT_SECONDS;
      // One action at a time: a fault rule's `times` then hits the first action's calls only.
      policy.apply.maxConcurrency = 1;
    });
  });
  afterEach(async () => stack?.clearFaults());
  afterAll(() => stack?.stop());

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

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CreateAccessKeyCommand, GetUserPolicyCommand, TagUserCommand } from '@aws-sdk/client-iam';
import { startTestStack, type TestStack } from '../support/local-stack.js';
import { createGovernedUser, eventFile, keyStatuses, ownerEmail, terminationEvent } from '../support/estate.js';
import { addEveryCredential, credentialStates } from '../support/credentials.js';
import { activatePolicyVariant, APPROVER, linkFromUrl, linksIn, postDecision, SECOPS, sentMail, waitForStatus, type SentMail } from '../support/approvals.js';

interface ShowDoc {
  changeId: string;
  status: string;
  actions: Array<{ actionId: string; kind: string; target: { type: string; id: string }; status: string; attempts: number; observed: Record<string, unknown> | null }>;
  evidence: Array<{ type: string; seq: number; hash: string; prevHash: string; policyVersion: string; data?: Record<string, unknown> }>;
}

describe('foundation slice: Employee Terminated on a non-prod user', () => {
  let stack: TestStack;
  beforeAll(async () => {
    stack = await startTestStack();
  });
  afterAll(() => stack?.stop());

  it('plans the exact key ids, deactivates both keys, verifies by reading IAM back, records evidence', async () => {
    const owner = ownerEmail();
    const user = await createGovernedUser(stack.direct, { owner, env: 'dev', keys: 2 });
    const started = stack.json<{ changeId: string; executionArn: string }>(['event', eventFile(stack.stateDir, terminationEvent(owner))]);
    expect(started.changeId).toMatch(/^chg-[0-9a-f]{24}$/);
    expect(started.executionArn).toContain(started.changeId);

    const done = stack.json<ShowDoc>(['wait', started.changeId, '--timeout', '90']);
    expect(done.status).toBe('VERIFIED');
    const keyActions = done.actions.filter((a) => a.kind === 'iam.deactivateAccessKey');
    expect(keyActions.map((a) => a.target.id).sort()).toEqual([...user.keyIds].sort());
    expect(keyActions.every((a) => a.status === 'VERIFIED' && a.observed?.status === 'Inactive')).toBe(true);
    expect(done.actions.find((a) => a.kind === 'iam.putSessionRevocationDeny')?.status).toBe('VERIFIED');

    // Judged by reading IAM back, independently of the workflow.
    expect(Object.values(await keyStatuses(stack.direct, user.userName))).toEqual(['Inactive', 'Inactive']);
    const deny = await stack.direct.iam.send(new GetUserPolicyCommand({ UserName: user.userName, PolicyName: 'nhigov-revoke-older-sessions' }));
    expect(decodeURIComponent(deny.PolicyDocument ?? '')).toContain('aws:TokenIssueTime');

    const types = done.evidence.map((e) => e.type);
    expect(types[0]).toBe('TRIGGERED');
    expect(types).toContain('PLANNED');
    expect(types.filter((t) => t === 'VERIFIED')).toHaveLength(done.actions.length);
    expect(types.at(-1)).toBe('COMPLETED');
    expect(done.evidence.map((e) => e.seq)).toEqual(done.evidence.map((_, i) => i + 1));
    expect(done.evidence[0]?.prevHash).toBe('0'.repeat(64));
    done.evidence.slice(1).forEach((e, i) => expect(e.prevHash).toBe(done.evidence[i]?.hash));
  });

  it('disables every long-term credential of the user (keys, SSH key, certificate, service-specific credential, console password), each read back', async () => {
    const owner = ownerEmail();
    const user = await createGovernedUser(stack.direct, { owner, env: 'dev', keys: 1 });
    const ids = await addEveryCredential(stack.direct, user.userName);
    const started = stack.json<{ changeId: string }>(['event', eventFile(stack.stateDir, terminationEvent(owner))]);
    const done = stack.json<ShowDoc>(['wait', started.changeId, '--timeout', '90']);
    expect(done.status).toBe('VERIFIED');
    const byKind = Object.fromEntries(done.actions.map((a) => [a.kind, a]));
    expect(byKind['iam.deactivateSshPublicKey']?.target.id).toBe(ids.sshPublicKeyId);
    expect(byKind['iam.deactivateSigningCertificate']?.target.id).toBe(ids.certificateId);
    expect(byKind['iam.deactivateServiceSpecificCredential']?.target.id).toBe(ids.serviceSpecificCredentialId);
    expect(byKind['iam.containConsoleAccess']?.observed).toMatchObject({ contained: true });
    expect(done.actions.every((a) => a.status === 'VERIFIED')).toBe(true);

    const live = await credentialStates(stack.direct, user.userName);
    expect(live.statuses).toEqual({ [user.keyIds[0] ?? '']: 'Inactive', [ids.sshPublicKeyId]: 'Inactive', [ids.certificateId]: 'Inactive', [ids.serviceSpecificCredentialId]: 'Inactive' });
    // The password stays until finalize, after the grace period; until then no console session can do anything.
    expect(live).toMatchObject({ loginProfile: true, consoleContained: true });
  });

  it('the intent holds, not only the actions: a key added during a prod approval wait is deactivated too, under the same decision', async () => {
    const owner = ownerEmail();
    const user = await createGovernedUser(stack.direct, { owner, env: 'prod', keys: 1 });
    const started = stack.json<{ changeId: string }>(['event', eventFile(stack.stateDir, terminationEvent(owner))]);
    expect(stack.json<ShowDoc>(['wait', started.changeId, '--timeout', '90']).status).toBe('AWAITING_APPROVAL');
    // The leaver adds a key while the change waits: the plan cannot know it.
    const added = await stack.direct.iam.send(new CreateAccessKeyCommand({ UserName: user.userName }));
    const addedKeyId = added.AccessKey?.AccessKeyId ?? '';
    const approved = stack.cli(['approve', started.changeId, '--as', 'approver@example.com']);
    expect(approved.code, approved.stderr).toBe(0);
    const done = stack.json<ShowDoc>(['wait', started.changeId, '--timeout', '120']);
    expect(done.status).toBe('VERIFIED');
    expect(Object.values(await keyStatuses(stack.direct, user.userName))).toEqual(['Inactive', 'Inactive']);
    const followUp = done.actions.find((a) => a.target.id === addedKeyId);
    expect(followUp).toMatchObject({ kind: 'iam.deactivateAccessKey', status: 'VERIFIED', observed: { status: 'Inactive' } });
    // Both plans are on the record: the first, and the grown one with the follow-up.
    const planned = done.evidence.filter((e) => e.type === 'PLANNED');
    expect(planned).toHaveLength(2);
    const decided = done.evidence.filter((e) => e.type === 'DECIDED').map((e) => e.data?.intent);
    expect(decided).toEqual(expect.arrayContaining(['follow-up', 'held']));
    expect(done.evidence.filter((e) => e.type === 'APPROVAL_REQUESTED'), 'no second approval').toHaveLength(1);
    expect(stack.cli(['evidence', 'verify', started.changeId]).code).toBe(0);
  });

  /**
   * A dev termination whose key write is held 6 s; meanwhile the user becomes prod and gains a key:
   * new work that needs an approval this change never had. Returns once the change asks for it.
   */
  async function driftDuringTheWrite(): Promise<{ changeId: string; firstKey: string; added: string; userName: string; waiting: ShowDoc }> {
    const owner = ownerEmail();
    const user = await createGovernedUser(stack.direct, { owner, env: 'dev', keys: 1 });
    await stack.fault({ service: 'iam', action: 'UpdateAccessKey', mode: 'delay', ms: 6000, times: 1 });
    try {
      const { changeId } = stack.json<{ changeId: string }>(['event', eventFile(stack.stateDir, terminationEvent(owner))]);
      for (let i = 0; i < 100 && !['APPLYING', 'VERIFYING'].includes(stack.json<ShowDoc>(['show', changeId]).status); i += 1) await new Promise((r) => setTimeout(r, 100));
      await stack.direct.iam.send(new TagUserCommand({ UserName: user.userName, Tags: [{ Key: 'env', Value: 'prod' }] }));
      const added = (await stack.direct.iam.send(new CreateAccessKeyCommand({ UserName: user.userName }))).AccessKey?.AccessKeyId ?? '';
      const waiting = stack.json<ShowDoc>(['wait', changeId, '--timeout', '120']);
      return { changeId, firstKey: user.keyIds[0] ?? '', added, userName: user.userName, waiting };
    } finally {
      await stack.clearFaults();
    }
  }

  /** The one approval email of the change to `approver` so far. */
  async function approvalMail(changeId: string, approver: string): Promise<SentMail> {
    const mails = (await sentMail(stack)).filter((m) => m.body.includes(changeId) && m.destinations.ToAddresses?.includes(approver));
    expect(mails).toHaveLength(1);
    return mails[0] as SentMail;
  }

  it('new work the decision does not cover: a follow-up approval of the new actions alone, approved through its link, applied, verified; both plans and the follow-up decision on the record', async () => {
    const { changeId, firstKey, added, userName, waiting } = await driftDuringTheWrite();
    expect(waiting.status).toBe('AWAITING_APPROVAL');
    expect(waiting.actions.find((a) => a.target.id === firstKey)?.status).toBe('VERIFIED');
    expect((await keyStatuses(stack.direct, userName))[added]).toBe('Active');
    const followUpAction = waiting.actions.find((a) => a.target.id === added);
    expect(followUpAction?.kind).toBe('iam.deactivateAccessKey');

    // The email says it follows an earlier decision and lists only the new action.
    const mail = await approvalMail(changeId, APPROVER);
    expect(mail.subject).toContain('Follow-up approval needed');
    expect(mail.body).toContain('Follow-up of an earlier decision');
    expect(mail.body).toContain(added);
    expect(mail.body).not.toContain(firstKey);
    const url = linksIn(mail.body)[0] ?? '';
    const page = await (await fetch(url)).text();
    expect(page).toContain('Approve follow-up of a change');
    expect(page).toContain(added);
    expect(page).not.toContain(firstKey);

    const reply = await postDecision(stack, linkFromUrl(url), 'approve', 'the new key goes too');
    expect(reply.status, JSON.stringify(reply.body)).toBe(200);
    const done = stack.json<ShowDoc & { reasonCodes: string[] }>(['wait', changeId, '--timeout', '120']);
    expect(done.status).toBe('VERIFIED');
    expect(done.reasonCodes ?? []).not.toContain('INTENT_NOT_HELD');
    expect(await keyStatuses(stack.direct, userName)).toEqual({ [firstKey]: 'Inactive', [added]: 'Inactive' });
    expect(done.actions.find((a) => a.target.id === added)).toMatchObject({ status: 'VERIFIED', observed: { status: 'Inactive' } });

    // Both plans, the follow-up's request and approval naming the grown plan and its round.
    const planned = done.evidence.filter((e) => e.type === 'PLANNED');
    expect(planned).toHaveLength(2);
    const grownHash = planned[1]?.data?.planHash;
    expect(planned[1]?.data).toMatchObject({ followUpOf: planned[0]?.data?.planHash, round: 1, coveredBy: 'a new approval' });
    const requested = done.evidence.filter((e) => e.type === 'APPROVAL_REQUESTED');
    expect(requested).toHaveLength(1);
    expect(requested[0]?.data).toMatchObject({ planHash: grownHash, followUp: { round: 1, of: planned[0]?.data?.planHash }, approvers: expect.arrayContaining([APPROVER]) });
    const approved = done.evidence.filter((e) => e.type === 'APPROVED');
    expect(approved).toHaveLength(1);
    expect(approved[0]?.data).toMatchObject({ approver: APPROVER, channel: 'email', planHash: grownHash, followUp: { round: 1 } });
    // Both decisions: the first round's (no approval needed for a dev user), then the follow-up's approval.
    const decisions = done.evidence.filter((e) => (e.type === 'DECIDED' && e.data?.decision !== undefined && e.data?.intent === undefined) || e.type === 'APPROVED');
    expect(decisions.map((e) => [e.type, e.data?.decision, e.data?.approvalRequired ?? null])).toEqual([['DECIDED', 'APPLY', false], ['APPROVED', 'approve', null]]);
    const decided = done.evidence.filter((e) => e.type === 'DECIDED' && e.data?.intent !== undefined);
    expect(decided.map((e) => [e.data?.intent, e.data?.coveredBy ?? null])).toEqual([['follow-up', 'a new approval'], ['held', null]]);
    expect(stack.cli(['evidence', 'verify', changeId]).code).toBe(0);
  });

  it('new work the decision does not cover, its follow-up approval rejected: ESCALATED with INTENT_NOT_HELD naming the drift; the new key left Active, the first round kept', async () => {
    const { changeId, firstKey, added, userName, waiting } = await driftDuringTheWrite();
    expect(waiting.status).toBe('AWAITING_APPROVAL');
    const url = linksIn((await approvalMail(changeId, SECOPS)).body)[0] ?? '';
    const reply = await postDecision(stack, linkFromUrl(url), 'reject', 'not without the owner');
    expect(reply.status, JSON.stringify(reply.body)).toBe(200);
    const done = stack.json<ShowDoc & { reasonCodes: string[] }>(['wait', changeId, '--timeout', '120']);
    expect(done.status).toBe('ESCALATED');
    expect(done.reasonCodes).toEqual(expect.arrayContaining(['INTENT_NOT_HELD', 'APPROVAL_REJECTED']));
    expect(await keyStatuses(stack.direct, userName)).toEqual({ [firstKey]: 'Inactive', [added]: 'Active' });
    expect(done.actions.find((a) => a.target.id === firstKey)?.status).toBe('VERIFIED');
    expect(done.actions.find((a) => a.target.id === added)?.status).not.toBe('VERIFIED');
    const notHeld = done.evidence.find((e) => e.type === 'DECIDED' && e.data?.intent === 'not held');
    expect(String(notHeld?.data?.message)).toContain(added);
    expect(String(notHeld?.data?.message)).toContain('rejected');
    expect(notHeld?.data).toMatchObject({ covered: false, refusal: 'APPROVAL_REJECTED', round: 1 });
    expect(done.evidence.filter((e) => e.type === 'REJECTED')[0]?.data).toMatchObject({ approver: SECOPS, followUp: { round: 1 } });
    expect(done.evidence.some((e) => e.type === 'ROLLED_BACK')).toBe(false);
    expect(stack.cli(['evidence', 'verify', changeId]).code).toBe(0);
  });

  it('refuses a malformed event with exit 2 and INPUT_INVALID, and starts nothing', async () => {
    const before = stack.json<unknown[]>(['changes']).length;
    const bad = stack.cli(['event', '-', '--json'], JSON.stringify({ source: 'hr.system', 'detail-type': 'Employee Terminated', detail: { email: 'not-an-email' } }));
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('INPUT_INVALID');
    expect(bad.stdout).toBe('');
    const unknown = stack.cli(['event', '-'], JSON.stringify({ source: 'hr.system', 'detail-type': 'Employee Hired', detail: {} }));
    expect(unknown.code).toBe(2);
    const notJson = stack.cli(['event', '-'], '{nope');
    expect(notJson.code).toBe(2);
    expect(stack.json<unknown[]>(['changes']).length).toBe(before);
  });

  it('starts one change for a duplicate event', async () => {
    const owner = ownerEmail();
    await createGovernedUser(stack.direct, { owner, keys: 1 });
    const event = terminationEvent(owner);
    const first = stack.json<{ changeId: string }>(['event', eventFile(stack.stateDir, event)]);
    const second = stack.json<{ changeId: string }>(['event', eventFile(stack.stateDir, event)]);
    expect(second.changeId).toBe(first.changeId);
    const done = stack.json<ShowDoc>(['wait', first.changeId, '--timeout', '90']);
    expect(done.status).toBe('VERIFIED');
    expect(done.evidence.filter((e) => e.type === 'TRIGGERED')).toHaveLength(1);
    expect(stack.json<Array<{ changeId: string }>>(['changes']).filter((c) => c.changeId === first.changeId)).toHaveLength(1);
  });

  it('ends NO_CHANGES when the owner has nothing to revoke', async () => {
    const started = stack.json<{ changeId: string }>(['event', eventFile(stack.stateDir, terminationEvent(ownerEmail('nobody')))]);
    expect(stack.json<ShowDoc>(['wait', started.changeId, '--timeout', '60']).status).toBe('NO_CHANGES');
  });

  it('a change approved once asks again for new work a stricter rule covers: a second request of its own (its own id, two approvers), the first request\'s link refused', async () => {
    activatePolicyVariant(stack, 'critical-two-person', (policy) => {
      policy.approval.rules = [{ name: 'critical-two-person', match: { tags: { tier: 'critical' } }, group: policy.approval.group, minApprovers: 2 }];
    });
    const owner = ownerEmail();
    const user = await createGovernedUser(stack.direct, { owner, env: 'prod', keys: 1 });
    const { changeId } = stack.json<{ changeId: string }>(['event', eventFile(stack.stateDir, terminationEvent(owner))]);
    expect(stack.json<ShowDoc>(['wait', changeId, '--timeout', '90']).status).toBe('AWAITING_APPROVAL');
    const firstLink = linkFromUrl(linksIn((await approvalMail(changeId, APPROVER)).body)[0] ?? '');
    await stack.fault({ service: 'iam', action: 'UpdateAccessKey', mode: 'delay', ms: 6000, times: 1 });
    let added = '';
    try {
      expect(stack.cli(['approve', changeId, '--as', APPROVER]).code).toBe(0);
      // During the held write the user becomes critical and gains a key: the rule needs two approvers, the change had one.
      await stack.direct.iam.send(new TagUserCommand({ UserName: user.userName, Tags: [{ Key: 'tier', Value: 'critical' }] }));
      added = (await stack.direct.iam.send(new CreateAccessKeyCommand({ UserName: user.userName }))).AccessKey?.AccessKeyId ?? '';
      const waiting = stack.json<ShowDoc & { approval: { approvalId: string; followUp?: { round: number } } }>(['wait', changeId, '--timeout', '120']);
      expect(waiting.status).toBe('AWAITING_APPROVAL');
      expect(waiting.approval.followUp?.round).toBe(1);
      expect(waiting.approval.approvalId).not.toBe(firstLink.approvalId);
    } finally {
      await stack.clearFaults();
    }
    // The first request's link decides nothing now.
    expect((await postDecision(stack, firstLink, 'approve')).status).toBe(409);
    const one = stack.json<{ ok: boolean; stillNeeded?: number }>(['approve', changeId, '--as', APPROVER]);
    expect(one).toMatchObject({ ok: true, stillNeeded: 1 });
    expect(stack.cli(['approve', changeId, '--as', SECOPS]).code).toBe(0);
    const done = stack.json<ShowDoc & { reasonCodes: string[] }>(['wait', changeId, '--timeout', '120']);
    expect(done.status).toBe('VERIFIED');
    expect((await keyStatuses(stack.direct, user.userName))[added]).toBe('Inactive');
    const requested = done.evidence.filter((e) => e.type === 'APPROVAL_REQUESTED');
    expect(requested).toHaveLength(2);
    expect(new Set(requested.map((e) => e.data?.approvalRef)).size).toBe(2);
    expect(requested[1]?.data).toMatchObject({ followUp: { round: 1 }, stillNeeded: 2, rules: expect.arrayContaining([expect.objectContaining({ name: 'critical-two-person', minApprovers: 2 })]) });
    expect(done.evidence.filter((e) => e.type === 'APPROVED').map((e) => [e.data?.approver, (e.data?.followUp as { round?: number } | undefined)?.round ?? 0])).toEqual([[APPROVER, 0], [APPROVER, 1], [SECOPS, 1]]);
    expect(stack.cli(['evidence', 'verify', changeId]).code).toBe(0);
  });

  // Last: it activates a policy with a short approval timeout for the rest of this stack.
  it('new work the decision does not cover, its follow-up approval never decided: ESCALATED with INTENT_NOT_HELD and APPROVAL_TIMEOUT, the new key left Active', async () => {
    activatePolicyVariant(stack, 'short-follow-up-approval', (policy) => {
      policy.approval.timeoutSeconds = 4;
    });
    const { changeId, firstKey, added, userName } = await driftDuringTheWrite();
    // `wait` stops at an open approval: poll the change until it ends.
    const ended = await waitForStatus(stack, changeId, 'ESCALATED', 60_000);
    expect(ended.reasonCodes).toEqual(expect.arrayContaining(['INTENT_NOT_HELD', 'APPROVAL_TIMEOUT']));
    expect(await keyStatuses(stack.direct, userName)).toEqual({ [firstKey]: 'Inactive', [added]: 'Active' });
    const notHeld = ended.evidence.find((e) => e.type === 'DECIDED' && e.data?.intent === 'not held');
    expect(notHeld?.data).toMatchObject({ refusal: 'APPROVAL_TIMEOUT', round: 1 });
    expect(String(notHeld?.data?.message)).toContain(added);
    expect(stack.cli(['evidence', 'verify', changeId]).code).toBe(0);
  });
});

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CreateAccessKeyCommand, GetUserPolicyCommand, TagUserCommand } from '@aws-sdk/client-iam';
import { startTestStack, type TestStack } from '../support/local-stack.js';
import { createGovernedUser, eventFile, keyStatuses, ownerEmail, terminationEvent } from '../support/estate.js';
import { addEveryCredential, credentialStates } from '../support/credentials.js';

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

  it('the intent does not hold: work found after apply that the change was not approved for ends ESCALATED (INTENT_NOT_HELD), the drift named, nothing written for it', async () => {
    const owner = ownerEmail();
    const user = await createGovernedUser(stack.direct, { owner, env: 'dev', keys: 1 });
    // The key write is held 6 s; meanwhile the NHI becomes prod and gains a key: new work that needs an approval this change never had.
    await stack.fault({ service: 'iam', action: 'UpdateAccessKey', mode: 'delay', ms: 6000, times: 1 });
    try {
      const started = stack.json<{ changeId: string }>(['event', eventFile(stack.stateDir, terminationEvent(owner))]);
      for (let i = 0; i < 100 && !['APPLYING', 'VERIFYING'].includes(stack.json<ShowDoc>(['show', started.changeId]).status); i += 1) await new Promise((r) => setTimeout(r, 100));
      await stack.direct.iam.send(new TagUserCommand({ UserName: user.userName, Tags: [{ Key: 'env', Value: 'prod' }] }));
      const added = (await stack.direct.iam.send(new CreateAccessKeyCommand({ UserName: user.userName }))).AccessKey?.AccessKeyId ?? '';
      const done = stack.json<ShowDoc & { reasonCodes: string[] }>(['wait', started.changeId, '--timeout', '120']);
      expect(done.status).toBe('ESCALATED');
      expect(done.reasonCodes).toContain('INTENT_NOT_HELD');
      expect(done.actions.every((a) => a.status === 'VERIFIED' && a.target.id !== added)).toBe(true);
      expect((await keyStatuses(stack.direct, user.userName))[added]).toBe('Active');
      const notHeld = done.evidence.find((e) => e.type === 'DECIDED' && e.data?.intent === 'not held');
      expect(String(notHeld?.data?.message)).toContain(added);
      expect(notHeld?.data?.covered).toBe(false);
      expect(stack.cli(['evidence', 'verify', started.changeId]).code).toBe(0);
    } finally {
      await stack.clearFaults();
    }
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
});

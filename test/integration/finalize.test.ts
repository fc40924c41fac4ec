import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import { CreateLoginProfileCommand, UpdateAccessKeyCommand } from '@aws-sdk/client-iam';
import { credentialStates } from '../support/credentials.js';
import { startTestStack, type TestStack } from '../support/local-stack.js';
import { createGovernedUser, eventFile, keyStatuses, ownerEmail, terminationEvent } from '../support/estate.js';

const APPROVER = 'approver@example.com';
const DAY_MS = 24 * 3600 * 1000;

interface ShowDoc {
  changeId: string;
  status: string;
  reasonCodes: string[];
  actions: Array<{ actionId: string; kind: string; target: { type: string; id: string }; status: string; observed: Record<string, unknown> | null }>;
  evidence: Array<{ type: string; seq: number; actor: string; actionId?: string; reasonCode?: string; data: Record<string, unknown> }>;
}

describe('finalize: keys deactivated and console passwords contained past the grace period are deleted, verified gone', () => {
  let stack: TestStack;
  beforeAll(async () => {
    stack = await startTestStack();
  });
  afterAll(() => stack?.stop());

  async function verifiedTermination(options: { consolePassword?: boolean } = {}) {
    const owner = ownerEmail();
    const user = await createGovernedUser(stack.direct, { owner, env: 'dev', keys: 2 });
    if (options.consolePassword) await stack.direct.iam.send(new CreateLoginProfileCommand({ UserName: user.userName, Password: `Pw-${randomUUID()}` }));
    const { changeId } = stack.json<{ changeId: string }>(['event', eventFile(stack.stateDir, terminationEvent(owner))]);
    expect(stack.json<ShowDoc>(['wait', changeId, '--timeout', '90']).status).toBe('VERIFIED');
    return { ...user, changeId };
  }

  function finalize(asOf?: string): ShowDoc {
    const started = stack.json<{ changeId: string; asOf: string | null }>(['finalize', ...(asOf ? ['--as-of', asOf] : [])]);
    expect(started.changeId).toMatch(/^fin-[0-9a-f]{24}$/);
    return stack.json<ShowDoc>(['wait', started.changeId, '--timeout', '120']);
  }

  // Three terminations, a rollback and three finalize runs, each step through the CLI: a longer budget.
  it('deletes what is due, and leaves rolled-back and reactivated keys alone', async () => {
    // A: a plain verified termination of a user with a console password too (contained by the change).
    const a = await verifiedTermination({ consolePassword: true });
    // B: rolled back after approval; then one key is deactivated again by hand (not by a change).
    const b = await verifiedTermination();
    const rollback = stack.json<{ changeId: string }>(['rollback', b.changeId, '--as', 'requester@example.com']);
    expect(stack.json<ShowDoc>(['wait', rollback.changeId, '--timeout', '60']).status).toBe('AWAITING_APPROVAL');
    stack.json(['approve', rollback.changeId, '--as', APPROVER]);
    expect(stack.json<ShowDoc>(['wait', rollback.changeId, '--timeout', '90']).status).toBe('ROLLED_BACK');
    await stack.direct.iam.send(new UpdateAccessKeyCommand({ UserName: b.userName, AccessKeyId: b.keyIds[0], Status: 'Inactive' }));
    // C: one key reactivated out of band.
    const c = await verifiedTermination();
    const [cReactivated, cStaged] = c.keyIds as [string, string];
    await stack.direct.iam.send(new UpdateAccessKeyCommand({ UserName: c.userName, AccessKeyId: cReactivated, Status: 'Active' }));

    // Now: still in the grace period, nothing is deleted.
    const early = finalize();
    expect(early.status).toBe('NO_CHANGES');
    expect(Object.keys(await keyStatuses(stack.direct, a.userName))).toHaveLength(2);

    // 31 days on: past the 30-day grace period of the default policy.
    const run = finalize(new Date(Date.now() + 31 * DAY_MS).toISOString());
    expect(run.status).toBe('VERIFIED');
    const deleted = run.actions.map((x) => x.target.id).sort();
    expect(deleted).toEqual([...a.keyIds, cStaged, a.userName].sort());
    const keyDeletions = run.actions.filter((x) => x.kind === 'iam.deleteAccessKey');
    expect(keyDeletions).toHaveLength(3);
    expect(keyDeletions.every((x) => x.status === 'VERIFIED' && x.observed?.status === 'Absent')).toBe(true);
    expect(run.actions.find((x) => x.kind === 'iam.deleteLoginProfile')).toMatchObject({ target: { id: a.userName }, status: 'VERIFIED', observed: { loginProfile: false } });
    expect((await credentialStates(stack.direct, a.userName)).loginProfile, 'login profile read back: gone').toBe(false);

    // Judged by reading IAM back: ListAccessKeys no longer shows A's keys nor C's staged key.
    expect(await keyStatuses(stack.direct, a.userName)).toEqual({});
    expect(await keyStatuses(stack.direct, b.userName)).toEqual({ [b.keyIds[0] as string]: 'Inactive', [b.keyIds[1] as string]: 'Active' });
    expect(await keyStatuses(stack.direct, c.userName)).toEqual({ [cReactivated]: 'Active' });

    // The run says why it skipped what it skipped.
    const skips = run.evidence.filter((e) => e.type === 'DECIDED' && e.data.finalize === 'skipped');
    expect(skips.find((e) => e.data.accessKeyId === cReactivated)).toMatchObject({ reasonCode: 'PLAN_STALE', data: { reason: 'reactivated', originalChangeId: c.changeId } });
    expect(skips.filter((e) => e.data.reason === 'rolled-back').map((e) => e.data.accessKeyId).sort()).toEqual([...b.keyIds].sort());
    expect(run.evidence.find((e) => e.type === 'DECIDED' && e.data.decision === 'APPLY')?.data).toMatchObject({ approvalRequired: false });

    // Evidence links both ways: FINALIZED on the run and on the change that deactivated each key.
    const runLinks = run.evidence.filter((e) => e.type === 'FINALIZED');
    expect(runLinks.map((e) => e.data.originalChangeId).sort()).toEqual([a.changeId, a.changeId, a.changeId, c.changeId].sort());
    const original = stack.json<ShowDoc>(['show', a.changeId]);
    const links = original.evidence.filter((e) => e.type === 'FINALIZED');
    expect(links.map((e) => e.data.finalizeChangeId)).toEqual([run.changeId, run.changeId, run.changeId]);
    expect(links.flatMap((e) => (e.data.accessKeyId ? [e.data.accessKeyId] : [])).sort()).toEqual([...a.keyIds].sort());
    expect(links.filter((e) => e.data.loginProfileOf === a.userName)).toHaveLength(1);
    expect(original.evidence.at(-1)?.type).toBe('FINALIZED');
    expect(stack.cli(['evidence', 'verify', a.changeId]).code).toBe(0);
    expect(stack.cli(['evidence', 'verify', run.changeId]).code).toBe(0);

    // A later rollback of A can only undo what is still reversible: the session deny, not the deleted keys nor the console password.
    const rollbackA = stack.json<{ changeId: string }>(['rollback', a.changeId, '--as', 'requester@example.com']);
    const planned = stack.json<ShowDoc>(['wait', rollbackA.changeId, '--timeout', '60']);
    expect(planned.status).toBe('AWAITING_APPROVAL');
    expect(planned.actions.map((x) => x.kind)).toEqual(['iam.deleteSessionRevocationDeny']);
    // A second run has nothing left to delete.
    expect(finalize(new Date(Date.now() + 31 * DAY_MS).toISOString()).status).toBe('NO_CHANGES');
  }, 360_000);

  it('refuses a malformed --as-of', () => {
    const bad = stack.cli(['finalize', '--as-of', 'next tuesday']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--as-of');
  });
});

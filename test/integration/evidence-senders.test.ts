/**
 * The insider who holds a function's send right on the evidence queue, or the account's own
 * keys: they hand a forged VERIFIED / COMPLETED draft to the evidence writer for a change that
 * ended. The writer knows each sender by the role SQS names in the message (SenderId) and accepts
 * from it only the types that function records: neither draft is on the chain, both end in the
 * evidence dead-letter queue, and the change still verifies.
 */
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ReceiveMessageCommand, SendMessageCommand, type Message, type SQSClient } from '@aws-sdk/client-sqs';
import type { ShowDocument } from '../../cli/lib/changes.js';
import type { StackContext } from '../../cli/lib/context.js';
import type { VerifyDocument } from '../../cli/lib/evidence-verify.js';
import type { EvidenceHandover } from '../../lambdas/domain/evidence-handover.js';
import { EVIDENCE_QUEUE } from '../../infra/resources.js';
import { LOCAL_ACCOUNT_ID } from '../../local/aws-clients.js';
import { createGovernedUser, ownerEmail, runTermination } from '../support/estate.js';
import { asFunction } from '../support/function-roles.js';
import { startTestStack, type TestStack } from '../support/local-stack.js';

describe('an insider hands the evidence writer a forged draft', () => {
  let stack: TestStack;
  let ctx: StackContext;
  let finished: ShowDocument;
  let approvalApiRoleId: string;
  const forged = { verified: randomUUID(), completed: randomUUID() };
  let sentAt: number;

  /** The draft the workflow would hand over at the end of the change, as the insider writes it. */
  const forgery = (draftId: string, type: 'VERIFIED' | 'COMPLETED'): EvidenceHandover => ({
    draftId,
    draft: { changeId: finished.changeId, type, actor: 'nhigov:automation', policyVersion: finished.policyVersion ?? 'none', ...(type === 'VERIFIED' ? { actionId: 'a1' } : {}), data: { forged: true } },
  });
  const send = (sqs: SQSClient, handover: EvidenceHandover) =>
    sqs.send(new SendMessageCommand({ QueueUrl: stack.outputs.queues.evidence, MessageBody: JSON.stringify(handover), MessageGroupId: handover.draft.changeId, MessageDeduplicationId: handover.draftId }));
  const refusals = () =>
    readFileSync(path.join(stack.stateDir, 'gateway.log'), 'utf8')
      .split('\n')
      .filter((line) => line.includes('evidence draft refused'))
      .map((line) => JSON.parse(line.slice(line.indexOf('{'))) as { refusal: string; senderId: string; sender?: string; reason: string });

  beforeAll(async () => {
    stack = await startTestStack();
    ctx = await stack.context();
    const owner = ownerEmail();
    await createGovernedUser(stack.direct, { owner, keys: 1 });
    finished = await runTermination(ctx, owner);
    if (finished.status !== 'VERIFIED') throw new Error(`change ${finished.changeId} ended ${finished.status}`);

    // The approval API's role, as the insider finds it, and a session of it (as Lambda would take one).
    const approvalApi = await asFunction(stack, 'approval-api');
    approvalApiRoleId = approvalApi.roleId;
    const asApprovalApi = approvalApi.sqs;
    sentAt = Date.now();
    await send(asApprovalApi, forgery(forged.verified, 'VERIFIED'));
    await send(stack.clients.sqs, forgery(forged.completed, 'COMPLETED'));
  });
  afterAll(() => stack?.stop());

  it('the writer refuses both, naming the sender SQS saw: the approval API (may not hand over VERIFIED), the account root (no sending function)', async () => {
    for (let waited = 0; refusals().length < 2 && waited < 30_000; waited += 250) await sleep(250);
    const seen = refusals();
    expect(seen).toContainEqual(expect.objectContaining({ refusal: 'TYPE_NOT_ALLOWED', sender: 'approval-api', senderId: `${approvalApiRoleId}:nhigov-approval-api` }));
    expect(seen).toContainEqual(expect.objectContaining({ refusal: 'SENDER_UNKNOWN', senderId: LOCAL_ACCOUNT_ID }));
    expect(approvalApiRoleId).toMatch(/^AROA/);
  });

  it('a normal termination still reaches VERIFIED after the forged drafts', async () => {
    const owner = ownerEmail();
    await createGovernedUser(stack.direct, { owner, keys: 1 });
    const done = await runTermination(ctx, owner);
    expect(done.status).toBe('VERIFIED');
    expect(done.evidence.map((e) => e.type)).toContain('VERIFIED');
  });

  it(`after ${EVIDENCE_QUEUE.maxReceives} deliveries both are in the evidence dead-letter queue, with their senders`, async () => {
    const dead = new Map<string, Message>();
    // The writer releases a refused draft at once (visibility 0): its deliveries do not wait out the queue's 60 s visibility timeout each.
    while (dead.size < 2 && Date.now() - sentAt < 60_000) {
      const out = await stack.direct.sqs.send(new ReceiveMessageCommand({ QueueUrl: stack.outputs.queues.evidenceDlq, MaxNumberOfMessages: 10, VisibilityTimeout: 0, MessageSystemAttributeNames: ['All'] }));
      for (const message of out.Messages ?? []) {
        const { draftId } = JSON.parse(message.Body ?? '{}') as { draftId?: string };
        if (draftId === forged.verified || draftId === forged.completed) dead.set(draftId, message);
      }
      if (dead.size < 2) await sleep(1000);
    }
    const deadAfterS = (Date.now() - sentAt) / 1000;
    console.info(`forged drafts dead-lettered ${deadAfterS.toFixed(1)} s after they were sent (${EVIDENCE_QUEUE.maxReceives} deliveries, queue visibility 60 s)`);
    expect(deadAfterS).toBeLessThan(60);
    expect(dead.get(forged.verified)?.Attributes).toMatchObject({ SenderId: `${approvalApiRoleId}:nhigov-approval-api`, ApproximateReceiveCount: expect.any(String) });
    expect(dead.get(forged.completed)?.Attributes).toMatchObject({ SenderId: LOCAL_ACCOUNT_ID });
    expect(refusals().filter((r) => r.reason.includes(forged.verified)).length).toBe(EVIDENCE_QUEUE.maxReceives);
  });

  it('neither is on the chain, and `evidence verify` passes the change', () => {
    const shown = stack.json<ShowDocument>(['show', finished.changeId]);
    expect(shown.evidence.map((e) => [e.seq, e.hash])).toEqual(finished.evidence.map((e) => [e.seq, e.hash]));
    expect(shown.evidence.some((e) => JSON.stringify(e.data).includes('forged'))).toBe(false);
    const verify = stack.cli(['evidence', 'verify', finished.changeId, '--json']);
    expect(verify.code, verify.stderr).toBe(0);
    expect((JSON.parse(verify.stdout) as VerifyDocument).results.find((r) => r.changeId === finished.changeId)).toMatchObject({ ok: true });
  });
});

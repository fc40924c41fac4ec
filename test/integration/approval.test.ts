import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestStack, type TestStack } from '../support/local-stack.js';
import { createGovernedUser, eventFile, keyStatuses, ownerEmail, terminationEvent } from '../support/estate.js';
import {
  APPROVER,
  approvalRecord,
  hasSessionDeny,
  linkFromUrl,
  linksIn,
  mintLink,
  postDecision,
  SECOPS,
  sentMail,
  show,
  SLACK_USER_IDS,
  slackMessages,
  waitForStatus,
} from '../support/approvals.js';

/** A prod NHI's termination: the default policy asks for approval before anything is written. */
async function prodTermination(stack: TestStack, owner = ownerEmail(), keys = 2) {
  const user = await createGovernedUser(stack.direct, { owner, env: 'prod', keys });
  const { changeId } = stack.json<{ changeId: string }>(['event', eventFile(stack.stateDir, terminationEvent(owner))]);
  const waiting = stack.json<ReturnType<typeof show>>(['wait', changeId, '--timeout', '90']);
  return { user, changeId, waiting };
}

async function nothingWritten(stack: TestStack, userName: string): Promise<void> {
  expect(Object.values(await keyStatuses(stack.direct, userName)).every((s) => s === 'Active')).toBe(true);
  expect(await hasSessionDeny(stack, userName)).toBe(false);
}

describe('approvals: prod changes wait for a person, decided through signed links', () => {
  let stack: TestStack;
  beforeAll(async () => {
    stack = await startTestStack();
  });
  afterAll(() => stack?.stop());

  it('a prod termination awaits approval with nothing written; approve → VERIFIED, read back from IAM', async () => {
    const { user, changeId, waiting } = await prodTermination(stack);
    expect(waiting.status).toBe('AWAITING_APPROVAL');
    expect(waiting.approval).toMatchObject({ status: 'PENDING', afterTheFact: false, approvers: [APPROVER, SECOPS] });
    expect(waiting.evidence.map((e) => e.type)).toContain('APPROVAL_REQUESTED');
    expect(waiting.evidence.map((e) => e.type)).not.toContain('WRITE_ATTEMPTED');
    await nothingWritten(stack, user.userName);

    const approved = stack.cli(['approve', changeId, '--as', APPROVER, '--comment', 'offboarding ticket HR-1']);
    expect(approved.code, approved.stderr).toBe(0);
    const done = stack.json<ReturnType<typeof show>>(['wait', changeId, '--timeout', '90']);
    expect(done.status).toBe('VERIFIED');
    expect(Object.values(await keyStatuses(stack.direct, user.userName))).toEqual(['Inactive', 'Inactive']);
    expect(await hasSessionDeny(stack, user.userName)).toBe(true);

    const types = done.evidence.map((e) => e.type);
    const decision = done.evidence.find((e) => e.type === 'APPROVED');
    expect(decision).toMatchObject({ actor: APPROVER, data: { approver: APPROVER, channel: 'cli', comment: 'offboarding ticket HR-1', decision: 'approve' } });
    expect(typeof decision?.data.decidedAt).toBe('string');
    expect(types.indexOf('APPROVED')).toBeLessThan(types.indexOf('WRITE_ATTEMPTED'));
    expect(done.approval).toMatchObject({ status: 'APPROVED', decidedBy: APPROVER, channel: 'cli' });
    expect(stack.cli(['evidence', 'verify', changeId]).code).toBe(0);
  });

  it('reject → REJECTED (APPROVAL_REJECTED) with nothing written', async () => {
    const { user, changeId } = await prodTermination(stack);
    const rejected = stack.cli(['approve', changeId, '--as', SECOPS, '--reject', '--comment', 'wrong person']);
    expect(rejected.code, rejected.stderr).toBe(0);
    const done = await waitForStatus(stack, changeId, 'REJECTED');
    expect(done.reasonCodes).toContain('APPROVAL_REJECTED');
    await nothingWritten(stack, user.userName);
    const types = done.evidence.map((e) => e.type);
    expect(types).not.toContain('WRITE_ATTEMPTED');
    expect(done.evidence.find((e) => e.type === 'REJECTED')).toMatchObject({ actor: SECOPS, reasonCode: 'APPROVAL_REJECTED', data: { channel: 'cli', comment: 'wrong person' } });
    expect(types.at(-1)).toBe('COMPLETED');
    expect(stack.cli(['evidence', 'verify', changeId]).code).toBe(0);
  });

  it('refuses bad signatures (403), expired links (410), outsiders and self-approval (403 with the reason code), reuse (409); GET never decides', async () => {
    // approver@example.com owns this NHI (and is the person leaving): only secops may decide.
    const { user, changeId } = await prodTermination(stack, APPROVER, 1);
    const { approvalId } = show(stack, changeId).approval ?? { approvalId: '' };
    const record = await approvalRecord(stack, changeId);
    const valid = await mintLink(stack, { approvalId, approver: SECOPS, exp: record.exp });

    const page = await fetch(`${stack.endpoint}/approvals/${approvalId}?approver=${encodeURIComponent(SECOPS)}&exp=${valid.exp}&via=web&sig=${valid.sig}`);
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(html).toContain(user.keyIds[0]);
    expect(html).toContain('value="approve"');
    expect(html).toContain('Policy version');
    expect(page.headers.get('cache-control')).toBe('no-store');
    expect(page.headers.get('referrer-policy')).toBe('no-referrer');
    expect((await approvalRecord(stack, changeId)).status).toBe('PENDING');
    expect(show(stack, changeId).status).toBe('AWAITING_APPROVAL');

    const forged = await postDecision(stack, { ...valid, sig: valid.sig.replace(/^./, (c) => (c === 'A' ? 'B' : 'A')) }, 'approve');
    expect(forged).toMatchObject({ status: 403, body: { reason: 'LINK_SIGNATURE_INVALID' } });
    const stretched = await postDecision(stack, { ...valid, exp: valid.exp + 3600 }, 'approve');
    expect(stretched.status).toBe(403);
    const expired = await postDecision(stack, await mintLink(stack, { approvalId, approver: SECOPS, exp: Math.floor(Date.now() / 1000) - 5 }), 'approve');
    expect(expired).toMatchObject({ status: 410, body: { reason: 'LINK_EXPIRED' } });
    const outsider = await postDecision(stack, await mintLink(stack, { approvalId, approver: 'mallory@example.com', exp: record.exp }), 'approve');
    expect(outsider).toMatchObject({ status: 403, body: { reasonCode: 'APPROVER_NOT_AUTHORIZED' } });
    const owner = await postDecision(stack, await mintLink(stack, { approvalId, approver: APPROVER, exp: record.exp }), 'approve');
    expect(owner).toMatchObject({ status: 403, body: { reasonCode: 'SELF_APPROVAL_FORBIDDEN' } });
    const cliOwner = stack.cli(['approve', changeId, '--as', APPROVER]);
    expect(cliOwner.code).toBe(1);
    expect(cliOwner.stderr).toContain('SELF_APPROVAL_FORBIDDEN');
    const cliOutsider = stack.cli(['approve', changeId, '--as', 'mallory@example.com']);
    expect(cliOutsider.code).toBe(1);
    expect(cliOutsider.stderr).toContain('APPROVER_NOT_AUTHORIZED');

    // Nothing decided, nothing written; every refusal is on the record.
    const still = show(stack, changeId);
    expect(still.status).toBe('AWAITING_APPROVAL');
    await nothingWritten(stack, user.userName);
    // A bad signature proves nothing: a metric and a log line, never evidence.
    const refusals = still.evidence.filter((e) => e.type === 'APPROVAL_REFUSED');
    expect(refusals.map((e) => e.data.refusal)).toEqual([
      'LINK_EXPIRED',
      'APPROVER_NOT_AUTHORIZED',
      'SELF_APPROVAL_FORBIDDEN',
      'SELF_APPROVAL_FORBIDDEN',
      'APPROVER_NOT_AUTHORIZED',
    ]);
    expect(refusals.filter((e) => e.reasonCode).map((e) => e.reasonCode)).toEqual(['APPROVER_NOT_AUTHORIZED', 'SELF_APPROVAL_FORBIDDEN', 'SELF_APPROVAL_FORBIDDEN', 'APPROVER_NOT_AUTHORIZED']);
    expect(refusals.map((e) => e.actor)).not.toContain('unauthenticated');

    // secops decides through the link their Slack direct message carries.
    const slackLink = (await slackMessages(stack)).flatMap((m) => linksIn(JSON.stringify(m.payload))).map(linkFromUrl).find((l) => l.approvalId === approvalId && l.approver === SECOPS);
    expect(slackLink?.channel).toBe('slack');
    const decided = await postDecision(stack, slackLink!, 'approve', 'seen');
    expect(decided).toMatchObject({ status: 200, body: { ok: true, decision: 'APPROVED', approver: SECOPS, channel: 'slack' } });
    const done = await waitForStatus(stack, changeId, 'VERIFIED');
    expect(done.evidence.find((e) => e.type === 'APPROVED')).toMatchObject({ actor: SECOPS, data: { channel: 'slack', comment: 'seen' } });
    expect(Object.values(await keyStatuses(stack.direct, user.userName))).toEqual(['Inactive']);

    // Single use: the same link, or any other, cannot decide again (and the closed chain stays closed).
    expect(await postDecision(stack, slackLink!, 'reject')).toMatchObject({ status: 409, body: { reason: 'ALREADY_DECIDED' } });
    const again = stack.cli(['approve', changeId, '--as', SECOPS, '--reject']);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain('ALREADY_DECIDED');
    expect(show(stack, changeId).evidence.at(-1)?.type).toBe('COMPLETED');
    expect((await approvalRecord(stack, changeId)).lateRefusals).toHaveLength(2);
    expect(stack.cli(['evidence', 'verify', changeId]).code).toBe(0);
  });

  it('emails each eligible approver their own link, DMs it on Slack; the channel message decides nothing; no task token anywhere', async () => {
    const { changeId } = await prodTermination(stack, ownerEmail(), 1);
    const { approvalId } = show(stack, changeId).approval ?? { approvalId: '' };
    const { taskToken } = await approvalRecord(stack, changeId);
    expect(taskToken.length).toBeGreaterThan(10);

    const mails = (await sentMail(stack)).filter((m) => m.body.includes(changeId));
    expect(mails.map((m) => m.destinations.ToAddresses).sort()).toEqual([[APPROVER], [SECOPS]]);
    for (const mail of mails) {
      expect(mail.source).toBe('nhigov-approvals@example.com');
      expect(mail.subject).toContain('Approval needed');
      const links = linksIn(mail.body).map(linkFromUrl);
      expect(links).toHaveLength(1);
      expect(links[0]).toMatchObject({ approvalId, approver: mail.destinations.ToAddresses?.[0], channel: 'email' });
      expect(mail.body).not.toContain(taskToken);
      expect(mail.body).not.toContain(encodeURIComponent(taskToken));
    }
    const slack = (await slackMessages(stack)).filter((m) => JSON.stringify(m).includes(changeId));
    const channel = slack.filter((m) => m.payload.channel === undefined);
    expect(channel).toHaveLength(1);
    expect(linksIn(JSON.stringify(channel[0]))).toEqual([]);
    const direct = slack.filter((m) => m.payload.channel !== undefined);
    expect(direct.map((m) => m.payload.channel).sort()).toEqual([`@${SLACK_USER_IDS[APPROVER]}`, `@${SLACK_USER_IDS[SECOPS]}`]);
    for (const dm of direct) {
      const approver = Object.entries(SLACK_USER_IDS).find(([, id]) => `@${id}` === dm.payload.channel)?.[0];
      expect(linksIn(JSON.stringify(dm.payload)).map(linkFromUrl).map((l) => [l.approver, l.channel])).toEqual([[approver, 'slack']]);
    }
    expect(JSON.stringify(slack)).not.toContain(taskToken);
    // The evidence trail and the change record do not carry the token either.
    expect(JSON.stringify(show(stack, changeId))).not.toContain(taskToken);
    // An email link opens the page for its approver.
    const page = await fetch(linksIn(mails[0]!.body)[0]!);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain(`deciding as <b>${mails[0]!.destinations.ToAddresses?.[0]}</b>`);
  });
});

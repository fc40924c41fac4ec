import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signApprovalLink, type SignedApprovalLink } from '../../lambdas/domain/approval-link.js';
import { EvidenceStore } from '../../lambdas/stores/evidence-store.js';
import { createDocumentClient } from '../../lambdas/stores/dynamo.js';
import { startTestStack, type TestStack } from '../support/local-stack.js';
import { createGovernedUser, eventFile, keyStatuses, ownerEmail, terminationEvent, unique } from '../support/estate.js';
import { APPROVER, approvalRecord, hasSessionDeny, linkFromUrl, linksIn, mintLink, postDecision, SECOPS, sentMail, slackMessages, waitForStatus } from '../support/approvals.js';
import { cliAsync } from './support/cli-async.js';
import { setTimeout as sleep } from 'node:timers/promises';

/**
 * Approval abuse beyond test/integration/approval.test.ts (which covers a flipped signature
 * character, a stretched expiry, an expired link, an outsider, the owner, and reuse of the link
 * that decided): cross-change links, other forgeries, look-alike approvers, the owner through a
 * case variant, replays of every other link after a decision, a decision race, and link scanners.
 */

interface Evidence {
  type: string;
  actor: string;
  reasonCode?: string;
  data: Record<string, unknown>;
}

interface Pending {
  changeId: string;
  approvalId: string;
  userName: string;
  keyIds: string[];
  exp: number;
}

async function evidenceOf(stack: TestStack, changeId: string): Promise<Evidence[]> {
  const store = new EvidenceStore(createDocumentClient(stack.direct.dynamodb), stack.outputs.tables.evidence ?? '');
  return (await store.listByChange(changeId)) as unknown as Evidence[];
}

async function refusalsOf(stack: TestStack, changeId: string): Promise<Evidence[]> {
  return (await evidenceOf(stack, changeId)).filter((e) => e.type === 'APPROVAL_REFUSED');
}

/** A prod NHI's termination, waiting for approval (nothing written yet). */
async function pendingTermination(stack: TestStack): Promise<Pending> {
  const owner = ownerEmail();
  const user = await createGovernedUser(stack.direct, { owner, env: 'prod', keys: 1 });
  const started = await cliAsync(stack, ['event', eventFile(stack.stateDir, terminationEvent(owner)), '--json']);
  if (started.code !== 0) throw new Error(`event: ${started.stderr}`);
  const { changeId } = JSON.parse(started.stdout) as { changeId: string };
  await waitForStatus(stack, changeId, 'AWAITING_APPROVAL');
  const record = await approvalRecord(stack, changeId);
  const approvalId = await approvalIdOf(stack, changeId);
  return { changeId, approvalId, userName: user.userName, keyIds: user.keyIds, exp: record.exp };
}

async function approvalIdOf(stack: TestStack, changeId: string): Promise<string> {
  // The mailed links carry the approval id (the table only holds its sha256).
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    const mail = (await sentMail(stack)).find((m) => m.body.includes(changeId));
    const link = mail ? linksIn(mail.body)[0] : undefined;
    if (link) return linkFromUrl(link).approvalId;
    await sleep(200);
  }
  throw new Error(`no approval mail for ${changeId}`);
}

async function mailedLink(stack: TestStack, changeId: string, approver: string): Promise<SignedApprovalLink> {
  const mail = (await sentMail(stack)).find((m) => m.body.includes(changeId) && m.destinations.ToAddresses?.includes(approver));
  const url = mail ? linksIn(mail.body)[0] : undefined;
  if (!url) throw new Error(`no mailed link for ${approver} on ${changeId}`);
  return linkFromUrl(url);
}

/** The approver's link from their Slack direct message (the channel message carries none). */
async function slackLink(stack: TestStack, changeId: string, approver: string): Promise<SignedApprovalLink> {
  const messages = (await slackMessages(stack)).filter((m) => JSON.stringify(m).includes(changeId));
  const link = messages.flatMap((m) => linksIn(JSON.stringify(m.payload))).map(linkFromUrl).find((l) => l.approver === approver);
  if (!link) throw new Error(`no Slack link for ${approver} on ${changeId}`);
  return link;
}

/** POSTs a link's fields to ANOTHER approval id's path. */
async function postTo(stack: TestStack, approvalId: string, link: SignedApprovalLink, decision: 'approve' | 'reject') {
  return postDecision(stack, { ...link, approvalId }, decision);
}

async function nothingWritten(stack: TestStack, p: Pending): Promise<void> {
  expect(Object.values(await keyStatuses(stack.direct, p.userName))).toEqual(['Active']);
  expect(await hasSessionDeny(stack, p.userName)).toBe(false);
}

function queryOf(link: SignedApprovalLink): string {
  return new URLSearchParams({ approver: link.approver, exp: String(link.exp), via: link.channel, sig: link.sig }).toString();
}

describe('approval abuse: every forged, misdirected, replayed or scanned link is refused (and a genuine link refused is recorded)', () => {
  let stack: TestStack;
  let a: Pending;
  let b: Pending;
  beforeAll(async () => {
    stack = await startTestStack();
    [a, b] = await Promise.all([pendingTermination(stack), pendingTermination(stack)]);
  });
  afterAll(() => stack?.stop());

  it('cross-change: a genuine link for change A does not decide (or even show) change B, and vice versa', async () => {
    const aApprover = await mailedLink(stack, a.changeId, APPROVER);
    const bSecops = await mailedLink(stack, b.changeId, SECOPS);
    expect(aApprover.approvalId).toBe(a.approvalId);

    // A's link on B's path, and B's on A's: the signature covers the approval id.
    expect(await postTo(stack, b.approvalId, aApprover, 'approve')).toMatchObject({ status: 403, body: { reason: 'LINK_SIGNATURE_INVALID', changeId: b.changeId } });
    expect(await postTo(stack, a.approvalId, bSecops, 'reject')).toMatchObject({ status: 403, body: { reason: 'LINK_SIGNATURE_INVALID', changeId: a.changeId } });
    // A link minted (with the real key) for A's id, exp of B: still A's id.
    const minted = await mintLink(stack, { approvalId: a.approvalId, approver: SECOPS, exp: b.exp });
    expect((await postTo(stack, b.approvalId, minted, 'approve')).status).toBe(403);

    // GET B with A's query: refused, and the page does not show B's plan.
    const page = await fetch(`${stack.endpoint}/approvals/${b.approvalId}?${queryOf(aApprover)}`);
    expect(page.status).toBe(403);
    const html = await page.text();
    expect(html).not.toContain(b.userName);
    expect(html).not.toContain(b.keyIds[0]);

    // A bad signature proves nothing: no evidence on either change (a metric and a log line); nothing decided, nothing written.
    expect(await refusalsOf(stack, b.changeId)).toEqual([]);
    expect(await refusalsOf(stack, a.changeId)).toEqual([]);
    for (const p of [a, b]) {
      expect((await approvalRecord(stack, p.changeId)).status).toBe('PENDING');
      await nothingWritten(stack, p);
    }
  });

  it('forgeries: another key, a swapped approver or channel, a missing signature, look-alike approvers, expired-and-outsider', async () => {
    const before = (await refusalsOf(stack, b.changeId)).length;
    const secops = await mailedLink(stack, b.changeId, SECOPS);
    const wrongKey = signApprovalLink(randomBytes(32), { approvalId: b.approvalId, approver: SECOPS, exp: b.exp, channel: 'email' });
    const cases: Array<{ name: string; link: SignedApprovalLink; status: number; refusal: string; reasonCode?: string }> = [
      { name: 'signed with another key', link: wrongKey, status: 403, refusal: 'LINK_SIGNATURE_INVALID' },
      { name: "secops's signature, approver's name", link: { ...secops, approver: APPROVER }, status: 403, refusal: 'LINK_SIGNATURE_INVALID' },
      { name: 'email link claimed as cli', link: { ...secops, channel: 'cli' }, status: 403, refusal: 'LINK_SIGNATURE_INVALID' },
      { name: 'signature of the empty string', link: { ...secops, sig: signApprovalLink(randomBytes(32), { approvalId: '', approver: '', exp: 0, channel: 'web' }).sig }, status: 403, refusal: 'LINK_SIGNATURE_INVALID' },
      { name: 'exp with leading zeros and sig of exp+1', link: await mintLink(stack, { approvalId: b.approvalId, approver: SECOPS, exp: b.exp + 1 }).then((l) => ({ ...l, exp: b.exp })), status: 403, refusal: 'LINK_SIGNATURE_INVALID' },
    ];
    // Look-alikes of group members, each with a genuinely signed link: the group check must be exact.
    for (const lookalike of ['approver@example.com.evil.com', 'approver+x@example.com', '\u0430pprover@example.com', 'approver@ex\u0430mple.com', 'secops@example.co', 'secops@example.com@evil.com', 'iam-approvers']) {
      cases.push({ name: `look-alike ${lookalike}`, link: await mintLink(stack, { approvalId: b.approvalId, approver: lookalike, exp: b.exp }), status: 403, refusal: 'APPROVER_NOT_AUTHORIZED', reasonCode: 'APPROVER_NOT_AUTHORIZED' });
    }
    // Expiry is judged before who is deciding: an expired outsider link is a 410.
    cases.push({ name: 'expired outsider', link: await mintLink(stack, { approvalId: b.approvalId, approver: 'mallory@example.com', exp: Math.floor(Date.now() / 1000) - 1 }), status: 410, refusal: 'LINK_EXPIRED' });

    const failures: string[] = [];
    for (const c of cases) {
      const reply = await postDecision(stack, c.link, 'approve');
      if (reply.status !== c.status || reply.body.reason !== c.refusal || (c.reasonCode && reply.body.reasonCode !== c.reasonCode)) failures.push(`${c.name}: ${reply.status} ${JSON.stringify(reply.body)}`);
    }
    // A missing signature, and no approver at all: bad links (403), not recorded either.
    const bare = await fetch(`${stack.endpoint}/approvals/${b.approvalId}`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' }, body: 'decision=approve' });
    if (bare.status !== 403) failures.push(`bare decision: ${bare.status}`);
    expect(failures, failures.join('\n')).toEqual([]);

    // Only genuinely signed links are evidence, naming the claimed approver; a bad signature is not recorded.
    const refusals = (await refusalsOf(stack, b.changeId)).slice(before);
    const recorded = cases.filter((c) => c.refusal !== 'LINK_SIGNATURE_INVALID');
    expect(refusals.map((e) => e.data.refusal)).toEqual(recorded.map((c) => c.refusal));
    for (const [i, c] of recorded.entries()) {
      expect(refusals[i]?.actor).toBe(c.link.approver.toLowerCase());
      if (c.reasonCode) expect(refusals[i]?.reasonCode).toBe(c.reasonCode);
    }
    expect((await approvalRecord(stack, b.changeId)).status).toBe('PENDING');
    await nothingWritten(stack, b);
  });

  it('hostile text in a refused form (approver, channel, comment) is recorded inert: escaped in the console and the HTML evidence export', async () => {
    const hostile = '<img src=x onerror=alert(1)>@example.com';
    const form = new URLSearchParams({ approver: hostile, exp: String(b.exp), via: '<script>alert(2)</script>', sig: 'A'.repeat(43), decision: 'approve', comment: '</td><script>alert(3)</script>' });
    const reply = await fetch(`${stack.endpoint}/approvals/${b.approvalId}`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: form.toString() });
    expect(reply.status).toBe(403);
    const answer = await reply.text();
    expect(answer).not.toContain('<img src=x');
    expect(answer).not.toContain('<script>alert');
    // A bad signature writes nothing: the attacker's text never reaches the chain.
    const before = (await refusalsOf(stack, b.changeId)).length;
    expect(JSON.stringify(await refusalsOf(stack, b.changeId))).not.toContain('onerror');
    // A genuinely signed link for a hostile "approver" is refused as not authorized, and recorded inert.
    const signed = await mintLink(stack, { approvalId: b.approvalId, approver: hostile, exp: b.exp });
    expect((await postDecision(stack, signed, 'approve')).status).toBe(403);
    const refusals = await refusalsOf(stack, b.changeId);
    expect(refusals).toHaveLength(before + 1);
    expect(refusals.at(-1)?.data).toMatchObject({ refusal: 'APPROVER_NOT_AUTHORIZED', approver: hostile.toLowerCase() });
    const pages = [
      await (await fetch(`${stack.endpoint}/console/changes/${b.changeId}`)).text(),
      await (await fetch(`${stack.endpoint}/console/changes/${b.changeId}/evidence.html`)).text(),
      (await cliAsync(stack, ['evidence', b.changeId, '--format', 'html'])).stdout,
    ];
    for (const html of pages) {
      expect(html.length).toBeGreaterThan(500);
      expect(html).not.toContain('<img src=x');
      expect(html).not.toContain('<script>alert');
    }
  });

  it('an owner spelled differently (owner tag in mixed case, form field in upper case with spaces) is still the owner: SELF_APPROVAL_FORBIDDEN', async () => {
    // An exposed key of a prod user whose owner tag spells secops in mixed case: contained first,
    // approved after the fact, and secops (the owner, by the tag alone) may not approve it.
    const user = await createGovernedUser(stack.direct, { owner: 'SecOps@Example.COM', env: 'prod', keys: 1 });
    const event = { id: unique('exposed'), source: 'security.findings', 'detail-type': 'Credential Exposed', detail: { nhi: user.userName, accessKeyId: user.keyIds[0], severity: 'critical' } };
    const started = await cliAsync(stack, ['event', eventFile(stack.stateDir, event), '--json']);
    expect(started.code, started.stderr).toBe(0);
    const { changeId } = JSON.parse(started.stdout) as { changeId: string };
    await waitForStatus(stack, changeId, 'AWAITING_APPROVAL');
    const approvalId = await approvalIdOf(stack, changeId);
    const record = await approvalRecord(stack, changeId);
    expect(record.afterTheFact).toBe(true);
    const mails = (await sentMail(stack)).filter((m) => m.body.includes(changeId));
    expect(mails.map((m) => m.destinations.ToAddresses?.[0])).toEqual([APPROVER]);
    const link = await mintLink(stack, { approvalId, approver: SECOPS, exp: record.exp });
    const form = new URLSearchParams({ approver: '  SECOPS@EXAMPLE.COM ', exp: String(link.exp), via: link.channel, sig: link.sig, decision: 'reject' });
    const reply = await fetch(`${stack.endpoint}/approvals/${approvalId}`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' }, body: form.toString() });
    expect(reply.status).toBe(403);
    expect(await reply.json()).toMatchObject({ reasonCode: 'SELF_APPROVAL_FORBIDDEN' });
    const refusals = await refusalsOf(stack, changeId);
    expect(refusals.map((e) => [e.data.refusal, e.reasonCode, e.actor])).toEqual([['SELF_APPROVAL_FORBIDDEN', 'SELF_APPROVAL_FORBIDDEN', SECOPS]]);
    expect((await approvalRecord(stack, changeId)).status).toBe('PENDING');
    // The containment stays: the owner's refused rejection did not roll it back.
    expect(await keyStatuses(stack.direct, user.userName)).toEqual({ [user.keyIds[0]!]: 'Inactive' });
  });

  it('replays after a decision: the same POST, the other approver’s email and Slack links, a reject after approve: all 409, the decision stands', async () => {
    const approverMail = await mailedLink(stack, a.changeId, APPROVER);
    const secopsMail = await mailedLink(stack, a.changeId, SECOPS);
    const secopsSlack = await slackLink(stack, a.changeId, SECOPS);
    const approverSlack = await slackLink(stack, a.changeId, APPROVER);
    const decided = await postDecision(stack, approverMail, 'approve', 'ticket HR-7');
    expect(decided).toMatchObject({ status: 200, body: { ok: true, decision: 'APPROVED', approver: APPROVER, channel: 'email' } });

    // Replayed at once (change still open: evidence) and after it ended (late refusals on the request).
    const replays: Array<[SignedApprovalLink, 'approve' | 'reject']> = [
      [approverMail, 'approve'],
      [approverMail, 'reject'],
      [secopsMail, 'reject'],
      [secopsSlack, 'reject'],
      [approverSlack, 'approve'],
    ];
    const early = await Promise.all(replays.map(([link, decision]) => postDecision(stack, link, decision)));
    await waitForStatus(stack, a.changeId, 'VERIFIED');
    const late = [];
    for (const [link, decision] of replays) late.push(await postDecision(stack, link, decision));
    for (const reply of [...early, ...late]) expect(reply).toMatchObject({ status: 409, body: { reason: 'ALREADY_DECIDED' } });

    const evidence = await evidenceOf(stack, a.changeId);
    expect(evidence.filter((e) => e.type === 'APPROVED').map((e) => [e.actor, e.data.channel, e.data.comment])).toEqual([[APPROVER, 'email', 'ticket HR-7']]);
    expect(evidence.map((e) => e.type)).not.toContain('REJECTED');
    const record = await approvalRecord(stack, a.changeId);
    expect(record.status).toBe('APPROVED');
    expect(record.decision).toMatchObject({ approver: APPROVER, decision: 'approve', channel: 'email' });
    // Every replay is on the record: evidence while the change was open, late refusals after.
    const onRecord = evidence.filter((e) => e.type === 'APPROVAL_REFUSED' && e.data.refusal === 'ALREADY_DECIDED').length + (record.lateRefusals?.length ?? 0);
    expect(onRecord).toBe(2 * replays.length);
    expect(evidence.at(-1)?.type).toBe('COMPLETED');
    expect((await cliAsync(stack, ['evidence', 'verify', a.changeId])).code).toBe(0);
  });

  it('a decision race: approve and reject sent at the same instant by both approvers decide exactly once', async () => {
    const approverMail = await mailedLink(stack, b.changeId, APPROVER);
    const secopsMail = await mailedLink(stack, b.changeId, SECOPS);
    const replies = await Promise.all([postDecision(stack, approverMail, 'approve'), postDecision(stack, secopsMail, 'reject'), postDecision(stack, approverMail, 'reject'), postDecision(stack, secopsMail, 'approve')]);
    const statuses = replies.map((r) => r.status).sort();
    expect(statuses).toEqual([200, 409, 409, 409]);
    const winner = replies.find((r) => r.status === 200)!.body;
    const final = winner.decision === 'APPROVED' ? 'VERIFIED' : 'REJECTED';
    await waitForStatus(stack, b.changeId, final);
    const evidence = await evidenceOf(stack, b.changeId);
    expect(evidence.filter((e) => e.type === 'APPROVED' || e.type === 'REJECTED')).toHaveLength(1);
    expect((await approvalRecord(stack, b.changeId)).decision).toMatchObject({ approver: winner.approver });
    expect((await cliAsync(stack, ['evidence', 'verify', b.changeId])).code).toBe(0);
  });

  it('link scanners: GET / HEAD with any query, any user agent, other methods: never decide; the link still works afterwards', async () => {
    const p = await pendingTermination(stack);
    const link = await mailedLink(stack, p.changeId, SECOPS);
    const url = `${stack.endpoint}/approvals/${encodeURIComponent(p.approvalId)}?${queryOf(link)}`;
    const agents = ['Mozilla/5.0 (compatible; Microsoft Outlook SafeLinks)', 'Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)', 'Proofpoint URL Defense', 'curl/8.0', 'Googlebot/2.1', ''];
    const attempts: Array<{ name: string; run: () => Promise<Response> }> = [
      ...agents.map((ua) => ({ name: `GET ua=${ua}`, run: () => fetch(url, { headers: { 'user-agent': ua } }) })),
      { name: 'HEAD', run: () => fetch(url, { method: 'HEAD' }) },
      { name: 'GET decision=approve', run: () => fetch(`${url}&decision=approve&comment=scanner`) },
      { name: 'GET decision=reject json', run: () => fetch(`${url}&decision=reject`, { headers: { accept: 'application/json' } }) },
      { name: 'GET with a form body', run: () => fetch(url, { method: 'GET', headers: { 'x-http-method-override': 'POST' } }) },
      { name: 'GET method override query', run: () => fetch(`${url}&_method=POST&decision=approve`) },
      { name: 'POST with the decision only in the query', run: () => fetch(`${url}&decision=approve`, { method: 'POST' }) },
      ...['PUT', 'DELETE', 'PATCH', 'OPTIONS'].map((method) => ({ name: method, run: () => fetch(url, { method, headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: method === 'OPTIONS' ? undefined : `${queryOf(link)}&decision=approve` }) })),
    ];
    const seen: string[] = [];
    for (const attempt of attempts) {
      const reply = await attempt.run();
      const body = await reply.text();
      seen.push(`${attempt.name}: ${reply.status}`);
      expect(reply.status, attempt.name).toBeLessThan(500);
      expect(reply.status, attempt.name).not.toBe(201);
      if (attempt.name.startsWith('GET') && reply.status === 200 && !body.startsWith('{')) {
        // The page asks; it never submits itself.
        expect(body).not.toMatch(/<script/i);
        expect(body).not.toMatch(/http-equiv=["']?refresh/i);
        expect(body).toMatch(/<form method="post"/);
      }
    }
    console.log(`[abuse] scanner attempts: ${seen.join('; ')}`);
    expect(seen.filter((s) => s.startsWith('PUT') || s.startsWith('DELETE') || s.startsWith('PATCH'))).toEqual(['PUT: 405', 'DELETE: 405', 'PATCH: 405']);

    expect((await approvalRecord(stack, p.changeId)).status).toBe('PENDING');
    const evidence = await evidenceOf(stack, p.changeId);
    expect(evidence.map((e) => e.type)).not.toContain('APPROVED');
    expect(evidence.map((e) => e.type)).not.toContain('REJECTED');
    await nothingWritten(stack, p);
    // The scanner did not burn the link: its approver still decides with it.
    expect(await postDecision(stack, link, 'reject', 'scanned first')).toMatchObject({ status: 200, body: { decision: 'REJECTED', approver: SECOPS } });
    await waitForStatus(stack, p.changeId, 'REJECTED');
    await nothingWritten(stack, p);
  });
});

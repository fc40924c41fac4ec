import { GetRolePolicyCommand, GetUserPolicyCommand } from '@aws-sdk/client-iam';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { QUARANTINE_POLICY_NAME } from '../../lambdas/connectors/iam/quarantine-policy.js';
import type { CampaignStatus } from '../../cli/lib/attestations.js';
import { LOCAL_ACCOUNT_ID, memberAccountClients, type AwsClients } from '../../local/aws-clients.js';
import { startTestStack, type TestStack } from '../support/local-stack.js';
import { createGovernedRole, createGovernedUser, ownerEmail, unique } from '../support/estate.js';
import { activatePolicyVariant, sentMail, show, waitForStatus, type SentMail } from '../support/approvals.js';

/**
 * Owner attestation (README "Owner attestation", docs/policy.md#attestation) over a small estate:
 * one owner confirms, one says "not needed" (its NHI is disabled reversibly by a change that ends
 * VERIFIED), one does not answer (escalated to their manager, then OWNER_UNKNOWN and disabled per
 * policy), and one role has no owner at all. The policy's windows are an hour and half an hour;
 * the sweeps judge them `--as-of` a second past each, so nothing waits. Then a campaign over the
 * hub and two member accounts (docs/accounts.md), one of which refuses its member role.
 */

const MANAGER = 'manager-of-silent@example.com';
const MEMBER_A = '111111111111';
const MEMBER_B = '222222222222';
const ANSWER_WINDOW_SECONDS = 3600;
const ESCALATION_WINDOW_SECONDS = 1800;

interface Link {
  readonly url: string;
  readonly form: Record<string, string>;
}

/** The owner's attestation link from their mail, and its signed fields (for the POST form). */
function attestationLink(mails: readonly SentMail[], owner: string): Link {
  const mail = mails.find((m) => m.destinations.ToAddresses?.[0] === owner && m.subject.includes('Please confirm'));
  const url = [...(mail?.body ?? '').replace(/&amp;/g, '&').matchAll(/https?:\/\/[^\s"<>]+\/attestations\/[^\s"<>]+/g)].map((m) => m[0])[0];
  if (!url) throw new Error(`no attestation link mailed to ${owner}`);
  const parsed = new URL(url);
  return { url, form: Object.fromEntries(['approver', 'exp', 'via', 'sig'].map((k) => [k, parsed.searchParams.get(k) ?? ''])) };
}

async function answer(link: Link, nhi: string, given: 'keep' | 'release', override: Record<string, string> = {}): Promise<{ status: number; body: Record<string, unknown> }> {
  const target = new URL(link.url);
  const reply = await fetch(`${target.origin}${target.pathname}`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' }, body: new URLSearchParams({ ...link.form, nhi, answer: given, ...override }).toString() });
  return { status: reply.status, body: (await reply.json()) as Record<string, unknown> };
}

/** Whether the NHI holds the quarantine policy, read with `clients` (the stack's own account unless told). */
async function quarantined(stack: TestStack, type: 'user' | 'role', name: string, clients: Pick<AwsClients, 'iam'> = stack.direct): Promise<boolean> {
  try {
    if (type === 'user') await clients.iam.send(new GetUserPolicyCommand({ UserName: name, PolicyName: QUARANTINE_POLICY_NAME }));
    else await clients.iam.send(new GetRolePolicyCommand({ RoleName: name, PolicyName: QUARANTINE_POLICY_NAME }));
    return true;
  } catch (error) {
    if (/NoSuchEntity/.test((error as { name?: string }).name ?? '')) return false;
    throw error;
  }
}

function status(stack: TestStack, campaignId: string): CampaignStatus {
  return stack.json<CampaignStatus>(['attest', 'status', campaignId]);
}

function justAfter(campaignTime: string): string {
  return new Date(Date.parse(campaignTime) + 1000).toISOString();
}

describe('owner attestation campaign', () => {
  let stack: TestStack;
  beforeAll(async () => {
    stack = await startTestStack();
  });
  afterAll(() => stack?.stop());

  it('confirms, disables what is not needed (VERIFIED), escalates then disables what nobody attests; every chain verifies', async () => {
    const [keeper, releaser, silent] = [ownerEmail('keeper'), ownerEmail('releaser'), ownerEmail('silent')];
    const kept = await createGovernedUser(stack.direct, { owner: keeper, keys: 1 });
    const released = await createGovernedUser(stack.direct, { owner: releaser, keys: 1 });
    const unanswered = await createGovernedRole(stack.direct, { owner: silent });
    const orphan = await createGovernedRole(stack.direct, { owner: null });
    activatePolicyVariant(stack, 'attestation-seconds', (policy) => {
      policy.attestation = { answerWindowSeconds: ANSWER_WINDOW_SECONDS, escalationWindowSeconds: ESCALATION_WINDOW_SECONDS, onNoAnswer: 'disable', managers: { [silent]: MANAGER } };
    });

    const started = stack.json<{ campaignId: string; owners: number; nhis: number; emailsSent: number; ownerUnknown: number }>(['attest', 'start']);
    expect(started).toMatchObject({ owners: 3, nhis: 4, emailsSent: 4, ownerUnknown: 1 });
    const { campaignId } = started;
    const mails = await sentMail(stack);
    expect(mails.find((m) => m.subject.includes(campaignId) && m.subject.includes('OWNER_UNKNOWN'))?.body).toContain(orphan);
    const links = { keeper: attestationLink(mails, keeper), releaser: attestationLink(mails, releaser), silent: attestationLink(mails, silent) };

    // The owner's page lists their NHIs only; a forged signature is refused and writes nothing.
    const page = await fetch(links.keeper.url, { headers: { accept: 'application/json' } });
    expect(await page.json()).toMatchObject({ owner: keeper, nhis: [{ nhi: kept.userName, answer: null }] });
    const before = show(stack, campaignId).evidence.length;
    expect((await answer(links.keeper, kept.userName, 'release', { sig: 'A'.repeat(43) })).status).toBe(403);
    expect((await answer(links.keeper, released.userName, 'release')).status).toBe(403);
    expect(show(stack, campaignId).evidence.length).toBe(before);

    expect(await answer(links.keeper, kept.userName, 'keep')).toMatchObject({ status: 200, body: { answer: 'KEEP' } });
    expect(await answer(links.releaser, released.userName, 'release')).toMatchObject({ status: 200, body: { answer: 'RELEASE' } });
    expect((await answer(links.releaser, released.userName, 'keep')).status).toBe(409);

    // The sweep plans the release through the change workflow.
    const first = stack.json<{ results: Array<{ followUps: string[]; escalated: string[]; closed: string | null }> }>(['attest', 'sweep', campaignId]);
    expect(first.results[0]).toMatchObject({ escalated: [], closed: null });
    const [declinedChange] = first.results[0]?.followUps ?? [];
    if (!declinedChange) throw new Error('no follow-up change for the released NHI');
    // Past the answer window: the silent owner's manager route is told.
    const windows = status(stack, campaignId);
    expect(Date.parse(windows.answerBy) - Date.parse(windows.startedAt)).toBe(ANSWER_WINDOW_SECONDS * 1000);
    expect(Date.parse(windows.actBy) - Date.parse(windows.answerBy)).toBe(ESCALATION_WINDOW_SECONDS * 1000);
    const second = stack.json<{ results: Array<{ escalated: string[]; followUps: string[]; closed: string | null }> }>(['attest', 'sweep', '--as-of', justAfter(windows.answerBy)]);
    expect(second.results).toEqual([expect.objectContaining({ campaignId, escalated: [silent], followUps: [], closed: null })]);
    const escalation = (await sentMail(stack)).find((m) => m.destinations.ToAddresses?.[0] === MANAGER);
    expect(escalation?.body).toContain(unanswered);

    // Meanwhile the release was applied and verified.
    const declined = await waitForStatus(stack, declinedChange, 'VERIFIED');
    expect(declined.actions.map((a) => [a.kind, a.target.id, a.status])).toEqual([['iam.attachQuarantinePolicy', released.userName, 'VERIFIED']]);
    expect(declined.evidence[0]?.data).toMatchObject({ detailType: 'Attestation Concluded', detail: { campaignId, reason: 'NOT_NEEDED', owner: releaser } });
    expect(await quarantined(stack, 'user', released.userName)).toBe(true);
    expect(await quarantined(stack, 'user', kept.userName)).toBe(false);

    // Past the escalation window: nobody attested it, OWNER_UNKNOWN, disabled reversibly; the campaign closes.
    const third = stack.json<{ results: Array<{ lapsed: number; followUps: string[]; closed: string | null }> }>(['attest', 'sweep', campaignId, '--as-of', justAfter(windows.actBy)]);
    expect(third.results[0]).toMatchObject({ lapsed: 1, closed: 'ESCALATED' });
    const [lapsedChange] = third.results[0]?.followUps ?? [];
    if (!lapsedChange) throw new Error('no follow-up change for the unanswered NHI');
    const disabled = await waitForStatus(stack, lapsedChange, 'VERIFIED');
    expect(disabled.actions.map((a) => [a.kind, a.target.id, a.status])).toEqual([['iam.attachQuarantinePolicy', unanswered, 'VERIFIED']]);
    expect(await quarantined(stack, 'role', unanswered)).toBe(true);
    expect(await quarantined(stack, 'role', orphan)).toBe(false);

    const final = status(stack, campaignId);
    expect(final).toMatchObject({ state: 'CLOSED', status: 'ESCALATED', answered: 2, unanswered: 2, ownerUnknown: 2 });
    expect(final.items.map((i) => [i.nhi, i.answer, i.outcome])).toEqual(
      expect.arrayContaining([
        [kept.userName, 'KEEP', 'KEPT'],
        [released.userName, 'RELEASE', 'DISABLE_PLANNED'],
        [unanswered, null, 'OWNER_UNKNOWN'],
        [orphan, null, 'OWNER_UNKNOWN'],
      ]),
    );
    expect(final.changes.map((c) => [c.changeId, c.reason, c.started])).toEqual(expect.arrayContaining([[declinedChange, 'NOT_NEEDED', true], [lapsedChange, 'NO_ANSWER', true]]));

    // The campaign's chain holds every step, and closes with COMPLETED.
    const chain = show(stack, campaignId).evidence;
    expect(chain.map((e) => e.type)).toEqual(['TRIGGERED', 'DECIDED', 'ATTESTATION_REQUESTED', 'ATTESTATION_REQUESTED', 'ATTESTATION_REQUESTED', 'ATTESTED', 'ATTESTED', 'FOLLOW_UP_STARTED', 'ATTESTATION_ESCALATED', 'DECIDED', 'FOLLOW_UP_STARTED', 'COMPLETED']);
    expect(chain.filter((e) => e.type === 'ATTESTED').map((e) => [e.actor, e.data.answer])).toEqual([[keeper, 'KEEP'], [releaser, 'RELEASE']]);
    expect(chain.filter((e) => e.type === 'DECIDED').map((e) => e.reasonCode)).toEqual(['OWNER_UNKNOWN', 'OWNER_UNKNOWN']);
    expect(chain.at(-1)?.data).toMatchObject({ status: 'ESCALATED', sweptAsOf: justAfter(windows.actBy) });
    expect(chain.find((e) => e.type === 'ATTESTATION_ESCALATED')?.data).toMatchObject({ owner: silent, to: MANAGER, sweptAsOf: justAfter(windows.answerBy) });
    for (const id of [campaignId, declinedChange, lapsedChange]) {
      const verified = stack.cli(['evidence', 'verify', id, '--json']);
      expect(verified.code, verified.stdout + verified.stderr).toBe(0);
    }
    // A closed campaign takes no more answers (the link itself has not expired yet).
    expect(await answer(links.silent, unanswered, 'keep')).toMatchObject({ status: 410, body: { reason: 'CAMPAIGN_CLOSED' } });
  });

  it('covers every governed account: a member NHI released is disabled in its own account (VERIFIED); a denied account is named while the others are asked', async () => {
    const [twinOwner, hubOwner] = [ownerEmail('twin'), ownerEmail('hub-only')];
    const memberA = await memberAccountClients(`http://127.0.0.1:${stack.port + 1}`, MEMBER_A);
    const memberB = await memberAccountClients(`http://127.0.0.1:${stack.port + 1}`, MEMBER_B);
    // The same user name in the hub and in member A: two NHIs, the member's named by ARN.
    const twin = unique('svc-twin');
    await createGovernedUser(stack.direct, { owner: twinOwner, name: twin, keys: 1 });
    await createGovernedUser(memberA, { owner: twinOwner, name: twin, keys: 1 });
    const hubRole = await createGovernedRole(stack.direct, { owner: hubOwner });
    const unreachable = await createGovernedRole(memberB, { owner: hubOwner });
    const memberTwin = `arn:aws:iam::${MEMBER_A}:user/${twin}`;
    activatePolicyVariant(stack, 'attestation-accounts', (policy) => {
      policy.attestation = { answerWindowSeconds: ANSWER_WINDOW_SECONDS, escalationWindowSeconds: ESCALATION_WINDOW_SECONDS, onNoAnswer: 'disable' };
      policy.accounts = [{ id: MEMBER_A }, { id: MEMBER_B }];
    });

    await stack.fault({ service: 'sts', action: 'AssumeRole', mode: 'accessDenied', times: 1000, account: MEMBER_B });
    let started: { campaignId: string; accounts: string[]; unreadableAccounts: string[]; emailsSent: number; owners: number };
    try {
      started = stack.json(['attest', 'start']);
    } finally {
      await stack.clearFaults();
    }
    const { campaignId } = started;
    expect(started).toMatchObject({ accounts: [LOCAL_ACCOUNT_ID, MEMBER_A], unreadableAccounts: [MEMBER_B] });

    // Every owner of the readable accounts is mailed (and the IAM team about member B): the denied account stops nobody else.
    const mails = (await sentMail(stack)).filter((m) => m.subject.includes(campaignId));
    expect(mails.filter((m) => m.subject.includes('Please confirm')).map((m) => m.destinations.ToAddresses?.[0])).toEqual(expect.arrayContaining([twinOwner, hubOwner]));
    expect(started.emailsSent).toBe(mails.length);
    const denied = mails.find((m) => m.destinations.ToAddresses?.[0] === 'iam-team@example.com');
    expect(denied?.subject).toContain('CONNECTOR_ACCESS_DENIED');
    expect(denied?.body).toContain(`account ${MEMBER_B} was not read`);
    const hubMail = mails.find((m) => m.destinations.ToAddresses?.[0] === hubOwner)?.body ?? '';
    expect(hubMail).toContain(hubRole);
    expect(hubMail).not.toContain(unreachable);
    // The twins' owner is asked about both, each named with its account.
    const twinMail = mails.find((m) => m.destinations.ToAddresses?.[0] === twinOwner)?.body ?? '';
    expect(twinMail).toContain(`<code>${twin}</code> in account ${LOCAL_ACCOUNT_ID}`);
    expect(twinMail).toContain(`<code>${memberTwin}</code> in account ${MEMBER_A}`);
    const link = attestationLink(mails, twinOwner);
    const page = (await (await fetch(link.url, { headers: { accept: 'application/json' } })).json()) as { nhis: Array<{ nhi: string; account: string | null }> };
    expect(page.nhis.map((n) => [n.nhi, n.account]).sort()).toEqual([[twin, LOCAL_ACCOUNT_ID], [memberTwin, MEMBER_A]].sort());

    expect(await answer(link, twin, 'keep')).toMatchObject({ status: 200, body: { answer: 'KEEP' } });
    expect(await answer(link, memberTwin, 'release')).toMatchObject({ status: 200, body: { nhi: memberTwin, answer: 'RELEASE' } });

    // Status names the account of every NHI and the account it could not read.
    const opened = status(stack, campaignId);
    expect(opened.accounts).toEqual([LOCAL_ACCOUNT_ID, MEMBER_A]);
    expect(opened.unreadableAccounts).toEqual([expect.objectContaining({ account: MEMBER_B, roleArn: `arn:aws:iam::${MEMBER_B}:role/nhigov-member`, message: expect.stringContaining(`account ${MEMBER_B}`) })]);
    expect(opened.items.filter((i) => i.owner === twinOwner).map((i) => [i.nhi, i.account, i.answer]).sort()).toEqual([[twin, LOCAL_ACCOUNT_ID, 'KEEP'], [memberTwin, MEMBER_A, 'RELEASE']].sort());
    expect(opened.items.some((i) => i.account === MEMBER_B)).toBe(false);
    const text = stack.cli(['attest', 'status', campaignId]);
    expect(text.stdout).toContain(`account ${MEMBER_B} not read (CONNECTOR_ACCESS_DENIED)`);
    const chain = show(stack, campaignId).evidence;
    expect(chain.find((e) => e.reasonCode === 'CONNECTOR_ACCESS_DENIED')).toMatchObject({ type: 'DECIDED', data: { account: MEMBER_B } });

    // "Not needed" starts the follow-up change in member A: quarantined there, read back with that account's credentials.
    const swept = stack.json<{ results: Array<{ campaignId: string; followUps: string[] }> }>(['attest', 'sweep', campaignId]);
    const followUps = swept.results.find((r) => r.campaignId === campaignId)?.followUps ?? [];
    expect(followUps).toHaveLength(1);
    const [memberChange = ''] = followUps;
    const done = await waitForStatus(stack, memberChange, 'VERIFIED');
    expect(done.actions.map((a) => [a.kind, a.target.account, a.target.nhi, a.status])).toEqual([['iam.attachQuarantinePolicy', MEMBER_A, memberTwin, 'VERIFIED']]);
    expect(done.evidence[0]?.data).toMatchObject({ detailType: 'Attestation Concluded', detail: { campaignId, reason: 'NOT_NEEDED', owner: twinOwner, nhis: [memberTwin] } });
    expect(await quarantined(stack, 'user', twin, memberA)).toBe(true);
    expect(await quarantined(stack, 'user', twin)).toBe(false);
    expect(status(stack, campaignId).changes).toEqual([expect.objectContaining({ changeId: memberChange, account: MEMBER_A, nhis: [memberTwin], started: true })]);
    for (const id of [campaignId, memberChange]) {
      const verified = stack.cli(['evidence', 'verify', id, '--json']);
      expect(verified.code, verified.stdout + verified.stderr).toBe(0);
    }
  });
});

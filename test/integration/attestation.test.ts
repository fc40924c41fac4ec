import { GetRolePolicyCommand, GetUserPolicyCommand } from '@aws-sdk/client-iam';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { QUARANTINE_POLICY_NAME } from '../../lambdas/connectors/iam/quarantine-policy.js';
import type { CampaignStatus } from '../../cli/lib/attestations.js';
import { startTestStack, type TestStack } from '../support/local-stack.js';
import { createGovernedRole, createGovernedUser, ownerEmail } from '../support/estate.js';
import { activatePolicyVariant, sentMail, show, waitForStatus, type SentMail } from '../support/approvals.js';

/**
 * Owner attestation (README "Owner attestation", docs/policy.md#attestation) over a small estate:
 * one owner confirms, one says "not needed" (its NHI is disabled reversibly by a change that ends
 * VERIFIED), one does not answer (escalated to their manager, then OWNER_UNKNOWN and disabled per
 * policy), and one role has no owner at all. The policy's windows are an hour and half an hour;
 * the sweeps judge them `--as-of` a second past each, so nothing waits.
 */

const MANAGER = 'manager-of-silent@example.com';
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

async function quarantined(stack: TestStack, type: 'user' | 'role', name: string): Promise<boolean> {
  try {
    if (type === 'user') await stack.direct.iam.send(new GetUserPolicyCommand({ UserName: name, PolicyName: QUARANTINE_POLICY_NAME }));
    else await stack.direct.iam.send(new GetRolePolicyCommand({ RoleName: name, PolicyName: QUARANTINE_POLICY_NAME }));
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
});

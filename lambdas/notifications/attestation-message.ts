import { targetLabel } from '../domain/accounts.js';
import type { CampaignNhi, UnreadableCampaignAccount } from '../domain/attestation.js';
import { escapeHtml } from './html.js';

export interface Mail {
  readonly subject: string;
  readonly text: string;
  readonly html: string;
}

type Listed = ReadonlyArray<readonly [string, Pick<CampaignNhi, 'type' | 'account'>]>;

/** Each NHI with its account (`user svc-a in account 111111111111`): a name can repeat across accounts. */
function list(nhis: Listed): { text: string[]; html: string } {
  const inAccount = (n: Pick<CampaignNhi, 'account'>): string => (n.account !== undefined ? ` in account ${n.account}` : '');
  return {
    text: nhis.map(([ref, n]) => `  - ${targetLabel({ type: n.type, id: ref, ...(n.account !== undefined ? { account: n.account } : {}) })}`),
    html: `<ul>${nhis.map(([ref, n]) => `<li>${escapeHtml(n.type)} <code>${escapeHtml(ref)}</code>${escapeHtml(inAccount(n))}</li>`).join('')}</ul>`,
  };
}

/** To an owner: their NHIs and their own link (it opens a page with one answer per NHI). */
export function attestationRequestMail(input: { campaignId: string; owner: string; nhis: Listed; link: string; answerBy: string; actBy: string; onNoAnswer: 'disable' | 'escalate' }): Mail {
  const n = input.nhis.length;
  const l = list(input.nhis);
  const then = input.onNoAnswer === 'disable' ? `your manager is told, and on ${input.actBy} whatever is still unanswered is disabled (reversibly)` : 'your manager is told and the NHIs are escalated as OWNER_UNKNOWN';
  return {
    subject: `[nhi-governor] Please confirm ${n} non-human identit${n === 1 ? 'y' : 'ies'} you own (campaign ${input.campaignId})`,
    text: [
      `${input.owner}, the tags say you own these non-human identities:`,
      ...l.text,
      '',
      `For each, answer "still mine and still needed" or "not mine / not needed" by ${input.answerBy}:`,
      input.link,
      '',
      `"Not mine / not needed" disables it reversibly through the change workflow. Without an answer by ${input.answerBy}, ${then}.`,
      'This link is yours alone: do not forward it.',
    ].join('\n'),
    html: [
      `<p>${escapeHtml(input.owner)}, the tags say you own these non-human identities:</p>`,
      l.html,
      `<p>For each, answer <b>still mine and still needed</b> or <b>not mine / not needed</b> by ${escapeHtml(input.answerBy)}: <a href="${escapeHtml(input.link)}">answer</a>.</p>`,
      `<p>"Not mine / not needed" disables it reversibly through the change workflow. Without an answer by ${escapeHtml(input.answerBy)}, ${escapeHtml(then)}.</p>`,
      '<p>This link is yours alone: do not forward it.</p>',
    ].join('\n'),
  };
}

/** To the owner's manager route: what the owner did not answer, and what happens next. */
export function attestationEscalationMail(input: { campaignId: string; owner: string; nhis: Listed; actBy: string; onNoAnswer: 'disable' | 'escalate' }): Mail {
  const l = list(input.nhis);
  const then = input.onNoAnswer === 'disable' ? `they will be disabled (reversibly) on ${input.actBy}` : `they will be escalated as OWNER_UNKNOWN on ${input.actBy}`;
  return {
    subject: `[nhi-governor] ${input.owner} has not confirmed ${input.nhis.length} non-human identities (campaign ${input.campaignId})`,
    text: [`${input.owner} was asked to confirm these non-human identities and has not answered:`, ...l.text, '', `Unless ${input.owner} answers from their link, ${then}.`, `Status: nhigov attest status ${input.campaignId}`].join('\n'),
    html: [
      `<p>${escapeHtml(input.owner)} was asked to confirm these non-human identities and has not answered:</p>`,
      l.html,
      `<p>Unless ${escapeHtml(input.owner)} answers from their link, ${escapeHtml(then)}.</p>`,
      `<p>Status: <code>nhigov attest status ${escapeHtml(input.campaignId)}</code></p>`,
    ].join('\n'),
  };
}

/** To the OWNER_UNKNOWN route: NHIs nobody can be asked about (no owner tag). */
export function attestationUnownedMail(input: { campaignId: string; nhis: Listed }): Mail {
  const l = list(input.nhis);
  return {
    subject: `[nhi-governor] ${input.nhis.length} non-human identities have no owner to attest them (campaign ${input.campaignId}, OWNER_UNKNOWN)`,
    text: [`These non-human identities have no owner tag, so nobody can confirm them:`, ...l.text, '', 'To do: find each one\'s owner and set the owner tag.'].join('\n'),
    html: ['<p>These non-human identities have no owner tag, so nobody can confirm them:</p>', l.html, '<p>To do: find each one\'s owner and set the owner tag.</p>'].join('\n'),
  };
}

/** To the CONNECTOR_ACCESS_DENIED route: governed accounts the campaign could not read, so nobody there was asked. */
export function attestationUnreadableMail(input: { campaignId: string; accounts: readonly UnreadableCampaignAccount[] }): Mail {
  const n = input.accounts.length;
  const lines = input.accounts.map((a) => `account ${a.account} was not read: ${a.message}`);
  return {
    subject: `[nhi-governor] CONNECTOR_ACCESS_DENIED: ${n} governed account${n === 1 ? '' : 's'} could not be read for attestation campaign ${input.campaignId}`,
    text: [
      `Attestation campaign ${input.campaignId} could not read ${n === 1 ? 'this governed account' : 'these governed accounts'} (CONNECTOR_ACCESS_DENIED), so no owner of an NHI there was asked:`,
      ...lines.map((l) => `  - ${l}`),
      '',
      'The other accounts\' owners were asked. To do: deploy or repair the member role (docs/accounts.md), then open a new campaign.',
      `Status: nhigov attest status ${input.campaignId}`,
    ].join('\n'),
    html: [
      `<p>Attestation campaign <code>${escapeHtml(input.campaignId)}</code> could not read ${n === 1 ? 'this governed account' : 'these governed accounts'} (CONNECTOR_ACCESS_DENIED), so no owner of an NHI there was asked:</p>`,
      `<ul>${lines.map((l) => `<li>${escapeHtml(l)}</li>`).join('')}</ul>`,
      '<p>The other accounts\' owners were asked. To do: deploy or repair the member role (docs/accounts.md), then open a new campaign.</p>',
      `<p>Status: <code>nhigov attest status ${escapeHtml(input.campaignId)}</code></p>`,
    ].join('\n'),
  };
}

import { approvalKeyOf, attestationLinkDomain, parseLinkFields, verifyApprovalLinkSignature, type SignedApprovalLink } from '../domain/approval-link.js';
import { judgeAnswer, nhisOfOwner, type AttestationAnswer, type Campaign } from '../domain/attestation.js';
import { escapeHtml } from '../notifications/html.js';
import { AttestationStore, type StoredCampaign } from '../stores/attestation-store.js';
import { createDocumentClient } from '../stores/dynamo.js';
import { page, renderMessagePage } from './approval-page.js';
import { notFound, refuseUnauthenticated, type Reply } from './approval-replies.js';
import type { ApprovalServices } from './approval-services.js';
import type { HttpRequest } from './approval-api.js';
import type { Runtime } from './runtime.js';

/** `/attestations/{campaignId}/{nonce}`: an owner's page of a campaign (docs/approval-api.md#attestation). */
export const ATTESTATION_PATH = /^\/attestations\/(att-[0-9a-f]{24})\/([A-Za-z0-9_-]{16,128})\/?$/;

const ANSWERS: Readonly<Record<string, AttestationAnswer>> = { keep: 'KEEP', release: 'RELEASE' };

let store: AttestationStore | undefined;

function campaigns(rt: Runtime): AttestationStore {
  store ??= new AttestationStore(createDocumentClient(), rt.env.NHIGOV_TABLE_CHANGES);
  return store;
}

type Authenticated = { ok: true; stored: StoredCampaign; link: SignedApprovalLink } | { ok: false; reply: Reply };

/**
 * The link must be signed for this campaign, be the owner's own (its nonce's hash is the one
 * the campaign holds for that owner) and not be past its expiry. A link that proves nothing is a
 * metric and a log line, never evidence.
 */
async function authenticate(rt: Runtime, svc: ApprovalServices, campaignId: string, nonce: string, fields: { get(name: string): string | null }): Promise<Authenticated> {
  const stored = await campaigns(rt).get(campaignId);
  const link = parseLinkFields(nonce, fields);
  const owner = link ? stored?.campaign.owners[link.approver] : undefined;
  if (!stored || !link || !owner || owner.linkKey !== approvalKeyOf(nonce) || !verifyApprovalLinkSignature(await svc.linkKey(), link, attestationLinkDomain(campaignId))) {
    refuseUnauthenticated(rt, stored ? 'LINK_SIGNATURE_INVALID' : 'NOT_FOUND', campaignId);
    return { ok: false, reply: stored ? refusal(403, 'LINK_SIGNATURE_INVALID', 'the link is not valid') : notFound('no such attestation campaign') };
  }
  if (link.exp * 1000 <= svc.now().getTime()) return { ok: false, reply: refusal(410, 'LINK_EXPIRED', `the link expired at ${new Date(link.exp * 1000).toISOString()}`) };
  return { ok: true, stored, link };
}

function refusal(status: number, reason: string, message: string): Reply {
  return { status, json: { ok: false, reason, message }, html: renderMessagePage('Refused', `${reason}: ${message}`, 'bad') };
}

/** GET shows the owner's NHIs with one form per unanswered NHI; POST records one answer. */
export async function attestationHttpCore(rt: Runtime, svc: ApprovalServices, request: HttpRequest, campaignId: string, nonce: string): Promise<Reply> {
  const method = request.method.toUpperCase();
  if (method === 'POST') return answer(rt, svc, campaignId, nonce, new URLSearchParams(request.body));
  const auth = await authenticate(rt, svc, campaignId, nonce, request.query);
  if (!auth.ok) return auth.reply;
  const owner = auth.link.approver;
  const nhis = nhisOfOwner(auth.stored.campaign, owner).map(([ref, n]) => ({ nhi: ref, type: n.type, account: n.account ?? null, answer: n.answer?.answer ?? null, outcome: n.outcome ?? null }));
  return { status: 200, json: { ok: true, campaignId, owner, state: auth.stored.campaign.state, answerBy: auth.stored.campaign.answerBy, nhis }, html: renderOwnerPage(auth.stored.campaign, auth.link, nonce) };
}

async function answer(rt: Runtime, svc: ApprovalServices, campaignId: string, nonce: string, form: URLSearchParams): Promise<Reply> {
  const given = ANSWERS[form.get('answer') ?? ''];
  const ref = form.get('nhi') ?? '';
  if (!given || !ref) return refusal(400, 'INPUT_INVALID', 'answer must be keep or release, and nhi must name one of your NHIs');
  const auth = await authenticate(rt, svc, campaignId, nonce, form);
  if (!auth.ok) return auth.reply;
  const { campaign, policyVersion } = auth.stored;
  const owner = auth.link.approver;
  const verdict = judgeAnswer(campaign, owner, ref);
  if (!verdict.ok) {
    rt.logger.warn('attestation answer refused', { campaignId, owner, reason: verdict.reason });
    return refusal(verdict.httpStatus, verdict.reason, verdict.message);
  }
  const answeredAt = svc.now().toISOString();
  if (!(await campaigns(rt).recordAnswer(campaignId, ref, owner, { answer: given, at: answeredAt, channel: auth.link.channel }))) {
    return refusal(409, 'ALREADY_ANSWERED', `${ref} was answered concurrently, or the campaign closed`);
  }
  await rt.evidence.record({ changeId: campaignId, type: 'ATTESTED', actor: owner, policyVersion, nhi: ref, data: { campaignId, nhi: ref, owner, answer: given, channel: auth.link.channel, answeredAt } });
  const next = given === 'KEEP' ? 'Recorded: still yours and still needed.' : 'Recorded: not yours / not needed. The next sweep plans its reversible disable through the change workflow.';
  rt.logger.info('attestation answer recorded', { campaignId, answer: given });
  return { status: 200, json: { ok: true, campaignId, nhi: ref, owner, answer: given, answeredAt, message: next }, html: renderMessagePage('Recorded', `${ref}: ${next}`, 'ok') };
}

function renderOwnerPage(campaign: Campaign, link: SignedApprovalLink, nonce: string): string {
  const hidden = [['approver', link.approver], ['exp', String(link.exp)], ['via', link.channel], ['sig', link.sig]].map(([k, v]) => `<input type="hidden" name="${k}" value="${escapeHtml(v)}">`).join('');
  const action = `/attestations/${escapeHtml(campaign.campaignId)}/${escapeHtml(nonce)}`;
  const rows = nhisOfOwner(campaign, link.approver)
    .map(([ref, n]) => {
      const state = n.answer ? (n.answer.answer === 'KEEP' ? 'still mine and still needed' : 'not mine / not needed') : n.outcome ? n.outcome : null;
      const cell = state
        ? escapeHtml(state)
        : campaign.state !== 'OPEN'
          ? 'campaign closed'
          : ['keep', 'release']
              .map((a) => `<form method="post" action="${action}" style="display:inline">${hidden}<input type="hidden" name="nhi" value="${escapeHtml(ref)}"><input type="hidden" name="answer" value="${a}"><button type="submit">${a === 'keep' ? 'Still mine and still needed' : 'Not mine / not needed'}</button></form>`)
              .join('');
      return `<tr data-nhi="${escapeHtml(ref)}" data-account="${escapeHtml(n.account ?? '')}"><td>${escapeHtml(n.type)}</td><td><code>${escapeHtml(ref)}</code></td><td>${escapeHtml(n.account ?? '-')}</td><td>${cell}</td></tr>`;
    })
    .join('');
  const body = `<p>${escapeHtml(link.approver)}: campaign <code>${escapeHtml(campaign.campaignId)}</code> asks you to confirm each non-human identity you own, by ${escapeHtml(campaign.answerBy)}.</p><table><tr><th>type</th><th>NHI</th><th>account</th><th>answer</th></tr>${rows}</table>`;
  return page('Confirm your non-human identities', body);
}

import type { CampaignStatus } from '../../cli/lib/attestations.js';
import { banner, esc, reasonCode, statusPill, time, type PageModel } from '../html.js';

export interface AttestationPageModel {
  /** The campaign shown; null when there is none yet. */
  readonly campaign: CampaignStatus | null;
  /** The newest campaigns, to pick another. */
  readonly campaigns: ReadonlyArray<{ readonly campaignId: string; readonly status: string; readonly createdAt: string }>;
  readonly now: Date;
}

const ANSWER = { KEEP: 'still mine and still needed', RELEASE: 'not mine / not needed' } as const;

/** An owner attestation campaign: who answered, who did not, what it changed (nhigov attest status). */
export function renderAttestationPage(model: AttestationPageModel): PageModel {
  const c = model.campaign;
  const picker = model.campaigns.length > 1
    ? `<p class="muted">Campaigns: ${model.campaigns.map((k) => `<a href="/console/attestation?campaign=${encodeURIComponent(k.campaignId)}"><code>${esc(k.campaignId)}</code></a> ${statusPill(k.status)}`).join(' · ')}</p>`
    : '';
  if (!c) {
    return { title: 'Attestation', section: 'attestation', body: '<p id="attestation-empty">No attestation campaign yet. Open one with <code>nhigov attest start</code> (the deployed stack opens one on its schedule).</p>' };
  }
  const owners = `<table id="attestation-owners">
<caption>${c.owners.length} owner${c.owners.length === 1 ? '' : 's'} asked</caption>
<thead><tr><th scope="col">Owner</th><th scope="col">Asked</th><th scope="col">Answered</th><th scope="col">Still needed</th><th scope="col">Not needed</th><th scope="col">Escalated</th></tr></thead>
<tbody>
${c.owners.map((o) => `<tr data-owner="${esc(o.owner)}" data-answered="${o.answered === o.asked ? 'all' : o.answered === 0 ? 'none' : 'some'}"><th scope="row">${esc(o.owner)}</th><td>${o.asked}</td><td>${o.answered}</td><td>${o.kept}</td><td>${o.released}</td><td>${o.escalatedAt ? `to ${esc(o.manager)} ${time(o.escalatedAt)}` : '<span class="muted">-</span>'}</td></tr>`).join('\n')}
</tbody>
</table>`;
  const items = `<table id="attestation-nhis">
<caption>${c.nhis} NHI${c.nhis === 1 ? '' : 's'}: ${c.answered} answered, ${c.unanswered} not answered, ${c.ownerUnknown} owner unknown</caption>
<thead><tr><th scope="col">NHI</th><th scope="col">Type</th><th scope="col">Account</th><th scope="col">Owner</th><th scope="col">Answer</th><th scope="col">Outcome</th><th scope="col">Change</th></tr></thead>
<tbody>
${c.items
  .map(
    (i) => `<tr data-nhi="${esc(i.nhi)}" data-account="${esc(i.account ?? '')}" data-answer="${esc(i.answer ?? 'none')}" data-outcome="${esc(i.outcome ?? 'none')}"><th scope="row"><code>${esc(i.nhi)}</code></th><td>${esc(i.type)}</td><td>${i.account ? `<code>${esc(i.account)}</code>` : '<span class="muted">-</span>'}</td><td>${i.owner ? esc(i.owner) : '<span class="pill bad">no owner</span>'}</td><td>${i.answer ? `${esc(ANSWER[i.answer])} <span class="muted">${time(i.answeredAt ?? '')}</span>` : '<span class="pill warn">no answer</span>'}</td><td>${i.outcome === 'OWNER_UNKNOWN' ? reasonCode('OWNER_UNKNOWN') : esc(i.outcome ?? '-')}</td><td>${i.changeId ? `<a href="/console/changes/${encodeURIComponent(i.changeId)}"><code>${esc(i.changeId)}</code></a>` : '<span class="muted">-</span>'}</td></tr>`,
  )
  .join('\n')}
</tbody>
</table>`;
  const changes = c.changes.length
    ? `<h2>What it changed</h2><ul id="attestation-changes">${c.changes.map((k) => `<li data-change="${esc(k.changeId)}"><a href="/console/changes/${encodeURIComponent(k.changeId)}"><code>${esc(k.changeId)}</code></a> ${esc(k.reason === 'NOT_NEEDED' ? 'not needed' : 'no answer')}${k.owner ? ` (${esc(k.owner)})` : ''}${k.account ? ` in account <code>${esc(k.account)}</code>` : ''}: ${k.nhis.map((n) => `<code>${esc(n)}</code>`).join(', ')}${k.started ? '' : ' <span class="muted">(not started yet)</span>'}</li>`).join('')}</ul>`
    : '<p class="muted" id="attestation-changes">No change started yet.</p>';
  const unreadable = c.unreadableAccounts.length
    ? banner('bad', `<span id="attestation-unreadable">${c.unreadableAccounts.map((u) => `<span data-account="${esc(u.account)}">${reasonCode('CONNECTOR_ACCESS_DENIED')}: account <code>${esc(u.account)}</code> was not read, nobody there was asked (${esc(u.message)})</span>`).join('<br>')}</span>`)
    : '';
  const accounts = c.accounts.length ? ` across ${c.accounts.length === 1 ? 'account' : 'accounts'} ${c.accounts.map((a) => `<code>${esc(a)}</code>`).join(', ')}` : '';
  const state = c.state === 'OPEN' ? banner('warn', `Open: owners answer until ${esc(c.answerBy)}; unanswered NHIs are acted on from ${esc(c.actBy)}.`) : banner(c.status === 'VERIFIED' ? 'ok' : 'warn', `Closed ${statusPill(c.status)}.`);
  return {
    title: `Attestation ${c.campaignId}`,
    section: 'attestation',
    body: `${picker}<p>Campaign <a href="/console/changes/${encodeURIComponent(c.campaignId)}"><code>${esc(c.campaignId)}</code></a> (its evidence) started ${time(c.startedAt)}${accounts}.</p>\n${state}\n${unreadable}${owners}\n${items}\n${changes}`,
  };
}

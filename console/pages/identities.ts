import type { IdentitiesView, IdentityRow } from '../identities.js';
import { banner, esc, reasonCode, short, statusPill, time, type PageModel } from '../html.js';

export interface IdentitiesPageModel {
  readonly view: IdentitiesView;
  readonly now: Date;
}

const TYPE_LABEL = { user: 'IAM user', role: 'IAM role', secret: 'secret' } as const;

/** Every governed NHI: where it lives, who owns it, its credentials, what a reconcile would find, the changes it was in. */
export function renderIdentitiesPage(model: IdentitiesPageModel): PageModel {
  const { view } = model;
  const withFindings = view.rows.filter((r) => r.findings.length > 0).length;
  const findingsNote = view.findingsProblem
    ? banner('warn', `The open findings could not be computed: ${esc(view.findingsProblem)}`)
    : `<p class="muted">Open findings: what a reconcile of everything would report or do now (a dry run with policy ${view.policyVersion ? short(view.policyVersion, 12) : '-'}: nothing is written).</p>`;
  const body = view.rows.length
    ? `<table id="identities">
<caption>${view.rows.length} governed NHI${view.rows.length === 1 ? '' : 's'}, ${withFindings} with open findings; read ${time(view.takenAt)}</caption>
<thead><tr><th scope="col">NHI</th><th scope="col">Type</th><th scope="col">Account</th><th scope="col">Owner</th><th scope="col">Env</th><th scope="col">Credentials</th><th scope="col">Open findings</th><th scope="col">Held states</th><th scope="col">Changes</th></tr></thead>
<tbody>
${view.rows.map(row).join('\n')}
</tbody>
</table>`
    : '<p id="identities-empty">No governed NHI: nothing in this account carries the tag <code>nhi-governed=true</code>.</p>';
  return {
    title: 'Identities',
    section: 'identities',
    body: `<p class="muted">Every NHI tagged <code>nhi-governed=true</code>, read live (read-only).</p>\n${findingsNote}\n${body}`,
  };
}

function row(r: IdentityRow): string {
  return `<tr data-nhi="${esc(r.name)}" data-account="${esc(r.account ?? '')}" data-type="${esc(r.type)}" data-findings="${r.findings.length}">
<th scope="row"><code title="${esc(r.arn)}">${esc(r.name)}</code></th>
<td>${esc(TYPE_LABEL[r.type])}</td>
<td>${r.account ? `<code>${esc(r.account)}</code>` : '<span class="muted">-</span>'}</td>
<td>${r.owner ? esc(r.owner) : '<span class="pill bad">no owner</span>'}</td>
<td>${r.env ? esc(r.env) : '<span class="muted">-</span>'}</td>
<td>${credentials(r)}</td>
<td>${r.findings.length ? `<ul class="cell">${r.findings.map((f) => `<li>${reasonCode(f.reasonCode)} ${esc(f.message)}</li>`).join('')}</ul>` : '<span class="muted">none</span>'}</td>
<td>${heldStates(r)}</td>
<td>${r.changes.length ? `<ul class="cell">${r.changes.map((c) => `<li><a href="/console/changes/${encodeURIComponent(c.changeId)}"><code>${esc(c.changeId)}</code></a> ${statusPill(c.status)}</li>`).join('')}</ul>` : '<span class="muted">none</span>'}</td>
</tr>`;
}

const HELD_PILL = { holds: 'ok', drifted: 'bad', unknown: 'muted' } as const;

/** Each state a verified change left on the NHI, the change that established it, and whether it holds now. */
function heldStates(r: IdentityRow): string {
  if (!r.held.length) return '<span class="muted">none</span>';
  return `<ul class="cell">${r.held
    .map(
      (h) =>
        `<li class="held" data-held="${esc(h.verdict)}"><span class="pill ${HELD_PILL[h.verdict]}">${esc(h.verdict)}</span> ${esc(h.target.type)} <code>${esc(h.target.id)}</code> held <code>${esc(JSON.stringify(h.held))}</code>${h.live && h.verdict === 'drifted' ? `, now <code>${esc(JSON.stringify(h.live))}</code>` : ''} by <a href="/console/changes/${encodeURIComponent(h.establishedBy.changeId)}"><code>${esc(h.establishedBy.changeId)}</code></a></li>`,
    )
    .join('')}</ul>`;
}

function credentials(r: IdentityRow): string {
  if (r.secret) return `last rotated ${r.secret.lastRotatedAt ? time(r.secret.lastRotatedAt) : 'never'}`;
  if (r.type === 'role') return '<span class="muted">no long-lived credentials</span>';
  if (!r.accessKeys.length) return '<span class="muted">no access key</span>';
  return `<ul class="cell">${r.accessKeys
    .map((k) => `<li class="key" data-key="${esc(k.accessKeyId)}"><code>${esc(k.accessKeyId)}</code> <span class="pill ${k.status === 'Active' ? 'ok' : 'muted'}">${esc(k.status)}</span> ${k.ageDays} d old, last used ${k.lastUsedAt ? time(k.lastUsedAt) : 'never'}</li>`)
    .join('')}</ul>`;
}

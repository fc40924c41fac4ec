import type { PolicyStatusDocument } from '../../cli/lib/policy-status.js';
import { banner, esc, formatDuration, type PageModel, short, time } from '../html.js';

export interface PolicyPageModel {
  /** `nhigov policy status --json`'s document. */
  readonly status: PolicyStatusDocument;
  readonly now: Date;
}

/** Active version, who activated it and when, exemptions with expiry, runtimes and their lag. */
export function renderPolicyPage(model: PolicyPageModel): PageModel {
  const { status } = model;
  const active = status.active;
  const activeSection = !active
    ? banner('bad', 'No governance policy is active: every runtime refuses to decide (nhigov policy activate).')
    : `${active.valid ? banner('ok', `<p id="policy-valid">✔ Signature valid: the active version verifies against the trusted key <code>${esc(status.trustedKeyId)}</code>.</p>`) : banner('bad', `<p id="policy-valid">✘ The active version does not verify: ${esc(active.reason)}. Runtimes refuse it (fail closed).</p>`)}
<dl class="facts">
<dt>Name</dt><dd>${esc(active.name ?? '(unreadable)')}</dd>
<dt>Version</dt><dd><code id="policy-version">${esc(active.version)}</code></dd>
<dt>Activated by</dt><dd id="policy-activated-by">${esc(active.activatedBy)}</dd>
<dt>Activated at</dt><dd>${time(active.activatedAt)}</dd>
<dt>Supersedes</dt><dd>${active.supersedes ? short(active.supersedes, 16) : 'nothing (first activation)'}</dd>
<dt>Signed</dt><dd>${active.signedAt ? time(active.signedAt) : '-'} with key ${active.keyId ? `<code>${esc(active.keyId)}</code>` : '-'}</dd>
</dl>`;
  const exemptions = !active || active.exemptions.length === 0
    ? '<p>No exemption in the active policy.</p>'
    : `<table id="exemptions"><caption>Exemptions: an expired exemption stops applying by itself</caption>
<thead><tr><th scope="col">NHI</th><th scope="col">Reason</th><th scope="col">Ticket</th><th scope="col">Approved by</th><th scope="col">Expires</th><th scope="col">State</th></tr></thead>
<tbody>${active.exemptions
        .map((e) => {
          const left = Date.parse(e.expiresAt) - model.now.getTime();
          const state = e.inForce ? `<span class="pill ok">in force</span> <span class="muted">${esc(formatDuration(left))} left</span>` : '<span class="pill bad">expired</span>';
          return `<tr><th scope="row">${esc(e.nhi)}</th><td>${esc(e.reason)}</td><td>${esc(e.ticket)}</td><td>${esc(e.approver)}</td><td>${time(e.expiresAt)}</td><td>${state}</td></tr>`;
        })
        .join('')}</tbody></table>`;
  const runtimes = status.runtimes.length === 0
    ? '<p>No runtime has loaded a policy yet (each handler records the version it decides with when it first loads one).</p>'
    : `<table id="runtimes"><caption>${status.lagging === 0 ? 'Every runtime decides with the active version' : `${status.lagging} runtime${status.lagging === 1 ? '' : 's'} not on the active version`}</caption>
<thead><tr><th scope="col">Runtime</th><th scope="col">Version</th><th scope="col">Last seen</th><th scope="col">State</th><th scope="col" class="num">Versions behind</th><th scope="col">Lagging for</th></tr></thead>
<tbody>${status.runtimes
        .map((r) => `<tr><th scope="row">${esc(r.runtime)}</th><td>${short(r.version, 12)}</td><td>${time(r.lastSeenAt)}</td><td><span class="pill ${r.current ? 'ok' : r.state === 'idle' ? 'muted' : 'bad'}">${esc(r.state)}</span>${r.refusal ? `<br><small>${esc(r.refusal)}</small>` : ''}</td><td class="num">${r.versionsBehind ?? '?'}</td><td>${r.lagSeconds === null ? '-' : esc(formatDuration(r.lagSeconds * 1000))}</td></tr>`)
        .join('')}</tbody></table>`;
  const previous = status.previous.length === 0
    ? '<p>No earlier activation.</p>'
    : `<table><caption>Earlier activations, newest first</caption><thead><tr><th scope="col">Version</th><th scope="col">Name</th><th scope="col">Activated by</th><th scope="col">Activated</th><th scope="col">Superseded</th></tr></thead>
<tbody>${status.previous.map((p) => `<tr><th scope="row">${short(p.version, 16)}</th><td>${esc(p.name ?? '-')}</td><td>${esc(p.activatedBy)}</td><td>${time(p.activatedAt)}</td><td>${time(p.supersededAt)}</td></tr>`).join('')}</tbody></table>`;
  const body = `<p class="muted">The same document as <code>nhigov policy status</code>.</p>
<section aria-labelledby="active-h"><h2 id="active-h">Active version</h2>${activeSection}</section>
<section aria-labelledby="exemptions-h"><h2 id="exemptions-h">Exemptions</h2>${exemptions}</section>
<section aria-labelledby="lag-h"><h2 id="lag-h">Version lag</h2>${runtimes}</section>
<section aria-labelledby="previous-h"><h2 id="previous-h">History</h2>${previous}</section>`;
  return { title: 'Policy', section: 'policy', body };
}

import type { SignedApprovalLink } from '../domain/approval-link.js';
import { actionsInScope, reasonsInScope, type FollowUpScope } from '../domain/approval.js';
import type { Plan } from '../domain/plan-model.js';
import { followUpIntro } from '../notifications/approval-message.js';
import { compactJson, escapeHtml } from '../notifications/html.js';

/** Headers of every approval page: never cached, never framed, never leaking the link as a referrer. */
export const PAGE_HEADERS: Readonly<Record<string, string>> = {
  'content-type': 'text/html; charset=utf-8',
  'cache-control': 'no-store',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
  'x-content-type-options': 'nosniff',
  'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
};

const STYLE = `body{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#222}
table{border-collapse:collapse;width:100%;margin:1rem 0}td,th{border:1px solid #ccc;padding:.4rem;text-align:left;vertical-align:top;font-size:.9rem}
code{font-size:.85rem}.banner{padding:.6rem 1rem;border-radius:4px;margin:1rem 0}.warn{background:#fff4e5;border:1px solid #f0b429}.bad{background:#fde8e8;border:1px solid #e02424}.ok{background:#e8f5e9;border:1px solid #2e7d32}
textarea{width:100%;min-height:4rem}button{font-size:1rem;padding:.5rem 1.2rem;margin-right:1rem}`;

/** A page of the approval API (also the attestation pages): its style, no script. */
export function page(title: string, body: string): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="robots" content="noindex"><title>${escapeHtml(title)}</title><style>${STYLE}</style></head><body><h1>${escapeHtml(title)}</h1>${body}</body></html>`;
}

export interface ApprovalPageModel {
  readonly plan: Plan;
  readonly approvalId: string;
  readonly link: SignedApprovalLink;
  readonly afterTheFact: boolean;
  readonly expiresAt: string;
  /** Null: the approver may decide (the form is shown). Else why not. */
  readonly refusal: { readonly reason: string; readonly message: string } | null;
  readonly decidedBy?: { readonly approver: string; readonly decision: string; readonly decidedAt: string; readonly channel: string };
  /** How many decisions are still needed, and who approved so far. */
  readonly quorum?: { readonly text: string; readonly approvedBy: readonly string[] };
  /** A follow-up of an earlier decision: only its new actions are shown and decided. */
  readonly followUp?: FollowUpScope;
}

/** GET: the plan, before/after per action, risk, reasons, policy version; a form when the link may decide. */
export function renderApprovalPage(model: ApprovalPageModel): string {
  const { plan, link, followUp } = model;
  const rows = actionsInScope(plan, followUp)
    .map(
      (a) =>
        `<tr><td>${escapeHtml(a.actionId)}</td><td>${escapeHtml(a.kind)}</td><td>${escapeHtml(a.target.type)} <code>${escapeHtml(a.target.id)}</code><br><small>NHI ${escapeHtml(a.target.nhi)}</small></td>` +
        `<td><code>${escapeHtml(compactJson(a.before))}</code></td><td><code>${escapeHtml(compactJson(a.after))}</code></td>` +
        `<td>${a.risk.prod ? 'prod' : 'non-prod'}, ${a.risk.reversible ? 'reversible' : '<b>irreversible</b>'}</td><td>${escapeHtml(a.finding)}</td></tr>`,
    )
    .join('');
  const banner = followUp
    ? `<div class="banner warn">${escapeHtml(followUpIntro(plan, followUp))}</div>`
    : model.afterTheFact
    ? '<div class="banner warn">Emergency containment: these actions were <b>already applied and verified</b>. Approve to keep them; reject to roll them back (each undo is verified).</div>'
    : '<div class="banner ok">Nothing has been changed yet. Approve to apply these actions (each is verified by reading the target back); reject to end the change with nothing written.</div>';
  const decided = model.decidedBy
    ? `<div class="banner bad">Already decided: ${escapeHtml(model.decidedBy.decision)} by ${escapeHtml(model.decidedBy.approver)} at ${escapeHtml(model.decidedBy.decidedAt)} (${escapeHtml(model.decidedBy.channel)}).</div>`
    : '';
  const refusal = model.refusal && !model.decidedBy ? `<div class="banner bad"><b>${escapeHtml(model.refusal.reason)}</b>: ${escapeHtml(model.refusal.message)}</div>` : '';
  const form = model.refusal
    ? ''
    : `<form method="post" action="${escapeHtml(encodeURIComponent(model.approvalId))}">` +
      `<input type="hidden" name="approver" value="${escapeHtml(link.approver)}"><input type="hidden" name="exp" value="${escapeHtml(link.exp)}">` +
      `<input type="hidden" name="via" value="${escapeHtml(link.channel)}"><input type="hidden" name="sig" value="${escapeHtml(link.sig)}">` +
      `<p><label>Comment (recorded as evidence)<br><textarea name="comment" maxlength="1000"></textarea></label></p>` +
      `<p><button type="submit" name="decision" value="approve">Approve</button><button type="submit" name="decision" value="reject">Reject</button></p></form>`;
  const body = [
    `<p>Change <code>${escapeHtml(plan.changeId)}</code> · ${escapeHtml(plan.trigger.detailType)} · deciding as <b>${escapeHtml(link.approver)}</b></p>`,
    banner,
    decided,
    refusal,
    `<h2>Why approval is required</h2><ul>${reasonsInScope(plan, followUp).map((r) => `<li>${escapeHtml(r)}</li>`).join('')}</ul>`,
    model.quorum && !model.decidedBy
      ? `<p><b>Decisions needed:</b> ${escapeHtml(model.quorum.text)}${model.quorum.approvedBy.length ? ` · approved so far by ${escapeHtml(model.quorum.approvedBy.join(', '))}` : ''}</p>`
      : '',
    `<h2>${followUp ? 'New actions (follow-up)' : 'Actions'}</h2><table><tr><th>action</th><th>kind</th><th>target</th><th>before</th><th>after</th><th>risk</th><th>reason</th></tr>${rows}</table>`,
    plan.findings.length ? `<h2>Findings</h2><ul>${plan.findings.map((f) => `<li>${escapeHtml(f.reasonCode)} ${escapeHtml(f.nhi)}: ${escapeHtml(f.message)}</li>`).join('')}</ul>` : '',
    `<p><small>Policy version <code>${escapeHtml(plan.policyVersion)}</code> · approver group ${escapeHtml(plan.approval.group)} · link expires ${escapeHtml(model.expiresAt)} · works once</small></p>`,
    form,
  ].join('\n');
  return page(followUp ? 'Approve follow-up of a change' : model.afterTheFact ? 'Approve emergency containment' : 'Approve change', body);
}

/** A short page: a refusal, or the decision taken. */
export function renderMessagePage(title: string, message: string, tone: 'ok' | 'bad'): string {
  return page(title, `<div class="banner ${tone}">${escapeHtml(message)}</div>`);
}

import type { ShowDocument } from '../../cli/lib/changes.js';
import type { EvidenceReport } from '../../cli/lib/evidence-report.js';
import { summarizeEvent } from '../../cli/lib/evidence-format.js';
import type { EvidenceEvent } from '../../lambdas/domain/evidence.js';
import type { PlanAction } from '../../lambdas/domain/plan-model.js';
import { banner, esc, jsonBlock, type PageModel, reasonCode, short, statusPill, time } from '../html.js';
import { REFRESH_BUSY_SECONDS } from './changes.js';

export interface ChangePageModel {
  readonly doc: ShowDocument;
  /** `nhigov evidence CHANGE_ID --json`'s document: the events and the chain verdict. */
  readonly report: EvidenceReport | null;
  /** The outcome of a decision just taken from this page. */
  readonly flash?: { readonly tone: 'ok' | 'bad'; readonly message: string } | null;
}

type ActionOutcome = ShowDocument['actions'][number];

/** Statuses during which the workflow is working (not waiting for a person): the page reloads itself. */
const BUSY = new Set(['PLANNED', 'APPLYING', 'VERIFYING', 'ROLLING_BACK']);

export function renderChangePage(model: ChangePageModel): PageModel {
  const { doc } = model;
  const base = `/console/changes/${encodeURIComponent(doc.changeId)}`;
  const busy = BUSY.has(doc.status) || (doc.executionStatus === 'RUNNING' && doc.status !== 'AWAITING_APPROVAL');
  const sections = [
    model.flash ? banner(model.flash.tone, esc(model.flash.message)) : '',
    busy ? `<p class="muted" role="status">The workflow is working on this change: this page reloads every ${REFRESH_BUSY_SECONDS} s.</p>` : '',
    summary(doc, base),
    approvalSection(doc, base),
    planSection(doc),
    evidenceSection(doc, model.report, base),
  ];
  return {
    title: `Change ${doc.changeId}`,
    section: 'changes',
    titleSuffix: statusPill(doc.status),
    body: sections.filter(Boolean).join('\n'),
    ...(busy ? { refreshSeconds: REFRESH_BUSY_SECONDS } : {}),
  };
}

function summary(doc: ShowDocument, base: string): string {
  const trigger = doc.plan?.trigger;
  return `<section aria-labelledby="summary-h"><h2 id="summary-h">Summary</h2>
<dl class="facts">
<dt>Status</dt><dd id="change-status" data-status="${esc(doc.status)}">${statusPill(doc.status)}${doc.executionStatus ? ` <span class="muted">(execution ${esc(doc.executionStatus)})</span>` : ''}</dd>
<dt>Trigger</dt><dd>${esc(doc.trigger)}${trigger ? ` <span class="muted">from ${esc(trigger.source)}, event <code>${esc(trigger.eventId)}</code></span>` : ''}</dd>
${trigger ? `<dt>Event detail</dt><dd><code>${esc(JSON.stringify(trigger.detail))}</code></dd>` : ''}
${trigger?.requestedBy ? `<dt>Requested by</dt><dd>${esc(trigger.requestedBy)}</dd>` : ''}
<dt>Created</dt><dd>${time(doc.createdAt)}</dd>
<dt>Owners</dt><dd>${doc.plan?.approval.owners.length ? doc.plan.approval.owners.map(esc).join(', ') : '-'}</dd>
<dt>Reason codes</dt><dd>${doc.reasonCodes.length ? doc.reasonCodes.map(reasonCode).join(' ') : '-'}</dd>
<dt>Plan</dt><dd>${doc.planHash ? short(doc.planHash, 16) : '-'} · ${doc.actions.length} action${doc.actions.length === 1 ? '' : 's'}</dd>
<dt>Policy version</dt><dd>${doc.policyVersion ? short(doc.policyVersion, 16) : '-'}</dd>
<dt>Evidence exports</dt><dd><a href="${base}/evidence.json">JSON</a> · <a href="${base}/evidence.html">HTML report</a> · <a href="${base}/evidence.csv">CSV</a> · <a href="${base}/show.json"><code>show</code> document</a></dd>
</dl></section>`;
}

function approvalSection(doc: ShowDocument, base: string): string {
  const required = doc.plan?.approval.required ?? false;
  const approval = doc.approval as Record<string, unknown> | null;
  const head = '<section aria-labelledby="approval-h"><h2 id="approval-h">Approval</h2>';
  if (!approval) {
    if (!required) return `${head}<p id="approval-state">Not required: the policy asks for approval for no NHI or action of this plan.</p></section>`;
    return `${head}<p id="approval-state">Required (${doc.plan?.approval.reasons.map(esc).join('; ')}); not requested yet.</p></section>`;
  }
  const status = String(approval.status ?? 'UNKNOWN');
  const eligible = stringList(approval.approvers);
  const reasons = stringList(approval.reasons);
  const facts = [
    ['State', `<span id="approval-state">${statusPill(status)}</span>${approval.afterTheFact ? ' <strong>after the fact</strong> (emergency containment already applied)' : ''}`],
    ['Why', reasons.length ? reasons.map(esc).join('<br>') : '-'],
    ['Approvers', `group ${esc(approval.group)}; eligible: ${eligible.map(esc).join(', ') || 'nobody'}`],
    ['Requested', time(str(approval.requestedAt))],
    ['Expires', time(str(approval.expiresAt))],
    ...(approval.decidedBy ? [['Decided', `${esc(approval.decidedBy)} via ${esc(approval.channel)} at ${time(str(approval.decidedAt))}${approval.comment ? `: “${esc(approval.comment)}”` : ''}`]] : []),
    ...(!approval.decidedBy && typeof approval.stillNeeded === 'number' && approval.stillNeeded > 0
      ? [['Still needed', `${approval.stillNeeded} more approval${approval.stillNeeded === 1 ? '' : 's'}; approved so far by ${stringList(approval.approvedBy).map(esc).join(', ') || 'nobody'}`]]
      : []),
  ];
  const dl = `<dl class="facts">${facts.map(([k, v]) => `<dt>${k}</dt><dd>${v}</dd>`).join('')}</dl>`;
  const open = status === 'PENDING' && doc.status === 'AWAITING_APPROVAL';
  return `${head}${dl}${open ? decisionForm(doc, eligible, base) : ''}</section>`;
}

/**
 * Approve / Reject as a chosen approver identity. The console mints that approver's signed link
 * and posts it to the approval API, exactly as the emailed link would: the API decides who may.
 */
function decisionForm(doc: ShowDocument, eligible: readonly string[], base: string): string {
  // The group's eligible members first; then the others the API will refuse, to show separation of duties at work.
  const group = doc.plan?.approval.approvers ?? [];
  const owners = doc.plan?.approval.owners ?? [];
  const requester = doc.plan?.trigger.requestedBy;
  const identities = [...new Set([...eligible, ...group, ...owners, ...(requester ? [requester] : [])])];
  const note = (who: string) =>
    eligible.includes(who) ? '' : owners.includes(who) ? ' (owner: will be refused)' : who === requester ? ' (requester: will be refused)' : group.includes(who) ? ' (barred by separation of duties)' : ' (not an approver)';
  const options = identities.map((who, i) => `<option value="${esc(who)}"${i === 0 ? ' selected' : ''}>${esc(who)}${esc(note(who))}</option>`).join('');
  return `<form id="decision" method="post" action="${base}/decision" aria-labelledby="decision-h">
<h3 id="decision-h">Decide as an approver</h3>
<p class="muted">Locally you choose who you are. The decision goes through the same signed-link approval API as the emailed link, which enforces the group and separation of duties.</p>
<p><label for="approver">Approver identity</label><br><select id="approver" name="approver">${options}</select></p>
<p><label for="comment">Comment (recorded as evidence)</label><textarea id="comment" name="comment" maxlength="1000"></textarea></p>
<div class="buttons"><button type="submit" class="approve" name="decision" value="approve">Approve</button><button type="submit" class="reject" name="decision" value="reject">Reject</button></div>
</form>`;
}

function planSection(doc: ShowDocument): string {
  const plan = doc.plan;
  if (!plan) return '<section aria-labelledby="plan-h"><h2 id="plan-h">Plan</h2><p>No plan stored yet.</p></section>';
  const outcomes = new Map(doc.actions.map((a) => [a.actionId, a]));
  const findings = plan.findings.length
    ? `<h3>Findings without an action</h3><ul>${plan.findings.map((f) => `<li>${reasonCode(f.reasonCode)} <strong>${esc(f.nhi)}</strong>: ${esc(f.message)}</li>`).join('')}</ul>`
    : '';
  const actions = plan.actions.length ? plan.actions.map((a) => actionCard(a, outcomes.get(a.actionId))).join('\n') : '<p>The plan has no action.</p>';
  return `<section aria-labelledby="plan-h"><h2 id="plan-h">Plan: before → after, per action</h2>
<p class="muted">Evaluated as of ${time(plan.asOf)} under policy ${short(plan.policyVersion, 12)}. Each action carries the fingerprint of the live state it expects; apply stops with <code>PLAN_STALE</code> if the target moved.</p>
${actions}
${findings}</section>`;
}

function actionCard(action: PlanAction, outcome: ActionOutcome | undefined): string {
  const risk = `${action.risk.prod ? 'prod' : 'non-prod'}, ${action.risk.reversible ? 'reversible' : 'IRREVERSIBLE'}`;
  const observed = outcome?.observed ?? null;
  return `<article class="action" id="action-${esc(action.actionId)}" aria-labelledby="action-${esc(action.actionId)}-h">
<h3 id="action-${esc(action.actionId)}-h"><code>${esc(action.actionId)}</code> ${esc(action.kind)} on ${esc(action.target.type)} <code>${esc(action.target.id)}</code> <span class="muted">(NHI ${esc(action.target.nhi)}${action.target.account ? `, account ${esc(action.target.account)}` : ''})</span> ${statusPill(outcome?.status ?? 'PLANNED')}</h3>
<p class="inline-facts"><span><span class="k">Risk</span> ${action.risk.prod || !action.risk.reversible ? `<strong>${esc(risk)}</strong>` : esc(risk)}</span>
<span><span class="k">Finding</span> ${reasonCode(action.finding)}</span>
<span><span class="k">Attempts</span> ${outcome?.attempts ?? 0}</span>
<span><span class="k">Reason code</span> ${outcome?.reasonCode ? reasonCode(outcome.reasonCode) : '-'}</span>
<span><span class="k">Undo</span> ${action.inverse ? `<code>${esc(action.inverse.kind)}</code>` : '<strong>none: irreversible</strong>'}</span></p>
${diffTable(action, observed)}
</article>`;
}

/** One row per field: the state before, the state the plan wants, and what verification read back. */
function diffTable(action: PlanAction, observed: Record<string, unknown> | null): string {
  const keys = [...new Set([...Object.keys(action.before), ...Object.keys(action.after), ...Object.keys(observed ?? {})])];
  const cell = (value: unknown) => (value === undefined ? '<span class="muted">(absent)</span>' : `<code>${esc(JSON.stringify(value))}</code>`);
  const rows = keys
    .map((key) => {
      const before = action.before[key];
      const after = action.after[key];
      const changed = JSON.stringify(before) !== JSON.stringify(after);
      const seen = observed ? observed[key] : undefined;
      const matches = observed ? JSON.stringify(seen) === JSON.stringify(after) : null;
      return `<tr><th scope="row"><code>${esc(key)}</code></th>
<td${changed ? ' class="changed"' : ''}>${changed ? `<del><span class="sr-only">was </span>${cell(before)}</del>` : cell(before)}</td>
<td${changed ? ' class="changed"' : ''}>${changed ? `<ins><span class="sr-only">becomes </span>${cell(after)}</ins>` : cell(after)}</td>
<td>${observed ? `${cell(seen)} ${matches ? '<span class="pill ok">matches</span>' : '<span class="pill bad">differs</span>'}` : '<span class="muted">not read back yet</span>'}</td></tr>`;
    })
    .join('');
  return `<table class="diff"><caption class="sr-only">Before → after for ${esc(action.actionId)}; observed is what verification read back</caption>
<thead><tr><th scope="col">field</th><th scope="col">before</th><th scope="col">after (planned)</th><th scope="col">observed</th></tr></thead><tbody>${rows}</tbody></table>`;
}

function evidenceSection(doc: ShowDocument, report: EvidenceReport | null, base: string): string {
  const events = report?.events ?? doc.evidence;
  const chain = report?.chain;
  const badge = !chain
    ? banner('warn', 'The chain could not be checked.')
    : chain.ok
      ? banner('ok', `<p id="chain-badge" data-chain="verified"><strong>✔ Chain verified</strong>: ${chain.events} event${chain.events === 1 ? '' : 's'}, every hash recomputed from the genesis hash${chain.complete ? ', closed by COMPLETED' : ' (the change is still open)'}.</p>${chain.head ? `<p>Head: seq ${chain.head.seq}, ${short(chain.head.hash, 16)}</p>` : ''}${chain.warnings.map((w) => `<p>Warning: ${esc(w)}</p>`).join('')}`)
      : banner('bad', `<p id="chain-badge" data-chain="broken"><strong>✘ Chain broken</strong> at seq ${esc(chain.brokenAt)}${chain.brokenType ? ` (${esc(chain.brokenType)})` : ''}: ${esc(chain.reason)}</p>`);
  const items = events.map(timelineItem).join('\n');
  return `<section aria-labelledby="evidence-h"><h2 id="evidence-h">Evidence timeline</h2>
${badge}
<p class="muted">The same check as <code>nhigov evidence verify ${esc(doc.changeId)}</code>. Exports: <a href="${base}/evidence.json">JSON</a> · <a href="${base}/evidence.html">HTML report</a> · <a href="${base}/evidence.csv">CSV</a></p>
${events.length ? `<ol class="timeline" id="timeline">${items}</ol>` : '<p>No evidence yet.</p>'}
</section>`;
}

function timelineItem(event: EvidenceEvent): string {
  const subject = [event.actionId ? `action ${event.actionId}` : '', event.nhi ? `NHI ${event.nhi}` : ''].filter(Boolean).join(', ');
  const line = summarizeEvent(event);
  return `<li id="evidence-${event.seq}" data-type="${esc(event.type)}"${event.reasonCode ? ' class="has-reason"' : ''}>
<strong>${esc(event.type)}</strong>${subject ? ` · ${esc(subject)}` : ''}${event.reasonCode ? ` ${reasonCode(event.reasonCode)}` : ''}
<div class="meta">#${event.seq} · ${time(event.at)} · by ${esc(event.actor)} · hash ${short(event.hash, 12)}</div>
${line ? `<div>${esc(line)}</div>` : ''}
<details><summary>Event data <span class="sr-only">of event ${event.seq}</span></summary>${jsonBlock(event.data)}</details>
</li>`;
}

function stringList(value: unknown): string[] {
  return Array.isArray(value) ? value.map(String) : [];
}

function str(value: unknown): string | null {
  return typeof value === 'string' ? value : null;
}

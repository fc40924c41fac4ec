import type { Plan, PlanAction } from '../domain/plan-model.js';
import { compactJson, escapeHtml } from './html.js';
import type { SlackMessage } from './slack.js';

/** What an approval request says, whatever the channel. */
export interface ApprovalRequestView {
  readonly plan: Plan;
  readonly afterTheFact: boolean;
  readonly expiresAt: string;
}

/** One approver's link (made for them, signed for them). */
export interface ApproverLink {
  readonly approver: string;
  readonly url: string;
}

export function approvalSubject(view: ApprovalRequestView): string {
  const { plan } = view;
  const what = `${plan.trigger.detailType}: ${nhisOf(plan).join(', ') || 'no NHI'}`;
  return view.afterTheFact
    ? `[nhi-governor] Approval after the fact (already contained): ${what} (${plan.changeId})`
    : `[nhi-governor] Approval needed: ${what} (${plan.changeId})`;
}

function nhisOf(plan: Plan): string[] {
  return [...new Set(plan.actions.map((a) => a.target.nhi))];
}

function riskLabel(action: PlanAction): string {
  return [action.risk.prod ? 'prod' : 'non-prod', action.risk.reversible ? 'reversible' : 'IRREVERSIBLE'].join(', ');
}

function actionLine(action: PlanAction): string {
  return `${action.actionId}  ${action.kind}  ${action.target.type} ${action.target.id} (${action.target.nhi})  ${compactJson(action.before)} -> ${compactJson(action.after)}  [${riskLabel(action)}; ${action.finding}]`;
}

function intro(view: ApprovalRequestView): string {
  return view.afterTheFact
    ? 'These actions were already applied and verified (emergency containment). Approve to keep them; reject to roll them back.'
    : 'Nothing has been changed yet. Approve to apply these actions; reject to end the change with nothing written.';
}

/** The email one approver receives: the plan and their own link (no token, no secret value). */
export function approvalEmail(view: ApprovalRequestView, link: ApproverLink): { subject: string; text: string; html: string } {
  const { plan } = view;
  const text = [
    `Change ${plan.changeId} (${plan.trigger.detailType}) needs your decision, ${link.approver}.`,
    intro(view),
    '',
    'Why approval is required:',
    ...plan.approval.reasons.map((r) => `  - ${r}`),
    '',
    'Actions:',
    ...plan.actions.map((a) => `  ${actionLine(a)}`),
    '',
    `Policy version: ${plan.policyVersion}`,
    `The link expires at ${view.expiresAt}. It is yours alone and works once.`,
    '',
    `Review and decide: ${link.url}`,
  ].join('\n');
  const rows = plan.actions
    .map(
      (a) =>
        `<tr><td>${escapeHtml(a.actionId)}</td><td>${escapeHtml(a.kind)}</td><td>${escapeHtml(`${a.target.type} ${a.target.id}`)}<br><small>${escapeHtml(a.target.nhi)}</small></td><td><code>${escapeHtml(compactJson(a.before))}</code></td><td><code>${escapeHtml(compactJson(a.after))}</code></td><td>${escapeHtml(riskLabel(a))}</td><td>${escapeHtml(a.finding)}</td></tr>`,
    )
    .join('');
  const html = [
    `<p>Change <b>${escapeHtml(plan.changeId)}</b> (${escapeHtml(plan.trigger.detailType)}) needs your decision, ${escapeHtml(link.approver)}.</p>`,
    `<p>${escapeHtml(intro(view))}</p>`,
    `<p>Why approval is required:</p><ul>${plan.approval.reasons.map((r) => `<li>${escapeHtml(r)}</li>`).join('')}</ul>`,
    `<table border="1" cellpadding="4" cellspacing="0"><tr><th>action</th><th>kind</th><th>target</th><th>before</th><th>after</th><th>risk</th><th>reason</th></tr>${rows}</table>`,
    `<p>Policy version <code>${escapeHtml(plan.policyVersion)}</code>. The link expires at ${escapeHtml(view.expiresAt)}; it is yours alone and works once.</p>`,
    `<p><a href="${escapeHtml(link.url)}">Review and decide</a></p>`,
  ].join('\n');
  return { subject: approvalSubject(view), text, html };
}

/** The channel message: the plan in short and one link per approver. */
export function approvalSlackMessage(view: ApprovalRequestView, links: readonly ApproverLink[]): SlackMessage {
  const { plan } = view;
  const text = approvalSubject(view);
  const actions = plan.actions.map((a) => `• \`${a.actionId}\` ${a.kind} on ${a.target.type} \`${a.target.id}\` (${riskLabel(a)})`).join('\n');
  return {
    text,
    blocks: [
      { type: 'section', text: { type: 'mrkdwn', text: `*${text}*\n${intro(view)}` } },
      { type: 'section', text: { type: 'mrkdwn', text: `*Why:* ${plan.approval.reasons.join('; ')}\n${actions}` } },
      { type: 'section', text: { type: 'mrkdwn', text: links.map((l) => `<${l.url}|Review as ${l.approver}>`).join('\n') || 'No approver may decide this change.' } },
      { type: 'context', elements: [{ type: 'mrkdwn', text: `policy ${plan.policyVersion.slice(0, 12)} · expires ${view.expiresAt} · each link is for the approver it names and works once` }] },
    ],
  };
}

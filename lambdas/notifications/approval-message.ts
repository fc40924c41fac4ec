import type { Plan, PlanAction } from '../domain/plan-model.js';
import { compactJson, escapeHtml } from './html.js';
import type { SlackMessage } from './slack.js';
import { actionsInScope, reasonsInScope, type FollowUpScope } from '../domain/approval.js';
import { describeQuorum, type Quorum } from '../domain/approval-rules.js';

/** What an approval request says, whatever the channel. */
export interface ApprovalRequestView {
  readonly plan: Plan;
  readonly afterTheFact: boolean;
  readonly expiresAt: string;
  /** How many decisions are still needed, by rule. */
  readonly quorum: Quorum;
  /** New work found after Apply that the earlier decision does not cover: only its actions are asked about. */
  readonly followUp?: FollowUpScope;
}

/** One approver's link (made for them, signed for them). */
export interface ApproverLink {
  readonly approver: string;
  readonly url: string;
}

export function approvalSubject(view: ApprovalRequestView): string {
  const { plan } = view;
  const what = `${plan.trigger.detailType}: ${nhisOf(actionsInScope(plan, view.followUp)).join(', ') || 'no NHI'}`;
  if (view.followUp) return `[nhi-governor] Follow-up approval needed (new work after an earlier decision): ${what} (${plan.changeId})`;
  return view.afterTheFact
    ? `[nhi-governor] Approval after the fact (already contained): ${what} (${plan.changeId})`
    : `[nhi-governor] Approval needed: ${what} (${plan.changeId})`;
}

function nhisOf(actions: readonly PlanAction[]): string[] {
  return [...new Set(actions.map((a) => a.target.nhi))];
}

function riskLabel(action: PlanAction): string {
  return [action.risk.prod ? 'prod' : 'non-prod', action.risk.reversible ? 'reversible' : 'IRREVERSIBLE'].join(', ');
}

function actionLine(action: PlanAction): string {
  return `${action.actionId}  ${action.kind}  ${action.target.type} ${action.target.id} (${action.target.nhi})  ${compactJson(action.before)} -> ${compactJson(action.after)}  [${riskLabel(action)}; ${action.finding}]`;
}

/** What a follow-up request is, in words: the same for email, Slack and the page. */
export function followUpIntro(plan: Pick<Plan, 'changeId'>, followUp: FollowUpScope): string {
  return (
    `Follow-up of an earlier decision on change ${plan.changeId} (plan ${followUp.of.slice(0, 12)}): what was decided then is applied and verified. ` +
    `Reading the live state again found new work that decision does not cover (follow-up round ${followUp.round}). ` +
    'Nothing of it has been changed yet. Approve to apply only the actions below; reject to leave them undone (the change then ends ESCALATED, INTENT_NOT_HELD; what it already applied stays).'
  );
}

function intro(view: ApprovalRequestView): string {
  if (view.followUp) return followUpIntro(view.plan, view.followUp);
  return view.afterTheFact
    ? 'These actions were already applied and verified (emergency containment). Approve to keep them; reject to roll them back.'
    : 'Nothing has been changed yet. Approve to apply these actions; reject to end the change with nothing written.';
}

/** The email one approver receives: the plan and their own link (no token, no secret value). */
export function approvalEmail(view: ApprovalRequestView, link: ApproverLink): { subject: string; text: string; html: string } {
  const { plan } = view;
  const actions = actionsInScope(plan, view.followUp);
  const reasons = reasonsInScope(plan, view.followUp);
  const text = [
    `Change ${plan.changeId} (${plan.trigger.detailType}) needs your decision, ${link.approver}.`,
    intro(view),
    '',
    'Why approval is required:',
    ...reasons.map((r) => `  - ${r}`),
    '',
    `Decisions needed: ${quorumLine(view)}`,
    '',
    'Actions:',
    ...actions.map((a) => `  ${actionLine(a)}`),
    '',
    `Policy version: ${plan.policyVersion}`,
    `The link expires at ${view.expiresAt}. It is yours alone and works once.`,
    '',
    `Review and decide: ${link.url}`,
  ].join('\n');
  const rows = actions
    .map(
      (a) =>
        `<tr><td>${escapeHtml(a.actionId)}</td><td>${escapeHtml(a.kind)}</td><td>${escapeHtml(`${a.target.type} ${a.target.id}`)}<br><small>${escapeHtml(a.target.nhi)}</small></td><td><code>${escapeHtml(compactJson(a.before))}</code></td><td><code>${escapeHtml(compactJson(a.after))}</code></td><td>${escapeHtml(riskLabel(a))}</td><td>${escapeHtml(a.finding)}</td></tr>`,
    )
    .join('');
  const html = [
    `<p>Change <b>${escapeHtml(plan.changeId)}</b> (${escapeHtml(plan.trigger.detailType)}) needs your decision, ${escapeHtml(link.approver)}.</p>`,
    `<p>${escapeHtml(intro(view))}</p>`,
    `<p>Why approval is required:</p><ul>${reasons.map((r) => `<li>${escapeHtml(r)}</li>`).join('')}</ul>`,
    `<p>Decisions needed: ${escapeHtml(quorumLine(view))}</p>`,
    `<table border="1" cellpadding="4" cellspacing="0"><tr><th>action</th><th>kind</th><th>target</th><th>before</th><th>after</th><th>risk</th><th>reason</th></tr>${rows}</table>`,
    `<p>Policy version <code>${escapeHtml(plan.policyVersion)}</code>. The link expires at ${escapeHtml(view.expiresAt)}; it is yours alone and works once.</p>`,
    `<p><a href="${escapeHtml(link.url)}">Review and decide</a></p>`,
  ].join('\n');
  return { subject: approvalSubject(view), text, html };
}

/** '2 approvals needed: critical-two-person (iam-approvers) 0 of 2; default (iam-approvers) 0 of 1'. */
export function quorumLine(view: Pick<ApprovalRequestView, 'quorum'>): string {
  return describeQuorum(view.quorum).replace(' more approval', ' approval');
}

function summaryBlocks(view: ApprovalRequestView): Array<Record<string, unknown>> {
  const { plan } = view;
  const actions = actionsInScope(plan, view.followUp).map((a) => `• \`${a.actionId}\` ${a.kind} on ${a.target.type} \`${a.target.id}\` (${riskLabel(a)})`).join('\n');
  return [
    { type: 'section', text: { type: 'mrkdwn', text: `*${approvalSubject(view)}*\n${intro(view)}` } },
    { type: 'section', text: { type: 'mrkdwn', text: `*Why:* ${reasonsInScope(plan, view.followUp).join('; ')}\n*Decisions needed:* ${quorumLine(view)}\n${actions}` } },
  ];
}

/**
 * The channel message: the change in short and who was asked. It links to nothing that decides:
 * everyone in the channel reads it; each approver's link went to them alone (email, direct message).
 */
export function approvalSlackAnnouncement(view: ApprovalRequestView, approvers: readonly string[], directMessaged: readonly string[]): SlackMessage {
  const asked = approvers.map((a) => `${a} (email${directMessaged.includes(a) ? ', direct message' : ''})`).join(', ') || 'no approver may decide this change';
  return {
    text: approvalSubject(view),
    blocks: [
      ...summaryBlocks(view),
      { type: 'section', text: { type: 'mrkdwn', text: `*Asked:* ${asked}` } },
      { type: 'context', elements: [{ type: 'mrkdwn', text: `policy ${view.plan.policyVersion.slice(0, 12)} · expires ${view.expiresAt} · each approver received their own link; \`nhigov show ${view.plan.changeId}\`` } ] },
    ],
  };
}

/** One approver's direct message (`channel: @U…`): the change in short and their own link. */
export function approvalSlackDirectMessage(view: ApprovalRequestView, slackUserId: string, link: ApproverLink): SlackMessage {
  return {
    channel: `@${slackUserId}`,
    text: approvalSubject(view),
    blocks: [
      ...summaryBlocks(view),
      { type: 'section', text: { type: 'mrkdwn', text: `<${link.url}|Review and decide as ${link.approver}>` } },
      { type: 'context', elements: [{ type: 'mrkdwn', text: `policy ${view.plan.policyVersion.slice(0, 12)} · expires ${view.expiresAt} · this link is yours alone` }] },
    ],
  };
}

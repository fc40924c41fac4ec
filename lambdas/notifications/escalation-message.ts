import type { Plan, PlanFinding } from '../domain/plan-model.js';
import type { GovernancePolicy } from '../domain/policy.js';
import { REASON_CODES, type OwnerRoute, type ReasonCode } from '../domain/reasons.js';
import { escapeHtml } from './html.js';

export interface EscalationRecipient {
  readonly route: Exclude<OwnerRoute, null>;
  readonly email: string;
  readonly reasonCodes: ReasonCode[];
}

/**
 * Who hears of an escalation: the owner route of each reason code (policy.routes). The `owner`
 * route goes to the owners of the NHIs the change touched (never to a person being offboarded),
 * or to routes.owner when there is none.
 */
export function escalationRecipients(policy: GovernancePolicy, reasonCodes: readonly ReasonCode[], plan: Plan | null): EscalationRecipient[] {
  const byEmail = new Map<string, EscalationRecipient>();
  const leaving = plan?.trigger.detailType === 'Employee Terminated' ? String((plan.trigger.detail as { email?: unknown }).email ?? '') : '';
  const nhiOwners = (plan?.approval.owners ?? []).filter((o) => o !== leaving);
  for (const code of reasonCodes) {
    const route = REASON_CODES[code].route;
    if (route === null) continue;
    const emails = route === 'owner' && nhiOwners.length > 0 ? nhiOwners : [policy.routes[route]];
    for (const email of emails) {
      const known = byEmail.get(email);
      if (known) {
        if (!known.reasonCodes.includes(code)) known.reasonCodes.push(code);
      } else {
        byEmail.set(email, { route, email, reasonCodes: [code] });
      }
    }
  }
  return [...byEmail.values()];
}

export function escalationEmail(
  changeId: string,
  trigger: string,
  recipient: EscalationRecipient,
  allCodes: readonly ReasonCode[],
  findings: readonly Pick<PlanFinding, 'nhi' | 'reasonCode' | 'message' | 'account'>[] = [],
): { subject: string; text: string; html: string } {
  const subject = `[nhi-governor] Escalated to ${recipient.route}: change ${changeId} (${recipient.reasonCodes.join(', ')})`;
  const lines = allCodes.map((code) => `${code} (${REASON_CODES[code].category}${REASON_CODES[code].route ? `, routed to ${REASON_CODES[code].route}` : ''})`);
  // What the plan found for this recipient's codes: which NHI, which account (an account that could not be read).
  const found = findings.filter((f) => recipient.reasonCodes.includes(f.reasonCode)).map((f) => `${f.reasonCode}${f.account ? ` in account ${f.account}` : ''} on ${f.nhi}: ${f.message}`);
  const text = [
    `Change ${changeId} (${trigger}) ended ESCALATED and needs a person.`,
    '',
    'Reason codes:',
    ...lines.map((l) => `  - ${l}`),
    ...(found.length > 0 ? ['', 'Found:', ...found.map((l) => `  - ${l}`)] : []),
    '',
    'What was verified stays in place; see the evidence trail:',
    `  nhigov show ${changeId}`,
    `  nhigov evidence ${changeId}`,
  ].join('\n');
  const html = [
    `<p>Change <b>${escapeHtml(changeId)}</b> (${escapeHtml(trigger)}) ended <b>ESCALATED</b> and needs a person.</p>`,
    `<ul>${lines.map((l) => `<li>${escapeHtml(l)}</li>`).join('')}</ul>`,
    ...(found.length > 0 ? [`<p>Found:</p><ul>${found.map((l) => `<li>${escapeHtml(l)}</li>`).join('')}</ul>`] : []),
    `<p>What was verified stays in place. Evidence: <code>nhigov show ${escapeHtml(changeId)}</code>, <code>nhigov evidence ${escapeHtml(changeId)}</code>.</p>`,
  ].join('\n');
  return { subject, text, html };
}

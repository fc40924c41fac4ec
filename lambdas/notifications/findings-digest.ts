import type { PlanFinding } from '../domain/plan-model.js';
import type { GovernancePolicy } from '../domain/policy.js';
import { REASON_CODES, type OwnerRoute, type ReasonCode } from '../domain/reasons.js';
import { escapeHtml } from './html.js';

/** One recipient's share of a change's findings: one digest email. */
export interface FindingsDigest {
  /** The route of the digest's first finding (a recipient may stand for several routes). */
  readonly route: Exclude<OwnerRoute, null>;
  readonly routes: ReadonlyArray<Exclude<OwnerRoute, null>>;
  readonly email: string;
  readonly findings: readonly PlanFinding[];
}

/** What the route is asked to do about a finding, by reason code. */
const WHAT_TO_DO: Partial<Record<ReasonCode, string>> = {
  OWNER_UNKNOWN: 'find its owner and set the owner tag (nothing is written to an NHI without one)',
  OWNER_TERMINATED: 'reassign it to a new owner by hand',
  OWNER_CHANGED: 'check who owns it: the event and the owner tag disagree',
  TARGET_NOT_FOUND: 'check the event: no governed NHI has that name',
  KEY_UNUSED: 'deactivate the key, or record why it stays',
  KEY_AGE_EXCEEDED: 'rotate the key by hand (no governed secret holds it)',
  SECRET_ROTATION_OVERDUE: 'rotate the secret',
  EXCESSIVE_PRIVILEGE: 'reduce its permissions',
  EXEMPTED: 'nothing until the exemption expires; renew or end it',
  CREDENTIAL_EXPOSED: 'treat the credential as compromised',
};

export function whatToDo(code: ReasonCode): string {
  return WHAT_TO_DO[code] ?? `see the ${code} runbook (docs/statuses-and-reasons.md)`;
}

/**
 * Every finding goes to its reason code's route (policy.routes); an owner-routed finding goes to
 * its NHI's own owner (the owner tag), or to routes.owner when the NHI has none. One digest per
 * recipient, in the order recipients first appear. Findings whose code has no route are not sent.
 */
export function findingsDigests(policy: GovernancePolicy, findings: readonly PlanFinding[]): FindingsDigest[] {
  const byEmail = new Map<string, { routes: Array<Exclude<OwnerRoute, null>>; findings: PlanFinding[] }>();
  for (const finding of findings) {
    const route = REASON_CODES[finding.reasonCode].route;
    if (route === null) continue;
    const email = route === 'owner' && finding.owner ? finding.owner : policy.routes[route];
    const entry = byEmail.get(email) ?? { routes: [], findings: [] };
    if (!entry.routes.includes(route)) entry.routes.push(route);
    entry.findings.push(finding);
    byEmail.set(email, entry);
  }
  return [...byEmail.entries()].flatMap(([email, { routes, findings: list }]) => (routes[0] ? [{ route: routes[0], routes, email, findings: list }] : []));
}

export function findingsDigestEmail(changeId: string, trigger: string, status: string, digest: FindingsDigest): { subject: string; text: string; html: string } {
  const codes = [...new Set(digest.findings.map((f) => f.reasonCode))];
  const subject = `[nhi-governor] ${digest.findings.length} finding${digest.findings.length === 1 ? '' : 's'} for ${digest.routes.join(', ')}: change ${changeId} (${codes.join(', ')})`;
  const line = (f: PlanFinding): string => `${f.nhi}: ${f.reasonCode}: ${f.message}. To do: ${whatToDo(f.reasonCode)}.`;
  const text = [
    `Change ${changeId} (${trigger}) ended ${status} with findings routed to ${digest.routes.join(', ')} (${digest.email}):`,
    '',
    ...digest.findings.map((f) => `  - ${line(f)}`),
    '',
    `Evidence: nhigov show ${changeId}`,
  ].join('\n');
  const html = [
    `<p>Change <b>${escapeHtml(changeId)}</b> (${escapeHtml(trigger)}) ended <b>${escapeHtml(status)}</b> with findings routed to ${escapeHtml(digest.routes.join(', '))} (${escapeHtml(digest.email)}):</p>`,
    `<ul>${digest.findings.map((f) => `<li><code>${escapeHtml(f.nhi)}</code>: <b>${escapeHtml(f.reasonCode)}</b>: ${escapeHtml(f.message)}. To do: ${escapeHtml(whatToDo(f.reasonCode))}.</li>`).join('')}</ul>`,
    `<p>Evidence: <code>nhigov show ${escapeHtml(changeId)}</code></p>`,
  ].join('\n');
  return { subject, text, html };
}

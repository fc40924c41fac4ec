import { z } from 'zod';
import type { EvidenceEvent } from '../../lambdas/domain/evidence.js';
import { formatIssues } from '../../lambdas/domain/events.js';
import { jsonValueSchema, planActionSchema, planFindingSchema } from '../../lambdas/domain/plan-schema.js';
import type { EvidenceReport } from './evidence-report.js';

/*
 * What the page reads of each event's data, parsed once per event. Open objects: an event may
 * carry more than the page shows (a rollback's actions name what they undo, a follow-up's PLANNED
 * its round), and each field the page shows is optional where the event may lack it. Data that
 * is not of this shape is shown as such, for that event, with the data as recorded.
 */
const triggeredData = z.looseObject({
  detailType: z.string().optional(),
  source: z.string().optional(),
  eventId: z.string().optional(),
  refused: z.string().optional(),
  detail: jsonValueSchema.optional(),
});

/** An action as PLANNED records it (handlers/core/plan-evidence.ts plannedActions): the plan's action schema, the fields shown. */
const plannedAction = planActionSchema.pick({ actionId: true, kind: true, target: true, before: true, after: true, finding: true, risk: true }).loose();
type PlannedAction = z.infer<typeof plannedAction>;

/** A finding as PLANNED records it (handlers/plan.ts): the plan's finding schema, the fields shown. */
const plannedFinding = planFindingSchema.pick({ nhi: true, reasonCode: true, message: true }).loose();

const plannedData = z.looseObject({
  planHash: z.string().min(1),
  actions: z.array(plannedAction).optional(),
  findings: z.array(plannedFinding).optional(),
});

const observedData = z.looseObject({ observed: jsonValueSchema.optional(), message: jsonValueSchema.optional(), expected: jsonValueSchema.optional() });

const completedData = z.looseObject({
  status: z.string().optional(),
  reasonCodes: z.array(z.string()).optional(),
  error: z.string().optional(),
  cause: z.string().optional(),
});

type Read<T> = { readonly ok: true; readonly data: T } | { readonly ok: false; readonly problem: string };

/** An event's data as the page reads it, or why it cannot (the zod issues, on one line). */
function read<T>(schema: z.ZodType<T>, event: EvidenceEvent): Read<T> {
  const parsed = schema.safeParse(event.data);
  return parsed.success ? { ok: true, data: parsed.data } : { ok: false, problem: formatIssues(parsed.error) };
}

/** The page's word on an event whose data it cannot read: which event, why, and the data as recorded. */
function unreadable(event: EvidenceEvent, problem: string): string {
  return `<p class="verdict broken">${esc(event.type)} event (seq ${esc(String(event.seq))}) has data this page cannot read: ${esc(problem)}</p><pre>${esc(pretty(event.data))}</pre>`;
}

/**
 * A self-contained, printable audit page for one change: no script, no external asset (a CSP
 * forbids both), every value escaped. Built only from the evidence events (what the chain
 * proves) and the change's recorded status.
 */
export function renderEvidenceHtml(report: EvidenceReport, generatedAt: Date = new Date()): string {
  const { events } = report;
  const title = `Evidence: ${report.changeId}`;
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(title)}</title>
<style>${STYLE}</style>
</head>
<body>
<header>
<h1>${esc(title)}</h1>
<dl class="facts">
${fact('Status', `<span class="pill ${statusClass(report.status)}">${esc(report.status ?? 'unknown')}</span>`)}
${fact('Trigger', esc(report.trigger ?? '-'))}
${fact('Created', esc(report.createdAt ?? '-'))}
${fact('Events', String(events.length))}
${fact('Policy version', report.policyVersions.map((v) => `<code>${esc(v)}</code>`).join('<br>') || '-')}
${fact('Report generated', esc(generatedAt.toISOString()))}
</dl>
</header>
<main>
${chainSection(report)}
${triggerSection(events)}
${planSection(events)}
${approvalSection(events)}
${observedSection(events)}
${outcomeSection(events)}
${timelineSection(events)}
</main>
<footer><p>Each event's <code>hash</code> = sha256(<code>prevHash</code> + RFC 8785 canonical JSON of the event without <code>hash</code>); the first <code>prevHash</code> is 64 zeros. Re-check with <code>nhigov evidence verify ${esc(report.changeId)}</code>.</p></footer>
</body>
</html>
`;
}

function chainSection(report: EvidenceReport): string {
  const { chain } = report;
  const verdict = chain.ok
    ? `<p class="verdict ok">Chain verified: ${chain.events} event(s), every hash recomputed${chain.complete ? ', closed by COMPLETED' : ' (change still in flight)'}.</p>`
    : `<p class="verdict broken">Chain BROKEN at seq ${esc(String(chain.brokenAt))}${chain.brokenType ? ` (${esc(chain.brokenType)})` : ''}: ${esc(chain.reason ?? '')}</p>`;
  const head = chain.head ? `<p>Head: seq ${chain.head.seq}, hash <code>${esc(chain.head.hash)}</code></p>` : '';
  const warnings = chain.warnings.length ? `<ul class="warnings">${chain.warnings.map((w) => `<li>${esc(w)}</li>`).join('')}</ul>` : '';
  return section('Chain status', verdict + head + warnings);
}

function triggerSection(events: readonly EvidenceEvent[]): string {
  const triggered = events.find((e) => e.type === 'TRIGGERED');
  if (!triggered) return section('Trigger', '<p>No TRIGGERED event.</p>');
  const r = read(triggeredData, triggered);
  if (!r.ok) return section('Trigger', unreadable(triggered, r.problem));
  const { data } = r;
  return section(
    'Trigger',
    `<dl class="facts">${fact('Event', esc(data.detailType ?? '-'))}${fact('Source', esc(data.source ?? '-'))}${fact('Event id', esc(data.eventId ?? '-'))}${fact('Requested by', esc(triggered.actor))}${fact('At', esc(triggered.at))}</dl>` +
      (data.refused ? `<p class="verdict broken">Refused: ${esc(data.refused)}</p>` : '') +
      `<pre>${esc(pretty(data.detail ?? {}))}</pre>`,
  );
}

function planSection(events: readonly EvidenceEvent[]): string {
  const recorded = events.filter((e) => e.type === 'PLANNED').map((event) => ({ event, read: read(plannedData, event) }));
  const first = recorded[0];
  if (!first) return section('Plan', '<p>No plan was recorded.</p>');
  if (!first.read.ok) return section('Plan', unreadable(first.event, first.read.problem));
  const { planHash } = first.read.data;
  // A large plan is recorded in parts: consecutive PLANNED events of the same plan hash.
  const parts = recorded.flatMap(({ read: r }) => (r.ok && r.data.planHash === planHash ? [r.data] : []));
  // A later PLANNED the page cannot read may be a part of this plan: said, not skipped silently.
  const unread = recorded.flatMap(({ event, read: r }) => (r.ok ? [] : [unreadable(event, r.problem)]));
  const actions = parts.flatMap((p) => p.actions ?? []);
  const findings = parts.flatMap((p) => p.findings ?? []);
  const rows = actions.map(
    (a: PlannedAction) =>
      `<tr><td>${esc(a.actionId)}</td><td>${esc(a.kind)}</td><td>${esc(`${a.target.type} ${a.target.id}`)}<br><small>${esc(a.target.nhi)}</small></td><td><pre>${esc(pretty(a.before))}</pre></td><td><pre>${esc(pretty(a.after))}</pre></td><td>${a.risk.reversible ? 'reversible' : '<strong>irreversible</strong>'}${a.risk.prod ? '<br><strong>prod</strong>' : ''}</td><td>${esc(a.finding)}</td></tr>`,
  );
  const table = actions.length
    ? `<table><thead><tr><th>Action</th><th>Kind</th><th>Target</th><th>Before</th><th>After</th><th>Risk</th><th>Finding</th></tr></thead><tbody>${rows.join('')}</tbody></table>`
    : '<p>No actions.</p>';
  const listed = findings.length
    ? `<h3>Findings</h3><ul>${findings.map((f) => `<li><strong>${esc(f.reasonCode)}</strong> ${esc(f.nhi)}: ${esc(f.message)}</li>`).join('')}</ul>`
    : '';
  return section('Plan', `<p>Plan hash <code>${esc(planHash)}</code>, recorded ${esc(first.event.at)}.</p>${table}${listed}${unread.join('')}`);
}

const APPROVAL_TYPES = new Set(['DECIDED', 'APPROVAL_REQUESTED', 'APPROVED', 'REJECTED', 'APPROVAL_REFUSED', 'EXEMPTED']);

function approvalSection(events: readonly EvidenceEvent[]): string {
  const rows = events.filter((e) => APPROVAL_TYPES.has(e.type));
  if (rows.length === 0) return section('Decision and approvals', '<p>None recorded.</p>');
  return section(
    'Decision and approvals',
    `<table><thead><tr><th>Seq</th><th>At</th><th>Event</th><th>Actor</th><th>NHI</th><th>Reason</th><th>Details</th></tr></thead><tbody>${rows
      .map((e) => `<tr><td>${e.seq}</td><td>${esc(e.at)}</td><td>${esc(e.type)}</td><td>${esc(e.actor)}</td><td>${esc(e.nhi ?? '')}</td><td>${esc(e.reasonCode ?? '')}</td><td><pre>${esc(pretty(e.data))}</pre></td></tr>`)
      .join('')}</tbody></table>`,
  );
}

const OBSERVED_TYPES = new Set(['VERIFIED', 'VERIFY_FAILED', 'ROLLED_BACK', 'ROLLBACK_FAILED', 'WRITE_FAILED']);

function observedSection(events: readonly EvidenceEvent[]): string {
  const rows = events.filter((e) => OBSERVED_TYPES.has(e.type));
  if (rows.length === 0) return section('Observed states', '<p>Nothing was read back.</p>');
  return section(
    'Observed states',
    `<p>What verification read back from the target, independently of the write.</p><table><thead><tr><th>Seq</th><th>At</th><th>Action</th><th>NHI</th><th>Result</th><th>Observed</th><th>Expected</th></tr></thead><tbody>${rows
      .map((e) => {
        const r = read(observedData, e);
        const cls = e.type === 'VERIFIED' || e.type === 'ROLLED_BACK' ? 'ok' : 'broken';
        const shown = r.ok
          ? `<td><pre>${esc(pretty(r.data.observed ?? r.data.message ?? null))}</pre></td><td><pre>${esc(pretty(r.data.expected ?? null))}</pre></td>`
          : `<td colspan="2">${unreadable(e, r.problem)}</td>`;
        return `<tr><td>${e.seq}</td><td>${esc(e.at)}</td><td>${esc(e.actionId ?? '')}</td><td>${esc(e.nhi ?? '')}</td><td class="${cls}">${esc(e.type)}${e.reasonCode ? `<br>${esc(e.reasonCode)}` : ''}</td>${shown}</tr>`;
      })
      .join('')}</tbody></table>`,
  );
}

function outcomeSection(events: readonly EvidenceEvent[]): string {
  const completed = [...events].reverse().find((e) => e.type === 'COMPLETED');
  if (!completed) return section('Outcome', '<p>The change has not completed (no COMPLETED event).</p>');
  const r = read(completedData, completed);
  if (!r.ok) return section('Outcome', unreadable(completed, r.problem));
  const { data } = r;
  return section(
    'Outcome',
    `<dl class="facts">${fact('Status', `<span class="pill ${statusClass(data.status ?? null)}">${esc(data.status ?? '-')}</span>`)}${fact('Reason codes', esc((data.reasonCodes ?? []).join(', ') || '-'))}${fact('At', esc(completed.at))}${data.error ? fact('Error', esc(data.error)) : ''}${data.cause ? fact('Cause', esc(data.cause)) : ''}</dl>`,
  );
}

function timelineSection(events: readonly EvidenceEvent[]): string {
  return section(
    'Timeline',
    `<table class="timeline"><thead><tr><th>Seq</th><th>At</th><th>Type</th><th>Actor</th><th>NHI / action</th><th>Reason</th><th>Policy</th><th>Data</th><th>Hash</th></tr></thead><tbody>${events
      .map(
        (e) =>
          `<tr><td>${e.seq}</td><td>${esc(e.at)}</td><td>${esc(e.type)}</td><td>${esc(e.actor)}</td><td>${esc(e.nhi ?? '')}${e.actionId ? `<br>${esc(e.actionId)}` : ''}</td><td>${esc(e.reasonCode ?? '')}</td><td><code>${esc(String(e.policyVersion).slice(0, 12))}</code></td><td><pre>${esc(pretty(e.data))}</pre></td><td><code title="${esc(e.hash)}">${esc(String(e.hash).slice(0, 16))}</code></td></tr>`,
      )
      .join('')}</tbody></table>`,
  );
}

function section(heading: string, body: string): string {
  return `<section><h2>${esc(heading)}</h2>${body}</section>`;
}

function fact(label: string, valueHtml: string): string {
  return `<dt>${esc(label)}</dt><dd>${valueHtml}</dd>`;
}

function statusClass(status: string | null): string {
  if (status === 'VERIFIED' || status === 'NO_CHANGES') return 'ok';
  if (status === 'FAILED' || status === 'ESCALATED' || status === 'ROLLED_BACK' || status === 'REJECTED') return 'broken';
  return 'pending';
}

function pretty(value: unknown): string {
  return JSON.stringify(value, null, 2) ?? 'null';
}

/** Escapes text for HTML element content and quoted attribute values. */
export function esc(value: unknown): string {
  const text = typeof value === 'string' ? value : value === undefined || value === null ? '' : String(value);
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] as string);
}

const STYLE = `
:root { color-scheme: light; }
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #1a1a1a; margin: 2rem auto; max-width: 1200px; padding: 0 1rem; }
h1 { font-size: 1.5rem; margin: 0 0 .75rem; }
h2 { font-size: 1.15rem; border-bottom: 2px solid #ccc; padding-bottom: .2rem; margin-top: 2rem; }
h3 { font-size: 1rem; }
dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: .25rem 1rem; margin: 0; }
dt { font-weight: 600; color: #444; }
dd { margin: 0; }
table { border-collapse: collapse; width: 100%; font-size: 12.5px; }
th, td { border: 1px solid #bbb; padding: .3rem .45rem; text-align: left; vertical-align: top; }
th { background: #eee; }
pre { margin: 0; white-space: pre-wrap; word-break: break-word; font: 11.5px/1.35 ui-monospace, Menlo, Consolas, monospace; }
code { font: 12px ui-monospace, Menlo, Consolas, monospace; word-break: break-all; }
.pill { display: inline-block; padding: 0 .5rem; border-radius: .6rem; font-weight: 700; border: 1px solid currentColor; }
.ok { color: #0b6b2b; }
.broken { color: #a30d0d; }
.pending { color: #7a5500; }
.verdict { font-weight: 700; padding: .5rem .75rem; border: 2px solid currentColor; border-radius: .3rem; }
footer { margin-top: 2rem; color: #555; font-size: 12px; }
@media print {
  body { margin: 0; max-width: none; font-size: 11px; }
  h2 { break-after: avoid; }
  tr { break-inside: avoid; }
  th { background: #eee !important; -webkit-print-color-adjust: exact; print-color-adjust: exact; }
}
`;

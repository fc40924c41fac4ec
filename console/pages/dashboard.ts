import { horizontalBarChart, stackedBarChart, STATUS_COLORS } from '../charts.js';
import type { DashboardFigures, Distribution } from '../figures.js';
import { age, esc, formatDuration, type PageModel, reasonCode, statusPill } from '../html.js';
import { refreshFor } from './changes.js';

export interface DashboardPageModel {
  readonly figures: DashboardFigures;
  readonly now: Date;
}

/** The CloudWatch dashboard's figures, drawn from the local evidence. */
export function renderDashboardPage(model: DashboardPageModel): PageModel {
  const f = model.figures;
  const over = f.statusOverTime;
  const statusChart = stackedBarChart({
    id: 'chart-status',
    title: `Changes by status over time (per ${formatDuration(over.bucketMs)}, UTC)`,
    categories: over.categories,
    series: over.series.map((s) => ({ name: s.status, color: STATUS_COLORS[s.status] ?? '#486581', values: s.values })),
    unit: 'changes',
    empty: 'No change yet.',
  });
  const latencyChart = histogram('chart-latency', 'Event → VERIFIED latency (TRIGGERED → COMPLETED)', f.eventToVerified, 'changes', '#1b7f3b', 'No change has ended VERIFIED yet.');
  const approvalChart = histogram('chart-approval', 'Approval latency (requested → decided)', f.approvalLatency, 'approvals', '#b45309', 'No approval decided yet.');
  const reasonChart = horizontalBarChart({
    id: 'chart-reasons',
    title: 'Reason codes (evidence events carrying each code)',
    unit: 'reason code',
    items: f.reasonCodes.map((r) => ({ label: r.code, value: r.count, note: r.route ?? 'not routed' })),
    empty: 'No reason code recorded yet.',
  });
  const escalationChart = horizontalBarChart({
    id: 'chart-escalations',
    title: 'Escalations by owner route',
    unit: 'route',
    items: f.escalations.byRoute.map((r) => ({ label: r.route, value: r.count, color: '#c2185b' })),
    empty: 'No escalation yet.',
  });
  const statusCounts = Object.entries(f.byStatus)
    .sort((a, b) => b[1] - a[1])
    .map(([status, n]) => `<li>${statusPill(status)} ${n}</li>`)
    .join('');
  const open = f.escalations.open.length
    ? `<table><caption>Open escalations (changes ended ESCALATED)</caption><thead><tr><th scope="col">Change</th><th scope="col">Reason codes</th><th scope="col">Age</th></tr></thead><tbody>${f.escalations.open
        .map((e) => `<tr><th scope="row"><a href="/console/changes/${encodeURIComponent(e.changeId)}"><code>${esc(e.changeId)}</code></a></th><td>${e.reasonCodes.map(reasonCode).join(' ') || '-'}</td><td>${esc(age(e.createdAt, model.now))}</td></tr>`)
        .join('')}</tbody></table>`
    : '<p>No open escalation.</p>';
  const body = `<p class="muted">The figures of the CloudWatch dashboard, computed from this stack's change index and evidence. Times are UTC.</p>
<section aria-labelledby="kpi-h"><h2 id="kpi-h">At a glance</h2>
<dl class="facts">
<dt>Changes</dt><dd id="kpi-changes">${f.changes}</dd>
<dt>In flight</dt><dd>${f.inFlight}</dd>
<dt>By status</dt><dd><ul class="legend">${statusCounts || '<li>none</li>'}</ul></dd>
<dt>Event → VERIFIED</dt><dd>${percentiles(f.eventToVerified)}</dd>
<dt>Approval latency</dt><dd>${percentiles(f.approvalLatency)} · ${f.approvalLatency.approved} approved, ${f.approvalLatency.rejected} rejected, ${f.approvalLatency.pending} waiting</dd>
<dt>Open escalations</dt><dd>${f.escalations.open.length}</dd>
</dl></section>
<section aria-labelledby="charts-h"><h2 id="charts-h">Charts</h2>
<div class="grid">
${statusChart}
${latencyChart}
${reasonChart}
${approvalChart}
${escalationChart}
<div>${open}</div>
</div></section>`;
  const refresh = refreshFor(Object.keys(f.byStatus));
  return { title: 'Dashboard', section: 'dashboard', body, ...(refresh ? { refreshSeconds: Math.max(refresh, 5) } : {}) };
}

function histogram(id: string, title: string, d: Distribution, unit: string, color: string, empty: string): string {
  return stackedBarChart({ id, title, categories: d.bins.map((b) => b.label), series: [{ name: unit, color, values: d.bins.map((b) => b.count) }], unit, empty });
}

function percentiles(d: Distribution): string {
  if (d.p50 === null) return '<span class="muted">no sample yet</span>';
  return `p50 ${esc(formatDuration(d.p50))} · p95 ${esc(formatDuration(d.p95 ?? d.p50))} · ${d.samples.length} sample${d.samples.length === 1 ? '' : 's'}`;
}

import { describe, expect, it } from 'vitest';
import type { ChangeSummary } from '../../../cli/lib/changes.js';
import { GENESIS_HASH, sealEvidence, type EvidenceDraft, type EvidenceEvent } from '../../../lambdas/domain/evidence.js';
import { horizontalBarChart, niceMax, stackedBarChart } from '../../../console/charts.js';
import { between, dashboardFigures, distribution, percentile, statusOverTime } from '../../../console/figures.js';

const T0 = Date.parse('2026-03-01T10:00:00.000Z');
const at = (ms: number) => new Date(T0 + ms).toISOString();

/** A sealed chain: each step is [type, ms after T0, extra fields]. */
function chain(changeId: string, steps: ReadonlyArray<[EvidenceDraft['type'], number, Partial<EvidenceDraft>?]>): EvidenceEvent[] {
  const events: EvidenceEvent[] = [];
  for (const [type, ms, extra] of steps) {
    events.push(sealEvidence({ changeId, type, actor: 'test', policyVersion: 'v1', data: {}, ...extra }, events.length + 1, at(ms), events.at(-1)?.hash ?? GENESIS_HASH));
  }
  return events;
}

function summary(changeId: string, status: string, createdMs: number, reasonCodes: string[] = []): ChangeSummary {
  return { changeId, status, trigger: 'Employee Terminated', createdAt: at(createdMs), actions: 2, reasonCodes };
}

describe('console dashboard figures', () => {
  const changes = [
    summary('c1', 'VERIFIED', 0, ['OWNER_TERMINATED']),
    summary('c2', 'VERIFIED', 60_000),
    summary('c3', 'ESCALATED', 120_000, ['VERIFY_TIMEOUT']),
    summary('c4', 'AWAITING_APPROVAL', 180_000),
  ];
  const chains = new Map([
    ['c1', chain('c1', [['TRIGGERED', 0], ['DECIDED', 100, { reasonCode: 'OWNER_TERMINATED' }], ['VERIFIED', 2_000], ['COMPLETED', 2_500, { reasonCode: 'OWNER_TERMINATED' }]])],
    ['c2', chain('c2', [['TRIGGERED', 60_000], ['APPROVAL_REQUESTED', 61_000], ['APPROVED', 91_000], ['COMPLETED', 100_000]])],
    ['c3', chain('c3', [['TRIGGERED', 120_000], ['VERIFY_FAILED', 125_000, { reasonCode: 'VERIFY_TIMEOUT' }], ['ESCALATED', 126_000, { reasonCode: 'VERIFY_TIMEOUT', data: { routes: ['platform'] } }], ['COMPLETED', 127_000, { reasonCode: 'VERIFY_TIMEOUT' }]])],
    ['c4', chain('c4', [['TRIGGERED', 180_000], ['APPROVAL_REQUESTED', 181_000], ['APPROVAL_REFUSED', 185_000, { reasonCode: 'SELF_APPROVAL_FORBIDDEN' }]])],
  ]);
  const figures = dashboardFigures(changes, chains, new Date(T0 + 240_000));

  it('measures event → VERIFIED from TRIGGERED to COMPLETED, for VERIFIED changes only', () => {
    expect(figures.eventToVerified.samples).toEqual([2_500, 40_000]);
    expect(figures.eventToVerified.p50).toBe(2_500);
    expect(figures.eventToVerified.p95).toBe(40_000);
    expect(figures.eventToVerified.bins.map((b) => [b.label, b.count])).toEqual([['2–5 s', 1], ['5–10 s', 0], ['10–30 s', 0], ['30–60 s', 1]]);
  });

  it('measures approval latency from the request to the decision, and counts the waiting ones', () => {
    expect(figures.approvalLatency.samples).toEqual([30_000]);
    expect(figures.approvalLatency).toMatchObject({ approved: 1, rejected: 0, pending: 1 });
  });

  it('counts reason codes once per evidence event, not again for COMPLETED and ESCALATED', () => {
    expect(figures.reasonCodes).toEqual([
      { code: 'OWNER_TERMINATED', count: 1, route: 'security' },
      { code: 'SELF_APPROVAL_FORBIDDEN', count: 1, route: 'security' },
      { code: 'VERIFY_TIMEOUT', count: 1, route: 'platform' },
    ]);
  });

  it('lists open escalations and counts escalations per owner route', () => {
    expect(figures.escalations.open.map((e) => e.changeId)).toEqual(['c3']);
    expect(figures.escalations.byRoute).toEqual([{ route: 'platform', count: 1 }]);
    expect(figures).toMatchObject({ changes: 4, inFlight: 1, byStatus: { VERIFIED: 2, ESCALATED: 1, AWAITING_APPROVAL: 1 } });
  });

  it('buckets changes by creation time and current status, terminal statuses first', () => {
    const over = statusOverTime(changes, new Date(T0 + 240_000));
    expect(over.bucketMs).toBe(60_000);
    expect(over.categories).toEqual(['10:00', '10:01', '10:02', '10:03', '10:04']);
    expect(over.series).toEqual([
      { status: 'VERIFIED', values: [1, 1, 0, 0, 0] },
      { status: 'ESCALATED', values: [0, 0, 1, 0, 0] },
      { status: 'AWAITING_APPROVAL', values: [0, 0, 0, 1, 0] },
    ]);
    expect(statusOverTime([summary('old', 'VERIFIED', -3 * 86_400_000)], new Date(T0)).bucketMs).toBe(6 * 3_600_000);
  });

  it('has percentiles and bins that hold for edge cases', () => {
    expect(percentile([], 50)).toBeNull();
    expect(percentile([5], 95)).toBe(5);
    expect(percentile([1, 2, 3, 4], 50)).toBe(2);
    expect(distribution([]).bins).toEqual([]);
    expect(distribution([999, 1_000]).bins).toEqual([{ label: '< 1 s', count: 1 }, { label: '1–2 s', count: 1 }]);
    expect(between(chain('x', [['TRIGGERED', 0]]), 'TRIGGERED', 'COMPLETED')).toBeNull();
  });
});

describe('console charts', () => {
  it('draws stacked bars with a text alternative and a data table', () => {
    const html = stackedBarChart({ id: 'c', title: 'Changes <over> time', categories: ['10:00', '10:01'], series: [{ name: 'VERIFIED', color: '#1b7f3b', values: [1, 2] }, { name: 'FAILED', color: '#9b0c0c', values: [0, 1] }], unit: 'changes' });
    expect(html).toContain('role="img"');
    expect(html).toContain('aria-label="Changes &lt;over&gt; time: 4 changes in total; VERIFIED 3, FAILED 1"');
    expect(html.match(/<rect /g)).toHaveLength(3);
    expect(html).toContain('<th scope="row">10:01</th><td class="num">2</td><td class="num">1</td><td class="num">3</td>');
    expect(html).not.toContain('<over>');
  });

  it('says so instead of drawing an empty chart', () => {
    expect(stackedBarChart({ id: 'e', title: 'T', categories: [], series: [], unit: 'changes', empty: 'Nothing yet.' })).toContain('<p class="muted">Nothing yet.</p>');
    expect(horizontalBarChart({ id: 'h', title: 'T', unit: 'code', items: [{ label: 'A', value: 0 }] })).not.toContain('<svg');
  });

  it('sorts horizontal bars largest first and escapes labels', () => {
    const html = horizontalBarChart({ id: 'h', title: 'Reasons', unit: 'code', items: [{ label: 'B', value: 1 }, { label: '<A>', value: 3, note: 'security' }] });
    expect(html.indexOf('&lt;A&gt;')).toBeLessThan(html.indexOf('>B<'));
    expect(html).toContain('<td>security</td>');
  });

  it('rounds axis maxima to 1, 2, 5 × 10^n', () => {
    expect([0, 1, 3, 7, 12, 50, 51].map(niceMax)).toEqual([1, 1, 5, 10, 20, 50, 100]);
  });
});

import type { EvidenceEvent } from '../lambdas/domain/evidence.js';
import { isReasonCode, REASON_CODES } from '../lambdas/domain/reasons.js';
import { IN_FLIGHT_STATUSES, TERMINAL_STATUSES } from '../lambdas/domain/status.js';
import type { ChangeSummary } from '../cli/lib/changes.js';

/**
 * The dashboard's figures, computed from the local evidence and change index: the same figures
 * as the CloudWatch dashboard (infra/lib/dashboard.ts), which in AWS come from EMF metrics.
 * Pure: the route reads the data, this module only counts.
 */

export interface Distribution {
  /** Every sample, in ms, ascending. */
  readonly samples: readonly number[];
  readonly p50: number | null;
  readonly p95: number | null;
  readonly bins: ReadonlyArray<{ readonly label: string; readonly count: number }>;
}

export interface DashboardFigures {
  readonly changes: number;
  readonly inFlight: number;
  readonly byStatus: Readonly<Record<string, number>>;
  readonly statusOverTime: { readonly bucketMs: number; readonly categories: readonly string[]; readonly series: ReadonlyArray<{ status: string; values: number[] }> };
  /** TRIGGERED → COMPLETED of every change that ended VERIFIED. */
  readonly eventToVerified: Distribution;
  /** APPROVAL_REQUESTED → APPROVED / REJECTED. */
  readonly approvalLatency: Distribution & { readonly approved: number; readonly rejected: number; readonly pending: number };
  /** Evidence events carrying each reason code (COMPLETED and ESCALATED restate their change's codes and are not counted again). */
  readonly reasonCodes: ReadonlyArray<{ readonly code: string; readonly count: number; readonly route: string | null }>;
  readonly escalations: {
    /** Changes whose status is ESCALATED (the OpenEscalations gauge). */
    readonly open: ReadonlyArray<{ readonly changeId: string; readonly createdAt: string; readonly reasonCodes: readonly string[] }>;
    /** ESCALATED events per owner route. */
    readonly byRoute: ReadonlyArray<{ readonly route: string; readonly count: number }>;
  };
}

/** Latency bins, upper bounds in ms (the last bin is open). */
export const LATENCY_BINS: ReadonlyArray<{ readonly label: string; readonly upToMs: number }> = [
  { label: '< 1 s', upToMs: 1_000 },
  { label: '1–2 s', upToMs: 2_000 },
  { label: '2–5 s', upToMs: 5_000 },
  { label: '5–10 s', upToMs: 10_000 },
  { label: '10–30 s', upToMs: 30_000 },
  { label: '30–60 s', upToMs: 60_000 },
  { label: '1–5 min', upToMs: 300_000 },
  { label: '5–60 min', upToMs: 3_600_000 },
  { label: '1–24 h', upToMs: 86_400_000 },
  { label: '≥ 1 d', upToMs: Number.POSITIVE_INFINITY },
];

/** Bucket sizes for "changes over time": the smallest that keeps at most MAX_BUCKETS columns. */
const BUCKET_SIZES_MS = [60_000, 5 * 60_000, 15 * 60_000, 3_600_000, 6 * 3_600_000, 86_400_000, 7 * 86_400_000];
const MAX_BUCKETS = 24;

/** Statuses in the order they are stacked and listed: terminal outcomes first, then in flight. */
export const STATUS_ORDER: readonly string[] = [...TERMINAL_STATUSES, ...IN_FLIGHT_STATUSES];

export function dashboardFigures(changes: readonly ChangeSummary[], chains: ReadonlyMap<string, readonly EvidenceEvent[]>, now: Date): DashboardFigures {
  const byStatus: Record<string, number> = {};
  for (const change of changes) byStatus[change.status] = (byStatus[change.status] ?? 0) + 1;
  const verifiedIds = new Set(changes.filter((c) => c.status === 'VERIFIED').map((c) => c.changeId));

  const toVerified: number[] = [];
  const approvals: number[] = [];
  let approved = 0;
  let rejected = 0;
  let pending = 0;
  const codeCounts = new Map<string, number>();
  const routeCounts = new Map<string, number>();
  for (const [changeId, events] of chains) {
    if (verifiedIds.has(changeId)) {
      const span = between(events, 'TRIGGERED', 'COMPLETED');
      if (span !== null) toVerified.push(span);
    }
    let requestedAt: number | null = null;
    for (const event of events) {
      if (event.type === 'APPROVAL_REQUESTED') requestedAt = Date.parse(event.at);
      if ((event.type === 'APPROVED' || event.type === 'REJECTED') && requestedAt !== null) {
        approvals.push(Math.max(0, Date.parse(event.at) - requestedAt));
        if (event.type === 'APPROVED') approved += 1;
        else rejected += 1;
        requestedAt = null;
      }
      if (event.reasonCode && event.type !== 'COMPLETED' && event.type !== 'ESCALATED') codeCounts.set(event.reasonCode, (codeCounts.get(event.reasonCode) ?? 0) + 1);
      if (event.type === 'ESCALATED') {
        const routes = event.data.routes;
        for (const route of Array.isArray(routes) && routes.length > 0 ? routes.map(String) : [routeOf(event.reasonCode) ?? 'unrouted']) {
          routeCounts.set(route, (routeCounts.get(route) ?? 0) + 1);
        }
      }
    }
    if (requestedAt !== null) pending += 1;
  }

  return {
    changes: changes.length,
    inFlight: changes.filter((c) => (IN_FLIGHT_STATUSES as readonly string[]).includes(c.status)).length,
    byStatus,
    statusOverTime: statusOverTime(changes, now),
    eventToVerified: distribution(toVerified),
    approvalLatency: { ...distribution(approvals), approved, rejected, pending },
    reasonCodes: [...codeCounts].map(([code, count]) => ({ code, count, route: routeOf(code) })).sort((a, b) => b.count - a.count || a.code.localeCompare(b.code)),
    escalations: {
      open: changes.filter((c) => c.status === 'ESCALATED').map((c) => ({ changeId: c.changeId, createdAt: c.createdAt, reasonCodes: c.reasonCodes })),
      byRoute: [...routeCounts].map(([route, count]) => ({ route, count })).sort((a, b) => b.count - a.count || a.route.localeCompare(b.route)),
    },
  };
}

/** ms from the first `from` event to the last `to` event; null when either is missing. */
export function between(events: readonly EvidenceEvent[], from: EvidenceEvent['type'], to: EvidenceEvent['type']): number | null {
  const start = events.find((e) => e.type === from);
  const end = [...events].reverse().find((e) => e.type === to);
  if (!start || !end) return null;
  const ms = Date.parse(end.at) - Date.parse(start.at);
  return Number.isNaN(ms) ? null : Math.max(0, ms);
}

export function distribution(values: readonly number[]): Distribution {
  const samples = [...values].sort((a, b) => a - b);
  const bins = LATENCY_BINS.map((bin, i) => ({
    label: bin.label,
    count: samples.filter((v) => v < bin.upToMs && v >= (LATENCY_BINS[i - 1]?.upToMs ?? 0)).length,
  }));
  // Trim empty bins at both ends so the histogram shows the range that matters.
  let first = bins.findIndex((b) => b.count > 0);
  let last = bins.length - 1 - [...bins].reverse().findIndex((b) => b.count > 0);
  if (first < 0) {
    first = 0;
    last = -1;
  }
  return { samples, p50: percentile(samples, 50), p95: percentile(samples, 95), bins: bins.slice(first, last + 1) };
}

/** Nearest-rank percentile of ascending samples; null when there are none. */
export function percentile(ascending: readonly number[], p: number): number | null {
  if (ascending.length === 0) return null;
  const rank = Math.ceil((p / 100) * ascending.length);
  return ascending[Math.min(ascending.length, Math.max(1, rank)) - 1] ?? null;
}

/** Changes created per time bucket, by current status; buckets end at `now`. */
export function statusOverTime(changes: readonly ChangeSummary[], now: Date): DashboardFigures['statusOverTime'] {
  const times = changes.map((c) => Date.parse(c.createdAt)).filter((t) => !Number.isNaN(t));
  const oldest = times.length ? Math.min(...times) : now.getTime();
  const span = Math.max(1, now.getTime() - oldest);
  const bucketMs = BUCKET_SIZES_MS.find((size) => span / size < MAX_BUCKETS) ?? (BUCKET_SIZES_MS.at(-1) as number);
  const end = Math.floor(now.getTime() / bucketMs) * bucketMs;
  const start = Math.min(Math.floor(oldest / bucketMs) * bucketMs, end);
  const count = Math.min(MAX_BUCKETS * 8, Math.round((end - start) / bucketMs) + 1);
  const categories = Array.from({ length: count }, (_, i) => bucketLabel(start + i * bucketMs, bucketMs));
  const statuses = STATUS_ORDER.filter((s) => changes.some((c) => c.status === s));
  const extra = [...new Set(changes.map((c) => c.status))].filter((s) => !STATUS_ORDER.includes(s));
  const series = [...statuses, ...extra].map((status) => {
    const values = new Array<number>(count).fill(0);
    for (const c of changes) {
      if (c.status !== status) continue;
      const index = Math.floor((Date.parse(c.createdAt) - start) / bucketMs);
      if (index >= 0 && index < count) values[index] = (values[index] ?? 0) + 1;
    }
    return { status, values };
  });
  return { bucketMs, categories, series };
}

function bucketLabel(epochMs: number, bucketMs: number): string {
  const iso = new Date(epochMs).toISOString();
  if (bucketMs >= 86_400_000) return iso.slice(5, 10);
  if (bucketMs >= 6 * 3_600_000) return `${iso.slice(5, 10)} ${iso.slice(11, 13)}h`;
  return iso.slice(11, 16);
}

function routeOf(code: string | undefined): string | null {
  return code && isReasonCode(code) ? REASON_CODES[code].route : null;
}

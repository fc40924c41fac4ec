import type { EvidenceEvent } from '../../lambdas/domain/evidence.js';
import type { TimeWindow } from '../../lambdas/stores/evidence-store.js';
import type { StackContext } from './context.js';
import { inspectChange, type ChainCheck } from './evidence-verify.js';

/** `nhigov evidence CHANGE_ID --json`: the change, its chain verdict and every event in seq order. */
export interface EvidenceReport {
  readonly changeId: string;
  readonly status: string | null;
  readonly trigger: string | null;
  readonly createdAt: string | null;
  /** Every policy version the events were recorded under, in order of first use. */
  readonly policyVersions: readonly string[];
  readonly chain: Omit<ChainCheck, 'changeId' | 'status'>;
  readonly events: readonly EvidenceEvent[];
}

/** `nhigov evidence --nhi NAME` / `--from --to`: events across changes. */
export interface EvidenceQueryDocument {
  readonly query: { readonly nhi?: string; readonly from?: string; readonly to?: string };
  readonly changes: readonly string[];
  readonly events: readonly EvidenceEvent[];
}

type ReportContext = Pick<StackContext, 'outputs' | 'clients' | 'changes' | 'evidence'>;

/** Null when neither the change nor any evidence for it exists. */
export async function evidenceReport(ctx: ReportContext, changeId: string): Promise<EvidenceReport | null> {
  const inspected = await inspectChange(ctx, changeId);
  if (!inspected) return null;
  const { record, events, check } = inspected;
  const { changeId: _id, status: _status, ...chain } = check;
  return {
    changeId,
    status: record?.status ?? null,
    trigger: record?.trigger ?? null,
    createdAt: record?.createdAt ?? events[0]?.at ?? null,
    policyVersions: [...new Set(events.map((e) => e.policyVersion))],
    chain,
    events,
  };
}

/** Events about one NHI (GSI byNhi) and/or within a time window (GSI byDay), oldest first. */
export async function evidenceQuery(ctx: Pick<StackContext, 'evidence'>, query: { nhi?: string; window?: TimeWindow }): Promise<EvidenceQueryDocument> {
  let events: EvidenceEvent[];
  if (query.nhi) events = await ctx.evidence.listByNhi(query.nhi, query.window);
  else if (query.window) events = await ctx.evidence.listByWindow(query.window);
  else events = [];
  events.sort((a, b) => a.at.localeCompare(b.at) || a.changeId.localeCompare(b.changeId) || a.seq - b.seq);
  return {
    query: { ...(query.nhi ? { nhi: query.nhi } : {}), ...(query.window ? { from: query.window.from, to: query.window.to } : {}) },
    changes: [...new Set(events.map((e) => e.changeId))],
    events,
  };
}

import { describeExecution } from './changes.js';
import { verifyTrail, type EvidenceEvent } from '../../lambdas/domain/evidence.js';
import { linkedChangeOf, verifyAgainstAnchor, type ChangeAnchor } from '../../lambdas/domain/checkpoint.js';
import { loadAnchors, loadAnchorsFor, type Anchors, type CheckpointReach } from './checkpoint-verify.js';
import { isTerminalStatus } from '../../lambdas/domain/status.js';
import type { ChangeRecord } from '../../lambdas/stores/change-store.js';
import { mapBounded } from '../../lambdas/lib/map-bounded.js';
import type { StackContext } from './context.js';

/** The verdict on one change's evidence trail. */
export interface ChainCheck {
  readonly changeId: string;
  readonly ok: boolean;
  readonly events: number;
  /** The change record's status; null when the change is not in the changes table. */
  readonly status: string | null;
  /** The last event: keep it to detect, later, a chain rewritten consistently from scratch. */
  readonly head: { readonly seq: number; readonly hash: string } | null;
  /** The chain holds a COMPLETED event. */
  readonly complete: boolean;
  /** The first event that does not hold (for a deleted event: the seq that is missing). */
  readonly brokenAt?: number;
  readonly brokenType?: string;
  readonly reason?: string;
  readonly warnings: readonly string[];
  /** The latest checkpoint vouching for this chain; null: none does (yet). */
  readonly anchored?: { readonly checkpoint: number; readonly seq: number; readonly ended: boolean; readonly at: string } | null;
  /** Events after the last checkpointed seq: what no checkpoint covers yet. */
  readonly uncovered?: number;
}

export interface VerifyDocument {
  readonly ok: boolean;
  readonly changes: number;
  readonly events: number;
  readonly broken: number;
  readonly results: readonly ChainCheck[];
  /** How far the signed checkpoints reach, and what they cannot cover; absent when not read. */
  readonly checkpoints?: CheckpointReach;
}

type VerifyContext = Pick<StackContext, 'outputs' | 'clients' | 'changes' | 'evidence'> & Partial<Pick<StackContext, 'checkpoints'>>;

/**
 * One change's trail: null when neither the change nor any evidence for it exists. Reads the
 * record (and the execution) before the events: complete appends COMPLETED before it sets the
 * terminal status, so a change seen as ended has its COMPLETED in the events read after.
 */
export async function verifyChange(ctx: VerifyContext, changeId: string, anchors?: Anchors): Promise<ChainCheck | null> {
  return (await inspectChange(ctx, changeId, anchors))?.check ?? null;
}

/**
 * verifyChange, with the record and the events it judged (the evidence report shows them). The
 * checkpoints are read first, so the events read after are at least as new as what they vouch for.
 */
export async function inspectChange(ctx: VerifyContext, changeId: string, given?: Anchors): Promise<{ record: ChangeRecord | null; events: EvidenceEvent[]; check: ChainCheck } | null> {
  const own = given ?? (ctx.checkpoints ? await loadAnchorsFor(ctx.checkpoints, [changeId]) : null);
  const record = (await ctx.changes.get(changeId)) ?? null;
  const ended = record ? await hasEnded(ctx, record) : null;
  const events = await ctx.evidence.listByChange(changeId);
  const links = linksAfter(events, own?.byChange.get(changeId) ?? null);
  // The linked workflows' own checkpoints say whether they have ended (read after the events: they can only be newer).
  const anchors = !given && ctx.checkpoints && links.length > 0 ? await loadAnchorsFor(ctx.checkpoints, [changeId, ...links]) : own;
  const anchor = anchors?.byChange.get(changeId) ?? null;
  if (!record && events.length === 0 && !anchor) return null;
  const pending = async (linked: string) => isPendingLink(anchors, linked, (await ctx.evidence.head(linked)) !== undefined);
  const linkedPending = new Map<string, boolean>();
  for (const link of links) linkedPending.set(link, await pending(link));
  return { record, events, check: judge(changeId, record, ended, events, anchor, (id) => linkedPending.get(id) ?? false) };
}

/**
 * Every chain in the evidence table, and every indexed change (a change whose evidence is all
 * gone is broken too). One scan of each table; a chain found broken is read again on its own,
 * so a change that completed while the scans ran is not reported.
 */
export async function verifyAll(ctx: VerifyContext): Promise<VerifyDocument> {
  const anchors = ctx.checkpoints ? await loadAnchors(ctx.checkpoints) : null;
  const records = new Map((await ctx.changes.listAll()).map((record) => [record.changeId, record]));
  const chains = await ctx.evidence.listAllChains();
  // The changes table is not trusted for completeness: a change the checkpoints name is verified even with no record and no events.
  const ids = [...new Set([...chains.keys(), ...records.keys(), ...(anchors?.byChange.keys() ?? [])])].sort();
  const pending = (linked: string) => isPendingLink(anchors, linked, chains.has(linked));
  const results = await mapBounded(ids, 8, async (id) => {
    const first = await checkTrail(ctx, id, records.get(id) ?? null, chains.get(id) ?? [], anchors?.byChange.get(id) ?? null, pending);
    return first.ok ? first : ((await verifyChange(ctx, id, anchors ?? undefined)) ?? first);
  });
  return summarize(results, anchors?.reach);
}

export function summarize(results: readonly ChainCheck[], checkpoints?: CheckpointReach): VerifyDocument {
  return {
    ok: results.every((r) => r.ok) && (checkpoints?.ok ?? true),
    changes: results.length,
    events: results.reduce((n, r) => n + r.events, 0),
    broken: results.filter((r) => !r.ok).length,
    results,
    ...(checkpoints ? { checkpoints } : {}),
  };
}

/** A post-completion event linking a workflow that has not ended (by the checkpoints) and whose chain exists. */
function isPendingLink(anchors: Anchors | null, linked: string, hasEvents: boolean): boolean {
  return hasEvents && !anchors?.byChange.get(linked)?.ended;
}

function linksAfter(events: readonly EvidenceEvent[], anchor: ChangeAnchor | null): string[] {
  if (!anchor?.ended) return [];
  const covered = Math.max(...anchor.heads.map((h) => h.seq));
  return [...new Set(events.filter((e) => e.seq > covered).flatMap((e) => linkedChangeOf(e) ?? []))];
}

/**
 * Recomputes the chain; when the change has ended (terminal status, or its execution is no
 * longer running) the chain must also hold its COMPLETED event, so cutting events off its end shows.
 */
export async function checkTrail(
  ctx: VerifyContext,
  changeId: string,
  record: ChangeRecord | null,
  events: readonly EvidenceEvent[],
  anchor: ChangeAnchor | null = null,
  isPending: (linked: string) => boolean = () => false,
): Promise<ChainCheck> {
  return judge(changeId, record, record ? await hasEnded(ctx, record) : null, events, anchor, isPending);
}

/** Terminal, or (status not yet terminal) its execution is no longer running; null: still running or unknown. */
async function hasEnded(ctx: VerifyContext, record: ChangeRecord): Promise<string | null> {
  if (isTerminalStatus(record.status)) return record.status;
  const execution = await describeExecution(ctx, record.changeId, record.executionArn);
  return execution !== null && execution !== 'RUNNING' ? `${record.status} (execution ${execution})` : null;
}

/**
 * The chain on its own (recomputed hashes; with the changes table's word on whether it ended),
 * then against its checkpoints; the first seq that does not hold, by either, is reported.
 */
function judge(changeId: string, record: ChangeRecord | null, ended: string | null, events: readonly EvidenceEvent[], anchor: ChangeAnchor | null, isPending: (linked: string) => boolean): ChainCheck {
  const checkpointEnded = anchor?.ended ? 'ended (checkpointed)' : null;
  const verdict = verifyTrail(events, { changeStatus: ended ?? record?.status ?? checkpointEnded, mustBeComplete: ended !== null || checkpointEnded !== null });
  const anchored = anchor ? verifyAgainstAnchor(events, anchor, isPending) : null;
  const latest = anchor?.heads.at(-1);
  const base = {
    changeId,
    events: verdict.events,
    status: record?.status ?? null,
    head: verdict.head,
    complete: verdict.complete,
    warnings: verdict.warnings,
    anchored: latest ? { checkpoint: latest.checkpoint, seq: anchored?.coveredSeq ?? latest.seq, ended: anchor?.ended !== null, at: latest.at } : null,
    uncovered: anchored?.ok ? anchored.uncovered : anchor ? 0 : events.length,
  };
  const breaks = [
    ...(verdict.ok ? [] : [{ brokenAt: verdict.brokenAt, reason: verdict.reason, brokenType: verdict.brokenType }]),
    ...(anchored && !anchored.ok ? [{ brokenAt: anchored.brokenAt, reason: anchored.reason, brokenType: events.find((e) => e.seq === anchored.brokenAt)?.type }] : []),
  ].sort((a, b) => a.brokenAt - b.brokenAt);
  const first = breaks[0];
  if (!first) return { ...base, ok: true };
  // Both found the same seq: say what each saw (the chain's own reason first).
  const reason = breaks.filter((b) => b.brokenAt === first.brokenAt).map((b) => b.reason).join('; checkpoint: ');
  return { ...base, ok: false, brokenAt: first.brokenAt, ...(first.brokenType ? { brokenType: first.brokenType } : {}), reason };
}



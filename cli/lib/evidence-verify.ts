import { DescribeExecutionCommand } from '@aws-sdk/client-sfn';
import { verifyTrail, type EvidenceEvent } from '../../lambdas/domain/evidence.js';
import { isTerminalStatus } from '../../lambdas/domain/status.js';
import type { ChangeRecord } from '../../lambdas/stores/change-store.js';
import { executionArnFor } from '../../lambdas/domain/execution-arn.js';
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
}

export interface VerifyDocument {
  readonly ok: boolean;
  readonly changes: number;
  readonly events: number;
  readonly broken: number;
  readonly results: readonly ChainCheck[];
}

type VerifyContext = Pick<StackContext, 'outputs' | 'clients' | 'changes' | 'evidence'>;

/**
 * One change's trail: null when neither the change nor any evidence for it exists. Reads the
 * record (and the execution) before the events: complete appends COMPLETED before it sets the
 * terminal status, so a change seen as ended has its COMPLETED in the events read after.
 */
export async function verifyChange(ctx: VerifyContext, changeId: string): Promise<ChainCheck | null> {
  return (await inspectChange(ctx, changeId))?.check ?? null;
}

/** verifyChange, with the record and the events it judged (the evidence report shows them). */
export async function inspectChange(ctx: VerifyContext, changeId: string): Promise<{ record: ChangeRecord | null; events: EvidenceEvent[]; check: ChainCheck } | null> {
  const record = (await ctx.changes.get(changeId)) ?? null;
  const ended = record ? await hasEnded(ctx, record) : null;
  const events = await ctx.evidence.listByChange(changeId);
  if (!record && events.length === 0) return null;
  return { record, events, check: judge(changeId, record, ended, events) };
}

/**
 * Every chain in the evidence table, and every indexed change (a change whose evidence is all
 * gone is broken too). One scan of each table; a chain found broken is read again on its own,
 * so a change that completed while the scans ran is not reported.
 */
export async function verifyAll(ctx: VerifyContext): Promise<VerifyDocument> {
  const records = new Map((await ctx.changes.listAll()).map((record) => [record.changeId, record]));
  const chains = await ctx.evidence.listAllChains();
  const ids = [...new Set([...chains.keys(), ...records.keys()])].sort();
  const results = await mapBounded(ids, 8, async (id) => {
    const first = await checkTrail(ctx, id, records.get(id) ?? null, chains.get(id) ?? []);
    return first.ok ? first : ((await verifyChange(ctx, id)) ?? first);
  });
  return summarize(results);
}

export function summarize(results: readonly ChainCheck[]): VerifyDocument {
  return {
    ok: results.every((r) => r.ok),
    changes: results.length,
    events: results.reduce((n, r) => n + r.events, 0),
    broken: results.filter((r) => !r.ok).length,
    results,
  };
}

/**
 * Recomputes the chain; when the change has ended (terminal status, or its execution is no
 * longer running) the chain must also hold its COMPLETED event, so cutting events off its end shows.
 */
export async function checkTrail(ctx: VerifyContext, changeId: string, record: ChangeRecord | null, events: readonly EvidenceEvent[]): Promise<ChainCheck> {
  return judge(changeId, record, record ? await hasEnded(ctx, record) : null, events);
}

/** Terminal, or (status not yet terminal) its execution is no longer running; null: still running or unknown. */
async function hasEnded(ctx: VerifyContext, record: ChangeRecord): Promise<string | null> {
  if (isTerminalStatus(record.status)) return record.status;
  const execution = await executionStatus(ctx, record);
  return execution !== null && execution !== 'RUNNING' ? `${record.status} (execution ${execution})` : null;
}

function judge(changeId: string, record: ChangeRecord | null, ended: string | null, events: readonly EvidenceEvent[]): ChainCheck {
  const verdict = verifyTrail(events, { changeStatus: ended ?? record?.status ?? null, mustBeComplete: ended !== null });
  return {
    changeId,
    ok: verdict.ok,
    events: verdict.events,
    status: record?.status ?? null,
    head: verdict.head,
    complete: verdict.complete,
    ...(verdict.ok ? {} : { brokenAt: verdict.brokenAt, ...(verdict.brokenType ? { brokenType: verdict.brokenType } : {}), reason: verdict.reason }),
    warnings: verdict.warnings,
  };
}

async function executionStatus(ctx: VerifyContext, record: ChangeRecord): Promise<string | null> {
  const machine = record.kind === 'rollback' ? ctx.outputs.stateMachines.rollback : ctx.outputs.stateMachines.change;
  const executionArn = record.executionArn ?? executionArnFor(machine, record.changeId);
  try {
    const out = await ctx.clients.sfn.send(new DescribeExecutionCommand({ executionArn }));
    return out.status ?? null;
  } catch {
    return null;
  }
}


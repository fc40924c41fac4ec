import { DescribeExecutionCommand } from '@aws-sdk/client-sfn';
import { executionArnFor } from '../../lambdas/domain/execution-arn.js';
import type { EvidenceEvent } from '../../lambdas/domain/evidence.js';
import type { Plan } from '../../lambdas/domain/plan-model.js';
import { isTerminalStatus } from '../../lambdas/domain/status.js';
import type { ChangeRecord } from '../../lambdas/stores/change-store.js';
import type { StackContext } from './context.js';
import { setTimeout as sleep } from 'node:timers/promises';

export interface ChangeSummary {
  readonly changeId: string;
  readonly status: string;
  readonly trigger: string;
  readonly createdAt: string;
  readonly actions: number;
  readonly reasonCodes: string[];
}


export interface ShowDocument {
  readonly changeId: string;
  readonly status: string;
  readonly trigger: string;
  readonly createdAt: string;
  readonly reasonCodes: string[];
  readonly planHash: string | null;
  readonly policyVersion: string | null;
  readonly executionStatus: string | null;
  readonly plan: Plan | null;
  readonly approval: Record<string, unknown> | null;
  readonly actions: ReadonlyArray<{
    actionId: string;
    kind: string;
    target: Plan['actions'][number]['target'];
    status: string;
    reasonCode: string | null;
    attempts: number;
    observed: Record<string, unknown> | null;
    finding: string;
    risk: Plan['actions'][number]['risk'];
  }>;
  readonly evidence: readonly EvidenceEvent[];
}

export function summarize(record: ChangeRecord): ChangeSummary {
  return {
    changeId: record.changeId,
    status: record.status,
    trigger: record.trigger,
    createdAt: record.createdAt,
    actions: record.actionCount ?? 0,
    reasonCodes: record.reasonCodes ?? [],
  };
}

/** Changes and rollbacks (a rollback is a change of its own), newest first. */
export async function listChanges(ctx: StackContext): Promise<ChangeSummary[]> {
  const records = [...(await ctx.changes.list('change', 1000)), ...(await ctx.changes.list('rollback', 1000))];
  return records.map(summarize).sort((a, b) => b.createdAt.localeCompare(a.createdAt));
}

/** Everything known about one change: record, plan, per-action outcome, evidence. Null when unknown. */
export async function showChange(ctx: StackContext, changeId: string): Promise<ShowDocument | null> {
  const record = await ctx.changes.getWithActions(changeId);
  if (!record) return null;
  const plan = record.planHash ? await ctx.plans.get(record.planHash) : null;
  const evidence = await ctx.evidence.listByChange(changeId);
  const executionStatus = await describeExecution(ctx, changeId);
  return {
    changeId,
    status: record.status,
    trigger: record.trigger,
    createdAt: record.createdAt,
    reasonCodes: record.reasonCodes ?? [],
    planHash: record.planHash ?? null,
    policyVersion: record.policyVersion ?? null,
    executionStatus,
    plan,
    approval: record.approval ?? null,
    actions: (plan?.actions ?? []).map((action) => {
      const outcome = record.actions[action.actionId];
      return {
        actionId: action.actionId,
        kind: action.kind,
        target: action.target,
        status: outcome?.status ?? 'PLANNED',
        reasonCode: outcome?.reasonCode ?? null,
        attempts: outcome?.attempts ?? 0,
        observed: outcome?.observed ?? null,
        finding: action.finding,
        risk: action.risk,
      };
    }),
    evidence,
  };
}

/** The state machine that runs a change, by its id's prefix (rbk- rollback, fin- finalize). */
function machineFor(ctx: Pick<StackContext, 'outputs'>, changeId: string): string {
  if (changeId.startsWith('rbk-')) return ctx.outputs.stateMachines.rollback;
  if (changeId.startsWith('fin-')) return ctx.outputs.stateMachines.finalize;
  return ctx.outputs.stateMachines.change;
}

/** The status of the execution that runs a change (its recorded ARN, else derived); null when unknown. */
export async function describeExecution(ctx: Pick<StackContext, 'outputs' | 'clients'>, changeId: string, executionArn?: string): Promise<string | null> {
  try {
    const out = await ctx.clients.sfn.send(new DescribeExecutionCommand({ executionArn: executionArn ?? executionArnFor(machineFor(ctx, changeId), changeId) }));
    return out.status ?? null;
  } catch {
    return null;
  }
}

const EXECUTION_BROKEN = new Set(['FAILED', 'TIMED_OUT', 'ABORTED']);

/**
 * A status the caller can act on: terminal, waiting for a person, or an execution that died
 * without recording a terminal status. (SUCCEEDED alone is not enough: the record may be read
 * just before the last step's update.)
 */
export function isSettled(doc: Pick<ShowDocument, 'status' | 'approval' | 'executionStatus'>): boolean {
  return isTerminalStatus(doc.status) || waitsForAPerson(doc) || (doc.executionStatus !== null && EXECUTION_BROKEN.has(doc.executionStatus));
}

/** Awaiting approval with the decision still open (once decided, the workflow goes on: keep waiting). */
function waitsForAPerson(doc: Pick<ShowDocument, 'status' | 'approval'>): boolean {
  if (doc.status !== 'AWAITING_APPROVAL') return false;
  const decided = doc.approval?.status;
  return decided !== 'APPROVED' && decided !== 'REJECTED';
}

/**
 * Polls the change's record and its execution (two small reads, whatever the size of the change)
 * until it is settled, then reads the whole `show` document once.
 */
export async function waitForChange(ctx: StackContext, changeId: string, timeoutMs: number, pollMs = 250): Promise<{ doc: ShowDocument | null; settled: boolean }> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const record = await ctx.changes.get(changeId);
    if (record) {
      const recordSettled = isTerminalStatus(record.status) || waitsForAPerson({ status: record.status, approval: record.approval ?? null });
      const executionStatus = recordSettled ? null : await describeExecution(ctx, changeId, record.executionArn);
      if (recordSettled || isSettled({ status: record.status, approval: null, executionStatus })) {
        const doc = await showChange(ctx, changeId);
        if (doc && isSettled(doc)) return { doc, settled: true };
      }
    }
    if (Date.now() >= deadline) return { doc: await showChange(ctx, changeId), settled: false };
    await sleep(pollMs);
  }
}

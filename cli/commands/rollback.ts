import { executionArnFor } from '../../lambdas/domain/execution-arn.js';
import { startExecutionOnce } from '../../lambdas/lib/start-execution.js';
import { z } from 'zod';
import { decideRollbackRequest, finalizedActionIds, findRollbackAttempts } from '../../lambdas/domain/rollback.js';
import type { RollbackRequest } from '../../lambdas/handlers/rollback-plan.js';
import type { CommandRegistrar } from '../main.js';
import { logsHint, stackContext, type StackContext } from '../lib/context.js';
import { OperationFailed, paint, UsageError } from '../lib/io.js';
import { setTimeout as sleep } from 'node:timers/promises';

/** How long `rollback` waits for the workflow to record the rollback change. */
const RECORDED_TIMEOUT_MS = 60_000;

export interface RollbackRequested {
  /** The rollback's own change id (also its execution name). */
  readonly changeId: string;
  readonly parentChangeId: string;
  readonly executionArn: string;
  /** true: this rollback was already asked for and is in flight; nothing new was started. */
  readonly duplicate: boolean;
  readonly status: string;
}

const email = z.string().trim().toLowerCase().pipe(z.email());

/**
 * Asks for the rollback of a past change: refuses what cannot be rolled back (exit 2, with the
 * reason), returns the rollback already in flight for the same change, or starts the rollback
 * workflow under its deterministic id and waits until it has recorded the rollback change.
 */
export async function requestRollback(ctx: StackContext, input: { parentChangeId: string; requestedBy: string; reason?: string }): Promise<RollbackRequested> {
  const machine = ctx.outputs.stateMachines.rollback;
  const { parentChangeId } = input;
  const parent = await ctx.changes.getWithActions(parentChangeId);
  const plan = parent?.planHash ? await ctx.plans.get(parent.planHash) : null;
  const finalized = parent ? finalizedActionIds(await ctx.evidence.listByChange(parentChangeId)) : new Set<string>();
  const attempts = parent ? await findRollbackAttempts(parentChangeId, (id) => ctx.changes.getWithActions(id)) : [];
  const verdict = decideRollbackRequest({ parentChangeId, parent, plan, finalizedActionIds: finalized, attempts });
  if (verdict.verdict === 'refused') throw new UsageError(`${verdict.reasonCode}: ${verdict.reason}`);
  if (verdict.verdict === 'duplicate') {
    return { changeId: verdict.rollbackChangeId, parentChangeId, executionArn: executionArnFor(machine, verdict.rollbackChangeId), duplicate: true, status: verdict.status };
  }
  const request: RollbackRequest = { changeId: verdict.rollbackChangeId, parentChangeId, attempt: verdict.attempt, requestedBy: input.requestedBy, reason: input.reason ?? null };
  // Asked twice at the same moment: the execution name is the rollback id, so only one starts.
  const { duplicate } = await startExecutionOnce(ctx.clients.sfn, { stateMachineArn: machine, name: request.changeId, input: JSON.stringify(request) });
  const deadline = Date.now() + RECORDED_TIMEOUT_MS;
  while (Date.now() < deadline) {
    const record = await ctx.changes.get(request.changeId);
    if (record) return { changeId: request.changeId, parentChangeId, executionArn: executionArnFor(machine, request.changeId), duplicate, status: record.status };
    await sleep(100);
  }
  throw new OperationFailed(`the rollback workflow did not record ${request.changeId} within ${RECORDED_TIMEOUT_MS / 1000}s (${logsHint(ctx.target)})`);
}

export const registerRollback: CommandRegistrar = (program, io) => {
  program
    .command('rollback')
    .description('start the rollback workflow for a past change: approval, then its verified actions undone in reverse order, each verified')
    .argument('<changeId>', 'the change to roll back')
    .requiredOption('--as <email>', 'who asks for the rollback (recorded; may not approve it when the policy forbids requesters)')
    .option('--reason <text>', 'why (recorded as evidence)')
    .action(async (changeId: string, options: { as: string; reason?: string }) => {
      const out = io();
      const requestedBy = email.safeParse(options.as);
      if (!requestedBy.success) throw new UsageError(`--as must be an email address, not "${options.as}"`);
      if (options.reason !== undefined && options.reason.length > 1000) throw new UsageError('--reason is at most 1000 characters');
      const result = await requestRollback((await stackContext()), { parentChangeId: changeId, requestedBy: requestedBy.data, ...(options.reason ? { reason: options.reason } : {}) });
      out.result(result, () =>
        [
          result.duplicate
            ? `rollback ${paint(out, 'bold', result.changeId)} of ${changeId} was already asked for (${result.status}); nothing new started`
            : `rollback ${paint(out, 'bold', result.changeId)} of ${changeId} started; it waits for approval (nhigov approve ${result.changeId} --as APPROVER)`,
          `  nhigov wait ${result.changeId}`,
        ].join('\n'),
      );
    });
};

import { randomUUID } from 'node:crypto';
import { StartExecutionCommand } from '@aws-sdk/client-sfn';
import { z } from 'zod';
import { finalizeChangeId, finalizeExecutionName } from '../../lambdas/domain/finalize.js';
import type { CommandRegistrar } from '../main.js';
import { logsHint, stackContext, type StackContext } from '../lib/context.js';
import { OperationFailed, UsageError } from '../lib/io.js';
import { setTimeout as sleep } from 'node:timers/promises';

/** How long `finalize` waits for the workflow to record the run. */
const RECORDED_TIMEOUT_MS = 60_000;

const isoTime = z.iso.datetime({ offset: true });

export interface FinalizeStarted {
  /** The run's change id: fin-{execution name}. */
  readonly changeId: string;
  readonly executionArn: string;
  /** The time the grace period is evaluated at; null: now. */
  readonly asOf: string | null;
}

/**
 * Starts a finalize run now (the deployed stack runs it daily): keys deactivated by a change more
 * than the policy's grace period before `asOf` (default now), not rolled back and still inactive,
 * are deleted and verified gone.
 */
export async function startFinalize(ctx: StackContext, asOf: string | null): Promise<FinalizeStarted> {
  const machine = ctx.outputs.stateMachines.finalize;
  const name = finalizeExecutionName(asOf ?? 'now', new Date(), randomUUID());
  const out = await ctx.clients.sfn.send(new StartExecutionCommand({ stateMachineArn: machine, name, input: JSON.stringify(asOf ? { trigger: 'cli', asOf } : { trigger: 'cli' }) }));
  const changeId = finalizeChangeId(name);
  const deadline = Date.now() + RECORDED_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (await ctx.changes.get(changeId)) return { changeId, executionArn: out.executionArn ?? '', asOf };
    await sleep(100);
  }
  throw new OperationFailed(`the finalize workflow did not record ${changeId} within ${RECORDED_TIMEOUT_MS / 1000}s (${logsHint(ctx.target)})`);
}

export const registerFinalize: CommandRegistrar = (program, io) => {
  program
    .command('finalize')
    .description('run finalize now: delete keys deactivated more than the grace period ago (not rolled back, still inactive), verified gone')
    .option('--as-of <time>', 'evaluate the grace period at this ISO time instead of now')
    .action(async (options: { asOf?: string }) => {
      const out = io();
      if (options.asOf !== undefined && !isoTime.safeParse(options.asOf).success) throw new UsageError(`--as-of must be an ISO time with an offset (e.g. 2030-01-01T00:00:00Z), not "${options.asOf}"`);
      const result = await startFinalize((await stackContext()), options.asOf ?? null);
      out.result(result, () => `finalize run ${result.changeId} started${result.asOf ? ` (as of ${result.asOf})` : ''}\n  nhigov wait ${result.changeId}`);
    });
};

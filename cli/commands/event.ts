import { randomUUID } from 'node:crypto';
import { PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { executionArnFor } from '../../lambdas/domain/execution-arn.js';
import { changeIdForEvent, parseGovernanceEvent, toPutEventsEntry } from '../../lambdas/domain/events.js';
import type { CommandRegistrar } from '../main.js';
import { logsHint, stackContext, type StackContext } from '../lib/context.js';
import { readJsonInput } from '../lib/input.js';
import { OperationFailed, UsageError } from '../lib/io.js';
import { setTimeout as sleep } from 'node:timers/promises';

/** How long `event` waits for the workflow to take the event (rule → queue → ingest → plan). */
const TAKEN_TIMEOUT_MS = 60_000;

export const registerEvent: CommandRegistrar = (program, io) => {
  program
    .command('event')
    .description('put one EventBridge event on the stack\'s bus and wait until the workflow has taken it')
    .argument('<file>', 'event JSON (source, detail-type, detail, optional id), or - for stdin')
    .action(async (file: string) => {
      const out = io();
      const raw = readJsonInput(file);
      const withId = raw && typeof raw === 'object' && !Array.isArray(raw) && !('id' in raw) ? { ...raw, id: `cli-${randomUUID()}` } : raw;
      const parsed = parseGovernanceEvent(withId);
      if (!parsed.ok) throw new UsageError(`INPUT_INVALID: ${parsed.error}`);
      const ctx = await stackContext();
      const result = await putEvent(ctx, parsed.event);
      out.result(result, () => `change ${result.changeId} started\n  nhigov wait ${result.changeId}`);
    });
};

export async function putEvent(ctx: StackContext, event: Parameters<typeof toPutEventsEntry>[0]): Promise<{ changeId: string; executionArn: string }> {
  const put = await ctx.clients.events.send(new PutEventsCommand({ Entries: [{ ...toPutEventsEntry(event), EventBusName: ctx.outputs.eventBusName }] }));
  if ((put.FailedEntryCount ?? 0) > 0) throw new OperationFailed(`the bus refused the event: ${put.Entries?.[0]?.ErrorMessage ?? 'unknown error'}`);
  const changeId = changeIdForEvent(event.id);
  const deadline = Date.now() + TAKEN_TIMEOUT_MS;
  while (Date.now() < deadline) {
    const record = await ctx.changes.get(changeId);
    if (record) {
      const machine = ctx.outputs.stateMachines.change ?? '';
      return { changeId, executionArn: executionArnFor(machine, changeId) };
    }
    await sleep(100);
  }
  throw new OperationFailed(`the workflow did not take event ${event.id} within ${TAKEN_TIMEOUT_MS / 1000}s (${logsHint(ctx.target)})`);
}

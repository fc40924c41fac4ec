import { PutEventsCommand, type PutEventsRequestEntry } from '@aws-sdk/client-eventbridge';
import { executionArnFor } from '../../lambdas/domain/execution-arn.js';
import { changeIdForEvent, toPutEventsEntry, triggerContentHash, type GovernanceEvent } from '../../lambdas/domain/events.js';
import { OKTA_SOURCE_PREFIX } from '../../lambdas/domain/signals/okta.js';
import { providerEnvelope } from '../../lambdas/domain/signals/signal.js';
import type { CommandRegistrar } from '../main.js';
import { logsHint, stackContext, type StackContext } from '../lib/context.js';
import { readEventInput } from '../lib/event-input.js';
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
      const input = readEventInput(out, file, 'cli');
      if (!input) return;
      const ctx = await stackContext();
      for (const trigger of input.triggers) await refuseReusedId(ctx, trigger);
      const result = await putEvents(ctx, input.triggers, input.raw);
      const [first] = result.changes;
      out.result(
        first ? { changeId: first.changeId, executionArn: first.executionArn, changes: result.changes } : result,
        () => result.changes.map((c) => `change ${c.changeId} started\n  nhigov wait ${c.changeId}`).join('\n'),
      );
    });
};

/** A trigger's id already taken by a change of other content: refused, naming that change (exit 2). */
async function refuseReusedId(ctx: StackContext, trigger: GovernanceEvent): Promise<void> {
  const changeId = changeIdForEvent(trigger.id);
  const earlier = await ctx.changes.get(changeId);
  if (earlier?.contentHash !== undefined && earlier.contentHash !== triggerContentHash(trigger)) {
    throw new UsageError(`INPUT_INVALID: event id ${trigger.id} was already used for different content by change ${changeId}: refused`);
  }
}

/**
 * Puts the event on the bus its rule listens on and waits until every change it starts is
 * recorded. A custom event goes to the stack's bus (EventBusName) with its id in detail.eventId;
 * a provider's event (aws.*) to the default bus, as the provider would put it, and Okta's to its
 * partner bus (named as its source). `raw` is the file's event, for a provider's.
 */
export async function putEvents(ctx: StackContext, triggers: readonly GovernanceEvent[], raw?: unknown): Promise<{ changes: Array<{ changeId: string; executionArn: string }> }> {
  const entry = providerEntry(raw) ?? { ...toPutEventsEntry(triggers[0] ?? fail()), EventBusName: ctx.outputs.eventBusName };
  const put = await ctx.clients.events.send(new PutEventsCommand({ Entries: [entry] }));
  if ((put.FailedEntryCount ?? 0) > 0) throw new OperationFailed(`the bus refused the event: ${put.Entries?.[0]?.ErrorMessage ?? 'unknown error'}`);
  const machine = ctx.outputs.stateMachines.change ?? '';
  const changes: Array<{ changeId: string; executionArn: string }> = [];
  const deadline = Date.now() + TAKEN_TIMEOUT_MS;
  for (const trigger of triggers) {
    const changeId = changeIdForEvent(trigger.id);
    for (;;) {
      const record = await ctx.changes.get(changeId);
      if (record) {
        if (record.contentHash !== undefined && record.contentHash !== triggerContentHash(trigger)) {
          throw new UsageError(`INPUT_INVALID: event id ${trigger.id} was already used for different content by change ${changeId}: refused`);
        }
        changes.push({ changeId, executionArn: executionArnFor(machine, changeId) });
        break;
      }
      if (Date.now() > deadline) throw new OperationFailed(`the workflow did not take event ${trigger.id} within ${TAKEN_TIMEOUT_MS / 1000}s (${logsHint(ctx.target)})`);
      await sleep(100);
    }
  }
  return { changes };
}

/** One custom event on the stack's bus; its change once taken. */
export async function putEvent(ctx: StackContext, event: GovernanceEvent): Promise<{ changeId: string; executionArn: string }> {
  const { changes } = await putEvents(ctx, [event]);
  return changes[0] ?? fail();
}

function providerEntry(raw: unknown): PutEventsRequestEntry | undefined {
  const envelope = providerEnvelope.safeParse(raw);
  if (!envelope.success) return undefined;
  const { source } = envelope.data;
  const bus = source.startsWith('aws.') ? 'default' : source.startsWith(OKTA_SOURCE_PREFIX) ? source : undefined;
  if (!bus) return undefined;
  return { Source: source, DetailType: envelope.data['detail-type'], Detail: JSON.stringify(envelope.data.detail), EventBusName: bus, ...(envelope.data.time ? { Time: new Date(envelope.data.time) } : {}) };
}

function fail(): never {
  throw new OperationFailed('the event yields no change');
}

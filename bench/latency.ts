import { changeIdForEvent, parseGovernanceEvent } from '../lambdas/domain/events.js';
import { setTimeout as sleep } from 'node:timers/promises';
import { showChange } from '../cli/lib/changes.js';
import type { StackContext } from '../cli/lib/context.js';
import { isTerminalStatus } from '../lambdas/domain/status.js';
import { putEvent } from '../cli/commands/event.js';
import { createGovernedUser, ownerEmail, terminationEvent } from '../test/support/estate.js';
import { dynamoDbCallsPerEvent, median, printFigure, readGatewayStats, resetGatewayStats, withStack } from './support.js';

const RUNS = 5;

/**
 * When the change's record first shows a terminal status (polled every 50 ms): the record turns
 * terminal only once COMPLETED is on the chain. The clock stops there, not after reading `show`'s
 * whole document (its evidence chain and actions), which is the reader's cost, not the change's.
 */
async function terminalStatusAt(ctx: StackContext, changeId: string, deadline: number): Promise<{ readonly status: string; readonly at: number }> {
  for (;;) {
    const record = await ctx.changes.get(changeId);
    if (record && isTerminalStatus(record.status)) return { status: record.status, at: Date.now() };
    if (Date.now() > deadline) throw new Error(`${changeId} did not end in time (${record?.status ?? 'no record'})`);
    await sleep(50);
  }
}

/**
 * Event → VERIFIED for a straight-through termination of 1 and of 20 non-prod NHIs, median of
 * 5, measured from PutEvents to the terminal status read back from the changes table, and the
 * DynamoDB calls each run set made per evidence event.
 */
export async function runLatencyBench(): Promise<void> {
  await withStack(async (stack) => {
    const ctx = await stack.context();
    const medians = new Map<number, number>();
    for (const nhis of [1, 20]) {
      const samples: number[] = [];
      const changeIds: string[] = [];
      await resetGatewayStats(stack.endpoint);
      for (let run = 0; run < RUNS; run += 1) {
        const owner = ownerEmail('bench');
        for (let i = 0; i < nhis; i += 1) await createGovernedUser(stack.direct, { owner, keys: 1 });
        const parsed = parseGovernanceEvent(terminationEvent(owner));
        if (!parsed.ok) throw new Error(parsed.error);
        const started = Date.now();
        await putEvent(ctx, parsed.event);
        const ended = await terminalStatusAt(ctx, changeIdForEvent(parsed.event.id), started + 300_000);
        samples.push(ended.at - started);
        const doc = await showChange(ctx, changeIdForEvent(parsed.event.id));
        if (ended.status !== 'VERIFIED' || doc?.status !== 'VERIFIED') throw new Error(`run ${run} ended ${ended.status} (show: ${doc?.status})`);
        changeIds.push(changeIdForEvent(parsed.event.id));
      }
      // Counted before the chains are read back below (those reads pass the gateway too).
      const stats = await readGatewayStats(stack.endpoint);
      let events = 0;
      for (const changeId of changeIds) events += (await ctx.evidence.listByChange(changeId)).length;
      const perEvent = dynamoDbCallsPerEvent(stats, ctx.outputs.tables.evidence, events);
      medians.set(nhis, median(samples));
      printFigure(`event → VERIFIED, termination of ${nhis} NHI(s) (median of ${RUNS})`, `${(median(samples) / 1000).toFixed(2)} s  [${samples.map((s) => (s / 1000).toFixed(1)).join(', ')}]`);
      printFigure(`  DynamoDB calls per evidence event (${events} events)`, `${perEvent.evidenceTable.toFixed(2)} on the evidence table, ${perEvent.allTables.toFixed(2)} on all tables`);
    }
    printFigure('20 NHIs / 1 NHI (goal ≤ 4)', `${((medians.get(20) ?? NaN) / (medians.get(1) ?? NaN)).toFixed(1)}x`);
  });
}

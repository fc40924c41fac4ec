import { changeIdForEvent, parseGovernanceEvent } from '../lambdas/domain/events.js';
import { waitForChange } from '../cli/lib/changes.js';
import { putEvent } from '../cli/commands/event.js';
import { createGovernedUser, ownerEmail, terminationEvent } from '../test/support/estate.js';
import { median, printFigure, withStack } from './support.js';

const RUNS = 5;

/**
 * Event → VERIFIED for a straight-through termination of 1 and of 20 non-prod NHIs, median of
 * 5, measured from PutEvents to the terminal status read back from the changes table.
 */
export async function runLatencyBench(): Promise<void> {
  await withStack(async (stack) => {
    const ctx = await stack.context();
    for (const nhis of [1, 20]) {
      const samples: number[] = [];
      for (let run = 0; run < RUNS; run += 1) {
        const owner = ownerEmail('bench');
        for (let i = 0; i < nhis; i += 1) await createGovernedUser(stack.direct, { owner, keys: 1 });
        const parsed = parseGovernanceEvent(terminationEvent(owner));
        if (!parsed.ok) throw new Error(parsed.error);
        const started = Date.now();
        await putEvent(ctx, parsed.event);
        const { doc } = await waitForChange(ctx, changeIdForEvent(parsed.event.id), 300_000, 50);
        if (doc?.status !== 'VERIFIED') throw new Error(`run ${run} ended ${doc?.status}`);
        samples.push(Date.now() - started);
      }
      printFigure(`event → VERIFIED, termination of ${nhis} NHI(s) (median of ${RUNS})`, `${(median(samples) / 1000).toFixed(2)} s  [${samples.map((s) => (s / 1000).toFixed(1)).join(', ')}]`);
    }
  });
}

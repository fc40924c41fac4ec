import { changeIdForEvent, parseGovernanceEvent } from '../lambdas/domain/events.js';
import { waitForChange } from '../cli/lib/changes.js';
import { decideThroughLink } from '../cli/lib/approvals.js';
import { putEvent } from '../cli/commands/event.js';
import { createGovernedUser, ownerEmail, terminationEvent } from '../test/support/estate.js';
import { median, printFigure, withStack } from './support.js';

const RUNS = 5;

/** Approve click (the POST of the signed link) → VERIFIED, for a prod termination of one user with one key. */
export async function runApprovalBench(): Promise<void> {
  await withStack(async (stack) => {
    const ctx = await stack.context();
    const samples: number[] = [];
    const recorded: number[] = [];
    for (let run = 0; run < RUNS; run += 1) {
      const owner = ownerEmail('bench');
      await createGovernedUser(stack.direct, { owner, env: 'prod', keys: 1 });
      const parsed = parseGovernanceEvent(terminationEvent(owner));
      if (!parsed.ok) throw new Error(parsed.error);
      await putEvent(ctx, parsed.event);
      const changeId = changeIdForEvent(parsed.event.id);
      const waiting = await waitForChange(ctx, changeId, 120_000, 50);
      if (waiting.doc?.status !== 'AWAITING_APPROVAL') throw new Error(`run ${run}: ${waiting.doc?.status}`);
      const clicked = Date.now();
      const decided = await decideThroughLink(ctx, { changeId, approver: 'approver@example.com', decision: 'approve' });
      if (!decided.ok) throw new Error(`run ${run}: approval refused ${decided.reason}`);
      const approved = (await ctx.evidence.listByChange(changeId)).find((e) => e.type === 'APPROVED');
      if (!approved) throw new Error(`run ${run}: no APPROVED event after the POST was answered`);
      recorded.push(Date.parse(approved.at) - clicked);
      const { doc } = await waitForChange(ctx, changeId, 120_000, 50);
      if (doc?.status !== 'VERIFIED') throw new Error(`run ${run} ended ${doc?.status}`);
      samples.push(Date.now() - clicked);
    }
    printFigure(`approval link POST → decision recorded (APPROVED on the chain, median of ${RUNS})`, `${(median(recorded) / 1000).toFixed(2)} s  [${recorded.map((s) => (s / 1000).toFixed(2)).join(', ')}]`);
    printFigure(`approve click → VERIFIED, prod user with 1 key (median of ${RUNS})`, `${(median(samples) / 1000).toFixed(2)} s  [${samples.map((s) => (s / 1000).toFixed(1)).join(', ')}]`);
  });
}

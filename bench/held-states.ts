import { UpdateAccessKeyCommand } from '@aws-sdk/client-iam';
import { parseGovernanceEvent } from '../lambdas/domain/events.js';
import { isTerminalStatus } from '../lambdas/domain/status.js';
import { ChangeStore } from '../lambdas/stores/change-store.js';
import { createDocumentClient } from '../lambdas/stores/dynamo.js';
import { putEvent } from '../cli/commands/event.js';
import { waitForChange } from '../cli/lib/changes.js';
import { createGovernedUser, keyStatuses, ownerEmail, terminationEvent } from '../test/support/estate.js';
import { median, printFigure, readGatewayStats, resetGatewayStats, withStack } from './support.js';
import { setTimeout as sleep } from 'node:timers/promises';

const RUNS = 5;

/**
 * A key a verified termination switched off, switched back on by hand through the gateway (as
 * CloudTrail sees any caller) → the key read back Inactive from IAM (moto directly), with no
 * event sent by anyone: median of 5. And the AWS calls one drift event costs, from the hand-made
 * call to the reversal's change settled (the gateway's counters; the hand-made call left out).
 */
export async function runHeldStatesBench(): Promise<void> {
  await withStack(async (stack) => {
    const ctx = await stack.context();
    // Read around the gateway, so the bench's own polling is not counted as the workflow's calls.
    const changes = new ChangeStore(createDocumentClient(stack.direct.dynamodb), stack.outputs.tables.changes ?? '', stack.outputs.tables.actions ?? '');
    const times: number[] = [];
    const calls: number[] = [];
    let lastByService: Record<string, number> = {};
    for (let run = 0; run < RUNS; run += 1) {
      const owner = ownerEmail('bench');
      const user = await createGovernedUser(stack.direct, { owner, keys: 1 });
      const [key] = user.keyIds as [string];
      const parsed = parseGovernanceEvent(terminationEvent(owner));
      if (!parsed.ok) throw new Error(parsed.error);
      const { changeId } = await putEvent(ctx, parsed.event);
      const { doc } = await waitForChange(ctx, changeId, 90_000);
      if (doc?.status !== 'VERIFIED') throw new Error(`run ${run}: termination ${changeId} ended ${doc?.status ?? 'nowhere'}`);
      const known = new Set((await changes.list('change', 1000)).map((c) => c.changeId));

      await resetGatewayStats(stack.endpoint);
      const started = Date.now();
      await stack.clients.iam.send(new UpdateAccessKeyCommand({ UserName: user.userName, AccessKeyId: key, Status: 'Active' }));
      for (;;) {
        if ((await keyStatuses(stack.direct, user.userName))[key] === 'Inactive') break;
        if (Date.now() - started > 120_000) throw new Error(`run ${run}: key ${key} still active`);
        await sleep(25);
      }
      times.push(Date.now() - started);
      let reversal = (await changes.list('change', 1000)).find((c) => !known.has(c.changeId) && c.trigger === 'Reconcile Requested');
      while (!reversal || !isTerminalStatus(reversal.status)) {
        if (Date.now() - started > 120_000) throw new Error(`run ${run}: the reconcile did not settle`);
        await sleep(100);
        reversal = (await changes.list('change', 1000)).find((c) => !known.has(c.changeId) && c.trigger === 'Reconcile Requested');
      }
      const stats = await readGatewayStats(stack.endpoint);
      const total = Object.values(stats.aws).reduce((n, byAction) => n + Object.values(byAction).reduce((m, c) => m + c, 0), 0);
      // The hand-made UpdateAccessKey is the drift, not a call of ours.
      calls.push(total - 1);
      lastByService = Object.fromEntries(Object.entries(stats.aws).map(([service, byAction]) => [service, Object.values(byAction).reduce((m, c) => m + c, 0)]));
    }
    printFigure(`hand-made key switch-on → read back Inactive (median of ${RUNS})`, `${(median(times) / 1000).toFixed(2)} s  [${times.map((s) => (s / 1000).toFixed(2)).join(', ')}]`);
    printFigure(`AWS calls per drift event (median of ${RUNS})`, `${median(calls)}  [${calls.join(', ')}]`);
    printFigure('  by service, last run (the hand-made call included)', Object.entries(lastByService).map(([service, n]) => `${service} ${n}`).join(', '));
  });
}

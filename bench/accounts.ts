import { changeIdForEvent, parseGovernanceEvent } from '../lambdas/domain/events.js';
import { waitForChange } from '../cli/lib/changes.js';
import { putEvent } from '../cli/commands/event.js';
import { LOCAL_ACCOUNT_ID, memberAccountClients, type AwsClients } from '../local/aws-clients.js';
import { activatePolicyVariant } from '../test/support/approvals.js';
import { createGovernedUser, ownerEmail, terminationEvent } from '../test/support/estate.js';
import { median, printFigure, readGatewayStats, resetGatewayStats, withStack } from './support.js';

const RUNS = 3;
const MEMBERS = ['111111111111', '222222222222'] as const;

/**
 * Event → VERIFIED for a termination whose leaver has one NHI in each of 3 accounts (the hub and
 * two member accounts), against the same 3 NHIs in the hub alone, median of 3, in the same run;
 * and the AssumeRole calls each cross-account change made.
 */
export async function runAccountsBench(): Promise<void> {
  await withStack(async (stack) => {
    activatePolicyVariant(stack, 'bench-accounts', (policy) => {
      policy.accounts = MEMBERS.map((id) => ({ id }));
    });
    const ctx = await stack.context();
    const motoEndpoint = `http://127.0.0.1:${stack.port + 1}`;
    const members = await Promise.all(MEMBERS.map((id) => memberAccountClients(motoEndpoint, id)));
    const spread: Array<Pick<AwsClients, 'iam'>> = [stack.direct, ...members];
    const hubOnly: Array<Pick<AwsClients, 'iam'>> = [stack.direct, stack.direct, stack.direct];
    const results = new Map<string, number>();
    for (const [label, accounts] of [
      [`3 NHIs in 3 accounts (${[LOCAL_ACCOUNT_ID, ...MEMBERS].join(', ')})`, spread],
      ['3 NHIs in the hub account', hubOnly],
    ] as const) {
      const samples: number[] = [];
      await resetGatewayStats(stack.endpoint);
      for (let run = 0; run < RUNS; run += 1) {
        const owner = ownerEmail('bench');
        for (const clients of accounts) await createGovernedUser(clients, { owner, keys: 1 });
        const parsed = parseGovernanceEvent(terminationEvent(owner));
        if (!parsed.ok) throw new Error(parsed.error);
        const started = Date.now();
        await putEvent(ctx, parsed.event);
        const { doc } = await waitForChange(ctx, changeIdForEvent(parsed.event.id), 300_000, 50);
        if (doc?.status !== 'VERIFIED') throw new Error(`${label}, run ${run}: ended ${doc?.status}`);
        samples.push(Date.now() - started);
      }
      const stats = await readGatewayStats(stack.endpoint);
      results.set(label, median(samples));
      printFigure(`event → VERIFIED, termination of ${label} (median of ${RUNS})`, `${(median(samples) / 1000).toFixed(2)} s  [${samples.map((s) => (s / 1000).toFixed(1)).join(', ')}]`);
      printFigure('  AssumeRole calls per change', (((stats.aws['sts'] ?? {})['AssumeRole'] ?? 0) / RUNS).toFixed(1));
    }
    const [spreadMs, hubMs] = [...results.values()];
    printFigure('3 accounts / 1 account', `${((spreadMs ?? NaN) / (hubMs ?? NaN)).toFixed(2)}x`);
  });
}

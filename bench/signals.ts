import { PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { changeIdForEvent, parseGovernanceEvent } from '../lambdas/domain/events.js';
import { createGovernedUser, keyStatuses, ownerEmail, terminationEvent, unique } from '../test/support/estate.js';
import { providerEvent, putProviderEvent } from '../test/support/signals.js';
import { toPutEventsEntry } from '../lambdas/domain/events.js';
import { median, printFigure, withStack } from './support.js';
import { setTimeout as sleep } from 'node:timers/promises';

const RUNS = 5;

/**
 * AWS Health AWS_RISK_CREDENTIALS_EXPOSED put on the default bus → the key read back Inactive
 * from IAM (moto directly), median of 5; and a custom event put on the governance bus → its
 * change recorded (moto routing a custom bus's rule to the SQS target, then ingest and Plan).
 */
export async function runSignalsBench(): Promise<void> {
  await withStack(async (stack) => {
    const ctx = await stack.context();
    const health: number[] = [];
    for (let run = 0; run < RUNS; run += 1) {
      const user = await createGovernedUser(stack.direct, { owner: ownerEmail('bench'), keys: 1 });
      const [key] = user.keyIds as [string];
      const event = providerEvent('health', { XXXXXXXXXXXXXXXXX: unique('B').toUpperCase(), ACCESS_KEY_ID_HERE: key });
      const started = Date.now();
      await putProviderEvent(stack.clients, event, 'default');
      for (;;) {
        if ((await keyStatuses(stack.direct, user.userName))[key] === 'Inactive') break;
        if (Date.now() - started > 120_000) throw new Error(`run ${run}: key ${key} still active`);
        await sleep(25);
      }
      health.push(Date.now() - started);
    }
    printFigure(`AWS Health event on the bus → key Inactive read back (median of ${RUNS})`, `${(median(health) / 1000).toFixed(2)} s  [${health.map((s) => (s / 1000).toFixed(2)).join(', ')}]`);

    const custom: number[] = [];
    for (let run = 0; run < RUNS; run += 1) {
      const parsed = parseGovernanceEvent(terminationEvent(ownerEmail('bench')));
      if (!parsed.ok) throw new Error(parsed.error);
      const started = Date.now();
      await stack.clients.events.send(new PutEventsCommand({ Entries: [{ ...toPutEventsEntry(parsed.event), EventBusName: ctx.outputs.eventBusName }] }));
      while (!(await ctx.changes.get(changeIdForEvent(parsed.event.id)))) {
        if (Date.now() - started > 60_000) throw new Error(`run ${run}: the governance bus did not deliver`);
        await sleep(25);
      }
      custom.push(Date.now() - started);
    }
    printFigure(`custom event on the governance bus → change recorded (median of ${RUNS})`, `${(median(custom) / 1000).toFixed(2)} s  [${custom.map((s) => (s / 1000).toFixed(2)).join(', ')}]`);
  });
}

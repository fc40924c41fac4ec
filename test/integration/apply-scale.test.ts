/**
 * Apply runs a phase's actions as the child executions of a Distributed Map, so the change
 * execution's history (AWS caps a Standard execution at 25,000 events) does not grow with the
 * number of actions. moto 5.2.1 does not enforce the cap: the test measures the parent's history
 * at two sizes instead. moto runs the children in-process and keeps none of their events, nor any
 * child execution: what it does keep is one map run per phase, with its item counts.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DescribeMapRunCommand, GetExecutionHistoryCommand, ListExecutionsCommand, ListMapRunsCommand, type SFNClient } from '@aws-sdk/client-sfn';
import { putEvent } from '../../cli/commands/event.js';
import { waitForChange, type ShowDocument } from '../../cli/lib/changes.js';
import { parseGovernanceEvent } from '../../lambdas/domain/events.js';
import { actionIdsByPhase } from '../../lambdas/domain/plan.js';
import { startTestStack, type TestStack } from '../support/local-stack.js';
import { createGovernedUser, keyStatuses, ownerEmail, terminationEvent } from '../support/estate.js';

const HISTORY_QUOTA = 25_000;
/** Each user has one key: a termination plans its deactivation and the session-revocation deny. */
const ACTIONS_PER_USER = 2;

const phaseCount = (doc: ShowDocument): number => (doc.plan ? actionIdsByPhase(doc.plan).length : 0);

async function historyEvents(sfn: SFNClient, executionArn: string): Promise<number> {
  let count = 0;
  let nextToken: string | undefined;
  do {
    const page = await sfn.send(new GetExecutionHistoryCommand({ executionArn, maxResults: 1000, nextToken }));
    count += page.events?.length ?? 0;
    nextToken = page.nextToken;
  } while (nextToken);
  return count;
}

/** Items the execution's map runs processed, and how many succeeded. */
async function mapRunItems(sfn: SFNClient, executionArn: string): Promise<{ runs: number; total: number; succeeded: number }> {
  const { mapRuns = [] } = await sfn.send(new ListMapRunsCommand({ executionArn }));
  let total = 0;
  let succeeded = 0;
  for (const run of mapRuns) {
    const described = await sfn.send(new DescribeMapRunCommand({ mapRunArn: run.mapRunArn }));
    total += described.itemCounts?.total ?? 0;
    succeeded += described.itemCounts?.succeeded ?? 0;
  }
  return { runs: mapRuns.length, total, succeeded };
}

interface Run {
  readonly doc: ShowDocument;
  readonly executionArn: string;
  readonly users: ReadonlyArray<{ userName: string; keyIds: string[] }>;
}

describe('Apply at scale: the change execution history does not grow with the actions', () => {
  let stack: TestStack;
  beforeAll(async () => {
    stack = await startTestStack();
  });
  afterAll(() => stack?.stop());

  async function terminate(userCount: number): Promise<Run> {
    const owner = ownerEmail('leaver');
    const users = await Promise.all(Array.from({ length: userCount }, () => createGovernedUser(stack.direct, { owner, env: 'dev', keys: 1 })));
    const parsed = parseGovernanceEvent(terminationEvent(owner));
    if (!parsed.ok) throw new Error(parsed.error);
    const ctx = await stack.context();
    const { changeId, executionArn } = await putEvent(ctx, parsed.event);
    const { doc, settled } = await waitForChange(ctx, changeId, 120_000);
    if (!doc || !settled) throw new Error(`change ${changeId} did not settle`);
    return { doc, executionArn, users };
  }

  it('runs 6 and 40 actions to VERIFIED with the same parent history, every key read back Inactive', async () => {
    const [small, large] = await Promise.all([terminate(3), terminate(20)]);
    const runs = [small, large];

    for (const [run, userCount] of [[small, 3], [large, 20]] as const) {
      expect(run.doc.status).toBe('VERIFIED');
      expect(run.doc.actions).toHaveLength(userCount * ACTIONS_PER_USER);
      expect(run.doc.actions.every((a) => a.status === 'VERIFIED')).toBe(true);
      for (const user of run.users) expect(Object.values(await keyStatuses(stack.direct, user.userName))).toEqual(['Inactive']);
      // Every action went through a map run (a child execution in AWS), none inline.
      const items = await mapRunItems(stack.direct.sfn, run.executionArn);
      expect(items.runs).toBe(phaseCount(run.doc));
      expect(items).toMatchObject({ total: run.doc.actions.length, succeeded: run.doc.actions.length });
    }

    const [smallEvents, largeEvents] = await Promise.all(runs.map((run) => historyEvents(stack.direct.sfn, run.executionArn)));
    expect(phaseCount(small.doc)).toBe(phaseCount(large.doc));
    expect(largeEvents, `parent history: ${smallEvents} events at 6 actions, ${largeEvents} at 40`).toBe(smallEvents);

    // Every execution of the change state machine (in moto, the children leave none).
    const { executions = [] } = await stack.direct.sfn.send(new ListExecutionsCommand({ stateMachineArn: stack.outputs.stateMachines['change'] }));
    expect(executions.map((e) => e.executionArn).sort()).toEqual(runs.map((run) => run.executionArn).sort());
    for (const execution of executions) expect(await historyEvents(stack.direct.sfn, execution.executionArn ?? '')).toBeLessThan(HISTORY_QUOTA / 100);
  });
});

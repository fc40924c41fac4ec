import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { GetItemCommand } from '@aws-sdk/client-dynamodb';
import { CreateAccessKeyCommand, CreateUserCommand, ListAccessKeysCommand } from '@aws-sdk/client-iam';
import { DescribeExecutionCommand, DescribeMapRunCommand, GetExecutionHistoryCommand, ListMapRunsCommand, type HistoryEvent, type SFNClient } from '@aws-sdk/client-sfn';
import { putEvent } from '../cli/commands/event.js';
import { showChange } from '../cli/lib/changes.js';
import { parseGovernanceEvent } from '../lambdas/domain/events.js';
import type { AwsClients } from '../local/aws-clients.js';
import { printFigure, withStack } from './support.js';

/**
 * A 2,000-action change to VERIFIED: the termination of one owner of 1,000 users with one key
 * each (a key deactivation and a session-revocation deny per user). Apply runs each phase's
 * actions as a Distributed Map; the figures show what the change execution's history holds
 * against the 25,000-event quota of a Standard execution (moto does not enforce it).
 * `NHIGOV_BENCH_APPLY_USERS=N` runs N users (2N actions). A plan is one DynamoDB item (400 KB):
 * past 256 KB of text it is stored gzipped (lambdas/stores/plan-store.ts).
 */
export const APPLY_SCALE_USERS = Number(process.env.NHIGOV_BENCH_APPLY_USERS ?? 1_000);
const HISTORY_QUOTA = 25_000;
const PAYLOAD_QUOTA_BYTES = 256 * 1024;
const SEED_BATCH = 25;
const TIMEOUT_MS = 60 * 60_000;

async function inBatches<T>(items: readonly T[], run: (item: T) => Promise<void>): Promise<void> {
  for (let i = 0; i < items.length; i += SEED_BATCH) await Promise.all(items.slice(i, i + SEED_BATCH).map(run));
}

/** Straight into moto, as bench/calls.ts seeds: governed users with one active key each. */
async function seedUsers(direct: AwsClients, names: readonly string[], owner: string): Promise<void> {
  const tags = [{ Key: 'nhi-governed', Value: 'true' }, { Key: 'owner', Value: owner }, { Key: 'env', Value: 'dev' }];
  await inBatches(names, async (name) => {
    await direct.iam.send(new CreateUserCommand({ UserName: name, Tags: tags }));
    await direct.iam.send(new CreateAccessKeyCommand({ UserName: name }));
  });
}

async function history(sfn: SFNClient, executionArn: string): Promise<HistoryEvent[]> {
  const events: HistoryEvent[] = [];
  let nextToken: string | undefined;
  do {
    const page = await sfn.send(new GetExecutionHistoryCommand({ executionArn, maxResults: 1000, nextToken }));
    events.push(...(page.events ?? []));
    nextToken = page.nextToken;
  } while (nextToken);
  return events;
}

/** The largest state input or output the execution carried (the quota is 256 KiB). */
function largestPayloadBytes(events: readonly HistoryEvent[]): number {
  let largest = 0;
  for (const event of events) {
    for (const details of Object.values(event)) {
      if (typeof details !== 'object' || details === null) continue;
      for (const key of ['input', 'output']) {
        const value: unknown = Reflect.get(details, key);
        if (typeof value === 'string') largest = Math.max(largest, Buffer.byteLength(value));
      }
    }
  }
  return largest;
}

const PROGRESS_EVERY_MS = 60_000;

/** Waits for the execution to end; every minute, `progress` tells how many actions are verified so far. */
async function waitForExecution(sfn: SFNClient, executionArn: string, progress: () => Promise<number>): Promise<{ status: string; verifiedPerMinute: number[] }> {
  const deadline = Date.now() + TIMEOUT_MS;
  const verifiedPerMinute: number[] = [];
  let nextProgress = Date.now() + PROGRESS_EVERY_MS;
  for (;;) {
    const { status = 'UNKNOWN' } = await sfn.send(new DescribeExecutionCommand({ executionArn }));
    if (status !== 'RUNNING') return { status, verifiedPerMinute };
    if (Date.now() >= deadline) throw new Error(`${executionArn} still running after ${TIMEOUT_MS / 60_000} min`);
    if (Date.now() >= nextProgress) {
      nextProgress += PROGRESS_EVERY_MS;
      verifiedPerMinute.push(await progress());
      printFigure(`actions verified after ${verifiedPerMinute.length} min`, String(verifiedPerMinute.at(-1)));
    }
    await sleep(1_000);
  }
}

export async function runApplyScaleBench(): Promise<void> {
  await withStack(async (stack) => {
    const ctx = await stack.context();
    const run = randomUUID().slice(0, 6);
    const owner = `bench-leaver-${run}@example.com`;
    const names = Array.from({ length: APPLY_SCALE_USERS }, (_, i) => `bs-${run}-u${i}`);
    const seeded = Date.now();
    await seedUsers(stack.direct, names, owner);
    printFigure('users seeded into moto (one key each, one owner)', `${names.length} in ${((Date.now() - seeded) / 1000).toFixed(1)} s`);

    const parsed = parseGovernanceEvent({ id: `bench-apply-${run}`, source: 'hr.system', 'detail-type': 'Employee Terminated', detail: { employeeId: `e-${run}`, email: owner } });
    if (!parsed.ok) throw new Error(parsed.error);
    const started = Date.now();
    const { changeId, executionArn } = await putEvent(ctx, parsed.event);
    const verifiedSoFar = async () => Object.values(await ctx.changes.actions.ofChange(changeId)).filter((a) => a.status === 'VERIFIED').length;
    const { status: executionStatus, verifiedPerMinute } = await waitForExecution(stack.direct.sfn, executionArn, verifiedSoFar);
    const elapsedMs = Date.now() - started;
    const perMinute = verifiedPerMinute.map((count, i) => count - (verifiedPerMinute[i - 1] ?? 0));
    if (perMinute.length > 0) printFigure('actions verified in each minute', perMinute.join(', '));
    const doc = await showChange(ctx, changeId);
    if (!doc) throw new Error(`change ${changeId} not found`);
    const verified = doc.actions.filter((a) => a.status === 'VERIFIED').length;
    printFigure('change status (execution status)', `${doc.status} (${executionStatus})`);
    printFigure('time from the event to the end of the execution', `${(elapsedMs / 1000).toFixed(1)} s`);
    printFigure('actions verified / planned', `${verified} / ${doc.actions.length}`);
    if (doc.planHash) {
      // One DynamoDB item per plan: DynamoDB (and moto) refuse an item over 400 KB.
      const item = await stack.direct.dynamodb.send(new GetItemCommand({ TableName: stack.outputs.tables['plans'], Key: { planHash: { S: doc.planHash } } }));
      const zipped = item.Item?.['bodyGzip']?.B;
      const bytes = zipped ? zipped.byteLength : Buffer.byteLength(item.Item?.['body']?.S ?? '');
      printFigure(`stored plan (one DynamoDB item, limit 400 KB${zipped ? ', gzipped' : ''})`, `${(bytes / 1024).toFixed(1)} KiB, ${(bytes / Math.max(1, doc.actions.length)).toFixed(0)} bytes per action`);
    }

    const events = await history(stack.direct.sfn, executionArn);
    const failure = events.find((e) => e.taskFailedEventDetails ?? e.lambdaFunctionFailedEventDetails);
    const failed = failure?.taskFailedEventDetails ?? failure?.lambdaFunctionFailedEventDetails;
    if (failed) printFigure('first failed task', `${failed.error ?? ''}: ${(failed.cause ?? '').slice(0, 300)}`);
    printFigure('parent execution history events', `${events.length} (quota ${HISTORY_QUOTA})`);
    printFigure('largest state payload in the parent history', `${(largestPayloadBytes(events) / 1024).toFixed(1)} KiB (quota ${PAYLOAD_QUOTA_BYTES / 1024} KiB)`);

    const { mapRuns = [] } = await stack.direct.sfn.send(new ListMapRunsCommand({ executionArn }));
    let items = 0;
    for (const mapRun of mapRuns) {
      const described = await stack.direct.sfn.send(new DescribeMapRunCommand({ mapRunArn: mapRun.mapRunArn }));
      items += described.itemCounts?.succeeded ?? 0;
    }
    printFigure('map runs (one per phase) / items they ran', `${mapRuns.length} / ${items}`);
    // moto 5.2.1 runs a map run's children in-process and discards their events: no child
    // execution exists to read (ListExecutions by mapRunArn answers HTTP 500).
    printFigure('max child execution history events', 'not recorded by moto 5.2.1 (children run in-process)');

    let inactive = 0;
    await inBatches(names, async (name) => {
      const keys = await stack.direct.iam.send(new ListAccessKeysCommand({ UserName: name }));
      inactive += (keys.AccessKeyMetadata ?? []).filter((k) => k.Status === 'Inactive').length;
    });
    printFigure('keys read back Inactive (moto, directly)', `${inactive} / ${names.length}`);
  });
}

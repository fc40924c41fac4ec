import { readFileSync } from 'node:fs';
import path from 'node:path';
import { PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { GetUserPolicyCommand } from '@aws-sdk/client-iam';
import { changeIdForEvent, parseGovernanceEvent, toPutEventsEntry, type GovernanceEvent } from '../lambdas/domain/events.js';
import { verifyChain } from '../lambdas/domain/evidence.js';
import { isTerminalStatus } from '../lambdas/domain/status.js';
import { showChange } from '../cli/lib/changes.js';
import { createGovernedUser, keyStatuses, ownerEmail, terminationEvent } from '../test/support/estate.js';
import { dynamoDbCallsPerEvent, percentile, printFigure, readGatewayStats, resetGatewayStats, withStack } from './support.js';
import { setTimeout as sleep } from 'node:timers/promises';

/**
 * The load run of issue 8: LOAD_EVENTS `Employee Terminated` events (default 200), each for an
 * owner of 5-20 non-prod NHIs, over an estate of LOAD_ESTATE NHIs (default 2,000), sent as fast
 * as the bus accepts them. Prints throughput, event → terminal p50/p95 and the gateway's peak
 * memory, then checks that nothing was lost: every change terminal, every VERIFIED action read
 * back independently in its new state, every chain verifies, evidence counts match the actions.
 */
export async function runLoadBench(): Promise<void> {
  const events = Number(process.env.LOAD_EVENTS ?? 200);
  const estate = Number(process.env.LOAD_ESTATE ?? 2000);
  const timeoutMs = Number(process.env.LOAD_TIMEOUT_S ?? 3600) * 1000;
  await withStack(async (stack) => {
    const ctx = await stack.context();

    // Seed: `events` owners of 5-20 NHIs each; the rest of the estate belongs to bystanders.
    const seedStarted = Date.now();
    const owners: Array<{ email: string; users: string[] }> = [];
    let seeded = 0;
    for (let i = 0; i < events; i += 1) owners.push({ email: ownerEmail('load'), users: [] });
    const plan: Array<{ owner: string | null; index: number }> = [];
    for (const owner of owners) {
      const count = 5 + Math.floor(Math.random() * 16);
      for (let j = 0; j < count; j += 1) plan.push({ owner: owner.email, index: owners.indexOf(owner) });
    }
    while (plan.length < estate) plan.push({ owner: ownerEmail('bystander'), index: -1 });
    for (let start = 0; start < plan.length; start += 25) {
      await Promise.all(
        plan.slice(start, start + 25).map(async (entry) => {
          const user = await createGovernedUser(stack.direct, { owner: entry.owner, keys: 1 });
          if (entry.index >= 0) owners[entry.index]?.users.push(user.userName);
          seeded += 1;
        }),
      );
    }
    printFigure('estate seeded (NHIs)', `${seeded} in ${((Date.now() - seedStarted) / 1000).toFixed(0)} s`);

    // Send as fast as the bus accepts: PutEvents in batches of 10.
    const parsed: GovernanceEvent[] = owners.map((owner) => {
      const result = parseGovernanceEvent(terminationEvent(owner.email));
      if (!result.ok) throw new Error(result.error);
      return result.event;
    });
    // The custom sources' rules listen on the governance bus (the stack's EventBusName).
    const bus = ctx.outputs.eventBusName;
    const sentAt = new Map<string, number>();
    await resetGatewayStats(stack.endpoint);
    const started = Date.now();
    for (let i = 0; i < parsed.length; i += 10) {
      const batch = parsed.slice(i, i + 10);
      const out = await stack.clients.events.send(new PutEventsCommand({ Entries: batch.map((event) => ({ ...toPutEventsEntry(event), EventBusName: bus })) }));
      if ((out.FailedEntryCount ?? 0) > 0) throw new Error(`the bus refused ${out.FailedEntryCount} events`);
      for (const event of batch) sentAt.set(changeIdForEvent(event.id), Date.now());
    }
    const sendMs = Date.now() - started;

    // Wait until every change is terminal.
    const pending = new Set(sentAt.keys());
    const finishedAt = new Map<string, number>();
    while (pending.size > 0 && Date.now() - started < timeoutMs) {
      for (const changeId of [...pending]) {
        const record = await ctx.changes.get(changeId);
        if (record && isTerminalStatus(record.status)) {
          finishedAt.set(changeId, Date.now());
          pending.delete(changeId);
        }
      }
      if (pending.size > 0) await sleep(1000);
    }
    const wallMs = Date.now() - started;
    const peakKb = peakMemoryKb(stack.outputs.pids.server);
    // The run's own calls, before judging reads everything back.
    const calls = await readGatewayStats(stack.endpoint);

    // Judge: read everything back.
    let actions = 0;
    let verified = 0;
    let notInNewState = 0;
    let brokenChains = 0;
    let evidenceMismatch = 0;
    let evidenceEvents = 0;
    const statuses = new Map<string, number>();
    for (const changeId of sentAt.keys()) {
      const doc = await showChange(ctx, changeId);
      if (!doc) continue;
      statuses.set(doc.status, (statuses.get(doc.status) ?? 0) + 1);
      if (!verifyChain(doc.evidence).ok) brokenChains += 1;
      evidenceEvents += doc.evidence.length;
      for (const action of doc.actions) {
        actions += 1;
        const events = doc.evidence.filter((e) => e.actionId === action.actionId);
        const verifiedEvents = events.filter((e) => e.type === 'VERIFIED').length;
        if (action.status === 'VERIFIED') {
          verified += 1;
          if (verifiedEvents !== 1 || !events.some((e) => e.type === 'WRITTEN')) {
            evidenceMismatch += 1;
            process.stdout.write(`evidence mismatch: ${changeId} ${action.actionId} (${action.kind}) events ${events.map((e) => `${e.seq}:${e.type}`).join(' ')}\n`);
          }
          if (!(await inNewState(stack, action.kind, action.target.id, action.target.nhi))) notInNewState += 1;
        } else if (verifiedEvents !== 0) {
          evidenceMismatch += 1;
          process.stdout.write(`evidence mismatch: ${changeId} ${action.actionId} is ${action.status} with ${verifiedEvents} VERIFIED\n`);
        }
      }
    }
    const latencies = [...finishedAt].map(([id, at]) => at - (sentAt.get(id) ?? at));
    const minutes = wallMs / 60_000;
    printFigure('events sent (PutEvents, batches of 10)', `${events} in ${(sendMs / 1000).toFixed(1)} s`);
    printFigure('changes terminal / sent', `${finishedAt.size} / ${events} (${[...statuses].map(([s, n]) => `${s} ${n}`).join(', ')})`);
    printFigure('throughput: changes per minute', (finishedAt.size / minutes).toFixed(1));
    printFigure('throughput: actions per minute', (actions / minutes).toFixed(1));
    printFigure('event → terminal p50 / p95', `${(percentile(latencies, 50) / 1000).toFixed(1)} s / ${(percentile(latencies, 95) / 1000).toFixed(1)} s`);
    printFigure('gateway peak memory (VmHWM)', peakKb ? `${(peakKb / 1024).toFixed(0)} MiB` : 'n/a');
    printFigure('VERIFIED actions read back in their new state', `${verified - notInNewState} / ${verified}`);
    printFigure('evidence chains that verify', `${sentAt.size - brokenChains} / ${sentAt.size}`);
    printFigure('actions whose evidence does not match', String(evidenceMismatch));
    printFigure('evidence events', String(evidenceEvents));
    // Every draft of the run comes from a function that may hand it over: a refusal is evidence lost.
    const refusedDrafts = readFileSync(path.join(stack.stateDir, 'gateway.log'), 'utf8').split('\n').filter((line) => line.includes('evidence draft refused')).length;
    printFigure('evidence drafts the writer refused (deliveries)', String(refusedDrafts));
    const perEvent = dynamoDbCallsPerEvent(calls, ctx.outputs.tables.evidence, evidenceEvents);
    printFigure('DynamoDB calls per evidence event (all tables)', perEvent.allTables.toFixed(2));
    printFigure('DynamoDB calls per evidence event (evidence table)', perEvent.evidenceTable.toFixed(2));
    printFigure('handler invocations', Object.entries(calls.lambda).map(([name, n]) => `${name.replace(/^.*?-/, '')} ${n}`).join(', '));
    if (pending.size > 0 || notInNewState > 0 || brokenChains > 0 || evidenceMismatch > 0 || refusedDrafts > 0) process.exitCode = 1;
  });
}

/** Independent read-back through moto itself (not the gateway). */
async function inNewState(stack: Parameters<Parameters<typeof withStack>[0]>[0], kind: string, targetId: string, nhi: string): Promise<boolean> {
  if (kind === 'iam.deactivateAccessKey') return (await keyStatuses(stack.direct, nhi))[targetId] === 'Inactive';
  if (kind === 'iam.putSessionRevocationDeny') {
    const policy = await stack.direct.iam.send(new GetUserPolicyCommand({ UserName: nhi, PolicyName: 'nhigov-revoke-older-sessions' }));
    return decodeURIComponent(policy.PolicyDocument ?? '').includes('aws:TokenIssueTime');
  }
  throw new Error(`the load bench has no independent read-back for ${kind}`);
}

function peakMemoryKb(pid: number): number | null {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const match = /VmHWM:\s+(\d+) kB/.exec(status);
    return match ? Number(match[1]) : null;
  } catch {
    return null;
  }
}

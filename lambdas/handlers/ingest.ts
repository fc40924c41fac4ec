import { z } from 'zod';
import { SFNClient } from '@aws-sdk/client-sfn';
import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { changeIdForEvent, triggerContentHash, type GovernanceEvent } from '../domain/events.js';
import { AppError } from '../domain/reasons.js';
import { parseIncomingEvent, type SignalContext } from '../domain/signals/index.js';
import { CLOUDTRAIL_DETAIL_TYPE, followUpTriggerId, MAX_FOLLOW_UPS, MEMBER_ROLES_ENV, WORKFLOW_ROLES_ENV } from '../domain/signals/cloudtrail.js';
import { startExecutionOnce, type StartedExecution } from '../lib/start-execution.js';
import type { ChangeStore } from '../stores/change-store.js';
import type { EvidenceStore } from '../stores/evidence-store.js';
import { emitEventIdReused, emitEventIgnored } from './governance-metrics.js';
import { runtime, type Runtime } from './runtime.js';
import { setTimeout as sleep } from 'node:timers/promises';

/**
 * Bounded: with no timeout one StartExecution that never answers holds the function until its own
 * 30 s timeout, which fails the whole batch (every message back only after the queue's visibility
 * timeout). A timed-out call is retried by the SDK; the execution name makes the retry idempotent.
 */
const sfn = new SFNClient({ maxAttempts: 3, requestHandler: { connectionTimeout: 2_000, requestTimeout: 8_000 } });

/** Starts execution `name` once (tests pass their own). */
export type ExecutionStarter = (request: { readonly stateMachineArn: string; readonly name: string; readonly input: string }) => Promise<StartedExecution>;
const startOnce: ExecutionStarter = (request) => startExecutionOnce(sfn, request);

export interface StartedChange {
  readonly changeId: string;
  readonly executionArn: string;
  /** The change already existed for this content: a redelivery, nothing new started. */
  readonly duplicate: boolean;
}

export type IngestVerdict =
  | { readonly outcome: 'started'; readonly changes: readonly StartedChange[] }
  | { readonly outcome: 'ignored'; readonly reason: string }
  | { readonly outcome: 'invalid'; readonly reasonCode: 'INPUT_INVALID'; readonly error: string };

/** An event id already used for different content: refused, never merged into the earlier change. */
export class EventIdReusedError extends AppError {
  constructor(
    readonly eventId: string,
    readonly earlierChangeId: string,
  ) {
    super('INPUT_INVALID', `event id ${eventId} was already used for different content by change ${earlierChangeId}: refused`, { details: { eventId, earlierChangeId } });
  }
}

/** How long a redelivery waits for the first delivery's change record (Plan writes it within a second). */
const RECORD_WAIT_MS = 5_000;
/** What one record may take at most (a start with its retries, a redelivery's record wait): none begins with less left. */
const RECORD_RESERVE_MS = 10_000;

/**
 * Parses one event at the edge and starts a change per trigger it yields. The execution name is
 * the change id, derived from the trigger's de-duplication key: a redelivery cannot start a
 * second change, and a reused key with other content throws EventIdReusedError.
 */
/** What ingest reads: the change records (de-duplication) and whether the workflow has a past with an NHI. */
export interface IngestDeps {
  readonly logger: Runtime['logger'];
  readonly changes: Pick<ChangeStore, 'get'>;
  readonly trail: Pick<EvidenceStore, 'hasEventAboutBefore'>;
}

export async function ingestEvent(rt: IngestDeps, raw: unknown, stateMachineArn: string, start: ExecutionStarter = startOnce, context: SignalContext = workflowContext()): Promise<IngestVerdict> {
  const parsed = parseIncomingEvent(raw, context);
  if (parsed.outcome === 'invalid') {
    rt.logger.error('event refused', { reasonCode: 'INPUT_INVALID', error: parsed.error });
    return { outcome: 'invalid', reasonCode: 'INPUT_INVALID', error: parsed.error };
  }
  if (parsed.outcome === 'ignored') {
    const source = sourceOf(raw);
    rt.logger.info('event ignored', { source, reason: parsed.reason });
    emitEventIgnored(source);
    return parsed;
  }
  const changes: StartedChange[] = [];
  const skipped: string[] = [];
  for (const trigger of parsed.triggers) {
    const unheld = await withoutHistory(rt.trail, trigger);
    if (unheld) skipped.push(unheld);
    else changes.push(await startCovering(rt.changes, stateMachineArn, trigger, start));
  }
  if (changes.length === 0 && skipped.length > 0) {
    const source = sourceOf(raw);
    const reason = skipped.join('; ');
    rt.logger.info('event ignored', { source, reason });
    emitEventIgnored(source);
    return { outcome: 'ignored', reason };
  }
  return { outcome: 'started', changes };
}

/**
 * A CloudTrail write reconciles an NHI at once only when the workflow had acted on it, or planned
 * for it, before the call (an evidence event about it): only then can the call undo something
 * held. Writes that set an NHI up (its key, its tags) are left to the scheduled reconcile, so
 * bringing an NHI under governance starts no change. Returns why the trigger starts nothing.
 */
async function withoutHistory(trail: IngestDeps['trail'], trigger: GovernanceEvent): Promise<string | null> {
  const cause = trigger.cause;
  if (cause?.detailType !== CLOUDTRAIL_DETAIL_TYPE || cause.subject === undefined || trigger.time === undefined) return null;
  const callAt = Date.parse(trigger.time);
  if (Number.isNaN(callAt) || (await trail.hasEventAboutBefore(cause.subject, new Date(callAt).toISOString()))) return null;
  return `CloudTrail write to ${cause.subject}: no change had acted on it before the call, nothing held to restore`;
}

/**
 * Starts the trigger's change; a CloudTrail call whose window's reconcile was planned before the
 * call happened starts the window's next one instead (followUpTriggerId), so no call is missed.
 */
async function startCovering(changes: Pick<ChangeStore, 'get'>, stateMachineArn: string, trigger: GovernanceEvent, start: ExecutionStarter): Promise<StartedChange> {
  let current = trigger;
  for (let hop = 0; ; hop += 1) {
    const started = await startChange(changes, stateMachineArn, current, undefined, start);
    const existing = started.duplicate && hop < MAX_FOLLOW_UPS ? await changes.get(started.changeId) : undefined;
    const next = existing ? followUpTriggerId(current, existing.createdAt) : null;
    if (next === null) return started;
    current = { ...current, id: next };
  }
}

export async function startChange(changes: Pick<ChangeStore, 'get'>, stateMachineArn: string, event: GovernanceEvent, requestedBy?: string, start: ExecutionStarter = startOnce): Promise<StartedChange> {
  const changeId = changeIdForEvent(event.id);
  const input = JSON.stringify({ changeId, event, ...(requestedBy ? { requestedBy } : {}) });
  const started = await start({ stateMachineArn, name: changeId, input });
  if (started.duplicate) await refuseReusedId(changes, event, changeId);
  return { changeId, ...started };
}

async function refuseReusedId(changes: Pick<ChangeStore, 'get'>, event: GovernanceEvent, changeId: string): Promise<void> {
  const deadline = Date.now() + RECORD_WAIT_MS;
  for (;;) {
    const record = await changes.get(changeId);
    if (record?.contentHash !== undefined) {
      if (record.contentHash !== triggerContentHash(event)) throw new EventIdReusedError(event.id, changeId);
      return;
    }
    // A record without a hash predates content hashes: nothing to compare, taken as the same.
    if (record) return;
    if (Date.now() > deadline) throw new AppError('TARGET_UNAVAILABLE', `change ${changeId} exists but is not recorded yet: retried`);
    await sleep(200);
  }
}

/** A comma-separated list from the environment. */
const commaList = z.string().optional().transform((list) => (list ?? '').split(',').map((arn) => arn.trim()).filter((arn) => arn.length > 0));

/** NHIGOV_WORKFLOW_ROLE_ARNS and NHIGOV_MEMBER_ROLE_NAMES: the workflow's own roles, whose CloudTrail calls start nothing. */
export function workflowContext(env: NodeJS.ProcessEnv = process.env): SignalContext {
  const home = env['NHIGOV_ACCOUNT_ID'];
  return { workflowRoleArns: commaList.parse(env[WORKFLOW_ROLES_ENV]), memberRoleNames: commaList.parse(env[MEMBER_ROLES_ENV]), ...(home ? { homeAccountId: home } : {}) };
}

function sourceOf(raw: unknown): string {
  return raw && typeof raw === 'object' && 'source' in raw && typeof raw.source === 'string' ? raw.source.slice(0, 256) : 'unknown';
}

/**
 * SQS batch: a malformed event is refused and dropped (never retried), an ignored one logged and
 * dropped; a failed start is retried, and a reused event id fails every time, so SQS moves it
 * to the dead-letter queue (alarmed).
 */
export const handler = async (event: SQSEvent, context?: Pick<Context, 'getRemainingTimeInMillis'>): Promise<SQSBatchResponse> => {
  const rt = runtime();
  const stateMachineArn = rt.env.NHIGOV_CHANGE_STATE_MACHINE_ARN;
  if (!stateMachineArn) throw new AppError('INPUT_INVALID', 'NHIGOV_CHANGE_STATE_MACHINE_ARN is not set');
  const batchItemFailures: SQSBatchResponse['batchItemFailures'] = [];
  for (const [index, record] of event.Records.entries()) {
    if (context && context.getRemainingTimeInMillis() < RECORD_RESERVE_MS) {
      // Too little time left for another start: hand the rest back rather than time out the batch.
      const rest = event.Records.slice(index).map((r) => ({ itemIdentifier: r.messageId }));
      rt.logger.warn('batch handed back unprocessed: the function is about to time out', { records: rest.length });
      batchItemFailures.push(...rest);
      break;
    }
    let body: unknown;
    try {
      body = JSON.parse(record.body);
    } catch {
      rt.logger.error('event refused', { reasonCode: 'INPUT_INVALID', error: 'message body is not JSON', messageId: record.messageId });
      continue;
    }
    try {
      const verdict = await ingestEvent(rt, body, stateMachineArn);
      if (verdict.outcome === 'started') for (const change of verdict.changes) rt.logger.info('change started', { changeId: change.changeId, duplicate: change.duplicate });
    } catch (error) {
      if (error instanceof EventIdReusedError) {
        rt.logger.error('event refused: event id reused', { messageId: record.messageId, eventId: error.eventId, earlierChangeId: error.earlierChangeId });
        emitEventIdReused();
      } else {
        rt.logger.error('could not start the change', { messageId: record.messageId, error: String(error) });
      }
      batchItemFailures.push({ itemIdentifier: record.messageId });
    }
  }
  return { batchItemFailures };
};

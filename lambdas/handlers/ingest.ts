import { SFNClient } from '@aws-sdk/client-sfn';
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { changeIdForEvent, parseGovernanceEvent, type GovernanceEvent } from '../domain/events.js';
import { AppError } from '../domain/reasons.js';
import { startExecutionOnce } from '../lib/start-execution.js';
import { runtime, type Runtime } from './runtime.js';

const sfn = new SFNClient({});

export type IngestVerdict = { accepted: true; changeId: string; executionArn: string; duplicate: boolean } | { accepted: false; reasonCode: 'INPUT_INVALID'; error: string };

/**
 * Validates one event and starts its change. The execution name is the change id, derived
 * from the event id: a redelivered event cannot start a second change.
 */
export async function ingestEvent(rt: Runtime, raw: unknown, stateMachineArn: string): Promise<IngestVerdict> {
  const parsed = parseGovernanceEvent(raw);
  if (!parsed.ok) {
    rt.logger.error('event refused', { reasonCode: 'INPUT_INVALID', error: parsed.error });
    return { accepted: false, reasonCode: 'INPUT_INVALID', error: parsed.error };
  }
  return startChange(stateMachineArn, parsed.event);
}

export async function startChange(stateMachineArn: string, event: GovernanceEvent, requestedBy?: string): Promise<Extract<IngestVerdict, { accepted: true }>> {
  const changeId = changeIdForEvent(event.id);
  const input = JSON.stringify({ changeId, event, ...(requestedBy ? { requestedBy } : {}) });
  const started = await startExecutionOnce(sfn, { stateMachineArn, name: changeId, input });
  return { accepted: true, changeId, ...started };
}

/** SQS batch: a malformed event is refused and dropped (never retried); a failed start is retried. */
export const handler = async (event: SQSEvent): Promise<SQSBatchResponse> => {
  const rt = runtime();
  const stateMachineArn = rt.env.NHIGOV_CHANGE_STATE_MACHINE_ARN;
  if (!stateMachineArn) throw new AppError('INPUT_INVALID', 'NHIGOV_CHANGE_STATE_MACHINE_ARN is not set');
  const batchItemFailures: SQSBatchResponse['batchItemFailures'] = [];
  for (const record of event.Records) {
    let body: unknown;
    try {
      body = JSON.parse(record.body);
    } catch {
      rt.logger.error('event refused', { reasonCode: 'INPUT_INVALID', error: 'message body is not JSON', messageId: record.messageId });
      continue;
    }
    try {
      const verdict = await ingestEvent(rt, body, stateMachineArn);
      if (verdict.accepted) rt.logger.info('change started', { changeId: verdict.changeId, duplicate: verdict.duplicate });
    } catch (error) {
      rt.logger.error('could not start the change', { messageId: record.messageId, error: String(error) });
      batchItemFailures.push({ itemIdentifier: record.messageId });
    }
  }
  return { batchItemFailures };
};

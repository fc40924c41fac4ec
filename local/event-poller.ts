import { DeleteMessageBatchCommand, ReceiveMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import type { LambdaHost } from './gateway/lambda-host.js';
import { setTimeout as sleep } from 'node:timers/promises';

/** How a poller receives; the defaults are the ingest queue's. */
export interface PollerOptions {
  /** Receives side by side. @default 1 */
  readonly workers?: number;
  /**
   * Long polling (1 s) when true; otherwise short polls, with a pause growing from 5 to 250 ms
   * while the queue is empty. A FIFO queue needs short polls: moto's long poll spins on a queue
   * whose visible messages all belong to groups in flight, and keeps a group blocked until the
   * poll ends even after its batch was deleted. @default true
   */
  readonly longPoll?: boolean;
}

const IDLE_MIN_MS = 5;
const IDLE_MAX_MS = 250;
/** A receive or delete that never answers would stop this poller for good (nothing else takes the queue). */
const SQS_CALL_TIMEOUT_MS = 20_000;

/**
 * Plays the part of an SQS event source mapping: receives from a queue, invokes its function with
 * an SQS batch, deletes what it did not report as failed. Workers receive side by side; on a FIFO
 * queue moto (as SQS) delivers no message of a group while another of it is in flight, so each
 * group is still handed over in order, one batch at a time.
 */
export class EventPoller {
  private running = false;
  private loops: Array<Promise<void>> = [];

  constructor(
    private readonly sqs: SQSClient,
    private readonly queueUrl: string,
    private readonly queueArn: string,
    private readonly lambdas: LambdaHost,
    private readonly functionName: string,
    private readonly onError: (error: unknown) => void,
    private readonly options: PollerOptions = {},
  ) {}

  start(): void {
    if (this.running) return;
    this.running = true;
    this.loops = Array.from({ length: this.options.workers ?? 1 }, () => this.run());
  }

  async stop(): Promise<void> {
    this.running = false;
    await Promise.all(this.loops);
  }

  private async run(): Promise<void> {
    let idleMs = IDLE_MIN_MS;
    while (this.running) {
      try {
        const received = await this.pollOnce();
        if (received || this.options.longPoll !== false) {
          idleMs = IDLE_MIN_MS;
        } else {
          await sleep(idleMs);
          idleMs = Math.min(IDLE_MAX_MS, idleMs * 2);
        }
      } catch (error) {
        if (!this.running) return;
        this.onError(error);
        await sleep(500);
      }
    }
  }

  /** Whether it received anything. */
  private async pollOnce(): Promise<boolean> {
    const WaitTimeSeconds = this.options.longPoll === false ? 0 : 1;
    const out = await this.sqs.send(new ReceiveMessageCommand({ QueueUrl: this.queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds, MessageSystemAttributeNames: ['All'] }), {
      abortSignal: AbortSignal.timeout(SQS_CALL_TIMEOUT_MS),
    });
    const messages = out.Messages ?? [];
    if (messages.length === 0) return false;
    const event: SQSEvent = {
      Records: messages.map((m) => ({
        messageId: m.MessageId ?? '',
        receiptHandle: m.ReceiptHandle ?? '',
        body: m.Body ?? '',
        attributes: (m.Attributes ?? {}) as SQSEvent['Records'][number]['attributes'],
        messageAttributes: {},
        md5OfBody: m.MD5OfBody ?? '',
        eventSource: 'aws:sqs',
        eventSourceARN: this.queueArn,
        awsRegion: 'us-east-1',
      })),
    };
    const result = await this.lambdas.invoke(this.functionName, event);
    const failed = new Set(
      result.functionError ? messages.map((m) => m.MessageId) : ((result.payload as SQSBatchResponse | null)?.batchItemFailures ?? []).map((f) => f.itemIdentifier),
    );
    if (result.functionError) this.onError(new Error(`${this.functionName} failed: ${JSON.stringify(result.payload)}`));
    const done = messages.filter((m) => !failed.has(m.MessageId));
    if (done.length > 0) {
      await this.sqs.send(new DeleteMessageBatchCommand({ QueueUrl: this.queueUrl, Entries: done.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle ?? '' })) }), {
        abortSignal: AbortSignal.timeout(SQS_CALL_TIMEOUT_MS),
      });
    }
    return true;
  }
}

import { DeleteMessageBatchCommand, ReceiveMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import type { LambdaHost } from './gateway/lambda-host.js';
import { setTimeout as sleep } from 'node:timers/promises';

/**
 * Plays the part of the SQS event source mapping: receives from the events queue, invokes the
 * ingest handler with an SQS batch, deletes what it did not report as failed.
 */
export class EventPoller {
  private running = false;
  private loop: Promise<void> | undefined;

  constructor(
    private readonly sqs: SQSClient,
    private readonly queueUrl: string,
    private readonly queueArn: string,
    private readonly lambdas: LambdaHost,
    private readonly ingestFunction: string,
    private readonly onError: (error: unknown) => void,
  ) {}

  start(): void {
    if (this.running) return;
    this.running = true;
    this.loop = this.run();
  }

  async stop(): Promise<void> {
    this.running = false;
    await this.loop;
  }

  private async run(): Promise<void> {
    while (this.running) {
      try {
        await this.pollOnce();
      } catch (error) {
        if (!this.running) return;
        this.onError(error);
        await sleep(500);
      }
    }
  }

  private async pollOnce(): Promise<void> {
    const out = await this.sqs.send(new ReceiveMessageCommand({ QueueUrl: this.queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1, MessageSystemAttributeNames: ['All'] }));
    const messages = out.Messages ?? [];
    if (messages.length === 0) return;
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
    const result = await this.lambdas.invoke(this.ingestFunction, event);
    const failed = new Set(
      result.functionError ? messages.map((m) => m.MessageId) : ((result.payload as SQSBatchResponse | null)?.batchItemFailures ?? []).map((f) => f.itemIdentifier),
    );
    if (result.functionError) this.onError(new Error(`ingest failed: ${JSON.stringify(result.payload)}`));
    const done = messages.filter((m) => !failed.has(m.MessageId));
    if (done.length > 0) {
      await this.sqs.send(new DeleteMessageBatchCommand({ QueueUrl: this.queueUrl, Entries: done.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle ?? '' })) }));
    }
  }
}

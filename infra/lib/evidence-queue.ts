/**
 * How evidence reaches its one writer: every appending function sends its drafts to a FIFO queue,
 * one message group per change, and the `evidence-writer` function consumes it through an event
 * source mapping. Lambda hands a group's messages over in order and never two batches of one group
 * at once, so each chain has one writer at a time while different changes are written side by side.
 */
import { Duration, Stack, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { EVIDENCE_SENDERS_ENV } from '../../lambdas/domain/evidence-senders.js';
import { EVIDENCE_QUEUE } from '../resources.js';
import type { HandlerFunction } from './functions.js';

/** AWS's advice for an SQS event source: visibility timeout ≥ 6 × the function timeout. */
const VISIBILITY_PER_FUNCTION_TIMEOUT = 6;
/** A FIFO event source takes at most 10 messages per batch. */
const BATCH_SIZE = 10;

export interface EvidenceQueueProps {
  /** The evidence writer. */
  readonly writer: lambda.Function;
  /** Its timeout, to size the visibility timeout. */
  readonly writerTimeout: Duration;
}

export class EvidenceQueue extends Construct {
  readonly queue: sqs.Queue;
  /** Drafts the writer could not write after EVIDENCE_QUEUE.maxReceives deliveries: missing evidence, alarmed. */
  readonly deadLetterQueue: sqs.Queue;

  private readonly writer: lambda.Function;

  constructor(scope: Construct, id: string, props: EvidenceQueueProps) {
    super(scope, id);
    this.writer = props.writer;
    this.deadLetterQueue = new sqs.Queue(this, 'DeadLetterQueue', {
      fifo: true,
      retentionPeriod: Duration.days(14),
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
    });
    Validations.of(this.deadLetterQueue).acknowledge({ id: 'AwsSolutions-SQS3', reason: 'This queue is the dead-letter queue of the evidence queue.' });
    this.queue = new sqs.Queue(this, 'Queue', {
      fifo: true,
      // Every draft carries its own deduplication id (EvidenceOutbox): an SDK retry is not a second event.
      contentBasedDeduplication: false,
      maxMessageSizeBytes: EVIDENCE_QUEUE.maxMessageBytes,
      visibilityTimeout: Duration.seconds(props.writerTimeout.toSeconds() * VISIBILITY_PER_FUNCTION_TIMEOUT),
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      deadLetterQueue: { queue: this.deadLetterQueue, maxReceiveCount: EVIDENCE_QUEUE.maxReceives },
    });
    // Every record of Lambda's SQS event carries the message's SenderId: the writer checks it.
    props.writer.addEventSource(new SqsEventSource(this.queue, { batchSize: BATCH_SIZE, reportBatchItemFailures: true }));
    // A refused draft is made visible again at once (sqs:ChangeMessageVisibility, granted with the event source).
    props.writer.addEnvironment('NHIGOV_EVIDENCE_QUEUE_URL', this.queue.queueUrl);
  }

  /**
   * Tells the writer who may hand drafts over: each sender's role id (SQS stamps every message
   * with its sender, `<roleId>:<function name>` for a Lambda function), by function name.
   */
  acceptFrom(senders: readonly HandlerFunction[]): void {
    const roles = Object.fromEntries(senders.map(({ definition, role }) => [definition.name, role.roleId]));
    this.writer.addEnvironment(EVIDENCE_SENDERS_ENV, Stack.of(this).toJsonString(roles));
  }

  /** Lets a function hand drafts over (send only: it can neither read nor delete what others sent). */
  grantHandOver(role: iam.IRole): void {
    this.queue.grantSendMessages(role);
  }
}

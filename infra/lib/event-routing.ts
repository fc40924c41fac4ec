/**
 * The event route (docs/architecture.md): one EventBridge rule per event type and provider signal of
 * EVENT_RULES (patterns from lambdas/domain/events.ts and signals/, which the local stack uses too),
 * each on its bus → one SQS queue with a
 * dead-letter queue → the `ingest` function through an event source mapping that reports
 * partial batch failures (a failed StartExecution is retried alone; a malformed event is dropped).
 */
import { Duration, Validations } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import type { RuleBus } from '../../lambdas/domain/signals/index.js';
import type { EventRuleDefinition } from '../resources.js';
import { pascalCase } from './functions.js';

export type { EventRuleDefinition } from '../resources.js';

/** Attempts before a message moves to the dead-letter queue. */
const MAX_RECEIVES = 5;
/** AWS's advice for an SQS event source: visibility timeout ≥ 6 × the function timeout. */
const VISIBILITY_PER_FUNCTION_TIMEOUT = 6;

export interface EventRoutingProps {
  /** The buses the rules listen on, by EventRuleDefinition.bus; a rule whose bus is absent (Okta not connected) is left out. */
  readonly buses: Readonly<Partial<Record<RuleBus, events.IEventBus>>>;
  /** One rule each. */
  readonly rules: readonly EventRuleDefinition[];
  /** The function that validates events and starts changes. */
  readonly ingest: lambda.IFunction;
  /** The ingest function's timeout, to size the visibility timeout. */
  readonly ingestTimeout: Duration;
  /** Messages per ingest invocation. @default 10 */
  readonly batchSize?: number;
}

export class EventRouting extends Construct {
  /** Events waiting for `ingest`. */
  readonly queue: sqs.Queue;
  /** Events `ingest` could not take after MAX_RECEIVES attempts, and events EventBridge could not deliver. */
  readonly deadLetterQueue: sqs.Queue;
  /** One per event type, keyed by the EVENT_RULES id. */
  readonly rules: ReadonlyMap<string, events.Rule>;

  constructor(scope: Construct, id: string, props: EventRoutingProps) {
    super(scope, id);
    this.deadLetterQueue = new sqs.Queue(this, 'DeadLetterQueue', {
      retentionPeriod: Duration.days(14),
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
    });
    Validations.of(this.deadLetterQueue).acknowledge({ id: 'AwsSolutions-SQS3', reason: 'This queue is the dead-letter queue of the ingest queue and of the rule targets.' });
    this.queue = new sqs.Queue(this, 'IngestQueue', {
      visibilityTimeout: Duration.seconds(props.ingestTimeout.toSeconds() * VISIBILITY_PER_FUNCTION_TIMEOUT),
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      deadLetterQueue: { queue: this.deadLetterQueue, maxReceiveCount: MAX_RECEIVES },
    });
    const rules = new Map<string, events.Rule>();
    for (const definition of props.rules) {
      const eventBus = props.buses[definition.bus];
      if (!eventBus) continue;
      rules.set(
        definition.id,
        new events.Rule(this, `${pascalCase(definition.id)}Rule`, {
          eventBus,
          description: `nhi-governor: ${definition.description} to the ingest queue`,
          eventPattern: toCdkPattern(definition.pattern),
          targets: [new targets.SqsQueue(this.queue, { deadLetterQueue: this.deadLetterQueue })],
        }),
      );
    }
    this.rules = rules;
    props.ingest.addEventSource(new SqsEventSource(this.queue, { batchSize: props.batchSize ?? 10, reportBatchItemFailures: true }));
  }
}

/**
 * An EventBridge pattern in its wire form ({"detail-type": [...]}) as CDK's EventPattern, which
 * spells that one key `detailType`; every other key is the same in both.
 */
export function toCdkPattern(pattern: Readonly<Record<string, unknown>>): events.EventPattern {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(pattern)) out[key === 'detail-type' ? 'detailType' : key] = value;
  return out as events.EventPattern;
}

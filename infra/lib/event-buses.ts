/**
 * The buses the event rules listen on: the stack's own governance bus (custom sources; only the
 * producers named in `eventProducerPrincipals` may put events on it), the default bus (where AWS
 * services deliver their reserved aws.* sources) and, when connected, Okta's partner bus.
 */
import * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import type { RuleBus } from '../../lambdas/domain/signals/index.js';

export interface EventBusesProps {
  readonly eventBusName: string;
  /** Account ids and IAM role / user ARNs; empty: the stack's own account. */
  readonly producerPrincipals: readonly string[];
  readonly oktaEventSourceName?: string;
}

export class EventBuses extends Construct {
  readonly governance: events.EventBus;
  readonly byRole: Readonly<Partial<Record<RuleBus, events.IEventBus>>>;

  constructor(scope: Construct, id: string, props: EventBusesProps) {
    super(scope, id);
    this.governance = new events.EventBus(this, 'Governance', {
      eventBusName: props.eventBusName,
      description: 'nhi-governor: governance events from the allowed producers (HR, security findings, nhigov)',
    });
    const account = (principal: string): boolean => /^\d{12}$/.test(principal);
    const principals = props.producerPrincipals.length > 0
      ? props.producerPrincipals.map((p) => (account(p) ? new iam.AccountPrincipal(p) : new iam.ArnPrincipal(p)))
      : [new iam.AccountPrincipal(this.governance.stack.account)];
    this.governance.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'AllowedProducersPutEvents',
        principals,
        actions: ['events:PutEvents'],
        resources: [this.governance.eventBusArn],
      }),
    );
    const okta = props.oktaEventSourceName ? events.EventBus.fromEventBusName(this, 'Okta', props.oktaEventSourceName) : undefined;
    this.byRole = {
      governance: this.governance,
      default: events.EventBus.fromEventBusName(this, 'Default', 'default'),
      ...(okta ? { okta } : {}),
    };
  }
}

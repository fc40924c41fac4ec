/**
 * What a handler calls besides its tables and connectors (start a change, answer a callback task,
 * send an approval email, ...): each capability is one grant plus the environment that goes with it.
 */
import { Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { FUNCTION_CAPABILITIES, type FunctionCapability, type FunctionDefinition } from '../resources.js';
import type { ApprovalChannels } from './approval-channels.js';
import { StackDefinitionError } from './errors.js';
import type { HandlerFunction } from './functions.js';
import type { EvidenceQueue } from './evidence-queue.js';
import type { TrustAnchors } from './trust-anchors.js';
import { stateMachineArn, type StateMachineId, type Workflows } from './workflows.js';

/** Declared per function in FUNCTIONS (`uses`, infra/resources.ts), which documents each one. */
export { FUNCTION_CAPABILITIES, type FunctionCapability };

/**
 * The capabilities of one function: its `uses` field, nothing when it has none. Checked at run
 * time too, for definitions that did not come through the type checker.
 */
export function capabilitiesOf(definition: FunctionDefinition): readonly FunctionCapability[] {
  const declared: unknown = definition.uses;
  if (declared === undefined) return [];
  if (!Array.isArray(declared)) throw new StackDefinitionError(`function "${definition.name}": uses must be an array of ${FUNCTION_CAPABILITIES.join(', ')}`);
  for (const capability of declared) {
    if (!(FUNCTION_CAPABILITIES as readonly unknown[]).includes(capability)) {
      throw new StackDefinitionError(`function "${definition.name}": unknown capability "${String(capability)}" (known: ${FUNCTION_CAPABILITIES.join(', ')})`);
    }
  }
  if (new Set(declared).size !== declared.length) throw new StackDefinitionError(`function "${definition.name}": uses lists a capability twice`);
  return declared as FunctionCapability[];
}

export interface CapabilityContext {
  readonly prefix: string;
  readonly workflows: Workflows;
  readonly channels: ApprovalChannels;
  /** The checkpoint bucket and signing key. */
  readonly trustAnchors: TrustAnchors;
  /** Where evidence drafts go to their one writer. */
  readonly evidenceQueue: EvidenceQueue;
  /** The approval endpoint, when the stack has one. */
  readonly approvalBaseUrl?: string;
}

/** Grants one function its capabilities and sets the environment they need. */
export function applyCapabilities(handler: HandlerFunction, context: CapabilityContext): void {
  const { fn, role, definition } = handler;
  const stack = Stack.of(fn);
  for (const capability of capabilitiesOf(definition)) {
    switch (capability) {
      case 'startChange':
      case 'startRollback': {
        const id: StateMachineId = capability === 'startChange' ? 'change' : 'rollback';
        context.workflows.get(id); // throws when the definitions have no such state machine
        role.addToPrincipalPolicy(new iam.PolicyStatement({ actions: ['states:StartExecution'], resources: [stateMachineArn(stack, context.prefix, id)] }));
        break;
      }
      case 'taskResponse':
        // By fixed name, like grantTaskResponse but without a reference to the state machine:
        // the approval endpoint answers tasks of a state machine that invokes functions whose
        // environment holds the endpoint's URL, which would close a dependency cycle.
        role.addToPrincipalPolicy(
          new iam.PolicyStatement({
            actions: ['states:SendTaskFailure', 'states:SendTaskHeartbeat', 'states:SendTaskSuccess'],
            resources: context.workflows.all().map(({ id }) => stateMachineArn(stack, context.prefix, id)),
          }),
        );
        break;
      case 'sendEmail': {
        const { channels } = context;
        if (!channels.sesSender) break; // ApprovalChannels warns once: no sender, no mail
        // SES authorizes SendEmail on the sender identity, and in the sandbox on each recipient
        // identity too; the condition pins the From address whatever the identity.
        role.addToPrincipalPolicy(
          new iam.PolicyStatement({
            actions: ['ses:SendEmail'],
            resources: channels.emailIdentities.map((i) => i.emailIdentityArn),
            conditions: { StringEquals: { 'ses:FromAddress': channels.sesSender } },
          }),
        );
        fn.addEnvironment('NHIGOV_SES_SENDER', channels.sesSender);
        if (context.approvalBaseUrl) fn.addEnvironment('NHIGOV_APPROVAL_BASE_URL', context.approvalBaseUrl);
        break;
      }
      case 'slackWebhook':
        context.channels.slackWebhook.grantRead(role);
        fn.addEnvironment('NHIGOV_SLACK_WEBHOOK_SECRET_ARN', context.channels.slackWebhook.secretArn);
        if (context.approvalBaseUrl) fn.addEnvironment('NHIGOV_APPROVAL_BASE_URL', context.approvalBaseUrl);
        break;
      case 'approvalKey':
        context.channels.linkSigningKey.grantRead(role);
        fn.addEnvironment('NHIGOV_APPROVAL_HMAC_SECRET_ARN', context.channels.linkSigningKey.secretArn);
        break;
      case 'checkpointRead':
      case 'checkpointWrite':
        if (capability === 'checkpointWrite') context.trustAnchors.grantWrite(role);
        else context.trustAnchors.grantRead(role);
        fn.addEnvironment('NHIGOV_CHECKPOINT_BUCKET', context.trustAnchors.bucket.bucketName);
        fn.addEnvironment('NHIGOV_CHECKPOINT_KEY_ARN', context.trustAnchors.key.keyArn);
        break;
      case 'evidenceAppend':
        context.evidenceQueue.grantHandOver(role);
        fn.addEnvironment('NHIGOV_EVIDENCE_QUEUE_URL', context.evidenceQueue.queue.queueUrl);
        break;
    }
  }
}

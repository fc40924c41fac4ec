/**
 * What approvals travel through: the SES sender (and, in the SES sandbox, the approvers as
 * verified recipients), the Slack incoming-webhook URL and the key approval links are signed
 * with, both in Secrets Manager (never in the template or an environment variable).
 */
import { Annotations, Validations } from 'aws-cdk-lib';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as ses from 'aws-cdk-lib/aws-ses';
import { Construct } from 'constructs';
import { pascalCase } from './functions.js';

export interface ApprovalChannelsProps {
  /** Prefix of the secret names. */
  readonly prefix: string;
  /** The address approval emails come from. @default - no SES identity; email is off */
  readonly sesSender?: string;
  /** Addresses approval and escalation mail goes to. */
  readonly approverEmails: readonly string[];
  /** SES is in the sandbox: those addresses are created as identities (each gets a verification email). */
  readonly sesSandbox: boolean;
  /** An existing secret with the Slack webhook URL. @default - an empty secret the stack creates */
  readonly slackWebhookSecretArn?: string;
}

export class ApprovalChannels extends Construct {
  /** SES identities approval mail may name: the sender, and the approvers in the sandbox. */
  readonly emailIdentities: readonly ses.EmailIdentity[];
  readonly sesSender: string | undefined;
  /** Holds the Slack incoming-webhook URL (set it after deploy; see README). */
  readonly slackWebhook: secretsmanager.ISecret;
  /** Holds the HMAC key approval links are signed with (generated at deploy). */
  readonly linkSigningKey: secretsmanager.Secret;

  constructor(scope: Construct, id: string, props: ApprovalChannelsProps) {
    super(scope, id);
    this.sesSender = props.sesSender;
    if (!props.sesSender) {
      Annotations.of(this).addWarning('no sesSender context: nothing is emailed (approval requests go to Slack only, escalations are not mailed)');
    }
    const identities: ses.EmailIdentity[] = [];
    if (props.sesSender) identities.push(new ses.EmailIdentity(this, 'SenderIdentity', { identity: ses.Identity.email(props.sesSender) }));
    if (props.sesSandbox) {
      for (const approver of props.approverEmails) {
        if (approver === props.sesSender) continue;
        identities.push(new ses.EmailIdentity(this, `Approver${pascalCase(approver)}Identity`, { identity: ses.Identity.email(approver) }));
      }
    }
    this.emailIdentities = identities;

    if (props.slackWebhookSecretArn) {
      this.slackWebhook = secretsmanager.Secret.fromSecretCompleteArn(this, 'SlackWebhook', props.slackWebhookSecretArn);
    } else {
      const slack = new secretsmanager.Secret(this, 'SlackWebhook', {
        secretName: `${props.prefix}/slack-webhook-url`,
        description: 'nhi-governor: the Slack incoming-webhook URL approval requests are posted to (put it with put-secret-value after deploy)',
      });
      Validations.of(slack).acknowledge({
        id: 'AwsSolutions-SMG4',
        reason: 'A Slack incoming-webhook URL is issued by Slack; it is replaced by hand in Slack and here, not rotated by a Lambda.',
      });
      this.slackWebhook = slack;
    }

    this.linkSigningKey = new secretsmanager.Secret(this, 'LinkSigningKey', {
      secretName: `${props.prefix}/approval-link-hmac-key`,
      description: 'nhi-governor: the HMAC key approval links are signed with',
      generateSecretString: { passwordLength: 64, excludePunctuation: true, includeSpace: false },
    });
    Validations.of(this.linkSigningKey).acknowledge({
      id: 'AwsSolutions-SMG4',
      reason: 'Rotating the link-signing key invalidates every approval link in flight (up to the approval timeout); it is rotated by hand between approval windows (README).',
    });
  }
}

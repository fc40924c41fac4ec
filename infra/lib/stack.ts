/**
 * The nhi-governor stack, built by iterating the shared definitions of infra/resources.ts (the
 * ones the local stack deploys too): a table, function, state machine or rule appended there
 * appears here on the next synth, with no second list to keep in step. The Outputs operators
 * rely on are named in infra/outputs.ts (the CLI reads them; an infra test holds the two together).
 */
import { CfnOutput, CfnParameter, Duration, Stack, Tags, type StackProps } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import { FunctionUrlAuthType } from 'aws-cdk-lib/aws-lambda';
import type { Construct } from 'constructs';
import {
  ATTESTATION_FUNCTION,
  EVENT_RULES,
  EVIDENCE_WRITER_FUNCTION,
  FUNCTIONS,
  physicalName,
  STATE_MACHINES,
  TABLES,
  tableEnvName,
  type FunctionDefinition,
  type StateMachineDefinition,
  type TableDefinition,
} from '../resources.js';
import { GovernanceAlarms } from './alarms.js';
import { ApprovalChannels } from './approval-channels.js';
import { applyCapabilities, capabilitiesOf } from './capabilities.js';
import type { DeployConfig } from './config.js';
import { ConnectorPolicy } from './connector-policy.js';
import { MemberAccess } from './member-access.js';
import { GovernanceDashboard } from './dashboard.js';
import { EventBuses } from './event-buses.js';
import { EventRouting, type EventRuleDefinition } from './event-routing.js';
import { EvidenceQueue } from './evidence-queue.js';
import { MEMBER_ROLES_ENV, WORKFLOW_ROLES_ENV } from '../../lambdas/domain/signals/cloudtrail.js';
import { HandlerFunctions, pascalCase } from './functions.js';
import { GovernanceMetrics } from './metrics.js';
import { Schedules } from './schedules.js';
import { GovernanceTables } from './tables.js';
import { TrustAnchors } from './trust-anchors.js';
import { stateMachineArn, stateMachineEnvName, Workflows } from './workflows.js';

/** The function the event route delivers to; the definitions must have it. */
export const INGEST_FUNCTION = 'ingest';
/** The function that serves the signed-link approval API; gets a public function URL when present. */
export const APPROVAL_API_FUNCTION = 'approval-api';
/** The function the hourly checkpoint schedule (and `nhigov evidence checkpoint`, `policy activate`) invokes. */
export const CHECKPOINT_FUNCTION = 'checkpoint';

/** What the stack contains. */
export interface StackDefinitions {
  readonly tables: readonly TableDefinition[];
  readonly functions: readonly FunctionDefinition[];
  readonly stateMachines: readonly StateMachineDefinition[];
  readonly eventRules: readonly EventRuleDefinition[];
}

/** The shared definitions of infra/resources.ts. */
export const SHARED_DEFINITIONS: StackDefinitions = { tables: TABLES, functions: FUNCTIONS, stateMachines: STATE_MACHINES, eventRules: EVENT_RULES };

export interface NhiGovernorStackProps extends StackProps {
  /** Deployment settings (CDK context). */
  readonly config: DeployConfig;
  /** What the stack contains. @default SHARED_DEFINITIONS */
  readonly definitions?: StackDefinitions;
}

export class NhiGovernorStack extends Stack {
  constructor(scope: Construct, id: string, props: NhiGovernorStackProps) {
    super(scope, id, { description: 'nhi-governor: governs changes to non-human identities (plan, approve, write, verify, roll back, evidence)', ...props });
    const { config } = props;
    const { prefix } = config;
    const definitions = props.definitions ?? SHARED_DEFINITIONS;
    Tags.of(this).add('app', 'nhi-governor');

    const policyPublicKey = config.policyPublicKey ?? this.policyPublicKeyParameter();

    const tables = new GovernanceTables(this, 'Tables', { prefix, tables: definitions.tables });
    const connectorPolicy = new ConnectorPolicy(this, 'Connector', { groupPath: config.governedGroupPath });
    const memberAccess = new MemberAccess(this, 'MemberAccess', { roleNames: config.memberRoleNames });
    const functions = new HandlerFunctions(this, 'Functions', {
      prefix,
      functions: definitions.functions,
      tables,
      connectorPolicy,
      memberAccess,
      logRetention: config.logRetention,
      environment: {
        ...Object.fromEntries(definitions.tables.map((t) => [tableEnvName(t.id), physicalName(prefix, t.id)])),
        ...Object.fromEntries(definitions.stateMachines.map((sm) => [stateMachineEnvName(sm.id), stateMachineArn(this, prefix, sm.id)])),
        NHIGOV_POLICY_PUBLIC_KEY: policyPublicKey,
        // The stack's own account is governed without assuming a role; targets elsewhere are member accounts.
        NHIGOV_ACCOUNT_ID: this.account,
        NHIGOV_PARTITION: this.partition,
      },
    });
    const workflows = new Workflows(this, 'Workflows', { prefix, stateMachines: definitions.stateMachines, functions, logRetention: config.logRetention });

    const buses = new EventBuses(this, 'EventBuses', {
      eventBusName: config.eventBusName,
      producerPrincipals: config.eventProducerPrincipals,
      ...(config.oktaEventSourceName ? { oktaEventSourceName: config.oktaEventSourceName } : {}),
    });
    const eventBus = buses.governance;
    const ingest = functions.get(INGEST_FUNCTION);
    // CloudTrail calls of the connector write roles are the workflow's own: they start no reconcile.
    ingest.fn.addEnvironment(WORKFLOW_ROLES_ENV, functions.all().filter((h) => h.definition.connector === 'readWrite').map((h) => h.role.roleArn).join(','));
    // So are the member roles' calls, in the member accounts whose CloudTrail reaches this bus.
    ingest.fn.addEnvironment(MEMBER_ROLES_ENV, config.memberRoleNames.join(','));
    const routing = new EventRouting(this, 'Events', {
      buses: buses.byRole,
      rules: definitions.eventRules,
      ingest: ingest.fn,
      ingestTimeout: Duration.seconds(ingest.definition.timeoutSeconds),
    });

    const channels = new ApprovalChannels(this, 'Approvals', {
      prefix,
      ...(config.sesSender ? { sesSender: config.sesSender } : {}),
      approverEmails: config.approverEmails,
      sesSandbox: config.sesSandbox,
      ...(config.slackWebhookSecretArn ? { slackWebhookSecretArn: config.slackWebhookSecretArn } : {}),
    });
    const approvalApi = functions.find(APPROVAL_API_FUNCTION);
    // The API verifies the HMAC signature of every link itself; IAM auth would need AWS credentials in the approver's browser.
    const approvalUrl = approvalApi?.fn.addFunctionUrl({ authType: FunctionUrlAuthType.NONE });
    const trustAnchors = new TrustAnchors(this, 'TrustAnchors', { retentionDays: config.checkpointRetentionDays });
    const evidenceWriter = functions.get(EVIDENCE_WRITER_FUNCTION);
    const evidenceQueue = new EvidenceQueue(this, 'Evidence', { writer: evidenceWriter.fn, writerTimeout: Duration.seconds(evidenceWriter.definition.timeoutSeconds) });
    evidenceQueue.acceptFrom(functions.all().filter((h) => capabilitiesOf(h.definition).includes('evidenceAppend')));
    for (const handler of functions.all()) {
      applyCapabilities(handler, {
        prefix,
        workflows,
        channels,
        trustAnchors,
        evidenceQueue,
        // The endpoint itself does not get its own URL: that would be a dependency cycle.
        ...(approvalUrl && handler !== approvalApi ? { approvalBaseUrl: approvalUrl.url } : {}),
      });
    }

    const finalize = workflows.find('finalize');
    const checkpoint = functions.find(CHECKPOINT_FUNCTION);
    const attestation = functions.find(ATTESTATION_FUNCTION);
    new Schedules(this, 'Schedules', {
      eventBus,
      reconcileSchedule: config.reconcileSchedule,
      finalizeSchedule: config.finalizeSchedule,
      ...(finalize ? { finalize } : {}),
      checkpointSchedule: config.checkpointSchedule,
      ...(checkpoint ? { checkpoint: checkpoint.fn } : {}),
      attestationSchedule: config.attestationSchedule,
      attestationSweepSchedule: config.attestationSweepSchedule,
      ...(attestation ? { attestation: attestation.fn } : {}),
    });

    const metrics = new GovernanceMetrics();
    const alarms = new GovernanceAlarms(this, 'Alarms', {
      metrics,
      stateMachines: workflows.all(),
      deadLetterQueue: routing.deadLetterQueue,
      evidenceDeadLetterQueue: evidenceQueue.deadLetterQueue,
      ...(config.alarmEmail ? { alarmEmail: config.alarmEmail } : {}),
    });
    const dashboardName = physicalName(prefix, 'governance');
    new GovernanceDashboard(this, 'Dashboard', {
      dashboardName,
      metrics,
      functions: functions.all().map(({ definition, fn }) => ({ name: definition.name, fn })),
      stateMachines: workflows.all(),
      alarms: alarms.alarms,
    });

    if (approvalUrl) new CfnOutput(this, 'ApprovalUrl', { value: approvalUrl.url, description: 'Base URL of the approval API (links in approval emails)' });
    for (const { id: smId, stateMachine } of workflows.all()) {
      new CfnOutput(this, `${pascalCase(smId)}StateMachineArn`, { value: stateMachine.stateMachineArn });
    }
    for (const { definition, table } of tables.all()) new CfnOutput(this, `${pascalCase(definition.id)}TableName`, { value: table.tableName });
    new CfnOutput(this, 'EventBusName', { value: config.eventBusName, description: 'Put governance events here (only the allowed producers may)' });
    new CfnOutput(this, 'IngestDeadLetterQueueUrl', { value: routing.deadLetterQueue.queueUrl });
    new CfnOutput(this, 'EvidenceDeadLetterQueueUrl', { value: evidenceQueue.deadLetterQueue.queueUrl, description: 'Evidence drafts the writer could not append after every retry (the EvidenceDeadLettered alarm fires): redrive them to the evidence queue' });
    new CfnOutput(this, 'AlarmTopicArn', { value: alarms.topic.topicArn });
    new CfnOutput(this, 'SlackWebhookSecretArn', { value: channels.slackWebhook.secretArn });
    new CfnOutput(this, 'ApprovalLinkKeySecretArn', { value: channels.linkSigningKey.secretArn, description: 'The HMAC key approval links are signed with: who may read it may sign links (nhigov approve)' });
    new CfnOutput(this, 'CheckpointBucketName', { value: trustAnchors.bucket.bucketName, description: 'Signed evidence checkpoints (Object Lock, compliance mode)' });
    new CfnOutput(this, 'CheckpointKeyArn', { value: trustAnchors.key.keyArn, description: 'The KMS key checkpoints are signed with: verifying needs only its public key (kms:GetPublicKey)' });
    if (checkpoint) new CfnOutput(this, 'CheckpointFunctionName', { value: checkpoint.fn.functionName, description: 'Writes a checkpoint on demand (nhigov evidence checkpoint; policy activate raises the policy high-water mark through it)' });
    if (attestation) new CfnOutput(this, 'AttestationFunctionName', { value: attestation.fn.functionName, description: 'Opens and sweeps owner attestation campaigns (nhigov attest start / sweep)' });
    new CfnOutput(this, 'PolicyPublicKey', { value: policyPublicKey, description: 'The Ed25519 public key (PEM) the runtimes trust policies from' });
    new CfnOutput(this, 'DashboardUrl', {
      value: `https://${this.region}.console.aws.amazon.com/cloudwatch/home?region=${this.region}#dashboards/dashboard/${dashboardName}`,
    });
  }

  /**
   * The `PolicyPublicKey` parameter, when no key is given at synth. Its construct id differs from
   * the output's (construct ids are one namespace per scope); CloudFormation keeps parameters and
   * outputs apart, so both keep the name operators know.
   */
  private policyPublicKeyParameter(): string {
    const parameter = new CfnParameter(this, 'PolicyPublicKeyParameter', {
      type: 'String',
      description: 'PEM of the Ed25519 public key governance policies are signed with (nhigov policy keygen writes PREFIX.pub)',
      allowedPattern: '-----BEGIN PUBLIC KEY-----[\\s\\S]+-----END PUBLIC KEY-----\\s*',
    });
    parameter.overrideLogicalId('PolicyPublicKey');
    return parameter.valueAsString;
  }
}

import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { CreateTableCommand, UpdateTimeToLiveCommand, type AttributeDefinition } from '@aws-sdk/client-dynamodb';
import { CreateEventBusCommand, CreatePartnerEventSourceCommand, PutRuleCommand, PutTargetsCommand } from '@aws-sdk/client-eventbridge';
import { CreateStateMachineCommand, DescribeExecutionCommand, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { CreateQueueCommand, GetQueueAttributesCommand } from '@aws-sdk/client-sqs';
import { CreateSecretCommand } from '@aws-sdk/client-secrets-manager';
import { CreateEmailIdentityCommand } from '@aws-sdk/client-sesv2';
import { CreateBucketCommand, PutObjectLockConfigurationCommand } from '@aws-sdk/client-s3';
import { CreateKeyCommand } from '@aws-sdk/client-kms';
import { CreateRoleCommand } from '@aws-sdk/client-iam';
import { EVIDENCE_SENDERS_ENV } from '../lambdas/domain/evidence-senders.js';
import { EVENT_RULES, EVIDENCE_QUEUE, FUNCTIONS, STATE_MACHINES, TABLES, physicalName, tableEnvName, type TableDefinition } from '../infra/resources.js';
import type { RuleBus } from '../lambdas/domain/signals/index.js';
import { PROJECT_ROOT } from './build.js';
import { LOCAL_ACCOUNT_ID, type AwsClients } from './aws-clients.js';
import { setTimeout as sleep } from 'node:timers/promises';

export interface LocalDeployment {
  readonly prefix: string;
  readonly region: string;
  readonly accountId: string;
  readonly tables: Record<string, string>;
  readonly stateMachines: Record<string, string>;
  readonly functions: Record<string, string>;
  /** Each function's own role (named as the function), by function name: the gateway signs its calls as it. */
  readonly functionRoles: Record<string, { readonly arn: string; readonly id: string }>;
  readonly queues: { readonly events: string; readonly eventsDlq: string; readonly evidence: string; readonly evidenceDlq: string };
  readonly eventRules: string[];
  /** Bus name per rule bus: the governance bus, the default bus, Okta's partner bus. */
  readonly eventBuses: Record<RuleBus, string>;
}

export function functionArn(region: string, prefix: string, name: string): string {
  return `arn:aws:lambda:${region}:${LOCAL_ACCOUNT_ID}:function:${physicalName(prefix, name)}`;
}

/** Replaces `${Name}` in an ASL text, and refuses to leave one unresolved. */
export function substituteDefinition(asl: string, substitutions: Readonly<Record<string, string>>): string {
  const resolved = asl.replace(/\$\{(\w+)\}/g, (whole, key: string) => substitutions[key] ?? whole);
  const missing = /\$\{(\w+)\}/.exec(resolved);
  if (missing) throw new Error(`ASL substitution \${${missing[1]}} has no value`);
  return resolved;
}

/** Enables moto's Step Functions interpreter; must precede CreateStateMachine. */
export async function enableStepFunctionsInterpreter(motoEndpoint: string): Promise<void> {
  const reply = await fetch(`${motoEndpoint}/moto-api/config`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ stepfunctions: { execute_state_machine: true } }),
  });
  if (!reply.ok) throw new Error(`moto refused the Step Functions config (${reply.status})`);
}

/** Deploys, into moto, what the CDK stack declares, from the same definitions (infra/resources.ts). */
export async function deployLocalStack(clients: AwsClients, prefix: string, region: string): Promise<LocalDeployment> {
  const tables: Record<string, string> = {};
  for (const table of TABLES) {
    tables[table.id] = physicalName(prefix, table.id);
    await createTable(clients, tables[table.id] as string, table);
  }
  const dlq = await clients.sqs.send(new CreateQueueCommand({ QueueName: physicalName(prefix, 'events-dlq') }));
  const dlqArn = await queueArn(clients, dlq.QueueUrl ?? '');
  const queue = await clients.sqs.send(
    new CreateQueueCommand({
      QueueName: physicalName(prefix, 'events'),
      Attributes: { VisibilityTimeout: '60', RedrivePolicy: JSON.stringify({ deadLetterTargetArn: dlqArn, maxReceiveCount: 5 }) },
    }),
  );
  const eventsQueueArn = await queueArn(clients, queue.QueueUrl ?? '');
  const evidence = await deployEvidenceQueue(clients, prefix);
  const eventBuses = await deployEventBuses(clients, prefix);
  const eventRules: string[] = [];
  for (const rule of EVENT_RULES) {
    const name = physicalName(prefix, rule.id);
    const EventBusName = eventBuses[rule.bus];
    await clients.events.send(new PutRuleCommand({ Name: name, EventBusName, EventPattern: JSON.stringify(rule.pattern), State: 'ENABLED' }));
    await clients.events.send(new PutTargetsCommand({ Rule: name, EventBusName, Targets: [{ Id: 'ingest-queue', Arn: eventsQueueArn }] }));
    eventRules.push(name);
  }
  const functions = Object.fromEntries(FUNCTIONS.map((fn) => [fn.name, functionArn(region, prefix, fn.name)]));
  const functionRoles = await deployFunctionRoles(clients, prefix);
  const stateMachines: Record<string, string> = {};
  for (const machine of STATE_MACHINES) {
    const asl = readFileSync(path.join(PROJECT_ROOT, machine.file), 'utf8');
    const substitutions = Object.fromEntries(
      Object.entries(machine.functionSubstitutions).map(([key, fn]) => [key, functions[fn] ?? `missing-function-${fn}`]),
    );
    const out = await clients.sfn.send(
      new CreateStateMachineCommand({
        name: physicalName(prefix, machine.id),
        definition: substituteDefinition(asl, substitutions),
        roleArn: `arn:aws:iam::${LOCAL_ACCOUNT_ID}:role/${prefix}-state-machine`,
      }),
    );
    stateMachines[machine.id] = out.stateMachineArn ?? '';
  }
  return { prefix, region, accountId: LOCAL_ACCOUNT_ID, tables, stateMachines, functions, functionRoles, queues: { events: queue.QueueUrl ?? '', eventsDlq: dlq.QueueUrl ?? '', ...evidence }, eventRules, eventBuses };
}

/** Lambda's trust: only the Lambda service may take a function role's sessions. */
const LAMBDA_TRUST = JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' }, Action: 'sts:AssumeRole' }] });

/** One role per function, as the CDK stack gives each its own (infra/lib/functions.ts); named as the function. */
async function deployFunctionRoles(clients: AwsClients, prefix: string): Promise<LocalDeployment['functionRoles']> {
  const roles: Record<string, { arn: string; id: string }> = {};
  for (const fn of FUNCTIONS) {
    const out = await clients.iam.send(new CreateRoleCommand({ RoleName: physicalName(prefix, fn.name), AssumeRolePolicyDocument: LAMBDA_TRUST, Description: `nhi-governor ${fn.name}` }));
    if (!out.Role?.Arn || !out.Role.RoleId) throw new Error(`the emulator created no role for ${fn.name}`);
    roles[fn.name] = { arn: out.Role.Arn, id: out.Role.RoleId };
  }
  return roles;
}

/** The evidence queue of the CDK stack (FIFO, one group per change) and its dead-letter queue. */
async function deployEvidenceQueue(clients: AwsClients, prefix: string): Promise<{ evidence: string; evidenceDlq: string }> {
  const fifo = { FifoQueue: 'true', ContentBasedDeduplication: 'false' };
  const dlq = await clients.sqs.send(new CreateQueueCommand({ QueueName: evidenceQueueName(prefix, 'evidence-dlq'), Attributes: fifo }));
  const dlqArn = await queueArn(clients, dlq.QueueUrl ?? '');
  const queue = await clients.sqs.send(
    new CreateQueueCommand({
      QueueName: evidenceQueueName(prefix, 'evidence'),
      Attributes: { ...fifo, VisibilityTimeout: '60', MaximumMessageSize: String(EVIDENCE_QUEUE.maxMessageBytes), RedrivePolicy: JSON.stringify({ deadLetterTargetArn: dlqArn, maxReceiveCount: EVIDENCE_QUEUE.maxReceives }) },
    }),
  );
  return { evidence: queue.QueueUrl ?? '', evidenceDlq: dlq.QueueUrl ?? '' };
}

/** FIFO queue names end in `.fifo`. */
export function evidenceQueueName(prefix: string, id: 'evidence' | 'evidence-dlq'): string {
  return `${physicalName(prefix, id)}.fifo`;
}

/** The Okta partner event source the local stack plays (an Okta org named `nhigov-local`). */
export const LOCAL_OKTA_EVENT_SOURCE = 'aws.partner/okta.com/nhigov-local/system-log';

/**
 * The buses of the CDK stack, in moto: the governance bus for the custom sources, and a partner
 * bus named as Okta's is (a partner bus takes the name of its event source); AWS services' rules
 * stay on the default bus. moto has no bus resource policies worth setting: it does not enforce IAM.
 */
async function deployEventBuses(clients: AwsClients, prefix: string): Promise<Record<RuleBus, string>> {
  const governance = physicalName(prefix, 'governance');
  await clients.events.send(new CreateEventBusCommand({ Name: governance }));
  await clients.events.send(new CreatePartnerEventSourceCommand({ Name: LOCAL_OKTA_EVENT_SOURCE, Account: LOCAL_ACCOUNT_ID }));
  await clients.events.send(new CreateEventBusCommand({ Name: LOCAL_OKTA_EVENT_SOURCE, EventSourceName: LOCAL_OKTA_EVENT_SOURCE }));
  return { governance, default: 'default', okta: LOCAL_OKTA_EVENT_SOURCE };
}

/** The environment the handlers read, for the gateway that hosts them. */
export function handlerEnvironment(deployment: LocalDeployment): Record<string, string> {
  const env: Record<string, string> = {};
  for (const table of TABLES) env[tableEnvName(table.id)] = deployment.tables[table.id] ?? '';
  if (deployment.stateMachines.change) env.NHIGOV_CHANGE_STATE_MACHINE_ARN = deployment.stateMachines.change;
  env.NHIGOV_EVIDENCE_QUEUE_URL = deployment.queues.evidence;
  // As the CDK stack gives the writer (infra/lib/evidence-queue.ts): each sender's role id.
  env[EVIDENCE_SENDERS_ENV] = JSON.stringify(
    Object.fromEntries(FUNCTIONS.filter((fn) => fn.uses?.includes('evidenceAppend')).map((fn) => [fn.name, deployment.functionRoles[fn.name]?.id ?? ''])),
  );
  return env;
}

/** What approvals travel through locally: the link key and Slack webhook secrets, the SES sender. */
export interface ApprovalChannelsDeployment {
  readonly linkKeySecretArn: string;
  readonly slackWebhookSecretArn: string;
  readonly sesSender: string;
  /** The Slack webhook URL points at the gateway's sink (GET it to list the messages). */
  readonly slackSinkUrl: string;
}

/** The local stack's SES identity (verified at deploy, as the CDK stack's sesSender). */
export const LOCAL_SES_SENDER = 'nhigov-approvals@example.com';

/**
 * The approval channels of the CDK stack (infra/lib/approval-channels.ts), locally: the HMAC key
 * approval links are signed with and the Slack incoming-webhook URL (pointing at the gateway's
 * sink), both in Secrets Manager under the same names, and the SES sender identity.
 */
export async function deployApprovalChannels(clients: AwsClients, prefix: string, gatewayEndpoint: string): Promise<ApprovalChannelsDeployment> {
  const linkKey = await clients.secrets.send(
    new CreateSecretCommand({ Name: `${prefix}/approval-link-hmac-key`, Description: 'nhi-governor: the HMAC key approval links are signed with', SecretString: randomBytes(48).toString('base64url') }),
  );
  const slackSinkUrl = `${gatewayEndpoint}/_sinks/slack/services/T0LOCAL/B0LOCAL/nhigov`;
  const slack = await clients.secrets.send(
    new CreateSecretCommand({ Name: `${prefix}/slack-webhook-url`, Description: 'nhi-governor: the Slack incoming-webhook URL approval requests are posted to', SecretString: slackSinkUrl }),
  );
  await clients.ses.send(new CreateEmailIdentityCommand({ EmailIdentity: LOCAL_SES_SENDER }));
  return { linkKeySecretArn: linkKey.ARN ?? '', slackWebhookSecretArn: slack.ARN ?? '', sesSender: LOCAL_SES_SENDER, slackSinkUrl };
}

/** The environment the approval handlers read (names shared with infra/lib/capabilities.ts). */
export function approvalChannelEnvironment(channels: ApprovalChannelsDeployment, approvalBaseUrl: string): Record<string, string> {
  return {
    NHIGOV_APPROVAL_HMAC_SECRET_ARN: channels.linkKeySecretArn,
    NHIGOV_SLACK_WEBHOOK_SECRET_ARN: channels.slackWebhookSecretArn,
    NHIGOV_SES_SENDER: channels.sesSender,
    NHIGOV_APPROVAL_BASE_URL: approvalBaseUrl,
  };
}

/** The checkpoint bucket and key of the CDK stack (infra/lib/trust-anchors.ts), locally. */
export interface TrustAnchorsDeployment {
  readonly bucket: string;
  readonly keyArn: string;
}

/** Object Lock retention of the local checkpoints; moto enforces compliance mode, and forgets it all at `local down`. */
export const LOCAL_CHECKPOINT_RETENTION_DAYS = 400;

/**
 * The checkpoint bucket (Object Lock on, default retention in compliance mode: moto refuses to
 * delete a locked version) and the ECC_NIST_P256 signing key (moto signs, and GetPublicKey
 * returns the DER public key a verifier needs).
 */
export async function deployTrustAnchors(clients: AwsClients, prefix: string): Promise<TrustAnchorsDeployment> {
  const bucket = `${prefix}-checkpoints-${LOCAL_ACCOUNT_ID}`;
  await clients.s3.send(new CreateBucketCommand({ Bucket: bucket, ObjectLockEnabledForBucket: true }));
  await clients.s3.send(
    new PutObjectLockConfigurationCommand({ Bucket: bucket, ObjectLockConfiguration: { ObjectLockEnabled: 'Enabled', Rule: { DefaultRetention: { Mode: 'COMPLIANCE', Days: LOCAL_CHECKPOINT_RETENTION_DAYS } } } }),
  );
  const key = await clients.kms.send(new CreateKeyCommand({ KeySpec: 'ECC_NIST_P256', KeyUsage: 'SIGN_VERIFY', Description: 'nhi-governor: signs evidence checkpoints' }));
  return { bucket, keyArn: key.KeyMetadata?.Arn ?? '' };
}

/** The environment of the checkpoint capabilities (names shared with infra/lib/capabilities.ts). */
export function trustAnchorsEnvironment(anchors: TrustAnchorsDeployment): Record<string, string> {
  return { NHIGOV_CHECKPOINT_BUCKET: anchors.bucket, NHIGOV_CHECKPOINT_KEY_ARN: anchors.keyArn };
}

/** The first Step Functions execution takes 1-2 s in moto: pay it at startup. */
export async function warmUpStepFunctions(clients: AwsClients, prefix: string): Promise<number> {
  const started = Date.now();
  const machine = await clients.sfn.send(
    new CreateStateMachineCommand({
      name: physicalName(prefix, 'warmup'),
      definition: JSON.stringify({ StartAt: 'Ready', States: { Ready: { Type: 'Pass', Result: { ready: true }, End: true } } }),
      roleArn: `arn:aws:iam::${LOCAL_ACCOUNT_ID}:role/${prefix}-state-machine`,
    }),
  );
  const execution = await clients.sfn.send(new StartExecutionCommand({ stateMachineArn: machine.stateMachineArn, name: 'warmup', input: '{}' }));
  for (let i = 0; i < 100; i += 1) {
    const status = await clients.sfn.send(new DescribeExecutionCommand({ executionArn: execution.executionArn }));
    if (status.status !== 'RUNNING') {
      if (status.status !== 'SUCCEEDED') throw new Error(`the Step Functions warm-up ended ${status.status}`);
      return Date.now() - started;
    }
    await sleep(50);
  }
  throw new Error('the Step Functions warm-up did not finish');
}

async function createTable(clients: AwsClients, tableName: string, table: TableDefinition): Promise<void> {
  const attributes = new Map<string, 'S' | 'N'>();
  const note = (key: { name: string; type: 'S' | 'N' } | undefined) => key && attributes.set(key.name, key.type);
  note(table.partitionKey);
  note(table.sortKey);
  table.indexes.forEach((index) => {
    note(index.partitionKey);
    note(index.sortKey);
  });
  const keySchema = (pk: { name: string }, sk?: { name: string }) => [
    { AttributeName: pk.name, KeyType: 'HASH' as const },
    ...(sk ? [{ AttributeName: sk.name, KeyType: 'RANGE' as const }] : []),
  ];
  await clients.dynamodb.send(
    new CreateTableCommand({
      TableName: tableName,
      BillingMode: 'PAY_PER_REQUEST',
      AttributeDefinitions: [...attributes].map(([AttributeName, AttributeType]): AttributeDefinition => ({ AttributeName, AttributeType })),
      KeySchema: keySchema(table.partitionKey, table.sortKey),
      ...(table.indexes.length > 0
        ? { GlobalSecondaryIndexes: table.indexes.map((index) => ({ IndexName: index.name, KeySchema: keySchema(index.partitionKey, index.sortKey), Projection: { ProjectionType: 'ALL' as const } })) }
        : {}),
    }),
  );
  if (table.timeToLiveAttribute) {
    await clients.dynamodb.send(new UpdateTimeToLiveCommand({ TableName: tableName, TimeToLiveSpecification: { Enabled: true, AttributeName: table.timeToLiveAttribute } }));
  }
}

async function queueArn(clients: AwsClients, queueUrl: string): Promise<string> {
  const out = await clients.sqs.send(new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['QueueArn'] }));
  return out.Attributes?.QueueArn ?? '';
}

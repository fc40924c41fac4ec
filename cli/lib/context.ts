import { DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { GetCallerIdentityCommand } from '@aws-sdk/client-sts';
import { parseOperatorOutputs, type OperatorOutputs } from '../../infra/outputs.js';
import { oneLine } from '../../lambdas/domain/events.js';
import { ApprovalStore } from '../../lambdas/stores/approval-store.js';
import { ChangeStore } from '../../lambdas/stores/change-store.js';
import { createDocumentClient } from '../../lambdas/stores/dynamo.js';
import { EvidenceStore } from '../../lambdas/stores/evidence-store.js';
import { PlanStore } from '../../lambdas/stores/plan-store.js';
import { PolicyStore } from '../../lambdas/stores/policy-store.js';
import { CheckpointStore } from '../../lambdas/stores/checkpoint-store.js';
import { configuredRegion, operatorClients, type ClientSettings, type OperatorClients } from './clients.js';
import { localStateDir, readLocalConnection } from './connection.js';
import { OperationFailed, UsageError } from './io.js';

/** Which stack a command operates, and how it was chosen. */
export interface StackTarget {
  readonly stackName: string;
  /** `stack`: NHIGOV_STACK or --stack; `local`: the running local stack of the state dir. */
  readonly mode: 'stack' | 'local';
  readonly region: string;
  /** From the stack's id. */
  readonly account: string;
  /** The local gateway's console; null for a deployed stack (`nhigov console` serves one). */
  readonly consoleUrl: string | null;
  /** The endpoint the clients use (the local gateway); absent: the SDK's own configuration decides. */
  readonly endpoint?: string;
}

/** What commands work with: the stack's Outputs, SDK clients and stores. */
export interface StackContext {
  readonly target: StackTarget;
  readonly outputs: OperatorOutputs;
  readonly clients: OperatorClients;
  readonly changes: ChangeStore;
  readonly evidence: EvidenceStore;
  readonly plans: PlanStore;
  readonly policies: PolicyStore;
  readonly approvals: ApprovalStore;
  /** Signed evidence checkpoints (and the policy high-water mark they carry). */
  readonly checkpoints: CheckpointStore;
}

/** The stack named by NHIGOV_STACK (the global --stack option sets it); null: the local stack. */
export function selectedStackName(env: NodeJS.ProcessEnv = process.env): string | null {
  const name = env.NHIGOV_STACK?.trim();
  return name ? name : null;
}

/**
 * The context of the stack this invocation targets: the deployed stack NHIGOV_STACK names
 * (reached through the SDK's own configuration), else the local stack running from the state
 * dir. Either way the stack's CloudFormation Outputs say where everything is.
 */
export async function stackContext(env: NodeJS.ProcessEnv = process.env): Promise<StackContext> {
  const stackName = selectedStackName(env);
  if (stackName) return contextFor({ stackName, mode: 'stack', settings: { region: await configuredRegion() }, consoleUrl: null });
  const stateDir = localStateDir(env);
  const connection = readLocalConnection(stateDir);
  if (!connection) {
    throw new OperationFailed(`no local stack is running for ${stateDir} (start one with: nhigov local up --detach; or operate a deployed stack with NHIGOV_STACK=NAME or --stack NAME)`);
  }
  return contextFor({
    stackName: connection.stackName,
    mode: 'local',
    settings: { region: connection.region, endpoint: connection.endpoint, credentials: connection.credentials },
    consoleUrl: connection.consoleUrl,
  });
}

/** Reads the stack's Outputs and builds the clients and stores over them. */
export async function contextFor(input: { stackName: string; mode: StackTarget['mode']; settings: ClientSettings; consoleUrl: string | null }): Promise<StackContext> {
  const clients = operatorClients(input.settings);
  const { stackName } = input;
  const region = input.settings.region;
  let stack;
  try {
    stack = (await clients.cloudformation.send(new DescribeStacksCommand({ StackName: stackName }))).Stacks?.[0];
  } catch (error) {
    const missing = error instanceof Error && /does not exist/.test(error.message);
    const account = await callerAccount(clients);
    if (missing) throw new UsageError(`stack ${stackName} not found in region ${region} of account ${account} (deploy it with npx cdk deploy, or set AWS_REGION / AWS_PROFILE)`);
    throw new UsageError(`cannot reach stack ${stackName} in region ${region} of account ${account}: ${oneLine(error instanceof Error ? error.message : String(error))}`);
  }
  if (!stack) throw new UsageError(`stack ${stackName} not found in region ${region} of account ${await callerAccount(clients)}`);
  const account = /^arn:[^:]+:cloudformation:[^:]*:(\d{12}):/.exec(stack.StackId ?? '')?.[1] ?? (await callerAccount(clients));
  const parsed = parseOperatorOutputs(stack.Outputs ?? []);
  if (!parsed.ok) throw new UsageError(`stack ${stackName} in region ${region} of account ${account} is not an nhi-governor stack of this version (${parsed.error})`);
  const { outputs } = parsed;
  const db = createDocumentClient(clients.dynamodb);
  return {
    target: { stackName, mode: input.mode, region, account, consoleUrl: input.consoleUrl, ...(input.settings.endpoint ? { endpoint: input.settings.endpoint } : {}) },
    outputs,
    clients,
    changes: new ChangeStore(db, outputs.tables.changes, outputs.tables.actions),
    evidence: new EvidenceStore(db, outputs.tables.evidence),
    plans: new PlanStore(db, outputs.tables.plans),
    policies: new PolicyStore(db, outputs.tables.policies),
    approvals: new ApprovalStore(db, outputs.tables.approvals),
    checkpoints: new CheckpointStore(clients.s3, clients.kms, { bucket: outputs.checkpoints.bucket, keyArn: outputs.checkpoints.keyArn }),
  };
}

/** Where to look when the workflow does not answer. */
export function logsHint(target: StackTarget): string {
  return target.mode === 'local' ? 'see gateway.log in the state dir' : `see the ingest dead-letter queue and the function logs of stack ${target.stackName}`;
}

/** The caller's account, for error messages: never fails. */
async function callerAccount(clients: OperatorClients): Promise<string> {
  try {
    return (await clients.sts.send(new GetCallerIdentityCommand({}))).Account ?? 'unknown';
  } catch {
    return 'unknown (no usable credentials)';
  }
}

import { parseDocument } from 'yaml';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { z } from 'zod';
import { formatIssues } from '../lambdas/domain/events.js';
import { ATTESTATION_FUNCTION, EVIDENCE_WRITER_FUNCTION, FUNCTIONS, physicalName, DEFAULT_PREFIX } from '../infra/resources.js';
import { signPolicy } from '../lambdas/domain/policy-signature.js';
import { createDocumentClient } from '../lambdas/stores/dynamo.js';
import { PolicyStore } from '../lambdas/stores/policy-store.js';
import { STSClient } from '@aws-sdk/client-sts';
import { CloudTrail } from './gateway/cloudtrail.js';
import { FunctionSessions } from './gateway/function-roles.js';
import { MEMBER_ROLES_ENV, WORKFLOW_ROLES_ENV } from '../lambdas/domain/signals/cloudtrail.js';
import { DEFAULT_MEMBER_ROLE_NAME } from '../lambdas/domain/accounts.js';
import { awsClients, LOCAL_ACCOUNT_ID, LOCAL_CREDENTIALS } from './aws-clients.js';
import { buildHandlers, HANDLERS_PREBUILT_ENV, PROJECT_ROOT } from './build.js';
import {
  approvalChannelEnvironment,
  deployApprovalChannels,
  deployLocalStack,
  deployTrustAnchors,
  enableStepFunctionsInterpreter,
  evidenceQueueName,
  handlerEnvironment,
  trustAnchorsEnvironment,
  warmUpStepFunctions,
  type ApprovalChannelsDeployment,
  type LocalDeployment,
  type TrustAnchorsDeployment,
} from './deploy.js';
import { EventPoller } from './event-poller.js';
import { Gateway } from './gateway/server.js';
import { DEFAULT_LOCAL_CONCURRENCY, LambdaHost } from './gateway/lambda-host.js';
import { approvalRoute } from './gateway/approval-route.js';
import { SlackSink } from './gateway/slack-sink.js';
import { consoleRoute } from '../console/route.js';
import { outboxPage } from './console-outbox/page.js';
import { contextFor } from '../cli/lib/context.js';
import { assertMotoInstalled, EnvironmentError, startMoto, waitForMoto } from './moto-process.js';
import { ensureKeyPair } from './policy-keys.js';
import { stateFile, type LocalSettings } from './settings.js';
import { registerLocalStack } from './register-stack.js';
import { isAlive, type LocalConnection } from '../cli/lib/connection.js';

export interface StackOutputs extends LocalDeployment {
  readonly endpoint: string;
  readonly consoleUrl: string;
  readonly port: number;
  readonly stateDir: string;
  readonly pids: { readonly server: number; readonly moto: number };
  readonly startedAt: string;
  readonly versions: { readonly moto: string; readonly node: string };
  readonly policy: { readonly version: string; readonly publicKeyPath: string };
  readonly timings: { readonly readyMs: number; readonly warmUpMs: number };
  /** Approval link key and Slack webhook secrets, SES sender (local stand-ins of the CDK stack's). */
  readonly approvalChannels: ApprovalChannelsDeployment;
  /** The checkpoint bucket and signing key (local stand-ins of the CDK stack's TrustAnchors). */
  readonly trustAnchors: TrustAnchorsDeployment;
}

export interface RunningStack {
  readonly outputs: StackOutputs;
  readonly gateway: Gateway;
  stop(): Promise<void>;
}

/** Evidence batches written at once (each a different change: a group is never delivered twice at once). */
const EVIDENCE_WRITER_WORKERS = 8;

export const DEFAULT_POLICY_FILE = path.join(PROJECT_ROOT, 'policy', 'default-policy.yaml');
export const LOCAL_POLICY_ACTIVATOR = 'local-stack@nhigov.local';

/** Fails at once, with a clear message, when the port is taken (never a hang). */
export async function assertPortFree(port: number): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const probe = net.createServer();
    probe.once('error', (error: NodeJS.ErrnoException) =>
      reject(new EnvironmentError(error.code === 'EADDRINUSE' ? `port ${port} is already in use (set NHIGOV_PORT to another port; moto uses NHIGOV_PORT+1)` : `port ${port}: ${error.message}`)),
    );
    probe.listen(port, '127.0.0.1', () => probe.close(() => resolve()));
  });
}

const names = z.record(z.string(), z.string());
/** stack.json, as startLocalStack writes it (the type check below keeps the two in step). */
const stackOutputsSchema = z.object({
  prefix: z.string(),
  region: z.string(),
  accountId: z.string(),
  tables: names,
  stateMachines: names,
  functions: names,
  functionRoles: z.record(z.string(), z.object({ arn: z.string(), id: z.string() })),
  queues: z.object({ events: z.string(), eventsDlq: z.string(), evidence: z.string(), evidenceDlq: z.string() }),
  eventRules: z.array(z.string()),
  eventBuses: z.object({ governance: z.string(), default: z.string(), okta: z.string() }),
  endpoint: z.string(),
  consoleUrl: z.string(),
  port: z.number(),
  stateDir: z.string(),
  pids: z.object({ server: z.number(), moto: z.number() }),
  startedAt: z.string(),
  versions: z.object({ moto: z.string(), node: z.string() }),
  policy: z.object({ version: z.string(), publicKeyPath: z.string() }),
  timings: z.object({ readyMs: z.number(), warmUpMs: z.number() }),
  approvalChannels: z.object({ linkKeySecretArn: z.string(), slackWebhookSecretArn: z.string(), sesSender: z.string(), slackSinkUrl: z.string() }),
  trustAnchors: z.object({ bucket: z.string(), keyArn: z.string() }),
});

export function readStackOutputs(settings: LocalSettings): StackOutputs | null {
  const file = stateFile(settings, 'stack.json');
  if (!existsSync(file)) return null;
  const parsed = stackOutputsSchema.safeParse(JSON.parse(readFileSync(file, 'utf8')));
  if (!parsed.success) throw new EnvironmentError(`${file} was written by another version of nhigov (${formatIssues(parsed.error)}): stop that stack and start it again`);
  const outputs: StackOutputs = parsed.data;
  return outputs;
}


/**
 * Starts moto, the gateway and the event poller, deploys the stack, activates the default
 * policy and warms Step Functions up. Runs in this process; `local up --detach` runs it in a
 * detached child.
 */
export async function startLocalStack(
  settings: LocalSettings,
  options: {
    seed: (outputs: StackOutputs) => Promise<void>;
    log: (line: string) => void;
    /** Member accounts the activated policy governs besides the default policy's (the demo estate spans one). */
    memberAccounts?: readonly string[];
  },
): Promise<RunningStack> {
  const started = Date.now();
  mkdirSync(settings.stateDir, { recursive: true });
  const previous = readStackOutputs(settings);
  if (previous && isAlive(previous.pids.server)) throw new EnvironmentError(`a local stack is already running from ${settings.stateDir} on port ${previous.port} (nhigov local down)`);
  rmSync(stateFile(settings, 'stack.json'), { force: true });
  rmSync(stateFile(settings, 'connection.json'), { force: true });
  rmSync(stateFile(settings, 'error.txt'), { force: true });
  const motoVersion = assertMotoInstalled();
  const motoPort = settings.port + 1;
  await assertPortFree(settings.port);
  await assertPortFree(motoPort);
  if (process.env[HANDLERS_PREBUILT_ENV] !== '1') await buildHandlers();

  const moto = startMoto({ gatewayPort: settings.port, motoPort, logFile: stateFile(settings, 'moto.log'), detached: false });
  let gateway: Gateway | undefined;
  let poller: EventPoller | undefined;
  let evidencePoller: EventPoller | undefined;
  const stop = async () => {
    await poller?.stop();
    await evidencePoller?.stop();
    await gateway?.close();
    await stopChild(moto);
  };
  try {
    await waitForMoto(motoPort, moto);
    const motoEndpoint = `http://127.0.0.1:${motoPort}`;
    const endpoint = `http://127.0.0.1:${settings.port}`;
    await enableStepFunctionsInterpreter(motoEndpoint);
    const direct = awsClients(motoEndpoint, settings.region);
    const prefix = DEFAULT_PREFIX;
    const deployment = await deployLocalStack(direct, prefix, settings.region);
    const approvalChannels = await deployApprovalChannels(direct, prefix, endpoint);
    const trustAnchors = await deployTrustAnchors(direct, prefix);

    const keys = ensureKeyPair(path.join(settings.stateDir, 'policy'));
    const policyText = withMemberAccounts(readFileSync(DEFAULT_POLICY_FILE, 'utf8'), options.memberAccounts ?? []);
    const signature = signPolicy(policyText, keys.privateKeyPem);
    const policyStore = new PolicyStore(createDocumentClient(direct.dynamodb), deployment.tables.policies ?? '');
    await policyStore.activate({ version: signature.version, policyText, signatureText: JSON.stringify(signature), activatedBy: LOCAL_POLICY_ACTIVATOR, activatedAt: new Date().toISOString() });

    Object.assign(process.env, handlerEnvironment(deployment), approvalChannelEnvironment(approvalChannels, endpoint), trustAnchorsEnvironment(trustAnchors), {
      AWS_ENDPOINT_URL: endpoint,
      AWS_REGION: settings.region,
      AWS_DEFAULT_REGION: settings.region,
      AWS_ACCESS_KEY_ID: 'test',
      AWS_SECRET_ACCESS_KEY: 'test',
      NHIGOV_POLICY_PUBLIC_KEY: keys.publicKeyPem,
      NHIGOV_RUNTIME_NAME: `local-gateway:${settings.port}`,
      // moto's default account is the stack's own; member accounts are reached by AssumeRole, as in AWS.
      NHIGOV_ACCOUNT_ID: LOCAL_ACCOUNT_ID,
      NHIGOV_PARTITION: 'aws',
      POWERTOOLS_SERVICE_NAME: 'nhi-governor',
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
      // The emulator's CloudTrail names a hosted function's calls by its role: the writer's are the workflow's own.
      [MEMBER_ROLES_ENV]: DEFAULT_MEMBER_ROLE_NAME,
      [WORKFLOW_ROLES_ENV]: FUNCTIONS.filter((fn) => fn.connector === 'readWrite').map((fn) => deployment.functionRoles[fn.name]?.arn ?? '').join(','),
    });
    const lambdas = new LambdaHost(
      new Map(FUNCTIONS.map((fn) => [physicalName(prefix, fn.name), { bundle: `${fn.name}.mjs`, timeoutSeconds: fn.timeoutSeconds }])),
      settings.region,
      LOCAL_ACCOUNT_ID,
      {
        concurrency: Number(process.env.NHIGOV_LOCAL_LAMBDA_CONCURRENCY ?? DEFAULT_LOCAL_CONCURRENCY),
        ownConcurrency: new Map([[physicalName(prefix, EVIDENCE_WRITER_FUNCTION), EVIDENCE_WRITER_WORKERS]]),
      },
    );
    const cloudTrail = new CloudTrail({ events: direct.events, region: settings.region, accountId: LOCAL_ACCOUNT_ID, rootAccessKeyId: LOCAL_CREDENTIALS.accessKeyId, onError: (error) => options.log(`cloudtrail: ${String(error)}`) });
    const sessions = new FunctionSessions(
      new STSClient({ endpoint: motoEndpoint, region: settings.region, credentials: LOCAL_CREDENTIALS }),
      new Map(Object.entries(deployment.functionRoles).map(([name, role]) => [physicalName(prefix, name), role])),
    );
    gateway = new Gateway({ port: settings.port, motoPort, lambdas, cloudTrail, functionRoles: { sessions, hostAccessKeyId: LOCAL_CREDENTIALS.accessKeyId } });
    gateway.addRoute(approvalRoute(lambdas, physicalName(prefix, 'approval-api')));
    gateway.addRoute(new SlackSink().route);
    await gateway.listen();
    const warmUpMs = await warmUpStepFunctions(direct, prefix);
    const eventsQueueArn = `arn:aws:sqs:${settings.region}:${LOCAL_ACCOUNT_ID}:${physicalName(prefix, 'events')}`;
    poller = new EventPoller(direct.sqs, deployment.queues.events, eventsQueueArn, lambdas, physicalName(prefix, 'ingest'), (error) => options.log(`event poller: ${String(error)}`));
    poller.start();
    const evidenceQueueArn = `arn:aws:sqs:${settings.region}:${LOCAL_ACCOUNT_ID}:${evidenceQueueName(prefix, 'evidence')}`;
    evidencePoller = new EventPoller(
      direct.sqs,
      deployment.queues.evidence,
      evidenceQueueArn,
      lambdas,
      physicalName(prefix, EVIDENCE_WRITER_FUNCTION),
      (error) => options.log(`evidence poller: ${String(error)}`),
      { workers: EVIDENCE_WRITER_WORKERS, longPoll: false },
    );
    evidencePoller.start();

    const outputs: StackOutputs = {
      ...deployment,
      endpoint,
      consoleUrl: `${endpoint}/console/`,
      port: settings.port,
      stateDir: settings.stateDir,
      pids: { server: process.pid, moto: moto.pid ?? -1 },
      startedAt: new Date().toISOString(),
      versions: { moto: motoVersion, node: process.version },
      policy: { version: signature.version, publicKeyPath: path.join(settings.stateDir, 'policy.pub') },
      timings: { readyMs: Date.now() - started, warmUpMs },
      approvalChannels,
      trustAnchors,
    };
    await registerLocalStack(direct, settings.stackName, {
      stateMachines: { change: deployment.stateMachines.change ?? '', rollback: deployment.stateMachines.rollback ?? '', finalize: deployment.stateMachines.finalize ?? '' },
      tables: { evidence: deployment.tables.evidence ?? '', changes: deployment.tables.changes ?? '', actions: deployment.tables.actions ?? '', plans: deployment.tables.plans ?? '', approvals: deployment.tables.approvals ?? '', policies: deployment.tables.policies ?? '' },
      eventBusName: deployment.eventBuses.governance,
      approvalUrl: `${endpoint}/`,
      approvalLinkKeySecretArn: approvalChannels.linkKeySecretArn,
      policyPublicKeyPem: keys.publicKeyPem,
      checkpoints: { bucket: trustAnchors.bucket, keyArn: trustAnchors.keyArn, functionName: physicalName(prefix, 'checkpoint') },
      attestationFunctionName: physicalName(prefix, ATTESTATION_FUNCTION),
    });
    // The console reads past the gateway (straight from moto): it observes, so it must neither
    // consume fault rules nor show in `nhigov stats`. Decisions still go through the approval API.
    const consoleContext = () => contextFor({ stackName: settings.stackName, mode: 'local', settings: { region: settings.region, endpoint: motoEndpoint, credentials: LOCAL_CREDENTIALS }, consoleUrl: outputs.consoleUrl });
    gateway.addRoute(consoleRoute({ context: consoleContext, port: settings.port, extraPages: [outboxPage({ motoEndpoint, gatewayEndpoint: endpoint })] }));
    await options.seed(outputs);
    const connection: LocalConnection = { stackName: settings.stackName, endpoint, region: settings.region, credentials: LOCAL_CREDENTIALS, pid: process.pid, consoleUrl: outputs.consoleUrl };
    writeFileSync(stateFile(settings, 'connection.json'), JSON.stringify(connection, null, 2));
    writeFileSync(stateFile(settings, 'stack.json'), JSON.stringify(outputs, null, 2));
    return {
      outputs,
      gateway,
      async stop() {
        await stop();
        rmSync(stateFile(settings, 'stack.json'), { force: true });
        rmSync(stateFile(settings, 'connection.json'), { force: true });
      },
    };
  } catch (error) {
    await stop();
    throw error;
  }
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
  await exited;
  clearTimeout(timer);
}

/** The policy text with an `accounts` block governing `accounts` (unchanged when there are none). */
function withMemberAccounts(policyText: string, accounts: readonly string[]): string {
  if (accounts.length === 0) return policyText;
  const document = parseDocument(policyText);
  document.set('accounts', accounts.map((id) => ({ id })));
  return document.toString();
}

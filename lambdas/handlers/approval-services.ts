import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SESv2Client } from '@aws-sdk/client-sesv2';
import { SendTaskFailureCommand, SendTaskSuccessCommand, SFNClient } from '@aws-sdk/client-sfn';
import { AppError } from '../domain/reasons.js';
import { ApprovalStore } from '../stores/approval-store.js';
import { createDocumentClient } from '../stores/dynamo.js';
import type { Runtime } from './runtime.js';

/** Secrets are re-read after this long, so a rotated link key or webhook URL is picked up. */
export const SECRET_CACHE_MS = 5 * 60 * 1000;

/** What the approval handlers use besides the runtime: the approvals table, secrets, SES, the task API. */
export interface ApprovalServices {
  readonly approvals: ApprovalStore;
  /** The HMAC key approval links are signed with. Fails closed when it is not configured. */
  linkKey(): Promise<Buffer>;
  /** The Slack incoming-webhook URL, or null when Slack is not configured. */
  slackWebhookUrl(): Promise<string | null>;
  readonly ses: SESv2Client;
  readonly sesSender: string | null;
  /** Where links point, or null when the deployment has no approval endpoint. */
  readonly baseUrl: string | null;
  readonly tasks: TaskResponder;
  now(): Date;
}

/** Answers a callback task: the decision travels in the output (success) or the error name (failure). */
export interface TaskResponder {
  succeed(taskToken: string, output: Record<string, unknown>): Promise<void>;
  fail(taskToken: string, error: string, cause: string): Promise<void>;
}

/** The task no longer waits (timed out, finished, or never existed): a decision can no longer land. */
export function isTaskGone(error: unknown): boolean {
  const name = (error as { name?: string }).name ?? '';
  return name === 'TaskTimedOut' || name === 'TaskDoesNotExist' || name === 'InvalidToken';
}

let cached: ApprovalServices | undefined;

export function approvalServices(rt: Runtime): ApprovalServices {
  if (cached) return cached;
  const table = rt.env.NHIGOV_TABLE_APPROVALS;
  if (!table) throw new AppError('INPUT_INVALID', 'handler configuration is incomplete: NHIGOV_TABLE_APPROVALS is not set');
  const secrets = new SecretsManagerClient({});
  const sfn = new SFNClient({});
  const secretCache = new Map<string, { value: string; at: number }>();
  const readSecret = async (id: string): Promise<string> => {
    const hit = secretCache.get(id);
    if (hit && Date.now() - hit.at < SECRET_CACHE_MS) return hit.value;
    const out = await secrets.send(new GetSecretValueCommand({ SecretId: id, VersionStage: 'AWSCURRENT' }));
    const value = out.SecretString ?? (out.SecretBinary ? Buffer.from(out.SecretBinary).toString('utf8') : '');
    if (!value) throw new AppError('INPUT_INVALID', `secret ${id} is empty`);
    secretCache.set(id, { value, at: Date.now() });
    return value;
  };
  cached = {
    approvals: new ApprovalStore(createDocumentClient(), table),
    async linkKey() {
      const id = rt.env.NHIGOV_APPROVAL_HMAC_SECRET_ARN;
      if (!id) throw new AppError('INPUT_INVALID', 'NHIGOV_APPROVAL_HMAC_SECRET_ARN is not set: approval links cannot be signed or checked');
      return Buffer.from(await readSecret(id), 'utf8');
    },
    async slackWebhookUrl() {
      const id = rt.env.NHIGOV_SLACK_WEBHOOK_SECRET_ARN;
      if (!id) return null;
      const value = (await readSecret(id)).trim();
      return /^https?:\/\//.test(value) ? value : null;
    },
    ses: new SESv2Client({}),
    sesSender: rt.env.NHIGOV_SES_SENDER ?? null,
    baseUrl: rt.env.NHIGOV_APPROVAL_BASE_URL ?? null,
    tasks: {
      async succeed(taskToken, output) {
        await sfn.send(new SendTaskSuccessCommand({ taskToken, output: JSON.stringify(output) }));
      },
      async fail(taskToken, error, cause) {
        await sfn.send(new SendTaskFailureCommand({ taskToken, error, cause }));
      },
    },
    now: () => new Date(),
  };
  return cached;
}

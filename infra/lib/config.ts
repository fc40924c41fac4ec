/**
 * Deployment settings: read once from CDK context (`cdk.json` or `-c key=value`) and validated
 * up front, so a wrong value fails `cdk synth` with one clear line instead of a broken deploy.
 */
import { createPublicKey } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { RetentionDays } from 'aws-cdk-lib/aws-logs';
import { z } from 'zod';
import { DEFAULT_PREFIX } from '../resources.js';
import { DEFAULT_MEMBER_ROLE_NAME } from '../../lambdas/domain/accounts.js';
import { formatIssues } from '../../lambdas/domain/events.js';
import { DeployConfigError } from './errors.js';
import { PROJECT_ROOT } from './paths.js';

export interface DeployConfig {
  /** Prefix of every physical name (tables, functions, state machines). @default 'nhigov' */
  readonly prefix: string;
  /**
   * The governance bus the stack creates: producers put the custom events (`hr.system`,
   * `security.findings`, `nhigov`) here, its rules listen here, the reconcile schedule puts here.
   * @default `${prefix}-governance`
   */
  readonly eventBusName: string;
  /**
   * Who may put events on the governance bus (its resource policy): account ids and role ARNs.
   * @default - the stack's own account
   */
  readonly eventProducerPrincipals: readonly string[];
  /** Okta's partner event source (`aws.partner/okta.com/...`): the stack adds a rule on its bus. @default - Okta not connected */
  readonly oktaEventSourceName?: string;
  /** The SES identity approval emails are sent from. @default - no email; approvals go to Slack only */
  readonly sesSender?: string;
  /**
   * Addresses that receive approval and escalation mail, created as SES identities while SES is in
   * the sandbox (where every recipient must be verified). Who is asked stays the policy's decision.
   * @default []
   */
  readonly approverEmails: readonly string[];
  /** The account's SES is in the sandbox: recipients must be verified identities too. @default true */
  readonly sesSandbox: boolean;
  /** PEM of the Ed25519 key policies must be signed with. @default - the `PolicyPublicKey` stack parameter */
  readonly policyPublicKey?: string;
  /** An existing secret holding the Slack incoming-webhook URL. @default - the stack creates an empty one */
  readonly slackWebhookSecretArn?: string;
  /** IAM path of the groups the connector may add users to / remove users from (groups cannot be tagged). @default '/' */
  readonly governedGroupPath: string;
  /** Where alarm notifications are emailed. @default - the topic has no subscription */
  readonly alarmEmail?: string;
  /** Names of the member roles the hub may assume in member accounts (the policy's accounts[].roleName). @default ['nhigov-member'] */
  readonly memberRoleNames: readonly string[];
  /** Retention of every log group the stack creates. @default RetentionDays.THREE_MONTHS */
  readonly logRetention: RetentionDays;
  /** EventBridge Scheduler expression of the daily reconciliation. @default 'cron(0 3 * * ? *)' */
  readonly reconcileSchedule: string;
  /** EventBridge Scheduler expression of the daily finalize run. @default 'cron(30 3 * * ? *)' */
  readonly finalizeSchedule: string;
  /** Object Lock retention (compliance mode) of each evidence checkpoint, in days. @default 400 */
  readonly checkpointRetentionDays: number;
  /** EventBridge Scheduler expression of the checkpoint of changes in flight. @default 'rate(1 hour)' */
  readonly checkpointSchedule: string;
  /** EventBridge Scheduler expression of the owner attestation campaign. @default 'cron(0 9 1 1,4,7,10 ? *)' (quarterly) */
  readonly attestationSchedule: string;
  /** EventBridge Scheduler expression of the sweep of open campaigns (escalations, follow-ups, closing). @default 'rate(1 hour)' */
  readonly attestationSweepSchedule: string;
}

/** The context keys this app reads, with what each accepts. */
export const CONTEXT_KEYS = [
  'prefix',
  'eventBusName',
  'eventProducerPrincipals',
  'oktaEventSourceName',
  'sesSender',
  'approverEmails',
  'sesSandbox',
  'policyPublicKey',
  'policyPublicKeyFile',
  'slackWebhookSecretArn',
  'governedGroupPath',
  'alarmEmail',
  'memberRoleNames',
  'logRetentionDays',
  'reconcileSchedule',
  'finalizeSchedule',
  'checkpointRetentionDays',
  'checkpointSchedule',
  'attestationSchedule',
  'attestationSweepSchedule',
] as const;
export type ContextKey = (typeof CONTEXT_KEYS)[number];

const email = z.string().trim().toLowerCase().pipe(z.email());
const emailList = z.preprocess(
  (value) => (typeof value === 'string' ? value.split(',').map((s) => s.trim()).filter(Boolean) : value),
  z.array(email),
);
const bool = z.preprocess((value) => (value === 'true' ? true : value === 'false' ? false : value), z.boolean());
const scheduleExpression = z.string().regex(/^(cron|rate|at)\(.+\)$/, 'an EventBridge Scheduler expression: cron(...), rate(...) or at(...)');
const retentionDays = z.coerce
  .number()
  .int()
  .refine((days) => (Object.values(RetentionDays) as unknown[]).includes(days), 'a CloudWatch Logs retention (1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, ...)');

const contextSchema = z.strictObject({
  prefix: z.string().regex(/^[a-z][a-z0-9-]{1,19}$/, 'lowercase letters, digits and -, 2 to 20 characters').default(DEFAULT_PREFIX),
  eventBusName: z
    .string()
    .regex(/^[\w.-]{1,256}$/, 'an EventBridge bus name (letters, digits, . _ -)')
    .refine((name) => name !== 'default', 'the governance bus is the stack\'s own: not the default bus')
    .optional(),
  eventProducerPrincipals: z.preprocess(
    (value) => (typeof value === 'string' ? value.split(',').map((s) => s.trim()).filter(Boolean) : value),
    z.array(z.string().regex(/^(\d{12}|arn:aws[a-z-]*:iam::\d{12}:(role|user)\/[\w+=,.@/-]+)$/, 'an account id (12 digits) or an IAM role or user ARN')).default([]),
  ),
  oktaEventSourceName: z.string().regex(/^aws\.partner\/okta\.com\/[\w.\-/]{1,200}$/, 'an Okta partner event source name (aws.partner/okta.com/...)').optional(),
  sesSender: email.optional(),
  approverEmails: emailList.default([]),
  sesSandbox: bool.default(true),
  policyPublicKey: z.string().optional(),
  policyPublicKeyFile: z.string().optional(),
  slackWebhookSecretArn: z.string().regex(/^arn:[\w-]+:secretsmanager:/, 'a Secrets Manager secret ARN').optional(),
  governedGroupPath: z.string().regex(/^\/([\w+=,.@-]+\/)*$/, 'an IAM path: "/" or "/a/b/"').default('/'),
  alarmEmail: email.optional(),
  memberRoleNames: z.preprocess(
    (value) => (typeof value === 'string' ? value.split(',').map((s) => s.trim()).filter(Boolean) : value),
    z.array(z.string().regex(/^[\w+=,.@-]{1,64}$/, 'an IAM role name')).min(1).default([DEFAULT_MEMBER_ROLE_NAME]),
  ),
  logRetentionDays: retentionDays.default(RetentionDays.THREE_MONTHS),
  reconcileSchedule: scheduleExpression.default('cron(0 3 * * ? *)'),
  finalizeSchedule: scheduleExpression.default('cron(30 3 * * ? *)'),
  // Compliance mode: nobody, root included, can delete a checkpoint or shorten this before it runs out.
  checkpointRetentionDays: z.coerce.number().int().min(1).max(36_500).default(400),
  checkpointSchedule: scheduleExpression.default('rate(1 hour)'),
  attestationSchedule: scheduleExpression.default('cron(0 9 1 1,4,7,10 ? *)'),
  attestationSweepSchedule: scheduleExpression.default('rate(1 hour)'),
});

/**
 * Validates raw context values (as `node.tryGetContext` returns them: strings from `-c`,
 * JSON values from cdk.json). Unknown keys are ignored here: cdk.json also carries feature flags.
 */
export function parseDeployConfig(read: (key: ContextKey) => unknown): DeployConfig {
  const raw = Object.fromEntries(CONTEXT_KEYS.flatMap((key) => (read(key) === undefined ? [] : [[key, read(key)]])));
  const parsed = contextSchema.safeParse(raw);
  if (!parsed.success) throw new DeployConfigError(`invalid CDK context: ${formatIssues(parsed.error)}`);
  const { policyPublicKeyFile, logRetentionDays, policyPublicKey, eventBusName, oktaEventSourceName, ...rest } = parsed.data;
  if (policyPublicKey && policyPublicKeyFile) throw new DeployConfigError('set policyPublicKey or policyPublicKeyFile, not both');
  const pem = policyPublicKeyFile ? readFileSync(path.resolve(PROJECT_ROOT, policyPublicKeyFile), 'utf8') : policyPublicKey;
  return {
    ...rest,
    eventBusName: eventBusName ?? `${rest.prefix}-governance`,
    ...(oktaEventSourceName === undefined ? {} : { oktaEventSourceName }),
    logRetention: logRetentionDays as RetentionDays,
    ...(pem === undefined ? {} : { policyPublicKey: checkedPolicyKey(pem) }),
  };
}

/** Refuses anything but an Ed25519 public key in PEM: runtimes would fail closed on every change. */
function checkedPolicyKey(pem: string): string {
  const text = pem.replace(/\\n/g, '\n').trim();
  let type: string | undefined;
  try {
    type = createPublicKey(text).asymmetricKeyType;
  } catch (error) {
    throw new DeployConfigError(`policyPublicKey: not a PEM public key (${(error as Error).message})`);
  }
  if (type !== 'ed25519') throw new DeployConfigError(`policyPublicKey: an Ed25519 key is required, got ${type ?? 'an unknown type'}`);
  return `${text}\n`;
}

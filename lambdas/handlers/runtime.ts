import { Logger } from '@aws-lambda-powertools/logger';
import { z } from 'zod';
import { createConnectorContext } from '../connectors/clients.js';
import type { ConnectorContext } from '../connectors/types.js';
import { formatIssues } from '../domain/events.js';
import type { SignedPolicy } from '../domain/policy-signature.js';
import { AppError } from '../domain/reasons.js';
import { ChangeStore } from '../stores/change-store.js';
import { createDocumentClient } from '../stores/dynamo.js';
import { SQSClient } from '@aws-sdk/client-sqs';
import { EvidenceOutbox } from '../stores/evidence-outbox.js';
import { EvidenceStore } from '../stores/evidence-store.js';
import { PlanStore } from '../stores/plan-store.js';
import { PolicyStore } from '../stores/policy-store.js';
import { createCheckpointStore, type CheckpointStore } from '../stores/checkpoint-store.js';
import type { ActionTarget, Plan } from '../domain/plan-model.js';
import { governedAccount, partitionOfRegion, type HomeAccount } from '../domain/accounts.js';
import { AccountSessions, type SessionAccess } from '../connectors/account-sessions.js';

const envSchema = z.object({
  NHIGOV_TABLE_EVIDENCE: z.string().min(1),
  NHIGOV_TABLE_CHANGES: z.string().min(1),
  NHIGOV_TABLE_ACTIONS: z.string().min(1),
  NHIGOV_TABLE_PLANS: z.string().min(1),
  NHIGOV_TABLE_POLICIES: z.string().min(1),
  NHIGOV_TABLE_APPROVALS: z.string().min(1).optional(),
  /** PEM of the Ed25519 key policies must be signed with. */
  NHIGOV_POLICY_PUBLIC_KEY: z.string().min(1),
  /** The name this runtime reports its policy version under (lag detection). */
  NHIGOV_RUNTIME_NAME: z.string().min(1).default('lambda'),
  NHIGOV_CHANGE_STATE_MACHINE_ARN: z.string().optional(),
  /** Secrets Manager secret (ARN or name) holding the key approval links are signed with. */
  NHIGOV_APPROVAL_HMAC_SECRET_ARN: z.string().min(1).optional(),
  /** Secrets Manager secret (ARN or name) holding the Slack incoming-webhook URL; unset: no Slack. */
  NHIGOV_SLACK_WEBHOOK_SECRET_ARN: z.string().min(1).optional(),
  /** The SES identity approval and escalation mail comes from; unset: no email. */
  NHIGOV_SES_SENDER: z.string().min(1).optional(),
  /** Where approval links point (the approval API's function URL, or the local gateway). */
  NHIGOV_APPROVAL_BASE_URL: z.string().url().optional(),
  /** The Object-Locked bucket evidence checkpoints go to, and the KMS key they are signed with (capabilities checkpointRead / checkpointWrite). */
  NHIGOV_CHECKPOINT_BUCKET: z.string().min(1).optional(),
  NHIGOV_CHECKPOINT_KEY_ARN: z.string().min(1).optional(),
  /** The FIFO queue evidence drafts are handed to the evidence writer through (capability evidenceAppend). */
  NHIGOV_EVIDENCE_QUEUE_URL: z.string().min(1).optional(),
  /** The account and partition the stack runs in (always governed; connectors act there with their own role). */
  NHIGOV_ACCOUNT_ID: z.string().regex(/^\d{12}$/).optional(),
  NHIGOV_PARTITION: z.string().min(1).optional(),
  AWS_REGION: z.string().min(1).default('us-east-1'),
});
export type RuntimeEnv = z.infer<typeof envSchema>;

export interface Runtime {
  readonly env: RuntimeEnv;
  readonly logger: Logger;
  /** Appending: drafts go to the evidence writer (the only role that may put evidence items). */
  readonly evidence: EvidenceOutbox;
  /** Reading the evidence table. */
  readonly trail: EvidenceStore;
  readonly changes: ChangeStore;
  readonly plans: PlanStore;
  readonly policies: PolicyStore;
  /** Connectors in the stack's own account. */
  readonly connectors: ConnectorContext;
  /** The stack's own account; null when the function was deployed without NHIGOV_ACCOUNT_ID (then it acts only there). */
  readonly home: HomeAccount | null;
  /** Connectors in any governed account (member roles assumed with the change id as session name). */
  readonly sessions: AccountSessions;
  /**
   * The connector context a target of `plan` is acted on in: its account, governed under the plan's
   * policy version; CONNECTOR_ACCESS_DENIED naming the account when it is not governed or its role refuses.
   */
  connectorsFor(plan: Pick<Plan, 'changeId' | 'policyVersion'>, target: Pick<ActionTarget, 'account'>, access: SessionAccess): Promise<ConnectorContext>;
  /** Evidence checkpoints; null when the stack has none configured for this function. */
  readonly checkpoints: CheckpointStore | null;
  /** The active policy, verified against the trusted key; fails closed with POLICY_INVALID. */
  loadPolicy(): Promise<SignedPolicy>;
  /**
   * The policy a change was planned under (its version is in the plan), verified; versions are
   * immutable, so cached. Later steps of a change decide with it, not with whatever is active now.
   */
  loadPolicyVersion(version: string): Promise<SignedPolicy>;
  /** Plans are immutable: cached by hash. */
  loadPlan(planHash: string): Promise<Plan>;
}

let cached: Runtime | undefined;

/** One runtime per process (Lambda cold start, or the local gateway). */
export function runtime(): Runtime {
  if (cached) return cached;
  const parsed = envSchema.safeParse(process.env);
  if (!parsed.success) throw new AppError('INPUT_INVALID', `handler configuration is incomplete: ${formatIssues(parsed.error)}`);
  const env = parsed.data;
  const db = createDocumentClient();
  const policies = new PolicyStore(db, env.NHIGOV_TABLE_POLICIES);
  const plans = new PlanStore(db, env.NHIGOV_TABLE_PLANS);
  const trail = new EvidenceStore(db, env.NHIGOV_TABLE_EVIDENCE);
  const planCache = new Map<string, Promise<Plan>>();
  const versionCache = new Map<string, Promise<SignedPolicy>>();
  const connectors = createConnectorContext();
  const home: HomeAccount | null = env.NHIGOV_ACCOUNT_ID ? { id: env.NHIGOV_ACCOUNT_ID, partition: env.NHIGOV_PARTITION ?? partitionOfRegion(env.AWS_REGION) } : null;
  const sessions = new AccountSessions(connectors);
  const loadPolicyVersion = (version: string): Promise<SignedPolicy> => {
    let signed = versionCache.get(version);
    if (!signed) {
      signed = policies.loadVerifiedVersion(version, env.NHIGOV_POLICY_PUBLIC_KEY);
      signed.catch(() => versionCache.delete(version));
      versionCache.set(version, signed);
    }
    return signed;
  };
  const checkpoints =
    env.NHIGOV_CHECKPOINT_BUCKET && env.NHIGOV_CHECKPOINT_KEY_ARN ? createCheckpointStore({ bucket: env.NHIGOV_CHECKPOINT_BUCKET, keyArn: env.NHIGOV_CHECKPOINT_KEY_ARN }) : null;
  cached = {
    env,
    logger: new Logger({ serviceName: 'nhi-governor' }),
    // The queue's URL names the service, not an endpoint: keep calls on the configured one (the local gateway counts them).
    evidence: new EvidenceOutbox(new SQSClient({ useQueueUrlAsEndpoint: false }), env.NHIGOV_EVIDENCE_QUEUE_URL ?? null, trail),
    trail,
    changes: new ChangeStore(db, env.NHIGOV_TABLE_CHANGES, env.NHIGOV_TABLE_ACTIONS),
    plans,
    policies,
    connectors,
    home,
    sessions,
    checkpoints,
    async connectorsFor(plan, target, access) {
      if (target.account === undefined || target.account === home?.id) return connectors;
      if (!home) throw new AppError('INPUT_INVALID', `handler configuration is incomplete: NHIGOV_ACCOUNT_ID is not set, so account ${target.account} cannot be told from the stack's own`);
      const signed = await loadPolicyVersion(plan.policyVersion);
      return sessions.contextIn(governedAccount(signed.policy, home, target.account), plan.changeId, access);
    },
    async loadPolicy() {
      // Verifies (fail closed), records this runtime's version, emits PolicyVersionLag (EMF).
      const { loadActivePolicy } = await import('./policy-metrics.js');
      return loadActivePolicy(policies, {
        publicKeyPem: env.NHIGOV_POLICY_PUBLIC_KEY,
        runtime: env.NHIGOV_RUNTIME_NAME,
        // The newest policy ever activated, from the signed checkpoint chain: a writer of the policies table cannot lower it.
        ...(checkpoints ? { mark: async () => (await checkpoints.latest())?.body.policy ?? null } : {}),
        warn: (message, error) => cached?.logger.warn(message, { error: String(error) }),
      });
    },
    loadPolicyVersion,
    loadPlan(planHash) {
      // The promise is cached, so the parallel actions of one plan read it once.
      let plan = planCache.get(planHash);
      if (!plan) {
        plan = plans.get(planHash);
        plan.catch(() => planCache.delete(planHash));
        planCache.set(planHash, plan);
      }
      return plan;
    },
  };
  return cached;
}

/** Parses a handler's input; bad input is INPUT_INVALID (a misconfigured workflow, not a retry). */
export function parseInput<T>(schema: z.ZodType<T>, input: unknown, handler: string): T {
  const parsed = schema.safeParse(input);
  if (!parsed.success) throw new AppError('INPUT_INVALID', `${handler}: ${formatIssues(parsed.error)}`);
  return parsed.data;
}

export const AUTOMATION_ACTOR = 'nhigov:automation';

/**
 * The one description of what the stack contains, shared by the CDK app (infra/lib) and the
 * local deploy (local/deploy.ts). Plain data: no CDK and no AWS SDK here.
 */
import { EVENT_DETAIL_TYPES, eventPattern, type EventDetailType } from '../lambdas/domain/events.js';
import { SIGNAL_SOURCES, type RuleBus } from '../lambdas/domain/signals/index.js';

export interface TableDefinition {
  /** Logical id; the physical name is `${prefix}-${id}`. */
  readonly id: 'evidence' | 'changes' | 'actions' | 'plans' | 'approvals' | 'policies';
  readonly partitionKey: { readonly name: string; readonly type: 'S' | 'N' };
  readonly sortKey?: { readonly name: string; readonly type: 'S' | 'N' };
  readonly indexes: ReadonlyArray<{
    readonly name: string;
    readonly partitionKey: { readonly name: string; readonly type: 'S' | 'N' };
    readonly sortKey?: { readonly name: string; readonly type: 'S' | 'N' };
  }>;
  readonly timeToLiveAttribute?: string;
  /**
   * Append-only: no principal may delete or update its items (a resource-policy deny); runtime
   * roles get PutItem only, which IAM cannot stop from replacing an item (the stores never do).
   */
  readonly appendOnly: boolean;
}

export const TABLES: readonly TableDefinition[] = [
  {
    id: 'evidence',
    partitionKey: { name: 'changeId', type: 'S' },
    sortKey: { name: 'seq', type: 'N' },
    indexes: [
      { name: 'byNhi', partitionKey: { name: 'nhi', type: 'S' }, sortKey: { name: 'at', type: 'S' } },
      { name: 'byDay', partitionKey: { name: 'day', type: 'S' }, sortKey: { name: 'at', type: 'S' } },
    ],
    appendOnly: true,
  },
  {
    id: 'changes',
    partitionKey: { name: 'changeId', type: 'S' },
    indexes: [{ name: 'byKind', partitionKey: { name: 'kind', type: 'S' }, sortKey: { name: 'createdAt', type: 'S' } }],
    appendOnly: false,
  },
  // Each action's outcome as its own item: a change's record stays the same size however many actions it has.
  { id: 'actions', partitionKey: { name: 'changeId', type: 'S' }, sortKey: { name: 'actionId', type: 'S' }, indexes: [], appendOnly: false },
  { id: 'plans', partitionKey: { name: 'planHash', type: 'S' }, indexes: [], appendOnly: true },
  { id: 'approvals', partitionKey: { name: 'approvalId', type: 'S' }, indexes: [], timeToLiveAttribute: 'expiresAtEpoch', appendOnly: false },
  { id: 'policies', partitionKey: { name: 'pk', type: 'S' }, sortKey: { name: 'sk', type: 'S' }, indexes: [], appendOnly: false },
];

export type TableId = TableDefinition['id'];

/**
 * How a function may use a table (infra/lib/tables.ts renders each mode as IAM actions):
 * - `read`: get, query, scan.
 * - `append`: read the chain head and put new items; never update or delete (append-only tables).
 *   On evidence, only the evidence writer has it: every other function hands its drafts over
 *   (capability `evidenceAppend`).
 * - `readRecordRuntime`: `read`, plus PutItem / UpdateItem on the items whose partition key is
 *   `RUNTIME` only (a `dynamodb:LeadingKeys` condition). For the policies table: what
 *   `loadPolicy()` needs to record the version this runtime decides with (or its refusal),
 *   without the power to change which policy is ACTIVE.
 * - `readUpdate`: `read` plus PutItem / UpdateItem: create and update items, never delete them
 *   (no DeleteItem, no BatchWriteItem, which can delete). What the changes and approvals stores do.
 * - `readWrite`: every item operation, deletes included. Refused on append-only tables; no store
 *   deletes items today, so no function declares it.
 */
export type TableAccess = 'read' | 'append' | 'readRecordRuntime' | 'readUpdate' | 'readWrite';

/**
 * Which connector policies a function's role gets (infra/lib/connector-policy.ts renders them from
 * each connector action's declared `permissions`):
 * - `none`: no IAM / Secrets Manager access;
 * - `read`: the read side of every declaration plus the snapshot reads (plan, stale checks, verify);
 * - `readWrite`: `read` plus the write side: the one function that runs `write`.
 */
export type ConnectorAccess = 'none' | 'read' | 'readWrite';

/** Partition key of the items `readRecordRuntime` may write (PolicyStore.recordRuntime / recordRefusal). */
export const RUNTIME_RECORD_PARTITION = 'RUNTIME';

/** What a function calls besides its tables and connectors; each is one grant plus its environment (infra/lib/capabilities.ts). */
export const FUNCTION_CAPABILITIES = ['startChange', 'startRollback', 'taskResponse', 'sendEmail', 'slackWebhook', 'approvalKey', 'checkpointRead', 'checkpointWrite', 'evidenceAppend'] as const;
export type FunctionCapability = (typeof FUNCTION_CAPABILITIES)[number];

export interface FunctionDefinition {
  /** Logical name; the function name is `${prefix}-${name}`; the bundle is dist/handlers/${name}.mjs. */
  readonly name: string;
  readonly entry: string;
  readonly description: string;
  readonly timeoutSeconds: number;
  /** Reserved concurrency: a cap on concurrent invocations (a public endpoint cannot take the account's pool). @default none */
  readonly reservedConcurrency?: number;
  readonly tables: ReadonlyArray<{ readonly id: TableId; readonly access: TableAccess }>;
  /** How it calls IAM / Secrets Manager through connectors (ConnectorAccess). */
  readonly connector: ConnectorAccess;
  /**
   * Capabilities beyond tables and connectors; the CDK stack grants each one and sets its
   * environment (the local deploy ignores this field: moto does not enforce IAM). @default none
   * - `startChange` / `startRollback`: states:StartExecution on the change / rollback state machine.
   * - `taskResponse`: states:SendTaskSuccess / SendTaskFailure / SendTaskHeartbeat on the stack's state machines.
   * - `sendEmail`: ses:SendEmail from the configured sender only; env NHIGOV_SES_SENDER, NHIGOV_APPROVAL_BASE_URL.
   * - `slackWebhook`: read the Slack webhook secret; env NHIGOV_SLACK_WEBHOOK_SECRET_ARN, NHIGOV_APPROVAL_BASE_URL.
   * - `approvalKey`: read the approval-link signing key; env NHIGOV_APPROVAL_HMAC_SECRET_ARN.
   * - `checkpointRead`: read evidence checkpoints (the policy high-water mark) and the checkpoint key's public half; env NHIGOV_CHECKPOINT_BUCKET, NHIGOV_CHECKPOINT_KEY_ARN.
   * - `checkpointWrite`: `checkpointRead`, plus put new checkpoints and kms:Sign with the checkpoint key (no other function may sign with it).
   * - `evidenceAppend`: hand evidence drafts to the evidence writer (sqs:SendMessage on the evidence queue); env NHIGOV_EVIDENCE_QUEUE_URL.
   *   Only the writer (EVIDENCE_WRITER_FUNCTION) holds `append` on the evidence table.
   */
  readonly uses?: readonly FunctionCapability[];
}

/** The function the attestation schedules and `nhigov attest` invoke. */
export const ATTESTATION_FUNCTION = 'attestation';

export const FUNCTIONS: readonly FunctionDefinition[] = [
  { name: 'ingest', entry: 'lambdas/handlers/ingest.ts', description: 'Validates events and starts one change per event id', timeoutSeconds: 30, tables: [{ id: 'changes', access: 'read' }, { id: 'evidence', access: 'read' }], connector: 'none', uses: ['startChange'] },
  { name: 'plan', entry: 'lambdas/handlers/plan.ts', description: 'Reads live state, evaluates the signed policy and stores the plan', timeoutSeconds: 300, tables: [{ id: 'evidence', access: 'read' }, { id: 'changes', access: 'readUpdate' }, { id: 'actions', access: 'read' }, { id: 'plans', access: 'append' }, { id: 'policies', access: 'readRecordRuntime' }], connector: 'read', uses: ['evidenceAppend', 'checkpointRead'] },
  { name: 'check-stale', entry: 'lambdas/handlers/check-stale.ts', description: 'Re-reads every fingerprint; PLAN_STALE when the target moved', timeoutSeconds: 300, tables: [{ id: 'evidence', access: 'read' }, { id: 'changes', access: 'readUpdate' }, { id: 'actions', access: 'readUpdate' }, { id: 'plans', access: 'read' }, { id: 'policies', access: 'read' }], connector: 'read', uses: ['evidenceAppend'] },
  { name: 'write-action', entry: 'lambdas/handlers/write-action.ts', description: 'Writes one plan action (idempotent)', timeoutSeconds: 60, tables: [{ id: 'evidence', access: 'read' }, { id: 'changes', access: 'readUpdate' }, { id: 'actions', access: 'readUpdate' }, { id: 'plans', access: 'read' }], connector: 'readWrite', uses: ['evidenceAppend'] },
  { name: 'verify-action', entry: 'lambdas/handlers/verify-action.ts', description: 'Reads one action target back until it shows the new state', timeoutSeconds: 900, tables: [{ id: 'evidence', access: 'read' }, { id: 'changes', access: 'readUpdate' }, { id: 'actions', access: 'readUpdate' }, { id: 'plans', access: 'read' }, { id: 'policies', access: 'read' }], connector: 'read', uses: ['evidenceAppend'] },
  { name: 'check-intent', entry: 'lambdas/handlers/check-intent.ts', description: 'After Apply: re-plans the trigger on the live state of the NHIs the change touched; new work is appended and applied under the same decision or after a new approval of it; escalated (INTENT_NOT_HELD) when refused or still there', timeoutSeconds: 900, tables: [{ id: 'evidence', access: 'read' }, { id: 'changes', access: 'readUpdate' }, { id: 'plans', access: 'append' }, { id: 'policies', access: 'read' }], connector: 'read', uses: ['evidenceAppend'] },
  { name: 'summarize', entry: 'lambdas/handlers/summarize.ts', description: 'Decides the outcome from the per-action results and the policy', timeoutSeconds: 60, tables: [{ id: 'evidence', access: 'read' }, { id: 'changes', access: 'readUpdate' }, { id: 'actions', access: 'read' }, { id: 'plans', access: 'read' }, { id: 'policies', access: 'read' }], connector: 'none', uses: ['evidenceAppend'] },
  { name: 'complete', entry: 'lambdas/handlers/complete.ts', description: 'Records the terminal status of a change; emails the owner routes of an escalation', timeoutSeconds: 60, tables: [{ id: 'evidence', access: 'read' }, { id: 'changes', access: 'readUpdate' }, { id: 'plans', access: 'read' }, { id: 'policies', access: 'readRecordRuntime' }], connector: 'none', uses: ['evidenceAppend', 'sendEmail', 'checkpointWrite'] },
  { name: 'request-approval', entry: 'lambdas/handlers/request-approval.ts', description: 'Callback task: stores the task token under a hashed nonce and sends each approver a signed link (SES, Slack)', timeoutSeconds: 60, tables: [{ id: 'evidence', access: 'read' }, { id: 'changes', access: 'readUpdate' }, { id: 'plans', access: 'read' }, { id: 'policies', access: 'readRecordRuntime' }, { id: 'approvals', access: 'readUpdate' }], connector: 'none', uses: ['evidenceAppend', 'sendEmail', 'slackWebhook', 'approvalKey', 'checkpointRead'] },
  { name: 'approval-api', entry: 'lambdas/handlers/approval-api.ts', description: 'Approval links: GET shows the plan, POST decides once and answers the waiting task', timeoutSeconds: 30, reservedConcurrency: 5, tables: [{ id: 'evidence', access: 'read' }, { id: 'changes', access: 'readUpdate' }, { id: 'plans', access: 'read' }, { id: 'approvals', access: 'readUpdate' }], connector: 'none', uses: ['evidenceAppend', 'approvalKey', 'taskResponse'] },
  { name: 'rollback-plan', entry: 'lambdas/handlers/rollback-plan.ts', description: 'Checks a rollback request and stores its plan: the verified reversible actions of a past change, inverted', timeoutSeconds: 60, tables: [{ id: 'evidence', access: 'read' }, { id: 'changes', access: 'readUpdate' }, { id: 'actions', access: 'read' }, { id: 'plans', access: 'append' }, { id: 'policies', access: 'readRecordRuntime' }], connector: 'none', uses: ['evidenceAppend', 'checkpointRead'] },
  { name: 'rollback-start', entry: 'lambdas/handlers/rollback-start.ts', description: 'After approval, re-reads each target of a rollback: undo, already restored, or moved (PLAN_STALE)', timeoutSeconds: 300, tables: [{ id: 'evidence', access: 'read' }, { id: 'changes', access: 'readUpdate' }, { id: 'actions', access: 'readUpdate' }, { id: 'plans', access: 'read' }], connector: 'read', uses: ['evidenceAppend'] },
  { name: 'rollback-settle', entry: 'lambdas/handlers/rollback-settle.ts', description: 'Decides a rollback outcome and links it on the rolled-back change', timeoutSeconds: 60, tables: [{ id: 'evidence', access: 'read' }, { id: 'changes', access: 'readUpdate' }, { id: 'actions', access: 'readUpdate' }, { id: 'plans', access: 'read' }], connector: 'none', uses: ['evidenceAppend'] },
  { name: 'finalize-plan', entry: 'lambdas/handlers/finalize-plan.ts', description: 'Finds keys deactivated past the grace period, not rolled back, still inactive, and plans their deletion', timeoutSeconds: 300, tables: [{ id: 'evidence', access: 'read' }, { id: 'changes', access: 'readUpdate' }, { id: 'actions', access: 'read' }, { id: 'plans', access: 'append' }, { id: 'policies', access: 'readRecordRuntime' }], connector: 'read', uses: ['evidenceAppend', 'checkpointRead'] },
  { name: 'finalize-settle', entry: 'lambdas/handlers/finalize-settle.ts', description: 'Links each verified deletion on the finalize run and on the change it finalizes', timeoutSeconds: 60, tables: [{ id: 'evidence', access: 'read' }, { id: 'changes', access: 'readUpdate' }, { id: 'actions', access: 'read' }, { id: 'plans', access: 'read' }, { id: 'policies', access: 'readRecordRuntime' }], connector: 'none', uses: ['evidenceAppend', 'checkpointRead'] },
  { name: 'attestation', entry: 'lambdas/handlers/attestation.ts', description: 'Owner attestation: opens a campaign (schedule, nhigov attest start) mailing each owner their signed link; sweeps open campaigns (escalations, follow-up changes, closing)', timeoutSeconds: 300, tables: [{ id: 'evidence', access: 'read' }, { id: 'changes', access: 'readUpdate' }, { id: 'policies', access: 'readRecordRuntime' }], connector: 'read', uses: ['evidenceAppend', 'sendEmail', 'approvalKey', 'startChange', 'checkpointRead'] },
  { name: 'evidence-writer', entry: 'lambdas/handlers/evidence-writer.ts', description: 'The one writer of the evidence table: seals the drafts handed over through the evidence queue (FIFO, one group per change) onto each chain', timeoutSeconds: 60, tables: [{ id: 'evidence', access: 'append' }], connector: 'none' },
  { name: 'checkpoint', entry: 'lambdas/handlers/checkpoint.ts', description: 'Hourly (and on demand): signs a checkpoint of the evidence heads of the changes in flight and the policy high-water mark', timeoutSeconds: 120, tables: [{ id: 'evidence', access: 'read' }, { id: 'changes', access: 'read' }, { id: 'policies', access: 'read' }], connector: 'none', uses: ['checkpointWrite'] },
];

export interface StateMachineDefinition {
  readonly id: 'change' | 'rollback' | 'finalize';
  readonly file: string;
  /** `${Name}` in the ASL → the ARN of a function of FUNCTIONS, or a literal. */
  readonly functionSubstitutions: Readonly<Record<string, string>>;
}

export const STATE_MACHINES: readonly StateMachineDefinition[] = [
  {
    id: 'change',
    file: 'statemachines/change.asl.json',
    functionSubstitutions: {
      PlanFunctionArn: 'plan',
      CheckStaleFunctionArn: 'check-stale',
      CheckIntentFunctionArn: 'check-intent',
      WriteActionFunctionArn: 'write-action',
      VerifyActionFunctionArn: 'verify-action',
      SummarizeFunctionArn: 'summarize',
      CompleteFunctionArn: 'complete',
      RequestApprovalFunctionArn: 'request-approval',
    },
  },
  {
    id: 'rollback',
    file: 'statemachines/rollback.asl.json',
    functionSubstitutions: {
      RollbackPlanFunctionArn: 'rollback-plan',
      RequestApprovalFunctionArn: 'request-approval',
      RollbackStartFunctionArn: 'rollback-start',
      WriteActionFunctionArn: 'write-action',
      VerifyActionFunctionArn: 'verify-action',
      RollbackSettleFunctionArn: 'rollback-settle',
      CompleteFunctionArn: 'complete',
    },
  },
  {
    id: 'finalize',
    file: 'statemachines/finalize.asl.json',
    functionSubstitutions: {
      FinalizePlanFunctionArn: 'finalize-plan',
      WriteActionFunctionArn: 'write-action',
      VerifyActionFunctionArn: 'verify-action',
      FinalizeSettleFunctionArn: 'finalize-settle',
      CompleteFunctionArn: 'complete',
    },
  },
];

/** One EventBridge rule per event type of the contract, all targeting the ingest queue. */
export interface EventRuleDefinition {
  readonly id: string;
  /** The detail-type the rule takes (a provider's for a signal). */
  readonly detailType: string;
  /** The four custom event types: producers put them on the governance bus. */
  readonly custom: boolean;
  /**
   * Where the rule listens: `governance`, the stack's own bus only the allowed producers may put to;
   * `default`, where AWS services deliver (aws.* sources); `okta`, Okta's partner bus, when connected.
   */
  readonly bus: RuleBus;
  readonly pattern: Readonly<Record<string, unknown>>;
  readonly description: string;
}

/** One EventBridge rule per custom event type and per provider signal, all targeting the ingest queue. */
export const EVENT_RULES: readonly EventRuleDefinition[] = [
  ...EVENT_DETAIL_TYPES.map((detailType: EventDetailType) => ({
    id: detailType.replace(/\s+/g, ''),
    detailType,
    custom: true,
    bus: 'governance' as const,
    pattern: eventPattern(detailType),
    description: `"${detailType}" events`,
  })),
  ...SIGNAL_SOURCES.map((signal) => ({ id: signal.id, detailType: signal.detailType, custom: false, bus: signal.bus, pattern: signal.pattern, description: `${signal.name} signals` })),
];

export const DEFAULT_PREFIX = 'nhigov';

/** The function that consumes the evidence queue: the only role that may put evidence items. */
export const EVIDENCE_WRITER_FUNCTION = 'evidence-writer';

/** The evidence queue (FIFO, one group per change), for CDK (infra/lib/evidence-queue.ts) and the local deploy. */
export const EVIDENCE_QUEUE = {
  /** SQS's largest message (1 MiB): no draft is refused that fits a DynamoDB item (400 KB). */
  maxMessageBytes: 1_048_576,
  /** Deliveries of a draft before it moves to the dead-letter queue (and the alarm fires). */
  maxReceives: 10,
} as const;

export function physicalName(prefix: string, id: string): string {
  return `${prefix}-${id}`;
}

/** Environment variable names handlers read their table names from. */
export function tableEnvName(id: TableId): string {
  return `NHIGOV_TABLE_${id.toUpperCase()}`;
}

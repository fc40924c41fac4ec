/**
 * The one description of what the stack contains, shared by the CDK app (infra/lib) and the
 * local deploy (local/deploy.ts). Plain data: no CDK and no AWS SDK here.
 */
import { EVENT_DETAIL_TYPES, eventPattern, type EventDetailType } from '../lambdas/domain/events.js';

export interface TableDefinition {
  /** Logical id; the physical name is `${prefix}-${id}`. */
  readonly id: 'evidence' | 'changes' | 'plans' | 'approvals' | 'policies';
  readonly partitionKey: { readonly name: string; readonly type: 'S' | 'N' };
  readonly sortKey?: { readonly name: string; readonly type: 'S' | 'N' };
  readonly indexes: ReadonlyArray<{
    readonly name: string;
    readonly partitionKey: { readonly name: string; readonly type: 'S' | 'N' };
    readonly sortKey?: { readonly name: string; readonly type: 'S' | 'N' };
  }>;
  readonly timeToLiveAttribute?: string;
  /** Append-only: no runtime role may delete or overwrite its items. */
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
  { id: 'plans', partitionKey: { name: 'planHash', type: 'S' }, indexes: [], appendOnly: true },
  { id: 'approvals', partitionKey: { name: 'approvalId', type: 'S' }, indexes: [], timeToLiveAttribute: 'expiresAtEpoch', appendOnly: false },
  { id: 'policies', partitionKey: { name: 'pk', type: 'S' }, sortKey: { name: 'sk', type: 'S' }, indexes: [], appendOnly: false },
];

export type TableId = TableDefinition['id'];

/**
 * How a function may use a table (infra/lib/tables.ts renders each mode as IAM actions):
 * - `read`: get, query, scan.
 * - `append`: read the chain head and put new items; never update or delete (append-only tables).
 *   A function that appends evidence also needs `readWrite` on changes: seqs come from a counter
 *   on the change item (the stack refuses the definition otherwise).
 * - `readRecordRuntime`: `read`, plus PutItem / UpdateItem on the items whose partition key is
 *   `RUNTIME` only (a `dynamodb:LeadingKeys` condition). For the policies table: what
 *   `loadPolicy()` needs to record the version this runtime decides with (or its refusal),
 *   without the power to change which policy is ACTIVE.
 * - `readWrite`: every item operation, deletes included. Refused on append-only tables.
 */
export type TableAccess = 'read' | 'append' | 'readRecordRuntime' | 'readWrite';

/** Partition key of the items `readRecordRuntime` may write (PolicyStore.recordRuntime / recordRefusal). */
export const RUNTIME_RECORD_PARTITION = 'RUNTIME';

/** What a function calls besides its tables and connectors; each is one grant plus its environment (infra/lib/capabilities.ts). */
export const FUNCTION_CAPABILITIES = ['startChange', 'startRollback', 'taskResponse', 'sendEmail', 'slackWebhook', 'approvalKey'] as const;
export type FunctionCapability = (typeof FUNCTION_CAPABILITIES)[number];

export interface FunctionDefinition {
  /** Logical name; the function name is `${prefix}-${name}`; the bundle is dist/handlers/${name}.mjs. */
  readonly name: string;
  readonly entry: string;
  readonly description: string;
  readonly timeoutSeconds: number;
  readonly tables: ReadonlyArray<{ readonly id: TableId; readonly access: TableAccess }>;
  /** Calls IAM / Secrets Manager through connectors (gets the connector role's permissions). */
  readonly connector: boolean;
  /**
   * Capabilities beyond tables and connectors; the CDK stack grants each one and sets its
   * environment (the local deploy ignores this field: moto does not enforce IAM). @default none
   * - `startChange` / `startRollback`: states:StartExecution on the change / rollback state machine.
   * - `taskResponse`: states:SendTaskSuccess / SendTaskFailure / SendTaskHeartbeat on the stack's state machines.
   * - `sendEmail`: ses:SendEmail from the configured sender only; env NHIGOV_SES_SENDER, NHIGOV_APPROVAL_BASE_URL.
   * - `slackWebhook`: read the Slack webhook secret; env NHIGOV_SLACK_WEBHOOK_SECRET_ARN, NHIGOV_APPROVAL_BASE_URL.
   * - `approvalKey`: read the approval-link signing key; env NHIGOV_APPROVAL_HMAC_SECRET_ARN.
   */
  readonly uses?: readonly FunctionCapability[];
}

export const FUNCTIONS: readonly FunctionDefinition[] = [
  { name: 'ingest', entry: 'lambdas/handlers/ingest.ts', description: 'Validates events and starts one change per event id', timeoutSeconds: 30, tables: [{ id: 'changes', access: 'read' }], connector: false, uses: ['startChange'] },
  { name: 'plan', entry: 'lambdas/handlers/plan.ts', description: 'Reads live state, evaluates the signed policy and stores the plan', timeoutSeconds: 300, tables: [{ id: 'evidence', access: 'append' }, { id: 'changes', access: 'readWrite' }, { id: 'plans', access: 'append' }, { id: 'policies', access: 'readRecordRuntime' }], connector: true },
  { name: 'check-stale', entry: 'lambdas/handlers/check-stale.ts', description: 'Re-reads every fingerprint; PLAN_STALE when the target moved', timeoutSeconds: 300, tables: [{ id: 'evidence', access: 'append' }, { id: 'changes', access: 'readWrite' }, { id: 'plans', access: 'read' }, { id: 'policies', access: 'read' }], connector: true },
  { name: 'write-action', entry: 'lambdas/handlers/write-action.ts', description: 'Writes one plan action (idempotent)', timeoutSeconds: 60, tables: [{ id: 'evidence', access: 'append' }, { id: 'changes', access: 'readWrite' }, { id: 'plans', access: 'read' }], connector: true },
  { name: 'verify-action', entry: 'lambdas/handlers/verify-action.ts', description: 'Reads one action target back until it shows the new state', timeoutSeconds: 900, tables: [{ id: 'evidence', access: 'append' }, { id: 'changes', access: 'readWrite' }, { id: 'plans', access: 'read' }, { id: 'policies', access: 'read' }], connector: true },
  { name: 'summarize', entry: 'lambdas/handlers/summarize.ts', description: 'Decides the outcome from the per-action results and the policy', timeoutSeconds: 60, tables: [{ id: 'evidence', access: 'append' }, { id: 'changes', access: 'readWrite' }, { id: 'plans', access: 'read' }, { id: 'policies', access: 'read' }], connector: false },
  { name: 'complete', entry: 'lambdas/handlers/complete.ts', description: 'Records the terminal status of a change; emails the owner routes of an escalation', timeoutSeconds: 60, tables: [{ id: 'evidence', access: 'append' }, { id: 'changes', access: 'readWrite' }, { id: 'plans', access: 'read' }, { id: 'policies', access: 'readRecordRuntime' }], connector: false, uses: ['sendEmail'] },
  { name: 'request-approval', entry: 'lambdas/handlers/request-approval.ts', description: 'Callback task: stores the task token under a hashed nonce and sends each approver a signed link (SES, Slack)', timeoutSeconds: 60, tables: [{ id: 'evidence', access: 'append' }, { id: 'changes', access: 'readWrite' }, { id: 'plans', access: 'read' }, { id: 'policies', access: 'readRecordRuntime' }, { id: 'approvals', access: 'readWrite' }], connector: false, uses: ['sendEmail', 'slackWebhook', 'approvalKey'] },
  { name: 'approval-api', entry: 'lambdas/handlers/approval-api.ts', description: 'Approval links: GET shows the plan, POST decides once and answers the waiting task', timeoutSeconds: 30, tables: [{ id: 'evidence', access: 'append' }, { id: 'changes', access: 'readWrite' }, { id: 'plans', access: 'read' }, { id: 'approvals', access: 'readWrite' }], connector: false, uses: ['approvalKey', 'taskResponse'] },
  { name: 'rollback-plan', entry: 'lambdas/handlers/rollback-plan.ts', description: 'Checks a rollback request and stores its plan: the verified reversible actions of a past change, inverted', timeoutSeconds: 60, tables: [{ id: 'evidence', access: 'append' }, { id: 'changes', access: 'readWrite' }, { id: 'plans', access: 'append' }, { id: 'policies', access: 'readRecordRuntime' }], connector: false },
  { name: 'rollback-start', entry: 'lambdas/handlers/rollback-start.ts', description: 'After approval, re-reads each target of a rollback: undo, already restored, or moved (PLAN_STALE)', timeoutSeconds: 300, tables: [{ id: 'evidence', access: 'append' }, { id: 'changes', access: 'readWrite' }, { id: 'plans', access: 'read' }], connector: true },
  { name: 'rollback-settle', entry: 'lambdas/handlers/rollback-settle.ts', description: 'Decides a rollback outcome and links it on the rolled-back change', timeoutSeconds: 60, tables: [{ id: 'evidence', access: 'append' }, { id: 'changes', access: 'readWrite' }, { id: 'plans', access: 'read' }], connector: false },
  { name: 'finalize-plan', entry: 'lambdas/handlers/finalize-plan.ts', description: 'Finds keys deactivated past the grace period, not rolled back, still inactive, and plans their deletion', timeoutSeconds: 300, tables: [{ id: 'evidence', access: 'append' }, { id: 'changes', access: 'readWrite' }, { id: 'plans', access: 'append' }, { id: 'policies', access: 'readRecordRuntime' }], connector: true },
  { name: 'finalize-settle', entry: 'lambdas/handlers/finalize-settle.ts', description: 'Links each verified deletion on the finalize run and on the change it finalizes', timeoutSeconds: 60, tables: [{ id: 'evidence', access: 'append' }, { id: 'changes', access: 'readWrite' }, { id: 'plans', access: 'read' }, { id: 'policies', access: 'readRecordRuntime' }], connector: false },
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
export const EVENT_RULES: ReadonlyArray<{ readonly id: string; readonly detailType: EventDetailType; readonly pattern: ReturnType<typeof eventPattern> }> =
  EVENT_DETAIL_TYPES.map((detailType) => ({ id: detailType.replace(/\s+/g, ''), detailType, pattern: eventPattern(detailType) }));

export const DEFAULT_PREFIX = 'nhigov';

export function physicalName(prefix: string, id: string): string {
  return `${prefix}-${id}`;
}

/** Environment variable names handlers read their table names from. */
export function tableEnvName(id: TableId): string {
  return `NHIGOV_TABLE_${id.toUpperCase()}`;
}

import type { z } from 'zod';
import type { ReasonCode } from './reasons.js';
import type { ApprovalRequirement } from './approval-rules.js';
import type { Snapshot } from './snapshot.js';
import type { EventDetailType, SignalCause } from './events.js';

export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };
export type JsonObject = { [key: string]: JsonValue };

/** The exact thing an action changes: an AccessKeyId, a user, a role, a secret. Never "the user's keys". */
export interface ActionTarget {
  readonly type: 'accessKey' | 'credential' | 'user' | 'role' | 'secret';
  /** Exact identifier: AccessKeyId, SSH key / certificate / service-specific credential id, user/role name, secret name. */
  readonly id: string;
  /** The NHI the target belongs to: its name in the stack's own account, its ARN in a member account. */
  readonly nhi: string;
  /** The AWS account the target lives in (connectors act there); absent on plans made before accounts. */
  readonly account?: string;
}

export interface ActionInvocation {
  readonly kind: string;
  readonly params: JsonObject;
}

export interface PlanAction extends ActionInvocation {
  /** a1, a2, ...: position in the plan. */
  readonly actionId: string;
  readonly target: ActionTarget;
  /** The live state this action expects to find (what `read` returns). */
  readonly before: JsonObject;
  /** The state `verify` must observe. */
  readonly after: JsonObject;
  /** sha256 of the canonical JSON of `before`; apply stops with PLAN_STALE if the target moved. */
  readonly fingerprint: string;
  /** null: irreversible. */
  readonly inverse: ActionInvocation | null;
  readonly risk: { readonly reversible: boolean; readonly prod: boolean };
  readonly idempotencyKey: string;
  /** The finding that caused it (KEY_UNUSED, CREDENTIAL_EXPOSED, ...). */
  readonly finding: ReasonCode;
  /** Lower phases run first (ownership moves before revocations). */
  readonly phase: number;
  /** Action group for all-or-nothing handling (a rotation's steps share one). */
  readonly group: 'revocation' | 'rotation' | 'ownership' | 'containment';
}

/** Something the plan found and reports without an action (owner unknown, exempted, key age...). */
export interface PlanFinding {
  readonly nhi: string;
  /** The account the NHI (or, for an account that could not be read, the finding) is about. */
  readonly account?: string;
  readonly reasonCode: ReasonCode;
  readonly message: string;
  readonly data?: JsonObject;
  /** The NHI's owner tag when it has one: owner-routed findings go to this address. */
  readonly owner?: string;
}

export interface PlanTrigger {
  readonly eventId: string;
  readonly detailType: EventDetailType | 'Attestation Concluded' | 'Rollback Requested' | 'Finalize Requested';
  readonly source: string;
  readonly detail: JsonObject;
  /** Who asked for the change, when a person did (rollback, CLI). */
  readonly requestedBy?: string;
  /** The provider signal the trigger was made from (AWS Health, GuardDuty, ...). */
  readonly cause?: SignalCause;
}

export interface Plan {
  readonly changeId: string;
  readonly trigger: PlanTrigger;
  readonly policyVersion: string;
  readonly createdAt: string;
  /** Time at which thresholds were evaluated. */
  readonly asOf: string;
  readonly actions: readonly PlanAction[];
  readonly findings: readonly PlanFinding[];
  readonly approval: PlanApproval;
  /**
   * Present only on a plan grown by new work found after Apply that the change's decision does not
   * cover (intent.ts withFollowUp): the follow-up's own approval request, stored and hashed with
   * the plan, so RequestFollowUpApproval asks exactly what the plan says. Absent on every other
   * plan (which hashes as it did before the field existed).
   */
  readonly followUp?: PlanFollowUp;
}

/** Who must approve a plan, and why. */
export interface PlanApproval {
  readonly required: boolean;
  /** Why: 'env=prod on svc-x', 'irreversible action a3'. */
  readonly reasons: readonly string[];
  /** true: actions run first, approval is asked after (emergency containment). */
  readonly afterTheFact: boolean;
  readonly group: string;
  readonly approvers: readonly string[];
  /** NHI owners in the plan: they may not approve it. */
  readonly owners: readonly string[];
  /** Who the change hands an NHI to (an incoming owner, a leaver's manager): they may not approve it. */
  readonly recipients?: readonly string[];
  /** Every approval rule that applies and why (absent on older plans: the group, one approver). */
  readonly rules?: readonly ApprovalRequirement[];
}

/** A follow-up's approval request: the new actions alone, under the approval the re-plan needs for them. */
export interface PlanFollowUp {
  /** The follow-up round (1: the first follow-up of the change). */
  readonly round: number;
  /** The plan hash before the follow-up: the earlier decision this one follows. */
  readonly of: string;
  /** The new actions (their ids in this plan) the request asks about. */
  readonly actionIds: readonly string[];
  /** Who must approve them and why (intent.ts followUpApproval), the plan's own approval left as decided. */
  readonly approval: PlanApproval;
}

/** Pure description of an action kind: what the planner needs (connectors add read/write/verify). */
export interface ActionKindSpec {
  readonly kind: string;
  /** Closed schema of the kind's params: the planner stores only params it accepts. */
  readonly schema: z.ZodType<JsonObject>;
  readonly irreversible: boolean;
  readonly targetType: ActionTarget['type'];
  /** The state the target is in, according to a snapshot; null when the snapshot cannot tell. */
  beforeFromSnapshot(params: JsonObject, snapshot: Snapshot): JsonObject | null;
  /** The state after the write, given the state before. */
  desiredState(params: JsonObject, before: JsonObject): JsonObject;
  /** The action that undoes this one, or null when irreversible. */
  inverse(params: JsonObject, before: JsonObject): ActionInvocation | null;
}

export type ActionKindCatalog = ReadonlyMap<string, ActionKindSpec>;

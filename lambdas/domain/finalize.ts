/**
 * Finalize, as pure decisions: which credentials that changes disabled (access keys deactivated,
 * console passwords contained) are due for deletion after the policy's grace period, which are
 * skipped and why. The finalize run is a change of its own (trigger FINALIZE_TRIGGER) whose plan
 * deletes the due keys and login profiles; the decision of the change that disabled each one
 * covers its deletion (no new approval).
 */
import { sha256Hex } from './canonical.js';
import type { EvidenceEvent } from './evidence.js';
import type { ActionIntent } from './plan-builder.js';
import type { JsonObject, Plan, PlanAction, PlanTrigger } from './plan-model.js';
import type { GovernancePolicy } from './policy.js';
import type { ReasonCode } from './reasons.js';
import { endedWithoutEffect, finalizedActionIds, type ChangeView } from './rollback.js';
import { isTerminalStatus, type ActionStatus, type ChangeStatus } from './status.js';

/**
 * The trigger of a finalize run. Not an event of the contract: PlanTrigger's union does not list
 * it yet (lambdas/domain/plan-model.ts), hence the one cast.
 */
export const FINALIZE_TRIGGER: PlanTrigger['detailType'] = 'Finalize Requested';

/** The irreversible action finalize takes for each kind of staged target. */
export const FINAL_KIND = 'iam.deleteAccessKey';
export const FINAL_CONSOLE_KIND = 'iam.deleteLoginProfile';

/** What a reversible step leaves disabled: an access key, or a user's console password (contained). */
export interface StagedRef {
  readonly userName: string;
  /** The AccessKeyId, or the user name for a console password. */
  readonly targetId: string;
  readonly targetType: 'accessKey' | 'user';
  /** The irreversible action finalize takes once the grace period is over. */
  readonly finalKind: string;
}

/**
 * The reversible steps that leave a credential disabled, and which one each leaves so:
 * deactivating a key, rotating the secret that held it (the replaced key ends Inactive), and
 * containing a console password (the login profile itself is deleted by finalize).
 */
export const STAGED_KINDS: Readonly<Record<string, (params: JsonObject) => StagedRef | null>> = {
  'iam.deactivateAccessKey': (params) => keyRef(params.userName, params.accessKeyId),
  'secrets.rotateAccessKeySecret': (params) => keyRef(params.userName, params.replacedAccessKeyId),
  'iam.containConsoleAccess': (params) =>
    typeof params.userName === 'string' ? { userName: params.userName, targetId: params.userName, targetType: 'user', finalKind: FINAL_CONSOLE_KIND } : null,
};

/** The credential a plan action leaves disabled, or null when it is not such a step. */
export function stagedKeyOf(action: Pick<PlanAction, 'kind' | 'params'>): StagedRef | null {
  const extract = STAGED_KINDS[action.kind];
  return extract ? extract(action.params) : null;
}

function keyRef(userName: unknown, accessKeyId: unknown): StagedRef | null {
  return typeof userName === 'string' && typeof accessKeyId === 'string' ? { userName, targetId: accessKeyId, targetType: 'accessKey', finalKind: FINAL_KIND } : null;
}

/** A staged target in messages: the AccessKeyId, or "the console password of USER". */
export function labelOf(key: Pick<StagedRef, 'targetId' | 'targetType'>): string {
  return key.targetType === 'accessKey' ? key.targetId : `the console password of ${key.targetId}`;
}

/** Evidence data naming a staged target: its AccessKeyId, or the user whose console password it is. */
export function targetData(key: Pick<StagedRef, 'targetId' | 'targetType'>): JsonObject {
  return key.targetType === 'accessKey' ? { accessKeyId: key.targetId } : { loginProfileOf: key.targetId };
}

/**
 * How far back (past the grace period) finalize looks for changes. It runs daily, so a key it
 * could not delete within this many days (skipped every day, with the reason in each run's
 * evidence) is left to a person rather than looked at forever.
 */
export const FINALIZE_LOOKBACK_DAYS = 90;

const DAY_MS = 24 * 3600 * 1000;

/**
 * The change id of a finalize run: `fin-` + its execution name (the ASL derives it the same way
 * with States.Format, so a schedule-started run, whose name the scheduler picks, has one too).
 */
export function finalizeChangeId(executionName: string): string {
  return `fin-${executionName}`;
}

/** An execution name for a run started by hand (`nhigov finalize`): unique per request. */
export function finalizeExecutionName(asOf: string, requestedAt: Date, nonce: string): string {
  return sha256Hex(`finalize:${asOf}:${requestedAt.toISOString()}:${nonce}`).slice(0, 24);
}

export interface FinalizeWindow {
  /** A deactivation verified at or before this time is past its grace period. */
  readonly cutoff: string;
  /** Changes created from here up to asOf are read (later ones may have re-deactivated a key). */
  readonly from: string;
  readonly asOf: string;
}

export function finalizeWindow(asOf: Date, graceDays: number): FinalizeWindow {
  const cutoff = asOf.getTime() - graceDays * DAY_MS;
  return { cutoff: new Date(cutoff).toISOString(), from: new Date(cutoff - FINALIZE_LOOKBACK_DAYS * DAY_MS).toISOString(), asOf: asOf.toISOString() };
}

/** Where the parent change's rollbacks stand: none (or none with effect), in flight, done, or escalated. */
export type RollbackState = 'none' | 'in-flight' | 'rolled-back' | 'escalated';

/** Where a change's rollbacks stand, from its attempts (findRollbackAttempts), oldest first. */
export function rollbackStateOf(attempts: readonly ChangeView[]): RollbackState {
  const latest = attempts.at(-1);
  if (!latest) return 'none';
  if (!isTerminalStatus(latest.status)) return 'in-flight';
  if (latest.status === 'ROLLED_BACK') return 'rolled-back';
  return endedWithoutEffect(latest) ? 'none' : 'escalated';
}

/** The latest VERIFIED event of each action on a change's chain: when its write was seen. */
export function verifiedTimes(events: readonly Pick<EvidenceEvent, 'type' | 'actionId' | 'at'>[]): Map<string, string> {
  const times = new Map<string, string>();
  for (const event of events) if (event.type === 'VERIFIED' && event.actionId) times.set(event.actionId, event.at);
  return times;
}

/** One verified-or-not disabling of a credential by a change, with what finalize needs to judge it. */
export interface StagedKey extends StagedRef {
  readonly changeId: string;
  readonly changeStatus: ChangeStatus;
  readonly actionId: string;
  /** The action's outcome in that change. */
  readonly actionStatus: ActionStatus | undefined;
  /** The NHI as the change's plan named it (an ARN in a member account). */
  readonly nhi: string;
  /** The account the credential is in (absent on plans made before accounts). */
  readonly account?: string;
  /** When the deactivation was verified (its VERIFIED evidence), null when never. */
  readonly verifiedAt: string | null;
  readonly rollback: RollbackState;
  /** A FINALIZED event for this action is already on the change's chain. */
  readonly finalized: boolean;
  /** The original action, whose finding, risk and phase the deletion inherits. */
  readonly action: Pick<PlanAction, 'finding' | 'risk'>;
  /** Policy version the change was decided with (the decision that covers the deletion). */
  readonly policyVersion: string;
}

/** What a change's records say about the keys it deactivated: one StagedKey per deactivation in its plan. */
export function stagedKeysOf(
  change: ChangeView,
  plan: Pick<Plan, 'actions' | 'policyVersion'>,
  events: readonly Pick<EvidenceEvent, 'type' | 'actionId' | 'at'>[],
  rollbackAttempts: readonly ChangeView[],
): StagedKey[] {
  const verifiedAt = verifiedTimes(events);
  const finalized = finalizedActionIds(events);
  const rollback = rollbackStateOf(rollbackAttempts);
  return plan.actions.flatMap((action) => {
    const key = stagedKeyOf(action);
    if (!key) return [];
    return [
      {
        changeId: change.changeId,
        changeStatus: change.status,
        actionId: action.actionId,
        actionStatus: change.actions[action.actionId]?.status,
        ...key,
        nhi: action.target.nhi,
        ...(action.target.account ? { account: action.target.account } : {}),
        verifiedAt: verifiedAt.get(action.actionId) ?? null,
        rollback,
        finalized: finalized.has(action.actionId),
        action: { finding: action.finding, risk: action.risk },
        policyVersion: plan.policyVersion,
      },
    ];
  });
}

export type SkipReason =
  | 'in-grace'
  | 'superseded'
  | 'already-finalized'
  | 'not-verified'
  | 'change-in-flight'
  | 'rolled-back'
  | 'rollback-in-flight'
  | 'rollback-escalated'
  | 'reactivated'
  | 'already-deleted';

export interface Skip {
  readonly key: StagedKey;
  readonly reason: SkipReason;
  readonly message: string;
  /** The drift it shows, when it shows one. */
  readonly reasonCode?: ReasonCode;
}

/** Skips worth a line of evidence in every run (the others are the normal course of things). */
export function isReportedSkip(skip: Skip): boolean {
  return skip.reason !== 'in-grace' && skip.reason !== 'already-finalized' && skip.reason !== 'superseded';
}

/**
 * First pass, without reading IAM: per key, only its latest deactivation counts (a key
 * reactivated and deactivated again by a later change waits for that change's grace period);
 * it must be verified, past the cutoff, in a finished change that nobody rolled back or is
 * rolling back. What is left is read live before it is deleted (liveVerdict).
 */
export function preselect(staged: readonly StagedKey[], window: FinalizeWindow): { toCheck: StagedKey[]; skipped: Skip[] } {
  const skipped: Skip[] = [];
  const latest = new Map<string, StagedKey>();
  for (const key of staged) {
    const current = latest.get(key.targetId);
    if (!current || (key.verifiedAt ?? '') > (current.verifiedAt ?? '')) {
      if (current) skipped.push({ key: current, reason: 'superseded', message: `${key.changeId} disabled ${labelOf(key)} again later` });
      latest.set(key.targetId, key);
    } else {
      skipped.push({ key, reason: 'superseded', message: `${current.changeId} disabled ${labelOf(key)} again later` });
    }
  }
  const toCheck: StagedKey[] = [];
  for (const key of latest.values()) {
    const skip = (reason: SkipReason, message: string): void => void skipped.push({ key, reason, message });
    if (key.finalized) skip('already-finalized', `${labelOf(key)} was already deleted by finalize`);
    else if (!isTerminalStatus(key.changeStatus)) skip('change-in-flight', `${key.changeId} is still ${key.changeStatus}`);
    else if (key.changeStatus === 'ROLLED_BACK' || key.actionStatus === 'ROLLED_BACK' || key.rollback === 'rolled-back') skip('rolled-back', `${key.changeId} was rolled back`);
    else if (key.rollback === 'in-flight') skip('rollback-in-flight', `a rollback of ${key.changeId} is in flight`);
    else if (key.rollback === 'escalated') skip('rollback-escalated', `a rollback of ${key.changeId} escalated: a person decides`);
    else if (key.actionStatus !== 'VERIFIED' || key.verifiedAt === null) skip('not-verified', `${key.changeId} never verified ${labelOf(key)} disabled (${key.actionStatus ?? 'no outcome'})`);
    else if (key.verifiedAt > window.cutoff) skip('in-grace', `${labelOf(key)} was disabled at ${key.verifiedAt}, grace ends ${graceEnd(key.verifiedAt, window)}`);
    else toCheck.push(key);
  }
  return { toCheck, skipped };
}

/**
 * A staged target's live state, as finalize reads it: disabled (an Inactive key, a console password
 * still contained), enabled again, or absent (deleted out of band).
 */
export type LiveState = 'disabled' | 'enabled' | 'absent';

/** The live state of a due target decides: still disabled → delete; enabled → reactivated since; absent → already gone. */
export function liveVerdict(key: StagedKey, live: LiveState): { due: true } | { due: false; skip: Skip } {
  if (live === 'disabled') return { due: true };
  if (live === 'enabled') {
    return { due: false, skip: { key, reason: 'reactivated', reasonCode: 'PLAN_STALE', message: `${labelOf(key)} is enabled again since ${key.changeId} disabled it: in use, not deleted` } };
  }
  return { due: false, skip: { key, reason: 'already-deleted', reasonCode: 'TARGET_NOT_FOUND', message: `${labelOf(key)} no longer exists (deleted out of band)` } };
}

/** The deletion intent of a due key, for the planner (plan-builder's buildActions). */
export function deletionIntent(key: StagedKey, liveBefore: JsonObject): ActionIntent {
  return {
    kind: key.finalKind,
    target: { type: key.targetType, id: key.targetId, nhi: key.nhi, ...(key.account ? { account: key.account } : {}) },
    params: key.targetType === 'accessKey' ? { userName: key.userName, accessKeyId: key.targetId } : { userName: key.userName },
    finding: key.action.finding,
    phase: 0,
    group: 'revocation',
    prod: key.action.risk.prod,
    before: liveBefore,
  };
}

export interface FinalizePlanInput {
  readonly changeId: string;
  readonly window: FinalizeWindow;
  readonly due: readonly StagedKey[];
  /** The deletion actions (buildActions over deletionIntent), one per due key. */
  readonly actions: readonly PlanAction[];
  readonly skipped: readonly Skip[];
  readonly policy: GovernancePolicy;
  readonly policyVersion: string;
  readonly now: Date;
  readonly source: string;
}

/**
 * The finalize run's plan. `trigger.detail.sources` links each deletion (by AccessKeyId) to the
 * change and action that deactivated the key: that change's decision covers the deletion, so
 * the plan asks for no approval even though deleting is irreversible.
 */
export function planFinalize(input: FinalizePlanInput): Plan {
  const sources: JsonObject = Object.fromEntries(
    input.due.map((key) => [key.targetId, { changeId: key.changeId, actionId: key.actionId, verifiedAt: key.verifiedAt, policyVersion: key.policyVersion }]),
  );
  const detail: JsonObject = {
    asOf: input.window.asOf,
    cutoff: input.window.cutoff,
    graceDays: input.policy.thresholds.finalizeGraceDays,
    sources,
    skipped: input.skipped.filter(isReportedSkip).map((skip) => ({ ...targetData(skip.key), changeId: skip.key.changeId, reason: skip.reason, message: skip.message })),
  };
  const coveredBy = [...new Set(input.due.map((key) => key.changeId))];
  return {
    changeId: input.changeId,
    trigger: { eventId: input.changeId, detailType: FINALIZE_TRIGGER, source: input.source, detail },
    policyVersion: input.policyVersion,
    createdAt: input.now.toISOString(),
    asOf: input.window.asOf,
    actions: [...input.actions],
    findings: input.skipped.flatMap((skip) => (skip.reasonCode ? [{ nhi: skip.key.nhi, reasonCode: skip.reasonCode, message: skip.message }] : [])),
    approval: {
      required: false,
      reasons: coveredBy.map((changeId) => `covered by the decision of ${changeId}`),
      afterTheFact: false,
      group: input.policy.approval.group,
      approvers: [],
      owners: [],
    },
  };
}

/** The change and action that deactivated the key a finalize action deletes. */
export function sourceOf(plan: Plan, accessKeyId: string): { changeId: string; actionId: string } | null {
  const sources = plan.trigger.detail.sources;
  if (!sources || typeof sources !== 'object' || Array.isArray(sources)) return null;
  const source = sources[accessKeyId];
  if (!source || typeof source !== 'object' || Array.isArray(source)) return null;
  return typeof source.changeId === 'string' && typeof source.actionId === 'string' ? { changeId: source.changeId, actionId: source.actionId } : null;
}

function graceEnd(verifiedAt: string, window: FinalizeWindow): string {
  return new Date(Date.parse(verifiedAt) + (Date.parse(window.asOf) - Date.parse(window.cutoff))).toISOString();
}

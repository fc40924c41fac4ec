import type { EvidenceDraft } from '../../domain/evidence.js';
import type { JsonObject, Plan } from '../../domain/plan-model.js';
import type { SignedPolicy } from '../../domain/policy-signature.js';
import { AppError, isAppError, type ReasonCode } from '../../domain/reasons.js';
import type { ChangeRecord, ChangeStore } from '../../stores/change-store.js';
import type { EvidenceOutbox } from '../../stores/evidence-outbox.js';
import type { PlanStore } from '../../stores/plan-store.js';
import { AUTOMATION_ACTOR } from '../runtime.js';
import { recordPlanned } from './plan-evidence.js';

/** What starting a change needs of the runtime (handlers pass theirs; tests an in-memory one). */
export interface ChangeStartRuntime {
  readonly changes: Pick<ChangeStore, 'create' | 'get' | 'update'>;
  readonly evidence: Pick<EvidenceOutbox, 'append'>;
  readonly plans: Pick<PlanStore, 'put'>;
  loadPolicy(): Promise<SignedPolicy>;
  loadPlan(planHash: string): Promise<Plan>;
}

/** An event on the new change's chain, before policyVersion is known or with it. */
export interface TriggerEvent {
  readonly actor: string;
  readonly data: JsonObject;
}

/** What a handler made of the trigger: its plan and what its evidence adds. */
export interface PlannedChange {
  readonly plan: Plan;
  /** Added to PLANNED's data (plannedActions and the hash are always there). */
  readonly planned: JsonObject;
  /** Recorded after PLANNED, before DECIDED, in order (findings, skipped keys). */
  readonly events: readonly EvidenceDraft[];
  /** DECIDED's data. */
  readonly decided: JsonObject;
  /** Set on the change record with the plan hash, when the kind of change keeps them. */
  readonly reasonCodes?: ReasonCode[];
}

export interface ChangeStart {
  readonly record: Pick<ChangeRecord, 'changeId' | 'kind' | 'trigger' | 'eventId' | 'parentChangeId' | 'contentHash'>;
  readonly now: Date;
  /** TRIGGERED when the active policy is refused; `refused` (the reason) is added to its data. */
  readonly refused: TriggerEvent;
  readonly triggered: (signed: SignedPolicy) => TriggerEvent;
  /** Plans the change; may record a refusal and throw (the change then ends FAILED). */
  readonly plan: (signed: SignedPolicy) => Promise<PlannedChange>;
  /** On a retried step: a policy activated since planning makes the stored plan stale. */
  readonly replayRefusesNewPolicy?: boolean;
}

export interface BegunChange {
  readonly planHash: string;
  readonly plan: Plan;
  readonly signed: SignedPolicy;
  /** A retried step: the plan already stored was returned, nothing was recorded again. */
  readonly replayed: boolean;
}

/**
 * The start every change shares (plan, rollback-plan, finalize-plan): create the change record
 * once, replay a plan already stored (a retried step), load the verified policy (a refusal is
 * recorded as TRIGGERED with POLICY_INVALID, then rethrown), record TRIGGERED, plan, store the
 * plan and record PLANNED, the kind's own events, DECIDED, then point the record at the plan.
 */
export async function beginChange(rt: ChangeStartRuntime, start: ChangeStart): Promise<BegunChange> {
  const { changeId } = start.record;
  await rt.changes.create({ ...start.record, status: 'PLANNED', createdAt: start.now.toISOString(), reasonCodes: [] });
  const existing = await rt.changes.get(changeId);
  if (existing?.planHash) return replay(rt, existing.planHash, start);

  let signed: SignedPolicy;
  try {
    signed = await rt.loadPolicy();
  } catch (error) {
    const refused = isAppError(error) ? error.message : String(error);
    await rt.evidence.append({ changeId, type: 'TRIGGERED', actor: start.refused.actor, policyVersion: 'none', reasonCode: 'POLICY_INVALID', data: { ...start.refused.data, refused } });
    throw error;
  }
  const policyVersion = signed.version;
  const triggered = start.triggered(signed);
  await rt.evidence.append({ changeId, type: 'TRIGGERED', actor: triggered.actor, policyVersion, data: triggered.data });
  const planned = await start.plan(signed);
  const planHash = await recordPlanned(rt, planned.plan, planned.planned);
  await rt.evidence.append(...planned.events, { changeId, type: 'DECIDED', actor: AUTOMATION_ACTOR, policyVersion, data: planned.decided });
  await rt.changes.update(changeId, { planHash, policyVersion, actionCount: planned.plan.actions.length, ...(planned.reasonCodes ? { reasonCodes: planned.reasonCodes } : {}) });
  return { planHash, plan: planned.plan, signed, replayed: false };
}

async function replay(rt: ChangeStartRuntime, planHash: string, start: ChangeStart): Promise<BegunChange> {
  const plan = await rt.loadPlan(planHash);
  const signed = await rt.loadPolicy();
  if (start.replayRefusesNewPolicy && signed.version !== plan.policyVersion) {
    throw new AppError('PLAN_STALE', `policy changed from ${plan.policyVersion.slice(0, 12)} to ${signed.version.slice(0, 12)} since planning`);
  }
  return { planHash, plan, signed, replayed: true };
}

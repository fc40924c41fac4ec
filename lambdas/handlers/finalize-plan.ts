import { z } from 'zod';
import { ACTION_CATALOG, connectorAction, validatedParams } from '../connectors/registry.js';
import {
  deletionIntent,
  FINAL_KIND,
  FINALIZE_TRIGGER,
  finalizeWindow,
  isReportedSkip,
  liveVerdict,
  planFinalize,
  preselect,
  rollbackStateOf,
  stagedKeyOf,
  verifiedTimes,
  type Skip,
  type StagedKey,
} from '../domain/finalize.js';
import { buildActions } from '../domain/plan-builder.js';
import type { JsonObject, Plan } from '../domain/plan-model.js';
import { isAppError } from '../domain/reasons.js';
import { finalizedActionIds, findRollbackAttempts } from '../domain/rollback.js';
import { AUTOMATION_ACTOR, parseInput, runtime, type Runtime } from './runtime.js';
import { recordPlanned } from './plan-evidence.js';

const inputSchema = z.object({
  /** fin-{execution name}: the ASL derives it. */
  changeId: z.string().regex(/^fin-[\w.:-]{1,80}$/),
  /** The execution input: { asOf? } by hand, { trigger, scheduledTime } from the schedule. */
  request: z
    .looseObject({
      /** Evaluate the grace period at this time instead of now (like Reconcile's asOf). */
      asOf: z.iso.datetime({ offset: true }).optional(),
      trigger: z.string().max(64).optional(),
      scheduledTime: z.string().max(64).optional(),
    })
    .default({}),
});

export interface FinalizePlanOutput {
  readonly planHash: string;
  readonly policyVersion: string;
  readonly decision: 'NO_CHANGES' | 'APPLY';
  readonly actionIds: string[];
  readonly maxConcurrency: number;
}

/**
 * Finds the keys changes deactivated more than the grace period ago (changes of the window, by
 * the byKind index), keeps those nobody rolled back or is rolling back, re-reads each live (a key
 * reactivated since is in use: skipped, with the reason in evidence) and stores the run's plan:
 * one irreversible iam.deleteAccessKey per due key, covered by the decision of its change.
 */
export async function finalizePlanCore(rt: Runtime, input: z.infer<typeof inputSchema>): Promise<FinalizePlanOutput> {
  const { changeId, request } = input;
  const now = new Date();
  await rt.changes.create({ changeId, kind: 'change', status: 'PLANNED', trigger: FINALIZE_TRIGGER, eventId: changeId, createdAt: now.toISOString(), actions: {}, reasonCodes: [] });
  const existing = await rt.changes.get(changeId);
  if (existing?.planHash) return replay(rt, existing.planHash);

  const source = request.trigger === 'schedule' ? 'nhigov.schedule' : 'nhigov';
  let signed;
  try {
    signed = await rt.loadPolicy();
  } catch (error) {
    await rt.evidence.append({ changeId, type: 'TRIGGERED', actor: AUTOMATION_ACTOR, policyVersion: 'none', reasonCode: 'POLICY_INVALID', data: { detailType: FINALIZE_TRIGGER, refused: isAppError(error) ? error.message : String(error) } });
    throw error;
  }
  const { policy, version: policyVersion } = signed;
  const window = finalizeWindow(request.asOf ? new Date(request.asOf) : now, policy.thresholds.finalizeGraceDays);
  await rt.evidence.append({
    changeId,
    type: 'TRIGGERED',
    actor: source,
    policyVersion,
    data: { detailType: FINALIZE_TRIGGER, asOf: window.asOf, cutoff: window.cutoff, from: window.from, graceDays: policy.thresholds.finalizeGraceDays, ...(request.scheduledTime ? { scheduledTime: request.scheduledTime } : {}) },
  });

  const staged = await stagedKeys(rt, window.from, window.asOf);
  const { toCheck, skipped } = preselect(staged, window);
  const finalConnector = connectorAction(FINAL_KIND);
  const due: Array<{ key: StagedKey; live: JsonObject }> = [];
  for (const key of toCheck) {
    const live = await finalConnector.read(rt.connectors, validatedParams(finalConnector, { userName: key.userName, accessKeyId: key.accessKeyId }));
    const verdict = liveVerdict(key, String(live.status));
    if (verdict.due) due.push({ key, live });
    else skipped.push(verdict.skip);
  }
  const actions = buildActions(changeId, due.map(({ key, live }) => deletionIntent(key, live)), { takenAt: now.toISOString(), users: [], roles: [], secrets: [] }, ACTION_CATALOG).map((p) => p.action);
  const plan = planFinalize({ changeId, window, due: due.map((d) => d.key), actions, skipped, policy, policyVersion, now, source });
  const planHash = await recordPlanned(rt, plan, { examined: staged.length, sources: plan.trigger.detail.sources ?? {} });
  for (const skip of skipped.filter(isReportedSkip)) await recordSkip(rt, changeId, policyVersion, skip);
  const decision = plan.actions.length === 0 ? 'NO_CHANGES' : 'APPLY';
  await rt.evidence.append({
    changeId,
    type: 'DECIDED',
    actor: AUTOMATION_ACTOR,
    policyVersion,
    data: { decision, approvalRequired: false, coveredBy: [...plan.approval.reasons], deletions: plan.actions.length, skipped: skipped.filter(isReportedSkip).length },
  });
  await rt.changes.update(changeId, { planHash, policyVersion, actionCount: plan.actions.length });
  return { planHash, policyVersion, decision, actionIds: plan.actions.map((a) => a.actionId), maxConcurrency: policy.apply.maxConcurrency };
}

/** Every step that left an access key deactivated, in changes created in [from, to], with what finalize judges it by. */
async function stagedKeys(rt: Runtime, from: string, to: string): Promise<StagedKey[]> {
  const staged: StagedKey[] = [];
  for (const change of await rt.changes.createdBetween('change', from, to)) {
    if (!change.planHash || change.trigger === FINALIZE_TRIGGER) continue;
    const plan = await rt.loadPlan(change.planHash);
    const deactivations = plan.actions.flatMap((action) => {
      const key = stagedKeyOf(action);
      return key ? [{ action, key }] : [];
    });
    if (deactivations.length === 0) continue;
    const events = await rt.evidence.listByChange(change.changeId);
    const verifiedAt = verifiedTimes(events);
    const finalized = finalizedActionIds(events);
    const rollback = rollbackStateOf(await findRollbackAttempts(change.changeId, (id) => rt.changes.get(id)));
    for (const { action, key } of deactivations) {
      staged.push({
        changeId: change.changeId,
        changeStatus: change.status,
        actionId: action.actionId,
        actionStatus: change.actions?.[action.actionId]?.status,
        userName: key.userName,
        accessKeyId: key.accessKeyId,
        nhi: key.userName,
        verifiedAt: verifiedAt.get(action.actionId) ?? null,
        rollback,
        finalized: finalized.has(action.actionId),
        action: { finding: action.finding, risk: action.risk },
        policyVersion: plan.policyVersion,
      });
    }
  }
  return staged;
}

/** A key finalize leaves alone, and why: a DECIDED event on the run's chain. */
async function recordSkip(rt: Runtime, changeId: string, policyVersion: string, skip: Skip): Promise<void> {
  await rt.evidence.append({
    changeId,
    type: 'DECIDED',
    actor: AUTOMATION_ACTOR,
    policyVersion,
    nhi: skip.key.nhi,
    ...(skip.reasonCode ? { reasonCode: skip.reasonCode } : {}),
    data: { finalize: 'skipped', reason: skip.reason, message: skip.message, accessKeyId: skip.key.accessKeyId, originalChangeId: skip.key.changeId, originalActionId: skip.key.actionId },
  });
}

/** A retried step returns the plan it already stored. */
async function replay(rt: Runtime, planHash: string): Promise<FinalizePlanOutput> {
  const plan: Plan = await rt.loadPlan(planHash);
  const { policy } = await rt.loadPolicy();
  return {
    planHash,
    policyVersion: plan.policyVersion,
    decision: plan.actions.length === 0 ? 'NO_CHANGES' : 'APPLY',
    actionIds: plan.actions.map((a) => a.actionId),
    maxConcurrency: policy.apply.maxConcurrency,
  };
}

export const handler = async (input: unknown): Promise<FinalizePlanOutput> => finalizePlanCore(runtime(), parseInput(inputSchema, input, 'finalize-plan'));

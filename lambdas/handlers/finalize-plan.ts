import { z } from 'zod';
import { ACTION_CATALOG } from '../connectors/registry.js';
import { readStagedLive } from '../connectors/staged-live.js';
import {
  deletionIntent,
  FINALIZE_TRIGGER,
  finalizeWindow,
  isReportedSkip,
  liveVerdict,
  planFinalize,
  preselect,
  stagedKeyOf,
  stagedKeysOf,
  targetData,
  type Skip,
  type StagedKey,
} from '../domain/finalize.js';
import { buildActions } from '../domain/plan-builder.js';
import type { JsonObject, Plan } from '../domain/plan-model.js';
import type { EvidenceDraft } from '../domain/evidence.js';
import { findRollbackAttempts } from '../domain/rollback.js';
import { beginChange } from './core/begin-change.js';
import { AUTOMATION_ACTOR, parseInput, runtime, type Runtime } from './runtime.js';

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
  const source = request.trigger === 'schedule' ? 'nhigov.schedule' : 'nhigov';
  const windowOf = (graceDays: number) => finalizeWindow(request.asOf ? new Date(request.asOf) : now, graceDays);
  const { planHash, plan, signed } = await beginChange(rt, {
    record: { changeId, kind: 'change', trigger: FINALIZE_TRIGGER, eventId: changeId },
    now,
    refused: { actor: AUTOMATION_ACTOR, data: { detailType: FINALIZE_TRIGGER } },
    triggered: ({ policy }) => {
      const window = windowOf(policy.thresholds.finalizeGraceDays);
      return {
        actor: source,
        data: { detailType: FINALIZE_TRIGGER, asOf: window.asOf, cutoff: window.cutoff, from: window.from, graceDays: policy.thresholds.finalizeGraceDays, ...(request.scheduledTime ? { scheduledTime: request.scheduledTime } : {}) },
      };
    },
    plan: async ({ policy, version: policyVersion }) => {
      const window = windowOf(policy.thresholds.finalizeGraceDays);
      const staged = await stagedKeys(rt, window.from, window.asOf);
      const { toCheck, skipped } = preselect(staged, window);
      const due: Array<{ key: StagedKey; live: JsonObject }> = [];
      for (const key of toCheck) {
        const live = await readStagedLive(await rt.connectorsFor({ changeId, policyVersion }, key, 'read'), key);
        const verdict = liveVerdict(key, live.state);
        if (verdict.due) due.push({ key, live: live.before });
        else skipped.push(verdict.skip);
      }
      const actions = buildActions(changeId, due.map(({ key, live }) => deletionIntent(key, live)), { takenAt: now.toISOString(), users: [], roles: [], secrets: [] }, ACTION_CATALOG).map((p) => p.action);
      const plan = planFinalize({ changeId, window, due: due.map((d) => d.key), actions, skipped, policy, policyVersion, now, source });
      const reported = skipped.filter(isReportedSkip);
      return {
        plan,
        planned: { examined: staged.length, sources: plan.trigger.detail.sources ?? {} },
        events: reported.map((skip) => skipEvent(changeId, policyVersion, skip)),
        decided: { decision: decisionOf(plan), approvalRequired: false, coveredBy: [...plan.approval.reasons], deletions: plan.actions.length, skipped: reported.length },
      };
    },
  });
  return { planHash, policyVersion: plan.policyVersion, decision: decisionOf(plan), actionIds: plan.actions.map((a) => a.actionId), maxConcurrency: signed.policy.apply.maxConcurrency };
}

function decisionOf(plan: Plan): FinalizePlanOutput['decision'] {
  return plan.actions.length === 0 ? 'NO_CHANGES' : 'APPLY';
}

/** Every step that left an access key deactivated, in changes created in [from, to], with what finalize judges it by. */
async function stagedKeys(rt: Runtime, from: string, to: string): Promise<StagedKey[]> {
  const staged: StagedKey[] = [];
  for (const change of await rt.changes.createdBetween('change', from, to)) {
    if (!change.planHash || change.trigger === FINALIZE_TRIGGER) continue;
    const plan = await rt.loadPlan(change.planHash);
    if (!plan.actions.some((action) => stagedKeyOf(action) !== null)) continue;
    const events = await rt.trail.listByChange(change.changeId);
    const attempts = await findRollbackAttempts(change.changeId, (id) => rt.changes.getWithActions(id));
    staged.push(...stagedKeysOf({ ...change, actions: await rt.changes.actions.ofChange(change.changeId) }, plan, events, attempts));
  }
  return staged;
}

/** A key finalize leaves alone, and why: a DECIDED event on the run's chain. */
function skipEvent(changeId: string, policyVersion: string, skip: Skip): EvidenceDraft {
  return {
    changeId,
    type: 'DECIDED',
    actor: AUTOMATION_ACTOR,
    policyVersion,
    nhi: skip.key.nhi,
    ...(skip.reasonCode ? { reasonCode: skip.reasonCode } : {}),
    data: { finalize: 'skipped', reason: skip.reason, message: skip.message, ...targetData(skip.key), originalChangeId: skip.key.changeId, originalActionId: skip.key.actionId },
  };
}

export const handler = async (input: unknown): Promise<FinalizePlanOutput> => finalizePlanCore(runtime(), parseInput(inputSchema, input, 'finalize-plan'));

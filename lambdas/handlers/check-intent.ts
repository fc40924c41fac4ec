import { z } from 'zod';
import { ACTION_CATALOG } from '../connectors/registry.js';
import { readSnapshot } from '../connectors/snapshot-reader.js';
import { governanceEventSchema } from '../domain/events.js';
import { actionsByAccount, coveredByDecision, describeWork, followUpApproval, isNewWorkOf, MAX_FOLLOW_UPS, snapshotAsFound, touchedNhis, withFollowUp } from '../domain/intent.js';
import type { Outcome } from '../domain/outcome.js';
import { actionIdsByPhase, planChange } from '../domain/plan.js';
import type { JsonObject, PlanAction } from '../domain/plan-model.js';
import { toJsonObject } from '../domain/plan-schema.js';
import { AppError, type ReasonCode } from '../domain/reasons.js';
import { recordPlanned } from './core/plan-evidence.js';
import { AUTOMATION_ACTOR, parseInput, runtime, type Runtime } from './runtime.js';

const planHashSchema = z.string().regex(/^[0-9a-f]{64}$/);

const checkSchema = z.strictObject({
  changeId: z.string().min(1),
  planHash: planHashSchema,
  event: governanceEventSchema,
  /** Follow-ups applied so far. */
  round: z.number().int().min(0).max(MAX_FOLLOW_UPS),
  /** The change's decision: a follow-up applied under it keeps it (contain first stays contain first). */
  decision: z.enum(['APPLY', 'APPROVE_FIRST', 'CONTAIN_FIRST']),
});

/**
 * The follow-up's own approval was rejected or timed out: its work stays undone, the change
 * escalates. The round and the refused actions are the stored plan's (Plan.followUp), not the
 * execution state's.
 */
const refusedSchema = z.strictObject({
  changeId: z.string().min(1),
  /** The grown plan, whose follow-up request (Plan.followUp) was refused. */
  planHash: planHashSchema,
  refusal: z.enum(['APPROVAL_REJECTED', 'APPROVAL_TIMEOUT']),
});

const inputSchema = z.union([checkSchema, refusedSchema]);

/** What Apply needs of the grown plan: the shape the Plan state outputs (handlers/plan.ts PlanOutput). */
export interface FollowUpPlan {
  readonly planHash: string;
  readonly policyVersion: string;
  readonly decision: 'APPLY' | 'APPROVE_FIRST' | 'CONTAIN_FIRST';
  readonly actionIds: string[];
  readonly phases: string[][];
  readonly maxConcurrency: number;
  readonly findings: string[];
  readonly approvalTimeoutSeconds: number;
}

export type IntentCheck =
  | { readonly next: 'HELD'; readonly round: number }
  | { readonly next: 'APPLY'; readonly round: number; readonly plan: FollowUpPlan }
  /** What the approvers are asked is in the grown plan itself (Plan.followUp), stored under plan.planHash. */
  | { readonly next: 'APPROVE'; readonly round: number; readonly plan: FollowUpPlan }
  | { readonly next: 'ESCALATE'; readonly round: number; readonly outcome: Outcome };

/**
 * After Apply verified every action: re-plans the change's trigger on the live state of the NHIs
 * it touched, under its policy version. Nothing new: the intent holds. New work: appended to the
 * plan, recorded as a second PLANNED, and applied next, under the change's decision when it covers
 * the work (a key added during the approval wait), else after a new approval of the new actions
 * alone, asked as the grown plan's followUp says (its round, the plan it follows, the new action
 * ids, who must approve them: stored and hashed with the plan, not passed in the execution state).
 * Still there after a follow-up: ESCALATED with INTENT_NOT_HELD, the drift named.
 */
export async function checkIntentCore(rt: Runtime, input: z.infer<typeof checkSchema>): Promise<IntentCheck> {
  const { changeId, round } = input;
  const plan = await rt.loadPlan(input.planHash);
  const signed = await rt.loadPolicyVersion(plan.policyVersion);
  // Each account the change acted in is read again there, as the change found it (owner tags it moved put back).
  const estates = await Promise.all(
    actionsByAccount(plan).map(async ({ account, actions }) => {
      const live = await readSnapshot(await rt.connectorsFor(plan, { account }, 'read'), { nhis: touchedNhis({ actions }) });
      return { live, estate: { ...(account ? { account } : {}), member: account !== undefined && account !== rt.home?.id, snapshot: snapshotAsFound({ actions }, live) } };
    }),
  );
  const isNew = isNewWorkOf(plan, estates.map((e) => e.live));
  const replan = planChange({ changeId, policy: signed.policy, policyVersion: plan.policyVersion, event: input.event, estates: estates.map((e) => e.estate), now: new Date(), catalog: ACTION_CATALOG, approvalScope: isNew });
  const work = replan.actions.filter(isNew);
  const common = { changeId, actor: AUTOMATION_ACTOR, policyVersion: plan.policyVersion } as const;
  const drift: JsonObject = { round, work: driftOf(work) };
  if (work.length === 0) {
    await rt.evidence.append({ ...common, type: 'DECIDED', data: { intent: 'held', round, planHash: input.planHash } });
    return { next: 'HELD', round };
  }
  const covered = coveredByDecision(plan, replan);
  if (round >= MAX_FOLLOW_UPS) {
    const message = `the intent does not hold: ${describeWork(work)} (it is still there after ${round} follow-up(s))`;
    return escalate(rt, changeId, plan.policyVersion, ['INTENT_NOT_HELD'], round, { intent: 'not held', message, covered, ...drift });
  }
  const grown = withFollowUp(plan, work);
  const approval = covered ? null : followUpApproval(plan, replan, work, grown);
  const merged = approval ? withFollowUp(plan, work, { round: round + 1, of: input.planHash, approval }) : grown;
  const added = merged.actions.slice(plan.actions.length);
  const coveredBy = covered ? 'the change\'s decision' : 'a new approval';
  const planHash = await recordPlanned(rt, merged, { followUpOf: input.planHash, round: round + 1, followUp: added.map((a) => a.actionId), coveredBy });
  await rt.changes.update(changeId, { planHash, actionCount: merged.actions.length });
  await rt.evidence.append({
    ...common,
    type: 'DECIDED',
    data: { intent: 'follow-up', decision: input.decision, coveredBy, planHash, ...(approval ? { approvalReasons: [...approval.reasons] } : {}), ...drift },
  });
  const next: FollowUpPlan = {
    planHash,
    policyVersion: merged.policyVersion,
    decision: input.decision,
    actionIds: added.map((a) => a.actionId),
    phases: actionIdsByPhase({ actions: added }),
    maxConcurrency: signed.policy.apply.maxConcurrency,
    findings: [...new Set(merged.findings.map((f) => f.reasonCode))],
    approvalTimeoutSeconds: signed.policy.approval.timeoutSeconds,
  };
  if (!approval) return { next: 'APPLY', round: round + 1, plan: next };
  return { next: 'APPROVE', round: round + 1, plan: next };
}

/**
 * The follow-up's approval was rejected, or nobody decided it in time: its new work stays undone
 * and the change ends ESCALATED with INTENT_NOT_HELD, the drift named. What the change verified
 * before stays: it was decided on its own, and a refusal of the follow-up is no rejection of it.
 */
export async function refuseFollowUpCore(rt: EscalationRuntime, input: z.infer<typeof refusedSchema>): Promise<IntentCheck> {
  const plan = await rt.loadPlan(input.planHash);
  const { followUp } = plan;
  if (!followUp) throw new AppError('INPUT_INVALID', `plan ${input.planHash.slice(0, 12)} of change ${input.changeId} asks for no follow-up approval: there is no follow-up to refuse`);
  const { round } = followUp;
  const actionIds = [...followUp.actionIds];
  const wanted = new Set(actionIds);
  const work = plan.actions.filter((a) => wanted.has(a.actionId));
  const why = input.refusal === 'APPROVAL_REJECTED' ? 'its follow-up approval was rejected' : 'nobody decided its follow-up approval before the timeout';
  const message = `the intent does not hold: ${describeWork(work)} (${why})`;
  const data: JsonObject = { intent: 'not held', message, covered: false, refusal: input.refusal, planHash: input.planHash, round, actionIds, work: driftOf(work) };
  return escalate(rt, input.changeId, plan.policyVersion, ['INTENT_NOT_HELD', input.refusal], round, data);
}

/** What an escalation of the intent uses of the runtime. */
export type EscalationRuntime = Pick<Runtime, 'loadPlan'> & { readonly evidence: Pick<Runtime['evidence'], 'append'>; readonly changes: Pick<Runtime['changes'], 'get' | 'update'> };

async function escalate(rt: EscalationRuntime, changeId: string, policyVersion: string, reasonCodes: ReasonCode[], round: number, data: JsonObject): Promise<IntentCheck> {
  await rt.evidence.append({ changeId, actor: AUTOMATION_ACTOR, policyVersion, type: 'DECIDED', reasonCode: 'INTENT_NOT_HELD', data });
  const previous = (await rt.changes.get(changeId))?.reasonCodes ?? [];
  await rt.changes.update(changeId, { reasonCodes: [...new Set([...previous, ...reasonCodes])] });
  return { next: 'ESCALATE', round, outcome: { status: 'ESCALATED', next: 'ESCALATE', reasonCodes, rollbackActionIds: [] } };
}

function driftOf(work: readonly PlanAction[]): JsonObject[] {
  return work.map((a) => toJsonObject({ kind: a.kind, target: { ...a.target }, before: a.before, after: a.after }));
}

export const handler = async (input: unknown): Promise<IntentCheck> => {
  const parsed = parseInput(inputSchema, input, 'check-intent');
  return 'refusal' in parsed ? refuseFollowUpCore(runtime(), parsed) : checkIntentCore(runtime(), parsed);
};

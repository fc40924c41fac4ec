import { z } from 'zod';
import { ACTION_CATALOG } from '../connectors/registry.js';
import { readSnapshot } from '../connectors/snapshot-reader.js';
import { governanceEventSchema } from '../domain/events.js';
import { actionsByAccount, coveredByDecision, describeWork, MAX_FOLLOW_UPS, newWork, snapshotAsFound, touchedNhis, withFollowUp } from '../domain/intent.js';
import type { Outcome } from '../domain/outcome.js';
import { actionIdsByPhase, planChange } from '../domain/plan.js';
import type { JsonObject } from '../domain/plan-model.js';
import { recordPlanned } from './core/plan-evidence.js';
import { AUTOMATION_ACTOR, parseInput, runtime, type Runtime } from './runtime.js';

const inputSchema = z.strictObject({
  changeId: z.string().min(1),
  planHash: z.string().regex(/^[0-9a-f]{64}$/),
  event: governanceEventSchema,
  /** Follow-ups applied so far. */
  round: z.number().int().min(0).max(MAX_FOLLOW_UPS),
  /** The change's decision: a follow-up applied under it keeps it (contain first stays contain first). */
  decision: z.enum(['APPLY', 'APPROVE_FIRST', 'CONTAIN_FIRST']),
});

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
  | { readonly next: 'ESCALATE'; readonly round: number; readonly outcome: Outcome };

/**
 * After Apply verified every action: re-plans the change's trigger on the live state of the NHIs
 * it touched, under its policy version. Nothing new: the intent holds. New work the change's
 * decision covers (a key added during the approval wait): appended to the plan, recorded as a
 * second PLANNED, applied next. New work it does not cover, or still there after a follow-up:
 * ESCALATED with INTENT_NOT_HELD, the drift named.
 */
export async function checkIntentCore(rt: Runtime, input: z.infer<typeof inputSchema>): Promise<IntentCheck> {
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
  const replan = planChange({ changeId, policy: signed.policy, policyVersion: plan.policyVersion, event: input.event, estates: estates.map((e) => e.estate), now: new Date(), catalog: ACTION_CATALOG });
  const work = newWork(plan, replan, estates.map((e) => e.live));
  const common = { changeId, actor: AUTOMATION_ACTOR, policyVersion: plan.policyVersion } as const;
  const drift: JsonObject = { round, work: work.map((a) => ({ kind: a.kind, target: { ...a.target }, before: a.before, after: a.after })) };
  if (work.length === 0) {
    await rt.evidence.append({ ...common, type: 'DECIDED', data: { intent: 'held', round, planHash: input.planHash } });
    return { next: 'HELD', round };
  }
  const covered = coveredByDecision(plan, replan);
  if (round >= MAX_FOLLOW_UPS || !covered) {
    const why = !covered ? 'the change was not approved for it' : `it is still there after ${round} follow-up(s)`;
    const message = `the intent does not hold: ${describeWork(work)} (${why})`;
    await rt.evidence.append({ ...common, type: 'DECIDED', reasonCode: 'INTENT_NOT_HELD', data: { intent: 'not held', message, covered, ...drift } });
    const previous = (await rt.changes.get(changeId))?.reasonCodes ?? [];
    await rt.changes.update(changeId, { reasonCodes: [...new Set([...previous, 'INTENT_NOT_HELD' as const])] });
    return { next: 'ESCALATE', round, outcome: { status: 'ESCALATED', next: 'ESCALATE', reasonCodes: ['INTENT_NOT_HELD'], rollbackActionIds: [] } };
  }
  const merged = withFollowUp(plan, work);
  const added = merged.actions.slice(plan.actions.length);
  const planHash = await recordPlanned(rt, merged, { followUpOf: input.planHash, round: round + 1, followUp: added.map((a) => a.actionId) });
  await rt.changes.update(changeId, { planHash, actionCount: merged.actions.length });
  await rt.evidence.append({ ...common, type: 'DECIDED', data: { intent: 'follow-up', decision: input.decision, coveredBy: 'the change\'s decision', planHash, ...drift } });
  return {
    next: 'APPLY',
    round: round + 1,
    plan: {
      planHash,
      policyVersion: merged.policyVersion,
      decision: input.decision,
      actionIds: added.map((a) => a.actionId),
      phases: actionIdsByPhase({ actions: added }),
      maxConcurrency: signed.policy.apply.maxConcurrency,
      findings: [...new Set(merged.findings.map((f) => f.reasonCode))],
      approvalTimeoutSeconds: signed.policy.approval.timeoutSeconds,
    },
  };
}

export const handler = async (input: unknown): Promise<IntentCheck> => checkIntentCore(runtime(), parseInput(inputSchema, input, 'check-intent'));

import { z } from 'zod';
import { outcomeOfRejection } from '../domain/approval.js';
import { decideOutcome, type ActionResult, type Outcome } from '../domain/outcome.js';
import { AUTOMATION_ACTOR, parseInput, runtime, type Runtime } from './runtime.js';

const actionResult = z.object({ actionId: z.string(), status: z.enum(['VERIFIED', 'FAILED']), error: z.string().optional() });

const target = { changeId: z.string().min(1), planHash: z.string().regex(/^[0-9a-f]{64}$/) };
const inputSchema = z.union([
  z.strictObject({
    ...target,
    /** Apply's output: one array of results per phase (flattened here). */
    results: z.array(z.union([actionResult, z.array(actionResult)])).transform((results) => results.flat()),
  }),
  /** The after-the-fact approval was rejected: undo the containment as the policy says. */
  z.strictObject({ ...target, approvalRejected: z.literal(true) }),
]);

/**
 * Every round's outcomes, from the actions table: a follow-up round's Apply hands Summarize its own
 * results only, but a rejection after the fact undoes what every round verified.
 */
async function outcomesOfEveryRound(rt: Runtime, changeId: string): Promise<ActionResult[]> {
  const records = await rt.changes.actions.ofChange(changeId);
  return Object.entries(records).map(([actionId, record]) => ({ actionId, status: record.status === 'VERIFIED' ? 'VERIFIED' : 'FAILED' }));
}

export async function summarizeCore(rt: Runtime, input: z.infer<typeof inputSchema>): Promise<Outcome> {
  const plan = await rt.loadPlan(input.planHash);
  const { policy } = await rt.loadPolicyVersion(plan.policyVersion);
  const outcome = 'approvalRejected' in input ? outcomeOfRejection(plan, await outcomesOfEveryRound(rt, input.changeId), policy) : decideOutcome(plan, input.results, policy);
  if (outcome.reasonCodes.length > 0) {
    // Merge: the findings recorded at planning time (e.g. CREDENTIAL_EXPOSED) stay.
    const previous = (await rt.changes.get(input.changeId))?.reasonCodes ?? [];
    await rt.changes.update(input.changeId, { reasonCodes: [...new Set([...previous, ...outcome.reasonCodes])] });
  }
  if (outcome.next === 'ROLLBACK') {
    await rt.evidence.append({ changeId: input.changeId, type: 'ROLLBACK_STARTED', actor: AUTOMATION_ACTOR, policyVersion: plan.policyVersion, ...(outcome.reasonCodes[0] ? { reasonCode: outcome.reasonCodes[0] } : {}), data: { actions: outcome.rollbackActionIds, reasonCodes: outcome.reasonCodes } });
    await rt.changes.update(input.changeId, { status: 'ROLLING_BACK' });
  }
  return outcome;
}

export const handler = async (input: unknown) => summarizeCore(runtime(), parseInput(inputSchema, input, 'summarize'));

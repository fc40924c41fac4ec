import { ACTION_CATALOG } from '../../lambdas/connectors/registry.js';
import { changeIdForEvent, type GovernanceEvent } from '../../lambdas/domain/events.js';
import type { Plan } from '../../lambdas/domain/plan-model.js';
import type { Snapshot } from '../../lambdas/domain/snapshot.js';
import { planChange } from '../../lambdas/domain/plan.js';
import { readTriggerSnapshot } from '../../lambdas/handlers/plan.js';
import type { StackContext } from './context.js';
import { loadHeldStates } from './held-states.js';

/**
 * The plan an event would produce, computed by the same pure planner from a fresh read of the
 * live estate (or a snapshot the caller already read, covering the event's scope) and the
 * active, verified policy. Reads only: nothing is written anywhere.
 */
export async function dryRunPlan(ctx: StackContext, event: GovernanceEvent, now: Date = new Date(), snapshotRead?: Snapshot): Promise<Plan> {
  const signed = await ctx.policies.loadVerified(ctx.outputs.policyPublicKeyPem);
  const connectors = { iam: ctx.clients.iam, secrets: ctx.clients.secrets, now: () => now };
  const snapshot = snapshotRead ?? (await readTriggerSnapshot(connectors, event));
  const held = event.detailType === 'Reconcile Requested' ? await loadHeldStates(ctx) : [];
  return planChange({ changeId: changeIdForEvent(event.id), policy: signed.policy, policyVersion: signed.version, event, snapshot, now, catalog: ACTION_CATALOG, held });
}

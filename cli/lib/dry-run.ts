import { AccountSessions } from '../../lambdas/connectors/account-sessions.js';
import { ACTION_CATALOG } from '../../lambdas/connectors/registry.js';
import { partitionOfRegion } from '../../lambdas/domain/accounts.js';
import { changeIdForEvent, type GovernanceEvent } from '../../lambdas/domain/events.js';
import type { Plan } from '../../lambdas/domain/plan-model.js';
import { planChange } from '../../lambdas/domain/plan.js';
import { planningRead, readEventEstates, type EstateRead } from '../../lambdas/handlers/core/account-estates.js';
import type { StackContext } from './context.js';
import type { AccountEstates } from '../../lambdas/handlers/core/account-estates.js';
import type { GovernancePolicy } from '../../lambdas/domain/policy.js';
import { loadHeldStates } from './held-states.js';

/**
 * The plan an event would produce, computed by the same pure planner from a fresh read of the
 * live estate of every governed account it concerns and the active, verified policy. Reads only:
 * nothing is written anywhere. A member account is read through its member role as the Plan
 * function does; where the operator's credentials may not assume it (in AWS the role trusts only
 * the hub's connector roles), the plan names the account as not read.
 */
export async function dryRunPlan(ctx: StackContext, event: GovernanceEvent, now: Date = new Date(), read?: AccountEstates): Promise<Plan> {
  const signed = await ctx.policies.loadVerified(ctx.outputs.policyPublicKeyPem);
  const changeId = changeIdForEvent(event.id);
  const held = event.detailType === 'Reconcile Requested' ? await loadHeldStates(ctx) : [];
  const input = { changeId, policy: signed.policy, policyVersion: signed.version, event, now, catalog: ACTION_CATALOG, held };
  const { estates, unreadable } = read ?? (await readDryRunEstates(ctx, signed.policy, event, now, planningRead(event, (estate) => planChange({ ...input, estates: [estate] }))));
  return planChange({ ...input, estates, unreadable });
}

/** The live state of every governed account `event` concerns, read with the operator's credentials (member roles assumed). */
export async function readDryRunEstates(ctx: StackContext, policy: GovernancePolicy, event: GovernanceEvent, now: Date, read: EstateRead): Promise<AccountEstates> {
  const connectors = { iam: ctx.clients.iam, secrets: ctx.clients.secrets, now: () => now };
  const home = { id: ctx.target.account, partition: partitionOfRegion(ctx.target.region) };
  const clientConfig = { region: ctx.target.region, ...(ctx.target.endpoint ? { endpoint: ctx.target.endpoint } : {}) };
  return readEventEstates({ home, connectors, sessions: new AccountSessions(connectors, ctx.clients.sts, clientConfig) }, policy, changeIdForEvent(event.id), event, read);
}

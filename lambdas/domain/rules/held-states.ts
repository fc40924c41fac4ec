import type { GovernanceEvent } from '../events.js';
import { CLOUDTRAIL_DETAIL_TYPE, governanceTagsOfCause } from '../signals/cloudtrail.js';
import { heldStatesOf, judgeHeldState, type HeldState } from '../held-states.js';
import type { ActionIntent } from '../plan-builder.js';
import type { JsonObject, PlanFinding } from '../plan-model.js';
import type { GovernancePolicy } from '../policy.js';
import { detailNotRead, GOVERNED_TAG, isProd, OWNER_TAG, ownerOf, type NhiSnapshot } from '../snapshot.js';
import { finding, stateOf, type RuleContext, type RuleOutput } from './context.js';
import { PHASE_OWNERSHIP, PHASE_REVOCATION } from './intents.js';

export const HELD_STATE_DRIFT = 'HELD_STATE_DRIFT';

/** heldStates when a policy leaves the block out: restore, and only restoring access waits for approval. */
export const DEFAULT_HELD_STATES: NonNullable<GovernancePolicy['heldStates']> = { restore: true, approval: 'grantsOnly' };

export function heldStatesPolicy(policy: GovernancePolicy): NonNullable<GovernancePolicy['heldStates']> {
  return policy.heldStates ?? DEFAULT_HELD_STATES;
}

/**
 * Whether restoring this held state skips the approval the policy asks of other changes: under
 * `grantsOnly` (the default), putting back a verified revocation, containment or ownership move
 * is the decision already taken; giving access back (a rollback's state) is approved as any change.
 */
export function restoreNeedsNoApproval(policy: GovernancePolicy, held: Pick<HeldState, 'restoresAccess'>): boolean {
  return heldStatesPolicy(policy).approval === 'grantsOnly' && !held.restoresAccess;
}

/** The NHIs a reconcile looks at, as the reconcile rule scopes them (governed NHIs only). */
function scoped(ctx: RuleContext, event: GovernanceEvent): NhiSnapshot[] {
  if (event.detailType !== 'Reconcile Requested') return [];
  const { scope } = event.detail;
  if (scope === 'all') return [...ctx.estate.governed];
  if ('owner' in scope) return ctx.estate.governed.filter((nhi) => ownerOf(nhi) === scope.owner);
  const nhi = ctx.estate.governed.find((n) => n.name === scope.nhi || n.arn === scope.nhi);
  return nhi ? [nhi] : [];
}

/**
 * Reconcile against held states: every held state of an NHI in scope that no longer holds in the
 * live state is planned back (HELD_STATE_DRIFT, naming the change that established it), unless the
 * policy says report only, the facet is a rotation's (re-running a rotation is not a restore), or
 * another intent of this plan already acts on the target (the new change supersedes the held state).
 */
export function heldStateRule(ctx: RuleContext, event: GovernanceEvent, held: readonly HeldState[], planned: readonly ActionIntent[]): RuleOutput & { readonly approvalFree: ReadonlySet<ActionIntent> } {
  const intents: ActionIntent[] = [];
  const findings: PlanFinding[] = [];
  const approvalFree = new Set<ActionIntent>();
  const restore = heldStatesPolicy(ctx.policy).restore;
  const taken = new Set(planned.map((i) => `${i.target.type}:${i.target.id}`));
  for (const nhi of scoped(ctx, event)) {
    const refs = new Set([ctx.estate.ref(nhi), nhi.name, nhi.arn]);
    for (const state of heldStatesOf(held, refs)) {
      const live = stateOf(ctx, state.kind, state.params);
      const origin = state.establishedBy;
      if (live === null && detailNotRead(ctx.estate.snapshot, nhi)) {
        // A bulk pass (planning-read.ts): the target was not read, so the NHI is read one by one and judged then.
        findings.push(finding(ctx, nhi, HELD_STATE_DRIFT, `${state.target.type} ${state.target.id} was not read one by one yet: whether ${origin.changeId}'s state holds is judged once it is`, { heldBy: origin.changeId, kind: state.kind }));
        continue;
      }
      if (judgeHeldState(state, live) !== 'drifted' || live === null) continue;
      const data: JsonObject = { heldBy: origin.changeId, heldAction: origin.actionId, heldSince: origin.at, kind: state.kind, target: { type: state.target.type, id: state.target.id }, held: state.state, live };
      const what = `${state.target.type} ${state.target.id} is ${JSON.stringify(live)}, but ${origin.changeId} (${origin.trigger}, ${origin.actionId}) verified it ${JSON.stringify(state.state)}`;
      const blocked = !restore ? 'the policy says report only (heldStates.restore: false)' : state.group === 'rotation' ? 'a rotation is not re-run to restore it: rotate by hand' : taken.has(`${state.target.type}:${state.target.id}`) ? 'this change acts on the target anew' : null;
      if (blocked) {
        findings.push(finding(ctx, nhi, HELD_STATE_DRIFT, `${what}: not restored, ${blocked}`, data));
        continue;
      }
      const intent: ActionIntent = {
        kind: state.kind,
        target: { ...state.target, nhi: ctx.estate.ref(nhi) },
        params: state.params,
        finding: HELD_STATE_DRIFT,
        phase: state.group === 'ownership' ? PHASE_OWNERSHIP : PHASE_REVOCATION,
        group: state.group,
        prod: isProd(nhi),
      };
      intents.push(intent);
      if (restoreNeedsNoApproval(ctx.policy, state)) approvalFree.add(intent);
      findings.push(finding(ctx, nhi, HELD_STATE_DRIFT, `${what}: restored by this change`, data));
    }
  }
  return { intents, findings, approvalFree };
}

/**
 * An NHI a verified change acted on (it has held states) that no longer carries nhi-governed=true
 * has been taken out of governance around the workflow: reported and escalated, never dropped in
 * silence. Nothing is written to it: the connector role may only write to governed NHIs.
 */
export function ungovernedRule(ctx: RuleContext, event: GovernanceEvent, held: readonly HeldState[]): PlanFinding[] {
  if (event.detailType !== 'Reconcile Requested') return [];
  const { scope } = event.detail;
  const inScope = (nhi: { name: string; arn: string; tags: Record<string, string> }) => scope === 'all' || ('owner' in scope ? ownerOf(nhi) === scope.owner : nhi.name === scope.nhi || nhi.arn === scope.nhi);
  const written = governanceTagsOfCause(event.cause);
  const findings: PlanFinding[] = [];
  for (const nhi of ctx.estate.snapshot.ungoverned ?? []) {
    if (!inScope(nhi)) continue;
    const states = heldStatesOf(held, new Set([nhi.name, nhi.arn]));
    // Seen untagged by hand (CloudTrail), or known to have been governed (a change acted on it).
    if (states.length === 0 && !written.includes(GOVERNED_TAG)) continue;
    const by = [...new Set(states.map((h) => h.establishedBy.changeId))];
    const tag = nhi.tags[GOVERNED_TAG] ?? null;
    const was = by.length > 0 ? `was governed (${by.join(', ')} verified changes on it)` : `had its ${GOVERNED_TAG} tag written outside the workflow`;
    findings.push({
      nhi: nhi.name,
      reasonCode: 'GOVERNANCE_REMOVED',
      message: `${nhi.type} ${nhi.name} ${was} and now has ${tag === null ? `no ${GOVERNED_TAG} tag` : `${GOVERNED_TAG}=${tag}`}: taken out of governance outside the workflow; put the tag back`,
      data: { arn: nhi.arn, tag, heldBy: by },
    });
  }
  if (written.includes(OWNER_TAG) && scope !== 'all' && 'nhi' in scope) {
    const nhi = ctx.estate.governed.find((n) => inScope(n));
    if (nhi) {
      const owner = ownerOf(nhi);
      findings.push(finding(ctx, nhi, 'OWNER_TAG_CHANGED', `the owner tag of ${nhi.type} ${nhi.name} was written outside the workflow (CloudTrail); it is now ${owner ?? 'gone'}: ownership moves only through an Owner Changed event`, { owner }));
    }
  }
  return findings;
}

/**
 * CloudTrail reports every watched write of the account: a reconcile it started for an NHI that is
 * not governed and never was (no held state) is none of ours, and reports nothing.
 */
export function outsideGovernance(event: GovernanceEvent, held: readonly HeldState[], findings: readonly PlanFinding[]): PlanFinding[] {
  if (event.detailType !== 'Reconcile Requested' || event.cause?.detailType !== CLOUDTRAIL_DETAIL_TYPE) return [...findings];
  const { scope } = event.detail;
  if (scope === 'all' || !('nhi' in scope)) return [...findings];
  if (held.some((h) => h.target.nhi === scope.nhi || h.target.id === scope.nhi)) return [...findings];
  return findings.filter((f) => !(f.reasonCode === 'TARGET_NOT_FOUND' && f.nhi === scope.nhi));
}

/**
 * The intent holds, not only the actions: after Apply, the planner runs again on the live state of
 * the NHIs the change touched, under the change's policy version. Pure decisions on that re-plan:
 * what is new work, whether the change's decision covers it, and the plan once it is added.
 */
import { targetLabel } from './accounts.js';
import type { ApprovalRequirement } from './approval-rules.js';
import type { Plan, PlanAction, PlanFollowUp } from './plan-model.js';
import { OWNER_TAG, type Snapshot, type Tags } from './snapshot.js';

/** Follow-ups one change may apply under its decision before a drift that stays is escalated (INTENT_NOT_HELD). */
export const MAX_FOLLOW_UPS = 1;

/** The NHIs (plan refs) the change writes to: what the re-plan reads. */
export function touchedNhis(plan: Pick<Plan, 'actions'>): string[] {
  return [...new Set(plan.actions.map((a) => a.target.nhi))].sort();
}

/** The change's actions grouped by the account their targets are in (undefined: a plan made before accounts), in plan order. */
export function actionsByAccount(plan: Pick<Plan, 'actions'>): Array<{ readonly account: string | undefined; readonly actions: PlanAction[] }> {
  const groups = new Map<string | undefined, PlanAction[]>();
  for (const action of plan.actions) groups.set(action.target.account, [...(groups.get(action.target.account) ?? []), action]);
  return [...groups].map(([account, actions]) => ({ account, actions }));
}

const OWNERSHIP_KINDS = new Set(['iam.moveOwnerTag', 'secrets.moveOwnerTag']);

/**
 * The live state as the change's rules saw it: every owner tag the change moved is put back as it
 * found it, so a rule that selects by owner (a leaver's NHIs) selects the same NHIs again.
 */
export function snapshotAsFound(plan: Pick<Plan, 'actions'>, live: Snapshot): Snapshot {
  const owners = new Map<string, string | null>();
  for (const action of plan.actions) {
    if (!OWNERSHIP_KINDS.has(action.kind)) continue;
    const before = action.before.owner;
    owners.set(`${action.target.type}:${action.target.id}`, typeof before === 'string' ? before : null);
  }
  const retag = <T extends { type: string; name: string; tags: Tags }>(nhi: T): T => {
    const key = `${nhi.type}:${nhi.name}`;
    if (!owners.has(key)) return nhi;
    const { [OWNER_TAG]: _moved, ...rest } = nhi.tags;
    const owner = owners.get(key);
    return { ...nhi, tags: owner ? { ...rest, [OWNER_TAG]: owner } : rest };
  };
  return { ...live, users: live.users.map(retag), roles: live.roles.map(retag), secrets: live.secrets.map(retag) };
}

const identity = (a: Pick<PlanAction, 'kind' | 'target'>): string => `${a.kind}|${a.target.account ?? ''}|${a.target.type}|${a.target.id}`;

/**
 * Whether a re-planned action is work the change does not already hold: an action of a kind on a
 * target the change has not acted on (a key added during the approval wait). Not new work: what
 * the change did itself (the same kind on the same target: a session deny whose cut-off the
 * re-plan would move, a rotation, an ownership move) and the keys its rotations made (held now by
 * the secrets it rotated: the service's new credential). Fixed before the re-plan, so the planner
 * judges approval for the new work alone (PlanInput.approvalScope).
 */
export function isNewWorkOf(plan: Pick<Plan, 'actions'>, live: readonly Snapshot[]): (action: Pick<PlanAction, 'kind' | 'target' | 'params' | 'group'>) => boolean {
  const done = new Set(plan.actions.map(identity));
  const rotated = new Set(plan.actions.filter((a) => a.kind === 'secrets.rotateAccessKeySecret').map((a) => String(a.params.secretId)));
  const made = new Set(live.flatMap((l) => l.secrets).filter((s) => rotated.has(s.name) && s.heldAccessKeyId).map((s) => s.heldAccessKeyId));
  return (a) => a.group !== 'ownership' && !done.has(identity(a)) && !(a.kind === 'iam.deactivateAccessKey' && made.has(String(a.params.accessKeyId)));
}

/** What the re-plan asks for that the change does not already hold (isNewWorkOf). */
export function newWork(plan: Pick<Plan, 'actions'>, replan: Pick<Plan, 'actions'>, live: readonly Snapshot[]): PlanAction[] {
  return replan.actions.filter(isNewWorkOf(plan, live));
}

/**
 * The change's decision covers the new work when the re-plan (judged for the new work alone) needs
 * no approval, or when the change was approved (before or after the fact) under every rule the
 * re-plan needs, with as many approvers.
 */
export function coveredByDecision(plan: Pick<Plan, 'approval'>, replan: Pick<Plan, 'approval'>): boolean {
  if (!replan.approval.required) return true;
  if (!plan.approval.required) return false;
  const had: readonly ApprovalRequirement[] = plan.approval.rules ?? [];
  return (replan.approval.rules ?? []).every((needed) => had.some((r) => r.name === needed.name && r.group === needed.group && r.minApprovers >= needed.minApprovers));
}

/**
 * The change's plan with the new work appended, numbered on from its last action (a follow-up keeps
 * every earlier id). With a request (new work the change's decision does not cover), the grown
 * plan carries the follow-up's own approval request (Plan.followUp: its round, the plan it follows,
 * the new action ids, who must approve them), stored and hashed with it; RequestFollowUpApproval
 * asks what the plan says. Without one the plan has no followUp field at all (an earlier round's
 * request is not carried on), so it hashes as a plan without follow-ups always did.
 */
export function withFollowUp(plan: Plan, work: readonly PlanAction[], request?: Omit<PlanFollowUp, 'actionIds'>): Plan {
  const { followUp: _earlier, ...rest } = plan;
  const appended = work.map((action, i) => ({ ...action, actionId: `a${plan.actions.length + i + 1}` }));
  const grown: Plan = { ...rest, actions: [...plan.actions, ...appended] };
  if (!request) return grown;
  return { ...grown, followUp: { round: request.round, of: request.of, actionIds: appended.map((a) => a.actionId), approval: request.approval } };
}

/** The drift in words, for the escalation: each piece of new work, kind and exact target. */
export function describeWork(work: readonly PlanAction[]): string {
  return work.map((a) => `${a.kind} on ${targetLabel(a.target)} (${a.target.nhi})`).join('; ');
}

/**
 * Who must approve new work the change's decision does not cover: the re-plan's approval (judged
 * for the new work alone), asked before its writes, with the action ids its reasons name moved to
 * the ids the work has in the grown plan. Separation of duties stays as strict as for the change:
 * its owners and recipients are barred too.
 */
export function followUpApproval(plan: Pick<Plan, 'approval'>, replan: Pick<Plan, 'approval'>, work: readonly PlanAction[], grown: Pick<Plan, 'actions'>): Plan['approval'] {
  const ids = new Map(work.map((a, i) => [a.actionId, grown.actions[grown.actions.length - work.length + i]?.actionId ?? a.actionId]));
  const renumber = (reasons: readonly string[]): string[] => reasons.map((r) => renumberActionIds(r, ids));
  const union = (a: readonly string[] | undefined, b: readonly string[] | undefined): string[] => [...new Set([...(a ?? []), ...(b ?? [])])].sort();
  const { rules } = replan.approval;
  return {
    ...replan.approval,
    afterTheFact: false,
    reasons: renumber(replan.approval.reasons),
    owners: union(plan.approval.owners, replan.approval.owners),
    recipients: union(plan.approval.recipients, replan.approval.recipients),
    ...(rules ? { rules: rules.map((r) => ({ ...r, reasons: renumber(r.reasons) })) } : {}),
  };
}

/** An approval reason names actions as 'action a3 (' or '(a3 ' (plan.ts, approval-rules.ts): those ids, mapped. */
export function renumberActionIds(reason: string, ids: ReadonlyMap<string, string>): string {
  return reason.replace(/(?<=\(|action )a\d+(?= )/g, (id) => ids.get(id) ?? id);
}

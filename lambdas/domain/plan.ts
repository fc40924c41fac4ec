import type { GovernanceEvent } from './events.js';
import { activeExemption, approversOf, type GovernancePolicy } from './policy.js';
import { AppError } from './reasons.js';
import { isGoverned, ownerOf, type NhiSnapshot, type Snapshot, type UserSnapshot } from './snapshot.js';
import type { ActionKindCatalog, Plan, PlanAction, PlanFinding } from './plan-model.js';
import { buildActions, type ActionIntent } from './plan-builder.js';
import { terminationIntents } from './rules/termination.js';

export interface PlanInput {
  readonly changeId: string;
  readonly policy: GovernancePolicy;
  readonly policyVersion: string;
  readonly event: GovernanceEvent;
  readonly snapshot: Snapshot;
  readonly now: Date;
  readonly catalog: ActionKindCatalog;
  readonly requestedBy?: string;
}

export interface RuleOutput {
  readonly intents: ActionIntent[];
  readonly findings: PlanFinding[];
}

/** What a trigger asks for, before exemptions: the rules of the policy, one module per trigger. */
function evaluateRules(input: PlanInput, governed: readonly NhiSnapshot[]): RuleOutput {
  const { event } = input;
  switch (event.detailType) {
    case 'Employee Terminated':
      return terminationIntents(input.policy, event.detail, governed, new Date(input.now));
    default:
      throw new AppError('INPUT_INVALID', `no rule handles "${event.detailType}" yet`);
  }
}

/** The plan: a pure function of (signed policy, trigger, snapshot, time). */
export function planChange(input: PlanInput): Plan {
  const { policy, now, snapshot } = input;
  const governed = [...snapshot.users, ...snapshot.roles, ...snapshot.secrets].filter(isGoverned);
  const rules = evaluateRules(input, governed);
  const findings = [...rules.findings];
  const byNhi = new Map(governed.map((nhi) => [nhi.name, nhi]));
  const intents = rules.intents.filter((intent) => {
    const nhi = byNhi.get(intent.target.nhi);
    if (!nhi) return false;
    const exemption = activeExemption(policy, nhi, now);
    if (!exemption) return true;
    if (!findings.some((f) => f.nhi === nhi.name && f.reasonCode === 'EXEMPTED')) {
      findings.push({
        nhi: nhi.name,
        reasonCode: 'EXEMPTED',
        message: `exempted until ${exemption.expiresAt} (${exemption.ticket}, approved by ${exemption.approver}): ${exemption.reason}`,
        data: { ticket: exemption.ticket, approver: exemption.approver, expiresAt: exemption.expiresAt, reason: exemption.reason },
      });
    }
    return false;
  });
  const actions = buildActions(input.changeId, intents, snapshot, input.catalog);
  const owners = [...new Set(actions.map((a) => byNhi.get(a.target.nhi)).flatMap((nhi) => (nhi ? [ownerOf(nhi)] : [])).filter((o): o is string => o !== null))];
  if (input.event.detailType === 'Employee Terminated') owners.push(input.event.detail.email);
  const approvalReasons = approvalReasonsFor(policy, actions, byNhi);
  return {
    changeId: input.changeId,
    trigger: {
      eventId: input.event.id,
      detailType: input.event.detailType,
      source: input.event.source,
      detail: input.event.detail as unknown as Plan['trigger']['detail'],
      ...(input.requestedBy ? { requestedBy: input.requestedBy } : {}),
    },
    policyVersion: input.policyVersion,
    createdAt: now.toISOString(),
    asOf: asOfFor(input).toISOString(),
    actions,
    findings,
    approval: {
      required: approvalReasons.length > 0,
      reasons: approvalReasons,
      afterTheFact: input.event.detailType === 'Credential Exposed' && policy.triggers.credentialExposed.containFirst,
      group: policy.approval.group,
      approvers: approversOf(policy),
      owners: [...new Set(owners)].sort(),
    },
  };
}

function asOfFor(input: PlanInput): Date {
  if (input.event.detailType === 'Reconcile Requested' && input.event.detail.asOf) return new Date(input.event.detail.asOf);
  return input.now;
}

function approvalReasonsFor(policy: GovernancePolicy, actions: readonly PlanAction[], byNhi: ReadonlyMap<string, NhiSnapshot>): string[] {
  const reasons: string[] = [];
  const required = Object.entries(policy.approval.requiredForTags);
  for (const nhiName of new Set(actions.map((a) => a.target.nhi))) {
    const nhi = byNhi.get(nhiName);
    if (nhi && required.length > 0 && required.every(([key, value]) => nhi.tags[key] === value)) {
      reasons.push(`${required.map(([k, v]) => `${k}=${v}`).join(', ')} on ${nhiName}`);
    }
  }
  if (policy.approval.requiredForIrreversible) {
    for (const action of actions) if (!action.risk.reversible) reasons.push(`irreversible action ${action.actionId} (${action.kind})`);
  }
  return reasons;
}

export function usersOwnedBy(governed: readonly NhiSnapshot[], email: string): UserSnapshot[] {
  return governed.filter((nhi): nhi is UserSnapshot => nhi.type === 'user' && ownerOf(nhi) === email);
}

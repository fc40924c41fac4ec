import { severityAtLeast, type GovernanceEvent } from './events.js';
import { activeExemption, approversOf, DEFAULT_CONTAIN_FIRST_FLOOR, type GovernancePolicy } from './policy.js';
import { ownerOf, type NhiSnapshot, type Snapshot } from './snapshot.js';
import type { ActionKindCatalog, Plan, PlanAction, PlanFinding } from './plan-model.js';
import { buildActions, type ActionIntent, type PlannedAction } from './plan-builder.js';
import type { RuleContext, RuleOutput } from './rules/context.js';
import { approvalRequirements, approversOfRequirements, DEFAULT_RULE, type TouchedAction } from './approval-rules.js';
import { normalizeEmail } from './approval-link.js';
import { Estate, Estates, type EstateLookup } from './rules/estate.js';
import { terminationRule } from './rules/termination.js';
import { ownerChangeRule } from './rules/owner-change.js';
import { credentialExposureRule } from './rules/credential-exposure.js';
import { reconcileRule } from './rules/reconcile.js';
import { attestationRule } from './rules/attestation.js';
import { heldStateRule, outsideGovernance, ungovernedRule } from './rules/held-states.js';
import type { HeldState } from './held-states.js';

export type { RuleOutput } from './rules/context.js';

export interface PlanInput {
  readonly changeId: string;
  readonly policy: GovernancePolicy;
  readonly policyVersion: string;
  readonly event: GovernanceEvent;
  /** The live state of each account the trigger concerns (the stack's own first), as read. */
  readonly estates: readonly AccountEstate[];
  /** Governed accounts that could not be read: each is a CONNECTOR_ACCESS_DENIED finding, and the change escalates. */
  readonly unreadable?: readonly UnreadableAccount[];
  readonly now: Date;
  readonly catalog: ActionKindCatalog;
  readonly requestedBy?: string;
  /** Held states (deriveHeldStates): a reconcile also plans the way back for those that drifted. */
  readonly held?: readonly HeldState[];
  /** Only these actions are judged for approval (an intent re-check: the new work alone); absent: every action. */
  readonly approvalScope?: (action: PlanAction) => boolean;
}

/** One account's live state. */
export interface AccountEstate {
  /** The account id, stamped on every target planned in it; absent: not known (tests, dry runs of old stacks). */
  readonly account?: string;
  readonly snapshot: Snapshot;
  /** A member account: its NHIs are named by ARN in the plan. */
  readonly member?: boolean;
}

/** A governed account the planner could not read (its member role missing or denied). */
export interface UnreadableAccount {
  readonly account: string;
  /** The role that was refused. */
  readonly roleArn: string;
  readonly message: string;
}

/** What a trigger asks for, before exemptions: the rules of the policy, one module per trigger. */
function evaluateRules(ctx: RuleContext, event: GovernanceEvent): RuleOutput {
  switch (event.detailType) {
    case 'Employee Terminated':
      return terminationRule(ctx, event.detail);
    case 'Owner Changed':
      return ownerChangeRule(ctx, event.detail);
    case 'Credential Exposed':
      return credentialExposureRule(ctx, event.detail);
    case 'Reconcile Requested':
      return reconcileRule(ctx, event.detail);
    case 'Attestation Concluded':
      return attestationRule(ctx, event.detail);
  }
}

/**
 * The plan: a pure function of (signed policy, trigger, snapshot, time). Throws INPUT_INVALID
 * when the event names an NHI ambiguously; never targets an NHI outside the governed set.
 */
export function planChange(input: PlanInput): Plan {
  const { policy, now } = input;
  const parts = input.estates.map((part) => planAccount(input, part));
  const estate = new Estates(parts.map((p) => p.estate));
  // One plan across accounts: ordered by phase (ownership before revocation everywhere), then numbered.
  const planned = parts
    .flatMap((p) => p.planned)
    .map((p, index) => ({ p, index }))
    .sort((a, b) => a.p.action.phase - b.p.action.phase || a.index - b.index)
    .map(({ p }, i): PlannedAction => ({ ...p, action: { ...p.action, actionId: `a${i + 1}` } }));
  const findings = [...parts.flatMap((p) => p.findings), ...(input.unreadable ?? []).map(unreadableFinding)];
  const approvalFree = new Set(parts.flatMap((p) => [...p.approvalFree]));
  const asOf = asOfFor(input);
  // Putting back a verified revocation is the decision already taken (policy heldStates.approval).
  const gated = planned.filter((p) => !approvalFree.has(p.intent) && (input.approvalScope?.(p.action) ?? true));
  const touched = (p: PlannedAction): NhiSnapshot[] => nhisOf(p.intent, estate);
  const owners = new Set(planned.flatMap(touched).map(ownerOf).filter((o): o is string => o !== null));
  if (input.event.detailType === 'Employee Terminated') owners.add(input.event.detail.email);
  const exposure = input.event.detailType === 'Credential Exposed' ? input.event.detail : null;
  const floor = policy.triggers.credentialExposed.containFirstMinSeverity ?? DEFAULT_CONTAIN_FIRST_FLOOR;
  const afterTheFact = exposure !== null && policy.triggers.credentialExposed.containFirst && severityAtLeast(exposure.severity, floor);
  // Below the floor an exposure is a change like any other: approved first when the policy says so.
  const defaultReasons = approvalReasonsFor(policy, gated, touched, estate, afterTheFact);
  const requirements = approvalRequirements(policy, gated.map((p) => touchedAction(p, touched(p), estate)), defaultReasons);
  const approvalReasons = [...defaultReasons, ...requirements.filter((r) => r.name !== DEFAULT_RULE).flatMap((r) => r.reasons.map((why) => `rule ${r.name} (${r.minApprovers} of ${r.group}): ${why}`))];
  return {
    changeId: input.changeId,
    trigger: {
      eventId: input.event.id,
      detailType: input.event.detailType,
      source: input.event.source,
      detail: input.event.detail as unknown as Plan['trigger']['detail'],
      ...(input.requestedBy ? { requestedBy: input.requestedBy } : {}),
      ...(input.event.cause ? { cause: input.event.cause } : {}),
    },
    policyVersion: input.policyVersion,
    createdAt: now.toISOString(),
    asOf: asOf.toISOString(),
    actions: planned.map((p) => p.action),
    findings: findings.map((f) => withOwner(f, estate)),
    approval: {
      required: requirements.length > 0,
      reasons: approvalReasons,
      afterTheFact,
      group: policy.approval.group,
      approvers: requirements.length > 0 ? approversOfRequirements(requirements) : [...approversOf(policy)],
      owners: [...owners].sort(),
      recipients: recipientsOf(planned),
      rules: requirements,
    },
  };
}

interface AccountPlan {
  readonly estate: Estate;
  readonly planned: readonly PlannedAction[];
  readonly findings: readonly PlanFinding[];
  /** Intents that need no approval (putting a held state back). */
  readonly approvalFree: ReadonlySet<ActionIntent>;
}

/** The rules of the trigger over one account's estate: its admitted actions and its findings. */
function planAccount(input: PlanInput, part: AccountEstate): AccountPlan {
  const { policy, now } = input;
  const estate = new Estate(part.snapshot, part.member === true);
  const ctx: RuleContext = { policy, changeId: input.changeId, now, asOf: asOfFor(input), estate, catalog: input.catalog, keySlotsTaken: new Map() };
  const base = evaluateRules(ctx, input.event);
  const heldStates = input.held ?? [];
  const held = heldStateRule(ctx, input.event, heldStates, base.intents);
  const heldFindings = [...base.findings, ...held.findings, ...ungovernedRule(ctx, input.event, heldStates)];
  const findings = outsideGovernance(input.event, heldStates, heldFindings);
  const intents = [...base.intents, ...held.intents].filter((intent) => admitted(intent, estate, policy, now, findings));
  const planned = buildActions(input.changeId, intents, part.snapshot, input.catalog, part.account);
  const inAccount = part.account ? findings.map((f): PlanFinding => ({ ...f, account: part.account ?? '' })) : findings;
  return { estate, planned, findings: inAccount, approvalFree: held.approvalFree };
}

/** An account the planner could not read: named with its account, routed as CONNECTOR_ACCESS_DENIED. */
function unreadableFinding(unreadable: UnreadableAccount): PlanFinding {
  return {
    nhi: unreadable.roleArn,
    account: unreadable.account,
    reasonCode: 'CONNECTOR_ACCESS_DENIED',
    message: `account ${unreadable.account} was not read, nothing in it is planned: ${unreadable.message}`,
    data: { account: unreadable.account, roleArn: unreadable.roleArn },
  };
}

/** A finding with its NHI's owner tag, when the NHI is governed and has one. */
function withOwner(finding: PlanFinding, estate: EstateLookup): PlanFinding {
  const nhi = estate.byRef(finding.nhi);
  const owner = nhi ? ownerOf(nhi) : null;
  return owner ? { ...finding, owner } : finding;
}

/** Who the plan hands an NHI to: the new owner of every ownership move (Owner Changed, a leaver's manager). */
function recipientsOf(planned: readonly PlannedAction[]): string[] {
  const to = planned.filter((p) => p.action.group === 'ownership').map((p) => p.action.params.toOwner);
  return [...new Set(to.filter((o): o is string => typeof o === 'string').map(normalizeEmail))].sort();
}

function touchedAction(p: PlannedAction, nhis: readonly NhiSnapshot[], estate: EstateLookup): TouchedAction {
  return { actionId: p.action.actionId, kind: p.action.kind, nhis: nhis.map((n) => ({ ref: estate.ref(n), arn: n.arn, tags: n.tags })) };
}

/** The NHIs an intent writes to: its target's and the ones it touches. */
function nhisOf(intent: ActionIntent, estate: EstateLookup): NhiSnapshot[] {
  return [intent.target.nhi, ...(intent.touches ?? [])].map((ref) => estate.byRef(ref)).filter((nhi): nhi is NhiSnapshot => nhi !== null);
}

/**
 * An intent goes into the plan when every NHI it writes to is governed and none is under an
 * exemption in force; an exempted NHI is reported once.
 */
function admitted(intent: ActionIntent, estate: Estate, policy: GovernancePolicy, now: Date, findings: PlanFinding[]): boolean {
  const refs = [intent.target.nhi, ...(intent.touches ?? [])];
  const nhis = nhisOf(intent, estate);
  if (nhis.length !== refs.length) return false;
  let admit = true;
  for (const nhi of nhis) {
    const exemption = activeExemption(policy, nhi, now);
    if (!exemption) continue;
    admit = false;
    const ref = estate.ref(nhi);
    if (!findings.some((f) => f.nhi === ref && f.reasonCode === 'EXEMPTED')) {
      findings.push({
        nhi: ref,
        reasonCode: 'EXEMPTED',
        message: `exempted until ${exemption.expiresAt} (${exemption.ticket}, approved by ${exemption.approver}): ${exemption.reason}`,
        data: { ticket: exemption.ticket, approver: exemption.approver, expiresAt: exemption.expiresAt, reason: exemption.reason },
      });
    }
  }
  return admit;
}

function asOfFor(input: PlanInput): Date {
  if (input.event.detailType === 'Reconcile Requested' && input.event.detail.asOf) return new Date(input.event.detail.asOf);
  return input.now;
}

function approvalReasonsFor(policy: GovernancePolicy, planned: readonly PlannedAction[], touched: (p: PlannedAction) => NhiSnapshot[], estate: EstateLookup, afterTheFact: boolean): string[] {
  const reasons: string[] = [];
  const required = Object.entries(policy.approval.requiredForTags);
  if (required.length > 0) {
    const flagged = new Set<string>();
    for (const p of planned) {
      for (const nhi of touched(p)) {
        if (flagged.has(nhi.arn) || !required.every(([key, value]) => nhi.tags[key] === value)) continue;
        flagged.add(nhi.arn);
        reasons.push(`${required.map(([k, v]) => `${k}=${v}`).join(', ')} on ${estate.ref(nhi)}`);
      }
    }
  }
  if (policy.approval.requiredForIrreversible) {
    for (const { action } of planned) if (!action.risk.reversible) reasons.push(`irreversible action ${action.actionId} (${action.kind})`);
  }
  if (afterTheFact && planned.length > 0) reasons.push('containment of an exposed credential: applied first, approved after the fact');
  return reasons;
}

/**
 * The plan's action ids grouped by phase, lowest first: Apply runs one group after the other
 * (ownership moves are verified before any revocation starts), each group with bounded concurrency.
 */
export function actionIdsByPhase(plan: Pick<Plan, 'actions'>): string[][] {
  const phases = [...new Set(plan.actions.map((a) => a.phase))].sort((a, b) => a - b);
  return phases.map((phase) => plan.actions.filter((a) => a.phase === phase).map((a) => a.actionId));
}

/** NO_CHANGES, APPLY (straight through), APPROVE_FIRST, CONTAIN_FIRST (apply, then ask). */
export type PlanDecision = 'NO_CHANGES' | 'APPLY' | 'APPROVE_FIRST' | 'CONTAIN_FIRST';

/** How the workflow goes on after Plan. */
export function planDecision(plan: Pick<Plan, 'actions' | 'approval'>): PlanDecision {
  if (plan.actions.length === 0) return 'NO_CHANGES';
  if (!plan.approval.required) return 'APPLY';
  return plan.approval.afterTheFact ? 'CONTAIN_FIRST' : 'APPROVE_FIRST';
}

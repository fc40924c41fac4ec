import { normalizeEmail } from './approval-link.js';
import { accountOfArn } from './accounts.js';
import type { ApprovalRulePolicy, GovernancePolicy } from './policy.js';

/**
 * Approval rules (docs/policy.md "Approval rules"): what a change touches decides who must
 * approve it, and how many. Every rule matching an action of the change must be met by its own
 * distinct approvers; the policy's requiredForTags / requiredForIrreversible make the `default`
 * rule (the policy's group, one approver). Pure: the plan records the requirements, the approval
 * API counts decisions against them.
 */

/** The name of the requirement requiredForTags / requiredForIrreversible / containment make. */
export const DEFAULT_RULE = 'default';

/** One requirement of a change: `minApprovers` distinct approvers of `group` must approve. */
export interface ApprovalRequirement {
  readonly name: string;
  readonly group: string;
  readonly minApprovers: number;
  /** The group's members (normalized), fixed when the plan is made. */
  readonly approvers: readonly string[];
  /** Why it applies: 'tier=critical on svc-x (a2 iam.deactivateAccessKey)'. */
  readonly reasons: readonly string[];
}

/** What a rule sees of one action: its kind and every NHI it writes to. */
export interface TouchedAction {
  readonly actionId: string;
  readonly kind: string;
  readonly nhis: ReadonlyArray<{ readonly ref: string; readonly arn: string; readonly tags: Readonly<Record<string, string>> }>;
}

/** The account id of an ARN (arn:aws:iam::123456789012:user/x), or '' when it has none. */
export function accountOf(arn: string): string {
  return accountOfArn(arn) ?? '';
}

/** Why `rule` matches `action`, or null: kinds, then an NHI with every tag and in an account listed. */
export function ruleMatch(rule: Pick<ApprovalRulePolicy, 'match'>, action: TouchedAction): string | null {
  const { tags, accounts, kinds } = rule.match;
  if (kinds && !kinds.includes(action.kind)) return null;
  const wanted = Object.entries(tags ?? {});
  const nhi = action.nhis.find((n) => wanted.every(([k, v]) => n.tags[k] === v) && (!accounts || accounts.includes(accountOf(n.arn))));
  if (!nhi) return null;
  const what = [...wanted.map(([k, v]) => `${k}=${v}`), ...(accounts ? [`account ${accountOf(nhi.arn)}`] : []), ...(kinds ? [`kind ${action.kind}`] : [])];
  return `${what.join(', ')} on ${nhi.ref} (${action.actionId} ${action.kind})`;
}

function members(policy: GovernancePolicy, group: string): string[] {
  return [...new Set((policy.approval.groups[group] ?? []).map(normalizeEmail))];
}

/**
 * The requirements of a change: the default rule when `defaultReasons` is not empty, then each
 * policy rule matching at least one action (in policy order), with every action it matched.
 */
export function approvalRequirements(policy: GovernancePolicy, actions: readonly TouchedAction[], defaultReasons: readonly string[]): ApprovalRequirement[] {
  const requirements: ApprovalRequirement[] = [];
  if (defaultReasons.length > 0) {
    requirements.push({ name: DEFAULT_RULE, group: policy.approval.group, minApprovers: 1, approvers: members(policy, policy.approval.group), reasons: [...defaultReasons] });
  }
  for (const rule of policy.approval.rules ?? []) {
    const reasons = actions.map((a) => ruleMatch(rule, a)).filter((r): r is string => r !== null);
    if (reasons.length === 0) continue;
    requirements.push({ name: rule.name, group: rule.group, minApprovers: rule.minApprovers ?? 1, approvers: members(policy, rule.group), reasons });
  }
  return requirements;
}

/** Everyone who may approve under some requirement (normalized, first-seen order). */
export function approversOfRequirements(requirements: readonly ApprovalRequirement[]): string[] {
  return [...new Set(requirements.flatMap((r) => r.approvers.map(normalizeEmail)))];
}

export interface RequirementProgress {
  readonly name: string;
  readonly group: string;
  readonly minApprovers: number;
  /** Distinct approvers of the group who approved. */
  readonly approvedBy: readonly string[];
  /** Approvals this requirement still lacks. */
  readonly needed: number;
}

export interface Quorum {
  /** Every requirement has its distinct approvers. */
  readonly met: boolean;
  readonly requirements: readonly RequirementProgress[];
  /**
   * How many more distinct approvers (of those still eligible) would meet every requirement:
   * counted greedily, exact when the groups are nested or disjoint. When the eligible approvers
   * cannot meet a requirement, the approvals still lacking are counted.
   */
  readonly stillNeeded: number;
  /** false: the approvers still eligible cannot meet every requirement (the request will time out). */
  readonly reachable: boolean;
}

/**
 * Counts approvals against the requirements. `approvedBy`: who approved (the same person twice
 * counts once); `eligible`: who may still approve (separation of duties applied).
 */
export function quorumOf(requirements: readonly ApprovalRequirement[], approvedBy: readonly string[], eligible: readonly string[]): Quorum {
  const approved = new Set(approvedBy.map(normalizeEmail));
  const progress = requirements.map((r): RequirementProgress => {
    const inGroup = r.approvers.map(normalizeEmail).filter((a) => approved.has(a));
    const distinct = [...new Set(inGroup)];
    return { name: r.name, group: r.group, minApprovers: r.minApprovers, approvedBy: distinct, needed: Math.max(0, r.minApprovers - distinct.length) };
  });
  const met = progress.every((p) => p.needed === 0);
  // Greedy: add the eligible approver who closes the most of the remaining deficit.
  const deficit = new Map(progress.map((p, i) => [i, p.needed]));
  const pool = new Set(eligible.map(normalizeEmail).filter((a) => !approved.has(a)));
  const groups = requirements.map((r) => new Set(r.approvers.map(normalizeEmail)));
  let added = 0;
  while ([...deficit.values()].some((d) => d > 0)) {
    let best: string | null = null;
    let bestGain = 0;
    for (const candidate of pool) {
      const gain = groups.filter((g, i) => g.has(candidate) && (deficit.get(i) ?? 0) > 0).length;
      if (gain > bestGain) [best, bestGain] = [candidate, gain];
    }
    if (best === null) break;
    const pick = best;
    pool.delete(pick);
    added += 1;
    groups.forEach((g, i) => {
      if (g.has(pick) && (deficit.get(i) ?? 0) > 0) deficit.set(i, (deficit.get(i) ?? 0) - 1);
    });
  }
  const short = [...deficit.values()].reduce((sum, d) => sum + d, 0);
  return { met, requirements: progress, stillNeeded: added + short, reachable: short === 0 };
}

/** '1 more approval needed: critical-two-person (iam-approvers) 1 of 2' — for messages and pages. */
export function describeQuorum(quorum: Quorum): string {
  if (quorum.met) return 'every approval rule is met';
  const open = quorum.requirements.filter((r) => r.needed > 0).map((r) => `${r.name} (${r.group}) ${r.approvedBy.length} of ${r.minApprovers}`);
  const count = `${quorum.stillNeeded} more approval${quorum.stillNeeded === 1 ? '' : 's'} needed`;
  return `${count}: ${open.join('; ')}${quorum.reachable ? '' : ' (the approvers still eligible cannot meet every rule)'}`;
}

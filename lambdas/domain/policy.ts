import { z } from 'zod';
import { parse as parseYaml } from 'yaml';
import { AppError } from './reasons.js';
import { contentHash } from './canonical.js';
import { formatIssues, SEVERITIES, type Severity } from './events.js';

/** containFirstMinSeverity when a policy leaves it out. */
export const DEFAULT_CONTAIN_FIRST_FLOOR: Severity = 'high';

const email = z.string().trim().toLowerCase().pipe(z.email());
const positiveInt = z.number().int().positive();

const exemption = z.strictObject({
  nhi: z.string().min(1),
  reason: z.string().min(1),
  ticket: z.string().min(1),
  approver: email,
  expiresAt: z.iso.datetime({ offset: true }),
});

/** What an approval rule matches: every key given must hold (tags all equal, account among, kind among). */
const ruleMatch = z.strictObject({
  tags: z.record(z.string(), z.string()).optional(),
  accounts: z.array(z.string().regex(/^\d{12}$/, 'a 12-digit account id')).min(1).optional(),
  kinds: z.array(z.string().min(1)).min(1).optional(),
});

const approvalRule = z.strictObject({
  name: z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'lower-case letters, digits and dashes'),
  match: ruleMatch,
  /** A group of approval.groups. */
  group: z.string().min(1),
  /** Distinct approvers of the group needed. @default 1 */
  minApprovers: positiveInt.max(10).optional(),
});

/** Owner attestation campaigns (docs/policy.md#attestation); every key has a default. */
const attestation = z.strictObject({
  /** How long owners have to answer. @default 1209600 (14 days) */
  answerWindowSeconds: positiveInt.max(365 * 24 * 3600).optional(),
  /** After the window, how long the manager route has before an unanswered NHI is acted on. @default 604800 (7 days) */
  escalationWindowSeconds: positiveInt.max(365 * 24 * 3600).optional(),
  /** What happens to an NHI nobody attests: a reversible disable, or only the OWNER_UNKNOWN escalation. @default disable */
  onNoAnswer: z.enum(['disable', 'escalate']).optional(),
  /** Owner → their manager's address (the escalation route); an owner not listed escalates to routes.owner. */
  managers: z.record(email, email).optional(),
});

/** Held states (docs/policy.md#held-states): what verified changes left is restored when it drifts. */
const heldStates = z.strictObject({
  /** Plan the way back for a held state that no longer holds; false: report it only. */
  restore: z.boolean(),
  /** grantsOnly: only restoring access a rollback gave back is approved as any change; all: every restore is. */
  approval: z.enum(['grantsOnly', 'all']),
});

/** Desired permissions (docs/policy.md#baselines): what a governed NHI may hold; reconcile plans the excess away. */
/** A governed member account (docs/accounts.md): connectors assume ROLE_NAME there. */
const memberAccount = z.strictObject({
  // Unquoted in YAML it is a number, and an id with leading zeros would lose them.
  id: z.string({ error: 'a 12-digit account id as a string (quote it in YAML)' }).regex(/^\d{12}$/, 'a 12-digit account id'),
  roleName: z.string().regex(/^[\w+=,.@-]{1,64}$/, 'an IAM role name').optional(),
});

const baseline = z.strictObject({
  name: z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'lower-case letters, digits and dashes'),
  /** All listed tags equal; omitted: every governed NHI. */
  match: z.strictObject({ tags: z.record(z.string(), z.string()).optional() }).optional(),
  /** Any other attached managed policy is excess (omitted: managed policies are not judged). */
  allowManagedPolicies: z.array(z.string().regex(/^arn:aws[\w-]*:iam::(aws|\d{12}):policy\/[\w+=,.@/-]+$/, 'a managed policy ARN')).optional(),
  /** An Allow statement of an inline policy granting one of these (or more: "*" grants "iam:*") is excess. */
  forbidActions: z.array(z.string().regex(/^(\*|[a-z0-9-]+:[A-Za-z0-9*]+)$/, '"*" or service:Action (wildcards allowed)')).min(1).optional(),
  /** Active access keys beyond it (least recently used first) are excess. */
  maxActiveAccessKeys: z.number().int().min(0).max(2).optional(),
  /** false: a console password is excess (contained). */
  consoleAccess: z.boolean().optional(),
});

export const policySchema = z.strictObject({
  apiVersion: z.literal('nhigov/v1'),
  name: z.string().min(1),
  description: z.string().optional(),
  thresholds: z.strictObject({
    /** Keys unused (or never used and older) for longer are deactivated. */
    inactivityDays: positiveInt,
    /** Keys older than this are rotated (secret-held) or reported. */
    maxKeyAgeDays: positiveInt,
    /** Secrets not rotated for longer are overdue. */
    secretRotationDays: positiveInt,
    /** Days a deactivated key waits before finalize deletes it. */
    finalizeGraceDays: positiveInt,
  }),
  approval: z.strictObject({
    /** Approval is required when a targeted NHI carries all of these tags... */
    requiredForTags: z.record(z.string(), z.string()),
    /** ...or when an action is irreversible. */
    requiredForIrreversible: z.boolean(),
    group: z.string().min(1),
    groups: z.record(z.string(), z.array(email).min(1)),
    timeoutSeconds: positiveInt.max(365 * 24 * 3600),
    forbidOwnerApproval: z.boolean(),
    forbidRequesterApproval: z.boolean(),
    /** Approval rules by what a change touches: every rule matching an action must be met. */
    rules: z.array(approvalRule).optional(),
    /** Slack user id of an approver: their own link goes to them in a direct message. */
    slackUserIds: z.record(email, z.string().regex(/^[UW][A-Z0-9]{2,20}$/, 'a Slack user id (U… or W…)')).optional(),
  }),
  triggers: z.strictObject({
    employeeTerminated: z.strictObject({
      reassignToManager: z.boolean(),
      users: z.array(z.enum(['deactivateKeys', 'revokeSessions'])),
      roles: z.array(z.enum(['quarantine', 'revokeSessions'])),
      secrets: z.array(z.enum(['rotate'])),
    }),
    credentialExposed: z.strictObject({
      /** Contain before approval; the approval is asked after the fact. */
      containFirst: z.boolean(),
      rollbackOnReject: z.boolean(),
      /** Contain first only at or above this severity; below it the exposure waits for approval. @default high */
      containFirstMinSeverity: z.enum(SEVERITIES).optional(),
    }),
    reconcile: z.strictObject({
      deactivateUnusedKeys: z.boolean(),
      rotateAgedSecretKeys: z.boolean(),
      escalateUnowned: z.boolean(),
    }),
  }),
  failureHandling: z.strictObject({
    /** Unverified revocation: keep the verified ones and escalate. */
    revocation: z.enum(['escalate', 'rollback']),
    /** Unverified rotation: all or nothing. */
    rotation: z.enum(['escalate', 'rollback']),
    /** How long verify polls the target (IAM propagation) before VERIFY_TIMEOUT. */
    verifyTimeoutSeconds: positiveInt.max(840),
  }),
  apply: z.strictObject({ maxConcurrency: positiveInt.max(40) }),
  routes: z.strictObject({
    platform: email,
    'iam-team': email,
    security: email,
    /** The NHI's owner is notified directly; this is where ownerless escalations go. */
    owner: email,
  }),
  exemptions: z.array(exemption),
  /** Member accounts governed besides the stack's own (always governed). */
  accounts: z.array(memberAccount).optional(),
  baselines: z.array(baseline).optional(),
  heldStates: heldStates.optional(),
  attestation: attestation.optional(),
});

export type GovernancePolicy = z.infer<typeof policySchema>;
export type Exemption = z.infer<typeof exemption>;
export type ApprovalRulePolicy = z.infer<typeof approvalRule>;
export type BaselinePolicy = z.infer<typeof baseline>;
export type MemberAccountPolicy = z.infer<typeof memberAccount>;

/**
 * Parses and validates a policy document (YAML or JSON text). Throws POLICY_INVALID naming
 * every problem as `path: message` (also in `details.issues`).
 */
export function parsePolicy(text: string): GovernancePolicy {
  let raw: unknown;
  try {
    raw = parseYaml(text, { prettyErrors: true, uniqueKeys: true, maxAliasCount: 100 });
  } catch (cause) {
    throw new AppError('POLICY_INVALID', `policy is not valid YAML: ${(cause as Error).message.split('\n')[0]}`, { cause });
  }
  if (raw === null || raw === undefined) throw new AppError('POLICY_INVALID', 'policy is empty', { details: { issues: ['(root): the policy is empty'] } });
  const parsed = policySchema.safeParse(raw);
  if (!parsed.success) {
    throw new AppError('POLICY_INVALID', `policy is invalid: ${formatIssues(parsed.error)}`, { details: { issues: formatIssues(parsed.error).split('; ') } });
  }
  const issues = crossFieldIssues(parsed.data);
  if (issues.length > 0) throw new AppError('POLICY_INVALID', `policy is invalid: ${issues.join('; ')}`, { details: { issues } });
  return parsed.data;
}

/** Rules zod's shape cannot say: references between fields. */
function crossFieldIssues(policy: GovernancePolicy): string[] {
  const issues: string[] = [];
  const { groups, group } = policy.approval;
  if (!groups[group]) issues.push(`approval.group: "${group}" is not defined in approval.groups`);
  const names = new Set<string>();
  for (const [i, rule] of (policy.approval.rules ?? []).entries()) {
    if (names.has(rule.name)) issues.push(`approval.rules.${i}.name: "${rule.name}" is used by another rule`);
    names.add(rule.name);
    const members = groups[rule.group];
    if (!members) issues.push(`approval.rules.${i}.group: "${rule.group}" is not defined in approval.groups`);
    else if ((rule.minApprovers ?? 1) > new Set(members).size) issues.push(`approval.rules.${i}.minApprovers: ${rule.minApprovers ?? 1} exceeds the ${new Set(members).size} members of "${rule.group}"`);
    if (!rule.match.tags && !rule.match.accounts && !rule.match.kinds) issues.push(`approval.rules.${i}.match: name at least one of tags, accounts, kinds`);
  }
  const accountIds = new Set<string>();
  for (const [i, account] of (policy.accounts ?? []).entries()) {
    if (accountIds.has(account.id)) issues.push(`accounts.${i}.id: "${account.id}" is listed twice`);
    accountIds.add(account.id);
  }
  const baselineNames = new Set<string>();
  for (const [i, b] of (policy.baselines ?? []).entries()) {
    if (baselineNames.has(b.name)) issues.push(`baselines.${i}.name: "${b.name}" is used by another baseline`);
    baselineNames.add(b.name);
  }
  return issues;
}

/** The policy version: sha256 of the policy's canonical JSON. */
export function policyVersion(policy: GovernancePolicy): string {
  return contentHash(policy);
}

export function activeExemption(policy: GovernancePolicy, nhi: { name: string; arn: string }, now: Date): Exemption | null {
  return (
    policy.exemptions.find(
      (e) => (e.nhi === nhi.name || e.nhi === nhi.arn) && Date.parse(e.expiresAt) > now.getTime(),
    ) ?? null
  );
}

export interface ExemptionState extends Exemption {
  /** In force at `now`: not yet expired. An expired exemption stops applying by itself. */
  readonly inForce: boolean;
}

/** Every exemption of the policy, with whether it is in force at `now`. */
export function exemptionStates(policy: GovernancePolicy, now: Date): ExemptionState[] {
  return policy.exemptions.map((e) => ({ ...e, inForce: Date.parse(e.expiresAt) > now.getTime() }));
}

export function approversOf(policy: GovernancePolicy): readonly string[] {
  return policy.approval.groups[policy.approval.group] ?? [];
}

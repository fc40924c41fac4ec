import type { ActionIntent } from '../plan-builder.js';
import type { JsonObject, PlanFinding } from '../plan-model.js';
import type { BaselinePolicy } from '../policy.js';
import { grantedForbidden, statementsOf, withoutForbidden } from '../policy-statements.js';
import { findManagedPolicy, isProd, MAX_MANAGED_POLICY_VERSIONS, type AccessKeySnapshot, type GroupSnapshot, type ManagedPolicySnapshot, type NhiSnapshot, type RoleSnapshot, type UserSnapshot } from '../snapshot.js';
import { finding, type RuleContext } from './context.js';
import { containConsoleIntent } from './credentials.js';
import { deactivateKeyIntent, PHASE_REVOCATION } from './intents.js';
import { reportedKeyCountFinding } from './report-facts.js';

const CAUSE = 'EXCESSIVE_PRIVILEGE';

/** The baselines that apply to an NHI: every listed tag equal (no match: all governed NHIs). */
export function baselinesFor(baselines: readonly BaselinePolicy[], nhi: Pick<NhiSnapshot, 'tags'>): BaselinePolicy[] {
  return baselines.filter((b) => Object.entries(b.match?.tags ?? {}).every(([key, value]) => nhi.tags[key] === value));
}

/** Least recently used first: never used before used, then by last use, then the older key; ties by id. */
export function leastRecentlyUsedFirst(keys: readonly AccessKeySnapshot[]): AccessKeySnapshot[] {
  const lastUse = (k: AccessKeySnapshot) => (k.lastUsedAt === null ? -Infinity : Date.parse(k.lastUsedAt));
  return [...keys].sort((a, b) => lastUse(a) - lastUse(b) || Date.parse(a.createdAt) - Date.parse(b.createdAt) || a.accessKeyId.localeCompare(b.accessKeyId));
}

function principalIntent(ctx: RuleContext, principal: UserSnapshot | RoleSnapshot, kind: string, params: JsonObject): ActionIntent {
  return {
    kind,
    target: { type: principal.type, id: principal.name, nhi: ctx.estate.ref(principal) },
    params: { principalType: principal.type, principalName: principal.name, ...params },
    finding: CAUSE,
    phase: PHASE_REVOCATION,
    group: 'revocation',
    prod: isProd(principal),
  };
}

const groupIndexes = new WeakMap<object, ReadonlyMap<string, GroupSnapshot>>();

/** The snapshot's groups by name (empty when the read had none). */
function groupsOf(ctx: RuleContext): ReadonlyMap<string, GroupSnapshot> {
  const snapshot = ctx.estate.snapshot;
  let index = groupIndexes.get(snapshot);
  if (!index) {
    index = new Map((snapshot.groups ?? []).map((g) => [g.name, g]));
    groupIndexes.set(snapshot, index);
  }
  return index;
}

/** Leaving a group that grants what the baseline does not allow (the group itself, shared by others, is left alone). */
function membershipIntent(ctx: RuleContext, user: UserSnapshot, groupName: string): ActionIntent {
  return {
    kind: 'iam.removeUserFromGroup',
    target: { type: 'user', id: user.name, nhi: ctx.estate.ref(user) },
    params: { userName: user.name, groupName },
    finding: CAUSE,
    phase: PHASE_REVOCATION,
    group: 'revocation',
    prod: isProd(user),
  };
}

const documentOf = (document: Readonly<Record<string, unknown>>): JsonObject => document as JsonObject;

/** The forbidden actions a document grants, each once. */
function forbiddenIn(document: Readonly<Record<string, unknown>>, forbid: readonly string[]): string[] {
  return [...new Set(statementsOf(documentOf(document)).flatMap((s) => grantedForbidden(s, forbid)))];
}

/** Every baseline that lists allowed managed policies lists this one. */
const allowedByAll = (applying: readonly BaselinePolicy[], policyArn: string): boolean => applying.every((b) => !b.allowManagedPolicies || b.allowManagedPolicies.includes(policyArn));

/**
 * Why a customer-managed policy granting a forbidden action is detached rather than edited, or
 * null when it is edited: a new default version changes the policy for every principal it is
 * attached to or bounds, and IAM keeps five versions at most (a sixth means deleting one, which a reversible
 * edit must not do).
 */
function editRefusal(policy: ManagedPolicySnapshot, kept: JsonObject | null): string | null {
  if (policy.attachmentCount > 1) return `attached to ${policy.attachmentCount} principals: editing it would change the others too`;
  if (policy.boundaryUsageCount > 0) return `the permissions boundary of ${policy.boundaryUsageCount} principal(s): editing it would change what they may do`;
  if (policy.versionCount >= MAX_MANAGED_POLICY_VERSIONS) return `has ${policy.versionCount} versions, IAM's limit: a new one would mean deleting one`;
  if (kept === null) return 'every statement grants a forbidden action';
  return null;
}

/** Why a group's membership is excess: each of its policies the baselines do not allow or that grants a forbidden action. */
function groupExcess(ctx: RuleContext, group: GroupSnapshot, applying: readonly BaselinePolicy[], forbid: readonly string[]): JsonObject[] {
  const reasons: JsonObject[] = [];
  for (const inline of group.inlinePolicies) {
    const forbidden = forbiddenIn(inline.document, forbid);
    if (forbidden.length > 0) reasons.push({ inlinePolicy: inline.name, forbidden });
  }
  for (const attached of group.attachedPolicies ?? []) {
    if (!allowedByAll(applying, attached.policyArn)) {
      reasons.push({ managedPolicy: attached.policyArn, allowed: false });
      continue;
    }
    const managed = findManagedPolicy(ctx.estate.snapshot, attached.policyArn);
    const forbidden = managed ? forbiddenIn(managed.document, forbid) : [];
    if (forbidden.length > 0) reasons.push({ managedPolicy: attached.policyArn, forbidden });
  }
  return reasons;
}

/** A customer-managed policy as a reviewer reads it; an AWS managed one (not read) by its ARN only. */
function managedPolicyInWords(ctx: RuleContext, policyArn: string, forbid: readonly string[]): JsonObject {
  const managed = findManagedPolicy(ctx.estate.snapshot, policyArn);
  if (!managed) return { policyArn };
  return { policyArn, defaultVersionId: managed.defaultVersionId, statements: statementsOf(documentOf(managed.document)).length, forbidden: forbiddenIn(managed.document, forbid), attachments: managed.attachmentCount, boundaryOf: managed.boundaryUsageCount, versions: managed.versionCount };
}

/** What a principal holds, in words a reviewer reads: managed policies, inline statements, groups and what they grant, active keys, console. */
function permissionsOf(ctx: RuleContext, principal: UserSnapshot | RoleSnapshot, applying: readonly BaselinePolicy[], forbid: readonly string[]): JsonObject {
  const groupGrants = (name: string): JsonObject => {
    const group = groupsOf(ctx).get(name);
    if (!group) return { group: name };
    return {
      group: name,
      inlinePolicies: group.inlinePolicies.map((p) => ({ name: p.name, forbidden: forbiddenIn(p.document, forbid) })),
      managedPolicies: (group.attachedPolicies ?? []).map((p) => ({ ...managedPolicyInWords(ctx, p.policyArn, forbid), allowed: allowedByAll(applying, p.policyArn) })),
    };
  };
  return {
    managedPolicies: principal.attachedPolicies.map((p) => p.policyArn).sort(),
    customerManagedPolicies: principal.attachedPolicies.filter((p) => findManagedPolicy(ctx.estate.snapshot, p.policyArn)).map((p) => managedPolicyInWords(ctx, p.policyArn, forbid)),
    inlinePolicies: principal.inlinePolicies.map((p) => ({ name: p.name, statements: statementsOf(documentOf(p.document)).length, forbidden: forbiddenIn(p.document, forbid) })),
    ...(principal.type === 'user'
      ? {
          groups: [...principal.groups],
          groupGrants: principal.groups.map(groupGrants),
          activeAccessKeys: principal.accessKeys.filter((k) => k.status === 'Active').map((k) => k.accessKeyId),
          consoleAccess: principal.loginProfile ?? null,
        }
      : {}),
  };
}

/** One excess item: the action and why, as the finding names it. */
interface Excess {
  readonly intent: ActionIntent;
  readonly why?: JsonObject;
}

/** Attached managed policies: not allowed → detached; customer-managed granting a forbidden action → edited (this NHI's alone) or detached. */
function managedPolicyExcess(ctx: RuleContext, principal: UserSnapshot | RoleSnapshot, applying: readonly BaselinePolicy[], forbid: readonly string[]): Excess[] {
  const excess: Excess[] = [];
  for (const { policyArn } of principal.attachedPolicies) {
    if (!allowedByAll(applying, policyArn)) {
      excess.push({ intent: principalIntent(ctx, principal, 'iam.detachManagedPolicy', { policyArn }), why: { allowed: false } });
      continue;
    }
    const managed = forbid.length > 0 ? findManagedPolicy(ctx.estate.snapshot, policyArn) : null;
    if (!managed) continue;
    const { document, removed } = withoutForbidden(documentOf(managed.document), forbid);
    if (removed.length === 0) continue;
    const forbidden = forbiddenIn(managed.document, forbid);
    const refusal = editRefusal(managed, document);
    if (refusal === null && document !== null) {
      excess.push({ intent: principalIntent(ctx, principal, 'iam.editManagedPolicy', { policyArn, versionId: managed.defaultVersionId, document }), why: { forbidden, statementsRemoved: removed.length } });
    } else {
      excess.push({ intent: principalIntent(ctx, principal, 'iam.detachManagedPolicy', { policyArn }), why: { forbidden, detachedBecause: refusal } });
    }
  }
  return excess;
}

/**
 * Desired permissions: for each governed user or role a baseline matches, the excess it holds —
 * a managed policy not allowed (detached); a customer-managed policy granting a forbidden action
 * (a new default version without those statements when the policy is this NHI's alone, else
 * detached: see editRefusal); an inline Allow statement granting one (the policy put back without
 * it, or deleted when nothing is left); a membership of a group whose inline or attached managed
 * policy is not allowed or grants one (the user leaves the group); active keys beyond the maximum
 * (least recently used first deactivated); a console password when console access is off
 * (contained). Every inverse puts back exactly what was there, and the plan's fingerprint of it
 * (a document's hash, a policy's default version) refuses a stale plan. What a baseline allows is
 * never touched, except the allowed statements of a policy that has to be detached. One finding
 * per NHI over its baselines says what it holds now and which action removes what, and why.
 */
export function baselineRule(ctx: RuleContext, scoped: readonly NhiSnapshot[]): { intents: ActionIntent[]; findings: PlanFinding[] } {
  const baselines = ctx.policy.baselines ?? [];
  const intents: ActionIntent[] = [];
  const findings: PlanFinding[] = [];
  if (baselines.length === 0) return { intents, findings };
  for (const nhi of scoped) {
    if (nhi.type === 'secret') continue;
    const applying = baselinesFor(baselines, nhi);
    if (applying.length === 0) continue;
    const forbid = [...new Set(applying.flatMap((b) => b.forbidActions ?? []))];
    const excess: Excess[] = managedPolicyExcess(ctx, nhi, applying, forbid);
    if (forbid.length > 0) {
      for (const inline of nhi.inlinePolicies) {
        const { document, removed } = withoutForbidden(documentOf(inline.document), forbid);
        if (removed.length === 0) continue;
        excess.push({ intent: document ? principalIntent(ctx, nhi, 'iam.putInlinePolicy', { policyName: inline.name, document }) : principalIntent(ctx, nhi, 'iam.deleteInlinePolicy', { policyName: inline.name }) });
      }
    }
    if (nhi.type === 'user') {
      for (const name of nhi.groups) {
        const group = groupsOf(ctx).get(name);
        const groupPolicies = group ? groupExcess(ctx, group, applying, forbid) : [];
        if (groupPolicies.length > 0) excess.push({ intent: membershipIntent(ctx, nhi, name), why: { groupPolicies } });
      }
    }
    if (nhi.type === 'user') {
      const limits = applying.flatMap((b) => (b.maxActiveAccessKeys === undefined ? [] : [b.maxActiveAccessKeys]));
      const active = nhi.accessKeys.filter((k) => k.status === 'Active');
      const reported = limits.length > 0 ? reportedKeyCountFinding(ctx, nhi, Math.min(...limits)) : null;
      if (reported) findings.push(reported);
      if (limits.length > 0 && active.length > Math.min(...limits)) {
        for (const key of leastRecentlyUsedFirst(active).slice(0, active.length - Math.min(...limits))) excess.push({ intent: deactivateKeyIntent(ctx, nhi, key, CAUSE, 'revocation') });
      }
      if (nhi.loginProfile === true && applying.some((b) => b.consoleAccess === false)) excess.push({ intent: containConsoleIntent(ctx, nhi, CAUSE, 'revocation') });
    }
    if (excess.length === 0) continue;
    intents.push(...excess.map((e) => e.intent));
    findings.push(
      finding(ctx, nhi, CAUSE, `${nhi.type} ${nhi.name} holds more than baseline ${applying.map((b) => b.name).join(', ')} allows: ${excess.length} action(s) remove the excess`, {
        baselines: applying.map((b) => b.name),
        before: permissionsOf(ctx, nhi, applying, forbid),
        excess: excess.map(({ intent: i, why }) => ({
          kind: i.kind,
          target: i.target.id,
          ...(typeof i.params.policyArn === 'string' ? { policyArn: i.params.policyArn } : {}),
          ...(typeof i.params.policyName === 'string' ? { policyName: i.params.policyName } : {}),
          ...(typeof i.params.groupName === 'string' ? { groupName: i.params.groupName } : {}),
          ...(why ?? {}),
        })),
      }),
    );
  }
  return { intents, findings };
}

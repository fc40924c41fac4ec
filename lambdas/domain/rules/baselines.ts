import type { ActionIntent } from '../plan-builder.js';
import type { JsonObject, PlanFinding } from '../plan-model.js';
import type { BaselinePolicy } from '../policy.js';
import { grantedForbidden, statementsOf, withoutForbidden } from '../policy-statements.js';
import { isProd, type AccessKeySnapshot, type GroupSnapshot, type NhiSnapshot, type RoleSnapshot, type UserSnapshot } from '../snapshot.js';
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

/** Leaving a group whose inline policy grants a forbidden action (the group itself, shared by others, is left alone). */
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

/** What a principal holds, in words a reviewer reads: managed policies, inline statements, active keys, console. */
function permissionsOf(principal: UserSnapshot | RoleSnapshot, forbid: readonly string[]): JsonObject {
  return {
    managedPolicies: principal.attachedPolicies.map((p) => p.policyArn).sort(),
    inlinePolicies: principal.inlinePolicies.map((p) => ({ name: p.name, statements: statementsOf(p.document as JsonObject).length, forbidden: [...new Set(statementsOf(p.document as JsonObject).flatMap((s) => grantedForbidden(s, forbid)))] })),
    ...(principal.type === 'user'
      ? { groups: [...principal.groups], activeAccessKeys: principal.accessKeys.filter((k) => k.status === 'Active').map((k) => k.accessKeyId), consoleAccess: principal.loginProfile ?? null }
      : {}),
  };
}

/**
 * Desired permissions: for each governed user or role a baseline matches, the excess it holds —
 * a managed policy not allowed (detached), an inline Allow statement granting a forbidden action
 * (the policy put back without it, or deleted when nothing is left; the inverse puts the exact
 * previous document back and the plan's fingerprint of it refuses a stale plan), a membership of
 * a group whose inline policy grants one (the user leaves the group), active keys
 * beyond the maximum (least recently used first deactivated), a console password when console
 * access is off (contained). What a baseline allows is never touched. One finding per NHI over
 * its baselines says what it holds now and what it will hold.
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
    const excess: ActionIntent[] = [];
    const forbid = [...new Set(applying.flatMap((b) => b.forbidActions ?? []))];
    for (const policy of nhi.attachedPolicies) {
      if (applying.some((b) => b.allowManagedPolicies && !b.allowManagedPolicies.includes(policy.policyArn))) excess.push(principalIntent(ctx, nhi, 'iam.detachManagedPolicy', { policyArn: policy.policyArn }));
    }
    if (forbid.length > 0) {
      for (const inline of nhi.inlinePolicies) {
        const { document, removed } = withoutForbidden(inline.document as JsonObject, forbid);
        if (removed.length === 0) continue;
        excess.push(document ? principalIntent(ctx, nhi, 'iam.putInlinePolicy', { policyName: inline.name, document }) : principalIntent(ctx, nhi, 'iam.deleteInlinePolicy', { policyName: inline.name }));
      }
    }
    if (nhi.type === 'user' && forbid.length > 0) {
      for (const group of nhi.groups) {
        const grants = groupsOf(ctx).get(group)?.inlinePolicies.some((p) => statementsOf(p.document as JsonObject).some((st) => grantedForbidden(st, forbid).length > 0));
        if (grants) excess.push(membershipIntent(ctx, nhi, group));
      }
    }
    if (nhi.type === 'user') {
      const limits = applying.flatMap((b) => (b.maxActiveAccessKeys === undefined ? [] : [b.maxActiveAccessKeys]));
      const active = nhi.accessKeys.filter((k) => k.status === 'Active');
      const reported = limits.length > 0 ? reportedKeyCountFinding(ctx, nhi, Math.min(...limits)) : null;
      if (reported) findings.push(reported);
      if (limits.length > 0 && active.length > Math.min(...limits)) {
        for (const key of leastRecentlyUsedFirst(active).slice(0, active.length - Math.min(...limits))) excess.push(deactivateKeyIntent(ctx, nhi, key, CAUSE, 'revocation'));
      }
      if (nhi.loginProfile === true && applying.some((b) => b.consoleAccess === false)) excess.push(containConsoleIntent(ctx, nhi, CAUSE, 'revocation'));
    }
    if (excess.length === 0) continue;
    intents.push(...excess);
    findings.push(
      finding(ctx, nhi, CAUSE, `${nhi.type} ${nhi.name} holds more than baseline ${applying.map((b) => b.name).join(', ')} allows: ${excess.length} action(s) remove the excess`, {
        baselines: applying.map((b) => b.name),
        before: permissionsOf(nhi, forbid),
        excess: excess.map((i) => ({
          kind: i.kind,
          target: i.target.id,
          ...(typeof i.params.policyArn === 'string' ? { policyArn: i.params.policyArn } : {}),
          ...(typeof i.params.policyName === 'string' ? { policyName: i.params.policyName } : {}),
          ...(typeof i.params.groupName === 'string' ? { groupName: i.params.groupName } : {}),
        })),
      }),
    );
  }
  return { intents, findings };
}

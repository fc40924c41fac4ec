import type { PlanFinding } from '../plan-model.js';
import { detailNotRead, holdsAccessKey, type ReportedAccessKey, type SecretSnapshot, type UserSnapshot } from '../snapshot.js';
import { finding, olderThan, type RuleContext } from './context.js';
import { lastRotation } from './rotation.js';

/**
 * The first pass of a reconcile of a whole account (handlers/core/planning-read.ts) knows a user's
 * keys only from the credential report, which names no key ids, and no key a secret holds. What
 * a rule could act on there becomes a finding on the NHI instead of an action: the planner then
 * reads that NHI one by one and plans again. These findings select reads; no plan is made of them.
 * Every check errs towards reading: a report hours old shows a key used since as unused.
 */

/** Each active key the report shows unused past inactivityDays, or older than maxKeyAgeDays. */
export function reportedKeyFindings(ctx: RuleContext, user: UserSnapshot): PlanFinding[] {
  const { inactivityDays, maxKeyAgeDays } = ctx.policy.thresholds;
  return (user.reportedKeys ?? []).flatMap((key) => {
    if (!key.active) return [];
    const what = `an active key of ${user.name} the credential report dates ${key.createdAt ?? 'nowhere'}`;
    const since = key.lastUsedAt ?? key.createdAt;
    if (since === null || olderThan(since, inactivityDays, ctx.asOf)) {
      return [finding(ctx, user, 'KEY_UNUSED', `${what} was ${key.lastUsedAt ? `last used ${key.lastUsedAt}` : 'never used'}: its id is read before planning`, { createdAt: key.createdAt, lastUsedAt: key.lastUsedAt })];
    }
    if (key.createdAt === null || olderThan(key.createdAt, maxKeyAgeDays, ctx.asOf)) {
      return [finding(ctx, user, 'KEY_AGE_EXCEEDED', `${what} is over ${maxKeyAgeDays} days old: its id is read before planning`, { createdAt: key.createdAt })];
    }
    return [];
  });
}

/** More active keys in the report than a baseline's maxActiveAccessKeys. */
export function reportedKeyCountFinding(ctx: RuleContext, user: UserSnapshot, max: number): PlanFinding | null {
  const active = (user.reportedKeys ?? []).filter((k) => k.active).length;
  if (active <= max) return null;
  return finding(ctx, user, 'EXCESSIVE_PRIVILEGE', `the credential report shows ${active} active access keys of ${user.name}, over the baseline's ${max}: their ids are read before planning`, { activeKeys: active, max });
}

/**
 * A key secret whose held key was not read, in a snapshot partly from the report: a finding when
 * its rotation could be due. The held key is one of its user's keys (or none): each is tried, and
 * the earliest basis decides.
 */
export function reportedSecretFinding(ctx: RuleContext, secret: SecretSnapshot): PlanFinding | null {
  if (!holdsAccessKey(secret) || !detailNotRead(ctx.estate.snapshot, secret)) return null;
  const { maxKeyAgeDays, secretRotationDays } = ctx.policy.thresholds;
  const user = ctx.estate.keyUserOf(secret);
  const keys: readonly ReportedAccessKey[] = user ? (user.reportedKeys ?? user.accessKeys.map((k) => ({ active: k.status === 'Active', createdAt: k.createdAt, lastUsedAt: k.lastUsedAt }))) : [];
  if (keys.some((k) => k.active && (k.createdAt === null || olderThan(k.createdAt, maxKeyAgeDays, ctx.asOf)))) {
    return finding(ctx, secret, 'KEY_AGE_EXCEEDED', `a key of ${user?.name ?? 'its user'} is past ${maxKeyAgeDays} days in the credential report: the key secret ${secret.name} holds is read before planning`);
  }
  const bases = [lastRotation(secret, null), ...keys.map((k) => (k.createdAt === null ? null : lastRotation(secret, { createdAt: k.createdAt })))];
  if (keys.some((k) => k.createdAt === null) || bases.some((basis) => basis !== null && olderThan(basis, secretRotationDays, ctx.asOf))) {
    return finding(ctx, secret, 'SECRET_ROTATION_OVERDUE', `secret ${secret.name} may be past ${secretRotationDays} days since its last rotation: the key it holds is read before planning`);
  }
  return null;
}

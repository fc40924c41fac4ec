import type { z } from 'zod';
import type { reconcileRequestedDetail } from '../events.js';
import type { ActionIntent } from '../plan-builder.js';
import type { PlanFinding } from '../plan-model.js';
import type { ReasonCode } from '../reasons.js';
import { holdsAccessKey, ownerOf, type AccessKeySnapshot, type NhiSnapshot, type SecretSnapshot, type UserSnapshot } from '../snapshot.js';
import { finding, olderThan, type RuleContext, type RuleOutput } from './context.js';
import { deactivateKeyIntent } from './intents.js';
import { lastRotation, planRotation } from './rotation.js';
import { baselineRule } from './baselines.js';
import { reportedKeyFindings, reportedSecretFinding } from './report-facts.js';

type ReconcileDetail = z.infer<typeof reconcileRequestedDetail>;

/**
 * Reconcile Requested (also the daily schedule), thresholds evaluated at `asOf`:
 * - an NHI without an owner tag is reported OWNER_UNKNOWN and nothing is written to it;
 * - an active key unused (or never used and created) more than inactivityDays ago is deactivated (KEY_UNUSED);
 * - an active key older than maxKeyAgeDays is rotated when a governed secret holds it, else
 *   reported (KEY_AGE_EXCEEDED): a bare key has no place to put a new one;
 * - a secret not rotated for secretRotationDays is rotated when it holds an IAM key, else reported
 *   (SECRET_ROTATION_OVERDUE).
 * - what a governed user or role holds beyond its baselines is removed (EXCESSIVE_PRIVILEGE, rules/baselines.ts).
 * One action per key: a key deactivated as unused is not also rotated.
 */
export function reconcileRule(ctx: RuleContext, detail: ReconcileDetail): RuleOutput {
  const { thresholds, triggers } = ctx.policy;
  const rules = triggers.reconcile;
  const intents: ActionIntent[] = [];
  const findings: PlanFinding[] = [];
  const scoped = scopeOf(ctx, detail, findings);
  const unowned = new Set(rules.escalateUnowned ? scoped.filter((nhi) => ownerOf(nhi) === null) : []);
  for (const nhi of unowned) findings.push(finding(ctx, nhi, 'OWNER_UNKNOWN', `${nhi.type} ${nhi.name} has no owner tag: escalated, nothing is written to it`));
  const actionable = scoped.filter((nhi) => !unowned.has(nhi));
  const deactivated = new Set<string>();

  const users = actionable.filter((n): n is UserSnapshot => n.type === 'user');
  for (const user of users) {
    findings.push(...reportedKeyFindings(ctx, user));
    for (const key of activeKeys(user)) {
      if (!isUnused(key, thresholds.inactivityDays, ctx.asOf)) continue;
      if (!rules.deactivateUnusedKeys) {
        findings.push(finding(ctx, user, 'KEY_UNUSED', `access key ${key.accessKeyId} ${usage(key)}: deactivation is off in the policy`, { accessKeyId: key.accessKeyId }));
        continue;
      }
      intents.push(deactivateKeyIntent(ctx, user, key, 'KEY_UNUSED', 'revocation'));
      deactivated.add(key.accessKeyId);
    }
  }

  const candidates: Array<{ secret: SecretSnapshot; cause: ReasonCode }> = [];
  for (const user of users) {
    for (const key of activeKeys(user)) {
      if (deactivated.has(key.accessKeyId) || !olderThan(key.createdAt, thresholds.maxKeyAgeDays, ctx.asOf)) continue;
      const holder = ctx.estate.holderOf(key.accessKeyId);
      if (holder) candidates.push({ secret: holder, cause: 'KEY_AGE_EXCEEDED' });
      else findings.push(finding(ctx, user, 'KEY_AGE_EXCEEDED', `access key ${key.accessKeyId} was created ${key.createdAt}, over ${thresholds.maxKeyAgeDays} days ago, and no governed secret holds it: rotate it by hand`, { accessKeyId: key.accessKeyId }));
    }
  }
  for (const secret of actionable.filter((n): n is SecretSnapshot => n.type === 'secret')) {
    const unread = reportedSecretFinding(ctx, secret);
    if (unread) {
      findings.push(unread);
      continue;
    }
    const held = heldKey(ctx, secret);
    if (held && !deactivated.has(held.accessKeyId) && held.status === 'Active' && olderThan(held.createdAt, thresholds.maxKeyAgeDays, ctx.asOf)) {
      candidates.push({ secret, cause: 'KEY_AGE_EXCEEDED' });
    }
    const basis = lastRotation(secret, held);
    if (basis && olderThan(basis, thresholds.secretRotationDays, ctx.asOf)) {
      if (holdsAccessKey(secret) && !(held && deactivated.has(held.accessKeyId))) candidates.push({ secret, cause: 'SECRET_ROTATION_OVERDUE' });
      else if (!holdsAccessKey(secret)) findings.push(finding(ctx, secret, 'SECRET_ROTATION_OVERDUE', `last rotated ${basis}, over ${thresholds.secretRotationDays} days ago; it holds no IAM access key, so no connector can rotate it: rotate it by hand`));
    }
  }

  const planned = new Set<SecretSnapshot>();
  for (const { secret, cause } of candidates) {
    if (planned.has(secret)) continue;
    planned.add(secret);
    const blocked = blockedRotation(ctx, secret, unowned, rules.rotateAgedSecretKeys);
    if (blocked) {
      findings.push(finding(ctx, secret, cause, blocked));
      continue;
    }
    const rotation = planRotation(ctx, secret, cause, 'rotation');
    if (rotation.outcome === 'planned') intents.push(rotation.intent);
    else if (rotation.outcome === 'refused') findings.push(finding(ctx, secret, cause, rotation.message, rotation.data));
  }
  const excess = baselineRule(ctx, actionable);
  intents.push(...excess.intents);
  findings.push(...excess.findings);
  return { intents, findings };
}

function scopeOf(ctx: RuleContext, detail: ReconcileDetail, findings: PlanFinding[]): NhiSnapshot[] {
  const { scope } = detail;
  if (scope === 'all') return [...ctx.estate.governed];
  if ('owner' in scope) return ctx.estate.governed.filter((nhi) => ownerOf(nhi) === scope.owner);
  const nhi = ctx.estate.resolve(scope.nhi, 'scope.nhi');
  if (!nhi) findings.push({ nhi: scope.nhi, reasonCode: 'TARGET_NOT_FOUND', message: `no governed user, role or secret is named ${scope.nhi}` });
  return nhi ? [nhi] : [];
}

/** Why a due rotation is not planned (policy off, or it would write to an NHI without an owner). */
function blockedRotation(ctx: RuleContext, secret: SecretSnapshot, unowned: ReadonlySet<NhiSnapshot>, enabled: boolean): string | null {
  if (!enabled) return `rotation of secret ${secret.name} is due; rotating secret-held keys is off in the policy`;
  const escalate = ctx.policy.triggers.reconcile.escalateUnowned;
  if (unowned.has(secret) || (escalate && ownerOf(secret) === null)) return `rotation of secret ${secret.name} is due but the secret has no owner: nothing is written to it`;
  const user = ctx.estate.keyUserOf(secret);
  if (user && escalate && ownerOf(user) === null) {
    return `rotation of secret ${secret.name} is due but its key user ${user.name} has no owner: nothing is written to it`;
  }
  return null;
}

function activeKeys(user: UserSnapshot): AccessKeySnapshot[] {
  return user.accessKeys.filter((k) => k.status === 'Active');
}

function isUnused(key: AccessKeySnapshot, days: number, asOf: Date): boolean {
  return olderThan(key.lastUsedAt ?? key.createdAt, days, asOf);
}

function usage(key: AccessKeySnapshot): string {
  return key.lastUsedAt ? `was last used ${key.lastUsedAt}` : `was never used since ${key.createdAt}`;
}

function heldKey(ctx: RuleContext, secret: SecretSnapshot): AccessKeySnapshot | null {
  if (!holdsAccessKey(secret) || !secret.heldAccessKeyId) return null;
  return ctx.estate.keyUserOf(secret)?.accessKeys.find((k) => k.accessKeyId === secret.heldAccessKeyId) ?? null;
}

import type { z } from 'zod';
import type { credentialExposedDetail } from '../events.js';
import type { ActionIntent } from '../plan-builder.js';
import type { PlanFinding } from '../plan-model.js';
import type { NhiSnapshot, SecretSnapshot } from '../snapshot.js';
import { finding, type RuleContext, type RuleOutput } from './context.js';
import { deactivateKeyIntent, sessionDenyIntents } from './intents.js';
import { planRotation } from './rotation.js';
import { otherCredentialIntents } from './credentials.js';

type CredentialExposedDetail = z.infer<typeof credentialExposedDetail>;

const CAUSE = 'CREDENTIAL_EXPOSED';

/**
 * Credential Exposed: contain first (approval comes after the fact); deactivations and session
 * denies in group `containment`, a secret's rotation in group `rotation` (all-or-nothing).
 * - accessKeyId: that key is deactivated, even when a secret holds it. A rotation would
 *   deactivate it only at its end, and a failed rotation rolls back to the exposed key; the
 *   holding secret is reported for rotation instead.
 * - a secret (secretId, or nhi naming one) holding an IAM key: rotated.
 * - neither: a user gets all its active keys and other long-term credentials disabled and older
 *   sessions denied; a role
 *   (no keys, only sessions) gets the session deny.
 * The key must belong to the NHI the event names (or be held by it): a mismatch is reported, not guessed at.
 */
export function credentialExposureRule(ctx: RuleContext, detail: CredentialExposedDetail): RuleOutput {
  const intents: ActionIntent[] = [];
  const findings: PlanFinding[] = [];
  // A key reported without its user (AWS Health): Plan looked the user up and read its keys.
  const nhiRef = detail.nhi ?? (detail.accessKeyId ? ctx.estate.accessKey(detail.accessKeyId)?.userName : undefined);
  if (!nhiRef) return { intents, findings: [notGoverned(detail.accessKeyId ?? 'the exposed credential', detail, 'no IAM user this account can see has it')] };
  const nhi = ctx.estate.resolve(nhiRef, 'nhi');
  const named = detail.secretId ? ctx.estate.resolve(detail.secretId, 'secretId') : null;
  if (!nhi) return { intents, findings: [notGoverned(nhiRef, detail)] };
  if (detail.secretId && !named) findings.push(notGoverned(detail.secretId, detail));
  if (named && named.type !== 'secret') findings.push(finding(ctx, named, CAUSE, `secretId ${detail.secretId} names a ${named.type}, not a secret: nothing rotated for it`));
  const secret: SecretSnapshot | null = named?.type === 'secret' ? named : nhi.type === 'secret' ? nhi : null;
  const issuedBefore = ctx.now.toISOString();

  if (detail.accessKeyId) {
    const key = ctx.estate.accessKey(detail.accessKeyId);
    const belongs = key && ((nhi.type === 'user' && key.userName === nhi.name) || (nhi.type === 'secret' && nhi.heldAccessKeyId === key.accessKeyId));
    const user = key ? ctx.estate.user(key.userName) : null;
    if (!key || !belongs || !user) {
      const where = key ? `it belongs to user ${key.userName}, not to ${nhiRef}` : 'no governed user has it';
      findings.push(finding(ctx, nhi, CAUSE, `exposed access key ${detail.accessKeyId} was not deactivated: ${where}; contain it by hand`, { accessKeyId: detail.accessKeyId }));
    } else {
      intents.push(deactivateKeyIntent(ctx, user, key, CAUSE, 'containment'));
      const holder = ctx.estate.holderOf(key.accessKeyId);
      if (holder) findings.push(finding(ctx, holder, CAUSE, `holds exposed access key ${key.accessKeyId}, deactivated by this change: rotate the secret`, { accessKeyId: key.accessKeyId }));
    }
  }
  if (secret && !(detail.accessKeyId && secret.heldAccessKeyId === detail.accessKeyId)) {
    // A rotation is all-or-nothing whatever triggered it: its own group, so a rotation that
    // cannot be verified is rolled back (failureHandling.rotation), not escalated half done.
    const rotation = planRotation(ctx, secret, CAUSE, 'rotation', ctx.now);
    if (rotation.outcome === 'planned') intents.push(rotation.intent);
    else if (rotation.outcome === 'refused') findings.push(finding(ctx, secret, CAUSE, rotation.message, rotation.data));
  }
  if (!detail.accessKeyId && !secret) intents.push(...containPrincipal(ctx, nhi, issuedBefore));
  return { intents, findings };
}

function containPrincipal(ctx: RuleContext, nhi: NhiSnapshot, issuedBefore: string): ActionIntent[] {
  if (nhi.type === 'secret') return [];
  const keys = nhi.type === 'user' ? nhi.accessKeys.filter((k) => k.status === 'Active').map((k) => deactivateKeyIntent(ctx, nhi, k, CAUSE, 'containment')) : [];
  if (nhi.type === 'user') keys.push(...otherCredentialIntents(ctx, nhi, CAUSE, 'containment'));
  return [...keys, ...sessionDenyIntents(ctx, nhi, issuedBefore, CAUSE, 'containment')];
}

function notGoverned(ref: string, detail: CredentialExposedDetail, why = 'is not a governed user, role or secret'): PlanFinding {
  return { nhi: ref, reasonCode: CAUSE, message: `${ref} ${why}: contain the exposure by hand (severity ${detail.severity})` };
}

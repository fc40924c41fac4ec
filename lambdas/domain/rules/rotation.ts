import { sha256Hex } from '../canonical.js';
import type { ActionIntent } from '../plan-builder.js';
import type { JsonObject, PlanAction } from '../plan-model.js';
import type { ReasonCode } from '../reasons.js';
import { holdsAccessKey, isProd, SECRET_USER_TAG, type AccessKeySnapshot, type SecretSnapshot } from '../snapshot.js';
import type { RuleContext } from './context.js';
import { PHASE_REVOCATION } from './intents.js';

/** IAM's quota of access keys per user: a rotation needs one free. */
export const ACCESS_KEYS_PER_USER = 2;

export type RotationPlan =
  | { readonly outcome: 'planned'; readonly intent: ActionIntent; readonly replacedAccessKeyId: string }
  /** The rotation cannot be planned; the message says why (a finding for the caller). */
  | { readonly outcome: 'refused'; readonly message: string; readonly data?: JsonObject }
  /** The held key was created after the cut-off: rotated already. */
  | { readonly outcome: 'current' };

/**
 * The VersionId the rotation writes (its ClientRequestToken), in UUID form: derived from the
 * change and the version it replaces, so every attempt of this change's rotation names the same
 * version and a retry finds what an earlier attempt wrote.
 */
export function rotationVersionId(changeId: string, secret: SecretSnapshot, replacedVersionId: string): string {
  const h = sha256Hex(`rotation:${changeId}:${secret.arn}:${replacedVersionId}`);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-${'89ab'[parseInt(h.charAt(16), 16) % 4]}${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

/**
 * Plans the rotation of a key secret, or says why it cannot be: the secret must name a key of a
 * governed user, the key must be active, and the user must have a free key slot. A user already
 * at IAM's 2 keys is refused, never cleaned up by deleting a key: which of the two is unused is a
 * human's call (and deletion is irreversible).
 */
export function planRotation(ctx: RuleContext, secret: SecretSnapshot, finding: ReasonCode, group: PlanAction['group'], keyCreatedBefore?: Date): RotationPlan {
  const refuse = (message: string, data?: JsonObject): RotationPlan => ({ outcome: 'refused', message: `rotation of secret ${secret.name} refused: ${message}`, ...(data ? { data } : {}) });
  if (!holdsAccessKey(secret)) return refuse(`it is not tagged as holding an IAM access key (nhigov:kind=iam-access-key, nhigov:user): rotate it by hand`);
  if (!secret.currentVersionId) return refuse('it has no AWSCURRENT version');
  if (secret.heldAccessKeyId === undefined) return refuse('the key it holds was not read');
  if (secret.heldAccessKeyId === null) return refuse('its AWSCURRENT value names no AccessKeyId');
  const userName = secret.tags[SECRET_USER_TAG] ?? '';
  const user = ctx.estate.keyUserOf(secret);
  if (!user) return refuse(`user ${userName} (tag nhigov:user) is not a governed IAM user`, { userName });
  const key = user.accessKeys.find((k) => k.accessKeyId === secret.heldAccessKeyId);
  if (!key) return refuse(`user ${userName} has no access key ${secret.heldAccessKeyId}`, { userName, accessKeyId: secret.heldAccessKeyId });
  if (keyCreatedBefore && Date.parse(key.createdAt) >= keyCreatedBefore.getTime()) return { outcome: 'current' };
  if (key.status !== 'Active') return refuse(`the key it holds (${key.accessKeyId}) is inactive: there is no working credential to replace`, { accessKeyId: key.accessKeyId });
  if (user.accessKeys.length >= ACCESS_KEYS_PER_USER) {
    const others = user.accessKeys.filter((k) => k.accessKeyId !== key.accessKeyId).map((k) => `${k.accessKeyId} (${k.status})`);
    return refuse(`user ${userName} already has ${user.accessKeys.length} access keys, IAM's limit: delete ${others.join(', ')} first`, {
      blockedBy: 'ACCESS_KEY_LIMIT',
      userName,
      keys: user.accessKeys.map((k) => k.accessKeyId),
    });
  }
  const taken = ctx.keySlotsTaken.get(userName);
  if (taken !== undefined) return refuse(`user ${userName}'s free key slot is taken by the rotation of secret ${taken} in this change`, { blockedBy: 'ACCESS_KEY_LIMIT', userName });
  ctx.keySlotsTaken.set(userName, secret.name);
  const params = {
    secretId: secret.name,
    userName,
    replacedAccessKeyId: key.accessKeyId,
    replacedVersionId: secret.currentVersionId,
    rotationVersionId: rotationVersionId(ctx.changeId, secret, secret.currentVersionId),
  };
  const intent: ActionIntent = {
    kind: 'secrets.rotateAccessKeySecret',
    target: { type: 'secret', id: secret.name, nhi: ctx.estate.ref(secret) },
    params,
    finding,
    phase: PHASE_REVOCATION,
    group,
    prod: isProd(secret) || isProd(user),
    touches: [ctx.estate.ref(user)],
  };
  return { outcome: 'planned', intent, replacedAccessKeyId: key.accessKeyId };
}

/**
 * When the secret was last rotated. For a key secret the held key's creation is the real
 * rotation (rotations driven step by step do not set LastRotatedDate); otherwise LastRotatedDate,
 * then the last change of the value, then creation.
 */
export function lastRotation(secret: SecretSnapshot, held: Pick<AccessKeySnapshot, 'createdAt'> | null): string | null {
  if (held) return latest(secret.lastRotatedAt, held.createdAt);
  return secret.lastRotatedAt ?? secret.lastChangedAt ?? secret.createdAt;
}

function latest(...times: Array<string | null>): string | null {
  const known = times.filter((t): t is string => t !== null);
  return known.length === 0 ? null : known.reduce((a, b) => (Date.parse(a) >= Date.parse(b) ? a : b));
}

import { z } from 'zod';
import type { JsonObject } from '../domain/plan-model.js';
import { OWNER_TAG, type Tags } from '../domain/snapshot.js';

/**
 * The owner tag's new value; null removes the tag (the inverse of giving an ownerless NHI an
 * owner). IAM and Secrets Manager both allow these characters in tag values.
 */
export const toOwner = z
  .string()
  .min(1)
  .max(256)
  .regex(/^[\p{L}\p{Z}\p{N}_.:/=+\-@]+$/u, 'a tag value (an email)')
  .nullable();

/** State: { owner } — the owner tag's value as it is, null when there is none. */
export function ownerState(tags: Tags | ReadonlyArray<{ Key?: string; Value?: string }>): JsonObject {
  const value = Array.isArray(tags) ? tags.find((t) => t.Key === OWNER_TAG)?.Value : (tags as Tags)[OWNER_TAG];
  return { owner: value ?? null };
}

/** Moving the tag is its own inverse: back to the value it had. */
export function moveOwnerInverse(kind: string) {
  return (params: JsonObject, before: JsonObject) => ({ kind, params: { ...params, toOwner: typeof before.owner === 'string' ? before.owner : null } });
}

export const ownerLabel = (toOwnerValue: string | null): string => (toOwnerValue === null ? 'removing the owner tag' : `moving the owner tag to ${toOwnerValue}`);

import { z } from 'zod';
import { DescribeSecretCommand, UntagResourceCommand, UpdateSecretVersionStageCommand } from '@aws-sdk/client-secrets-manager';
import type { JsonObject } from '../../domain/plan-model.js';
import { AppError, type ReasonCode } from '../../domain/reasons.js';
import { findAccessKey, findSecret, type Snapshot } from '../../domain/snapshot.js';
import { classifyAwsError, connectorStep } from '../errors.js';
import { accessKeyId, listAccessKeys, userName, type AccessKeyStatus } from '../iam/access-key-status.js';
import type { ConnectorContext } from '../types.js';
import { heldKeyOfVersion } from './key-secret.js';
import { secretId, versionId } from './secret-ids.js';

/**
 * Rotation of a secret holding an IAM access key, and its inverse, share one invocation shape:
 * - replacedAccessKeyId / replacedVersionId: the key and AWSCURRENT version the plan saw;
 * - rotationVersionId: the version the rotation writes. It is the PutSecretValue
 *   ClientRequestToken, which Secrets Manager makes the VersionId: the planner derives it from
 *   the change, so a retried write finds the version an earlier attempt made instead of making
 *   another, and `after` is known exactly at plan time.
 * State (read, before, after, fingerprint): { currentVersionId, replacedKeyStatus }, read with
 * one DescribeSecret and one ListAccessKeys; never the secret value.
 */
export const accessKeySecretParams = z
  .strictObject({ secretId, userName, replacedAccessKeyId: accessKeyId, replacedVersionId: versionId, rotationVersionId: versionId })
  .refine((p) => p.replacedVersionId !== p.rotationVersionId, 'rotationVersionId must differ from replacedVersionId');
export type AccessKeySecretParams = z.infer<typeof accessKeySecretParams>;

/**
 * Tag on the secret while a rotation is between CreateAccessKey and PutSecretValue (value: the
 * rotationVersionId). A retry that finds it, and no version yet, knows an extra key on the user
 * was made by an attempt of this very rotation that never reached the secret, and deletes it
 * before making one: a retried write never leaves a second new key.
 */
export const ROTATION_MARKER_TAG = 'nhigov:rotation';

/** How long a write waits to read the promoted version back before touching the old key (Secrets Manager is read-after-write consistent in practice; this covers a lagging replica). */
export const PROMOTION_READ_BACK_TIMEOUT_MS = 10_000;

export const AWSCURRENT = 'AWSCURRENT';
export const AWSPENDING = 'AWSPENDING';

export interface SecretVersions {
  readonly current: string | null;
  readonly stages: ReadonlyMap<string, readonly string[]>;
  readonly tags: Readonly<Record<string, string>>;
}

export const rotationLabel = (p: AccessKeySecretParams): string => `secret ${p.secretId}`;

/** Runs one AWS step of a rotation with the default classification and a message naming the step. */
export function secretStep<T>(p: AccessKeySecretParams, what: string, step: () => Promise<T>): Promise<T> {
  return connectorStep(`${what} (${rotationLabel(p)})`, classifyAccessKeySecretError, step);
}

/** IAM's key quota answers LimitExceeded: not transient, the user needs a free key slot. */
export function classifyAccessKeySecretError(error: unknown): ReasonCode {
  const name = (error as { name?: string } | null)?.name;
  if (name === 'LimitExceededException' || name === 'LimitExceeded') return 'PLAN_STALE';
  return classifyAwsError(error);
}

export async function describeVersions(ctx: ConnectorContext, id: string): Promise<SecretVersions> {
  const out = await ctx.secrets.send(new DescribeSecretCommand({ SecretId: id }));
  const stages = new Map(Object.entries(out.VersionIdsToStages ?? {}));
  const current = [...stages].find(([, labels]) => labels.includes(AWSCURRENT))?.[0] ?? null;
  const tags = Object.fromEntries((out.Tags ?? []).flatMap((t) => (t.Key ? [[t.Key, t.Value ?? '']] : [])));
  return { current, stages, tags };
}

export async function readAccessKeySecretState(ctx: ConnectorContext, p: AccessKeySecretParams): Promise<JsonObject> {
  const versions = await secretStep(p, 'reading secret versions', () => describeVersions(ctx, p.secretId));
  const keys = await secretStep(p, `listing access keys of user ${p.userName}`, () => listAccessKeys(ctx, p.userName));
  const status = keys.get(p.replacedAccessKeyId);
  if (!status) throw new AppError('TARGET_NOT_FOUND', `reading ${rotationLabel(p)}: access key ${p.replacedAccessKeyId} is not on user ${p.userName}`);
  return { currentVersionId: versions.current, replacedKeyStatus: status };
}

export function accessKeySecretStateFromSnapshot(params: JsonObject, snapshot: Snapshot): JsonObject | null {
  const secret = typeof params.secretId === 'string' ? findSecret(snapshot, params.secretId) : null;
  const key = typeof params.replacedAccessKeyId === 'string' ? findAccessKey(snapshot, params.replacedAccessKeyId) : null;
  if (!secret || !key) return null;
  return { currentVersionId: secret.currentVersionId, replacedKeyStatus: key.status };
}

/** Moves AWSCURRENT; Secrets Manager moves AWSPREVIOUS to the version it leaves. */
export async function moveCurrent(ctx: ConnectorContext, p: AccessKeySecretParams, to: string, from: string): Promise<void> {
  await secretStep(p, `moving AWSCURRENT to version ${to}`, () =>
    ctx.secrets.send(new UpdateSecretVersionStageCommand({ SecretId: p.secretId, VersionStage: AWSCURRENT, MoveToVersionId: to, RemoveFromVersionId: from })),
  );
}

/** Removes what a rotation leaves behind on the secret: AWSPENDING on its version, and the marker tag. */
export async function clearRotationMarks(ctx: ConnectorContext, p: AccessKeySecretParams): Promise<void> {
  const versions = await secretStep(p, 'reading secret versions', () => describeVersions(ctx, p.secretId));
  if (versions.stages.get(p.rotationVersionId)?.includes(AWSPENDING)) {
    await secretStep(p, `removing AWSPENDING from version ${p.rotationVersionId}`, () =>
      ctx.secrets.send(new UpdateSecretVersionStageCommand({ SecretId: p.secretId, VersionStage: AWSPENDING, RemoveFromVersionId: p.rotationVersionId })),
    );
  }
  if (versions.tags[ROTATION_MARKER_TAG] !== undefined) {
    await secretStep(p, 'removing the rotation marker tag', () => ctx.secrets.send(new UntagResourceCommand({ SecretId: p.secretId, TagKeys: [ROTATION_MARKER_TAG] })));
  }
}

/** The key a version of the secret names; null when the version does not exist. */
export async function keyOfVersion(ctx: ConnectorContext, p: AccessKeySecretParams, version: string): Promise<string | null> {
  const held = await secretStep(p, `reading version ${version}`, () => heldKeyOfVersion(ctx, p.secretId, { VersionId: version }));
  if (!held) return null;
  if (!held.accessKeyId) throw new AppError('INPUT_INVALID', `reading version ${version} of ${rotationLabel(p)}: the value names no AccessKeyId`);
  return held.accessKeyId;
}

export interface ObservedKeySecret {
  readonly currentVersionId: string | null;
  readonly heldAccessKeyId: string | null;
  readonly keys: ReadonlyMap<string, AccessKeyStatus>;
}

/** What consumers get: the AWSCURRENT value read explicitly by stage (moto serves a stale default otherwise), and the user's keys. */
export async function observeKeySecret(ctx: ConnectorContext, p: AccessKeySecretParams): Promise<ObservedKeySecret> {
  const held = await secretStep(p, 'reading the AWSCURRENT value', () => heldKeyOfVersion(ctx, p.secretId, { VersionStage: AWSCURRENT }));
  const keys = await secretStep(p, `listing access keys of user ${p.userName}`, () => listAccessKeys(ctx, p.userName));
  return { currentVersionId: held?.versionId ?? null, heldAccessKeyId: held?.accessKeyId ?? null, keys };
}

export const ACCESS_KEY_SECRET_READ_PERMISSIONS = ['secretsmanager:DescribeSecret', 'secretsmanager:GetSecretValue', 'iam:ListAccessKeys'] as const;

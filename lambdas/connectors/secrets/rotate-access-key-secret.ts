import { CreateAccessKeyCommand, DeleteAccessKeyCommand } from '@aws-sdk/client-iam';
import { PutSecretValueCommand, TagResourceCommand } from '@aws-sdk/client-secrets-manager';
import { AppError } from '../../domain/reasons.js';
import { listAccessKeys, setAccessKeyStatus } from '../iam/access-key-status.js';
import type { ConnectorAction, ConnectorContext } from '../types.js';
import { waitUntil } from '../waiters.js';
import {
  ACCESS_KEY_SECRET_READ_PERMISSIONS,
  accessKeySecretParams,
  accessKeySecretStateFromSnapshot,
  AWSPENDING,
  classifyAccessKeySecretError,
  clearRotationMarks,
  describeVersions,
  keyOfVersion,
  moveCurrent,
  observeKeySecret,
  PROMOTION_READ_BACK_TIMEOUT_MS,
  readAccessKeySecretState,
  ROTATION_MARKER_TAG,
  rotationLabel,
  secretStep,
  type AccessKeySecretParams,
  type SecretVersions,
} from './access-key-secret.js';
import { heldKeyId, readKeySecret } from './key-secret.js';

/**
 * Creates the new key and writes it as the AWSPENDING version `rotationVersionId`. Returns false
 * when an answer carried nothing (the write did not happen as far as we can see): verify will
 * not converge and the rewrite resumes from here.
 */
async function writePendingVersion(ctx: ConnectorContext, p: AccessKeySecretParams, versions: SecretVersions): Promise<boolean> {
  const { document } = await secretStep(p, `reading version ${p.replacedVersionId}`, () => readKeySecret(ctx, p.secretId, { VersionId: p.replacedVersionId }));
  if (heldKeyId(document) !== p.replacedAccessKeyId) {
    throw new AppError('PLAN_STALE', `rotating ${rotationLabel(p)}: version ${p.replacedVersionId} no longer names access key ${p.replacedAccessKeyId}`);
  }
  const keys = await secretStep(p, `listing access keys of user ${p.userName}`, () => listAccessKeys(ctx, p.userName));
  const extras = [...keys.keys()].filter((id) => id !== p.replacedAccessKeyId);
  const resuming = versions.tags[ROTATION_MARKER_TAG] === p.rotationVersionId;
  if (extras.length > 0 && !resuming) {
    throw new AppError(
      'PLAN_STALE',
      `rotating ${rotationLabel(p)}: user ${p.userName} has access key(s) ${extras.join(', ')} besides ${p.replacedAccessKeyId}; IAM allows 2 keys per user and the rotation needs a free one, which the plan assumed`,
    );
  }
  for (const orphan of resuming ? extras : []) {
    // Made by an earlier attempt of this rotation that stopped before PutSecretValue: never delivered.
    await secretStep(p, `deleting undelivered access key ${orphan} of an earlier attempt`, () => ctx.iam.send(new DeleteAccessKeyCommand({ UserName: p.userName, AccessKeyId: orphan })));
  }
  if (!resuming) {
    await secretStep(p, 'marking the rotation in progress', () =>
      ctx.secrets.send(new TagResourceCommand({ SecretId: p.secretId, Tags: [{ Key: ROTATION_MARKER_TAG, Value: p.rotationVersionId }] })),
    );
  }
  const created = await secretStep(p, `creating an access key for user ${p.userName}`, () => ctx.iam.send(new CreateAccessKeyCommand({ UserName: p.userName })));
  const key = created.AccessKey;
  if (!key?.AccessKeyId || !key.SecretAccessKey) return false;
  const SecretString = JSON.stringify({ ...document, AccessKeyId: key.AccessKeyId, SecretAccessKey: key.SecretAccessKey });
  const put = await secretStep(p, `writing version ${p.rotationVersionId} as AWSPENDING`, () =>
    ctx.secrets.send(new PutSecretValueCommand({ SecretId: p.secretId, ClientRequestToken: p.rotationVersionId, SecretString, VersionStages: [AWSPENDING] })),
  );
  return put.VersionId === p.rotationVersionId;
}

/**
 * Resumable from any point: each step looks at where the secret and the user's keys are and does
 * only what is missing. The old key is deactivated last, and only once the AWSCURRENT value read
 * back names the new key and that key is active: consumers are never left without a working key.
 */
async function rotate(ctx: ConnectorContext, p: AccessKeySecretParams): Promise<void> {
  const versions = await secretStep(p, 'reading secret versions', () => describeVersions(ctx, p.secretId));
  if (versions.current !== p.rotationVersionId && versions.current !== p.replacedVersionId) {
    throw new AppError('PLAN_STALE', `rotating ${rotationLabel(p)}: AWSCURRENT is version ${versions.current ?? 'none'}, the plan expected ${p.replacedVersionId}`);
  }
  if (!versions.stages.has(p.rotationVersionId) && !(await writePendingVersion(ctx, p, versions))) return;
  const newKeyId = await keyOfVersion(ctx, p, p.rotationVersionId);
  if (!newKeyId) return;
  const keys = await secretStep(p, `listing access keys of user ${p.userName}`, () => listAccessKeys(ctx, p.userName));
  const newKeyStatus = keys.get(newKeyId);
  if (!newKeyStatus) throw new AppError('TARGET_NOT_FOUND', `rotating ${rotationLabel(p)}: access key ${newKeyId} of version ${p.rotationVersionId} is no longer on user ${p.userName}`);
  // Inactive after an inverse restored the old version: a redo turns it back on first.
  if (newKeyStatus !== 'Active') await secretStep(p, `reactivating access key ${newKeyId}`, () => setAccessKeyStatus(ctx, p.userName, newKeyId, 'Active'));
  if (versions.current !== p.rotationVersionId) await moveCurrent(ctx, p, p.rotationVersionId, p.replacedVersionId);
  await clearRotationMarks(ctx, p);
  const seen = await waitUntil(
    () => observeKeySecret(ctx, p),
    (o) => o.currentVersionId === p.rotationVersionId && o.heldAccessKeyId === newKeyId && o.keys.get(newKeyId) === 'Active',
    PROMOTION_READ_BACK_TIMEOUT_MS,
  );
  if (!seen.done) return;
  await secretStep(p, `deactivating the replaced access key ${p.replacedAccessKeyId}`, () => setAccessKeyStatus(ctx, p.userName, p.replacedAccessKeyId, 'Inactive'));
}

/**
 * Rotates a secret that holds an IAM access key: new key, written as AWSPENDING, promoted to
 * AWSCURRENT, read back, then the old key deactivated. Inverse: secrets.restoreAccessKeySecret.
 */
export const rotateAccessKeySecret: ConnectorAction<AccessKeySecretParams> = {
  kind: 'secrets.rotateAccessKeySecret',
  description: 'rotating the access key a secret holds',
  irreversible: false,
  targetType: 'secret',
  schema: accessKeySecretParams,
  permissions: {
    read: ACCESS_KEY_SECRET_READ_PERMISSIONS,
    write: [
      'secretsmanager:PutSecretValue',
      'secretsmanager:UpdateSecretVersionStage',
      'secretsmanager:TagResource',
      'secretsmanager:UntagResource',
      'iam:CreateAccessKey',
      'iam:UpdateAccessKey',
      'iam:DeleteAccessKey',
    ],
    tagKeys: [ROTATION_MARKER_TAG],
  },
  label: rotationLabel,
  beforeFromSnapshot: accessKeySecretStateFromSnapshot,
  desiredState: (params) => ({ currentVersionId: String(params.rotationVersionId), replacedKeyStatus: 'Inactive' }),
  inverse: (params) => ({ kind: 'secrets.restoreAccessKeySecret', params }),
  read: readAccessKeySecretState,
  write: (ctx, params) => rotate(ctx, params),
  async verify(ctx, params, after) {
    const o = await observeKeySecret(ctx, params);
    const heldKeyStatus = o.heldAccessKeyId ? (o.keys.get(o.heldAccessKeyId) ?? 'Absent') : null;
    const replacedKeyStatus = o.keys.get(params.replacedAccessKeyId) ?? 'Absent';
    const observed = { currentVersionId: o.currentVersionId, heldAccessKeyId: o.heldAccessKeyId, heldKeyStatus, replacedKeyStatus };
    const converged =
      o.currentVersionId === after.currentVersionId &&
      o.heldAccessKeyId !== null &&
      o.heldAccessKeyId !== params.replacedAccessKeyId &&
      heldKeyStatus === 'Active' &&
      replacedKeyStatus === after.replacedKeyStatus;
    return { converged, observed };
  },
  classify: classifyAccessKeySecretError,
};

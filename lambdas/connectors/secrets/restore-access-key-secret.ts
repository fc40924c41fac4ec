import { DeleteAccessKeyCommand } from '@aws-sdk/client-iam';
import { AppError } from '../../domain/reasons.js';
import { listAccessKeys, setAccessKeyStatus } from '../iam/access-key-status.js';
import type { ConnectorAction, ConnectorContext } from '../types.js';
import { waitUntil } from '../waiters.js';
import {
  ACCESS_KEY_SECRET_READ_PERMISSIONS,
  accessKeySecretParams,
  accessKeySecretStateFromSnapshot,
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
} from './access-key-secret.js';

/**
 * Mirror of the rotation, equally resumable: old key on, AWSCURRENT back to the replaced version,
 * read back, then the rotation's key off (kept, not deleted, so the rotation can be redone).
 */
async function restore(ctx: ConnectorContext, p: AccessKeySecretParams): Promise<void> {
  const versions = await secretStep(p, 'reading secret versions', () => describeVersions(ctx, p.secretId));
  if (versions.current !== p.rotationVersionId && versions.current !== p.replacedVersionId) {
    throw new AppError('PLAN_STALE', `restoring ${rotationLabel(p)}: AWSCURRENT is version ${versions.current ?? 'none'}, neither the rotation's nor the replaced one; restoring would discard it`);
  }
  const rotationKeyId = versions.stages.has(p.rotationVersionId) ? await keyOfVersion(ctx, p, p.rotationVersionId) : null;
  await secretStep(p, `reactivating the replaced access key ${p.replacedAccessKeyId}`, () => setAccessKeyStatus(ctx, p.userName, p.replacedAccessKeyId, 'Active'));
  if (versions.current === p.rotationVersionId) await moveCurrent(ctx, p, p.replacedVersionId, p.rotationVersionId);
  if (!versions.stages.has(p.rotationVersionId) && versions.tags[ROTATION_MARKER_TAG] === p.rotationVersionId) {
    // The rotation stopped between CreateAccessKey and PutSecretValue: its key was never delivered.
    const keys = await secretStep(p, `listing access keys of user ${p.userName}`, () => listAccessKeys(ctx, p.userName));
    for (const orphan of [...keys.keys()].filter((id) => id !== p.replacedAccessKeyId)) {
      await secretStep(p, `deleting undelivered access key ${orphan}`, () => ctx.iam.send(new DeleteAccessKeyCommand({ UserName: p.userName, AccessKeyId: orphan })));
    }
  }
  await clearRotationMarks(ctx, p);
  if (!rotationKeyId) return;
  const seen = await waitUntil(
    () => observeKeySecret(ctx, p),
    (o) => o.currentVersionId === p.replacedVersionId && o.heldAccessKeyId === p.replacedAccessKeyId && o.keys.get(p.replacedAccessKeyId) === 'Active',
    PROMOTION_READ_BACK_TIMEOUT_MS,
  );
  if (!seen.done || !seen.last.keys.has(rotationKeyId)) return;
  await secretStep(p, `deactivating the rotation's access key ${rotationKeyId}`, () => setAccessKeyStatus(ctx, p.userName, rotationKeyId, 'Inactive'));
}

/**
 * The inverse of a rotation: the replaced version back as AWSCURRENT, the replaced key active,
 * the rotation's key inactive. Its own inverse is the rotation again (same invocation).
 */
export const restoreAccessKeySecret: ConnectorAction<AccessKeySecretParams> = {
  kind: 'secrets.restoreAccessKeySecret',
  description: 'restoring the previous access key of a secret',
  irreversible: false,
  targetType: 'secret',
  schema: accessKeySecretParams,
  permissions: {
    read: ACCESS_KEY_SECRET_READ_PERMISSIONS,
    write: ['secretsmanager:UpdateSecretVersionStage', 'secretsmanager:UntagResource', 'iam:UpdateAccessKey', 'iam:DeleteAccessKey'],
    tagKeys: [ROTATION_MARKER_TAG],
  },
  label: rotationLabel,
  beforeFromSnapshot: accessKeySecretStateFromSnapshot,
  desiredState: (params) => ({ currentVersionId: String(params.replacedVersionId), replacedKeyStatus: 'Active' }),
  inverse: (params) => ({ kind: 'secrets.rotateAccessKeySecret', params }),
  read: readAccessKeySecretState,
  write: (ctx, params) => restore(ctx, params),
  async verify(ctx, params, after) {
    const o = await observeKeySecret(ctx, params);
    const rotationKeyId = await keyOfVersion(ctx, params, params.rotationVersionId);
    const rotationKeyStatus = rotationKeyId ? (o.keys.get(rotationKeyId) ?? 'Absent') : null;
    const replacedKeyStatus = o.keys.get(params.replacedAccessKeyId) ?? 'Absent';
    const observed = { currentVersionId: o.currentVersionId, heldAccessKeyId: o.heldAccessKeyId, replacedKeyStatus, rotationKeyId, rotationKeyStatus };
    const converged =
      o.currentVersionId === after.currentVersionId &&
      o.heldAccessKeyId === params.replacedAccessKeyId &&
      replacedKeyStatus === after.replacedKeyStatus &&
      rotationKeyStatus !== 'Active';
    return { converged, observed };
  },
  classify: classifyAccessKeySecretError,
};

import { DeleteAccessKeyCommand } from '@aws-sdk/client-iam';
import { AppError } from '../../domain/reasons.js';
import type { JsonObject } from '../../domain/plan-model.js';
import { findAccessKey } from '../../domain/snapshot.js';
import { classifyAwsError, connectorStep } from '../errors.js';
import { verifyByReadBack } from '../read-back.js';
import type { ConnectorAction, ConnectorContext } from '../types.js';
import { accessKeyParams, listAccessKeys, type AccessKeyParams } from './access-key-status.js';
import { isNoSuchEntity } from './principal.js';

/** State: { status } — Active, Inactive, or Absent once deleted. */
async function readAccessKeyPresence(ctx: ConnectorContext, params: AccessKeyParams): Promise<JsonObject> {
  return connectorStep(`reading access key (${params.accessKeyId})`, classifyAwsError, async () => ({
    status: (await listAccessKeys(ctx, params.userName)).get(params.accessKeyId) ?? 'Absent',
  }));
}

/**
 * Deletes an access key: finalize's step after the grace period, irreversible (the secret part
 * is gone for good). Only an inactive key is deleted: one that was reactivated since is in use.
 */
export const deleteAccessKey: ConnectorAction<AccessKeyParams> = {
  kind: 'iam.deleteAccessKey',
  description: 'deleting access key',
  irreversible: true,
  targetType: 'accessKey',
  schema: accessKeyParams,
  permissions: { read: ['iam:ListAccessKeys'], write: ['iam:DeleteAccessKey'] },
  label: (p) => p.accessKeyId,
  beforeFromSnapshot(params, snapshot) {
    const key = typeof params.accessKeyId === 'string' ? findAccessKey(snapshot, params.accessKeyId) : null;
    return key ? { status: key.status } : null;
  },
  desiredState: () => ({ status: 'Absent' }),
  inverse: () => null,
  read: readAccessKeyPresence,
  async write(ctx, params) {
    await connectorStep(`deleting access key (${params.accessKeyId})`, classifyAwsError, async () => {
      const status = (await listAccessKeys(ctx, params.userName)).get(params.accessKeyId);
      if (status === 'Active') throw new AppError('PLAN_STALE', `deleting access key (${params.accessKeyId}): the key is active again, so it is in use: not deleted`);
      if (status === undefined) return;
      try {
        await ctx.iam.send(new DeleteAccessKeyCommand({ UserName: params.userName, AccessKeyId: params.accessKeyId }));
      } catch (error) {
        if (!isNoSuchEntity(error)) throw error;
      }
    });
  },
  verify: (ctx, params, after) => verifyByReadBack(readAccessKeyPresence, ctx, params, after),
  classify: classifyAwsError,
};

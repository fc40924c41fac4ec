import { z } from 'zod';
import { ListAccessKeysCommand, UpdateAccessKeyCommand } from '@aws-sdk/client-iam';
import { AppError } from '../../domain/reasons.js';
import type { JsonObject } from '../../domain/plan-model.js';
import { findAccessKey } from '../../domain/snapshot.js';
import { classifyAwsError, connectorStep } from '../errors.js';
import { verifyByReadBack } from '../read-back.js';
import type { ConnectorAction, ConnectorContext } from '../types.js';

export const userName = z.string().min(1).max(64).regex(/^[\w+=,.@-]+$/, 'an IAM user name');
export const accessKeyId = z.string().regex(/^[A-Z0-9]{16,128}$/, 'an access key id');

export const accessKeyParams = z.strictObject({ userName, accessKeyId });
export type AccessKeyParams = z.infer<typeof accessKeyParams>;

export type AccessKeyStatus = 'Active' | 'Inactive';

/** The user's keys (IAM allows two, so one page), id → status. Not wrapped: callers name the step. */
export async function listAccessKeys(ctx: ConnectorContext, user: string): Promise<Map<string, AccessKeyStatus>> {
  const out = await ctx.iam.send(new ListAccessKeysCommand({ UserName: user, MaxItems: 100 }));
  return new Map((out.AccessKeyMetadata ?? []).flatMap((k) => (k.AccessKeyId ? [[k.AccessKeyId, k.Status === 'Active' ? 'Active' : 'Inactive'] as const] : [])));
}

/** UpdateAccessKey to a status it already has is a no-op in IAM: idempotent as is. */
export async function setAccessKeyStatus(ctx: ConnectorContext, user: string, keyId: string, status: AccessKeyStatus): Promise<void> {
  await ctx.iam.send(new UpdateAccessKeyCommand({ UserName: user, AccessKeyId: keyId, Status: status }));
}

/** Reads one key's status through ListAccessKeys (GetAccessKey does not exist in IAM). */
export async function readAccessKeyStatus(ctx: ConnectorContext, params: AccessKeyParams): Promise<JsonObject> {
  return connectorStep(`reading access key (${params.accessKeyId})`, classifyAwsError, async () => {
    const status = (await listAccessKeys(ctx, params.userName)).get(params.accessKeyId);
    if (!status) throw new AppError('TARGET_NOT_FOUND', `reading access key (${params.accessKeyId}): no such key on user ${params.userName}`);
    return { status };
  });
}

/** Builds the deactivate / reactivate pair: each is the other's inverse. */
export function accessKeyStatusAction(kind: string, status: AccessKeyStatus, inverseKind: string): ConnectorAction<AccessKeyParams> {
  const verb = status === 'Inactive' ? 'deactivating' : 'reactivating';
  return {
    kind,
    description: `${verb} access key`,
    irreversible: false,
    targetType: 'accessKey',
    schema: accessKeyParams,
    permissions: { read: ['iam:ListAccessKeys'], write: ['iam:UpdateAccessKey'] },
    label: (p) => p.accessKeyId,
    beforeFromSnapshot(params, snapshot) {
      const key = typeof params.accessKeyId === 'string' ? findAccessKey(snapshot, params.accessKeyId) : null;
      return key ? { status: key.status } : null;
    },
    desiredState: () => ({ status }),
    inverse: (params) => ({ kind: inverseKind, params }),
    read: readAccessKeyStatus,
    async write(ctx, params) {
      await connectorStep(`${verb} access key (${params.accessKeyId})`, classifyAwsError, () => setAccessKeyStatus(ctx, params.userName, params.accessKeyId, status));
    },
    verify: (ctx, params, after) => verifyByReadBack(readAccessKeyStatus, ctx, params, after),
    classify: classifyAwsError,
  };
}

import { z } from 'zod';
import { ListAccessKeysCommand, UpdateAccessKeyCommand } from '@aws-sdk/client-iam';
import { AppError } from '../../domain/reasons.js';
import type { JsonObject } from '../../domain/plan-model.js';
import { classifyAwsError, connectorStep } from '../errors.js';
import { verifyByReadBack } from '../read-back.js';
import type { ConnectorAction, ConnectorContext } from '../types.js';

export const accessKeyParams = z.strictObject({
  userName: z.string().min(1).max(64),
  accessKeyId: z.string().regex(/^[A-Z0-9]{16,128}$/),
});
export type AccessKeyParams = z.infer<typeof accessKeyParams>;

/** Reads one key's status through ListAccessKeys (GetAccessKey does not exist in IAM). */
export async function readAccessKeyStatus(ctx: ConnectorContext, params: AccessKeyParams): Promise<JsonObject> {
  return connectorStep(`reading access key (${params.accessKeyId})`, classifyAwsError, async () => {
    const out = await ctx.iam.send(new ListAccessKeysCommand({ UserName: params.userName, MaxItems: 100 }));
    const key = (out.AccessKeyMetadata ?? []).find((k) => k.AccessKeyId === params.accessKeyId);
    if (!key) throw new AppError('TARGET_NOT_FOUND', `reading access key (${params.accessKeyId}): no such key on user ${params.userName}`);
    return { status: key.Status === 'Active' ? 'Active' : 'Inactive' };
  });
}

/** Builds the deactivate / reactivate pair: each is the other's inverse. */
export function accessKeyStatusAction(kind: string, status: 'Active' | 'Inactive', inverseKind: string): ConnectorAction<AccessKeyParams> {
  const verb = status === 'Inactive' ? 'deactivating' : 'reactivating';
  return {
    kind,
    description: `${verb} access key`,
    irreversible: false,
    targetType: 'accessKey',
    schema: accessKeyParams,
    permissions: ['iam:ListAccessKeys', 'iam:UpdateAccessKey'],
    label: (p) => p.accessKeyId,
    beforeFromSnapshot(params, snapshot) {
      const key = snapshot.users.flatMap((u) => u.accessKeys).find((k) => k.accessKeyId === params.accessKeyId);
      return key ? { status: key.status } : null;
    },
    desiredState: () => ({ status }),
    inverse: (params) => ({ kind: inverseKind, params }),
    read: readAccessKeyStatus,
    async write(ctx, params) {
      await connectorStep(`${verb} access key (${params.accessKeyId})`, classifyAwsError, () =>
        ctx.iam.send(new UpdateAccessKeyCommand({ UserName: params.userName, AccessKeyId: params.accessKeyId, Status: status })),
      );
    },
    verify: (ctx, params, after) => verifyByReadBack(readAccessKeyStatus, ctx, params, after),
    classify: classifyAwsError,
  };
}

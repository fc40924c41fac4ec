import { z } from 'zod';
import { DescribeSecretCommand, TagResourceCommand, UntagResourceCommand } from '@aws-sdk/client-secrets-manager';
import type { JsonObject } from '../../domain/plan-model.js';
import { findSecret, OWNER_TAG } from '../../domain/snapshot.js';
import { classifyAwsError, connectorStep } from '../errors.js';
import { moveOwnerInverse, ownerLabel, ownerState, toOwner } from '../owner-tag.js';
import { verifyByReadBack } from '../read-back.js';
import type { ConnectorAction, ConnectorContext } from '../types.js';
import { secretId } from './secret-ids.js';

export const moveSecretOwnerTagParams = z.strictObject({ secretId, toOwner });
export type MoveSecretOwnerTagParams = z.infer<typeof moveSecretOwnerTagParams>;

async function readSecretOwnerTag(ctx: ConnectorContext, params: MoveSecretOwnerTagParams): Promise<JsonObject> {
  return connectorStep(`reading the owner tag of secret ${params.secretId}`, classifyAwsError, async () => {
    const out = await ctx.secrets.send(new DescribeSecretCommand({ SecretId: params.secretId }));
    return ownerState(out.Tags ?? []);
  });
}

/** Moves the `owner` tag of a Secrets Manager secret; moving it back undoes it. */
export const moveSecretOwnerTag: ConnectorAction<MoveSecretOwnerTagParams> = {
  kind: 'secrets.moveOwnerTag',
  description: 'moving the owner tag',
  irreversible: false,
  targetType: 'secret',
  schema: moveSecretOwnerTagParams,
  permissions: { read: ['secretsmanager:DescribeSecret'], write: ['secretsmanager:TagResource', 'secretsmanager:UntagResource'], tagKeys: [OWNER_TAG] },
  label: (p) => `secret ${p.secretId}`,
  beforeFromSnapshot(params, snapshot) {
    const secret = typeof params.secretId === 'string' ? findSecret(snapshot, params.secretId) : null;
    return secret ? ownerState(secret.tags) : null;
  },
  desiredState: (params) => ({ owner: params.toOwner ?? null }),
  inverse: moveOwnerInverse('secrets.moveOwnerTag'),
  read: readSecretOwnerTag,
  async write(ctx, params) {
    await connectorStep(`${ownerLabel(params.toOwner)} of secret ${params.secretId}`, classifyAwsError, async () => {
      if (params.toOwner === null) await ctx.secrets.send(new UntagResourceCommand({ SecretId: params.secretId, TagKeys: [OWNER_TAG] }));
      else await ctx.secrets.send(new TagResourceCommand({ SecretId: params.secretId, Tags: [{ Key: OWNER_TAG, Value: params.toOwner }] }));
    });
  },
  verify: (ctx, params, after) => verifyByReadBack(readSecretOwnerTag, ctx, params, after),
  classify: classifyAwsError,
};

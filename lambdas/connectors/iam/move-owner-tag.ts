import { z } from 'zod';
import { ListRoleTagsCommand, ListUserTagsCommand, TagRoleCommand, TagUserCommand, UntagRoleCommand, UntagUserCommand } from '@aws-sdk/client-iam';
import type { JsonObject } from '../../domain/plan-model.js';
import { OWNER_TAG } from '../../domain/snapshot.js';
import { classifyAwsError, connectorStep } from '../errors.js';
import { moveOwnerInverse, ownerLabel, ownerState, toOwner } from '../owner-tag.js';
import { verifyByReadBack } from '../read-back.js';
import type { ConnectorAction, ConnectorContext } from '../types.js';
import { principalInSnapshot, principalLabel, principalShape } from './principal.js';

export const moveOwnerTagParams = z.strictObject({ ...principalShape, toOwner });
export type MoveOwnerTagParams = z.infer<typeof moveOwnerTagParams>;

async function readOwnerTag(ctx: ConnectorContext, params: MoveOwnerTagParams): Promise<JsonObject> {
  return connectorStep(`reading the owner tag of ${principalLabel(params)}`, classifyAwsError, async () => {
    // IAM allows 50 tags per principal: one page of 100 holds them all.
    const out =
      params.principalType === 'user'
        ? await ctx.iam.send(new ListUserTagsCommand({ UserName: params.principalName, MaxItems: 100 }))
        : await ctx.iam.send(new ListRoleTagsCommand({ RoleName: params.principalName, MaxItems: 100 }));
    return ownerState(out.Tags ?? []);
  });
}

async function writeOwnerTag(ctx: ConnectorContext, params: MoveOwnerTagParams): Promise<void> {
  const { principalType: type, principalName: name, toOwner: value } = params;
  if (value === null) {
    if (type === 'user') await ctx.iam.send(new UntagUserCommand({ UserName: name, TagKeys: [OWNER_TAG] }));
    else await ctx.iam.send(new UntagRoleCommand({ RoleName: name, TagKeys: [OWNER_TAG] }));
    return;
  }
  const Tags = [{ Key: OWNER_TAG, Value: value }];
  if (type === 'user') await ctx.iam.send(new TagUserCommand({ UserName: name, Tags }));
  else await ctx.iam.send(new TagRoleCommand({ RoleName: name, Tags }));
}

/** Moves the `owner` tag of an IAM user or role (ownership before revocation); moving it back undoes it. */
export const moveOwnerTag: ConnectorAction<MoveOwnerTagParams> = {
  kind: 'iam.moveOwnerTag',
  description: 'moving the owner tag',
  irreversible: false,
  targetType: 'user',
  schema: moveOwnerTagParams,
  permissions: { read: ['iam:ListUserTags', 'iam:ListRoleTags'], write: ['iam:TagUser', 'iam:TagRole', 'iam:UntagUser', 'iam:UntagRole'], tagKeys: [OWNER_TAG] },
  label: principalLabel,
  beforeFromSnapshot(params, snapshot) {
    const principal = principalInSnapshot(snapshot, params);
    return principal ? ownerState(principal.tags) : null;
  },
  desiredState: (params) => ({ owner: params.toOwner ?? null }),
  inverse: moveOwnerInverse('iam.moveOwnerTag'),
  read: readOwnerTag,
  async write(ctx, params) {
    await connectorStep(`${ownerLabel(params.toOwner)} of ${principalLabel(params)}`, classifyAwsError, () => writeOwnerTag(ctx, params));
  },
  verify: (ctx, params, after) => verifyByReadBack(readOwnerTag, ctx, params, after),
  classify: classifyAwsError,
};

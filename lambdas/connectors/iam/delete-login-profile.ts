import { z } from 'zod';
import { DeleteLoginProfileCommand, GetLoginProfileCommand, GetUserCommand } from '@aws-sdk/client-iam';
import type { JsonObject } from '../../domain/plan-model.js';
import { findPrincipal } from '../../domain/snapshot.js';
import { classifyAwsError, connectorStep } from '../errors.js';
import { verifyByReadBack } from '../read-back.js';
import type { ConnectorAction, ConnectorContext } from '../types.js';
import { isNoSuchEntity } from './principal.js';

export const loginProfileParams = z.strictObject({
  userName: z.string().min(1).max(64).regex(/^[\w+=,.@-]+$/, 'an IAM user name'),
});
export type LoginProfileParams = z.infer<typeof loginProfileParams>;

/** State: { loginProfile } — whether the user can sign in to the console with a password. */
export async function readLoginProfile(ctx: ConnectorContext, params: LoginProfileParams): Promise<JsonObject> {
  return connectorStep(`reading login profile of user ${params.userName}`, classifyAwsError, async () => {
    try {
      await ctx.iam.send(new GetLoginProfileCommand({ UserName: params.userName }));
      return { loginProfile: true };
    } catch (error) {
      if (!isNoSuchEntity(error)) throw error;
      // NoSuchEntity also answers for a missing user: that one is TARGET_NOT_FOUND.
      await ctx.iam.send(new GetUserCommand({ UserName: params.userName }));
      return { loginProfile: false };
    }
  });
}

/**
 * Deletes a user's console password. Irreversible: the password cannot be read, so nothing can
 * put it back (a new one would have to be issued out of band).
 */
export const deleteLoginProfile: ConnectorAction<LoginProfileParams> = {
  kind: 'iam.deleteLoginProfile',
  description: 'deleting a login profile',
  irreversible: true,
  targetType: 'user',
  schema: loginProfileParams,
  permissions: { read: ['iam:GetLoginProfile', 'iam:GetUser'], write: ['iam:DeleteLoginProfile'] },
  label: (p) => `user ${p.userName}`,
  beforeFromSnapshot(params, snapshot) {
    const user = typeof params.userName === 'string' ? findPrincipal(snapshot, 'user', params.userName) : null;
    return user?.type === 'user' && user.loginProfile !== undefined ? { loginProfile: user.loginProfile } : null;
  },
  desiredState: () => ({ loginProfile: false }),
  inverse: () => null,
  read: readLoginProfile,
  async write(ctx, params) {
    await connectorStep(`deleting login profile of user ${params.userName}`, classifyAwsError, async () => {
      try {
        await ctx.iam.send(new DeleteLoginProfileCommand({ UserName: params.userName }));
      } catch (error) {
        if (!isNoSuchEntity(error)) throw error;
      }
    });
  },
  verify: (ctx, params, after) => verifyByReadBack(readLoginProfile, ctx, params, after),
  classify: classifyAwsError,
};

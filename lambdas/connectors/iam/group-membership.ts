import { z } from 'zod';
import { AddUserToGroupCommand, ListGroupsForUserCommand, RemoveUserFromGroupCommand } from '@aws-sdk/client-iam';
import type { JsonObject } from '../../domain/plan-model.js';
import { classifyAwsError, connectorStep } from '../errors.js';
import { verifyByReadBack } from '../read-back.js';
import type { ConnectorAction, ConnectorContext } from '../types.js';
import { isNoSuchEntity } from './principal.js';

export const groupMembershipParams = z.strictObject({
  userName: z.string().min(1).max(64).regex(/^[\w+=,.@-]+$/, 'an IAM user name'),
  groupName: z.string().min(1).max(128).regex(/^[\w+=,.@-]+$/, 'an IAM group name'),
});
export type GroupMembershipParams = z.infer<typeof groupMembershipParams>;

/** State: { member } — whether the user is in the group. */
export async function readGroupMembership(ctx: ConnectorContext, params: GroupMembershipParams): Promise<JsonObject> {
  return connectorStep(`reading groups of user ${params.userName}`, classifyAwsError, async () => {
    let marker: string | undefined;
    do {
      const page = await ctx.iam.send(new ListGroupsForUserCommand({ UserName: params.userName, Marker: marker }));
      if ((page.Groups ?? []).some((g) => g.GroupName === params.groupName)) return { member: true };
      marker = page.IsTruncated ? page.Marker : undefined;
    } while (marker);
    return { member: false };
  });
}

/** Builds the remove / add pair: each is the other's inverse. */
export function groupMembershipAction(kind: string, member: boolean, inverseKind: string): ConnectorAction<GroupMembershipParams> {
  return {
    kind,
    description: member ? 'adding a user to a group' : 'removing a user from a group',
    irreversible: false,
    targetType: 'user',
    schema: groupMembershipParams,
    permissions: { read: ['iam:ListGroupsForUser'], write: [member ? 'iam:AddUserToGroup' : 'iam:RemoveUserFromGroup'] },
    label: (p) => `user ${p.userName} in group ${p.groupName}`,
    beforeFromSnapshot(params, snapshot) {
      const user = snapshot.users.find((u) => u.name === params.userName);
      return user ? { member: user.groups.includes(String(params.groupName)) } : null;
    },
    desiredState: () => ({ member }),
    inverse: (params) => ({ kind: inverseKind, params }),
    read: readGroupMembership,
    async write(ctx, params) {
      await connectorStep(`${member ? 'adding' : 'removing'} user ${params.userName} ${member ? 'to' : 'from'} group ${params.groupName}`, classifyAwsError, async () => {
        if (member) {
          await ctx.iam.send(new AddUserToGroupCommand({ UserName: params.userName, GroupName: params.groupName }));
          return;
        }
        try {
          await ctx.iam.send(new RemoveUserFromGroupCommand({ UserName: params.userName, GroupName: params.groupName }));
        } catch (error) {
          // Not a member (any more): success; a missing user shows in verify's read.
          if (!isNoSuchEntity(error)) throw error;
        }
      });
    },
    verify: (ctx, params, after) => verifyByReadBack(readGroupMembership, ctx, params, after),
    classify: classifyAwsError,
  };
}

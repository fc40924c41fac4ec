import { z } from 'zod';
import {
  DeleteRolePolicyCommand,
  DeleteUserPolicyCommand,
  GetRolePolicyCommand,
  GetUserPolicyCommand,
  PutRolePolicyCommand,
  PutUserPolicyCommand,
} from '@aws-sdk/client-iam';
import type { JsonObject } from '../../domain/plan-model.js';
import { classifyAwsError, connectorStep } from '../errors.js';
import { verifyByReadBack } from '../read-back.js';
import type { ConnectorAction, ConnectorContext } from '../types.js';

/** The inline policy that denies every session issued before the change (AWS's documented way to revoke role sessions). */
export const SESSION_DENY_POLICY_NAME = 'nhigov-revoke-older-sessions';

export const sessionDenyParams = z.strictObject({
  principalType: z.enum(['user', 'role']),
  principalName: z.string().min(1).max(128),
  issuedBefore: z.iso.datetime({ offset: true }),
});
export type SessionDenyParams = z.infer<typeof sessionDenyParams>;
const principalOnly = sessionDenyParams.pick({ principalType: true, principalName: true });

export function sessionDenyDocument(issuedBefore: string): JsonObject {
  return {
    Version: '2012-10-17',
    Statement: [
      {
        Sid: 'NhigovRevokeOlderSessions',
        Effect: 'Deny',
        Action: '*',
        Resource: '*',
        Condition: { DateLessThan: { 'aws:TokenIssueTime': issuedBefore } },
      },
    ],
  };
}

/** State: whether the deny is in place, and the issue time it cuts at. */
export async function readSessionDeny(ctx: ConnectorContext, params: Pick<SessionDenyParams, 'principalType' | 'principalName'>): Promise<JsonObject> {
  return connectorStep(`reading session deny of ${params.principalType} ${params.principalName}`, classifyAwsError, async () => {
    try {
      const out =
        params.principalType === 'user'
          ? await ctx.iam.send(new GetUserPolicyCommand({ UserName: params.principalName, PolicyName: SESSION_DENY_POLICY_NAME }))
          : await ctx.iam.send(new GetRolePolicyCommand({ RoleName: params.principalName, PolicyName: SESSION_DENY_POLICY_NAME }));
      const document = JSON.parse(decodeURIComponent(out.PolicyDocument ?? '{}')) as {
        Statement?: Array<{ Condition?: { DateLessThan?: Record<string, string> } }>;
      };
      const issuedBefore = document.Statement?.[0]?.Condition?.DateLessThan?.['aws:TokenIssueTime'] ?? null;
      return { present: true, issuedBefore };
    } catch (error) {
      if ((error as { name?: string }).name === 'NoSuchEntityException' || (error as { name?: string }).name === 'NoSuchEntity') {
        await assertPrincipalExists(ctx, params);
        return { present: false, issuedBefore: null };
      }
      throw error;
    }
  });
}

/** GetUserPolicy answers NoSuchEntity both for a missing policy and a missing principal. */
async function assertPrincipalExists(ctx: ConnectorContext, params: Pick<SessionDenyParams, 'principalType' | 'principalName'>): Promise<void> {
  const { GetUserCommand, GetRoleCommand } = await import('@aws-sdk/client-iam');
  if (params.principalType === 'user') await ctx.iam.send(new GetUserCommand({ UserName: params.principalName }));
  else await ctx.iam.send(new GetRoleCommand({ RoleName: params.principalName }));
}

async function putSessionDeny(ctx: ConnectorContext, params: SessionDenyParams): Promise<void> {
  const PolicyDocument = JSON.stringify(sessionDenyDocument(params.issuedBefore));
  await connectorStep(`denying sessions of ${params.principalType} ${params.principalName} issued before ${params.issuedBefore}`, classifyAwsError, () =>
    params.principalType === 'user'
      ? ctx.iam.send(new PutUserPolicyCommand({ UserName: params.principalName, PolicyName: SESSION_DENY_POLICY_NAME, PolicyDocument }))
      : ctx.iam.send(new PutRolePolicyCommand({ RoleName: params.principalName, PolicyName: SESSION_DENY_POLICY_NAME, PolicyDocument })),
  );
}

async function deleteSessionDeny(ctx: ConnectorContext, params: Pick<SessionDenyParams, 'principalType' | 'principalName'>): Promise<void> {
  await connectorStep(`removing session deny of ${params.principalType} ${params.principalName}`, classifyAwsError, async () => {
    try {
      if (params.principalType === 'user') await ctx.iam.send(new DeleteUserPolicyCommand({ UserName: params.principalName, PolicyName: SESSION_DENY_POLICY_NAME }));
      else await ctx.iam.send(new DeleteRolePolicyCommand({ RoleName: params.principalName, PolicyName: SESSION_DENY_POLICY_NAME }));
    } catch (error) {
      // Deleting what is already gone is success (idempotent write).
      if ((error as { name?: string }).name !== 'NoSuchEntityException') throw error;
    }
  });
}

const sessionDenyFromSnapshot = (params: JsonObject, snapshot: Parameters<ConnectorAction['beforeFromSnapshot']>[1]): JsonObject | null => {
  const p = principalOnly.parse({ principalType: params.principalType, principalName: params.principalName });
  const principal = p.principalType === 'user' ? snapshot.users.find((u) => u.name === p.principalName) : snapshot.roles.find((r) => r.name === p.principalName);
  if (!principal) return null;
  const existing = principal.inlinePolicies.find((policy) => policy.name === SESSION_DENY_POLICY_NAME);
  if (!existing) return { present: false, issuedBefore: null };
  const statement = (existing.document.Statement as Array<{ Condition?: { DateLessThan?: Record<string, string> } }> | undefined)?.[0];
  return { present: true, issuedBefore: statement?.Condition?.DateLessThan?.['aws:TokenIssueTime'] ?? null };
};

/** Puts the inline deny on sessions issued before the change, on a user or a role. */
export const putSessionRevocationDeny: ConnectorAction<SessionDenyParams> = {
  kind: 'iam.putSessionRevocationDeny',
  description: 'denying sessions issued before the change',
  irreversible: false,
  targetType: 'user',
  schema: sessionDenyParams,
  permissions: ['iam:GetUserPolicy', 'iam:GetRolePolicy', 'iam:GetUser', 'iam:GetRole', 'iam:PutUserPolicy', 'iam:PutRolePolicy'],
  label: (p) => `${p.principalType} ${p.principalName}`,
  beforeFromSnapshot: sessionDenyFromSnapshot,
  desiredState: (params) => ({ present: true, issuedBefore: String(params.issuedBefore) }),
  inverse: (params, before) =>
    before.present === true && typeof before.issuedBefore === 'string'
      ? { kind: 'iam.putSessionRevocationDeny', params: { ...params, issuedBefore: before.issuedBefore } }
      : { kind: 'iam.deleteSessionRevocationDeny', params },
  read: readSessionDeny,
  write: putSessionDeny,
  verify: (ctx, params, after) => verifyByReadBack(readSessionDeny, ctx, params, after),
  classify: classifyAwsError,
};

/** Removes the session deny: the inverse of putting it. */
export const deleteSessionRevocationDeny: ConnectorAction<SessionDenyParams> = {
  kind: 'iam.deleteSessionRevocationDeny',
  description: 'removing the session deny',
  irreversible: false,
  targetType: 'user',
  schema: sessionDenyParams,
  permissions: ['iam:GetUserPolicy', 'iam:GetRolePolicy', 'iam:GetUser', 'iam:GetRole', 'iam:DeleteUserPolicy', 'iam:DeleteRolePolicy'],
  label: (p) => `${p.principalType} ${p.principalName}`,
  beforeFromSnapshot: sessionDenyFromSnapshot,
  desiredState: () => ({ present: false, issuedBefore: null }),
  inverse: (params) => ({ kind: 'iam.putSessionRevocationDeny', params }),
  read: readSessionDeny,
  write: (ctx, params) => deleteSessionDeny(ctx, params),
  verify: (ctx, params, after) => verifyByReadBack(readSessionDeny, ctx, params, after),
  classify: classifyAwsError,
};

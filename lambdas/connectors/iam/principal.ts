import { z } from 'zod';
import {
  DeleteRolePolicyCommand,
  DeleteUserPolicyCommand,
  GetRoleCommand,
  GetRolePolicyCommand,
  GetUserCommand,
  GetUserPolicyCommand,
  PutRolePolicyCommand,
  PutUserPolicyCommand,
} from '@aws-sdk/client-iam';
import type { JsonObject } from '../../domain/plan-model.js';
import { findPrincipal, type RoleSnapshot, type Snapshot, type UserSnapshot } from '../../domain/snapshot.js';
import type { ConnectorContext } from '../types.js';

/** An IAM user or role, the principals policies attach to. */
export const principalShape = {
  principalType: z.enum(['user', 'role']),
  principalName: z.string().min(1).max(128).regex(/^[\w+=,.@-]+$/, 'an IAM user or role name'),
};
export const principalParams = z.strictObject(principalShape);
export type Principal = z.infer<typeof principalParams>;

export const principalLabel = (p: Principal): string => `${p.principalType} ${p.principalName}`;

export function isNoSuchEntity(error: unknown): boolean {
  const name = (error as { name?: string } | null)?.name;
  return name === 'NoSuchEntityException' || name === 'NoSuchEntity';
}

/** IAM answers NoSuchEntity both for a missing policy and a missing principal: tell them apart. */
export async function assertPrincipalExists(ctx: ConnectorContext, p: Principal): Promise<void> {
  if (p.principalType === 'user') await ctx.iam.send(new GetUserCommand({ UserName: p.principalName }));
  else await ctx.iam.send(new GetRoleCommand({ RoleName: p.principalName }));
}

/** IAM returns policy documents URL-encoded. */
export function decodePolicyDocument(encoded: string | undefined): JsonObject {
  const parsed: unknown = JSON.parse(decodeURIComponent(encoded ?? '{}'));
  return parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed) ? (parsed as JsonObject) : {};
}

/** Permissions of the inline-policy helpers below, by what the caller does. */
export const INLINE_READ_PERMISSIONS = ['iam:GetUserPolicy', 'iam:GetRolePolicy', 'iam:GetUser', 'iam:GetRole'] as const;
export const INLINE_PUT_PERMISSIONS = ['iam:PutUserPolicy', 'iam:PutRolePolicy'] as const;
export const INLINE_DELETE_PERMISSIONS = ['iam:DeleteUserPolicy', 'iam:DeleteRolePolicy'] as const;

/** The inline policy's document, or null when the principal (which must exist) has none of that name. */
export async function getInlinePolicy(ctx: ConnectorContext, p: Principal, policyName: string): Promise<JsonObject | null> {
  try {
    const out =
      p.principalType === 'user'
        ? await ctx.iam.send(new GetUserPolicyCommand({ UserName: p.principalName, PolicyName: policyName }))
        : await ctx.iam.send(new GetRolePolicyCommand({ RoleName: p.principalName, PolicyName: policyName }));
    return decodePolicyDocument(out.PolicyDocument);
  } catch (error) {
    if (!isNoSuchEntity(error)) throw error;
    await assertPrincipalExists(ctx, p);
    return null;
  }
}

/** PutUserPolicy / PutRolePolicy replace a policy of the same name: idempotent. */
export async function putInlinePolicy(ctx: ConnectorContext, p: Principal, policyName: string, document: JsonObject): Promise<void> {
  const PolicyDocument = JSON.stringify(document);
  if (p.principalType === 'user') await ctx.iam.send(new PutUserPolicyCommand({ UserName: p.principalName, PolicyName: policyName, PolicyDocument }));
  else await ctx.iam.send(new PutRolePolicyCommand({ RoleName: p.principalName, PolicyName: policyName, PolicyDocument }));
}

/** Deleting a policy that is already gone is success (idempotent write); verify reads the principal back. */
export async function deleteInlinePolicy(ctx: ConnectorContext, p: Principal, policyName: string): Promise<void> {
  try {
    if (p.principalType === 'user') await ctx.iam.send(new DeleteUserPolicyCommand({ UserName: p.principalName, PolicyName: policyName }));
    else await ctx.iam.send(new DeleteRolePolicyCommand({ RoleName: p.principalName, PolicyName: policyName }));
  } catch (error) {
    if (!isNoSuchEntity(error)) throw error;
  }
}

/** The principal named by an action's params, in a snapshot. */
export function principalInSnapshot(snapshot: Snapshot, params: JsonObject): UserSnapshot | RoleSnapshot | null {
  const parsed = principalParams.safeParse({ principalType: params.principalType, principalName: params.principalName });
  return parsed.success ? findPrincipal(snapshot, parsed.data.principalType, parsed.data.principalName) : null;
}

/** The inline policy of that name on the principal, as the snapshot shows it; undefined: principal unknown. */
export function inlineDocumentInSnapshot(snapshot: Snapshot, params: JsonObject, policyName: string): JsonObject | null | undefined {
  const principal = principalInSnapshot(snapshot, params);
  if (!principal) return undefined;
  const policy = principal.inlinePolicies.find((candidate) => candidate.name === policyName);
  return policy ? (policy.document as JsonObject) : null;
}

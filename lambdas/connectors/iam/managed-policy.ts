import { z } from 'zod';
import {
  AttachRolePolicyCommand,
  AttachUserPolicyCommand,
  DetachRolePolicyCommand,
  DetachUserPolicyCommand,
  ListAttachedRolePoliciesCommand,
  ListAttachedUserPoliciesCommand,
} from '@aws-sdk/client-iam';
import type { JsonObject } from '../../domain/plan-model.js';
import { classifyAwsError, connectorStep } from '../errors.js';
import { verifyByReadBack } from '../read-back.js';
import type { ConnectorAction, ConnectorContext } from '../types.js';
import { isNoSuchEntity, principalInSnapshot, principalLabel, principalShape } from './principal.js';

export const managedPolicyParams = z.strictObject({
  ...principalShape,
  policyArn: z.string().regex(/^arn:aws[\w-]*:iam::(\d{12}|aws):policy\/[\w+=,.@/-]+$/, 'a managed policy ARN'),
});
export type ManagedPolicyParams = z.infer<typeof managedPolicyParams>;

/** State: { attached } — whether the managed policy is attached to the principal. */
export async function readManagedPolicyAttachment(ctx: ConnectorContext, params: ManagedPolicyParams): Promise<JsonObject> {
  return connectorStep(`reading managed policies of ${principalLabel(params)}`, classifyAwsError, async () => {
    let marker: string | undefined;
    do {
      const page =
        params.principalType === 'user'
          ? await ctx.iam.send(new ListAttachedUserPoliciesCommand({ UserName: params.principalName, Marker: marker }))
          : await ctx.iam.send(new ListAttachedRolePoliciesCommand({ RoleName: params.principalName, Marker: marker }));
      if ((page.AttachedPolicies ?? []).some((p) => p.PolicyArn === params.policyArn)) return { attached: true };
      marker = page.IsTruncated ? page.Marker : undefined;
    } while (marker);
    return { attached: false };
  });
}

async function attach(ctx: ConnectorContext, params: ManagedPolicyParams): Promise<void> {
  // Attaching an attached policy is a no-op in IAM: idempotent as is.
  if (params.principalType === 'user') await ctx.iam.send(new AttachUserPolicyCommand({ UserName: params.principalName, PolicyArn: params.policyArn }));
  else await ctx.iam.send(new AttachRolePolicyCommand({ RoleName: params.principalName, PolicyArn: params.policyArn }));
}

async function detach(ctx: ConnectorContext, params: ManagedPolicyParams): Promise<void> {
  try {
    if (params.principalType === 'user') await ctx.iam.send(new DetachUserPolicyCommand({ UserName: params.principalName, PolicyArn: params.policyArn }));
    else await ctx.iam.send(new DetachRolePolicyCommand({ RoleName: params.principalName, PolicyArn: params.policyArn }));
  } catch (error) {
    // Not attached (any more): success; a missing principal shows in verify's read.
    if (!isNoSuchEntity(error)) throw error;
  }
}

/** Builds the detach / re-attach pair: each is the other's inverse. */
export function managedPolicyAction(kind: string, attached: boolean, inverseKind: string): ConnectorAction<ManagedPolicyParams> {
  const list = ['iam:ListAttachedUserPolicies', 'iam:ListAttachedRolePolicies'];
  return {
    kind,
    description: attached ? 're-attaching a managed policy' : 'detaching a managed policy',
    irreversible: false,
    targetType: 'user',
    schema: managedPolicyParams,
    permissions: { read: list, write: attached ? ['iam:AttachUserPolicy', 'iam:AttachRolePolicy'] : ['iam:DetachUserPolicy', 'iam:DetachRolePolicy'] },
    label: (p) => `${p.policyArn} on ${principalLabel(p)}`,
    beforeFromSnapshot(params, snapshot) {
      const principal = principalInSnapshot(snapshot, params);
      return principal ? { attached: principal.attachedPolicies.some((p) => p.policyArn === params.policyArn) } : null;
    },
    desiredState: () => ({ attached }),
    inverse: (params) => ({ kind: inverseKind, params }),
    read: readManagedPolicyAttachment,
    async write(ctx, params) {
      await connectorStep(`${attached ? 'attaching' : 'detaching'} ${params.policyArn} ${attached ? 'to' : 'from'} ${principalLabel(params)}`, classifyAwsError, () =>
        attached ? attach(ctx, params) : detach(ctx, params),
      );
    },
    verify: (ctx, params, after) => verifyByReadBack(readManagedPolicyAttachment, ctx, params, after),
    classify: classifyAwsError,
  };
}

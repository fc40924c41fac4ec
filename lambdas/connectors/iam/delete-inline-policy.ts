import { classifyAwsError, connectorStep } from '../errors.js';
import { verifyByReadBack } from '../read-back.js';
import type { ConnectorAction } from '../types.js';
import { inlinePolicyFromSnapshot, inlinePolicyLabel, inlinePolicyRef, inlinePolicyState, readInlinePolicy, type InlinePolicyRef } from './inline-policy.js';
import { deleteInlinePolicy as removeInlinePolicy, INLINE_DELETE_PERMISSIONS, INLINE_READ_PERMISSIONS } from './principal.js';

/** Deletes an inline policy of a user or role; the inverse puts the same document back (kept in its params). */
export const deleteInlinePolicy: ConnectorAction<InlinePolicyRef> = {
  kind: 'iam.deleteInlinePolicy',
  description: 'deleting an inline policy',
  irreversible: false,
  targetType: 'user',
  schema: inlinePolicyRef,
  permissions: { read: INLINE_READ_PERMISSIONS, write: INLINE_DELETE_PERMISSIONS },
  label: inlinePolicyLabel,
  beforeFromSnapshot: inlinePolicyFromSnapshot,
  desiredState: () => inlinePolicyState(null),
  inverse: (params, before) =>
    before.document !== null && typeof before.document === 'object' && !Array.isArray(before.document)
      ? { kind: 'iam.putInlinePolicy', params: { ...params, document: before.document } }
      : { kind: 'iam.deleteInlinePolicy', params },
  read: readInlinePolicy,
  async write(ctx, params) {
    await connectorStep(`deleting inline policy ${inlinePolicyLabel(params)}`, classifyAwsError, () => removeInlinePolicy(ctx, params, params.policyName));
  },
  verify: (ctx, params, after) => verifyByReadBack(readInlinePolicy, ctx, params, after),
  classify: classifyAwsError,
};

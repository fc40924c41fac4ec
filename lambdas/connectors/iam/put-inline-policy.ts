import type { JsonObject } from '../../domain/plan-model.js';
import { classifyAwsError, connectorStep } from '../errors.js';
import { verifyByReadBack } from '../read-back.js';
import type { ConnectorAction } from '../types.js';
import { inlinePolicyFromSnapshot, inlinePolicyLabel, inlinePolicyState, inlinePolicyWithDocument, readInlinePolicy, withoutDocument, type InlinePolicyWithDocument } from './inline-policy.js';
import { INLINE_PUT_PERMISSIONS, INLINE_READ_PERMISSIONS, putInlinePolicy as writeInlinePolicy } from './principal.js';

/** Puts an inline policy document back on a user or role: the inverse of deleting it. */
export const putInlinePolicy: ConnectorAction<InlinePolicyWithDocument> = {
  kind: 'iam.putInlinePolicy',
  description: 'putting an inline policy back',
  irreversible: false,
  targetType: 'user',
  schema: inlinePolicyWithDocument,
  permissions: { read: INLINE_READ_PERMISSIONS, write: INLINE_PUT_PERMISSIONS },
  label: inlinePolicyLabel,
  beforeFromSnapshot: inlinePolicyFromSnapshot,
  desiredState: (params) => inlinePolicyState(params.document as JsonObject),
  // Replacing a document puts the old one back; creating one deletes it.
  inverse: (params, before) =>
    before.document !== null && typeof before.document === 'object' && !Array.isArray(before.document)
      ? { kind: 'iam.putInlinePolicy', params: { ...params, document: before.document } }
      : { kind: 'iam.deleteInlinePolicy', params: withoutDocument(params) },
  read: (ctx, params) => readInlinePolicy(ctx, params),
  async write(ctx, params) {
    await connectorStep(`putting inline policy ${inlinePolicyLabel(params)}`, classifyAwsError, () => writeInlinePolicy(ctx, params, params.policyName, params.document as JsonObject));
  },
  verify: (ctx, params, after) => verifyByReadBack((c, p) => readInlinePolicy(c, p), ctx, params, after),
  classify: classifyAwsError,
};

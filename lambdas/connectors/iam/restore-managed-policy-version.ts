import { SetDefaultPolicyVersionCommand } from '@aws-sdk/client-iam';
import { connectorStep } from '../errors.js';
import { verifyByReadBack } from '../read-back.js';
import type { ConnectorAction } from '../types.js';
import {
  classifyPolicyVersionError,
  POLICY_VERSION_READ_PERMISSIONS,
  policyRestoreParams,
  policyVersionLabel,
  policyVersionStateFromSnapshot,
  readDefaultVersion,
  readPolicyVersionState,
  type PolicyRestoreParams,
} from './managed-policy-version.js';

/**
 * Makes a customer-managed policy's previous version default again: the inverse of editing it.
 * Verified by reading the default version back and comparing its document's hash with the one the
 * plan recorded. Its inverse is the edit again (the version it demotes holds `document`).
 */
export const restoreManagedPolicyVersion: ConnectorAction<PolicyRestoreParams> = {
  kind: 'iam.restoreManagedPolicyVersion',
  description: 'restoring the previous version of a customer-managed policy',
  irreversible: false,
  targetType: 'user',
  schema: policyRestoreParams,
  permissions: { read: [...POLICY_VERSION_READ_PERMISSIONS], write: ['iam:SetDefaultPolicyVersion'] },
  label: policyVersionLabel,
  beforeFromSnapshot: policyVersionStateFromSnapshot,
  desiredState: (params, before) => ({ ...before, versionIsDefault: true, documentSha256: typeof params.documentSha256 === 'string' ? params.documentSha256 : null }),
  inverse: ({ documentSha256: _restored, ...edit }) => ({ kind: 'iam.editManagedPolicy', params: edit }),
  read: readPolicyVersionState,
  async write(ctx, params) {
    await connectorStep(`making ${params.versionId} the default version of ${policyVersionLabel(params)}`, classifyPolicyVersionError, async () => {
      if ((await readDefaultVersion(ctx, params.policyArn)).versionId === params.versionId) return;
      await ctx.iam.send(new SetDefaultPolicyVersionCommand({ PolicyArn: params.policyArn, VersionId: params.versionId }));
    });
  },
  verify: (ctx, params, after) => verifyByReadBack(readPolicyVersionState, ctx, params, after),
  classify: classifyPolicyVersionError,
};

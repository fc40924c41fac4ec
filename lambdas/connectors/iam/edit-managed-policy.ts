import { CreatePolicyVersionCommand, GetPolicyVersionCommand, ListPolicyVersionsCommand, SetDefaultPolicyVersionCommand } from '@aws-sdk/client-iam';
import { AppError } from '../../domain/reasons.js';
import { MAX_MANAGED_POLICY_VERSIONS } from '../../domain/snapshot.js';
import { connectorStep } from '../errors.js';
import { verifyByReadBack } from '../read-back.js';
import type { ConnectorAction, ConnectorContext } from '../types.js';
import {
  classifyPolicyVersionError,
  documentHash,
  POLICY_VERSION_READ_PERMISSIONS,
  policyEditParams,
  policyVersionLabel,
  policyVersionStateFromSnapshot,
  readDefaultVersion,
  readPolicyVersionState,
  type PolicyEditParams,
} from './managed-policy-version.js';
import { decodePolicyDocument } from './principal.js';

/**
 * A new default version holding `document`. Idempotent: a default already holding it is left as
 * is, and a version holding it that is not default (left by an earlier edit a rollback undid) is
 * made default instead of making another. Never deletes a version: at IAM's limit of five it
 * refuses (PLAN_STALE: the plan saw fewer; the next reconcile detaches the policy instead).
 */
async function writeNewDefault(ctx: ConnectorContext, p: PolicyEditParams): Promise<void> {
  const wanted = documentHash(p.document);
  const current = await readDefaultVersion(ctx, p.policyArn);
  // Whether the default is still what the plan saw is CheckStale's to judge (against the plan's
  // `before`), not the write's: a held state put back finds another version default by design.
  if (current.documentSha256 === wanted) return;
  const versions = (await ctx.iam.send(new ListPolicyVersionsCommand({ PolicyArn: p.policyArn }))).Versions ?? [];
  for (const version of versions) {
    if (version.IsDefaultVersion || !version.VersionId) continue;
    const held = (await ctx.iam.send(new GetPolicyVersionCommand({ PolicyArn: p.policyArn, VersionId: version.VersionId }))).PolicyVersion;
    if (documentHash(decodePolicyDocument(held?.Document)) !== wanted) continue;
    await ctx.iam.send(new SetDefaultPolicyVersionCommand({ PolicyArn: p.policyArn, VersionId: version.VersionId }));
    return;
  }
  if (versions.length >= MAX_MANAGED_POLICY_VERSIONS) {
    throw new AppError('PLAN_STALE', `${policyVersionLabel(p)} has ${versions.length} versions: another can only be made by deleting one, which an edit never does`);
  }
  await ctx.iam.send(new CreatePolicyVersionCommand({ PolicyArn: p.policyArn, PolicyDocument: JSON.stringify(p.document), SetAsDefault: true }));
}

/**
 * Removes statements from a customer-managed policy attached to one NHI only: a new default
 * version without them. The inverse makes the exact previous version default again.
 */
export const editManagedPolicy: ConnectorAction<PolicyEditParams> = {
  kind: 'iam.editManagedPolicy',
  description: 'editing a customer-managed policy',
  irreversible: false,
  targetType: 'user',
  schema: policyEditParams,
  permissions: { read: [...POLICY_VERSION_READ_PERMISSIONS, 'iam:ListPolicyVersions'], write: ['iam:CreatePolicyVersion', 'iam:SetDefaultPolicyVersion'] },
  label: policyVersionLabel,
  beforeFromSnapshot: policyVersionStateFromSnapshot,
  desiredState: (params, before) => ({ ...before, versionIsDefault: false, documentSha256: documentHash(params.document) }),
  inverse: (params, before) =>
    typeof before.documentSha256 === 'string'
      ? { kind: 'iam.restoreManagedPolicyVersion', params: { ...params, documentSha256: before.documentSha256 } }
      : null,
  read: readPolicyVersionState,
  async write(ctx, params) {
    await connectorStep(`making a new default version of ${policyVersionLabel(params)}`, classifyPolicyVersionError, () => writeNewDefault(ctx, params));
  },
  verify: (ctx, params, after) => verifyByReadBack(readPolicyVersionState, ctx, params, after),
  classify: classifyPolicyVersionError,
};

/**
 * The default version of a customer-managed policy, as the edit that removes statements from it
 * and the restore that makes the previous version default again share it. Both name `versionId`,
 * the version that was default when the plan was made, so their state is known exactly at plan
 * time although IAM numbers a new version only when it makes it:
 * { versionId, versionIsDefault, documentSha256 (of the default version's document), attachmentCount }.
 * The attachment count is part of it so that a policy attached to another principal since the plan
 * (editing it would change that principal too) makes the plan stale.
 */
import { z } from 'zod';
import { GetPolicyCommand, GetPolicyVersionCommand } from '@aws-sdk/client-iam';
import { contentHash } from '../../domain/canonical.js';
import type { JsonObject } from '../../domain/plan-model.js';
import { findManagedPolicy, type Snapshot } from '../../domain/snapshot.js';
import { AppError } from '../../domain/reasons.js';
import { classifyAwsError, connectorStep } from '../errors.js';
import type { ConnectorContext } from '../types.js';
import { policyDocument } from './inline-policy.js';
import { decodePolicyDocument, principalLabel, principalShape } from './principal.js';

const customerPolicyArn = z.string().regex(/^arn:aws[\w-]*:iam::\d{12}:policy\/[\w+=,.@/-]+$/, 'a customer-managed policy ARN');
const policyVersionId = z.string().regex(/^v[1-9]\d*$/, 'a policy version id (v1, v2, …)');

/** Edit: `versionId` was default when planned; the new default version holds `document`. */
export const policyEditParams = z.strictObject({ ...principalShape, policyArn: customerPolicyArn, versionId: policyVersionId, document: policyDocument });
export type PolicyEditParams = z.infer<typeof policyEditParams>;

/** Restore: `versionId` (its document hashing to `documentSha256`) default again, replacing the version that holds `document`. */
export const policyRestoreParams = z.strictObject({
  ...principalShape,
  policyArn: customerPolicyArn,
  versionId: policyVersionId,
  documentSha256: z.string().regex(/^[0-9a-f]{64}$/, 'a sha256 (hex)'),
  document: policyDocument,
});
export type PolicyRestoreParams = z.infer<typeof policyRestoreParams>;

type PolicyVersionRef = Pick<PolicyEditParams, 'principalType' | 'principalName' | 'policyArn' | 'versionId'>;

/** Read and verify use these; the edit's write lists versions too. */
export const POLICY_VERSION_READ_PERMISSIONS = ['iam:GetPolicy', 'iam:GetPolicyVersion'] as const;

/** IAM answers LimitExceeded when a policy already has five versions: the plan saw fewer. */
export function classifyPolicyVersionError(error: unknown): ReturnType<typeof classifyAwsError> {
  const name = (error as { name?: string } | null)?.name;
  if (name === 'LimitExceededException' || name === 'LimitExceeded') return 'PLAN_STALE';
  return classifyAwsError(error);
}

/** sha256 of the document's canonical JSON: key order and spacing, which IAM may not keep, do not count. */
export const documentHash = (document: unknown): string => contentHash(document);

export const policyVersionLabel = (p: PolicyVersionRef): string => `${p.policyArn} (attached to ${principalLabel(p)})`;

export function policyVersionState(p: Pick<PolicyVersionRef, 'versionId'>, defaultVersionId: string, documentSha256: string, attachmentCount: number): JsonObject {
  return { versionId: p.versionId, versionIsDefault: defaultVersionId === p.versionId, documentSha256, attachmentCount };
}

export interface DefaultVersion {
  readonly versionId: string;
  readonly documentSha256: string;
  readonly attachmentCount: number;
}

/** GetPolicy, then the default version's document (IAM gives it URL-encoded). */
export async function readDefaultVersion(ctx: ConnectorContext, policyArn: string): Promise<DefaultVersion> {
  const policy = (await ctx.iam.send(new GetPolicyCommand({ PolicyArn: policyArn }))).Policy;
  const versionId = policy?.DefaultVersionId;
  if (!versionId) throw new AppError('TARGET_NOT_FOUND', `managed policy ${policyArn} has no default version`);
  const version = (await ctx.iam.send(new GetPolicyVersionCommand({ PolicyArn: policyArn, VersionId: versionId }))).PolicyVersion;
  return { versionId, documentSha256: documentHash(decodePolicyDocument(version?.Document)), attachmentCount: policy.AttachmentCount ?? 0 };
}

export async function readPolicyVersionState(ctx: ConnectorContext, p: PolicyVersionRef): Promise<JsonObject> {
  return connectorStep(`reading the default version of ${policyVersionLabel(p)}`, classifyPolicyVersionError, async () => {
    const current = await readDefaultVersion(ctx, p.policyArn);
    return policyVersionState(p, current.versionId, current.documentSha256, current.attachmentCount);
  });
}

export function policyVersionStateFromSnapshot(params: JsonObject, snapshot: Snapshot): JsonObject | null {
  if (typeof params.policyArn !== 'string' || typeof params.versionId !== 'string') return null;
  const policy = findManagedPolicy(snapshot, params.policyArn);
  if (!policy) return null;
  return policyVersionState({ versionId: params.versionId }, policy.defaultVersionId, documentHash(policy.document), policy.attachmentCount);
}

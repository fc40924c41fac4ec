import { z } from 'zod';
import type { GovernanceEvent } from '../events.js';
import { causeOf, ignored, invalid, isoOrUndefined, triggers, type ProviderEnvelope, type SignalResult, type SignalSource } from './signal.js';

const SOURCE = 'aws.access-analyzer';
const DETAIL_TYPE = 'Unused Access Finding for IAM entities';
export const UNUSED_FINDING_TYPES = ['UnusedIAMUserAccessKey', 'UnusedIAMUserPassword', 'UnusedIAMRole', 'UnusedPermission'] as const;

const iamArn = z.string().max(2048).regex(/^arn:aws[a-z-]*:iam::\d{12}:(user|role)\/[\w+=,.@/-]+$/, 'an IAM user or role ARN');

const detailSchema = z.looseObject({
  findingId: z.string().min(1).max(512),
  resource: z.string().min(1).max(2048),
  resourceType: z.string().max(128).optional(),
  findingType: z.enum(UNUSED_FINDING_TYPES),
  status: z.string().min(1).max(64),
  updatedAt: z.string().min(1).max(64),
  analyzedAt: z.string().max(64).optional(),
});

/**
 * IAM Access Analyzer unused access: an active finding reconciles the NHI it names (unused keys
 * are deactivated per the policy's thresholds, the rest reported), with the finding as the cause.
 * Thresholds are evaluated as of the analysis (`analyzedAt`), the moment Access Analyzer judged.
 */
export const accessAnalyzerSignal: SignalSource = {
  id: 'AccessAnalyzerUnusedAccess',
  name: 'IAM Access Analyzer',
  bus: 'default',
  detailType: DETAIL_TYPE,
  pattern: { source: [SOURCE], 'detail-type': [DETAIL_TYPE] },
  matches: (source, detailType) => source === SOURCE && detailType === DETAIL_TYPE,
  toTriggers(envelope: ProviderEnvelope): SignalResult {
    const parsed = detailSchema.safeParse(envelope.detail);
    if (!parsed.success) return invalid(parsed.error);
    const detail = parsed.data;
    if (detail.status !== 'ACTIVE') return ignored(`Access Analyzer finding ${detail.findingId} is ${detail.status}, not ACTIVE`);
    const resource = iamArn.safeParse(detail.resource);
    if (!resource.success) return invalid(resource.error, 'detail.resource');
    const asOf = isoOrUndefined(detail.analyzedAt);
    const time = isoOrUndefined(envelope.time);
    const trigger: GovernanceEvent = {
      id: `${SOURCE}:${detail.findingId}:${detail.updatedAt}`,
      detailType: 'Reconcile Requested',
      source: 'nhigov',
      detail: { scope: { nhi: resource.data }, ...(asOf ? { asOf } : {}) },
      ...(time ? { time } : {}),
      cause: causeOf(envelope, { type: detail.findingType, reference: detail.findingId, subject: resource.data, updatedAt: detail.updatedAt }),
    };
    return triggers([trigger]);
  },
};

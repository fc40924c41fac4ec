import { z } from 'zod';
import { accessKeyIdSchema, type GovernanceEvent, type Severity } from '../events.js';
import { causeOf, ignored, invalid, isoOrUndefined, triggers, type ProviderEnvelope, type SignalResult, type SignalSource } from './signal.js';

const SOURCE = 'aws.guardduty';
const DETAIL_TYPE = 'GuardDuty Finding';

const detailSchema = z.looseObject({
  id: z.string().min(1).max(512),
  type: z.string().min(1).max(512),
  severity: z.number().min(0).max(10),
  updatedAt: z.string().min(1).max(64),
  title: z.string().max(1024).optional(),
  resource: z.looseObject({
    resourceType: z.string(),
    accessKeyDetails: z
      .looseObject({
        accessKeyId: z.string().max(128).optional(),
        userName: z.string().max(128).optional(),
        userType: z.string().max(64).optional(),
        principalId: z.string().max(256).optional(),
      })
      .optional(),
  }),
  service: z.looseObject({ archived: z.boolean().optional() }).optional(),
});

/** GuardDuty's numeric severity (0–10) as ours: < 4 low, < 7 medium, < 9 high, else critical. */
export function guardDutySeverity(score: number): Severity {
  if (score < 4) return 'low';
  if (score < 7) return 'medium';
  if (score < 9) return 'high';
  return 'critical';
}

const userName = z.string().min(1).max(128).regex(/^[\w+=,.@-]+$/, 'an IAM user or role name');

/**
 * A GuardDuty finding on an access key: the key is contained (an IAM user's `AKIA…` key is
 * deactivated). Temporary credentials (`ASIA…`, userType AssumedRole) are a role session: the
 * role's sessions are revoked instead, there is no key to touch.
 */
export const guardDutySignal: SignalSource = {
  id: 'GuardDutyAccessKeyFinding',
  name: 'Amazon GuardDuty',
  bus: 'default',
  detailType: DETAIL_TYPE,
  pattern: { source: [SOURCE], 'detail-type': [DETAIL_TYPE], detail: { resource: { resourceType: ['AccessKey'] } } },
  matches: (source, detailType) => source === SOURCE && detailType === DETAIL_TYPE,
  toTriggers(envelope: ProviderEnvelope): SignalResult {
    const parsed = detailSchema.safeParse(envelope.detail);
    if (!parsed.success) return invalid(parsed.error);
    const detail = parsed.data;
    if (detail.resource.resourceType !== 'AccessKey') return ignored(`GuardDuty finding ${detail.type} is on a ${detail.resource.resourceType}, not an access key`);
    if (detail.service?.archived) return ignored(`GuardDuty finding ${detail.id} is archived`);
    const key = detail.resource.accessKeyDetails;
    const userType = key?.userType ?? '';
    if (userType !== 'IAMUser' && userType !== 'AssumedRole') return ignored(`GuardDuty finding ${detail.id} is on a ${userType || 'unnamed'} principal, not an IAM user or role`);
    const name = userName.safeParse(key?.userName);
    if (!name.success) return invalid(name.error, 'detail.resource.accessKeyDetails.userName');
    const severity = guardDutySeverity(detail.severity);
    const temporary = userType === 'AssumedRole' || (key?.accessKeyId ?? '').startsWith('ASIA');
    let accessKeyId: string | undefined;
    if (!temporary) {
      const parsedKey = accessKeyIdSchema.safeParse(key?.accessKeyId);
      if (!parsedKey.success) return invalid(parsedKey.error, 'detail.resource.accessKeyDetails.accessKeyId');
      accessKeyId = parsedKey.data;
    }
    const time = isoOrUndefined(envelope.time);
    const trigger: GovernanceEvent = {
      id: `${SOURCE}:${detail.id}:${detail.updatedAt}`,
      detailType: 'Credential Exposed',
      source: 'security.findings',
      detail: { nhi: name.data, ...(accessKeyId ? { accessKeyId } : {}), severity },
      ...(time ? { time } : {}),
      cause: causeOf(envelope, { type: detail.type, reference: detail.id, ...(key?.accessKeyId ? { subject: key.accessKeyId } : {}), updatedAt: detail.updatedAt, severity: detail.severity, ...(detail.title ? { title: detail.title } : {}) }),
    };
    return triggers([trigger]);
  },
};

import { z } from 'zod';
import { accessKeyIdSchema, type GovernanceEvent } from '../events.js';
import { causeOf, ignored, invalid, isoOrUndefined, triggers, type ProviderEnvelope, type SignalResult, type SignalSource } from './signal.js';

const SOURCE = 'aws.health';
const DETAIL_TYPE = 'AWS Health Event';
export const HEALTH_EXPOSED_CODE = 'AWS_RISK_CREDENTIALS_EXPOSED';

const detailSchema = z.looseObject({
  eventArn: z.string().min(1).max(1600),
  eventTypeCode: z.string().min(1).max(256),
  service: z.string().optional(),
  affectedEntities: z.array(z.looseObject({ entityValue: z.string().min(1).max(1600) })).optional(),
});

/**
 * AWS Health `AWS_RISK_CREDENTIALS_EXPOSED`: AWS found an access key in public (a repository,
 * a paste site). Each affected entity is one key, contained at once (severity critical); the
 * event names no user, so Plan looks the key's user up.
 */
export const healthSignal: SignalSource = {
  id: 'AwsHealthCredentialsExposed',
  name: 'AWS Health',
  bus: 'default',
  detailType: DETAIL_TYPE,
  // Every RISK event comes in so that another one is recorded as ignored, not silently missed.
  pattern: { source: [SOURCE], 'detail-type': [DETAIL_TYPE], detail: { service: ['RISK'] } },
  matches: (source, detailType) => source === SOURCE && detailType === DETAIL_TYPE,
  toTriggers(envelope: ProviderEnvelope): SignalResult {
    const parsed = detailSchema.safeParse(envelope.detail);
    if (!parsed.success) return invalid(parsed.error);
    const detail = parsed.data;
    if (detail.eventTypeCode !== HEALTH_EXPOSED_CODE) return ignored(`AWS Health event ${detail.eventTypeCode} is not an exposed credential`);
    const entities = [...new Set((detail.affectedEntities ?? []).map((e) => e.entityValue))];
    if (entities.length === 0) return ignored(`${HEALTH_EXPOSED_CODE} ${detail.eventArn} names no affected access key`);
    const list: GovernanceEvent[] = [];
    for (const entity of entities) {
      const key = accessKeyIdSchema.safeParse(entity);
      if (!key.success) return { outcome: 'invalid', error: `detail.affectedEntities: ${JSON.stringify(entity.slice(0, 64))} is not an access key id` };
      const time = isoOrUndefined(envelope.time);
      list.push({
        id: `${SOURCE}:${detail.eventArn}:${key.data}`,
        detailType: 'Credential Exposed',
        source: 'security.findings',
        detail: { accessKeyId: key.data, severity: 'critical' },
        ...(time ? { time } : {}),
        cause: causeOf(envelope, { type: detail.eventTypeCode, reference: detail.eventArn, severity: 'critical' }),
      });
    }
    return triggers(list);
  },
};

import { z } from 'zod';
import { causeOf, ignored, invalid, isoOrUndefined, triggers, type ProviderEnvelope, type SignalResult, type SignalSource } from './signal.js';

/** Okta's partner event sources: `aws.partner/okta.com/<org>/<name>`. */
export const OKTA_SOURCE_PREFIX = 'aws.partner/okta.com/';
const DETAIL_TYPE = 'SystemLog';
export const OKTA_DEACTIVATE = 'user.lifecycle.deactivate';

const detailSchema = z.looseObject({
  uuid: z.string().min(1).max(128),
  eventType: z.string().min(1).max(256),
  published: z.string().max(64).optional(),
  displayMessage: z.string().max(1024).optional(),
  target: z.array(z.looseObject({ id: z.string().min(1).max(256), type: z.string(), alternateId: z.string().max(512).optional() })).optional(),
});

/** Okta System Log `user.lifecycle.deactivate`: the person left; their NHIs are terminated as for an HR event. */
export const oktaSignal: SignalSource = {
  id: 'OktaUserDeactivated',
  name: 'Okta',
  bus: 'okta',
  detailType: DETAIL_TYPE,
  pattern: { source: [{ prefix: OKTA_SOURCE_PREFIX }], 'detail-type': [DETAIL_TYPE], detail: { eventType: [OKTA_DEACTIVATE] } },
  matches: (source, detailType) => source.startsWith(OKTA_SOURCE_PREFIX) && detailType === DETAIL_TYPE,
  toTriggers(envelope: ProviderEnvelope): SignalResult {
    const parsed = detailSchema.safeParse(envelope.detail);
    if (!parsed.success) return invalid(parsed.error);
    const detail = parsed.data;
    if (detail.eventType !== OKTA_DEACTIVATE) return ignored(`Okta event ${detail.eventType} is not a user deactivation`);
    const user = (detail.target ?? []).find((t) => t.type === 'User');
    if (!user) return { outcome: 'invalid', error: 'detail.target: no entry of type User' };
    const email = z.string().trim().toLowerCase().pipe(z.email()).safeParse(user.alternateId);
    if (!email.success) return invalid(email.error, 'detail.target.alternateId');
    const effectiveAt = isoOrUndefined(detail.published);
    const time = isoOrUndefined(envelope.time);
    return triggers([
      {
        id: `okta:${detail.uuid}`,
        detailType: 'Employee Terminated',
        source: 'hr.system',
        detail: { employeeId: user.id, email: email.data, ...(effectiveAt ? { effectiveAt } : {}) },
        ...(time ? { time } : {}),
        cause: causeOf(envelope, { type: detail.eventType, reference: detail.uuid, subject: email.data, ...(detail.displayMessage ? { title: detail.displayMessage } : {}) }),
      },
    ]);
  },
};

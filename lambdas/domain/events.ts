import { z } from 'zod';
import { contentHash, sha256Hex } from './canonical.js';

const email = z.string().trim().toLowerCase().pipe(z.email());
/** An IAM user, role or secret, by name or ARN. */
const nhiRef = z.string().min(1).max(2048).regex(/^[\w+=,.@:/-]+$/, 'an IAM user, role or secret name or ARN');
const isoTime = z.iso.datetime({ offset: true });

export const employeeTerminatedDetail = z.strictObject({
  employeeId: z.string().min(1).max(256),
  email,
  effectiveAt: isoTime.optional(),
  managerEmail: email.optional(),
});

export const ownerChangedDetail = z.strictObject({
  nhi: nhiRef,
  fromEmail: email,
  toEmail: email,
});

/** Exposure severities, lowest first (the policy's contain-first floor compares by this order). */
export const SEVERITIES = ['low', 'medium', 'high', 'critical'] as const;
export type Severity = (typeof SEVERITIES)[number];
/** Accepted in any letter case (providers and people spell it `HIGH`, `High`, `high`). */
export const severitySchema = z.string().trim().toLowerCase().pipe(z.enum(SEVERITIES));

export function severityAtLeast(severity: Severity, floor: Severity): boolean {
  return SEVERITIES.indexOf(severity) >= SEVERITIES.indexOf(floor);
}

export const accessKeyIdSchema = z.string().regex(/^[A-Z0-9]{16,128}$/, 'an access key id');

/** `nhi` may be left out when `accessKeyId` is given: Plan looks up the key's user (GetAccessKeyLastUsed). */
export const credentialExposedDetail = z
  .strictObject({
    nhi: nhiRef.optional(),
    accessKeyId: accessKeyIdSchema.optional(),
    secretId: nhiRef.optional(),
    severity: severitySchema,
  })
  .refine((d) => d.nhi !== undefined || d.accessKeyId !== undefined, { message: 'nhi is required unless accessKeyId is given', path: ['nhi'] });

export const reconcileRequestedDetail = z.strictObject({
  scope: z.union([z.literal('all'), z.strictObject({ owner: email }), z.strictObject({ nhi: nhiRef })]),
  asOf: isoTime.optional(),
});

/**
 * The follow-up of an attestation campaign: disable, reversibly, NHIs their owner released or
 * nobody attested. Not an event type of the bus: only the attestation function starts it.
 */
export const ATTESTATION_TRIGGER = { detailType: 'Attestation Concluded', source: 'nhigov.attestation' } as const;
export const attestationConcludedDetail = z.strictObject({
  campaignId: z.string().regex(/^att-[0-9a-f]{24}$/, 'an attestation campaign id'),
  reason: z.enum(['NOT_NEEDED', 'NO_ANSWER']),
  /** The owner asked; null for NHIs without one. */
  owner: email.nullable(),
  nhis: z.array(nhiRef).min(1).max(40),
});

/** detail-type → source and detail schema: the four event types of the contract. */
export const EVENT_TYPES = {
  'Employee Terminated': { source: 'hr.system', detail: employeeTerminatedDetail },
  'Owner Changed': { source: 'hr.system', detail: ownerChangedDetail },
  'Credential Exposed': { source: 'security.findings', detail: credentialExposedDetail },
  'Reconcile Requested': { source: 'nhigov', detail: reconcileRequestedDetail },
} as const;

export type EventDetailType = keyof typeof EVENT_TYPES;
export const EVENT_DETAIL_TYPES = Object.keys(EVENT_TYPES) as EventDetailType[];

/** The EventBridge pattern that routes one event type; CDK and the local stack both use it. */
export function eventPattern(detailType: EventDetailType): { source: string[]; 'detail-type': string[] } {
  return { source: [EVENT_TYPES[detailType].source], 'detail-type': [detailType] };
}

/**
 * The provider signal a trigger was made from (AWS Health, GuardDuty, Access Analyzer, Security
 * Hub, Okta): recorded as the change's cause in the plan and on TRIGGERED. Absent on the four
 * custom event types, which are their own cause.
 */
export const signalCauseSchema = z.strictObject({
  /** The provider's EventBridge source and detail-type. */
  source: z.string().min(1).max(256),
  detailType: z.string().min(1).max(256),
  /** The provider event's EventBridge id (not part of the content hash: a redelivery may carry another). */
  eventId: z.string().min(1).max(256),
  /** What the provider reported: Health eventTypeCode, finding type, Security Hub control, Okta eventType. */
  type: z.string().min(1).max(512),
  /** The provider's reference: Health eventArn, finding id, Okta uuid. */
  reference: z.string().min(1).max(2048),
  /** What the provider named, when the trigger does not carry it (a session's temporary key id). */
  subject: z.string().max(2048).optional(),
  updatedAt: z.string().max(64).optional(),
  /** The provider's own severity as given (GuardDuty's number, Security Hub's label). */
  severity: z.union([z.string().max(64), z.number()]).optional(),
  title: z.string().max(1024).optional(),
  /** The account the provider reported from (the envelope's `account`): an NHI the trigger names by name is in it. */
  account: z.string().regex(/^\d{12}$/).optional(),
});
export type SignalCause = z.infer<typeof signalCauseSchema>;

interface TriggerBase {
  /** The de-duplication key: the change id is derived from it. */
  readonly id: string;
  readonly time?: string;
  readonly cause?: SignalCause;
}

/** The one internal trigger type: what ingest makes of any event, and all the workflow reads. */
export type GovernanceEvent = TriggerBase &
  (
    | { detailType: 'Employee Terminated'; source: 'hr.system'; detail: z.infer<typeof employeeTerminatedDetail> }
    | { detailType: 'Owner Changed'; source: 'hr.system'; detail: z.infer<typeof ownerChangedDetail> }
    | { detailType: 'Credential Exposed'; source: 'security.findings'; detail: z.infer<typeof credentialExposedDetail> }
    | { detailType: 'Reconcile Requested'; source: 'nhigov'; detail: z.infer<typeof reconcileRequestedDetail> }
    | { detailType: 'Attestation Concluded'; source: 'nhigov.attestation'; detail: z.infer<typeof attestationConcludedDetail> }
  );

const triggerBase = { id: z.string().min(1).max(2048), time: z.string().optional(), cause: signalCauseSchema.optional() };

/** A GovernanceEvent as ingest passes it on (the change execution's input), parsed strictly at each edge. */
export const governanceEventSchema: z.ZodType<GovernanceEvent> = z.discriminatedUnion('detailType', [
  z.strictObject({ ...triggerBase, detailType: z.literal('Employee Terminated'), source: z.literal('hr.system'), detail: employeeTerminatedDetail }),
  z.strictObject({ ...triggerBase, detailType: z.literal('Owner Changed'), source: z.literal('hr.system'), detail: ownerChangedDetail }),
  z.strictObject({ ...triggerBase, detailType: z.literal('Credential Exposed'), source: z.literal('security.findings'), detail: credentialExposedDetail }),
  z.strictObject({ ...triggerBase, detailType: z.literal('Reconcile Requested'), source: z.literal('nhigov'), detail: reconcileRequestedDetail }),
  z.strictObject({ ...triggerBase, detailType: z.literal(ATTESTATION_TRIGGER.detailType), source: z.literal(ATTESTATION_TRIGGER.source), detail: attestationConcludedDetail }),
]);

/**
 * The content a de-duplication key stands for: the same key with other content is a reused id
 * (refused), the same content again a redelivery (one change). The provider's EventBridge id and
 * the envelope time are left out: a provider may deliver the same finding twice under new ids.
 */
export function triggerContentHash(event: GovernanceEvent): string {
  const { eventId: _eventId, ...cause } = event.cause ?? { eventId: '' };
  return contentHash({ detailType: event.detailType, source: event.source, detail: event.detail, ...(event.cause ? { cause } : {}) });
}

const envelope = z.looseObject({
  id: z.string().min(1).max(128).regex(/^[\w.:-]+$/, 'letters, digits, . : _ -').optional(),
  source: z.string(),
  'detail-type': z.string(),
  time: isoTime.optional(),
  detail: z.unknown(),
});

/**
 * The id used for deduplication. A producer may carry its own id in `detail.eventId`
 * (EventBridge assigns a fresh `id` on every PutEvents, so a producer retry would otherwise
 * look new); redeliveries by EventBridge keep `id`.
 */
const PRODUCER_ID_FIELD = 'eventId';

export type EventParseResult = { ok: true; event: GovernanceEvent } | { ok: false; error: string };

/** Validates an EventBridge event against the contract. Never throws. */
export function parseGovernanceEvent(raw: unknown): EventParseResult {
  const outer = envelope.safeParse(raw);
  if (!outer.success) return { ok: false, error: formatIssues(outer.error) };
  const { source, 'detail-type': detailType, time } = outer.data;
  if (!(EVENT_DETAIL_TYPES as string[]).includes(detailType)) {
    return { ok: false, error: `unknown detail-type ${JSON.stringify(detailType)} (expected one of: ${EVENT_DETAIL_TYPES.join(', ')})` };
  }
  const spec = EVENT_TYPES[detailType as EventDetailType];
  if (source !== spec.source) return { ok: false, error: `"${detailType}" must come from source "${spec.source}", not ${JSON.stringify(source)}` };
  let detail = outer.data.detail;
  let producerId: string | undefined;
  if (detail && typeof detail === 'object' && !Array.isArray(detail) && PRODUCER_ID_FIELD in detail) {
    const { [PRODUCER_ID_FIELD]: carried, ...rest } = detail as Record<string, unknown>;
    if (typeof carried !== 'string' || !/^[\w.:-]{1,128}$/.test(carried)) return { ok: false, error: `detail.${PRODUCER_ID_FIELD}: letters, digits, . : _ - (at most 128)` };
    producerId = carried;
    detail = rest;
  }
  const parsed = spec.detail.safeParse(detail);
  if (!parsed.success) return { ok: false, error: `detail: ${formatIssues(parsed.error)}` };
  const id = producerId ?? outer.data.id;
  if (!id) return { ok: false, error: 'the event has no id' };
  const event = { id, detailType, source, detail: parsed.data, ...(time ? { time } : {}) } as GovernanceEvent;
  return { ok: true, event };
}

/** EventBridge PutEvents entry fields for an event, carrying the producer's id in the detail. */
export function toPutEventsEntry(event: GovernanceEvent): { Source: string; DetailType: string; Detail: string } {
  return { Source: event.source, DetailType: event.detailType, Detail: JSON.stringify({ ...event.detail, [PRODUCER_ID_FIELD]: event.id }) };
}

/** The change id, also the execution name: the same event id always gives the same change. */
export function changeIdForEvent(eventId: string): string {
  return `chg-${sha256Hex(`event:${eventId}`).slice(0, 24)}`;
}

export function formatIssues(error: z.ZodError): string {
  return oneLine(
    error.issues.map((issue) => `${issue.path.length ? issue.path.map(String).join('.') : '(root)'}: ${issue.message}`).join('; '),
  );
}

/** Control characters from the input shown escaped, so a reason always stays on one line. */
export function oneLine(text: string): string {
  return text.replace(/[\u0000-\u001f\u007f]/g, (c) => JSON.stringify(c).slice(1, -1));
}

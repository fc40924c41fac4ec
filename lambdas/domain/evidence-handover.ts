import { z } from 'zod';
import { EVIDENCE_TYPES, type EvidenceDraft } from './evidence.js';
import { jsonObjectSchema } from './plan-schema.js';
import { REASON_CODE_NAMES, type ReasonCode } from './reasons.js';

/**
 * What an appender hands to the evidence writer (one message of the evidence queue): the draft,
 * and an id the writer stores beside the event (never hashed) so a redelivered draft is not
 * written twice and an appender can see when its draft is on the chain.
 */
export interface EvidenceHandover {
  readonly draftId: string;
  readonly draft: EvidenceDraft;
}

const reasonCodeSchema = z.enum(REASON_CODE_NAMES as [ReasonCode, ...ReasonCode[]]);

export const evidenceDraftSchema: z.ZodType<EvidenceDraft> = z.strictObject({
  changeId: z.string().min(1),
  type: z.enum(EVIDENCE_TYPES),
  actor: z.string().min(1),
  policyVersion: z.string().min(1),
  nhi: z.string().min(1).optional(),
  actionId: z.string().min(1).optional(),
  reasonCode: reasonCodeSchema.optional(),
  data: jsonObjectSchema,
});

export const evidenceHandoverSchema: z.ZodType<EvidenceHandover> = z.strictObject({
  draftId: z.string().min(1).max(128),
  draft: evidenceDraftSchema,
});

import { z } from 'zod';
import { EVENT_DETAIL_TYPES, signalCauseSchema } from './events.js';
import type { JsonObject, JsonValue, Plan } from './plan-model.js';
import { REASON_CODE_NAMES } from './reasons.js';

export const jsonValueSchema: z.ZodType<JsonValue> = z.lazy(() =>
  z.union([z.string(), z.number(), z.boolean(), z.null(), z.array(jsonValueSchema), z.record(z.string(), jsonValueSchema)]),
);
export const jsonObjectSchema: z.ZodType<JsonObject> = z.record(z.string(), jsonValueSchema);

const reasonCode = z.enum(REASON_CODE_NAMES);
const invocation = z.strictObject({ kind: z.string().min(1), params: jsonObjectSchema });

const planAction = z.strictObject({
  actionId: z.string().min(1),
  kind: z.string().min(1),
  params: jsonObjectSchema,
  target: z.strictObject({ type: z.enum(['accessKey', 'credential', 'user', 'role', 'secret']), id: z.string(), nhi: z.string(), account: z.string().regex(/^\d{12}$/).optional() }),
  before: jsonObjectSchema,
  after: jsonObjectSchema,
  fingerprint: z.string(),
  inverse: invocation.nullable(),
  risk: z.strictObject({ reversible: z.boolean(), prod: z.boolean() }),
  idempotencyKey: z.string(),
  finding: reasonCode,
  phase: z.number().int(),
  group: z.enum(['revocation', 'rotation', 'ownership', 'containment']),
});

/**
 * A stored plan, exactly as the Plan type declares it: closed objects, so a field the schema does
 * not know fails loudly instead of vanishing from a plan read back.
 */
export const planSchema: z.ZodType<Plan> = z.strictObject({
  changeId: z.string().min(1),
  trigger: z.strictObject({
    eventId: z.string(),
    detailType: z.enum([...EVENT_DETAIL_TYPES, 'Attestation Concluded', 'Rollback Requested', 'Finalize Requested']),
    source: z.string(),
    detail: jsonObjectSchema,
    requestedBy: z.string().optional(),
    cause: signalCauseSchema.optional(),
  }),
  policyVersion: z.string().min(1),
  createdAt: z.string(),
  asOf: z.string(),
  actions: z.array(planAction),
  findings: z.array(z.strictObject({ nhi: z.string(), account: z.string().regex(/^\d{12}$/).optional(), reasonCode, message: z.string(), data: jsonObjectSchema.optional(), owner: z.string().optional() })),
  approval: z.strictObject({
    required: z.boolean(),
    reasons: z.array(z.string()),
    afterTheFact: z.boolean(),
    group: z.string(),
    approvers: z.array(z.string()),
    owners: z.array(z.string()),
    recipients: z.array(z.string()).optional(),
    rules: z
      .array(z.strictObject({ name: z.string(), group: z.string(), minApprovers: z.number().int().positive(), approvers: z.array(z.string()), reasons: z.array(z.string()) }))
      .optional(),
  }),
});

/** A plain object of our own as a JsonObject (undefined fields dropped, as JSON would). */
export function toJsonObject(value: object): JsonObject {
  return jsonObjectSchema.parse(JSON.parse(JSON.stringify(value)));
}

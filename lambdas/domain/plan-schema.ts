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

/** One planned action (PlanAction), as stored and as PLANNED records it. */
export const planActionSchema = z.strictObject({
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

/** Something the plan found and reports without an action (PlanFinding). */
export const planFindingSchema = z.strictObject({ nhi: z.string(), account: z.string().regex(/^\d{12}$/).optional(), reasonCode, message: z.string(), data: jsonObjectSchema.optional(), owner: z.string().optional() });

/** Who must approve a plan, and why (Plan['approval']). */
export const planApprovalSchema = z.strictObject({
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
});

/** A follow-up's own approval request, stored with the grown plan (Plan['followUp']). */
export const planFollowUpSchema = z.strictObject({
  round: z.number().int().positive(),
  of: z.string().regex(/^[0-9a-f]{64}$/),
  actionIds: z.array(z.string().min(1)).min(1),
  approval: planApprovalSchema,
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
  actions: z.array(planActionSchema),
  findings: z.array(planFindingSchema),
  approval: planApprovalSchema,
  followUp: planFollowUpSchema.optional(),
}).superRefine((plan, ctx) => {
  // A follow-up asks about actions of this plan, and about nothing else.
  const ids = new Set(plan.actions.map((a) => a.actionId));
  for (const id of plan.followUp?.actionIds ?? []) {
    if (!ids.has(id)) ctx.addIssue({ code: 'custom', path: ['followUp', 'actionIds'], message: `follow-up action ${id} is not in the plan` });
  }
});

/** A plain object of our own as a JsonObject (undefined fields dropped, as JSON would). */
export function toJsonObject(value: object): JsonObject {
  return jsonObjectSchema.parse(JSON.parse(JSON.stringify(value)));
}

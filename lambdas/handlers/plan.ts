import { z } from 'zod';
import { ACTION_CATALOG } from '../connectors/registry.js';
import { governanceEventSchema, triggerContentHash, type GovernanceEvent } from '../domain/events.js';
import { toJsonObject } from '../domain/plan-schema.js';
import type { JsonObject, Plan } from '../domain/plan-model.js';
import { actionIdsByPhase, planChange, planDecision, type PlanDecision } from '../domain/plan.js';
import type { SignedPolicy } from '../domain/policy-signature.js';
import { beginChange } from './core/begin-change.js';
import { loadChangeHistory } from './core/change-history.js';
import { deriveHeldStates } from '../domain/held-states.js';
import { AUTOMATION_ACTOR, parseInput, runtime, type Runtime } from './runtime.js';
import { planningRead, readEventEstates } from './core/account-estates.js';

/** The trigger as ingest made it, parsed strictly: the provider's event was parsed once, at ingest. */
const inputSchema = z.strictObject({
  changeId: z.string().min(1),
  event: governanceEventSchema,
  requestedBy: z.string().optional(),
});

export interface PlanOutput {
  readonly planHash: string;
  readonly policyVersion: string;
  readonly decision: PlanDecision;
  readonly actionIds: string[];
  /** Action ids per phase, in the order Apply runs them. */
  readonly phases: string[][];
  readonly maxConcurrency: number;
  readonly findings: string[];
  /** The policy's approval timeout: RequestApproval's TimeoutSecondsPath (links expire with it). */
  readonly approvalTimeoutSeconds: number;
}

export async function planCore(rt: Runtime, changeId: string, event: GovernanceEvent, requestedBy?: string): Promise<PlanOutput> {
  const now = new Date();
  const { planHash, plan, signed } = await beginChange(rt, {
    record: { changeId, kind: 'change', trigger: event.detailType, eventId: event.id, contentHash: triggerContentHash(event) },
    now,
    refused: { actor: AUTOMATION_ACTOR, data: triggerData(event) },
    triggered: () => ({ actor: requestedBy ?? event.cause?.source ?? event.source, data: { ...triggerData(event), source: event.source } }),
    replayRefusesNewPolicy: true,
    plan: async ({ policy, version: policyVersion }) => {
      // A reconcile also checks what verified changes left: their held states.
      const held = event.detailType === 'Reconcile Requested' ? [...deriveHeldStates(await loadChangeHistory(rt)).values()] : [];
      const input = { changeId, policy, policyVersion, event, now, catalog: ACTION_CATALOG, held, ...(requestedBy ? { requestedBy } : {}) };
      const { estates, unreadable } = await readEventEstates(rt, policy, changeId, event, planningRead(event, (estate) => planChange({ ...input, estates: [estate] })));
      const plan = planChange({ ...input, estates, unreadable });
      return {
        plan,
        planned: { findings: plan.findings.map((f) => ({ nhi: f.nhi, reasonCode: f.reasonCode, message: f.message })) },
        events: plan.findings.map((finding) => ({
          changeId,
          type: finding.reasonCode === 'EXEMPTED' ? 'EXEMPTED' : 'DECIDED',
          actor: AUTOMATION_ACTOR,
          policyVersion,
          nhi: finding.nhi,
          reasonCode: finding.reasonCode,
          data: { message: finding.message, ...(finding.data ?? {}) },
        })),
        decided: { decision: planDecision(plan), approvalRequired: plan.approval.required, approvalReasons: [...plan.approval.reasons], approvers: [...plan.approval.approvers] },
        reasonCodes: findingCodes(plan),
      };
    },
  });
  return output(planHash, plan, signed);
}

/** TRIGGERED's data: the trigger, and the provider signal it was made from. */
function triggerData(event: GovernanceEvent): JsonObject {
  return toJsonObject({ eventId: event.id, detailType: event.detailType, detail: event.detail, ...(event.cause ? { cause: event.cause } : {}) });
}

function findingCodes(plan: Plan): Plan['findings'][number]['reasonCode'][] {
  return [...new Set(plan.findings.map((f) => f.reasonCode))];
}

function output(planHash: string, plan: Plan, { policy }: SignedPolicy): PlanOutput {
  return {
    planHash,
    policyVersion: plan.policyVersion,
    decision: planDecision(plan),
    actionIds: plan.actions.map((a) => a.actionId),
    phases: actionIdsByPhase(plan),
    maxConcurrency: policy.apply.maxConcurrency,
    findings: findingCodes(plan),
    approvalTimeoutSeconds: policy.approval.timeoutSeconds,
  };
}

export const handler = async (input: unknown): Promise<PlanOutput> => {
  const { changeId, event, requestedBy } = parseInput(inputSchema, input, 'plan');
  return planCore(runtime(), changeId, event, requestedBy);
};

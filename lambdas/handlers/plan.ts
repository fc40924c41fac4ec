import { z } from 'zod';
import { ACTION_CATALOG } from '../connectors/registry.js';
import { readSnapshot, type SnapshotScope } from '../connectors/snapshot-reader.js';
import type { GovernanceEvent } from '../domain/events.js';
import { actionIdsByPhase, planChange } from '../domain/plan.js';
import { AppError, isAppError } from '../domain/reasons.js';
import { AUTOMATION_ACTOR, parseInput, runtime, type Runtime } from './runtime.js';
import { recordPlanned } from './plan-evidence.js';

const inputSchema = z.object({
  changeId: z.string().min(1),
  event: z.object({ id: z.string(), detailType: z.string(), source: z.string(), detail: z.record(z.string(), z.unknown()) }).passthrough(),
  requestedBy: z.string().optional(),
});

export interface PlanOutput {
  readonly planHash: string;
  readonly policyVersion: string;
  /** NO_CHANGES, APPLY (straight through), APPROVE_FIRST, CONTAIN_FIRST (apply, then ask). */
  readonly decision: 'NO_CHANGES' | 'APPLY' | 'APPROVE_FIRST' | 'CONTAIN_FIRST';
  readonly actionIds: string[];
  /** Action ids per phase, in the order Apply runs them. */
  readonly phases: string[][];
  readonly maxConcurrency: number;
  readonly findings: string[];
  /** The policy's approval timeout: RequestApproval's TimeoutSecondsPath (links expire with it). */
  readonly approvalTimeoutSeconds: number;
}

export function snapshotScopeFor(event: GovernanceEvent): SnapshotScope {
  switch (event.detailType) {
    case 'Employee Terminated':
      return { owner: event.detail.email };
    case 'Owner Changed':
      return { nhi: event.detail.nhi };
    case 'Credential Exposed':
      return event.detail.secretId ? { nhis: [event.detail.nhi, event.detail.secretId] } : { nhi: event.detail.nhi };
    case 'Reconcile Requested': {
      const scope = event.detail.scope;
      return scope === 'all' ? { all: true } : 'owner' in scope ? { owner: scope.owner } : { nhi: scope.nhi };
    }
  }
}

export async function planCore(rt: Runtime, changeId: string, event: GovernanceEvent, requestedBy?: string): Promise<PlanOutput> {
  const now = new Date();
  const trigger = `${event.detailType}`;
  await rt.changes.create({ changeId, kind: 'change', status: 'PLANNED', trigger, eventId: event.id, createdAt: now.toISOString(), actions: {}, reasonCodes: [] });
  const existing = await rt.changes.get(changeId);
  if (existing?.planHash) return replay(rt, existing.planHash);

  let signed;
  try {
    signed = await rt.loadPolicy();
  } catch (error) {
    const reason = isAppError(error) ? error.message : String(error);
    await rt.evidence.append({ changeId, type: 'TRIGGERED', actor: AUTOMATION_ACTOR, policyVersion: 'none', reasonCode: 'POLICY_INVALID', data: { eventId: event.id, detailType: event.detailType, detail: event.detail as never, refused: reason } });
    throw error;
  }
  const policyVersion = signed.version;
  await rt.evidence.append({ changeId, type: 'TRIGGERED', actor: requestedBy ?? `${event.source}`, policyVersion, data: { eventId: event.id, detailType: event.detailType, source: event.source, detail: event.detail as never } });
  const snapshot = await readSnapshot(rt.connectors, snapshotScopeFor(event));
  const plan = planChange({ changeId, policy: signed.policy, policyVersion, event, snapshot, now, catalog: ACTION_CATALOG, ...(requestedBy ? { requestedBy } : {}) });
  const planHash = await recordPlanned(rt, plan, { findings: plan.findings.map((f) => ({ nhi: f.nhi, reasonCode: f.reasonCode, message: f.message })) });
  for (const finding of plan.findings) {
    await rt.evidence.append({ changeId, type: finding.reasonCode === 'EXEMPTED' ? 'EXEMPTED' : 'DECIDED', actor: AUTOMATION_ACTOR, policyVersion, nhi: finding.nhi, reasonCode: finding.reasonCode, data: { message: finding.message, ...(finding.data ?? {}) } });
  }
  const decision = decide(plan.actions.length, plan.approval.required, plan.approval.afterTheFact);
  await rt.evidence.append({
    changeId,
    type: 'DECIDED',
    actor: AUTOMATION_ACTOR,
    policyVersion,
    data: { decision, approvalRequired: plan.approval.required, approvalReasons: [...plan.approval.reasons], approvers: [...plan.approval.approvers] },
  });
  const reasonCodes = [...new Set(plan.findings.map((f) => f.reasonCode))];
  await rt.changes.update(changeId, { planHash, policyVersion, actionCount: plan.actions.length, reasonCodes });
  return { planHash, policyVersion, decision, actionIds: plan.actions.map((a) => a.actionId), phases: actionIdsByPhase(plan), maxConcurrency: signed.policy.apply.maxConcurrency, findings: reasonCodes, approvalTimeoutSeconds: signed.policy.approval.timeoutSeconds };
}

function decide(actions: number, approvalRequired: boolean, afterTheFact: boolean): PlanOutput['decision'] {
  if (actions === 0) return 'NO_CHANGES';
  if (!approvalRequired) return 'APPLY';
  return afterTheFact ? 'CONTAIN_FIRST' : 'APPROVE_FIRST';
}

/** A retried Plan step returns the plan it already stored instead of planning again. */
async function replay(rt: Runtime, planHash: string): Promise<PlanOutput> {
  const plan = await rt.loadPlan(planHash);
  const signed = await rt.loadPolicy();
  if (signed.version !== plan.policyVersion) throw new AppError('PLAN_STALE', `policy changed from ${plan.policyVersion.slice(0, 12)} to ${signed.version.slice(0, 12)} since planning`);
  return {
    planHash,
    policyVersion: plan.policyVersion,
    decision: decide(plan.actions.length, plan.approval.required, plan.approval.afterTheFact),
    actionIds: plan.actions.map((a) => a.actionId),
    phases: actionIdsByPhase(plan),
    maxConcurrency: signed.policy.apply.maxConcurrency,
    findings: [...new Set(plan.findings.map((f) => f.reasonCode))],
    approvalTimeoutSeconds: signed.policy.approval.timeoutSeconds,
  };
}

export const handler = async (input: unknown): Promise<PlanOutput> => {
  const { changeId, event, requestedBy } = parseInput(inputSchema, input, 'plan');
  return planCore(runtime(), changeId, event as unknown as GovernanceEvent, requestedBy);
};

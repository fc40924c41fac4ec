import { connectorAction } from '../connectors/registry.js';
import type { ConnectorAction } from '../connectors/types.js';
import type { JsonObject, Plan, PlanAction } from '../domain/plan-model.js';
import { AppError } from '../domain/reasons.js';
import type { Runtime } from './runtime.js';

export type ActionMode = 'write' | 'rewrite' | 'inverse';

export interface ResolvedAction {
  readonly plan: Plan;
  readonly action: PlanAction;
  readonly mode: ActionMode;
  /** The connector that runs: the action's own, or its inverse's when undoing it. */
  readonly connector: ConnectorAction;
  /** As stored: the planner accepted them with the kind's schema, and the plan is read back by its hash. */
  readonly params: JsonObject;
  /** The state verification must observe after it. */
  readonly expected: JsonObject;
}

/** The plan action exactly as stored, with the connector and params of the chosen mode. */
export async function resolveAction(rt: Runtime, planHash: string, actionId: string, mode: ActionMode): Promise<ResolvedAction> {
  const plan = await rt.loadPlan(planHash);
  const action = plan.actions.find((a) => a.actionId === actionId);
  if (!action) throw new AppError('INPUT_INVALID', `plan ${planHash.slice(0, 12)} has no action ${actionId}`);
  if (mode === 'inverse') {
    if (!action.inverse) throw new AppError('INPUT_INVALID', `action ${actionId} (${action.kind}) is irreversible`);
    return { plan, action, mode, connector: connectorAction(action.inverse.kind), params: action.inverse.params, expected: action.before };
  }
  return { plan, action, mode, connector: connectorAction(action.kind), params: action.params, expected: action.after };
}

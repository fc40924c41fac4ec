import type { Plan } from '../../lambdas/domain/plan-model.js';
import { paint, table, type CliIo } from './io.js';
import { renderPermissionChanges } from './render-permissions.js';

/** A plan for people: one row per action with before → after, risk and the finding behind it. */
export function renderPlan(io: Pick<CliIo, 'color'>, plan: Plan): string {
  const lines = [
    `${paint(io, 'bold', 'plan')} for ${plan.trigger.detailType} (${plan.trigger.eventId}), policy ${plan.policyVersion.slice(0, 12)}, as of ${plan.asOf}`,
  ];
  if (plan.actions.length === 0) lines.push('  no actions: the live state already matches the policy');
  else
    lines.push(
      table(
        ['action', 'kind', 'target', 'account', 'before → after', 'risk', 'finding'],
        plan.actions.map((a) => [
          a.actionId,
          a.kind,
          `${a.target.type} ${a.target.id}`,
          a.target.account ?? '',
          `${compact(a.before)} → ${compact(a.after)}`,
          `${a.risk.reversible ? 'reversible' : paint(io, 'red', 'IRREVERSIBLE')}${a.risk.prod ? paint(io, 'yellow', ' prod') : ''}`,
          a.finding,
        ]),
      ),
    );
  lines.push(...renderPermissionChanges(plan));
  for (const finding of plan.findings) lines.push(`  ${paint(io, 'yellow', finding.reasonCode)} ${finding.nhi}: ${finding.message}`);
  lines.push(
    plan.approval.required
      ? `approval: ${plan.approval.afterTheFact ? 'after the fact' : 'required'} from ${plan.approval.group} (${plan.approval.approvers.join(', ')}) because ${plan.approval.reasons.join('; ')}`
      : 'approval: not required',
  );
  return lines.join('\n');
}

function compact(state: Record<string, unknown>): string {
  return Object.entries(state)
    .map(([k, v]) => `${k}=${typeof v === 'string' && v.length > 24 ? `${v.slice(0, 21)}...` : JSON.stringify(v)}`)
    .join(' ');
}

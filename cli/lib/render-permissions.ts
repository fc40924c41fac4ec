import type { JsonObject, JsonValue, Plan, PlanAction } from '../../lambdas/domain/plan-model.js';
import { statementsOf } from '../../lambdas/domain/policy-statements.js';

const list = (value: JsonValue | undefined): string => (Array.isArray(value) ? value.map(String).join(', ') : String(value ?? '*'));

/** One statement in words: "Allow * on *", "Allow all but iam:* on arn:aws:s3:::b/*". */
function statementInWords(s: JsonObject): string {
  const actions = s.NotAction !== undefined ? `all but ${list(s.NotAction)}` : list(s.Action);
  return `${String(s.Effect)} ${actions} on ${list(s.Resource ?? s.NotResource)}`;
}

function documentOf(state: JsonObject): JsonObject | null {
  const document = state.document;
  return document !== null && typeof document === 'object' && !Array.isArray(document) ? document : null;
}

/** One permission change of an action, before → after, in words; null for an action that changes no permission. */
function change(action: PlanAction): string | null {
  const p = action.params;
  switch (action.kind) {
    case 'iam.detachManagedPolicy':
      return `managed policy ${String(p.policyArn)}: attached → detached`;
    case 'iam.putInlinePolicy':
    case 'iam.deleteInlinePolicy': {
      const before = statementsOf(documentOf(action.before) ?? {});
      const after = statementsOf(documentOf(action.after) ?? {});
      const kept = new Set(after.map((s) => JSON.stringify(s)));
      const removed = before.filter((s) => !kept.has(JSON.stringify(s)));
      return `inline policy ${String(p.policyName)}: ${before.length} statement(s) → ${after.length}${removed.length ? `, removed: ${removed.map(statementInWords).join('; ')}` : ''}`;
    }
    case 'iam.editManagedPolicy': {
      const kept = statementsOf(documentOf({ document: p.document ?? null }) ?? {});
      return `customer-managed policy ${String(p.policyArn)}: default ${String(p.versionId)} → a new version keeping ${kept.length} statement(s): ${kept.map(statementInWords).join('; ')}`;
    }
    case 'iam.restoreManagedPolicyVersion':
      return `customer-managed policy ${String(p.policyArn)}: ${String(p.versionId)} default again`;
    case 'iam.removeUserFromGroup':
      return `group ${String(p.groupName)}: member → not a member`;
    case 'iam.deactivateAccessKey':
      return `access key ${String(p.accessKeyId)}: ${String(action.before.status)} → ${String(action.after.status)}`;
    case 'iam.containConsoleAccess':
      return 'console password: usable → contained (no console session can act)';
    default:
      return null;
  }
}

/**
 * What a plan removes of each NHI's permissions (its EXCESSIVE_PRIVILEGE actions), grouped per NHI:
 * a reviewer reads "inline policy app: 2 statement(s) → 1, removed: Allow * on *" instead of two
 * policy documents.
 */
export function renderPermissionChanges(plan: Pick<Plan, 'actions'>): string[] {
  const byNhi = new Map<string, string[]>();
  for (const action of plan.actions) {
    if (action.finding !== 'EXCESSIVE_PRIVILEGE') continue;
    const line = change(action);
    if (!line) continue;
    byNhi.set(action.target.nhi, [...(byNhi.get(action.target.nhi) ?? []), `${action.actionId} ${line}`]);
  }
  return [...byNhi].flatMap(([nhi, lines]) => [`  permissions of ${nhi}, before → after:`, ...lines.map((l) => `    ${l}`)]);
}

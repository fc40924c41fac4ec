import type { z } from 'zod';
import type { employeeTerminatedDetail } from '../events.js';
import type { ActionIntent } from '../plan-builder.js';
import type { PlanFinding } from '../plan-model.js';
import { ownerOf, type RoleSnapshot, type SecretSnapshot, type UserSnapshot } from '../snapshot.js';
import { finding, type RuleContext, type RuleOutput } from './context.js';
import { deactivateKeyIntent, moveOwnerIntent, quarantineIntent, sessionDenyIntents } from './intents.js';
import { planRotation } from './rotation.js';
import { otherCredentialIntents } from './credentials.js';

type TerminationDetail = z.infer<typeof employeeTerminatedDetail>;

const CAUSE = 'OWNER_TERMINATED';

/**
 * Employee Terminated: every governed NHI the person owns.
 * - With a manager (and reassignToManager), each owner tag moves to the manager first (phase 0),
 *   so nothing is left ownerless; without one, each NHI is reported for reassignment.
 * - Secrets holding an IAM key are rotated: the person may have read the key, the service keeps
 *   working with one they never saw.
 * - Users: every active key the person could know (made before now) deactivated, every other
 *   long-term credential disabled (rules/credentials.ts), and a deny on sessions issued before now. A key a rotation above replaces is left to the rotation, which
 *   deactivates it once the new one is in place; the new key is not the person's to know.
 *   Roles: quarantine + session deny.
 */
export function terminationRule(ctx: RuleContext, detail: TerminationDetail): RuleOutput {
  const rules = ctx.policy.triggers.employeeTerminated;
  const owned = ctx.estate.governed.filter((nhi) => ownerOf(nhi) === detail.email);
  const intents: ActionIntent[] = [];
  const findings: PlanFinding[] = [];
  const manager = rules.reassignToManager && detail.managerEmail && detail.managerEmail !== detail.email ? detail.managerEmail : null;
  for (const nhi of owned) {
    if (manager) intents.push(moveOwnerIntent(ctx, nhi, manager, CAUSE));
    else findings.push(finding(ctx, nhi, CAUSE, `owner ${detail.email} was terminated and ${rules.reassignToManager ? 'no manager was named' : 'the policy does not reassign to the manager'}: reassign it by hand`));
  }
  const issuedBefore = ctx.now.toISOString();
  const rotated = new Set<string>();
  if (rules.secrets.includes('rotate')) {
    for (const secret of owned.filter((n): n is SecretSnapshot => n.type === 'secret')) {
      const rotation = planRotation(ctx, secret, CAUSE, 'rotation', ctx.now);
      if (rotation.outcome === 'planned') {
        intents.push(rotation.intent);
        rotated.add(rotation.replacedAccessKeyId);
      } else if (rotation.outcome === 'refused') {
        findings.push(finding(ctx, secret, CAUSE, rotation.message, rotation.data));
      }
    }
  }
  for (const user of owned.filter((n): n is UserSnapshot => n.type === 'user')) {
    if (rules.users.includes('deactivateKeys')) {
      for (const key of user.accessKeys) {
        const known = Date.parse(key.createdAt) < ctx.now.getTime();
        if (key.status === 'Active' && known && !rotated.has(key.accessKeyId)) intents.push(deactivateKeyIntent(ctx, user, key, CAUSE, 'revocation'));
      }
      intents.push(...otherCredentialIntents(ctx, user, CAUSE, 'revocation'));
    }
    if (rules.users.includes('revokeSessions')) intents.push(...sessionDenyIntents(ctx, user, issuedBefore, CAUSE, 'revocation'));
  }
  for (const role of owned.filter((n): n is RoleSnapshot => n.type === 'role')) {
    if (rules.roles.includes('quarantine')) intents.push(quarantineIntent(ctx, role, CAUSE, 'revocation'));
    if (rules.roles.includes('revokeSessions')) intents.push(...sessionDenyIntents(ctx, role, issuedBefore, CAUSE, 'revocation'));
  }
  return { intents, findings };
}

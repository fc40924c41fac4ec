import type { employeeTerminatedDetail } from '../events.js';
import type { z } from 'zod';
import type { GovernancePolicy } from '../policy.js';
import { ownerOf, type NhiSnapshot } from '../snapshot.js';
import type { ActionIntent } from '../plan-builder.js';
import type { PlanFinding } from '../plan-model.js';

type TerminationDetail = z.infer<typeof employeeTerminatedDetail>;

/**
 * Employee Terminated: every governed NHI the person owns. Users: all active keys deactivated,
 * and a deny on sessions issued before the change.
 */
export function terminationIntents(
  policy: GovernancePolicy,
  detail: TerminationDetail,
  governed: readonly NhiSnapshot[],
  now: Date,
): { intents: ActionIntent[]; findings: PlanFinding[] } {
  const rules = policy.triggers.employeeTerminated;
  const owned = governed.filter((nhi) => ownerOf(nhi) === detail.email);
  const intents: ActionIntent[] = [];
  const issuedBefore = now.toISOString();
  for (const nhi of owned) {
    if (nhi.type !== 'user') continue;
    const target = { type: 'user' as const, id: nhi.name, nhi: nhi.name };
    if (rules.users.includes('deactivateKeys')) {
      for (const key of nhi.accessKeys.filter((k) => k.status === 'Active')) {
        intents.push({
          kind: 'iam.deactivateAccessKey',
          target: { type: 'accessKey', id: key.accessKeyId, nhi: nhi.name },
          params: { userName: nhi.name, accessKeyId: key.accessKeyId },
          finding: 'OWNER_TERMINATED',
          phase: 1,
          group: 'revocation',
          nhiTags: nhi.tags,
        });
      }
    }
    if (rules.users.includes('revokeSessions')) {
      intents.push({
        kind: 'iam.putSessionRevocationDeny',
        target,
        params: { principalType: 'user', principalName: nhi.name, issuedBefore },
        finding: 'OWNER_TERMINATED',
        phase: 1,
        group: 'revocation',
        nhiTags: nhi.tags,
      });
    }
  }
  return { intents, findings: [] };
}

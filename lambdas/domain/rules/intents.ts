import type { ActionIntent } from '../plan-builder.js';
import type { PlanAction } from '../plan-model.js';
import type { ReasonCode } from '../reasons.js';
import { isProd, type AccessKeySnapshot, type NhiSnapshot, type RoleSnapshot, type UserSnapshot } from '../snapshot.js';
import { stateOf, type RuleContext } from './context.js';

/** Phases: ownership moves first, then revocation, containment and rotation. */
export const PHASE_OWNERSHIP = 0;
export const PHASE_REVOCATION = 1;

type Group = PlanAction['group'];

export function moveOwnerIntent(ctx: RuleContext, nhi: NhiSnapshot, toOwner: string, finding: ReasonCode): ActionIntent {
  const ref = ctx.estate.ref(nhi);
  const common = { finding, phase: PHASE_OWNERSHIP, group: 'ownership' as const, prod: isProd(nhi) };
  if (nhi.type === 'secret') {
    return { ...common, kind: 'secrets.moveOwnerTag', target: { type: 'secret', id: nhi.name, nhi: ref }, params: { secretId: nhi.name, toOwner } };
  }
  return { ...common, kind: 'iam.moveOwnerTag', target: { type: nhi.type, id: nhi.name, nhi: ref }, params: { principalType: nhi.type, principalName: nhi.name, toOwner } };
}

export function deactivateKeyIntent(ctx: RuleContext, user: UserSnapshot, key: AccessKeySnapshot, finding: ReasonCode, group: Group): ActionIntent {
  return {
    kind: 'iam.deactivateAccessKey',
    target: { type: 'accessKey', id: key.accessKeyId, nhi: ctx.estate.ref(user) },
    params: { userName: user.name, accessKeyId: key.accessKeyId },
    finding,
    phase: PHASE_REVOCATION,
    group,
    prod: isProd(user),
  };
}

/**
 * The deny on sessions issued before `issuedBefore`; none when a deny already in place cuts at
 * that time or later (moving it back would let sessions through).
 */
export function sessionDenyIntents(ctx: RuleContext, principal: UserSnapshot | RoleSnapshot, issuedBefore: string, finding: ReasonCode, group: Group): ActionIntent[] {
  const params = { principalType: principal.type, principalName: principal.name, issuedBefore };
  const current = stateOf(ctx, 'iam.putSessionRevocationDeny', params);
  if (current?.present === true && typeof current.issuedBefore === 'string' && Date.parse(current.issuedBefore) >= Date.parse(issuedBefore)) return [];
  return [
    {
      kind: 'iam.putSessionRevocationDeny',
      target: { type: principal.type, id: principal.name, nhi: ctx.estate.ref(principal) },
      params,
      finding,
      phase: PHASE_REVOCATION,
      group,
      prod: isProd(principal),
    },
  ];
}

export function quarantineIntent(ctx: RuleContext, principal: UserSnapshot | RoleSnapshot, finding: ReasonCode, group: Group): ActionIntent {
  return {
    kind: 'iam.attachQuarantinePolicy',
    target: { type: principal.type, id: principal.name, nhi: ctx.estate.ref(principal) },
    params: { principalType: principal.type, principalName: principal.name },
    finding,
    phase: PHASE_REVOCATION,
    group,
    prod: isProd(principal),
  };
}

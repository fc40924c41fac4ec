import type { ActionIntent } from '../plan-builder.js';
import type { PlanAction } from '../plan-model.js';
import type { ReasonCode } from '../reasons.js';
import { isProd, type UserCredentialSnapshot, type UserCredentialType, type UserSnapshot } from '../snapshot.js';
import type { RuleContext } from './context.js';
import { PHASE_REVOCATION } from './intents.js';

/** The deactivation kind of each credential type (connectors/iam/deactivate-*.ts). */
export const DEACTIVATE_CREDENTIAL_KIND: Readonly<Record<UserCredentialType, string>> = {
  sshPublicKey: 'iam.deactivateSshPublicKey',
  signingCertificate: 'iam.deactivateSigningCertificate',
  serviceSpecificCredential: 'iam.deactivateServiceSpecificCredential',
};

export const CONTAIN_CONSOLE_KIND = 'iam.containConsoleAccess';

export function deactivateCredentialIntent(ctx: RuleContext, user: UserSnapshot, credential: UserCredentialSnapshot, finding: ReasonCode, group: PlanAction['group']): ActionIntent {
  return {
    kind: DEACTIVATE_CREDENTIAL_KIND[credential.type],
    target: { type: 'credential', id: credential.id, nhi: ctx.estate.ref(user) },
    params: { userName: user.name, credentialId: credential.id },
    finding,
    phase: PHASE_REVOCATION,
    group,
    prod: isProd(user),
  };
}

/** The console password contained (a deny on every console session); the planner drops it when already in place. */
export function containConsoleIntent(ctx: RuleContext, user: UserSnapshot, finding: ReasonCode, group: PlanAction['group']): ActionIntent {
  return {
    kind: CONTAIN_CONSOLE_KIND,
    target: { type: 'user', id: user.name, nhi: ctx.estate.ref(user) },
    params: { userName: user.name },
    finding,
    phase: PHASE_REVOCATION,
    group,
    prod: isProd(user),
  };
}

/**
 * Every long-term credential of a user besides its access keys, disabled: each active SSH public
 * key, signing certificate and service-specific credential deactivated, a console password
 * contained. A user read out of scope (credentials undefined) gets none: the snapshot cannot tell.
 */
export function otherCredentialIntents(ctx: RuleContext, user: UserSnapshot, finding: ReasonCode, group: PlanAction['group']): ActionIntent[] {
  const intents = (user.credentials ?? []).filter((c) => c.status === 'Active').map((c) => deactivateCredentialIntent(ctx, user, c, finding, group));
  if (user.loginProfile === true) intents.push(containConsoleIntent(ctx, user, finding, group));
  return intents;
}

import type { ActionKindCatalog } from '../domain/plan-model.js';
import { AppError } from '../domain/reasons.js';
import { formatIssues } from '../domain/events.js';
import type { JsonObject } from '../domain/plan-model.js';
import type { ConnectorAction } from './types.js';
import { deactivateAccessKey } from './iam/deactivate-access-key.js';
import { reactivateAccessKey } from './iam/reactivate-access-key.js';
import { deleteAccessKey } from './iam/delete-access-key.js';
import { attachQuarantinePolicy } from './iam/attach-quarantine-policy.js';
import { detachQuarantinePolicy } from './iam/detach-quarantine-policy.js';
import { putSessionRevocationDeny } from './iam/put-session-revocation-deny.js';
import { deleteSessionRevocationDeny } from './iam/delete-session-revocation-deny.js';
import { detachManagedPolicy } from './iam/detach-managed-policy.js';
import { attachManagedPolicy } from './iam/attach-managed-policy.js';
import { deleteInlinePolicy } from './iam/delete-inline-policy.js';
import { putInlinePolicy } from './iam/put-inline-policy.js';
import { editManagedPolicy } from './iam/edit-managed-policy.js';
import { restoreManagedPolicyVersion } from './iam/restore-managed-policy-version.js';
import { removeUserFromGroup } from './iam/remove-user-from-group.js';
import { addUserToGroup } from './iam/add-user-to-group.js';
import { deleteLoginProfile } from './iam/delete-login-profile.js';
import { deactivateSshPublicKey } from './iam/deactivate-ssh-public-key.js';
import { reactivateSshPublicKey } from './iam/reactivate-ssh-public-key.js';
import { deactivateSigningCertificate } from './iam/deactivate-signing-certificate.js';
import { reactivateSigningCertificate } from './iam/reactivate-signing-certificate.js';
import { deactivateServiceSpecificCredential } from './iam/deactivate-service-specific-credential.js';
import { reactivateServiceSpecificCredential } from './iam/reactivate-service-specific-credential.js';
import { containConsoleAccess } from './iam/contain-console-access.js';
import { releaseConsoleAccess } from './iam/release-console-access.js';
import { moveOwnerTag } from './iam/move-owner-tag.js';
import { moveSecretOwnerTag } from './secrets/move-owner-tag.js';
import { rotateAccessKeySecret } from './secrets/rotate-access-key-secret.js';
import { restoreAccessKeySecret } from './secrets/restore-access-key-secret.js';

/** Every connector action kind. Adding one: write its module, list it here, extend its test. */
export const CONNECTOR_ACTIONS: readonly ConnectorAction<never>[] = [
  deactivateAccessKey,
  reactivateAccessKey,
  deleteAccessKey,
  attachQuarantinePolicy,
  detachQuarantinePolicy,
  putSessionRevocationDeny,
  deleteSessionRevocationDeny,
  detachManagedPolicy,
  attachManagedPolicy,
  deleteInlinePolicy,
  putInlinePolicy,
  editManagedPolicy,
  restoreManagedPolicyVersion,
  removeUserFromGroup,
  addUserToGroup,
  deleteLoginProfile,
  deactivateSshPublicKey,
  reactivateSshPublicKey,
  deactivateSigningCertificate,
  reactivateSigningCertificate,
  deactivateServiceSpecificCredential,
  reactivateServiceSpecificCredential,
  containConsoleAccess,
  releaseConsoleAccess,
  moveOwnerTag,
  moveSecretOwnerTag,
  rotateAccessKeySecret,
  restoreAccessKeySecret,
] as unknown as readonly ConnectorAction<never>[];

const byKind = new Map<string, ConnectorAction>(CONNECTOR_ACTIONS.map((action) => [action.kind, action as unknown as ConnectorAction]));

/** The pure part of each action, for the planner. */
export const ACTION_CATALOG: ActionKindCatalog = byKind;

export function connectorAction(kind: string): ConnectorAction {
  const action = byKind.get(kind);
  if (!action) throw new AppError('INPUT_INVALID', `unknown action kind "${kind}" (known: ${[...byKind.keys()].join(', ')})`);
  return action;
}

/** Validates params against the action's closed schema. */
export function validatedParams(action: ConnectorAction, params: unknown): JsonObject {
  const parsed = action.schema.safeParse(params);
  if (!parsed.success) throw new AppError('INPUT_INVALID', `${action.kind}: ${formatIssues(parsed.error)}`);
  return parsed.data;
}

/** Every IAM action any connector calls, or only those of one side of the declarations. */
export function connectorPermissions(side?: 'read' | 'write'): string[] {
  const declared = CONNECTOR_ACTIONS.flatMap(({ permissions }) => (side ? permissions[side] : [...permissions.read, ...permissions.write]));
  return [...new Set(declared)].sort();
}

/** TagUser, UntagRole, TagResource, ...: the actions `tagKeys` is about. */
export const isTaggingAction = (action: string): boolean => /:(Tag|Untag)[A-Z]/.test(action);

/** The tag keys connector writes may set or remove, per service of their tagging actions ("iam", "secretsmanager"). */
export function connectorTagKeys(): ReadonlyMap<string, readonly string[]> {
  const byService = new Map<string, Set<string>>();
  for (const { permissions } of CONNECTOR_ACTIONS) {
    for (const service of new Set(permissions.write.filter(isTaggingAction).map((action) => action.split(':')[0] ?? ''))) {
      const keys = byService.get(service) ?? new Set<string>();
      for (const key of permissions.tagKeys ?? []) keys.add(key);
      byService.set(service, keys);
    }
  }
  return new Map([...byService].filter(([, keys]) => keys.size > 0).map(([service, keys]) => [service, [...keys].sort()]));
}

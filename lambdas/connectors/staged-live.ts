import type { LiveState, StagedRef } from '../domain/finalize.js';
import type { JsonObject } from '../domain/plan-model.js';
import { canonicalJson } from '../domain/canonical.js';
import { containConsoleAccess } from './iam/contain-console-access.js';
import { deleteAccessKey } from './iam/delete-access-key.js';
import { deleteLoginProfile } from './iam/delete-login-profile.js';
import type { ConnectorContext } from './types.js';

/**
 * Reads a credential finalize is about to delete: whether it is still disabled, and the state its
 * deletion starts from (`before`). A key: its status. A console password: the login profile, and
 * whether the containment that disabled it is still in place, exactly as written.
 */
export async function readStagedLive(ctx: ConnectorContext, staged: StagedRef): Promise<{ state: LiveState; before: JsonObject }> {
  if (staged.targetType === 'accessKey') {
    const before = await deleteAccessKey.read(ctx, { userName: staged.userName, accessKeyId: staged.targetId });
    return { state: before.status === 'Inactive' ? 'disabled' : before.status === 'Active' ? 'enabled' : 'absent', before };
  }
  const params = { userName: staged.userName };
  const before = await deleteLoginProfile.read(ctx, params);
  if (before.loginProfile !== true) return { state: 'absent', before };
  const containment = await containConsoleAccess.read(ctx, params);
  const contained = canonicalJson(containment) === canonicalJson(containConsoleAccess.desiredState(params, containment));
  return { state: contained ? 'disabled' : 'enabled', before };
}

import { classifyAwsError } from '../errors.js';
import { verifyByReadBack } from '../read-back.js';
import type { ConnectorAction } from '../types.js';
import { INLINE_DELETE_PERMISSIONS, INLINE_READ_PERMISSIONS, principalLabel } from './principal.js';
import { readSessionDeny, removeSessionDeny, sessionDenyFromSnapshot, sessionDenyParams, type SessionDenyParams } from './session-revocation.js';

/**
 * Removes the session deny: the inverse of putting it. Params keep the cut-off of the deny it
 * removes, so its own inverse puts that same deny back.
 */
export const deleteSessionRevocationDeny: ConnectorAction<SessionDenyParams> = {
  kind: 'iam.deleteSessionRevocationDeny',
  description: 'removing the session deny',
  irreversible: false,
  targetType: 'user',
  schema: sessionDenyParams,
  permissions: { read: INLINE_READ_PERMISSIONS, write: INLINE_DELETE_PERMISSIONS },
  label: principalLabel,
  beforeFromSnapshot: sessionDenyFromSnapshot,
  desiredState: () => ({ present: false, issuedBefore: null }),
  inverse: (params) => ({ kind: 'iam.putSessionRevocationDeny', params }),
  read: readSessionDeny,
  write: (ctx, params) => removeSessionDeny(ctx, params),
  verify: (ctx, params, after) => verifyByReadBack(readSessionDeny, ctx, params, after),
  classify: classifyAwsError,
};

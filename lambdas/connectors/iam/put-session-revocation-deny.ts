import { classifyAwsError } from '../errors.js';
import { verifyByReadBack } from '../read-back.js';
import type { ConnectorAction } from '../types.js';
import { INLINE_PUT_PERMISSIONS, INLINE_READ_PERMISSIONS, principalLabel } from './principal.js';
import { readSessionDeny, sessionDenyFromSnapshot, sessionDenyParams, writeSessionDeny, type SessionDenyParams } from './session-revocation.js';

/** Denies every session of a user or role issued before the change (keys off is not sessions off). */
export const putSessionRevocationDeny: ConnectorAction<SessionDenyParams> = {
  kind: 'iam.putSessionRevocationDeny',
  description: 'denying sessions issued before the change',
  irreversible: false,
  targetType: 'user',
  schema: sessionDenyParams,
  permissions: { read: INLINE_READ_PERMISSIONS, write: INLINE_PUT_PERMISSIONS },
  label: principalLabel,
  beforeFromSnapshot: sessionDenyFromSnapshot,
  desiredState: (params) => ({ present: true, issuedBefore: String(params.issuedBefore) }),
  // A deny already in place is put back with its own cut-off; none is removed.
  inverse: (params, before) =>
    before.present === true && typeof before.issuedBefore === 'string'
      ? { kind: 'iam.putSessionRevocationDeny', params: { ...params, issuedBefore: before.issuedBefore } }
      : { kind: 'iam.deleteSessionRevocationDeny', params },
  read: readSessionDeny,
  write: writeSessionDeny,
  verify: (ctx, params, after) => verifyByReadBack(readSessionDeny, ctx, params, after),
  classify: classifyAwsError,
};

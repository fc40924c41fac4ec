import { contentHash } from '../../domain/canonical.js';
import type { JsonObject } from '../../domain/plan-model.js';
import { classifyAwsError, connectorStep } from '../errors.js';
import { verifyByReadBack } from '../read-back.js';
import type { ConnectorAction, ConnectorContext } from '../types.js';
import {
  deleteInlinePolicy,
  getInlinePolicy,
  INLINE_DELETE_PERMISSIONS,
  INLINE_PUT_PERMISSIONS,
  INLINE_READ_PERMISSIONS,
  inlineDocumentInSnapshot,
  principalLabel,
  principalParams,
  putInlinePolicy,
  type Principal,
} from './principal.js';

/**
 * The quarantine is an inline deny-all on the principal, not a customer-managed policy:
 * - nothing account-wide to create first or to guard (one edited managed policy would lift every
 *   quarantine at once, and deleting it would detach it everywhere);
 * - it does not count against the 10 (default) managed policies per principal, which would make
 *   attaching fail on exactly the well-privileged principals we most want to contain;
 * - the bulk snapshot (GetAccountAuthorizationDetails) carries inline documents, so the planner
 *   sees an existing quarantine without extra calls, and verify compares the exact document.
 * An explicit Deny wins over every Allow, so the principal can do nothing while it is in place.
 */
export const QUARANTINE_POLICY_NAME = 'nhigov-quarantine';

export const QUARANTINE_DOCUMENT: JsonObject = {
  Version: '2012-10-17',
  Statement: [{ Sid: 'NhigovQuarantineDenyAll', Effect: 'Deny', Action: '*', Resource: '*' }],
};

/** State: whether a policy of the quarantine's name is there, and the hash of its document. */
function quarantineState(document: JsonObject | null): JsonObject {
  return document ? { present: true, documentHash: contentHash(document) } : { present: false, documentHash: null };
}

export async function readQuarantine(ctx: ConnectorContext, params: Principal): Promise<JsonObject> {
  return connectorStep(`reading quarantine of ${principalLabel(params)}`, classifyAwsError, async () =>
    quarantineState(await getInlinePolicy(ctx, params, QUARANTINE_POLICY_NAME)),
  );
}

/** Builds the attach / detach pair: each is the other's inverse. */
export function quarantineAction(kind: string, present: boolean, inverseKind: string): ConnectorAction<Principal> {
  const verb = present ? 'quarantining' : 'lifting the quarantine of';
  return {
    kind,
    description: present ? 'attaching the quarantine deny-all policy' : 'detaching the quarantine deny-all policy',
    irreversible: false,
    targetType: 'role',
    schema: principalParams,
    permissions: { read: INLINE_READ_PERMISSIONS, write: present ? INLINE_PUT_PERMISSIONS : INLINE_DELETE_PERMISSIONS },
    label: principalLabel,
    beforeFromSnapshot(params, snapshot) {
      const document = inlineDocumentInSnapshot(snapshot, params, QUARANTINE_POLICY_NAME);
      return document === undefined ? null : quarantineState(document);
    },
    desiredState: () => quarantineState(present ? QUARANTINE_DOCUMENT : null),
    inverse: (params) => ({ kind: inverseKind, params }),
    read: readQuarantine,
    async write(ctx, params) {
      await connectorStep(`${verb} ${principalLabel(params)}`, classifyAwsError, () =>
        present ? putInlinePolicy(ctx, params, QUARANTINE_POLICY_NAME, QUARANTINE_DOCUMENT) : deleteInlinePolicy(ctx, params, QUARANTINE_POLICY_NAME),
      );
    },
    verify: (ctx, params, after) => verifyByReadBack(readQuarantine, ctx, params, after),
    classify: classifyAwsError,
  };
}

import { z } from 'zod';
import type { JsonObject } from '../../domain/plan-model.js';
import type { Snapshot } from '../../domain/snapshot.js';
import { classifyAwsError, connectorStep } from '../errors.js';
import type { ConnectorContext } from '../types.js';
import { deleteInlinePolicy, getInlinePolicy, inlineDocumentInSnapshot, principalLabel, principalShape, putInlinePolicy, type Principal } from './principal.js';

/** The inline policy that denies every session issued before the change (AWS's documented way to revoke role sessions). */
export const SESSION_DENY_POLICY_NAME = 'nhigov-revoke-older-sessions';

export const sessionDenyParams = z.strictObject({
  ...principalShape,
  issuedBefore: z.iso.datetime({ offset: true }),
});
export type SessionDenyParams = z.infer<typeof sessionDenyParams>;

export function sessionDenyDocument(issuedBefore: string): JsonObject {
  return {
    Version: '2012-10-17',
    Statement: [
      {
        Sid: 'NhigovRevokeOlderSessions',
        Effect: 'Deny',
        Action: '*',
        Resource: '*',
        Condition: { DateLessThan: { 'aws:TokenIssueTime': issuedBefore } },
      },
    ],
  };
}

/** State of the deny: { present, issuedBefore } (the issue time it cuts at, null when absent). */
export function sessionDenyState(document: JsonObject | null): JsonObject {
  if (!document) return { present: false, issuedBefore: null };
  const statement = (document.Statement as Array<{ Condition?: { DateLessThan?: Record<string, string> } }> | undefined)?.[0];
  return { present: true, issuedBefore: statement?.Condition?.DateLessThan?.['aws:TokenIssueTime'] ?? null };
}

export async function readSessionDeny(ctx: ConnectorContext, params: Principal): Promise<JsonObject> {
  return connectorStep(`reading session deny of ${principalLabel(params)}`, classifyAwsError, async () =>
    sessionDenyState(await getInlinePolicy(ctx, params, SESSION_DENY_POLICY_NAME)),
  );
}

export async function writeSessionDeny(ctx: ConnectorContext, params: SessionDenyParams): Promise<void> {
  await connectorStep(`denying sessions of ${principalLabel(params)} issued before ${params.issuedBefore}`, classifyAwsError, () =>
    putInlinePolicy(ctx, params, SESSION_DENY_POLICY_NAME, sessionDenyDocument(params.issuedBefore)),
  );
}

export async function removeSessionDeny(ctx: ConnectorContext, params: Principal): Promise<void> {
  await connectorStep(`removing session deny of ${principalLabel(params)}`, classifyAwsError, () => deleteInlinePolicy(ctx, params, SESSION_DENY_POLICY_NAME));
}

export function sessionDenyFromSnapshot(params: JsonObject, snapshot: Snapshot): JsonObject | null {
  const document = inlineDocumentInSnapshot(snapshot, params, SESSION_DENY_POLICY_NAME);
  return document === undefined ? null : sessionDenyState(document);
}

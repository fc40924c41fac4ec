import { z } from 'zod';
import { contentHash } from '../../domain/canonical.js';
import type { JsonObject } from '../../domain/plan-model.js';
import { classifyAwsError, connectorStep } from '../errors.js';
import { verifyByReadBack } from '../read-back.js';
import type { ConnectorAction, ConnectorContext } from '../types.js';
import { userName } from './access-key-status.js';
import { deleteInlinePolicy, getInlinePolicy, inlineDocumentInSnapshot, putInlinePolicy, type Principal } from './principal.js';

/** The inline policy that contains a user's console password until finalize deletes the login profile. */
export const CONSOLE_CONTAINMENT_POLICY_NAME = 'nhigov-contain-console';

/**
 * A console sign-in is a session on temporary credentials: every request it makes carries
 * aws:TokenIssueTime, which a request signed with a long-term access key never does. Denying every
 * action whenever that key is present stops whatever a console password signs in to (a session
 * issued after the change included, which the session-revocation deny's cut-off lets through),
 * while leaving the user's access keys to the actions that govern them: a baseline that forbids
 * console access on a service user does not break the service. Sessions from GetSessionToken are
 * denied too: they are the same kind of credential.
 */
export const CONSOLE_CONTAINMENT_DOCUMENT: JsonObject = {
  Version: '2012-10-17',
  Statement: [{ Sid: 'NhigovDenyConsoleSessions', Effect: 'Deny', Action: '*', Resource: '*', Condition: { Null: { 'aws:TokenIssueTime': 'false' } } }],
};

export const consoleParams = z.strictObject({ userName });
export type ConsoleParams = z.infer<typeof consoleParams>;

const asPrincipal = (p: ConsoleParams): Principal => ({ principalType: 'user', principalName: p.userName });

/** State: whether the containment is in place, and the hash of the document under its name. */
function containmentState(document: JsonObject | null): JsonObject {
  return document ? { contained: true, documentHash: contentHash(document) } : { contained: false, documentHash: null };
}

export async function readConsoleContainment(ctx: ConnectorContext, params: ConsoleParams): Promise<JsonObject> {
  return connectorStep(`reading console containment of user ${params.userName}`, classifyAwsError, async () =>
    containmentState(await getInlinePolicy(ctx, asPrincipal(params), CONSOLE_CONTAINMENT_POLICY_NAME)),
  );
}

/** Builds the contain / release pair: each is the other's inverse. */
export function consoleContainmentAction(kind: string, contained: boolean, inverseKind: string): ConnectorAction<ConsoleParams> {
  const verb = contained ? 'containing the console password of' : 'releasing the console containment of';
  return {
    kind,
    description: contained ? 'containing a console password' : 'releasing a console password containment',
    irreversible: false,
    targetType: 'user',
    schema: consoleParams,
    permissions: { read: ['iam:GetUserPolicy', 'iam:GetUser'], write: [contained ? 'iam:PutUserPolicy' : 'iam:DeleteUserPolicy'] },
    label: (p) => `user ${p.userName}`,
    beforeFromSnapshot(params, snapshot) {
      const document = inlineDocumentInSnapshot(snapshot, { principalType: 'user', principalName: params.userName ?? null }, CONSOLE_CONTAINMENT_POLICY_NAME);
      return document === undefined ? null : containmentState(document);
    },
    desiredState: () => containmentState(contained ? CONSOLE_CONTAINMENT_DOCUMENT : null),
    inverse: (params) => ({ kind: inverseKind, params }),
    read: readConsoleContainment,
    async write(ctx, params) {
      await connectorStep(`${verb} user ${params.userName}`, classifyAwsError, () =>
        contained ? putInlinePolicy(ctx, asPrincipal(params), CONSOLE_CONTAINMENT_POLICY_NAME, CONSOLE_CONTAINMENT_DOCUMENT) : deleteInlinePolicy(ctx, asPrincipal(params), CONSOLE_CONTAINMENT_POLICY_NAME),
      );
    },
    verify: (ctx, params, after) => verifyByReadBack(readConsoleContainment, ctx, params, after),
    classify: classifyAwsError,
  };
}

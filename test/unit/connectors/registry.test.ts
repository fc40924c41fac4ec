import { describe, expect, it } from 'vitest';
import * as iamSdk from '@aws-sdk/client-iam';
import * as secretsSdk from '@aws-sdk/client-secrets-manager';
import { ACTION_CATALOG, CONNECTOR_ACTIONS, connectorAction, connectorPermissions, validatedParams } from '../../../lambdas/connectors/registry.js';
import type { ConnectorAction } from '../../../lambdas/connectors/types.js';
import { isAppError } from '../../../lambdas/domain/reasons.js';
import { canonicalJson } from '../../../lambdas/domain/canonical.js';
import { CONNECTOR_EXAMPLES, seedExampleEstate } from '../../fixtures/connector-examples.js';

/**
 * Real IAM / Secrets Manager actions (Service Authorization Reference), the ones a connector
 * could plausibly need. A permission outside this list is a typo or an action that does not exist.
 */
const KNOWN_ACTIONS = new Set([
  ...[
    'AddUserToGroup', 'AttachRolePolicy', 'AttachUserPolicy', 'CreateAccessKey', 'CreateLoginProfile', 'DeleteAccessKey', 'DeleteLoginProfile',
    'DeleteRolePolicy', 'DeleteUserPolicy', 'DetachRolePolicy', 'DetachUserPolicy', 'GetAccessKeyLastUsed', 'GetAccountAuthorizationDetails',
    'GetLoginProfile', 'GetRole', 'GetRolePolicy', 'GetUser', 'GetUserPolicy', 'ListAccessKeys', 'ListAttachedRolePolicies', 'ListAttachedUserPolicies',
    'ListGroupsForUser', 'ListRolePolicies', 'ListRoleTags', 'ListUserPolicies', 'ListUserTags', 'PutRolePolicy', 'PutUserPolicy', 'RemoveUserFromGroup',
    'TagRole', 'TagUser', 'UntagRole', 'UntagUser', 'UpdateAccessKey', 'UpdateLoginProfile', 'PutRolePermissionsBoundary', 'PutUserPermissionsBoundary',
  ].map((a) => `iam:${a}`),
  ...[
    'DescribeSecret', 'GetSecretValue', 'PutSecretValue', 'UpdateSecretVersionStage', 'TagResource', 'UntagResource', 'ListSecrets',
    'ListSecretVersionIds', 'RotateSecret', 'CancelRotateSecret', 'GetRandomPassword', 'BatchGetSecretValue',
  ].map((a) => `secretsmanager:${a}`),
]);

const SDK_EXPORTS: Record<string, Record<string, unknown>> = { iam: iamSdk, secretsmanager: secretsSdk };

const actions = CONNECTOR_ACTIONS as unknown as readonly ConnectorAction[];

describe('connector registry', () => {
  it('registers each kind once, and refuses unknown kinds', () => {
    const kinds = actions.map((a) => a.kind);
    expect(new Set(kinds).size).toBe(kinds.length);
    expect([...ACTION_CATALOG.keys()].sort()).toEqual([...kinds].sort());
    expect(() => connectorAction('iam.noSuchThing')).toThrow(/unknown action kind/);
  });

  it('builds the connector role from the declarations: sorted, no duplicates', () => {
    const permissions = connectorPermissions();
    expect(permissions).toEqual([...new Set(permissions)].sort());
    expect(permissions).toContain('iam:UpdateAccessKey');
    expect(permissions).toContain('secretsmanager:PutSecretValue');
  });

  describe.each(actions.map((a) => [a.kind, a] as const))('%s', (kind, action) => {
    const examples = CONNECTOR_EXAMPLES[kind] ?? [];

    it('declares permissions, each a real service:Action of IAM or Secrets Manager', () => {
      expect(action.permissions.length).toBeGreaterThan(0);
      for (const permission of action.permissions) {
        expect(KNOWN_ACTIONS, `${kind}: ${permission}`).toContain(permission);
        const [service, name] = permission.split(':') as [string, string];
        expect(SDK_EXPORTS[service]?.[`${name}Command`], `${permission} has an SDK command`).toBeTypeOf('function');
      }
      expect(new Set(action.permissions).size).toBe(action.permissions.length);
    });

    it('has examples, which its schema accepts', () => {
      expect(examples.length).toBeGreaterThan(0);
      const estate = seedExampleEstate();
      for (const example of examples) expect(() => validatedParams(action, example.params(estate))).not.toThrow();
    });

    it('has a closed schema: an extra key is refused with INPUT_INVALID', () => {
      const estate = seedExampleEstate();
      for (const example of examples) {
        const error = (() => {
          try {
            validatedParams(action, { ...example.params(estate), unexpected: 'x' });
            return null;
          } catch (caught) {
            return caught;
          }
        })();
        expect(isAppError(error) && error.reasonCode === 'INPUT_INVALID').toBe(true);
      }
    });

    it('is irreversible with no inverse, or names a registered inverse that undoes it and whose inverse is itself', async () => {
      for (const example of examples) {
        const estate = seedExampleEstate();
        await example.prepare?.(estate);
        const params = validatedParams(action, example.params(estate));
        const before = await action.read(estate.fake.context(), params);
        const after = action.desiredState(params, before);
        const inverse = action.inverse(params, before);
        if (action.irreversible) {
          expect(inverse).toBeNull();
          continue;
        }
        expect(inverse).not.toBeNull();
        if (!inverse) continue;
        const undo = ACTION_CATALOG.get(inverse.kind);
        expect(undo, `inverse kind ${inverse.kind}`).toBeDefined();
        if (!undo) continue;
        expect(() => validatedParams(connectorAction(inverse.kind), inverse.params)).not.toThrow();
        // A no-op (before = after) never reaches a plan: its "inverse" has nothing to restore.
        if (canonicalJson(before) !== canonicalJson(after)) expect(undo.desiredState(inverse.params, after), 'the inverse restores the state before').toEqual(before);
        expect(undo.inverse(inverse.params, after), 'inverse of inverse').toEqual({ kind, params });
      }
    });

    it('calls exactly the permissions it declares (read, write, verify over its examples)', async () => {
      const called = new Set<string>();
      for (const example of examples) {
        const estate = seedExampleEstate();
        await example.prepare?.(estate);
        estate.fake.calls.length = 0;
        const ctx = estate.fake.context();
        const params = validatedParams(action, example.params(estate));
        const before = await action.read(ctx, params);
        await action.write(ctx, params).catch(async (error: unknown) => {
          if (!isAppError(error) || error.reasonCode !== 'TARGET_UNAVAILABLE') throw error;
          await action.write(ctx, params);
        });
        await action.verify(ctx, params, action.desiredState(params, before));
        for (const call of estate.fake.calls) called.add(call);
      }
      expect([...called].sort()).toEqual([...new Set(action.permissions)].sort());
    });
  });
});

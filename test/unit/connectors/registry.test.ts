import { describe, expect, it } from 'vitest';
import * as iamSdk from '@aws-sdk/client-iam';
import * as secretsSdk from '@aws-sdk/client-secrets-manager';
import { ACTION_CATALOG, CONNECTOR_ACTIONS, connectorAction, connectorPermissions, connectorTagKeys, isTaggingAction, validatedParams } from '../../../lambdas/connectors/registry.js';
import { GOVERNED_TAG } from '../../../lambdas/domain/snapshot.js';
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
    'GetPolicy', 'GetPolicyVersion', 'ListPolicyVersions', 'CreatePolicyVersion', 'SetDefaultPolicyVersion',
    'ListSSHPublicKeys', 'UpdateSSHPublicKey', 'ListSigningCertificates', 'UpdateSigningCertificate', 'ListServiceSpecificCredentials', 'UpdateServiceSpecificCredential',
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
    expect(connectorPermissions('read')).not.toContain('iam:UpdateAccessKey');
    expect(connectorPermissions('write')).toEqual(expect.arrayContaining(['iam:UpdateAccessKey', 'iam:CreateAccessKey', 'secretsmanager:PutSecretValue']));
    expect(connectorPermissions().sort()).toEqual([...new Set([...connectorPermissions('read'), ...connectorPermissions('write')])].sort());
  });

  it('collects the declared tag keys per service of the tagging actions, never the governance tag', () => {
    expect(Object.fromEntries(connectorTagKeys())).toEqual({ iam: ['owner'], secretsmanager: ['nhigov:rotation', 'owner'] });
  });

  describe.each(actions.map((a) => [a.kind, a] as const))('%s', (kind, action) => {
    const examples = CONNECTOR_EXAMPLES[kind] ?? [];

    it('declares permissions, each a real service:Action of IAM or Secrets Manager', () => {
      const { read, write } = action.permissions;
      const all = [...read, ...write];
      expect(read.length).toBeGreaterThan(0);
      expect(write.length).toBeGreaterThan(0);
      for (const permission of all) {
        expect(KNOWN_ACTIONS, `${kind}: ${permission}`).toContain(permission);
        const [service, name] = permission.split(':') as [string, string];
        expect(SDK_EXPORTS[service]?.[`${name}Command`], `${permission} has an SDK command`).toBeTypeOf('function');
      }
      expect(new Set(all).size, 'no permission twice, none on both sides').toBe(all.length);
    });

    it('declares reads as reads and writes as writes (what read-only functions get is read)', () => {
      const isRead = (permission: string): boolean => /:(Get|List|Describe)[A-Z]/.test(permission);
      expect(action.permissions.read.filter((p) => !isRead(p)), 'mutations declared as reads').toEqual([]);
      expect(action.permissions.write.filter(isRead), 'reads declared as writes').toEqual([]);
    });

    it('declares the tag keys it writes exactly when it tags, and never the governance tag', () => {
      const tags = action.permissions.write.some(isTaggingAction);
      const keys = action.permissions.tagKeys ?? [];
      expect(keys.length > 0, 'tagKeys when (and only when) write tags').toBe(tags);
      expect(keys.map((k) => k.toLowerCase())).not.toContain(GOVERNED_TAG.toLowerCase());
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

    it('calls exactly the permissions it declares (read, write, verify over its examples), reads only from read and verify', async () => {
      const called = new Set<string>();
      const calledReading = new Set<string>();
      const collect = (calls: readonly string[], into: Set<string>): void => {
        for (const call of calls) into.add(call);
      };
      for (const example of examples) {
        const estate = seedExampleEstate();
        await example.prepare?.(estate);
        estate.fake.calls.length = 0;
        const ctx = estate.fake.context();
        const params = validatedParams(action, example.params(estate));
        const before = await action.read(ctx, params);
        collect(estate.fake.calls.splice(0), calledReading);
        await action.write(ctx, params).catch(async (error: unknown) => {
          if (!isAppError(error) || error.reasonCode !== 'TARGET_UNAVAILABLE') throw error;
          await action.write(ctx, params);
        });
        collect(estate.fake.calls.splice(0), called);
        await action.verify(ctx, params, action.desiredState(params, before));
        collect(estate.fake.calls.splice(0), calledReading);
      }
      expect([...calledReading].filter((call) => !action.permissions.read.includes(call)), 'read / verify call only declared reads').toEqual([]);
      collect([...calledReading], called);
      expect([...called].sort()).toEqual([...new Set([...action.permissions.read, ...action.permissions.write])].sort());
    });
  });
});

import { randomUUID } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  AddUserToGroupCommand,
  AttachRolePolicyCommand,
  AttachUserPolicyCommand,
  CreateGroupCommand,
  CreateLoginProfileCommand,
  CreatePolicyCommand,
  CreatePolicyVersionCommand,
  GetPolicyCommand,
  GetPolicyVersionCommand,
  GetRolePolicyCommand,
  GetUserPolicyCommand,
  IAMClient,
  ListAccessKeysCommand,
  ListAttachedRolePoliciesCommand,
  ListAttachedUserPoliciesCommand,
  ListGroupsForUserCommand,
  ListRoleTagsCommand,
  ListUserTagsCommand,
  GetLoginProfileCommand,
  ListServiceSpecificCredentialsCommand,
  ListSigningCertificatesCommand,
  ListSSHPublicKeysCommand,
  UpdateServiceSpecificCredentialCommand,
  UpdateSigningCertificateCommand,
  UpdateSSHPublicKeyCommand,
  PutRolePolicyCommand,
  PutUserPolicyCommand,
  UpdateAccessKeyCommand,
} from '@aws-sdk/client-iam';
import { DescribeSecretCommand, GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { CONNECTOR_ACTIONS, connectorAction, validatedParams } from '../../lambdas/connectors/registry.js';
import type { ConnectorAction, ConnectorContext } from '../../lambdas/connectors/types.js';
import { QUARANTINE_DOCUMENT, QUARANTINE_POLICY_NAME } from '../../lambdas/connectors/iam/quarantine-policy.js';
import { SESSION_DENY_POLICY_NAME, sessionDenyDocument } from '../../lambdas/connectors/iam/session-revocation.js';
import { CONSOLE_CONTAINMENT_DOCUMENT, CONSOLE_CONTAINMENT_POLICY_NAME } from '../../lambdas/connectors/iam/console-containment.js';
import { addEveryCredential } from '../support/credentials.js';
import { rotateAccessKeySecret } from '../../lambdas/connectors/secrets/rotate-access-key-secret.js';
import { waitUntil } from '../../lambdas/connectors/waiters.js';
import { contentHash } from '../../lambdas/domain/canonical.js';
import type { ActionInvocation, JsonObject } from '../../lambdas/domain/plan-model.js';
import { AppError, isAppError, REASON_CODES, TRANSIENT_CODES, type ReasonCode } from '../../lambdas/domain/reasons.js';
import { CONNECTOR_EXAMPLES } from '../fixtures/connector-examples.js';
import { createGovernedRole, createGovernedUser, createKeySecret, ownerEmail, unique } from '../support/estate.js';
import { startTestStack, type TestStack } from '../support/local-stack.js';
import type { AwsClients } from '../../local/aws-clients.js';

/**
 * Every registered connector action kind against the local stack (moto behind the gateway):
 * read → write → verify, read back straight from moto, idempotent rewrite, inverse; then the
 * gateway's faults on the kind's write API: swallow (WRITE_NOT_APPLIED), accessDenied, throttle.
 * The connectors run in-process with clients pointed at the gateway (counted and faultable);
 * setup and the independent read-back go to moto directly.
 */

const CREDENTIALS = { accessKeyId: 'test', secretAccessKey: 'test' } as const;
const ISSUED_BEFORE = '2026-07-01T00:00:00.000Z';
const INLINE_DOCUMENT: JsonObject = { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 's3:GetObject', Resource: '*' }] };
/** What an edit of a customer-managed policy removes a statement from: all of IAM, and reading S3 (kept). */
const GRANTING_DOCUMENT: JsonObject = { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'iam:*', Resource: '*' }, { Effect: 'Allow', Action: 's3:GetObject', Resource: '*' }] };
const DENY_DOCUMENT: JsonObject = { Version: '2012-10-17', Statement: [{ Effect: 'Deny', Action: '*', Resource: '*' }] };

type PrincipalType = 'user' | 'role';
interface WriteApi {
  readonly service: 'iam' | 'secretsmanager';
  readonly action: string;
}

/** What a case works on: the action's params and the raw read-back of the target from moto. */
interface Target {
  readonly params: JsonObject;
  /** Independent read-back (straight SDK calls to moto), in the shape of the kind's `read`. */
  observe(): Promise<JsonObject>;
}

interface Case {
  readonly kind: string;
  readonly name: string;
  /** Creates a fresh target in moto (through `stack.direct`). */
  setup(): Promise<Target>;
  /** The write call(s) of the kind, for this target: faults go there. */
  writeApis(params: JsonObject): readonly WriteApi[];
}

let stack: TestStack;
let gateway: ConnectorContext;
let direct: AwsClients;
let directCtx: ConnectorContext;
let groups: { member: string; other: string };
let managedPolicyArn: string;

function connectorContext(endpoint: string): ConnectorContext {
  const config = { endpoint, region: 'us-east-1', credentials: CREDENTIALS, maxAttempts: 1 };
  return { iam: new IAMClient(config), secrets: new SecretsManagerClient(config), now: () => new Date() };
}

// ---- independent read-back (moto, not through the connector code) ----

const isNoSuchEntity = (error: unknown) => /NoSuchEntity/.test((error as { name?: string }).name ?? '');

async function keyStatus(userName: string, keyId: string): Promise<string> {
  const out = await direct.iam.send(new ListAccessKeysCommand({ UserName: userName }));
  return out.AccessKeyMetadata?.find((k) => k.AccessKeyId === keyId)?.Status ?? 'Absent';
}

async function inlineDocument(type: PrincipalType, name: string, policyName: string): Promise<JsonObject | null> {
  try {
    const out =
      type === 'user'
        ? await direct.iam.send(new GetUserPolicyCommand({ UserName: name, PolicyName: policyName }))
        : await direct.iam.send(new GetRolePolicyCommand({ RoleName: name, PolicyName: policyName }));
    return JSON.parse(decodeURIComponent(out.PolicyDocument ?? '{}')) as JsonObject;
  } catch (error) {
    if (isNoSuchEntity(error)) return null;
    throw error;
  }
}

async function attachedPolicies(type: PrincipalType, name: string): Promise<string[]> {
  const out =
    type === 'user'
      ? await direct.iam.send(new ListAttachedUserPoliciesCommand({ UserName: name }))
      : await direct.iam.send(new ListAttachedRolePoliciesCommand({ RoleName: name }));
  return (out.AttachedPolicies ?? []).map((p) => p.PolicyArn ?? '');
}

async function principalOwner(type: PrincipalType, name: string): Promise<string | null> {
  const out = type === 'user' ? await direct.iam.send(new ListUserTagsCommand({ UserName: name })) : await direct.iam.send(new ListRoleTagsCommand({ RoleName: name }));
  return out.Tags?.find((t) => t.Key === 'owner')?.Value ?? null;
}

async function secretOwner(secretId: string): Promise<string | null> {
  const out = await direct.secrets.send(new DescribeSecretCommand({ SecretId: secretId }));
  return out.Tags?.find((t) => t.Key === 'owner')?.Value ?? null;
}

async function secretCurrentVersion(secretId: string): Promise<string | null> {
  const out = await direct.secrets.send(new DescribeSecretCommand({ SecretId: secretId }));
  return Object.entries(out.VersionIdsToStages ?? {}).find(([, stages]) => stages.includes('AWSCURRENT'))?.[0] ?? null;
}

async function heldKey(secretId: string): Promise<string | null> {
  const out = await direct.secrets.send(new GetSecretValueCommand({ SecretId: secretId, VersionStage: 'AWSCURRENT' }));
  return (JSON.parse(out.SecretString ?? '{}') as { AccessKeyId?: string }).AccessKeyId ?? null;
}

// ---- targets in moto ----

async function newPrincipal(type: PrincipalType): Promise<string> {
  if (type === 'user') return (await createGovernedUser(direct, { owner: ownerEmail(), keys: 0 })).userName;
  return createGovernedRole(direct, { owner: ownerEmail() });
}

async function putInline(type: PrincipalType, name: string, policyName: string, document: JsonObject): Promise<void> {
  const PolicyDocument = JSON.stringify(document);
  if (type === 'user') await direct.iam.send(new PutUserPolicyCommand({ UserName: name, PolicyName: policyName, PolicyDocument }));
  else await direct.iam.send(new PutRolePolicyCommand({ RoleName: name, PolicyName: policyName, PolicyDocument }));
}

const Type = (type: PrincipalType): string => (type === 'user' ? 'User' : 'Role');

function accessKeyCase(kind: string, initial: 'Active' | 'Inactive', api: string): Case {
  return {
    kind,
    name: `${initial.toLowerCase()} key`,
    async setup() {
      const user = await createGovernedUser(direct, { owner: ownerEmail(), keys: 1 });
      const accessKeyId = user.keyIds[0] ?? '';
      if (initial === 'Inactive') await direct.iam.send(new UpdateAccessKeyCommand({ UserName: user.userName, AccessKeyId: accessKeyId, Status: 'Inactive' }));
      return { params: { userName: user.userName, accessKeyId }, observe: async () => ({ status: await keyStatus(user.userName, accessKeyId) }) };
    },
    writeApis: () => [{ service: 'iam', action: api }],
  };
}

function quarantineCase(kind: string, type: PrincipalType, initiallyPresent: boolean): Case {
  return {
    kind,
    name: type,
    async setup() {
      const name = await newPrincipal(type);
      if (initiallyPresent) await putInline(type, name, QUARANTINE_POLICY_NAME, QUARANTINE_DOCUMENT);
      return {
        params: { principalType: type, principalName: name },
        async observe() {
          const document = await inlineDocument(type, name, QUARANTINE_POLICY_NAME);
          return document ? { present: true, documentHash: contentHash(document) } : { present: false, documentHash: null };
        },
      };
    },
    writeApis: () => [{ service: 'iam', action: `${initiallyPresent ? 'Delete' : 'Put'}${Type(type)}Policy` }],
  };
}

function sessionDenyCase(kind: string, type: PrincipalType, initiallyPresent: boolean): Case {
  return {
    kind,
    name: type,
    async setup() {
      const name = await newPrincipal(type);
      if (initiallyPresent) await putInline(type, name, SESSION_DENY_POLICY_NAME, sessionDenyDocument(ISSUED_BEFORE));
      return {
        params: { principalType: type, principalName: name, issuedBefore: initiallyPresent ? ISSUED_BEFORE : new Date().toISOString() },
        async observe() {
          const document = await inlineDocument(type, name, SESSION_DENY_POLICY_NAME);
          if (!document) return { present: false, issuedBefore: null };
          const statement = (document.Statement as Array<{ Condition?: { DateLessThan?: Record<string, string> } }>)[0];
          return { present: true, issuedBefore: statement?.Condition?.DateLessThan?.['aws:TokenIssueTime'] ?? null };
        },
      };
    },
    writeApis: () => [{ service: 'iam', action: `${initiallyPresent ? 'Delete' : 'Put'}${Type(type)}Policy` }],
  };
}

function managedPolicyCase(kind: string, type: PrincipalType, initiallyAttached: boolean): Case {
  return {
    kind,
    name: type,
    async setup() {
      const name = await newPrincipal(type);
      if (initiallyAttached) {
        if (type === 'user') await direct.iam.send(new AttachUserPolicyCommand({ UserName: name, PolicyArn: managedPolicyArn }));
        else await direct.iam.send(new AttachRolePolicyCommand({ RoleName: name, PolicyArn: managedPolicyArn }));
      }
      return {
        params: { principalType: type, principalName: name, policyArn: managedPolicyArn },
        observe: async () => ({ attached: (await attachedPolicies(type, name)).includes(managedPolicyArn) }),
      };
    },
    writeApis: () => [{ service: 'iam', action: `${initiallyAttached ? 'Detach' : 'Attach'}${Type(type)}Policy` }],
  };
}

/** present: the policy exists first; document: what a put writes (a replacement when present). */
function inlinePolicyCase(kind: string, type: PrincipalType, initiallyPresent: boolean, document?: JsonObject): Case {
  return {
    kind,
    name: `${type}${document ? (initiallyPresent ? ', replacing' : ', new') : ''}`,
    async setup() {
      const name = await newPrincipal(type);
      const policyName = unique('app');
      if (initiallyPresent) await putInline(type, name, policyName, INLINE_DOCUMENT);
      return {
        params: { principalType: type, principalName: name, policyName, ...(document ? { document } : {}) },
        async observe() {
          const found = await inlineDocument(type, name, policyName);
          return { present: found !== null, document: found };
        },
      };
    },
    writeApis: () => [{ service: 'iam', action: `${document ? 'Put' : 'Delete'}${Type(type)}Policy` }],
  };
}

/** A customer-managed policy's default version, straight from moto, in the shape of the policy-version kinds' `read`. */
async function policyVersionState(policyArn: string, versionId: string): Promise<JsonObject> {
  const policy = (await direct.iam.send(new GetPolicyCommand({ PolicyArn: policyArn }))).Policy;
  const current = policy?.DefaultVersionId ?? '';
  const version = await direct.iam.send(new GetPolicyVersionCommand({ PolicyArn: policyArn, VersionId: current }));
  const document = JSON.parse(decodeURIComponent(version.PolicyVersion?.Document ?? '{}')) as JsonObject;
  return { versionId, versionIsDefault: current === versionId, documentSha256: contentHash(document), attachmentCount: policy?.AttachmentCount ?? 0 };
}

/** A policy attached to one new user, v1 granting all of IAM and reading S3; `edited`: v2 (reading S3 only) is default already (what a restore undoes). */
function policyVersionCase(kind: string, edited: boolean): Case {
  return {
    kind,
    name: edited ? 'edited policy, v2 default' : 'policy attached to one user',
    async setup() {
      const userName = await newPrincipal('user');
      const created = await direct.iam.send(new CreatePolicyCommand({ PolicyName: unique('own'), PolicyDocument: JSON.stringify(GRANTING_DOCUMENT), Tags: [{ Key: 'nhi-governed', Value: 'true' }] }));
      const policyArn = created.Policy?.Arn ?? '';
      await direct.iam.send(new AttachUserPolicyCommand({ UserName: userName, PolicyArn: policyArn }));
      if (edited) await direct.iam.send(new CreatePolicyVersionCommand({ PolicyArn: policyArn, PolicyDocument: JSON.stringify(INLINE_DOCUMENT), SetAsDefault: true }));
      const ref = { principalType: 'user', principalName: userName, policyArn, versionId: 'v1', document: INLINE_DOCUMENT };
      return { params: edited ? { ...ref, documentSha256: contentHash(GRANTING_DOCUMENT) } : ref, observe: () => policyVersionState(policyArn, 'v1') };
    },
    writeApis: () => [{ service: 'iam', action: edited ? 'SetDefaultPolicyVersion' : 'CreatePolicyVersion' }],
  };
}

function groupCase(kind: string, initiallyMember: boolean): Case {
  return {
    kind,
    name: initiallyMember ? 'member' : 'not a member',
    async setup() {
      const userName = await newPrincipal('user');
      await direct.iam.send(new AddUserToGroupCommand({ UserName: userName, GroupName: groups.other }));
      if (initiallyMember) await direct.iam.send(new AddUserToGroupCommand({ UserName: userName, GroupName: groups.member }));
      return {
        params: { userName, groupName: groups.member },
        async observe() {
          const out = await direct.iam.send(new ListGroupsForUserCommand({ UserName: userName }));
          return { member: (out.Groups ?? []).some((g) => g.GroupName === groups.member) };
        },
      };
    },
    writeApis: () => [{ service: 'iam', action: initiallyMember ? 'RemoveUserFromGroup' : 'AddUserToGroup' }],
  };
}

function ownerTagCase(type: PrincipalType, toOwner: 'new' | null): Case {
  return {
    kind: 'iam.moveOwnerTag',
    name: `${type} ${toOwner === null ? 'untagged' : 'to a new owner'}`,
    async setup() {
      const name = await newPrincipal(type);
      return { params: { principalType: type, principalName: name, toOwner: toOwner === null ? null : ownerEmail('manager') }, observe: async () => ({ owner: await principalOwner(type, name) }) };
    },
    writeApis: () => [{ service: 'iam', action: `${toOwner === null ? 'Untag' : 'Tag'}${Type(type)}` }],
  };
}

function secretOwnerTagCase(toOwner: 'new' | null): Case {
  return {
    kind: 'secrets.moveOwnerTag',
    name: toOwner === null ? 'untagged' : 'to a new owner',
    async setup() {
      const user = await createGovernedUser(direct, { owner: ownerEmail(), keys: 1 });
      const secretId = await createKeySecret(direct, { owner: ownerEmail(), userName: user.userName, key: user.keys[0]! });
      return { params: { secretId, toOwner: toOwner === null ? null : ownerEmail('manager') }, observe: async () => ({ owner: await secretOwner(secretId) }) };
    },
    writeApis: () => [{ service: 'secretsmanager', action: toOwner === null ? 'UntagResource' : 'TagResource' }],
  };
}

/** A user with one key held by a governed secret; `rotated`: a rotation already ran (what a restore undoes). */
function keySecretCase(kind: string, rotated: boolean, apis: readonly WriteApi[]): Case {
  return {
    kind,
    name: rotated ? 'after a rotation' : 'key secret',
    async setup() {
      const user = await createGovernedUser(direct, { owner: ownerEmail(), keys: 1 });
      const key = user.keys[0]!;
      const secretId = await createKeySecret(direct, { owner: ownerEmail(), userName: user.userName, key });
      const replacedVersionId = (await secretCurrentVersion(secretId)) ?? '';
      const params: JsonObject = { secretId, userName: user.userName, replacedAccessKeyId: key.AccessKeyId, replacedVersionId, rotationVersionId: randomUUID() };
      if (rotated) await rotateAccessKeySecret.write(directCtx, rotateAccessKeySecret.schema.parse(params));
      return {
        params,
        async observe() {
          const keys = await direct.iam.send(new ListAccessKeysCommand({ UserName: user.userName }));
          return {
            currentVersionId: await secretCurrentVersion(secretId),
            replacedKeyStatus: keys.AccessKeyMetadata?.find((k) => k.AccessKeyId === key.AccessKeyId)?.Status ?? 'Absent',
          };
        },
      };
    },
    writeApis: () => apis,
  };
}

function loginProfileCase(): Case {
  return {
    kind: 'iam.deleteLoginProfile',
    name: 'console user',
    async setup() {
      const userName = await newPrincipal('user');
      await direct.iam.send(new CreateLoginProfileCommand({ UserName: userName, Password: `Pw-${randomUUID()}` }));
      return {
        params: { userName },
        async observe() {
          try {
            await direct.iam.send(new GetLoginProfileCommand({ UserName: userName }));
            return { loginProfile: true };
          } catch (error) {
            if (isNoSuchEntity(error)) return { loginProfile: false };
            throw error;
          }
        },
      };
    },
    writeApis: () => [{ service: 'iam', action: 'DeleteLoginProfile' }],
  };
}

type CredentialType = 'ssh' | 'cert' | 'service';
const CREDENTIAL_API: Record<CredentialType, string> = { ssh: 'UpdateSSHPublicKey', cert: 'UpdateSigningCertificate', service: 'UpdateServiceSpecificCredential' };

/** The status of one SSH public key, signing certificate or service-specific credential, straight from moto. */
async function credentialStatus(type: CredentialType, userName: string, id: string): Promise<string> {
  if (type === 'ssh') return (await direct.iam.send(new ListSSHPublicKeysCommand({ UserName: userName }))).SSHPublicKeys?.find((k) => k.SSHPublicKeyId === id)?.Status ?? 'Absent';
  if (type === 'cert') return (await direct.iam.send(new ListSigningCertificatesCommand({ UserName: userName }))).Certificates?.find((c) => c.CertificateId === id)?.Status ?? 'Absent';
  return (await direct.iam.send(new ListServiceSpecificCredentialsCommand({ UserName: userName }))).ServiceSpecificCredentials?.find((c) => c.ServiceSpecificCredentialId === id)?.Status ?? 'Absent';
}

function credentialCase(kind: string, type: CredentialType, initial: 'Active' | 'Inactive'): Case {
  return {
    kind,
    name: `${initial.toLowerCase()} ${type}`,
    async setup() {
      const userName = await newPrincipal('user');
      const ids = await addEveryCredential(direct, userName);
      const id = type === 'ssh' ? ids.sshPublicKeyId : type === 'cert' ? ids.certificateId : ids.serviceSpecificCredentialId;
      if (initial === 'Inactive') {
        if (type === 'ssh') await direct.iam.send(new UpdateSSHPublicKeyCommand({ UserName: userName, SSHPublicKeyId: id, Status: 'Inactive' }));
        else if (type === 'cert') await direct.iam.send(new UpdateSigningCertificateCommand({ UserName: userName, CertificateId: id, Status: 'Inactive' }));
        else await direct.iam.send(new UpdateServiceSpecificCredentialCommand({ UserName: userName, ServiceSpecificCredentialId: id, Status: 'Inactive' }));
      }
      return { params: { userName, credentialId: id }, observe: async () => ({ status: await credentialStatus(type, userName, id) }) };
    },
    writeApis: () => [{ service: 'iam', action: CREDENTIAL_API[type] }],
  };
}

function consoleContainmentCase(kind: string, initiallyContained: boolean): Case {
  return {
    kind,
    name: initiallyContained ? 'contained console user' : 'console user',
    async setup() {
      const userName = await newPrincipal('user');
      await addEveryCredential(direct, userName);
      if (initiallyContained) await putInline('user', userName, CONSOLE_CONTAINMENT_POLICY_NAME, CONSOLE_CONTAINMENT_DOCUMENT);
      return {
        params: { userName },
        async observe() {
          const document = await inlineDocument('user', userName, CONSOLE_CONTAINMENT_POLICY_NAME);
          return document ? { contained: true, documentHash: contentHash(document) } : { contained: false, documentHash: null };
        },
      };
    },
    writeApis: () => [{ service: 'iam', action: initiallyContained ? 'DeleteUserPolicy' : 'PutUserPolicy' }],
  };
}

function buildCases(): Case[] {
  const both = (make: (type: PrincipalType) => Case) => [make('user'), make('role')];
  return [
    accessKeyCase('iam.deactivateAccessKey', 'Active', 'UpdateAccessKey'),
    accessKeyCase('iam.reactivateAccessKey', 'Inactive', 'UpdateAccessKey'),
    accessKeyCase('iam.deleteAccessKey', 'Inactive', 'DeleteAccessKey'),
    ...both((t) => quarantineCase('iam.attachQuarantinePolicy', t, false)),
    ...both((t) => quarantineCase('iam.detachQuarantinePolicy', t, true)),
    ...both((t) => sessionDenyCase('iam.putSessionRevocationDeny', t, false)),
    ...both((t) => sessionDenyCase('iam.deleteSessionRevocationDeny', t, true)),
    ...both((t) => managedPolicyCase('iam.detachManagedPolicy', t, true)),
    ...both((t) => managedPolicyCase('iam.attachManagedPolicy', t, false)),
    ...both((t) => inlinePolicyCase('iam.deleteInlinePolicy', t, true)),
    inlinePolicyCase('iam.putInlinePolicy', 'user', false, INLINE_DOCUMENT),
    inlinePolicyCase('iam.putInlinePolicy', 'role', true, DENY_DOCUMENT),
    policyVersionCase('iam.editManagedPolicy', false),
    policyVersionCase('iam.restoreManagedPolicyVersion', true),
    groupCase('iam.removeUserFromGroup', true),
    groupCase('iam.addUserToGroup', false),
    loginProfileCase(),
    credentialCase('iam.deactivateSshPublicKey', 'ssh', 'Active'),
    credentialCase('iam.reactivateSshPublicKey', 'ssh', 'Inactive'),
    credentialCase('iam.deactivateSigningCertificate', 'cert', 'Active'),
    credentialCase('iam.reactivateSigningCertificate', 'cert', 'Inactive'),
    credentialCase('iam.deactivateServiceSpecificCredential', 'service', 'Active'),
    credentialCase('iam.reactivateServiceSpecificCredential', 'service', 'Inactive'),
    consoleContainmentCase('iam.containConsoleAccess', false),
    consoleContainmentCase('iam.releaseConsoleAccess', true),
    ownerTagCase('user', 'new'),
    ownerTagCase('role', null),
    secretOwnerTagCase('new'),
    secretOwnerTagCase(null),
    keySecretCase('secrets.rotateAccessKeySecret', false, [{ service: 'secretsmanager', action: 'PutSecretValue' }]),
    // The restore's writes: the replaced key back on, then AWSCURRENT back; swallowing both leaves the secret as the rotation left it.
    keySecretCase('secrets.restoreAccessKeySecret', true, [
      { service: 'iam', action: 'UpdateAccessKey' },
      { service: 'secretsmanager', action: 'UpdateSecretVersionStage' },
    ]),
  ];
}

// ---- the action steps, as the workflow runs them ----

function actionOf(kind: string): ConnectorAction {
  return connectorAction(kind);
}

async function readBefore(action: ConnectorAction, target: Target): Promise<{ params: JsonObject; before: JsonObject; after: JsonObject }> {
  const params = validatedParams(action, target.params);
  const before = await action.read(gateway, params);
  // The connector's read and the independent read-back agree before anything is written.
  expect(before).toEqual(await target.observe());
  return { params, before, after: action.desiredState(params, before) };
}

/** Verify as the workflow does: poll a little (IAM propagation), converged or not. */
async function verifyConverged(action: ConnectorAction, params: JsonObject, after: JsonObject, timeoutMs = 2_000): Promise<boolean> {
  const outcome = await waitUntil(() => action.verify(gateway, params, after), (r) => r.converged, timeoutMs);
  return outcome.done;
}

async function rejection(promise: Promise<unknown>): Promise<AppError> {
  const error = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  expect(error, 'the write should have been rejected').not.toBeNull();
  expect(isAppError(error), `expected an AppError, got ${String(error)}`).toBe(true);
  return error as AppError;
}

/** Runs a reversible kind's inverse on the written target: it reads the written state and restores `before`. */
async function expectInverseRestores(inverse: ActionInvocation | null, state: { written: JsonObject; before: JsonObject; target: Target }): Promise<void> {
  if (!inverse) throw new Error('a reversible kind has an inverse');
  const undo = actionOf(inverse.kind);
  const undoParams = validatedParams(undo, inverse.params);
  const undoBefore = await undo.read(gateway, undoParams);
  expect(undoBefore, 'the inverse reads the written state').toEqual(state.written);
  await undo.write(gateway, undoParams);
  expect(await verifyConverged(undo, undoParams, undo.desiredState(undoParams, undoBefore)), 'inverse verified').toBe(true);
  expect(await state.target.observe(), 'read back after the inverse').toEqual(state.before);
}

const CASES: readonly Case[] = buildCases();
/** The fault cases take one target per kind (its first case). */
const FIRST_OF_EACH_KIND: readonly Case[] = [...new Map(CASES.map((c) => [c.kind, c] as const)).values()];

/** Gateway fault hits so far, by mode: a fault case checks its rule was actually hit. */
async function faultHits(mode: string): Promise<number> {
  const reply = await fetch(`${stack.endpoint}/_nhigov/stats`);
  const stats = (await reply.json()) as { faults?: Record<string, number> };
  return stats.faults?.[mode] ?? 0;
}

describe('connectors against the local stack', () => {
  beforeAll(async () => {
    stack = await startTestStack();
    direct = stack.direct;
    gateway = connectorContext(stack.endpoint);
    directCtx = connectorContext(`http://127.0.0.1:${stack.port + 1}`);
    groups = { member: unique('devs'), other: unique('ops') };
    await Promise.all([direct.iam.send(new CreateGroupCommand({ GroupName: groups.member })), direct.iam.send(new CreateGroupCommand({ GroupName: groups.other }))]);
    const policy = await direct.iam.send(new CreatePolicyCommand({ PolicyName: unique('app-read'), PolicyDocument: JSON.stringify(INLINE_DOCUMENT) }));
    managedPolicyArn = policy.Policy?.Arn ?? '';
  });
  afterAll(() => stack?.stop());

  it('has a case for every registered action kind (and a connector example for each)', () => {
    const kinds = (CONNECTOR_ACTIONS as unknown as readonly ConnectorAction[]).map((a) => a.kind);
    expect(kinds.length).toBeGreaterThan(0);
    const covered = new Set(CASES.map((c) => c.kind));
    expect(kinds.filter((k) => !covered.has(k)), 'kinds without an integration case').toEqual([]);
    expect(kinds.filter((k) => !(CONNECTOR_EXAMPLES[k]?.length ?? 0)), 'kinds without a connector example').toEqual([]);
    expect([...covered].filter((k) => !kinds.includes(k)), 'cases for unregistered kinds').toEqual([]);
  });

  // No fault rule is active while these run (the fault describe below runs after), so they may run side by side.
  describe.concurrent('read → write → verify, read back from moto; rewrite changes nothing; inverse restores `before`', () => {
    for (const c of CASES) {
      // An irreversible kind has no inverse to run: its case checks that, and says so in its name.
      const irreversible = actionOf(c.kind).irreversible;
      it(`${c.kind} (${c.name})${irreversible ? ': irreversible, no inverse' : ''}`, async () => {
        const action = actionOf(c.kind);
        const target = await c.setup();
        const { params, before, after } = await readBefore(action, target);
        expect(after, 'the case must change something').not.toEqual(before);

        await action.write(gateway, params);
        expect(await verifyConverged(action, params, after), 'verify converged').toBe(true);
        const written = await target.observe();
        expect(written, 'read back from moto').toEqual(after);

        await action.write(gateway, params);
        expect(await target.observe(), 'after a second write').toEqual(written);
        expect((await action.verify(gateway, params, after)).converged, 'still verified after a second write').toBe(true);

        const inverse = action.inverse(params, before);
        if (irreversible) expect(inverse, 'an irreversible kind has no inverse').toBeNull();
        else await expectInverseRestores(inverse, { written, before, target });
      });
    }
  });

  // Fault rules are global to the stack: one case at a time, each clearing its rules.
  describe('gateway faults on the write API', () => {
    afterEach(async () => stack?.clearFaults());

    for (const c of FIRST_OF_EACH_KIND) {
      it(`${c.kind}: swallowed write → verify not converged, target unchanged (WRITE_NOT_APPLIED)`, async () => {
        const action = actionOf(c.kind);
        const target = await c.setup();
        const { params, before, after } = await readBefore(action, target);
        const hitsBefore = await faultHits('swallow');
        for (const api of c.writeApis(params)) await stack.fault({ ...api, mode: 'swallow', times: 10 });
        await action.write(gateway, params);
        expect(await faultHits('swallow'), 'the swallow rule was hit').toBeGreaterThan(hitsBefore);
        await stack.clearFaults();
        const result = await action.verify(gateway, params, after);
        expect(result.converged, `verify after a swallowed write observed ${JSON.stringify(result.observed)}`).toBe(false);
        expect(await target.observe(), 'target unchanged').toEqual(before);
      });

      for (const { mode, reason, transient } of [
        { mode: 'accessDenied', reason: 'CONNECTOR_ACCESS_DENIED', transient: false },
        { mode: 'throttle', reason: 'THROTTLED', transient: true },
      ] as const) {
        it(`${c.kind}: ${mode} → ${reason} (${transient ? 'retryable' : 'not retryable'}), target unchanged`, async () => {
          const action = actionOf(c.kind);
          const target = await c.setup();
          const { params, before } = await readBefore(action, target);
          const [api] = c.writeApis(params);
          const hitsBefore = await faultHits(mode);
          await stack.fault({ ...api!, mode, times: 1 });
          const error = await rejection(action.write(gateway, params));
          expect(await faultHits(mode), 'the fault rule was hit').toBe(hitsBefore + 1);
          expect(error.reasonCode, error.message).toBe(reason);
          expect(action.classify(error)).toBe(reason);
          expect(TRANSIENT_CODES.includes(error.reasonCode)).toBe(transient);
          expect(REASON_CODES[error.reasonCode].retryable).toBe(transient);
          // Refused at its first write call: the target's state is what it was.
          expect(await target.observe(), 'target unchanged').toEqual(before);
        });
      }
    }
  });
});

import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  AddUserToGroupCommand,
  AttachGroupPolicyCommand,
  AttachUserPolicyCommand,
  CreateGroupCommand,
  CreatePolicyCommand,
  CreatePolicyVersionCommand,
  CreateUserCommand,
  GetPolicyCommand,
  GetPolicyVersionCommand,
  ListGroupsForUserCommand,
  ListPolicyVersionsCommand,
  PutGroupPolicyCommand,
  CreateLoginProfileCommand,
  ListAttachedUserPoliciesCommand,
  PutUserPolicyCommand,
  GetUserPolicyCommand,
} from '@aws-sdk/client-iam';
import { startTestStack, type TestStack } from '../support/local-stack.js';
import { createGovernedUser, eventFile, keyStatuses, ownerEmail, unique } from '../support/estate.js';
import { activatePolicyVariant, APPROVER, type ShowDoc } from '../support/approvals.js';
import { credentialStates } from '../support/credentials.js';

// moto does not load AWS managed policies: customer-managed stand-ins for ReadOnlyAccess and AdministratorAccess.
let READ_ONLY = '';
let ADMIN = '';
/** A group whose inline policy grants all of IAM, and one that only reads. */
let IAM_ADMINS = '';
let READERS = '';
/**
 * Customer-managed policies the baseline allows by ARN, each granting all of IAM besides reading
 * S3: OWN attached to the second user only (edited), SHARED also to another user (detached).
 * DEPLOYERS is a group whose attached managed policy the baseline does not allow.
 */
let OWN = '';
/** Like OWN, for the rollback that finds the policy edited again since. */
let OWN_EDITED_LATER = '';
let SHARED = '';
let DEPLOYERS = '';
let DEPLOY_POLICY = '';
const GRANTING_DOCUMENT = {
  Version: '2012-10-17',
  Statement: [
    { Sid: 'AllOfIam', Effect: 'Allow', Action: 'iam:*', Resource: '*' },
    { Sid: 'ReadObjects', Effect: 'Allow', Action: ['s3:GetObject'], Resource: 'arn:aws:s3:::app-bucket/*' },
  ],
};
const APP_DOCUMENT = {
  Version: '2012-10-17',
  Statement: [
    { Sid: 'Everything', Effect: 'Allow', Action: '*', Resource: '*' },
    { Sid: 'ReadObjects', Effect: 'Allow', Action: ['s3:GetObject'], Resource: 'arn:aws:s3:::app-bucket/*' },
  ],
};

describe('baselines: reconcile removes what an NHI holds beyond its declared permissions, and a rollback puts it back exactly', () => {
  let stack: TestStack;
  beforeAll(async () => {
    stack = await startTestStack();
    const managed = async (name: string, Action: string) =>
      (await stack.direct.iam.send(new CreatePolicyCommand({ PolicyName: unique(name), PolicyDocument: JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action, Resource: '*' }] }) }))).Policy?.Arn ?? '';
    READ_ONLY = await managed('read-only', 's3:Get*');
    ADMIN = await managed('administrator', '*');
    const group = async (name: string, Action: string) => {
      const GroupName = unique(name);
      await stack.direct.iam.send(new CreateGroupCommand({ GroupName }));
      await stack.direct.iam.send(new PutGroupPolicyCommand({ GroupName, PolicyName: 'grants', PolicyDocument: JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action, Resource: '*' }] }) }));
      return GroupName;
    };
    IAM_ADMINS = await group('iam-admins', 'iam:*');
    READERS = await group('readers', 's3:GetObject');
    // Tagged as a deployment would need it: the connector may write only policies tagged nhi-governed=true (moto does not check).
    const granting = async (name: string) =>
      (await stack.direct.iam.send(new CreatePolicyCommand({ PolicyName: unique(name), PolicyDocument: JSON.stringify(GRANTING_DOCUMENT), Tags: [{ Key: 'nhi-governed', Value: 'true' }] }))).Policy?.Arn ?? '';
    OWN = await granting('own');
    OWN_EDITED_LATER = await granting('own-later');
    SHARED = await granting('shared');
    const bystander = unique('bystander');
    await stack.direct.iam.send(new CreateUserCommand({ UserName: bystander }));
    await stack.direct.iam.send(new AttachUserPolicyCommand({ UserName: bystander, PolicyArn: SHARED }));
    DEPLOY_POLICY = await managed('deploy', 's3:PutObject');
    DEPLOYERS = unique('deployers');
    await stack.direct.iam.send(new CreateGroupCommand({ GroupName: DEPLOYERS }));
    await stack.direct.iam.send(new AttachGroupPolicyCommand({ GroupName: DEPLOYERS, PolicyArn: DEPLOY_POLICY }));
    activatePolicyVariant(stack, 'with-baselines', (policy) => {
      policy.baselines = [{ name: 'service-users', match: { tags: { env: 'dev' } }, allowManagedPolicies: [READ_ONLY, OWN, OWN_EDITED_LATER, SHARED], forbidActions: ['*', 'iam:*'], maxActiveAccessKeys: 1, consoleAccess: false }];
    });
  });
  afterAll(() => stack?.stop());

  async function attached(userName: string): Promise<string[]> {
    return ((await stack.direct.iam.send(new ListAttachedUserPoliciesCommand({ UserName: userName }))).AttachedPolicies ?? []).map((p) => p.PolicyArn ?? '').sort();
  }
  async function groupsOf(userName: string): Promise<string[]> {
    return ((await stack.direct.iam.send(new ListGroupsForUserCommand({ UserName: userName }))).Groups ?? []).map((g) => g.GroupName ?? '').sort();
  }
  /** The default version of a managed policy and its document, straight from moto. */
  async function defaultVersion(policyArn: string): Promise<{ versionId: string; document: unknown }> {
    const versionId = (await stack.direct.iam.send(new GetPolicyCommand({ PolicyArn: policyArn }))).Policy?.DefaultVersionId ?? '';
    const version = await stack.direct.iam.send(new GetPolicyVersionCommand({ PolicyArn: policyArn, VersionId: versionId }));
    return { versionId, document: JSON.parse(decodeURIComponent(version.PolicyVersion?.Document ?? '{}')) };
  }
  async function inline(userName: string): Promise<unknown> {
    return JSON.parse(decodeURIComponent((await stack.direct.iam.send(new GetUserPolicyCommand({ UserName: userName, PolicyName: 'app' }))).PolicyDocument ?? '{}'));
  }

  it('admin policy attached, "*" inline, a group granting iam:*, two keys, console password → VERIFIED with only what the baseline allows; rollback restores every removed permission', async () => {
    const user = await createGovernedUser(stack.direct, { owner: ownerEmail(), env: 'dev', keys: 2 });
    for (const PolicyArn of [ADMIN, READ_ONLY]) await stack.direct.iam.send(new AttachUserPolicyCommand({ UserName: user.userName, PolicyArn }));
    await stack.direct.iam.send(new PutUserPolicyCommand({ UserName: user.userName, PolicyName: 'app', PolicyDocument: JSON.stringify(APP_DOCUMENT) }));
    await stack.direct.iam.send(new CreateLoginProfileCommand({ UserName: user.userName, Password: `Pw-${randomUUID()}` }));
    for (const GroupName of [IAM_ADMINS, READERS]) await stack.direct.iam.send(new AddUserToGroupCommand({ UserName: user.userName, GroupName }));

    const event = { id: unique('reconcile'), source: 'nhigov', 'detail-type': 'Reconcile Requested', detail: { scope: { nhi: user.userName } } };
    const { changeId } = stack.json<{ changeId: string }>(['event', eventFile(stack.stateDir, event)]);
    const done = stack.json<ShowDoc>(['wait', changeId, '--timeout', '120']);
    expect(done.status).toBe('VERIFIED');
    expect(done.actions.map((a) => a.kind).sort()).toEqual(['iam.containConsoleAccess', 'iam.deactivateAccessKey', 'iam.detachManagedPolicy', 'iam.putInlinePolicy', 'iam.removeUserFromGroup']);
    expect(done.actions.every((a) => a.status === 'VERIFIED')).toBe(true);

    // Read back from IAM: only the allowed policy, the "*" statement gone and the other kept, one active key, the console contained.
    expect(await attached(user.userName)).toEqual([READ_ONLY]);
    expect(await inline(user.userName)).toEqual({ ...APP_DOCUMENT, Statement: [APP_DOCUMENT.Statement[1]] });
    expect(Object.values(await keyStatuses(stack.direct, user.userName)).sort()).toEqual(['Active', 'Inactive']);
    expect(await credentialStates(stack.direct, user.userName)).toMatchObject({ loginProfile: true, consoleContained: true });
    expect(await groupsOf(user.userName), 'left the group granting iam:*, kept the other').toEqual([READERS]);

    const rollback = stack.json<{ changeId: string }>(['rollback', changeId, '--as', 'requester@example.com']);
    expect(stack.json<ShowDoc>(['wait', rollback.changeId, '--timeout', '90']).status).toBe('AWAITING_APPROVAL');
    stack.json(['approve', rollback.changeId, '--as', APPROVER]);
    expect(stack.json<ShowDoc>(['wait', rollback.changeId, '--timeout', '120']).status).toBe('ROLLED_BACK');
    expect(await attached(user.userName)).toEqual([ADMIN, READ_ONLY].sort());
    expect(await inline(user.userName), 'the exact previous document').toEqual(APP_DOCUMENT);
    expect(Object.values(await keyStatuses(stack.direct, user.userName))).toEqual(['Active', 'Active']);
    expect(await credentialStates(stack.direct, user.userName)).toMatchObject({ loginProfile: true, consoleContained: false });
    expect(await groupsOf(user.userName)).toEqual([IAM_ADMINS, READERS].sort());
  });

  it('customer-managed policies: the NHI\'s own edited to a new default version, a shared one detached; a group whose attached policy is not allowed left → VERIFIED; rollback makes the previous version default again and restores the rest', async () => {
    const user = await createGovernedUser(stack.direct, { owner: ownerEmail(), env: 'dev', keys: 1 });
    for (const PolicyArn of [OWN, SHARED]) await stack.direct.iam.send(new AttachUserPolicyCommand({ UserName: user.userName, PolicyArn }));
    for (const GroupName of [DEPLOYERS, READERS]) await stack.direct.iam.send(new AddUserToGroupCommand({ UserName: user.userName, GroupName }));

    const event = { id: unique('reconcile'), source: 'nhigov', 'detail-type': 'Reconcile Requested', detail: { scope: { nhi: user.userName } } };
    const { changeId } = stack.json<{ changeId: string }>(['event', eventFile(stack.stateDir, event)]);
    const done = stack.json<ShowDoc & { plan: { actions: Array<{ kind: string; before: unknown }>; findings: Array<{ reasonCode: string; data?: { excess?: unknown[] } }> } }>(['wait', changeId, '--timeout', '120']);
    expect(done.status).toBe('VERIFIED');
    expect(done.actions.map((a) => a.kind).sort()).toEqual(['iam.detachManagedPolicy', 'iam.editManagedPolicy', 'iam.removeUserFromGroup']);
    expect(done.actions.every((a) => a.status === 'VERIFIED')).toBe(true);
    // The plan fingerprints the edit by the default version it saw and that version's document; the finding says why each went.
    expect(done.plan.actions.find((a) => a.kind === 'iam.editManagedPolicy')?.before).toMatchObject({ versionId: 'v1', versionIsDefault: true, attachmentCount: 1 });
    expect(done.plan.findings.find((f) => f.reasonCode === 'EXCESSIVE_PRIVILEGE')?.data?.excess).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ kind: 'iam.editManagedPolicy', policyArn: OWN, forbidden: ['iam:*'], statementsRemoved: 1 }),
        expect.objectContaining({ kind: 'iam.detachManagedPolicy', policyArn: SHARED, detachedBecause: expect.stringMatching(/attached to 2 principals/) }),
        expect.objectContaining({ kind: 'iam.removeUserFromGroup', groupName: DEPLOYERS, groupPolicies: [{ managedPolicy: DEPLOY_POLICY, allowed: false }] }),
      ]),
    );

    // Read back from IAM: the own policy's new default keeps only the allowed statement and is still attached; the shared one is off this user, unchanged.
    const edited = await defaultVersion(OWN);
    expect(edited.versionId).not.toBe('v1');
    expect(edited.document).toEqual({ ...GRANTING_DOCUMENT, Statement: [GRANTING_DOCUMENT.Statement[1]] });
    expect(await attached(user.userName)).toEqual([OWN]);
    expect(await defaultVersion(SHARED)).toEqual({ versionId: 'v1', document: GRANTING_DOCUMENT });
    expect(await groupsOf(user.userName), 'left the group whose attached policy is not allowed').toEqual([READERS]);

    const rollback = stack.json<{ changeId: string }>(['rollback', changeId, '--as', 'requester@example.com']);
    expect(stack.json<ShowDoc>(['wait', rollback.changeId, '--timeout', '90']).status).toBe('AWAITING_APPROVAL');
    stack.json(['approve', rollback.changeId, '--as', APPROVER]);
    expect(stack.json<ShowDoc>(['wait', rollback.changeId, '--timeout', '120']).status).toBe('ROLLED_BACK');
    expect(await defaultVersion(OWN), 'the exact previous version default again').toEqual({ versionId: 'v1', document: GRANTING_DOCUMENT });
    // Never a version deleted: v1 and the edit's version are both there.
    expect(((await stack.direct.iam.send(new ListPolicyVersionsCommand({ PolicyArn: OWN }))).Versions ?? []).map((v) => v.VersionId).sort()).toEqual(['v1', edited.versionId].sort());
    expect(await attached(user.userName)).toEqual([OWN, SHARED].sort());
    expect(await groupsOf(user.userName)).toEqual([DEPLOYERS, READERS].sort());
  });

  it('a rollback of a policy edited again since its edit stops PLAN_STALE, and leaves the later version default', async () => {
    const user = await createGovernedUser(stack.direct, { owner: ownerEmail(), env: 'dev', keys: 1 });
    await stack.direct.iam.send(new AttachUserPolicyCommand({ UserName: user.userName, PolicyArn: OWN_EDITED_LATER }));
    const event = { id: unique('reconcile'), source: 'nhigov', 'detail-type': 'Reconcile Requested', detail: { scope: { nhi: user.userName } } };
    const { changeId } = stack.json<{ changeId: string }>(['event', eventFile(stack.stateDir, event)]);
    const done = stack.json<ShowDoc>(['wait', changeId, '--timeout', '120']);
    expect([done.status, done.actions.map((a) => a.kind)]).toEqual(['VERIFIED', ['iam.editManagedPolicy']]);

    const later = { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 's3:ListBucket', Resource: '*' }] };
    const made = await stack.direct.iam.send(new CreatePolicyVersionCommand({ PolicyArn: OWN_EDITED_LATER, PolicyDocument: JSON.stringify(later), SetAsDefault: true }));
    const rollback = stack.json<{ changeId: string }>(['rollback', changeId, '--as', 'requester@example.com']);
    expect(stack.json<ShowDoc>(['wait', rollback.changeId, '--timeout', '90']).status).toBe('AWAITING_APPROVAL');
    stack.json(['approve', rollback.changeId, '--as', APPROVER]);
    const refused = stack.json<ShowDoc>(['wait', rollback.changeId, '--timeout', '120']);
    expect(refused.status).not.toBe('ROLLED_BACK');
    expect(refused.reasonCodes).toContain('PLAN_STALE');
    expect(await defaultVersion(OWN_EDITED_LATER), 'the later version stays default').toEqual({ versionId: made.PolicyVersion?.VersionId, document: later });
  });
});

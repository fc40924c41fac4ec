import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AddUserToGroupCommand, AttachUserPolicyCommand, CreateGroupCommand, CreatePolicyCommand, ListGroupsForUserCommand, PutGroupPolicyCommand, CreateLoginProfileCommand, ListAttachedUserPoliciesCommand, PutUserPolicyCommand, GetUserPolicyCommand } from '@aws-sdk/client-iam';
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
    activatePolicyVariant(stack, 'with-baselines', (policy) => {
      policy.baselines = [{ name: 'service-users', match: { tags: { env: 'dev' } }, allowManagedPolicies: [READ_ONLY], forbidActions: ['*', 'iam:*'], maxActiveAccessKeys: 1, consoleAccess: false }];
    });
  });
  afterAll(() => stack?.stop());

  async function attached(userName: string): Promise<string[]> {
    return ((await stack.direct.iam.send(new ListAttachedUserPoliciesCommand({ UserName: userName }))).AttachedPolicies ?? []).map((p) => p.PolicyArn ?? '').sort();
  }
  async function groupsOf(userName: string): Promise<string[]> {
    return ((await stack.direct.iam.send(new ListGroupsForUserCommand({ UserName: userName }))).Groups ?? []).map((g) => g.GroupName ?? '').sort();
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
});

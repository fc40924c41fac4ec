import type { IAMClient } from '@aws-sdk/client-iam';
import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { AssumeRoleCommandInput, STSClient } from '@aws-sdk/client-sts';
import { describe, expect, it } from 'vitest';
import { AccountSessions } from '../../../lambdas/connectors/account-sessions.js';
import type { ConnectorContext } from '../../../lambdas/connectors/types.js';
import { campaignIdFor } from '../../../lambdas/domain/attestation.js';
import { isAppError } from '../../../lambdas/domain/reasons.js';
import { readCampaignEstates } from '../../../lambdas/handlers/attestation-estates.js';
import { awsError } from '../../fixtures/fake-aws.js';
import { ACCOUNT } from '../../fixtures/estate-builder.js';
import { policyWith } from '../../fixtures/policies.js';

const MEMBER_A = '111111111111';
const MEMBER_B = '222222222222';
const CAMPAIGN = campaignIdFor('estates');

/** STS that refuses every AssumeRole, recording what was asked. */
function refusingSts(): { sts: STSClient; asked: AssumeRoleCommandInput[] } {
  const asked: AssumeRoleCommandInput[] = [];
  const send = async (cmd: { input: AssumeRoleCommandInput }): Promise<never> => {
    asked.push(cmd.input);
    throw awsError('AccessDenied', 403);
  };
  return { sts: { send } as unknown as STSClient, asked };
}

/** The stack's own account in bulk: one governed user, no role, no secret; any other call fails the test. */
function hubWithOneUser(): ConnectorContext {
  const answer = async (cmd: { constructor: { name: string } }): Promise<unknown> => {
    switch (cmd.constructor.name) {
      case 'GetAccountAuthorizationDetailsCommand':
        return { UserDetailList: [{ UserName: 'svc-a', Arn: `arn:aws:iam::${ACCOUNT}:user/svc-a`, Tags: [{ Key: 'nhi-governed', Value: 'true' }, { Key: 'owner', Value: 'alice@example.com' }] }], RoleDetailList: [], IsTruncated: false };
      case 'ListSecretsCommand':
        return { SecretList: [] };
      default:
        throw new Error(`a campaign's read made ${cmd.constructor.name}`);
    }
  };
  return { iam: { send: answer } as unknown as IAMClient, secrets: { send: answer } as unknown as SecretsManagerClient, now: () => new Date('2026-07-01T00:00:00Z') };
}

describe('readCampaignEstates', () => {
  it('reads the stack\'s own account and reports each member account whose role refuses, asking with the campaign id as the read-only session', async () => {
    const hub = hubWithOneUser();
    const { sts, asked } = refusingSts();
    const rt = { home: { id: ACCOUNT, partition: 'aws' }, connectors: hub, sessions: new AccountSessions(hub, sts) };
    const read = await readCampaignEstates(rt, policyWith(() => ({ accounts: [{ id: MEMBER_A }, { id: MEMBER_B, roleName: 'gov-reader' }] })), CAMPAIGN);
    expect(read.estates.map((e) => [e.account, e.member, e.snapshot.users.map((u) => u.name)])).toEqual([[ACCOUNT, false, ['svc-a']]]);
    expect(read.unreadable.map((u) => [u.account, u.roleArn])).toEqual([
      [MEMBER_A, `arn:aws:iam::${MEMBER_A}:role/nhigov-member`],
      [MEMBER_B, `arn:aws:iam::${MEMBER_B}:role/gov-reader`],
    ]);
    expect(read.unreadable.every((u) => u.message.includes(`account ${u.account}`))).toBe(true);
    expect(asked.map((a) => [a.RoleSessionName, a.SourceIdentity])).toEqual([
      [CAMPAIGN, 'nhigov-read-only'],
      [CAMPAIGN, 'nhigov-read-only'],
    ]);
  });

  it('without a known home account reads only its own, and refuses a policy that governs member accounts', async () => {
    const hub = hubWithOneUser();
    const rt = { home: null, connectors: hub, sessions: new AccountSessions(hub, refusingSts().sts) };
    const own = await readCampaignEstates(rt, policyWith(() => ({})), CAMPAIGN);
    expect(own.estates.map((e) => [e.account, e.snapshot.users.map((u) => u.name)])).toEqual([[undefined, ['svc-a']]]);
    const refused = await readCampaignEstates(rt, policyWith(() => ({ accounts: [{ id: MEMBER_A }] })), CAMPAIGN).catch((error: unknown) => error);
    expect(isAppError(refused) && refused.reasonCode).toBe('INPUT_INVALID');
  });
});

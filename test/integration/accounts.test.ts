import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UpdateAccessKeyCommand } from '@aws-sdk/client-iam';
import { memberAccountClients, LOCAL_ACCOUNT_ID, type AwsClients } from '../../local/aws-clients.js';
import { activatePolicyVariant, APPROVER, sentMail, type ShowDoc } from '../support/approvals.js';
import { createGovernedRole, createGovernedUser, eventFile, keyStatuses, ownerEmail, terminationEvent } from '../support/estate.js';
import { startTestStack, type TestStack } from '../support/local-stack.js';

const MEMBER_A = '111111111111';
const MEMBER_B = '222222222222';
const REQUESTER = 'oncall@example.com';

type AccountDoc = ShowDoc & { plan: { findings: Array<{ nhi: string; account?: string; reasonCode: string; message: string }> } };

/**
 * Many accounts on the local stack: moto keeps a separate IAM per account and hands out an
 * account's credentials from AssumeRole, so the hub reaches member accounts through the same
 * AssumeRole code path as in AWS, and each result is read back with that account's own credentials.
 */
describe('accounts: one hub governs member accounts', () => {
  let stack: TestStack;
  const inAccount = new Map<string, Pick<AwsClients, 'iam'>>();

  beforeAll(async () => {
    stack = await startTestStack();
    activatePolicyVariant(stack, 'three-accounts', (policy) => {
      policy.accounts = [{ id: MEMBER_A }, { id: MEMBER_B, roleName: 'nhigov-member' }];
    });
    inAccount.set(LOCAL_ACCOUNT_ID, stack.direct);
    for (const account of [MEMBER_A, MEMBER_B]) inAccount.set(account, await memberAccountClients(`http://127.0.0.1:${stack.port + 1}`, account));
  });
  afterAll(() => stack?.stop());

  /** One governed user with a key, owned by `owner`, in each account (the same name in each). */
  async function userInEveryAccount(owner: string): Promise<{ userName: string; keys: Map<string, string> }> {
    const userName = `svc-${owner.split('@')[0]}`;
    const keys = new Map<string, string>();
    for (const [account, clients] of inAccount) keys.set(account, (await createGovernedUser(clients, { owner, name: userName, keys: 1 })).keyIds[0] ?? '');
    return { userName, keys };
  }

  async function statusIn(account: string, userName: string): Promise<string[]> {
    const clients = inAccount.get(account);
    if (!clients) throw new Error(`no clients for ${account}`);
    return Object.values(await keyStatuses(clients, userName));
  }

  let verified: { changeId: string; userName: string };
  let verifiedKeys = new Map<string, string>();

  it('a termination acts in every governed account: each key is read back Inactive with its own account\'s credentials', async () => {
    const owner = ownerEmail('leaver');
    const { userName, keys } = await userInEveryAccount(owner);
    await createGovernedRole(inAccount.get(MEMBER_A) ?? stack.direct, { owner });
    const started = Date.now();
    const { changeId } = stack.json<{ changeId: string }>(['event', eventFile(stack.stateDir, terminationEvent(owner))]);
    const done = stack.json<AccountDoc>(['wait', changeId, '--timeout', '120']);
    console.log(`[accounts] termination across 3 accounts: ${done.status} in ${Date.now() - started} ms, ${done.actions.length} actions`);
    expect(done.status).toBe('VERIFIED');
    for (const account of [LOCAL_ACCOUNT_ID, MEMBER_A, MEMBER_B]) expect(await statusIn(account, userName)).toEqual(['Inactive']);

    const deactivations = done.actions.filter((a) => a.kind === 'iam.deactivateAccessKey');
    expect(deactivations.map((a) => [a.target.account, a.target.id, a.status]).sort()).toEqual(
      [LOCAL_ACCOUNT_ID, MEMBER_A, MEMBER_B].map((account) => [account, keys.get(account), 'VERIFIED']).sort(),
    );
    // A member account's NHIs are named by ARN, so the same name in two accounts is never confused.
    expect(deactivations.find((a) => a.target.account === MEMBER_B)?.target.nhi).toBe(`arn:aws:iam::${MEMBER_B}:user/${userName}`);
    expect(done.actions.filter((a) => a.target.type === 'role').every((a) => a.target.account === MEMBER_A)).toBe(true);
    // The evidence names the account of every write.
    const attempted = done.evidence.filter((e) => e.type === 'WRITE_ATTEMPTED').map((e) => (e.data.target as { account?: string }).account);
    expect(new Set(attempted)).toEqual(new Set([LOCAL_ACCOUNT_ID, MEMBER_A, MEMBER_B]));
    expect(stack.cli(['evidence', 'verify', changeId]).code).toBe(0);
    verified = { changeId, userName };
    verifiedKeys = keys;
  });

  it('a reconcile of everything reads each account in bulk and puts back a key switched on by hand in a member account', async () => {
    const clients = inAccount.get(MEMBER_A);
    const keyId = verifiedKeys.get(MEMBER_A) ?? '';
    await clients?.iam.send(new UpdateAccessKeyCommand({ UserName: verified.userName, AccessKeyId: keyId, Status: 'Active' }));
    const event = { id: `reconcile-${verified.changeId}`, source: 'nhigov', 'detail-type': 'Reconcile Requested', detail: { scope: 'all' } };
    const { changeId } = stack.json<{ changeId: string }>(['event', eventFile(stack.stateDir, event)]);
    const done = stack.json<ShowDoc>(['wait', changeId, '--timeout', '120']);
    expect(done.status).toBe('VERIFIED');
    expect(done.actions.map((a) => [a.kind, a.target.account, a.target.id, a.status])).toEqual([['iam.deactivateAccessKey', MEMBER_A, keyId, 'VERIFIED']]);
    expect(await statusIn(MEMBER_A, verified.userName)).toEqual(['Inactive']);
  });

  it('a rollback restores the keys in each account', async () => {
    const requested = stack.json<{ changeId: string }>(['rollback', verified.changeId, '--as', REQUESTER, '--reason', 'wrong person']);
    expect(stack.json<ShowDoc>(['wait', requested.changeId, '--timeout', '60']).status).toBe('AWAITING_APPROVAL');
    stack.json(['approve', requested.changeId, '--as', APPROVER]);
    const done = stack.json<AccountDoc>(['wait', requested.changeId, '--timeout', '120']);
    expect(done.status).toBe('ROLLED_BACK');
    for (const account of [LOCAL_ACCOUNT_ID, MEMBER_A, MEMBER_B]) expect(await statusIn(account, verified.userName)).toEqual(['Active']);
    expect(new Set(done.actions.map((a) => a.target.account))).toEqual(new Set([LOCAL_ACCOUNT_ID, MEMBER_A, MEMBER_B]));
  });

  it('a member account whose role is denied fails only there: the others are verified, the change escalates naming the account', async () => {
    const owner = ownerEmail('leaver');
    const { userName } = await userInEveryAccount(owner);
    await stack.fault({ service: 'sts', action: 'AssumeRole', mode: 'accessDenied', times: 1000, account: MEMBER_B });
    try {
      const { changeId } = stack.json<{ changeId: string }>(['event', eventFile(stack.stateDir, terminationEvent(owner))]);
      const done = stack.json<AccountDoc>(['wait', changeId, '--timeout', '120']);
      expect(done.status).toBe('ESCALATED');
      expect(done.reasonCodes).toContain('CONNECTOR_ACCESS_DENIED');
      expect(await statusIn(LOCAL_ACCOUNT_ID, userName)).toEqual(['Inactive']);
      expect(await statusIn(MEMBER_A, userName)).toEqual(['Inactive']);
      expect(await statusIn(MEMBER_B, userName)).toEqual(['Active']);
      expect(done.actions.every((a) => a.status === 'VERIFIED' && a.target.account !== MEMBER_B)).toBe(true);
      expect(done.plan.findings).toContainEqual(expect.objectContaining({ account: MEMBER_B, reasonCode: 'CONNECTOR_ACCESS_DENIED', message: expect.stringContaining(`account ${MEMBER_B}`) }));
      // Routed as the reason code says, with the account named.
      const mail = (await sentMail(stack)).find((m) => m.destinations.ToAddresses?.includes('iam-team@example.com') && m.subject.includes(changeId));
      expect(mail?.body).toContain(`CONNECTOR_ACCESS_DENIED in account ${MEMBER_B}`);
    } finally {
      await stack.clearFaults();
    }
  });
});

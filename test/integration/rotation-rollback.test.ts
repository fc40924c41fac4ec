import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GetSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import { startTestStack, type TestStack } from '../support/local-stack.js';
import { createGovernedUser, createKeySecret, eventFile, keyStatuses, ownerEmail, terminationEvent } from '../support/estate.js';
import { activatePolicyVariant, waitForStatus } from '../support/approvals.js';

/** A rotation is all-or-nothing: when its last step never shows, it is rolled back to the previous key and secret version. */
describe('rotation whose last step fails', () => {
  let stack: TestStack;
  beforeAll(async () => {
    stack = await startTestStack();
    activatePolicyVariant(stack, 'fast-verify', (policy) => {
      policy.failureHandling.verifyTimeoutSeconds = 3;
    });
  });
  afterAll(() => stack?.stop());

  it('ends ROLLED_BACK with the old key active, the new one inactive and the previous secret version current', async () => {
    const secretOwner = ownerEmail('secret-owner');
    // The user is someone else's: the termination touches it only through the secret's rotation.
    const user = await createGovernedUser(stack.direct, { owner: ownerEmail('user-owner'), env: 'dev', keys: 1 });
    const oldKey = user.keys[0]!;
    const secretName = await createKeySecret(stack.direct, { owner: secretOwner, userName: user.userName, key: oldKey });
    const before = await stack.direct.secrets.send(new GetSecretValueCommand({ SecretId: secretName, VersionStage: 'AWSCURRENT' }));

    // The rotation's last step (deactivating the old key) is swallowed, and so is the rewrite's.
    await stack.fault({ service: 'iam', action: 'UpdateAccessKey', mode: 'swallow', times: 2 });
    const { changeId } = stack.json<{ changeId: string }>(['event', eventFile(stack.stateDir, terminationEvent(secretOwner))]);
    const done = await waitForStatus(stack, changeId, 'ROLLED_BACK', 120_000);

    const rotation = done.actions.find((a) => a.kind === 'secrets.rotateAccessKeySecret');
    expect(rotation).toMatchObject({ status: 'ROLLED_BACK' });
    expect(done.reasonCodes).toContain('WRITE_NOT_APPLIED');
    const types = done.evidence.map((e) => e.type);
    expect(types).toContain('VERIFY_FAILED');
    expect(types).toContain('ROLLBACK_STARTED');
    expect(types).toContain('ROLLED_BACK');
    expect(types.at(-1)).toBe('COMPLETED');

    // Read back: the previous version is AWSCURRENT again and names the old key, which is Active.
    const after = await stack.direct.secrets.send(new GetSecretValueCommand({ SecretId: secretName, VersionStage: 'AWSCURRENT' }));
    expect(after.VersionId).toBe(before.VersionId);
    expect(JSON.parse(after.SecretString ?? '{}').AccessKeyId).toBe(oldKey.AccessKeyId);
    const statuses = await keyStatuses(stack.direct, user.userName);
    expect(statuses[oldKey.AccessKeyId]).toBe('Active');
    const newKeys = Object.entries(statuses).filter(([id]) => id !== oldKey.AccessKeyId);
    expect(newKeys.every(([, status]) => status === 'Inactive')).toBe(true);
  });
});

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GetSecretValueCommand, ListSecretVersionIdsCommand } from '@aws-sdk/client-secrets-manager';
import { verifyChain, type EvidenceEvent } from '../../lambdas/domain/evidence.js';
import { startTestStack, type TestStack } from '../support/local-stack.js';
import { createGovernedUser, createKeySecret, eventFile, keyStatuses, ownerEmail, terminationEvent } from '../support/estate.js';
import { waitForStatus, type ShowDoc } from '../support/approvals.js';

/**
 * A Write handler killed between its write and its evidence (the gateway's `crash` fault: the AWS
 * call lands, the Lambda dies before it hears back, Step Functions sees Lambda.Unknown and runs
 * the Write again). The re-run must not apply the change twice: one new key, not two; one
 * delivered secret version; the evidence tells both attempts.
 */
describe('a Write killed mid-flight and run again does not double-apply', () => {
  let stack: TestStack;
  beforeAll(async () => {
    stack = await startTestStack();
  });
  afterAll(() => stack?.stop());

  async function evidenceOfAction(doc: ShowDoc, kind: string): Promise<EvidenceEvent[]> {
    const action = doc.actions.find((a) => a.kind === kind);
    expect(action, kind).toBeDefined();
    return (doc.evidence as unknown as EvidenceEvent[]).filter((e) => e.actionId === action?.actionId);
  }

  function expectTwoAttemptsOneResult(events: readonly EvidenceEvent[]): void {
    const attempts = events.filter((e) => e.type === 'WRITE_ATTEMPTED');
    expect(attempts.map((e) => e.data.attempt)).toEqual([1, 2]);
    expect(attempts[1]?.data.interruptedAttempt).toBe(1);
    expect(events.filter((e) => e.type === 'WRITTEN').map((e) => e.data.attempt)).toEqual([2]);
    expect(events.filter((e) => e.type === 'VERIFIED')).toHaveLength(1);
    expect(events.filter((e) => e.type === 'WRITE_FAILED')).toEqual([]);
  }

  it('deactivating a key: killed after UpdateAccessKey landed, re-run, VERIFIED with the key Inactive', async () => {
    const owner = ownerEmail('crash');
    const user = await createGovernedUser(stack.direct, { owner, env: 'dev', keys: 1 });
    await stack.fault({ service: 'iam', action: 'UpdateAccessKey', mode: 'crash', times: 1 });
    const { changeId } = stack.json<{ changeId: string }>(['event', eventFile(stack.stateDir, terminationEvent(owner))]);
    const done = await waitForStatus(stack, changeId, 'VERIFIED', 120_000);

    expect(Object.values(await keyStatuses(stack.direct, user.userName))).toEqual(['Inactive']);
    expectTwoAttemptsOneResult(await evidenceOfAction(done, 'iam.deactivateAccessKey'));
    expect(verifyChain(done.evidence as unknown as EvidenceEvent[]).ok).toBe(true);
    expect(stack.json<{ faults: Record<string, number> }>(['stats']).faults.crash).toBeGreaterThanOrEqual(1);
  });

  // Each step of a rotation that leaves something behind if its caller dies right after it.
  it.each([
    ['CreateAccessKey', 'iam'],
    ['PutSecretValue', 'secretsmanager'],
    ['UpdateSecretVersionStage', 'secretsmanager'],
  ] as const)('rotating a key secret: killed after %s landed, re-run, one new key and one new version, VERIFIED', async (action, service) => {
    const secretOwner = ownerEmail('crash-secret');
    const user = await createGovernedUser(stack.direct, { owner: ownerEmail('crash-user'), env: 'dev', keys: 1 });
    const oldKey = user.keys[0]!;
    const secretName = await createKeySecret(stack.direct, { owner: secretOwner, userName: user.userName, key: oldKey });
    const versionsBefore = await versionIds(secretName);

    await stack.fault({ service, action, mode: 'crash', times: 1 });
    const { changeId } = stack.json<{ changeId: string }>(['event', eventFile(stack.stateDir, terminationEvent(secretOwner))]);
    const done = await waitForStatus(stack, changeId, 'VERIFIED', 150_000);
    await stack.clearFaults();

    // Read back: exactly one key besides the old one, Active and held by AWSCURRENT; the old one Inactive.
    const statuses = await keyStatuses(stack.direct, user.userName);
    const newKeys = Object.keys(statuses).filter((id) => id !== oldKey.AccessKeyId);
    expect(newKeys).toHaveLength(1);
    expect(statuses).toEqual({ [oldKey.AccessKeyId]: 'Inactive', [newKeys[0]!]: 'Active' });
    const current = await stack.direct.secrets.send(new GetSecretValueCommand({ SecretId: secretName, VersionStage: 'AWSCURRENT' }));
    expect(JSON.parse(current.SecretString ?? '{}').AccessKeyId).toBe(newKeys[0]);
    // One version added, not one per attempt.
    expect((await versionIds(secretName)).filter((id) => !versionsBefore.includes(id))).toEqual([current.VersionId]);

    expectTwoAttemptsOneResult(await evidenceOfAction(done, 'secrets.rotateAccessKeySecret'));
    expect(verifyChain(done.evidence as unknown as EvidenceEvent[]).ok).toBe(true);
  });

  async function versionIds(secretId: string): Promise<string[]> {
    const out = await stack.direct.secrets.send(new ListSecretVersionIdsCommand({ SecretId: secretId, IncludeDeprecated: true }));
    return (out.Versions ?? []).map((v) => v.VersionId ?? '');
  }
});

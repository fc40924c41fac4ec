import { copyFileSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { PROJECT_ROOT } from '../../local/build.js';
import type { StackContext } from '../../cli/lib/context.js';
import type { PolicyStatusDocument } from '../../cli/lib/policy-status.js';
import { createDocumentClient } from '../../lambdas/stores/dynamo.js';
import { startTestStack, type TestStack } from '../support/local-stack.js';
import { createGovernedUser, keyStatuses, ownerEmail, runTermination } from '../support/estate.js';

/** The EMF lines Powertools Metrics printed (the detached gateway's stdout goes to gateway.log). */
function lagSamples(stateDir: string): Array<{ PolicyVersionLag: number; runtime: string; refusal?: string }> {
  return readFileSync(path.join(stateDir, 'gateway.log'), 'utf8')
    .split('\n')
    .filter((line) => line.includes('"PolicyVersionLag"'))
    .map((line) => JSON.parse(line.slice(line.indexOf('{'))) as { _aws: { CloudWatchMetrics: Array<{ Namespace: string }> }; PolicyVersionLag: number; runtime: string; refusal?: string })
    .filter((emf) => emf._aws.CloudWatchMetrics[0]?.Namespace === 'NhiGovernor');
}

describe('fail closed: a tampered ACTIVE policy', () => {
  let stack: TestStack;
  let ctx: StackContext;

  beforeAll(async () => {
    stack = await startTestStack();
    ctx = await stack.context();
  });
  afterAll(() => stack?.stop());


  it('ends the change FAILED with POLICY_INVALID, writes nothing to the target, and reports the runtime refusing', async () => {
    const owner = ownerEmail();
    const user = await createGovernedUser(stack.direct, { owner, keys: 2 });
    // Edit the stored policy text behind the CLI's back, straight in moto's DynamoDB.
    const db = createDocumentClient(stack.direct.dynamodb);
    const table = stack.outputs.tables.policies ?? '';
    const active = await db.send(new GetCommand({ TableName: table, Key: { pk: 'ACTIVE', sk: 'ACTIVE' } }));
    const original = String(active.Item?.policyText);
    await db.send(
      new UpdateCommand({ TableName: table, Key: { pk: 'ACTIVE', sk: 'ACTIVE' }, UpdateExpression: 'SET policyText = :t', ExpressionAttributeValues: { ':t': original.replace('users: [deactivateKeys, revokeSessions]', 'users: []') } }),
    );

    const done = await runTermination(ctx, owner);
    expect(done.status).toBe('FAILED');
    expect(done.reasonCodes).toContain('POLICY_INVALID');
    expect(Object.values(await keyStatuses(stack.direct, user.userName))).toEqual(['Active', 'Active']);
    expect(done.planHash).toBeNull();
    expect(done.evidence.map((e) => e.type)).toEqual(['TRIGGERED', 'COMPLETED']);
    expect(done.evidence[0]).toMatchObject({ reasonCode: 'POLICY_INVALID', policyVersion: 'none', data: expect.objectContaining({ refused: expect.stringMatching(/not what was signed/) }) });
    expect(done.evidence[1]).toMatchObject({ reasonCode: 'POLICY_INVALID', data: expect.objectContaining({ status: 'FAILED' }) });
    expect(stack.cli(['evidence', 'verify', done.changeId]).code).toBe(0);

    const status = stack.json<PolicyStatusDocument>(['policy', 'status']);
    expect(status.active).toMatchObject({ valid: false, reason: expect.stringMatching(/not what was signed/) });
    expect(status.runtimes).toEqual([expect.objectContaining({ runtime: `local-gateway:${stack.port}`, state: 'refusing', current: false, refusal: expect.stringMatching(/not what was signed/) })]);
    expect(status.lagging).toBe(1);
    expect(lagSamples(stack.stateDir).at(-1)).toMatchObject({ PolicyVersionLag: 1, runtime: `local-gateway:${stack.port}`, refusal: expect.stringMatching(/not what was signed/) });
  });

  it('re-activating the signed file repairs it: the next change is governed again, and the lag metric drops to 0', async () => {
    // Sign a copy with the stack's key (never write a .sig next to the repository's file).
    const copy = path.join(stack.stateDir, 'default-policy.yaml');
    copyFileSync(path.join(PROJECT_ROOT, 'policy', 'default-policy.yaml'), copy);
    expect(stack.cli(['policy', 'sign', copy, '--key', path.join(stack.stateDir, 'policy.key')]).code).toBe(0);
    const activated = stack.json<{ activated: boolean; activatedBy: string }>(['policy', 'activate', copy, '--as', 'security@example.com']);
    expect(activated).toMatchObject({ activated: true, activatedBy: 'security@example.com' });

    const owner = ownerEmail();
    const user = await createGovernedUser(stack.direct, { owner, keys: 1 });
    const done = await runTermination(ctx, owner);
    expect(done.status).toBe('VERIFIED');
    expect(Object.values(await keyStatuses(stack.direct, user.userName))).toEqual(['Inactive']);
    const status = stack.json<PolicyStatusDocument>(['policy', 'status']);
    expect(status.active?.valid).toBe(true);
    expect(status.runtimes[0]).toMatchObject({ state: 'current' });
    expect(status.runtimes[0]?.refusal).toBeUndefined();
    expect(lagSamples(stack.stateDir).at(-1)).toMatchObject({ PolicyVersionLag: 0 });
  });
});

import { copyFileSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GetUserPolicyCommand } from '@aws-sdk/client-iam';
import { GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { PROJECT_ROOT } from '../../local/build.js';
import type { StackContext } from '../../cli/lib/context.js';
import { signPolicyFile } from '../../cli/lib/policy-files.js';
import { activatePolicy, policyStatus, type PolicyStatusDocument } from '../../cli/lib/policy-status.js';
import { createDocumentClient } from '../../lambdas/stores/dynamo.js';
import { startTestStack, type TestStack } from '../support/local-stack.js';
import { createGovernedUser, keyStatuses, ownerEmail, runTermination, unique } from '../support/estate.js';

const DEFAULT_POLICY = readFileSync(path.join(PROJECT_ROOT, 'policy', 'default-policy.yaml'), 'utf8');

/**
 * The contract's commands run through the CLI; the steps around them (signing a fixture,
 * sending an event, reading status between steps) call the same library functions in process,
 * which keeps this file fast. Both blocks share one stack and run in order.
 */
let stack: TestStack;
let ctx: StackContext;
beforeAll(async () => {
  stack = await startTestStack();
  ctx = await stack.context();
});
afterAll(() => stack?.stop());

// First: it starts from the stack's default policy, with no activation before it.
describe('governance policy: sign, verify, activate, status, exemptions', () => {
  let key: string;
  let trustedPem: string;
  let defaultVersion: string;

  beforeAll(() => {
    key = path.join(stack.stateDir, 'policy.key');
    trustedPem = readFileSync(path.join(stack.stateDir, 'policy.pub'), 'utf8');
  });

  function policyFile(name: string, text: string, sign = true): string {
    const file = path.join(stack.stateDir, `${name}.yaml`);
    writeFileSync(file, text);
    if (sign) signPolicyFile(file, key);
    return file;
  }


  const status = (): Promise<PolicyStatusDocument> => policyStatus(ctx.policies, trustedPem);

  it('CLI: keygen, sign, verify (0 / 1), activate refusals (2, nothing changes), status', async () => {
    const prefix = path.join(stack.stateDir, 'ops');
    expect(stack.json<{ keyId: string }>(['policy', 'keygen', '--out', prefix]).keyId).toMatch(/^[0-9a-f]{16}$/);
    expect(statSync(`${prefix}.key`).mode & 0o777).toBe(0o600);
    expect(stack.cli(['policy', 'keygen', '--out', prefix]).code).toBe(2);

    const foreign = policyFile('foreign', DEFAULT_POLICY.replace('name: default', 'name: foreign'), false);
    const sig = stack.json<{ version: string; keyId: string; signature: string; signedAt: string; signatureFile: string }>(['policy', 'sign', foreign, '--key', `${prefix}.key`]);
    expect(Object.keys(JSON.parse(readFileSync(`${foreign}.sig`, 'utf8')))).toEqual(['version', 'keyId', 'signature', 'signedAt']);
    expect(stack.cli(['policy', 'verify', foreign, '--pub', `${prefix}.pub`]).code).toBe(0);
    // Default key: the one the running stack trusts; this file is signed by another.
    const untrusted = stack.cli(['policy', 'verify', foreign]);
    expect(untrusted.code).toBe(1);
    expect(untrusted.stderr).toContain(`signed by key ${sig.keyId}, not by the trusted key`);

    const tampered = policyFile('tampered', DEFAULT_POLICY.replace('name: default', 'name: tampered'));
    expect(stack.cli(['policy', 'verify', tampered]).code).toBe(0);
    writeFileSync(tampered, readFileSync(tampered, 'utf8').replace('inactivityDays: 90', 'inactivityDays: 9000'));
    const verify = stack.cli(['policy', 'verify', tampered, '--json']);
    expect(verify.code).toBe(1);
    expect(JSON.parse(verify.stdout)).toMatchObject({ valid: false, reason: expect.stringMatching(/not what was signed/) });

    const before = stack.json<PolicyStatusDocument>(['policy', 'status']);
    expect(before.active).toMatchObject({ name: 'default', activatedBy: 'local-stack@nhigov.local', valid: true, supersedes: null });
    defaultVersion = before.active?.version ?? '';
    const unsigned = policyFile('unsigned', DEFAULT_POLICY.replace('name: default', 'name: unsigned'), false);
    for (const [file, why] of [
      [unsigned, /POLICY_INVALID: .*is not signed/],
      [tampered, /POLICY_INVALID: .*not what was signed/],
      [foreign, /POLICY_INVALID: .*not by the trusted key/],
    ] as const) {
      const refused = stack.cli(['policy', 'activate', file, '--as', 'lead@example.com']);
      expect(refused.code).toBe(2);
      expect(refused.stderr).toMatch(why);
    }
    expect((await status()).active).toEqual(before.active);
    expect((await status()).previous).toEqual([]);
  });

  it('activating a new signed version changes the next decision, the recorded version, and shows lag until the runtime moves', async () => {
    // Decide once with the default policy so the runtime has a version on record.
    expect((await runTermination(ctx, ownerEmail('nobody'))).status).toBe('NO_CHANGES');
    expect((await status()).runtimes).toEqual([expect.objectContaining({ runtime: `local-gateway:${stack.port}`, version: defaultVersion, state: 'current' })]);

    const owner = ownerEmail();
    const { userName } = await createGovernedUser(stack.direct, { owner, keys: 2 });
    const file = policyFile('revoke-only', DEFAULT_POLICY.replace('name: default', 'name: revoke-only').replace('users: [deactivateKeys, revokeSessions]', 'users: [revokeSessions]'));
    const activated = stack.json<{ activated: boolean; version: string; supersedes: string; activatedBy: string }>(['policy', 'activate', file, '--as', 'Lead@Example.com']);
    expect(activated).toMatchObject({ activated: true, supersedes: defaultVersion, activatedBy: 'lead@example.com' });

    const lagging = stack.json<PolicyStatusDocument>(['policy', 'status']);
    expect(lagging.active).toMatchObject({ version: activated.version, name: 'revoke-only', valid: true, activatedBy: 'lead@example.com' });
    expect(lagging.previous.map((p) => [p.version, p.activatedBy])).toEqual([[defaultVersion, 'local-stack@nhigov.local']]);
    expect(lagging.runtimes[0]).toMatchObject({ version: defaultVersion, current: false, versionsBehind: 1, state: 'idle', lagSince: lagging.active?.activatedAt });
    expect(lagging.lagging).toBe(1);

    const done = await runTermination(ctx, owner);
    expect(done.status).toBe('VERIFIED');
    expect(done.actions.map((a) => a.kind)).toEqual(['iam.putSessionRevocationDeny']);
    expect(Object.values(await keyStatuses(stack.direct, userName))).toEqual(['Active', 'Active']);
    expect((await stack.direct.iam.send(new GetUserPolicyCommand({ UserName: userName, PolicyName: 'nhigov-revoke-older-sessions' }))).PolicyDocument).toBeTruthy();
    expect(new Set(done.evidence.map((e) => e.policyVersion))).toEqual(new Set([activated.version]));
    expect(done.policyVersion).toBe(activated.version);

    const current = await status();
    expect(current.runtimes[0]).toMatchObject({ version: activated.version, state: 'current' });
    expect(current.lagging).toBe(0);
  });

  it('an exemption applies until its expiry and no longer after it (no cleanup job)', async () => {
    const owner = ownerEmail();
    const exempt = await createGovernedUser(stack.direct, { owner, keys: 1, name: unique('svc-exempt') });
    const expired = await createGovernedUser(stack.direct, { owner, keys: 1, name: unique('svc-expired') });
    const future = new Date(Date.now() + 7 * 86_400_000).toISOString();
    const past = new Date(Date.now() - 60_000).toISOString();
    const file = policyFile(
      'exemptions',
      DEFAULT_POLICY.replace('name: default', 'name: with-exemptions').replace(
        'exemptions: []',
        [
          'exemptions:',
          `  - { nhi: ${exempt.userName}, reason: vendor cut-over, ticket: CHG-100, approver: ciso@example.com, expiresAt: "${future}" }`,
          `  - { nhi: ${expired.userName}, reason: last quarter, ticket: CHG-099, approver: ciso@example.com, expiresAt: "${past}" }`,
        ].join('\n'),
      ),
    );
    const activated = await activatePolicy(ctx.policies, { file, as: 'lead@example.com', trustedPublicKeyPem: trustedPem });
    expect(activated.warnings).toEqual([expect.stringContaining(`exemption for ${expired.userName} (CHG-099) expired`)]);
    const current = await status();
    expect(current.active?.exemptions.map((e) => [e.ticket, e.inForce])).toEqual([
      ['CHG-100', true],
      ['CHG-099', false],
    ]);
    expect(current.previous).toHaveLength(2);

    const done = await runTermination(ctx, owner);
    expect(done.status).toBe('VERIFIED');
    expect(await keyStatuses(stack.direct, exempt.userName)).toEqual({ [exempt.keyIds[0] as string]: 'Active' });
    expect(await keyStatuses(stack.direct, expired.userName)).toEqual({ [expired.keyIds[0] as string]: 'Inactive' });
    expect(done.actions.every((a) => a.target.nhi === expired.userName)).toBe(true);
    const exemptions = done.evidence.filter((e) => e.type === 'EXEMPTED');
    expect(exemptions).toEqual([expect.objectContaining({ reasonCode: 'EXEMPTED', nhi: exempt.userName, data: expect.objectContaining({ ticket: 'CHG-100', approver: 'ciso@example.com', expiresAt: future }) })]);
    expect(done.reasonCodes).toContain('EXEMPTED');
  });
});

/** The EMF lines Powertools Metrics printed (the detached gateway's stdout goes to gateway.log). */
function lagSamples(stateDir: string): Array<{ PolicyVersionLag: number; runtime: string; refusal?: string }> {
  return readFileSync(path.join(stateDir, 'gateway.log'), 'utf8')
    .split('\n')
    .filter((line) => line.includes('"PolicyVersionLag"'))
    .map((line) => JSON.parse(line.slice(line.indexOf('{'))) as { _aws: { CloudWatchMetrics: Array<{ Namespace: string }> }; PolicyVersionLag: number; runtime: string; refusal?: string })
    .filter((emf) => emf._aws.CloudWatchMetrics[0]?.Namespace === 'NhiGovernor');
}

describe('fail closed: a tampered ACTIVE policy', () => {
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

import { describe, expect, it } from 'vitest';
import { CONNECTOR_ACTIONS, connectorAction, validatedParams } from '../../../lambdas/connectors/registry.js';
import type { ConnectorAction, ConnectorContext } from '../../../lambdas/connectors/types.js';
import type { JsonObject } from '../../../lambdas/domain/plan-model.js';
import { canonicalJson, contentHash } from '../../../lambdas/domain/canonical.js';
import { isAppError } from '../../../lambdas/domain/reasons.js';
import { CONNECTOR_EXAMPLES, seedExampleEstate, type ConnectorExample, type ExampleEstate } from '../../fixtures/connector-examples.js';
import { awsError } from '../../fixtures/fake-aws.js';
import { reasonOf } from '../../fixtures/reason-of.js';

const actions = CONNECTOR_ACTIONS as unknown as readonly ConnectorAction[];
const cases = actions.flatMap((action) => (CONNECTOR_EXAMPLES[action.kind] ?? []).map((example) => [`${action.kind}: ${example.name}`, action, example] as const));

async function prepared(example: ConnectorExample): Promise<ExampleEstate> {
  const estate = seedExampleEstate();
  await example.prepare?.(estate);
  estate.fake.calls.length = 0;
  return estate;
}

/** One retry on a transient failure, as the workflow's Retry does. */
async function writeWithRetry(action: ConnectorAction, ctx: ConnectorContext, params: JsonObject, before: JsonObject): Promise<void> {
  await action.write(ctx, params).catch(async (error: unknown) => {
    if (!isAppError(error) || error.reasonCode !== 'TARGET_UNAVAILABLE') throw error;
    await action.write(ctx, params);
  });
}

/** Rotation waits for its promotion to read back before touching keys: a swallowed promotion is covered by its own test. */
const waitsForReadBack = (kind: string): boolean => kind.startsWith('secrets.') && kind.endsWith('AccessKeySecret');

describe.each(cases)('%s', (_name, action, example) => {
  it('write → verify by a separate read converges; read shows `after`; a second write changes nothing', async () => {
    const estate = await prepared(example);
    const ctx = estate.fake.context();
    const params = validatedParams(action, example.params(estate));
    const before = await action.read(ctx, params);
    const after = action.desiredState(params, before);
    await writeWithRetry(action, ctx, params, before);
    const verdict = await action.verify(ctx, params, after);
    expect(verdict.converged, JSON.stringify(verdict.observed)).toBe(true);
    expect(await action.read(ctx, params)).toEqual(after);
    const calls = estate.fake.calls.length;
    await action.write(ctx, params);
    expect(await action.read(ctx, params)).toEqual(after);
    expect((await action.verify(ctx, params, after)).converged).toBe(true);
    expect(estate.fake.calls.length).toBeGreaterThan(calls);
  });

  it.skipIf(action.irreversible)('the inverse restores the state before (fingerprint included)', async ({ skip }) => {
    const estate = await prepared(example);
    const ctx = estate.fake.context();
    const params = validatedParams(action, example.params(estate));
    const before = await action.read(ctx, params);
    const after = action.desiredState(params, before);
    if (canonicalJson(before) === canonicalJson(after)) skip('the example starts in the desired state: there is nothing to undo');
    await writeWithRetry(action, ctx, params, before);
    const inverse = action.inverse(params, before);
    if (!inverse) throw new Error('a reversible kind without inverse');
    const undo = connectorAction(inverse.kind);
    const undoParams = validatedParams(undo, inverse.params);
    await undo.write(ctx, undoParams);
    const verdict = await undo.verify(ctx, undoParams, before);
    expect(verdict.converged, JSON.stringify(verdict.observed)).toBe(true);
    expect(contentHash(await action.read(ctx, params))).toBe(contentHash(before));
  });

  it.skipIf(waitsForReadBack(action.kind))('a swallowed write does not verify', async ({ skip }) => {
    const estate = await prepared(example);
    const ctx = estate.fake.context();
    const params = validatedParams(action, example.params(estate));
    const before = await action.read(ctx, params);
    const after = action.desiredState(params, before);
    if (canonicalJson(before) === canonicalJson(after)) skip('the example starts in the desired state: a swallowed write changes nothing');
    for (const permission of action.permissions.write) estate.fake.swallowNext(permission, 10);
    await action.write(ctx, params);
    expect((await action.verify(ctx, params, after)).converged).toBe(false);
  });

  it.each([
    ['AccessDenied', 403, 'CONNECTOR_ACCESS_DENIED'],
    ['ThrottlingException', 400, 'THROTTLED'],
    ['ServiceFailure', 500, 'TARGET_UNAVAILABLE'],
  ] as const)('classifies %s (HTTP %i) as %s', async (name, status, code) => {
    const estate = await prepared(example);
    const ctx = estate.fake.context();
    const params = validatedParams(action, example.params(estate));
    const before = await action.read(ctx, params);
    for (const permission of [...action.permissions.read, ...action.permissions.write]) estate.fake.failNext(permission, awsError(name, status));
    expect(await reasonOf(action.write(ctx, params))).toBe(code);
    for (const permission of [...action.permissions.read, ...action.permissions.write]) estate.fake.failNext(permission, awsError(name, status));
    expect(await reasonOf(action.read(ctx, params))).toBe(code);
  });
});

describe('a missing target', () => {
  it.each([
    ['iam.deactivateAccessKey', { userName: 'nobody', accessKeyId: 'AKIANOSUCHKEY00000' }],
    ['iam.putSessionRevocationDeny', { principalType: 'role', principalName: 'nobody', issuedBefore: '2026-07-01T00:00:00.000Z' }],
    ['iam.attachQuarantinePolicy', { principalType: 'user', principalName: 'nobody' }],
    ['iam.moveOwnerTag', { principalType: 'user', principalName: 'nobody', toOwner: 'bob@example.com' }],
    ['secrets.moveOwnerTag', { secretId: 'no/such/secret', toOwner: 'bob@example.com' }],
    ['iam.deleteLoginProfile', { userName: 'nobody' }],
  ] as const)('%s reads as TARGET_NOT_FOUND', async (kind, params) => {
    const action = connectorAction(kind);
    const estate = seedExampleEstate();
    expect(await reasonOf(action.read(estate.fake.context(), validatedParams(action, params)))).toBe('TARGET_NOT_FOUND');
  });
});

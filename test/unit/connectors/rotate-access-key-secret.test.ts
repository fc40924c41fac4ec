import { describe, expect, it } from 'vitest';
import { restoreAccessKeySecret } from '../../../lambdas/connectors/secrets/restore-access-key-secret.js';
import { rotateAccessKeySecret } from '../../../lambdas/connectors/secrets/rotate-access-key-secret.js';
import { ROTATION_MARKER_TAG, type AccessKeySecretParams } from '../../../lambdas/connectors/secrets/access-key-secret.js';
import { isAppError } from '../../../lambdas/domain/reasons.js';
import { ROTATION_VERSION, seedExampleEstate, type ExampleEstate } from '../../fixtures/connector-examples.js';
import { awsError } from '../../fixtures/fake-aws.js';

function setUp(): { estate: ExampleEstate; params: AccessKeySecretParams } {
  const estate = seedExampleEstate();
  const params = rotateAccessKeySecret.schema.parse({ secretId: 'app/key', userName: 'svc', replacedAccessKeyId: estate.keyId, replacedVersionId: estate.versionId, rotationVersionId: ROTATION_VERSION });
  return { estate, params };
}

const crash = () => Object.assign(new Error('socket hang up'), { name: 'TimeoutError' });
const keysOf = (estate: ExampleEstate) => estate.fake.user('svc').keys.map((k) => ({ id: k.id, status: k.status }));
const versions = (estate: ExampleEstate) => Object.fromEntries([...(estate.fake.secrets.get('app/key')?.versions ?? [])].map(([id, v]) => [id, v.stages]));
const currentValue = (estate: ExampleEstate): Record<string, string> => JSON.parse([...(estate.fake.secrets.get('app/key')?.versions.values() ?? [])].find((v) => v.stages.includes('AWSCURRENT'))?.value ?? '{}');

async function rejection(promise: Promise<unknown>): Promise<{ code: string; message: string }> {
  try {
    await promise;
  } catch (error) {
    if (isAppError(error)) return { code: error.reasonCode, message: error.message };
    throw error;
  }
  throw new Error('expected a rejection');
}

describe('secrets.rotateAccessKeySecret', () => {
  it('writes a new key as the new AWSCURRENT version, then deactivates the old key', async () => {
    const { estate, params } = setUp();
    const ctx = estate.fake.context();
    const before = await rotateAccessKeySecret.read(ctx, params);
    expect(before).toEqual({ currentVersionId: estate.versionId, replacedKeyStatus: 'Active' });
    await rotateAccessKeySecret.write(ctx, params);
    const value = currentValue(estate);
    expect(value.AccessKeyId).not.toBe(estate.keyId);
    expect(value.region).toBe('us-east-1');
    expect(keysOf(estate)).toEqual([
      { id: estate.keyId, status: 'Inactive' },
      { id: value.AccessKeyId, status: 'Active' },
    ]);
    expect(versions(estate)).toEqual({ [estate.versionId]: ['AWSPREVIOUS'], [ROTATION_VERSION]: ['AWSCURRENT'] });
    expect(estate.fake.secrets.get('app/key')?.tags.has(ROTATION_MARKER_TAG)).toBe(false);
    const verdict = await rotateAccessKeySecret.verify(ctx, params, rotateAccessKeySecret.desiredState(params, before));
    expect(verdict).toEqual({ converged: true, observed: { currentVersionId: ROTATION_VERSION, heldAccessKeyId: value.AccessKeyId, heldKeyStatus: 'Active', replacedKeyStatus: 'Inactive' } });
  });

  it('a retry after a crash between CreateAccessKey and PutSecretValue never leaves a second new key', async () => {
    const { estate, params } = setUp();
    const ctx = estate.fake.context();
    const before = await rotateAccessKeySecret.read(ctx, params);
    estate.fake.failNext('secretsmanager:PutSecretValue', crash());
    expect((await rejection(rotateAccessKeySecret.write(ctx, params))).code).toBe('TARGET_UNAVAILABLE');
    expect(keysOf(estate)).toHaveLength(2);
    expect(estate.fake.secrets.get('app/key')?.tags.get(ROTATION_MARKER_TAG)).toBe(ROTATION_VERSION);
    const orphan = keysOf(estate)[1]?.id;
    await rotateAccessKeySecret.write(ctx, params);
    expect(keysOf(estate)).toHaveLength(2);
    expect(keysOf(estate).map((k) => k.id)).not.toContain(orphan);
    expect(currentValue(estate).AccessKeyId).toBe(keysOf(estate)[1]?.id);
    expect((await rotateAccessKeySecret.verify(ctx, params, rotateAccessKeySecret.desiredState(params, before))).converged).toBe(true);
  });

  it('a retry after the version was written creates no key at all', async () => {
    const { estate, params } = setUp();
    const ctx = estate.fake.context();
    const before = await rotateAccessKeySecret.read(ctx, params);
    estate.fake.failNext('secretsmanager:UpdateSecretVersionStage', crash());
    await rejection(rotateAccessKeySecret.write(ctx, params));
    estate.fake.calls.length = 0;
    await rotateAccessKeySecret.write(ctx, params);
    expect(estate.fake.calls).not.toContain('iam:CreateAccessKey');
    expect(estate.fake.calls).not.toContain('secretsmanager:PutSecretValue');
    expect((await rotateAccessKeySecret.verify(ctx, params, rotateAccessKeySecret.desiredState(params, before))).converged).toBe(true);
  });

  it('running it again after it converged changes nothing', async () => {
    const { estate, params } = setUp();
    const ctx = estate.fake.context();
    const before = await rotateAccessKeySecret.read(ctx, params);
    await rotateAccessKeySecret.write(ctx, params);
    const keys = keysOf(estate);
    estate.fake.calls.length = 0;
    await rotateAccessKeySecret.write(ctx, params);
    expect(keysOf(estate)).toEqual(keys);
    expect(estate.fake.calls.filter((c) => /Create|Put|Tag|Delete/.test(c))).toEqual([]);
  });

  it('refuses when the user has no free key slot (IAM allows 2), creating nothing', async () => {
    const { estate, params } = setUp();
    estate.fake.addKey('svc', 'Inactive');
    const ctx = estate.fake.context();
    const failure = await rejection(rotateAccessKeySecret.write(ctx, params));
    expect(failure.code).toBe('PLAN_STALE');
    expect(failure.message).toMatch(/IAM allows 2 keys per user/);
    expect(estate.fake.calls).not.toContain('iam:CreateAccessKey');
  });

  it('classifies IAM\'s key quota (LimitExceeded) as PLAN_STALE, not as a throttle', async () => {
    const { estate, params } = setUp();
    estate.fake.failNext('iam:CreateAccessKey', awsError('LimitExceededException', 409));
    const ctx = estate.fake.context();
    expect((await rejection(rotateAccessKeySecret.write(ctx, params))).code).toBe('PLAN_STALE');
  });

  it('stops with PLAN_STALE when AWSCURRENT moved to a version the plan does not know', async () => {
    const { estate, params } = setUp();
    const ctx = estate.fake.context();
    const stale = { ...params, replacedVersionId: 'bbbbbbbb-1111-4222-8333-444455556666' };
    const failure = await rejection(rotateAccessKeySecret.write(ctx, stale));
    expect(failure).toMatchObject({ code: 'PLAN_STALE' });
    expect(estate.fake.calls).not.toContain('iam:CreateAccessKey');
  });

  it('a swallowed CreateAccessKey leaves nothing to verify; the rewrite completes the rotation', async () => {
    const { estate, params } = setUp();
    const ctx = estate.fake.context();
    const before = await rotateAccessKeySecret.read(ctx, params);
    const after = rotateAccessKeySecret.desiredState(params, before);
    estate.fake.swallowNext('iam:CreateAccessKey');
    await rotateAccessKeySecret.write(ctx, params);
    expect((await rotateAccessKeySecret.verify(ctx, params, after)).converged).toBe(false);
    await rotateAccessKeySecret.write(ctx, params);
    expect((await rotateAccessKeySecret.verify(ctx, params, after)).converged).toBe(true);
  });

  it('never puts secret values in errors or observations', async () => {
    const { estate, params } = setUp();
    const ctx = estate.fake.context();
    const before = await rotateAccessKeySecret.read(ctx, params);
    await rotateAccessKeySecret.write(ctx, params);
    const verdict = await rotateAccessKeySecret.verify(ctx, params, rotateAccessKeySecret.desiredState(params, before));
    expect(JSON.stringify(verdict)).not.toMatch(/secret-\d|SecretAccessKey/);
    estate.fake.addSecret('broken', 'hunter2-not-json', {}, 'cccccccc-1111-4222-8333-444455556666');
    const broken = { ...params, secretId: 'broken', replacedVersionId: 'cccccccc-1111-4222-8333-444455556666' };
    const failure = await rejection(rotateAccessKeySecret.write(ctx, broken));
    expect(failure.code).toBe('INPUT_INVALID');
    expect(failure.message).not.toContain('hunter2');
  });
});

describe('secrets.restoreAccessKeySecret', () => {
  it('puts the replaced version and key back, turns the rotation key off, and the rotation can be redone', async () => {
    const { estate, params } = setUp();
    const ctx = estate.fake.context();
    const before = await rotateAccessKeySecret.read(ctx, params);
    await rotateAccessKeySecret.write(ctx, params);
    const rotated = currentValue(estate).AccessKeyId;
    await restoreAccessKeySecret.write(ctx, params);
    expect(currentValue(estate).AccessKeyId).toBe(estate.keyId);
    expect(keysOf(estate)).toEqual([
      { id: estate.keyId, status: 'Active' },
      { id: rotated, status: 'Inactive' },
    ]);
    const verdict = await restoreAccessKeySecret.verify(ctx, params, before);
    expect(verdict.converged).toBe(true);
    expect(await restoreAccessKeySecret.read(ctx, params)).toEqual(before);
    await rotateAccessKeySecret.write(ctx, params);
    expect(currentValue(estate).AccessKeyId).toBe(rotated);
    expect(keysOf(estate)).toEqual([
      { id: estate.keyId, status: 'Inactive' },
      { id: rotated, status: 'Active' },
    ]);
  });

  it('deletes the undelivered key of a rotation that stopped before PutSecretValue', async () => {
    const { estate, params } = setUp();
    const ctx = estate.fake.context();
    const before = await rotateAccessKeySecret.read(ctx, params);
    estate.fake.failNext('secretsmanager:PutSecretValue', crash());
    await rejection(rotateAccessKeySecret.write(ctx, params));
    await restoreAccessKeySecret.write(ctx, params);
    expect(keysOf(estate)).toEqual([{ id: estate.keyId, status: 'Active' }]);
    expect(estate.fake.secrets.get('app/key')?.tags.has(ROTATION_MARKER_TAG)).toBe(false);
    expect((await restoreAccessKeySecret.verify(ctx, params, before)).converged).toBe(true);
  });
});

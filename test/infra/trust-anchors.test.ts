/**
 * The trust anchors of the evidence: checkpoints in a bucket with Object Lock in compliance mode,
 * signed by a KMS key only the checkpoint writers may sign with.
 */
import { describe, expect, it } from 'vitest';
import { capabilitiesOf } from '../../infra/lib/capabilities.js';
import { FUNCTIONS } from '../../infra/resources.js';
import { actionCovers, asArray, resourceMayInclude, statementsByRole, type Statement } from './support/iam.js';
import { buildStack, resourcesOfType, roleOfFunction, TEST_CONTEXT } from './support/stack.js';

const { json } = buildStack({ context: { ...TEST_CONTEXT, checkpointRetentionDays: 730 } });
const byRole = statementsByRole(json);
const [bucket] = resourcesOfType(json, 'AWS::S3::Bucket').filter(([id]) => id.startsWith('TrustAnchorsCheckpoints'));
const [key] = resourcesOfType(json, 'AWS::KMS::Key').filter(([id]) => id.startsWith('TrustAnchorsCheckpointKey'));

const grants = (statements: readonly Statement[], action: string, logicalId: string) =>
  statements.some((s) => s.Effect === 'Allow' && asArray(s.Action).some((a) => actionCovers(a, action)) && asArray(s.Resource).some((r) => resourceMayInclude(r, logicalId)));

describe('the checkpoint bucket', () => {
  it('has Object Lock in compliance mode with the configured retention, versioning, and no public access', () => {
    expect(bucket).toBeDefined();
    expect(bucket?.[1].Properties).toMatchObject({
      ObjectLockEnabled: true,
      ObjectLockConfiguration: { ObjectLockEnabled: 'Enabled', Rule: { DefaultRetention: { Mode: 'COMPLIANCE', Days: 730 } } },
      VersioningConfiguration: { Status: 'Enabled' },
      PublicAccessBlockConfiguration: { BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true },
    });
  });

  it('refuses plain HTTP and any put that could replace a checkpoint (no If-None-Match)', () => {
    const policy = resourcesOfType(json, 'AWS::S3::BucketPolicy').find(([, r]) => JSON.stringify(r.Properties?.['Bucket']).includes(bucket?.[0] ?? '-'));
    const statements = (policy?.[1].Properties?.['PolicyDocument'] as { Statement: Statement[] }).Statement;
    expect(statements).toContainEqual(expect.objectContaining({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }));
    expect(statements).toContainEqual(expect.objectContaining({ Effect: 'Deny', Action: 's3:PutObject', Condition: { Null: { 's3:if-none-match': 'true' } } }));
  });
});

describe('the checkpoint key', () => {
  const writers = FUNCTIONS.filter((f) => capabilitiesOf(f).includes('checkpointWrite')).map((f) => f.name);

  it('is an ECC P-256 signing key', () => {
    expect(key?.[1].Properties).toMatchObject({ KeySpec: 'ECC_NIST_P256', KeyUsage: 'SIGN_VERIFY' });
  });

  it('only the checkpoint writers (complete, checkpoint) may kms:Sign with it; nothing else signs or deletes checkpoints', () => {
    expect(writers.sort()).toEqual(['checkpoint', 'complete']);
    const writerRoles = new Set(writers.map((name) => roleOfFunction(json, name)));
    const signers = [...byRole].filter(([, statements]) => grants(statements, 'kms:Sign', key?.[0] ?? '-')).map(([role]) => role);
    expect(new Set(signers)).toEqual(writerRoles);
    for (const [, statements] of byRole) {
      expect(grants(statements, 's3:DeleteObject', bucket?.[0] ?? '-')).toBe(false);
      expect(grants(statements, 's3:PutObjectRetention', bucket?.[0] ?? '-')).toBe(false);
      expect(grants(statements, 's3:BypassGovernanceRetention', bucket?.[0] ?? '-')).toBe(false);
    }
    const putters = [...byRole].filter(([, statements]) => grants(statements, 's3:PutObject', bucket?.[0] ?? '-')).map(([role]) => role);
    expect(new Set(putters)).toEqual(writerRoles);
  });

  it('its key policy denies kms:Sign to every principal but the writer roles', () => {
    const statements = (key?.[1].Properties?.['KeyPolicy'] as { Statement: Statement[] }).Statement;
    const deny = statements.find((s) => s.Effect === 'Deny' && asArray(s.Action).includes('kms:Sign'));
    const allowedArns = JSON.stringify(deny?.Condition?.['ArnNotEquals']?.['aws:PrincipalArn']);
    for (const name of writers) expect(allowedArns).toContain(roleOfFunction(json, name));
    expect(asArray(deny?.Condition?.['ArnNotEquals']?.['aws:PrincipalArn'] as unknown[])).toHaveLength(writers.length);
  });
});

import { describe, expect, it } from 'vitest';
import { editManagedPolicy } from '../../../lambdas/connectors/iam/edit-managed-policy.js';
import { restoreManagedPolicyVersion } from '../../../lambdas/connectors/iam/restore-managed-policy-version.js';
import { contentHash } from '../../../lambdas/domain/canonical.js';
import { EDITABLE_DOCUMENT, EDITABLE_POLICY_ARN, EDITED_DOCUMENT, seedExampleEstate } from '../../fixtures/connector-examples.js';
import { awsError } from '../../fixtures/fake-aws.js';
import { reasonOf } from '../../fixtures/reason-of.js';

const edit = editManagedPolicy.schema.parse({ principalType: 'user', principalName: 'svc', policyArn: EDITABLE_POLICY_ARN, versionId: 'v1', document: EDITED_DOCUMENT });
const OTHER = JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Deny', Action: '*', Resource: '*' }] });

describe('editing a customer-managed policy', () => {
  it('state: the planned version, whether it is default, the default document hash, the attachment count', async () => {
    const estate = seedExampleEstate();
    expect(await editManagedPolicy.read(estate.fake.context(), edit)).toEqual({ versionId: 'v1', versionIsDefault: true, documentSha256: contentHash(EDITABLE_DOCUMENT), attachmentCount: 1 });
  });

  it('never deletes a version: at five it refuses PLAN_STALE and the policy keeps its five versions and default', async () => {
    const estate = seedExampleEstate();
    for (let i = 0; i < 4; i += 1) estate.fake.addPolicyVersion(EDITABLE_POLICY_ARN, OTHER, false);
    expect(await reasonOf(editManagedPolicy.write(estate.fake.context(), edit))).toBe('PLAN_STALE');
    const policy = estate.fake.policy(EDITABLE_POLICY_ARN);
    expect([policy.versions.size, policy.defaultVersion]).toEqual([5, 'v1']);
    expect(estate.fake.calls).not.toContain('iam:CreatePolicyVersion');
  });

  it('IAM answering LimitExceeded (a version made between its list and its create) is PLAN_STALE, not a throttle', async () => {
    const estate = seedExampleEstate();
    estate.fake.failNext('iam:CreatePolicyVersion', awsError('LimitExceededException', 409));
    expect(await reasonOf(editManagedPolicy.write(estate.fake.context(), edit))).toBe('PLAN_STALE');
  });

  it('a default other than the planned version (a held state put back after an out-of-band edit) gets the document as a new default; the plan saw it move, not the write', async () => {
    const estate = seedExampleEstate();
    estate.fake.addPolicyVersion(EDITABLE_POLICY_ARN, OTHER, true);
    const before = await editManagedPolicy.read(estate.fake.context(), edit);
    expect(before).toMatchObject({ versionId: 'v1', versionIsDefault: false, documentSha256: contentHash(JSON.parse(OTHER)) });
    await editManagedPolicy.write(estate.fake.context(), edit);
    expect((await editManagedPolicy.verify(estate.fake.context(), edit, editManagedPolicy.desiredState(edit, before))).converged).toBe(true);
    expect(estate.fake.policy(EDITABLE_POLICY_ARN).versions.size).toBe(3);
  });

  it('the planned fingerprint moves when the policy is attached to another principal since (editing would change it too)', async () => {
    const estate = seedExampleEstate();
    const before = await editManagedPolicy.read(estate.fake.context(), edit);
    estate.fake.roles.get('runner')?.managed.add(EDITABLE_POLICY_ARN);
    expect(contentHash(await editManagedPolicy.read(estate.fake.context(), edit))).not.toBe(contentHash(before));
  });

  it('the restore of a version deleted since is TARGET_NOT_FOUND', async () => {
    const estate = seedExampleEstate();
    estate.fake.addPolicyVersion(EDITABLE_POLICY_ARN, JSON.stringify(EDITED_DOCUMENT), true);
    estate.fake.policy(EDITABLE_POLICY_ARN).versions.delete('v1');
    const restore = restoreManagedPolicyVersion.schema.parse({ ...edit, documentSha256: contentHash(EDITABLE_DOCUMENT) });
    expect(await reasonOf(restoreManagedPolicyVersion.write(estate.fake.context(), restore))).toBe('TARGET_NOT_FOUND');
  });

  it('refuses an AWS managed policy (no versions of its own to write) and a malformed version id', () => {
    expect(editManagedPolicy.schema.safeParse({ ...edit, policyArn: 'arn:aws:iam::aws:policy/ReadOnlyAccess' }).success).toBe(false);
    expect(editManagedPolicy.schema.safeParse({ ...edit, versionId: '1' }).success).toBe(false);
  });
});

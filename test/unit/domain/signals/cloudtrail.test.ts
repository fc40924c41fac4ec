import { describe, expect, it } from 'vitest';
import { changeIdForEvent, triggerContentHash } from '../../../../lambdas/domain/events.js';
import { isWorkflowCall } from '../../../../lambdas/domain/signals/cloudtrail.js';
import { parseIncomingEvent, type SignalResult } from '../../../../lambdas/domain/signals/index.js';
import { planFor, events } from '../../../fixtures/planning.js';
import { snapshotOf, user } from '../../../fixtures/estate-builder.js';
import { escalatingFindings } from '../../../../lambdas/domain/outcome.js';
import { providerEvent } from '../../../support/signals.js';

const WRITE_ROLE = 'arn:aws:iam::123456789012:role/nhigov-connector-write/NhiGovernor-WriteActionRole-ABC123';
const context = { workflowRoleArns: [WRITE_ROLE] };

function only(result: SignalResult) {
  if (result.outcome !== 'triggers') throw new Error(`expected a trigger, got ${JSON.stringify(result)}`);
  expect(result.triggers).toHaveLength(1);
  return result.triggers[0]!;
}

const assumed = (role: string, issuer?: string) => ({
  type: 'AssumedRole',
  arn: `arn:aws:sts::123456789012:assumed-role/${role}/session`,
  ...(issuer ? { sessionContext: { sessionIssuer: { type: 'Role', arn: issuer } } } : {}),
});

describe('CloudTrail writes', () => {
  it('start a reconcile of the NHI written to, with the call as the cause', () => {
    const trigger = only(parseIncomingEvent(providerEvent('cloudTrail'), context));
    expect(trigger).toMatchObject({ detailType: 'Reconcile Requested', source: 'nhigov', detail: { scope: { nhi: 'example-user' } } });
    expect(trigger.cause).toMatchObject({ source: 'aws.iam', detailType: 'AWS API Call via CloudTrail', subject: 'example-user' });
  });

  it('are de-duplicated per NHI: calls of one NHI within the window are one change, with the same content', () => {
    const first = only(parseIncomingEvent(providerEvent('cloudTrail'), context));
    const second = only(parseIncomingEvent(providerEvent('cloudTrail', { '2026-07-01T12:00:03Z': '2026-07-01T12:00:08Z', UpdateAccessKey: 'DeleteUserPolicy', '0b1c2d3e': '9f9f9f9f' }), context));
    expect(changeIdForEvent(second.id)).toBe(changeIdForEvent(first.id));
    expect(triggerContentHash(second)).toBe(triggerContentHash(first));
    const later = only(parseIncomingEvent(providerEvent('cloudTrail', { '2026-07-01T12:00:03Z': '2026-07-01T12:00:11Z' }), context));
    expect(changeIdForEvent(later.id)).not.toBe(changeIdForEvent(first.id));
    const other = only(parseIncomingEvent(providerEvent('cloudTrail', { 'example-user': 'other-user' }), context));
    expect(changeIdForEvent(other.id)).not.toBe(changeIdForEvent(first.id));
  });

  it('recognise the workflow\'s own role by its session issuer or assumed-role ARN, never by a name it chose', () => {
    expect(isWorkflowCall(assumed('NhiGovernor-WriteActionRole-ABC123', WRITE_ROLE), [WRITE_ROLE])).toBe(true);
    expect(isWorkflowCall(assumed('NhiGovernor-WriteActionRole-ABC123'), [WRITE_ROLE])).toBe(true);
    // A look-alike role: same name, another path or account is another role.
    expect(isWorkflowCall(assumed('NhiGovernor-WriteActionRole-ABC123', 'arn:aws:iam::123456789012:role/NhiGovernor-WriteActionRole-ABC123'), [WRITE_ROLE])).toBe(false);
    expect(isWorkflowCall({ type: 'AssumedRole', arn: 'arn:aws:sts::999999999999:assumed-role/NhiGovernor-WriteActionRole-ABC123/s' }, [WRITE_ROLE])).toBe(false);
    expect(isWorkflowCall({ type: 'IAMUser', arn: 'arn:aws:iam::123456789012:user/nhigov-write-action', userName: 'nhigov-write-action' }, [WRITE_ROLE])).toBe(false);
    expect(isWorkflowCall(assumed('NhiGovernor-WriteActionRole-ABC123', WRITE_ROLE), [])).toBe(false);

    const own = providerEvent('cloudTrail', {}, (e) => (e.detail.userIdentity = assumed('NhiGovernor-WriteActionRole-ABC123', WRITE_ROLE)));
    expect(parseIncomingEvent(own, context)).toEqual({ outcome: 'ignored', reason: "CloudTrail iam:UpdateAccessKey was made by the workflow's own role" });
    // Without the deployment's roles nothing is taken for the workflow's own.
    expect(parseIncomingEvent(own).outcome).toBe('triggers');
  });

  it('recognise a member role\'s calls in a member account as the workflow\'s, but never that name in the stack\'s own account', () => {
    const members = { roleNames: ['nhigov-member'], homeAccountId: '123456789012' };
    const inMember = { type: 'AssumedRole', arn: 'arn:aws:sts::111111111111:assumed-role/nhigov-member/chg-0123', sessionContext: { sessionIssuer: { arn: 'arn:aws:iam::111111111111:role/nhigov-member' } } };
    expect(isWorkflowCall(inMember, [WRITE_ROLE], members)).toBe(true);
    expect(isWorkflowCall({ type: 'AssumedRole', arn: 'arn:aws:sts::111111111111:assumed-role/nhigov-member/chg-0123' }, [], members)).toBe(true);
    // The same name in the stack's own account is a role someone made: not ours.
    expect(isWorkflowCall({ ...inMember, arn: 'arn:aws:sts::123456789012:assumed-role/nhigov-member/x', sessionContext: { sessionIssuer: { arn: 'arn:aws:iam::123456789012:role/nhigov-member' } } }, [WRITE_ROLE], members)).toBe(false);
    // Another role name, or no member roles configured, or an unknown home: not recognised.
    expect(isWorkflowCall({ type: 'AssumedRole', arn: 'arn:aws:sts::111111111111:assumed-role/admin/x' }, [WRITE_ROLE], members)).toBe(false);
    expect(isWorkflowCall(inMember, [WRITE_ROLE])).toBe(false);
    expect(isWorkflowCall(inMember, [WRITE_ROLE], { roleNames: ['nhigov-member'] })).toBe(false);
    const event = providerEvent('cloudTrail', {}, (e) => (e.detail.userIdentity = inMember));
    expect(parseIncomingEvent(event, { ...context, memberRoleNames: ['nhigov-member'], homeAccountId: '123456789012' })).toMatchObject({ outcome: 'ignored' });
  });

  it('ignore failed calls, calls that cannot change a governed NHI, and calls naming none; refuse malformed ones', () => {
    expect(parseIncomingEvent(providerEvent('cloudTrail', {}, (e) => (e.detail.errorCode = 'AccessDenied')), context)).toMatchObject({ outcome: 'ignored', reason: expect.stringContaining('AccessDenied') });
    expect(parseIncomingEvent(providerEvent('cloudTrail', { UpdateAccessKey: 'CreatePolicy' }), context)).toMatchObject({ outcome: 'ignored' });
    expect(parseIncomingEvent(providerEvent('cloudTrail', {}, (e) => (e.detail.requestParameters = { accessKeyId: 'AKIAIOSFODNN7EXAMPLE' })), context).outcome).toBe('triggers');
    expect(parseIncomingEvent(providerEvent('cloudTrail', {}, (e) => ((e.detail.userIdentity = { type: 'Root' }), (e.detail.requestParameters = null))), context)).toMatchObject({ outcome: 'ignored', reason: expect.stringContaining('names no') });
    expect(parseIncomingEvent(providerEvent('cloudTrail', {}, (e) => delete e.detail.eventTime), context)).toMatchObject({ outcome: 'invalid' });
  });

  it('take Secrets Manager writes by secret id', () => {
    const secretWrite = providerEvent('cloudTrail', { 'aws.iam': 'aws.secretsmanager', 'iam.amazonaws.com': 'secretsmanager.amazonaws.com', UpdateAccessKey: 'PutSecretValue' }, (e) => (e.detail.requestParameters = { secretId: 'app/db-key' }));
    expect(only(parseIncomingEvent(secretWrite, context)).detail).toEqual({ scope: { nhi: 'app/db-key' } });
  });

  it('report nothing for an NHI that is not governed and never was', () => {
    const trigger = only(parseIncomingEvent(providerEvent('cloudTrail'), context));
    expect(planFor(trigger, snapshotOf({})).findings).toEqual([]);
    expect(planFor(events.reconcile({ nhi: 'example-user' }), snapshotOf({})).findings.map((f) => f.reasonCode)).toEqual(['TARGET_NOT_FOUND']);
  });

  it('report an owner tag written by hand, and escalate; a governed tag removed by hand too, even on an NHI no change acted on', () => {
    const ownerMoved = providerEvent('cloudTrail', { UpdateAccessKey: 'TagUser' }, (e) => (e.detail.requestParameters = { userName: 'svc-x', tags: [{ key: 'owner', value: 'mallory@example.com' }] }));
    const trigger = only(parseIncomingEvent(ownerMoved, context));
    expect(trigger.id).toContain('cloudtrail-tags:owner:svc-x:');
    const governed = snapshotOf({ users: [user('svc-x', { owner: 'mallory@example.com' })] });
    const plan = planFor(trigger, governed);
    expect(plan.findings).toEqual([expect.objectContaining({ nhi: 'svc-x', reasonCode: 'OWNER_TAG_CHANGED', data: { owner: 'mallory@example.com' } })]);
    expect(escalatingFindings(plan)).toEqual(['OWNER_TAG_CHANGED']);

    const untagged = providerEvent('cloudTrail', { UpdateAccessKey: 'UntagUser' }, (e) => (e.detail.requestParameters = { userName: 'svc-x', tagKeys: ['nhi-governed'] }));
    const removal = only(parseIncomingEvent(untagged, context));
    const outside = { ...snapshotOf({}), ungoverned: [{ type: 'user' as const, name: 'svc-x', arn: 'arn:aws:iam::123456789012:user/svc-x', tags: { owner: 'dave@example.com' } }] };
    expect(planFor(removal, outside).findings.map((f) => [f.nhi, f.reasonCode])).toEqual([['svc-x', 'GOVERNANCE_REMOVED']]);
    // Other tags are no governance metadata: a plain reconcile of the NHI.
    const other = providerEvent('cloudTrail', { UpdateAccessKey: 'TagUser' }, (e) => (e.detail.requestParameters = { userName: 'svc-x', tags: [{ key: 'team', value: 'a' }] }));
    expect(only(parseIncomingEvent(other, context)).id).toMatch(/^cloudtrail:svc-x:/);
  });
});

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { changeIdForEvent, triggerContentHash, type GovernanceEvent } from '../../../../lambdas/domain/events.js';
import { guardDutySeverity } from '../../../../lambdas/domain/signals/guardduty.js';
import { parseIncomingEvent, type SignalResult } from '../../../../lambdas/domain/signals/index.js';
import { providerEvent, type ProviderEvent } from '../../../support/signals.js';

const KEY = 'AKIAEXAMPLEKEY000001';
const KEY2 = 'AKIAEXAMPLEKEY000002';

function triggersOf(result: SignalResult): readonly GovernanceEvent[] {
  if (result.outcome !== 'triggers') throw new Error(`expected triggers, got ${result.outcome}: ${result.outcome === 'ignored' ? result.reason : result.error}`);
  return result.triggers;
}
const only = (result: SignalResult): GovernanceEvent => {
  const list = triggersOf(result);
  expect(list).toHaveLength(1);
  return list[0] as GovernanceEvent;
};
const edited = (fixture: Parameters<typeof providerEvent>[0], edit: (e: ProviderEvent) => void, replace: Record<string, string> = {}) => providerEvent(fixture, replace, edit);

describe('AWS Health AWS_RISK_CREDENTIALS_EXPOSED', () => {
  const sample = providerEvent('health', { ACCESS_KEY_ID_HERE: KEY });

  it('is a critical Credential Exposed of the key, naming no user, de-duplicated on eventArn + key', () => {
    const trigger = only(parseIncomingEvent(sample));
    expect(trigger).toMatchObject({
      detailType: 'Credential Exposed',
      detail: { accessKeyId: KEY, severity: 'critical' },
      cause: { source: 'aws.health', detailType: 'AWS Health Event', eventId: sample.id, type: 'AWS_RISK_CREDENTIALS_EXPOSED', reference: sample.detail.eventArn },
    });
    expect(trigger.detailType === 'Credential Exposed' && trigger.detail.nhi).toBeUndefined();
    expect(trigger.id).toBe(`aws.health:${String(sample.detail.eventArn)}:${KEY}`);
  });

  it('makes one trigger, with its own key, per affected key', () => {
    const event = edited('health', (e) => {
      e.detail.affectedEntities = [{ entityValue: KEY }, { entityValue: KEY2 }, { entityValue: KEY }];
    });
    const list = triggersOf(parseIncomingEvent(event));
    expect(list.map((t) => t.detailType === 'Credential Exposed' && t.detail.accessKeyId)).toEqual([KEY, KEY2]);
    expect(new Set(list.map((t) => changeIdForEvent(t.id))).size).toBe(2);
  });

  it('ignores another Health event type and an event naming no key; refuses a malformed one', () => {
    expect(parseIncomingEvent(edited('health', (e) => (e.detail.eventTypeCode = 'AWS_EC2_INSTANCE_RETIREMENT_SCHEDULED')))).toEqual({
      outcome: 'ignored',
      reason: 'AWS Health event AWS_EC2_INSTANCE_RETIREMENT_SCHEDULED is not an exposed credential',
    });
    expect(parseIncomingEvent(edited('health', (e) => (e.detail.affectedEntities = [])))).toMatchObject({ outcome: 'ignored' });
    expect(parseIncomingEvent(edited('health', (e) => delete e.detail.eventArn))).toMatchObject({ outcome: 'invalid', error: expect.stringContaining('eventArn') });
    expect(parseIncomingEvent(edited('health', (e) => (e.detail.affectedEntities = [{ entityValue: 'not a key' }])))).toMatchObject({ outcome: 'invalid' });
  });
});

describe('GuardDuty access key findings', () => {
  const sample = providerEvent('guardDuty');

  it('the documented InstanceCredentialExfiltration sample (ASIA…, AssumedRole): the role, no key, severity 8 → high', () => {
    const trigger = only(parseIncomingEvent(sample));
    expect(trigger).toMatchObject({
      detailType: 'Credential Exposed',
      detail: { nhi: 'GeneratedFindingUserName', severity: 'high' },
      cause: { source: 'aws.guardduty', type: 'UnauthorizedAccess:IAMUser/InstanceCredentialExfiltration.OutsideAWS', subject: 'ASIASZ4SI7REEEXAMPLE', severity: 8 },
    });
    expect(trigger.detailType === 'Credential Exposed' && trigger.detail.accessKeyId).toBeUndefined();
    expect(trigger.id).toBe(`aws.guardduty:16afba5c5c43e07c9e3e5e2e544e95df:${String(sample.detail.updatedAt)}`);
  });

  it('an IAM user key: that key of that user', () => {
    const event = edited('guardDuty', (e) => {
      e.detail.resource = { resourceType: 'AccessKey', accessKeyDetails: { accessKeyId: KEY, userType: 'IAMUser', userName: 'svc-build' } };
    });
    expect(only(parseIncomingEvent(event)).detail).toEqual({ nhi: 'svc-build', accessKeyId: KEY, severity: 'high' });
  });

  it('maps the numeric severity: < 4 low, < 7 medium, < 9 high, else critical', () => {
    expect([0, 1, 3.9, 4, 5.5, 6.9, 7, 8.9, 9, 10].map(guardDutySeverity)).toEqual(['low', 'low', 'low', 'medium', 'medium', 'medium', 'high', 'high', 'critical', 'critical']);
    const low = edited('guardDuty', (e) => (e.detail.severity = 2));
    expect(only(parseIncomingEvent(low)).detail).toMatchObject({ severity: 'low' });
  });

  it('a new updatedAt is a new trigger; the same finding again is the same one', () => {
    const again = providerEvent('guardDuty');
    const updated = edited('guardDuty', (e) => (e.detail.updatedAt = '2024-02-06T00:00:00.000Z'));
    expect(only(parseIncomingEvent(again)).id).toBe(only(parseIncomingEvent(sample)).id);
    expect(only(parseIncomingEvent(updated)).id).not.toBe(only(parseIncomingEvent(sample)).id);
  });

  it('ignores findings on other resources, archived findings and root or federated principals; refuses a malformed one', () => {
    expect(parseIncomingEvent(edited('guardDuty', (e) => (e.detail.resource = { resourceType: 'Instance' })))).toMatchObject({ outcome: 'ignored', reason: expect.stringContaining('Instance') });
    expect(parseIncomingEvent(edited('guardDuty', (e) => ((e.detail.service as Record<string, unknown>).archived = true)))).toMatchObject({ outcome: 'ignored', reason: expect.stringContaining('archived') });
    expect(parseIncomingEvent(edited('guardDuty', (e) => (e.detail.resource = { resourceType: 'AccessKey', accessKeyDetails: { accessKeyId: KEY, userType: 'Root', userName: 'root' } })))).toMatchObject({ outcome: 'ignored' });
    expect(parseIncomingEvent(edited('guardDuty', (e) => (e.detail.severity = 'HIGH')))).toMatchObject({ outcome: 'invalid', error: expect.stringContaining('severity') });
    expect(parseIncomingEvent(edited('guardDuty', (e) => (e.detail.resource = { resourceType: 'AccessKey', accessKeyDetails: { accessKeyId: 'nope', userType: 'IAMUser', userName: 'svc' } })))).toMatchObject({ outcome: 'invalid' });
  });
});

describe('IAM Access Analyzer unused access', () => {
  const sample = providerEvent('accessAnalyzer');

  it('an ACTIVE finding reconciles the NHI it names, as of the analysis, with the finding as cause', () => {
    const trigger = only(parseIncomingEvent(sample));
    expect(trigger).toMatchObject({
      id: `aws.access-analyzer:${String(sample.detail.findingId)}:${String(sample.detail.updatedAt)}`,
      detailType: 'Reconcile Requested',
      detail: { scope: { nhi: 'arn:aws:iam::123456789012:user/example-user' }, asOf: sample.detail.analyzedAt },
      cause: { source: 'aws.access-analyzer', type: 'UnusedIAMUserAccessKey', reference: sample.detail.findingId },
    });
  });

  it.each(['UnusedIAMUserPassword', 'UnusedIAMRole', 'UnusedPermission'])('takes %s', (findingType) => {
    expect(only(parseIncomingEvent(edited('accessAnalyzer', (e) => (e.detail.findingType = findingType)))).cause?.type).toBe(findingType);
  });

  it('ignores archived and resolved findings; refuses unknown finding types and non-IAM resources', () => {
    for (const status of ['ARCHIVED', 'RESOLVED']) {
      expect(parseIncomingEvent(edited('accessAnalyzer', (e) => (e.detail.status = status)))).toMatchObject({ outcome: 'ignored', reason: expect.stringContaining(status) });
    }
    expect(parseIncomingEvent(edited('accessAnalyzer', (e) => (e.detail.findingType = 'ExternalAccess')))).toMatchObject({ outcome: 'invalid' });
    expect(parseIncomingEvent(edited('accessAnalyzer', (e) => (e.detail.resource = 'arn:aws:s3:::bucket')))).toMatchObject({ outcome: 'invalid', error: expect.stringContaining('detail.resource') });
  });
});

describe('Security Hub findings (ASFF)', () => {
  const sample = providerEvent('securityHub');
  const finding = () => ((sample.detail.findings as unknown[])[0] ?? {}) as Record<string, unknown>;

  it('a FAILED IAM control finding reconciles its user, the control recorded as cause', () => {
    const trigger = only(parseIncomingEvent(sample));
    expect(trigger).toMatchObject({
      detailType: 'Reconcile Requested',
      detail: { scope: { nhi: 'arn:aws:iam::123456789012:user/example-user' } },
      cause: { source: 'aws.securityhub', type: 'IAM.3', reference: finding().Id, severity: 'MEDIUM', updatedAt: finding().UpdatedAt },
    });
    expect(trigger.id).toBe(`aws.securityhub:${String(finding().Id)}:${String(finding().UpdatedAt)}:arn:aws:iam::123456789012:user/example-user`);
  });

  it('one trigger per IAM resource (an access key counts as its user), each with its own key', () => {
    const event = edited('securityHub', (e) => {
      const [f] = e.detail.findings as Array<Record<string, unknown>>;
      if (f) {
        f.Resources = [
          { Type: 'AwsIamUser', Id: 'arn:aws:iam::123456789012:user/svc-a' },
          { Type: 'AwsIamRole', Id: 'arn:aws:iam::123456789012:role/role-ci' },
          { Type: 'AwsIamAccessKey', Id: `AWS::IAM::AccessKey:${KEY}`, Details: { AwsIamAccessKey: { UserName: 'svc-b' } } },
          { Type: 'AwsS3Bucket', Id: 'arn:aws:s3:::bucket' },
        ];
      }
    });
    const list = triggersOf(parseIncomingEvent(event));
    expect(list.map((t) => t.detail)).toEqual([{ scope: { nhi: 'arn:aws:iam::123456789012:user/svc-a' } }, { scope: { nhi: 'arn:aws:iam::123456789012:role/role-ci' } }, { scope: { nhi: 'svc-b' } }]);
    expect(new Set(list.map((t) => t.id)).size).toBe(3);
  });

  it('ignores passed, suppressed and archived findings and findings on no IAM resource; refuses a malformed one', () => {
    const withFinding = (change: (f: Record<string, unknown>) => void) =>
      edited('securityHub', (e) => {
        const [f] = e.detail.findings as Array<Record<string, unknown>>;
        if (f) change(f);
      });
    expect(parseIncomingEvent(withFinding((f) => (f.Compliance = { Status: 'PASSED' })))).toMatchObject({ outcome: 'ignored', reason: expect.stringContaining('PASSED') });
    expect(parseIncomingEvent(withFinding((f) => (f.Workflow = { Status: 'SUPPRESSED' })))).toMatchObject({ outcome: 'ignored', reason: expect.stringContaining('suppressed') });
    expect(parseIncomingEvent(withFinding((f) => (f.RecordState = 'ARCHIVED')))).toMatchObject({ outcome: 'ignored', reason: expect.stringContaining('archived') });
    expect(parseIncomingEvent(withFinding((f) => (f.Resources = [{ Type: 'AwsS3Bucket', Id: 'arn:aws:s3:::b' }])))).toMatchObject({ outcome: 'ignored' });
    expect(parseIncomingEvent(edited('securityHub', (e) => (e.detail.findings = [])))).toMatchObject({ outcome: 'invalid' });
  });
});

describe('Okta user.lifecycle.deactivate', () => {
  const sample = providerEvent('okta', { EMAIL_HERE: 'Dave@Example.com' });

  it('is an Employee Terminated of the deactivated User (alternateId is the email), de-duplicated on uuid', () => {
    const trigger = only(parseIncomingEvent(sample));
    expect(trigger).toMatchObject({
      id: `okta:${String(sample.detail.uuid)}`,
      detailType: 'Employee Terminated',
      source: 'hr.system',
      detail: { employeeId: '00u1daveEXAMPLE0x7', email: 'dave@example.com', effectiveAt: sample.detail.published },
      cause: { source: sample.source, type: 'user.lifecycle.deactivate', reference: sample.detail.uuid },
    });
  });

  it('ignores other Okta events; refuses a deactivation without a User target or with no email', () => {
    expect(parseIncomingEvent(edited('okta', (e) => (e.detail.eventType = 'user.session.start')))).toEqual({ outcome: 'ignored', reason: 'Okta event user.session.start is not a user deactivation' });
    expect(parseIncomingEvent(edited('okta', (e) => (e.detail.target = [{ id: 'g1', type: 'UserGroup' }])))).toMatchObject({ outcome: 'invalid' });
    expect(parseIncomingEvent(providerEvent('okta'))).toMatchObject({ outcome: 'invalid', error: expect.stringContaining('alternateId') });
  });
});

describe('the custom event types at the same edge', () => {
  const exposed = (severity: string, extra: Record<string, unknown> = { nhi: 'svc-a' }) => ({ id: 'c-1', source: 'security.findings', 'detail-type': 'Credential Exposed', detail: { ...extra, severity } });

  it('take severity in any letter case', () => {
    for (const severity of ['HIGH', 'High', 'high', ' high ']) expect(only(parseIncomingEvent(exposed(severity))).detail).toMatchObject({ severity: 'high' });
    expect(parseIncomingEvent(exposed('urgent'))).toMatchObject({ outcome: 'invalid' });
  });

  it('need the nhi unless the key is given', () => {
    expect(only(parseIncomingEvent(exposed('critical', { accessKeyId: KEY }))).detail).toEqual({ accessKeyId: KEY, severity: 'critical' });
    expect(parseIncomingEvent(exposed('critical', {}))).toMatchObject({ outcome: 'invalid', error: expect.stringContaining('nhi') });
  });

  it('a provider-looking event the mappings do not know is refused as before', () => {
    expect(parseIncomingEvent({ id: 'x', source: 'aws.health', 'detail-type': 'AWS Health Abuse Event', detail: {} })).toMatchObject({ outcome: 'invalid', error: expect.stringContaining('unknown detail-type') });
  });

  it('never throw, whatever the input, the detail, or the provider', () => {
    fc.assert(fc.property(fc.anything(), (raw) => ['triggers', 'ignored', 'invalid'].includes(parseIncomingEvent(raw).outcome)));
    const envelopes = (['health', 'guardDuty', 'accessAnalyzer', 'securityHub', 'okta'] as const).map((f) => providerEvent(f));
    fc.assert(
      fc.property(fc.constantFrom(...envelopes), fc.dictionary(fc.string(), fc.jsonValue()), (envelope, detail) => typeof parseIncomingEvent({ ...envelope, detail: { ...envelope.detail, ...detail } }).outcome === 'string'),
    );
  });
});

describe('triggerContentHash', () => {
  it('tells a redelivery (another EventBridge id) from other content under the same key', () => {
    const first = only(parseIncomingEvent(providerEvent('health', { ACCESS_KEY_ID_HERE: KEY })));
    const redelivered = only(parseIncomingEvent(edited('health', (e) => (e.id = 'another-eventbridge-id'), { ACCESS_KEY_ID_HERE: KEY })));
    expect(redelivered.id).toBe(first.id);
    expect(triggerContentHash(redelivered)).toBe(triggerContentHash(first));
    const custom = (email: string) => only(parseIncomingEvent({ id: 'hr-1', source: 'hr.system', 'detail-type': 'Employee Terminated', detail: { employeeId: 'E1', email } }));
    expect(triggerContentHash(custom('a@example.com'))).not.toBe(triggerContentHash(custom('b@example.com')));
    expect(triggerContentHash(custom('A@example.com'))).toBe(triggerContentHash(custom('a@example.com')));
  });
});

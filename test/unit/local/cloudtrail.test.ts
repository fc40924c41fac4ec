import { describe, expect, it } from 'vitest';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { CloudTrail, localFunctionRoleArn } from '../../../local/gateway/cloudtrail.js';
import { parseIncomingEvent } from '../../../lambdas/domain/signals/index.js';

const ACCOUNT = '123456789012';
const auth = (key: string, service: string) => ({ authorization: `AWS4-HMAC-SHA256 Credential=${key}/20261130/us-east-1/${service}/aws4_request, SignedHeaders=host, Signature=abc` });
const trail = new CloudTrail({ events: new EventBridgeClient({ region: 'us-east-1' }), region: 'us-east-1', accountId: ACCOUNT, rootAccessKeyId: 'test', onError: () => undefined });
const iamWrite = { service: 'iam', action: 'UpdateAccessKey', protocol: 'query' as const };
const form = Buffer.from('Action=UpdateAccessKey&Version=2010-05-08&UserName=svc-a&AccessKeyId=AKIAEXAMPLE00001&Status=Active');

describe("the emulator's CloudTrail", () => {
  it('records a write as CloudTrail would, the emulator key as the account root, and the handlers take it as any CloudTrail event', () => {
    const detail = trail.detailOf({ call: iamWrite, headers: auth('test', 'iam'), body: form, status: 200, functionName: null });
    expect(detail).toMatchObject({
      eventSource: 'iam.amazonaws.com',
      eventName: 'UpdateAccessKey',
      userIdentity: { type: 'Root', arn: `arn:aws:iam::${ACCOUNT}:root`, accessKeyId: 'test' },
      requestParameters: { userName: 'svc-a', accessKeyId: 'AKIAEXAMPLE00001', status: 'Active' },
    });
    const envelope = { id: 'e1', source: 'aws.iam', 'detail-type': 'AWS API Call via CloudTrail', detail };
    const parsed = parseIncomingEvent(envelope, { workflowRoleArns: [localFunctionRoleArn(ACCOUNT, 'nhigov-write-action')] });
    expect(parsed).toMatchObject({ outcome: 'triggers', triggers: [{ detail: { scope: { nhi: 'svc-a' } } }] });
  });

  it("names a hosted handler's calls by its function's role: the workflow's own, ignored", () => {
    const detail = trail.detailOf({ call: iamWrite, headers: auth('test', 'iam'), body: form, status: 200, functionName: 'nhigov-write-action' });
    expect(detail).toMatchObject({ userIdentity: { type: 'AssumedRole', sessionContext: { sessionIssuer: { arn: localFunctionRoleArn(ACCOUNT, 'nhigov-write-action') } } } });
    const parsed = parseIncomingEvent({ id: 'e2', source: 'aws.iam', 'detail-type': 'AWS API Call via CloudTrail', detail }, { workflowRoleArns: [localFunctionRoleArn(ACCOUNT, 'nhigov-write-action')] });
    expect(parsed.outcome).toBe('ignored');
  });

  it("names a call the gateway signed as a function's role session by that session: role id, session ARN, the role as issuer", () => {
    const session = {
      accessKeyId: 'ASIAWRITEACTION00001',
      secretAccessKey: 's',
      sessionToken: 't',
      expiration: new Date(),
      roleArn: localFunctionRoleArn(ACCOUNT, 'nhigov-write-action'),
      roleId: 'AROAWRITEACTION00001',
      assumedRoleId: 'AROAWRITEACTION00001:nhigov-write-action',
      arn: `arn:aws:sts::${ACCOUNT}:assumed-role/nhigov-write-action/nhigov-write-action`,
      sessionName: 'nhigov-write-action',
    };
    const detail = trail.detailOf({ call: iamWrite, headers: auth(session.accessKeyId, 'iam'), body: form, status: 200, functionName: 'nhigov-write-action', session });
    expect(detail).toMatchObject({
      userIdentity: { type: 'AssumedRole', principalId: session.assumedRoleId, arn: session.arn, accessKeyId: session.accessKeyId, sessionContext: { sessionIssuer: { principalId: 'AROAWRITEACTION00001', arn: session.roleArn, userName: 'nhigov-write-action' } } },
    });
    const parsed = parseIncomingEvent({ id: 'e3', source: 'aws.iam', 'detail-type': 'AWS API Call via CloudTrail', detail }, { workflowRoleArns: [session.roleArn] });
    expect(parsed.outcome).toBe('ignored');
  });

  it('sends nothing for reads or other services, marks failed calls, and never records a secret value', () => {
    expect(trail.detailOf({ call: { service: 'iam', action: 'ListAccessKeys', protocol: 'query' }, headers: auth('test', 'iam'), body: Buffer.alloc(0), status: 200, functionName: null })).toBeNull();
    expect(trail.detailOf({ call: { service: 'dynamodb', action: 'PutItem', protocol: 'json' }, headers: auth('test', 'dynamodb'), body: Buffer.from('{}'), status: 200, functionName: null })).toBeNull();
    expect(trail.detailOf({ call: iamWrite, headers: auth('test', 'iam'), body: form, status: 403, functionName: null })).toMatchObject({ errorCode: 'HTTP403' });
    const put = trail.detailOf({ call: { service: 'secretsmanager', action: 'PutSecretValue', protocol: 'json' }, headers: auth('AKIAOTHERUSER0001', 'secretsmanager'), body: Buffer.from(JSON.stringify({ SecretId: 'app/key', SecretString: 'hunter2' })), status: 200, functionName: null });
    expect(put).toMatchObject({ eventSource: 'secretsmanager.amazonaws.com', userIdentity: { type: 'IAMUser', accessKeyId: 'AKIAOTHERUSER0001' }, requestParameters: { secretId: 'app/key', secretString: 'HIDDEN_DUE_TO_SECURITY_REASONS' } });
    expect(JSON.stringify(put)).not.toContain('hunter2');
  });

  it('records tag lists as CloudTrail does (query and JSON protocols)', () => {
    const tagUser = Buffer.from('Action=TagUser&Version=2010-05-08&UserName=svc-a&Tags.member.1.Key=owner&Tags.member.1.Value=m%40example.com');
    expect(trail.detailOf({ call: { service: 'iam', action: 'TagUser', protocol: 'query' }, headers: auth('test', 'iam'), body: tagUser, status: 200, functionName: null })?.requestParameters).toEqual({ userName: 'svc-a', tags: [{ key: 'owner', value: 'm@example.com' }] });
    const untag = Buffer.from('Action=UntagRole&Version=2010-05-08&RoleName=r&TagKeys.member.1=nhi-governed');
    expect(trail.detailOf({ call: { service: 'iam', action: 'UntagRole', protocol: 'query' }, headers: auth('test', 'iam'), body: untag, status: 200, functionName: null })?.requestParameters).toEqual({ roleName: 'r', tagKeys: ['nhi-governed'] });
    const tagSecret = Buffer.from(JSON.stringify({ SecretId: 's', Tags: [{ Key: 'owner', Value: 'x@example.com' }] }));
    expect(trail.detailOf({ call: { service: 'secretsmanager', action: 'TagResource', protocol: 'json' }, headers: auth('test', 'secretsmanager'), body: tagSecret, status: 200, functionName: null })?.requestParameters).toEqual({ secretId: 's', tags: [{ key: 'owner', value: 'x@example.com' }] });
  });
});

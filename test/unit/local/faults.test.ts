import { describe, expect, it } from 'vitest';
import { identifyAwsCall } from '../../../local/gateway/aws-request.js';
import { errorResponse, FaultBook, faultRuleSchema, successResponse } from '../../../local/gateway/faults.js';

const auth = (service: string) => ({ authorization: `AWS4-HMAC-SHA256 Credential=test/20261122/us-east-1/${service}/aws4_request, SignedHeaders=host, Signature=abc` });

describe('identifyAwsCall', () => {
  it('reads query-protocol actions (IAM) from the form body', () => {
    const call = identifyAwsCall('POST', '/', { ...auth('iam'), 'content-type': 'application/x-www-form-urlencoded; charset=utf-8' }, Buffer.from('Action=UpdateAccessKey&Version=2010-05-08'));
    expect(call).toEqual({ service: 'iam', action: 'UpdateAccessKey', protocol: 'query' });
  });
  it('reads JSON-protocol actions from X-Amz-Target and names Step Functions "sfn"', () => {
    expect(identifyAwsCall('POST', '/', { ...auth('secretsmanager'), 'x-amz-target': 'secretsmanager.PutSecretValue' }, Buffer.alloc(0))).toEqual({
      service: 'secretsmanager',
      action: 'PutSecretValue',
      protocol: 'json',
    });
    expect(identifyAwsCall('POST', '/', { ...auth('states'), 'x-amz-target': 'AWSStepFunctions.StartExecution' }, Buffer.alloc(0))?.service).toBe('sfn');
  });
  it('names REST calls (Lambda Invoke, SES v2 SendEmail)', () => {
    expect(identifyAwsCall('POST', '/2015-03-31/functions/f/invocations', auth('lambda'), Buffer.alloc(0))?.action).toBe('Invoke');
    expect(identifyAwsCall('POST', '/v2/email/outbound-emails', auth('ses'), Buffer.alloc(0))?.action).toBe('SendEmail');
  });
  it('returns null for unsigned requests (moto-api, our routes)', () => {
    expect(identifyAwsCall('GET', '/moto-api/data.json', {}, Buffer.alloc(0))).toBeNull();
  });
});

describe('FaultBook', () => {
  const call = { service: 'iam', action: 'UpdateAccessKey', protocol: 'query' as const };
  it('hits exactly `times` matching calls, then expires', () => {
    const book = new FaultBook();
    book.add({ service: 'iam', action: 'UpdateAccessKey', mode: 'throttle', times: 2 });
    expect(book.take(call, false)?.mode).toBe('throttle');
    expect(book.take({ ...call, action: 'ListAccessKeys' }, false)).toBeNull();
    expect(book.take(call, false)?.mode).toBe('throttle');
    expect(book.take(call, false)).toBeNull();
    expect(book.list()).toEqual([]);
    expect(book.counters()).toEqual({ throttle: 2 });
  });
  it('matches "*" on any action of the service, first rule first', () => {
    const book = new FaultBook();
    book.add({ service: 'iam', action: '*', mode: 'error5xx', times: 1 });
    book.add({ service: 'iam', action: 'UpdateAccessKey', mode: 'swallow', times: 1 });
    expect(book.take(call, false)?.mode).toBe('error5xx');
    expect(book.take(call, false)?.mode).toBe('swallow');
  });
  it('never swallows or lags a read (those modes are about writes)', () => {
    const book = new FaultBook();
    book.add({ service: 'iam', action: '*', mode: 'swallow', times: 1 });
    expect(book.take({ service: 'iam', action: 'GetAccountAuthorizationDetails', protocol: 'query' }, false)).toBeNull();
    expect(book.take({ service: 'iam', action: 'ListAccessKeys', protocol: 'query' }, false)).toBeNull();
    expect(book.take(call, false)?.mode).toBe('swallow');
  });
  it('crashes only writes made by a hosted handler', () => {
    const book = new FaultBook();
    book.add({ service: 'iam', action: '*', mode: 'crash', times: 1 });
    expect(book.take({ service: 'iam', action: 'ListAccessKeys', protocol: 'query' }, true)).toBeNull();
    expect(book.take(call, false)).toBeNull();
    expect(book.take(call, true)?.mode).toBe('crash');
    expect(book.list()).toEqual([]);
  });
  it('refuses malformed rules', () => {
    expect(faultRuleSchema.safeParse({ service: 'iam', action: '*', mode: 'explode', times: 1 }).success).toBe(false);
    expect(faultRuleSchema.safeParse({ service: 'iam', action: '*', mode: 'throttle', times: 0 }).success).toBe(false);
    expect(faultRuleSchema.safeParse({ service: 'iam', action: '*', mode: 'delay', times: 1, ms: 5, extra: 1 }).success).toBe(false);
  });
});

describe('canned AWS responses', () => {
  it('speaks the protocol of the call so the SDK classifies it like AWS', () => {
    const throttled = errorResponse({ service: 'iam', action: 'UpdateAccessKey', protocol: 'query' }, 'throttle');
    expect(throttled.status).toBe(400);
    expect(throttled.body).toContain('<Code>Throttling</Code>');
    const denied = errorResponse({ service: 'secretsmanager', action: 'PutSecretValue', protocol: 'json' }, 'accessDenied');
    expect(JSON.parse(denied.body).__type).toBe('AccessDeniedException');
    expect(errorResponse({ service: 'iam', action: 'X', protocol: 'query' }, 'error5xx').status).toBe(500);
    expect(successResponse({ service: 'iam', action: 'UpdateAccessKey', protocol: 'query' }).body).toContain('<UpdateAccessKeyResponse');
    expect(successResponse({ service: 'secretsmanager', action: 'PutSecretValue', protocol: 'json' }).body).toBe('{}');
  });
});

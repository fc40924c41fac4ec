import { describe, expect, it } from 'vitest';
import { signedAs, signingOf } from '../../../local/gateway/request-signing.js';

/** AWS's SigV4 test suite, get-vanilla: the signature AWS documents for this request and key. */
const VANILLA_KEY = { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY' };
const VANILLA_DATE = new Date('2015-08-30T12:36:00Z');
const asHostKey = (service: string) => `AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/${service}/aws4_request, SignedHeaders=host;x-amz-date, Signature=0000`;

describe("the gateway signs a hosted function's call as its role", () => {
  it('signs as SigV4 does (AWS test suite, get-vanilla), in the scope the caller signed for', async () => {
    const headers = await signedAs(VANILLA_KEY, { method: 'GET', url: '/', headers: { host: 'example.amazonaws.com', authorization: asHostKey('service'), 'x-amz-date': '20260101T000000Z' }, body: Buffer.alloc(0) }, VANILLA_DATE);
    expect(headers.authorization).toBe(
      'AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31',
    );
    expect(headers['x-amz-date']).toBe('20150830T123600Z');
  });

  it("carries the session's token and key, keeps the body's headers and a payload hash the client sent", async () => {
    const session = { accessKeyId: 'ASIAFUNCTIONSESSION1', secretAccessKey: 'secret', sessionToken: 'token-1' };
    const headers = await signedAs(
      session,
      { method: 'PUT', url: '/bucket/key?versionId=1', headers: { host: '127.0.0.1:4566', authorization: asHostKey('s3'), 'x-amz-security-token': 'old', 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD', 'content-type': 'application/json' }, body: Buffer.from('{}') },
    );
    expect(signingOf(headers)).toEqual({ accessKeyId: 'ASIAFUNCTIONSESSION1', region: 'us-east-1', service: 's3' });
    expect(headers).toMatchObject({ 'x-amz-security-token': 'token-1', 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD', 'content-type': 'application/json', host: '127.0.0.1:4566' });
    expect(String(headers.authorization)).toMatch(/SignedHeaders=content-type;host;x-amz-content-sha256;x-amz-date;x-amz-security-token,/);
  });

  it('leaves a request it cannot read the scope of as it is', async () => {
    const headers = { host: 'h', authorization: 'Bearer x' };
    expect(await signedAs(VANILLA_KEY, { method: 'GET', url: '/', headers, body: Buffer.alloc(0) })).toBe(headers);
  });
});

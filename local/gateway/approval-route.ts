import type { IncomingMessage } from 'node:http';
import type { LambdaFunctionURLEvent } from 'aws-lambda';
import type { LambdaHost } from './lambda-host.js';
import type { GatewayRoute } from './server.js';

/** The approval API's paths: approval links, and attestation campaigns' owner links. */
const APPROVAL_PATH = /^\/(?:approvals\/[^/]+|attestations\/[^/]+\/[^/]+)\/?$/;

/**
 * The approval API behind the gateway: each request becomes the function URL event AWS would
 * deliver, and runs the same `approval-api` bundle the Lambda runs. One core, and this adapter.
 */
export function approvalRoute(lambdas: LambdaHost, functionName: string): GatewayRoute {
  return async (request, body, response) => {
    const url = new URL(request.url ?? '/', 'http://gateway.local');
    if (!APPROVAL_PATH.test(url.pathname)) return false;
    const result = await lambdas.invoke(functionName, functionUrlEvent(request, url, body));
    const payload = (result.payload ?? {}) as { statusCode?: number; headers?: Record<string, string>; body?: string; isBase64Encoded?: boolean };
    if (result.functionError) {
      // As a function URL does: a crashed handler is a 502 with no detail for the caller.
      response.writeHead(502, { 'content-type': 'text/plain', 'x-amzn-requestid': result.requestId });
      response.end('Internal Server Error');
      return true;
    }
    const text = payload.body ?? '';
    const bytes = payload.isBase64Encoded ? Buffer.from(text, 'base64') : Buffer.from(text, 'utf8');
    response.writeHead(payload.statusCode ?? 200, { ...(payload.headers ?? {}), 'content-length': String(bytes.length), 'x-amzn-requestid': result.requestId });
    response.end(bytes);
    return true;
  };
}

/** A Lambda function URL (payload format 2.0) event for a request. */
export function functionUrlEvent(request: IncomingMessage, url: URL, body: Buffer): LambdaFunctionURLEvent {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(request.headers)) if (value !== undefined) headers[name.toLowerCase()] = Array.isArray(value) ? value.join(',') : value;
  const now = new Date();
  const method = request.method ?? 'GET';
  return {
    version: '2.0',
    routeKey: '$default',
    rawPath: url.pathname,
    rawQueryString: url.search.replace(/^\?/, ''),
    headers,
    ...(url.search ? { queryStringParameters: Object.fromEntries(url.searchParams) } : {}),
    requestContext: {
      accountId: 'anonymous',
      apiId: 'local-gateway',
      domainName: headers.host ?? 'localhost',
      domainPrefix: 'localhost',
      http: { method, path: url.pathname, protocol: 'HTTP/1.1', sourceIp: request.socket.remoteAddress ?? '127.0.0.1', userAgent: headers['user-agent'] ?? '' },
      requestId: `local-${now.getTime()}`,
      routeKey: '$default',
      stage: '$default',
      time: now.toUTCString(),
      timeEpoch: now.getTime(),
    },
    ...(body.length > 0 ? { body: body.toString('base64') } : {}),
    isBase64Encoded: body.length > 0,
  } as LambdaFunctionURLEvent;
}

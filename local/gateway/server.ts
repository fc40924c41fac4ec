import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import { identifyAwsCall } from './aws-request.js';
import { errorResponse, FaultBook, faultRuleSchema, successResponse, type CannedResponse } from './faults.js';
import type { LambdaHost } from './lambda-host.js';
import type { CloudTrail } from './cloudtrail.js';
import type { FunctionSessions, RoleSession } from './function-roles.js';
import { signedAs, signingOf } from './request-signing.js';
import { GatewayStats } from './stats.js';
import { formatIssues } from '../../lambdas/domain/events.js';
import { setTimeout as sleep } from 'node:timers/promises';

/** A route of ours (approval API, console, webhook sink): answers true when it handled the request. */
export type GatewayRoute = (request: IncomingMessage, body: Buffer, response: ServerResponse) => Promise<boolean>;

export interface GatewayOptions {
  readonly port: number;
  readonly motoPort: number;
  readonly lambdas: LambdaHost;
  readonly routes?: GatewayRoute[];
  /** The emulator's CloudTrail: delivers the events of IAM and Secrets Manager writes forwarded to moto. */
  readonly cloudTrail?: CloudTrail;
  /**
   * Each hosted function's own role: a call a hosted invocation signs with the key the host's
   * environment gives every handler (`hostAccessKeyId`) is signed again with its function's
   * session before it is forwarded. Calls signed with any other key (a member account's session
   * the function took itself) go as they came.
   */
  readonly functionRoles?: { readonly sessions: FunctionSessions; readonly hostAccessKeyId: string };
}

const INVOKE_PATH = /^\/2015-03-31\/functions\/([^/]+)\/invocations$/;

/**
 * One port in front of moto: runs our handlers for Lambda Invoke, serves our routes, applies
 * fault rules, counts AWS calls, forwards the rest to moto.
 */
export class Gateway {
  readonly stats = new GatewayStats();
  readonly faults = new FaultBook();
  private readonly server: http.Server;
  private readonly routes: GatewayRoute[];

  constructor(private readonly options: GatewayOptions) {
    this.routes = [...(options.routes ?? [])];
    this.server = http.createServer((request, response) => {
      this.handle(request, response).catch((error: unknown) => {
        if (!response.headersSent) response.writeHead(500, { 'content-type': 'text/plain' });
        response.end(`gateway error: ${error instanceof Error ? error.message : String(error)}`);
      });
    });
    this.server.keepAliveTimeout = 65_000;
  }

  addRoute(route: GatewayRoute): void {
    this.routes.push(route);
  }

  listen(): Promise<void> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(this.options.port, '127.0.0.1', () => {
        this.server.off('error', reject);
        resolve();
      });
    });
  }

  close(): Promise<void> {
    this.options.lambdas.close();
    return new Promise((resolve) => {
      this.server.closeAllConnections();
      this.server.close(() => resolve());
    });
  }

  private async handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const body = await readBody(request);
    const url = request.url ?? '/';
    const path = url.split('?')[0] ?? '/';
    if (path.startsWith('/_nhigov/')) return this.control(request, path, body, response);
    for (const route of this.routes) if (await route(request, body, response)) return;

    const call = identifyAwsCall(request.method ?? 'GET', url, request.headers, body);
    const invoke = INVOKE_PATH.exec(path);
    if (invoke?.[1] && request.method === 'POST') {
      const name = this.options.lambdas.resolve(invoke[1]);
      if (name) {
        if (call) this.stats.countAws('lambda', 'Invoke');
        this.stats.countLambda(name);
        return this.invokeLambda(name, body, response);
      }
    }
    if (!call) return this.forward(request, body, response);
    this.stats.countAws(call.service, call.action);
    const table = call.service === 'dynamodb' ? dynamoDbTableOf(body) : null;
    if (table) this.stats.countDynamoDbTable(table, call.action);
    const invocation = this.options.lambdas.invocationAt(request.socket);
    const session = invocation ? await this.sessionFor(invocation.functionName, request.headers) : null;
    const headers = session ? await signedAs(session, { method: request.method ?? 'GET', url, headers: request.headers, body }) : request.headers;
    const fault = this.faults.take(call, invocation !== null);
    if (!fault) {
      await this.forward(request, body, response, headers);
      this.options.cloudTrail?.record({ call, headers, body, status: response.statusCode, functionName: invocation?.functionName ?? null, session });
      return;
    }
    switch (fault.mode) {
      case 'throttle':
      case 'error5xx':
      case 'accessDenied':
        return send(response, errorResponse(call, fault.mode));
      case 'delay':
        await sleep(fault.ms ?? 1000);
        return this.forward(request, body, response, headers);
      case 'swallow':
        return send(response, successResponse(call));
      case 'lag': {
        send(response, successResponse(call));
        const replay = { method: request.method ?? 'POST', url, headers: { ...headers } };
        setTimeout(() => void this.forwardDetached(replay, body), fault.ms ?? 2000);
        return;
      }
      case 'crash': {
        // The write lands; the handler that made it dies before it hears back (its call is never
        // answered, so it never resumes), as a Lambda whose process is killed mid-flight.
        await this.forwardDetached({ method: request.method ?? 'POST', url, headers: { ...headers } }, body);
        invocation?.crash(`Runtime exited with error: signal: killed (crash fault after ${call.service}:${call.action})`);
        return;
      }
    }
  }

  private async invokeLambda(name: string, body: Buffer, response: ServerResponse): Promise<void> {
    let event: unknown = {};
    if (body.length > 0) {
      try {
        event = JSON.parse(body.toString('utf8'));
      } catch {
        return send(response, { status: 400, headers: { 'x-amzn-errortype': 'InvalidRequestContentException' }, body: JSON.stringify({ message: 'payload is not JSON' }) });
      }
    }
    const result = await this.options.lambdas.invoke(name, event);
    const headers: Record<string, string> = {
      'content-type': 'application/json',
      'x-amzn-requestid': result.requestId,
      'x-amz-executed-version': '$LATEST',
    };
    if (result.functionError) headers['x-amz-function-error'] = result.functionError;
    send(response, { status: 200, headers, body: JSON.stringify(result.payload) });
  }

  private async control(request: IncomingMessage, path: string, body: Buffer, response: ServerResponse): Promise<void> {
    const method = request.method ?? 'GET';
    if (path === '/_nhigov/health') return sendJson(response, 200, { ok: true });
    if (path === '/_nhigov/stats' && method === 'GET') return sendJson(response, 200, { ...this.stats.snapshot(), faults: this.faults.counters() });
    if (path === '/_nhigov/stats' && method === 'DELETE') {
      this.stats.reset();
      return sendJson(response, 200, { reset: true });
    }
    if (path === '/_nhigov/faults' && method === 'GET') return sendJson(response, 200, { rules: this.faults.list() });
    if (path === '/_nhigov/faults' && method === 'DELETE') {
      this.faults.clear();
      return sendJson(response, 200, { cleared: true });
    }
    if (path === '/_nhigov/faults' && method === 'POST') {
      let raw: unknown;
      try {
        raw = JSON.parse(body.toString('utf8'));
      } catch {
        return sendJson(response, 400, { error: 'the fault rule is not JSON' });
      }
      const parsed = faultRuleSchema.safeParse(raw);
      if (!parsed.success) return sendJson(response, 400, { error: formatIssues(parsed.error) });
      return sendJson(response, 201, this.faults.add(parsed.data));
    }
    return sendJson(response, 404, { error: `no control route ${method} ${path}` });
  }

  /** The session a hosted function's call is signed again with; null for any other call. */
  private async sessionFor(functionName: string, headers: IncomingMessage['headers']): Promise<RoleSession | null> {
    const roles = this.options.functionRoles;
    if (!roles?.sessions.has(functionName) || signingOf(headers)?.accessKeyId !== roles.hostAccessKeyId) return null;
    return roles.sessions.sessionOf(functionName);
  }

  private forward(request: IncomingMessage, body: Buffer, response: ServerResponse, headers: IncomingMessage['headers'] = request.headers): Promise<void> {
    return new Promise((resolve, reject) => {
      const upstream = http.request(
        { host: '127.0.0.1', port: this.options.motoPort, method: request.method, path: request.url, headers },
        (reply) => {
          response.writeHead(reply.statusCode ?? 502, reply.headers);
          reply.pipe(response);
          reply.on('end', resolve);
          reply.on('error', reject);
        },
      );
      upstream.on('error', (error) => {
        if (!response.headersSent) sendJson(response, 502, { error: `moto is not answering: ${error.message}` });
        resolve();
      });
      upstream.end(body);
    });
  }

  private forwardDetached(call: { method: string; url: string; headers: http.IncomingHttpHeaders }, body: Buffer): Promise<void> {
    return new Promise((resolve) => {
      const upstream = http.request({ host: '127.0.0.1', port: this.options.motoPort, method: call.method, path: call.url, headers: call.headers }, (reply) => {
        reply.resume();
        reply.on('end', resolve);
      });
      upstream.on('error', () => resolve());
      upstream.end(body);
    });
  }
}

function readBody(request: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => resolve(Buffer.concat(chunks)));
    request.on('error', reject);
  });
}

function send(response: ServerResponse, canned: CannedResponse): void {
  response.writeHead(canned.status, { ...canned.headers, 'content-length': Buffer.byteLength(canned.body) });
  response.end(canned.body);
}

export function sendJson(response: ServerResponse, status: number, document: unknown): void {
  send(response, { status, headers: { 'content-type': 'application/json' }, body: JSON.stringify(document) });
}

/** The table a single-table DynamoDB call names (GetItem, PutItem, Query, ...); null for batch and transaction calls. */
/** The table a DynamoDB call names; a transaction counts once, on the first table it writes. */
function dynamoDbTableOf(body: Buffer): string | null {
  try {
    const parsed: unknown = JSON.parse(body.toString('utf8'));
    if (typeof parsed !== 'object' || parsed === null) return null;
    const first: unknown = 'TransactItems' in parsed && Array.isArray(parsed.TransactItems) ? Object.values(parsed.TransactItems[0] ?? {})[0] : parsed;
    const table = typeof first === 'object' && first !== null && 'TableName' in first ? first.TableName : null;
    return typeof table === 'string' ? table : null;
  } catch {
    return null;
  }
}

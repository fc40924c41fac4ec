import { AsyncLocalStorage } from 'node:async_hooks';
import { randomUUID } from 'node:crypto';
import diagnostics from 'node:diagnostics_channel';
import type { ClientRequest } from 'node:http';
import type { Socket } from 'node:net';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { LAMBDA_CRASH_ERROR } from '../../lambdas/domain/reasons.js';
import { HANDLER_DIST } from '../build.js';

type Handler = (event: unknown, context: LambdaContextLike) => Promise<unknown>;

export interface LambdaContextLike {
  readonly functionName: string;
  readonly functionVersion: string;
  readonly invokedFunctionArn: string;
  readonly memoryLimitInMB: string;
  readonly awsRequestId: string;
  readonly logGroupName: string;
  readonly logStreamName: string;
  readonly callbackWaitsForEmptyEventLoop: boolean;
  getRemainingTimeInMillis(): number;
}

export interface InvokeResult {
  readonly requestId: string;
  /** Set when the handler threw: Step Functions maps errorType to the error name. */
  readonly functionError?: 'Unhandled';
  readonly payload: unknown;
}

/** One running invocation; `crash` ends it as if its process died (the handler never resumes). */
export interface Invocation {
  readonly requestId: string;
  readonly functionName: string;
  crash(reason: string): void;
}

type LiveInvocation = Invocation & { ended: boolean };

/**
 * How many invocations run at once; the rest wait their turn in arrival order. Lambda runs each
 * invocation in its own sandbox; here they share one process and moto's one core, and a load
 * test (200 changes, up to 10 parallel writes each) measured that running them all at once
 * collapses: every AWS call took seconds, writes hit their Lambda timeout and were retried
 * (2,854 Write invocations for 134 writes). Queued time does not count toward the timeout,
 * as Lambda's timeout starts when the function does. NHIGOV_LOCAL_LAMBDA_CONCURRENCY overrides.
 */
export const DEFAULT_LOCAL_CONCURRENCY = 24;

/** A FIFO counting semaphore. */
class Slots {
  private free: number;
  private readonly waiting: Array<() => void> = [];

  constructor(size: number) {
    this.free = size;
  }

  async acquire(): Promise<void> {
    if (this.free > 0) {
      this.free -= 1;
      return;
    }
    await new Promise<void>((resolve) => this.waiting.push(resolve));
  }

  release(): void {
    const next = this.waiting.shift();
    if (next) next();
    else this.free += 1;
  }

  get queued(): number {
    return this.waiting.length;
  }
}

/** Runs our bundled handlers (dist/handlers/NAME.mjs) in this process, as Lambda would. */
export class LambdaHost {
  private readonly loaded = new Map<string, Promise<Handler>>();
  private readonly loadFailures = new Map<string, number>();
  private readonly current = new AsyncLocalStorage<LiveInvocation>();
  /**
   * The invocation behind each client socket of the handlers' AWS calls, by its local and remote
   * port: Linux gives one ephemeral port to connections to different destinations at once (the
   * 4-tuple is what is unique), so the local port alone could name the gateway's own connection to
   * moto, and forgetting that one forgot the handler's (a load run lost 13 evidence drafts so:
   * their calls reached the gateway unattributed, signed as the account root).
   */
  private readonly bySocket = new Map<string, LiveInvocation>();
  private readonly onRequestStart = (message: unknown): void => this.bindSocket((message as { request: ClientRequest }).request);
  private readonly slots: Slots;
  /** Functions with slots of their own, outside the shared ones. */
  private readonly ownSlots: ReadonlyMap<string, Slots>;
  private readonly bundleDir: string;

  constructor(
    private readonly functionNames: ReadonlyMap<string, { bundle: string; timeoutSeconds: number }>,
    private readonly region: string,
    private readonly accountId: string,
    options: {
      readonly concurrency?: number;
      readonly bundleDir?: string;
      /**
       * Functions that run in slots of their own (name → how many): those others wait for while
       * holding a shared slot (the evidence writer, which a recording handler waits on), so a
       * queue of such handlers cannot starve them. Lambda scales each function separately.
       */
      readonly ownConcurrency?: ReadonlyMap<string, number>;
    } = {},
  ) {
    const concurrency = options.concurrency ?? DEFAULT_LOCAL_CONCURRENCY;
    this.bundleDir = options.bundleDir ?? HANDLER_DIST;
    if (!Number.isInteger(concurrency) || concurrency < 1) throw new Error(`local Lambda concurrency must be a positive integer, not ${concurrency}`);
    this.slots = new Slots(concurrency);
    this.ownSlots = new Map([...(options.ownConcurrency ?? new Map<string, number>())].map(([name, size]) => [name, new Slots(size)]));
    diagnostics.subscribe('http.client.request.start', this.onRequestStart);
  }

  /** Stops attributing outgoing calls (the gateway is closing). */
  close(): void {
    diagnostics.unsubscribe('http.client.request.start', this.onRequestStart);
  }

  /**
   * The live invocation that made an AWS call the gateway received on `socket` (its remote port is
   * the caller's local port, its local port the one the caller connected to); null for calls from
   * outside a hosted handler or from one that ended.
   */
  invocationAt(socket: { readonly remotePort?: number | undefined; readonly localPort?: number | undefined }): Invocation | null {
    const invocation = socket.remotePort === undefined || socket.localPort === undefined ? undefined : this.bySocket.get(socketKey(socket.remotePort, socket.localPort));
    return invocation && !invocation.ended ? invocation : null;
  }

  /** Accepts a function name or ARN; null when it is not one of ours. */
  resolve(nameOrArn: string): string | null {
    const name = decodeURIComponent(nameOrArn).split(':function:').pop()?.split(':')[0] ?? '';
    return this.functionNames.has(name) ? name : null;
  }

  /** Invocations waiting for a free slot. */
  get queued(): number {
    return this.slots.queued;
  }

  async invoke(functionName: string, event: unknown): Promise<InvokeResult> {
    const spec = this.functionNames.get(functionName);
    if (!spec) throw new Error(`no local function ${functionName}`);
    const slots = this.ownSlots.get(functionName) ?? this.slots;
    await slots.acquire();
    try {
      return await this.run(functionName, spec, event);
    } finally {
      slots.release();
    }
  }

  private async run(functionName: string, spec: { bundle: string; timeoutSeconds: number }, event: unknown): Promise<InvokeResult> {
    const requestId = randomUUID();
    const deadline = Date.now() + spec.timeoutSeconds * 1000;
    const context: LambdaContextLike = {
      functionName,
      functionVersion: '$LATEST',
      invokedFunctionArn: `arn:aws:lambda:${this.region}:${this.accountId}:function:${functionName}`,
      memoryLimitInMB: '512',
      awsRequestId: requestId,
      logGroupName: `/aws/lambda/${functionName}`,
      logStreamName: 'local',
      callbackWaitsForEmptyEventLoop: false,
      getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    };
    let timer: NodeJS.Timeout | undefined;
    let endAbruptly: (reason: string) => void = () => undefined;
    const ended = new Promise<string>((resolve) => {
      endAbruptly = resolve;
      timer = setTimeout(() => resolve(`Task timed out after ${spec.timeoutSeconds.toFixed(2)} seconds`), spec.timeoutSeconds * 1000);
    });
    const invocation: LiveInvocation = { requestId, functionName, ended: false, crash: (reason) => endAbruptly(reason) };
    try {
      const handler = await this.load(functionName, spec.bundle);
      const outcome = await Promise.race([
        this.current.run(invocation, () => handler(event, context)).then((payload) => ({ payload: payload ?? null })),
        ended.then((reason) => ({ crashed: reason })),
      ]);
      if ('crashed' in outcome) {
        // moto's Step Functions takes the error name from errorType: answer what AWS reports for a crash.
        return { requestId, functionError: 'Unhandled', payload: { errorType: LAMBDA_CRASH_ERROR, errorMessage: `RequestId: ${requestId} Error: ${outcome.crashed}`, trace: [] } };
      }
      return { requestId, payload: outcome.payload };
    } catch (error) {
      const err = error instanceof Error ? error : new Error(String(error));
      return { requestId, functionError: 'Unhandled', payload: { errorType: err.name || 'Error', errorMessage: err.message, trace: [] } };
    } finally {
      invocation.ended = true;
      clearTimeout(timer);
    }
  }

  /**
   * Runs as any HTTP request of this process starts: records which invocation (if any) owns the
   * request's socket, by its local port, so the gateway can tell which handler made a call it
   * receives. A socket reused by a call from outside every invocation is forgotten.
   */
  private bindSocket(request: ClientRequest): void {
    const invocation = this.current.getStore();
    const bind = (socket: Socket): void => {
      if (socket.localPort === undefined || socket.remotePort === undefined) return;
      const key = socketKey(socket.localPort, socket.remotePort);
      if (invocation) this.bySocket.set(key, invocation);
      else this.bySocket.delete(key);
    };
    // The request bytes leave only once the socket is connected, so the port is known in time.
    const whenConnected = (socket: Socket): void => {
      if (socket.connecting) socket.once('connect', () => bind(socket));
      else bind(socket);
    };
    if (request.socket) whenConnected(request.socket as Socket);
    else request.once('socket', whenConnected);
  }

  /**
   * A failed load is not kept: that invocation fails, the next one loads again (as a Lambda
   * whose init failed starts a new sandbox). Node caches a module that failed to load under its
   * URL, so each attempt after a failure gets a URL of its own.
   */
  private load(functionName: string, bundle: string): Promise<Handler> {
    let handler = this.loaded.get(functionName);
    if (!handler) {
      const failures = this.loadFailures.get(functionName) ?? 0;
      const url = `${pathToFileURL(path.join(this.bundleDir, bundle)).href}${failures > 0 ? `?attempt=${failures}` : ''}`;
      handler = import(url).then((mod: { handler?: Handler }) => {
        if (typeof mod.handler !== 'function') throw new Error(`${bundle} exports no handler`);
        return mod.handler;
      });
      handler.catch(() => {
        this.loaded.delete(functionName);
        this.loadFailures.set(functionName, failures + 1);
      });
      this.loaded.set(functionName, handler);
    }
    return handler;
  }
}

/** A local TCP connection by its ports: the caller's (ephemeral) port and the port it connected to. */
function socketKey(callerPort: number, calleePort: number): string {
  return `${callerPort}>${calleePort}`;
}

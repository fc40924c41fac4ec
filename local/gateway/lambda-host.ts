import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
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

/** Runs our bundled handlers (dist/handlers/NAME.mjs) in this process, as Lambda would. */
export class LambdaHost {
  private readonly loaded = new Map<string, Promise<Handler>>();

  constructor(
    private readonly functionNames: ReadonlyMap<string, { bundle: string; timeoutSeconds: number }>,
    private readonly region: string,
    private readonly accountId: string,
  ) {}

  /** Accepts a function name or ARN; null when it is not one of ours. */
  resolve(nameOrArn: string): string | null {
    const name = decodeURIComponent(nameOrArn).split(':function:').pop()?.split(':')[0] ?? '';
    return this.functionNames.has(name) ? name : null;
  }

  async invoke(functionName: string, event: unknown): Promise<InvokeResult> {
    const spec = this.functionNames.get(functionName);
    if (!spec) throw new Error(`no local function ${functionName}`);
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
    try {
      const handler = await this.load(functionName, spec.bundle);
      const payload = await handler(event, context);
      return { requestId, payload: payload ?? null };
    } catch (error) {
      const err = error instanceof Error ? error : new Error(String(error));
      return { requestId, functionError: 'Unhandled', payload: { errorType: err.name || 'Error', errorMessage: err.message, trace: [] } };
    }
  }

  private load(functionName: string, bundle: string): Promise<Handler> {
    let handler = this.loaded.get(functionName);
    if (!handler) {
      const url = pathToFileURL(path.join(HANDLER_DIST, bundle)).href;
      handler = import(url).then((mod: { handler?: Handler }) => {
        if (typeof mod.handler !== 'function') throw new Error(`${bundle} exports no handler`);
        return mod.handler;
      });
      this.loaded.set(functionName, handler);
    }
    return handler;
  }
}

import diagnostics from 'node:diagnostics_channel';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LambdaHost } from '../../../local/gateway/lambda-host.js';

/** Handlers written as bundles, as the host loads dist/handlers/NAME.mjs. */
const BUNDLES: Record<string, string> = {
  'echo.mjs': 'export const handler = async (event) => ({ echo: event });',
  'slow.mjs': 'export const handler = async (event) => { await new Promise((r) => setTimeout(r, event.ms)); return { slept: event.ms }; };',
  'fails.mjs': "export const handler = async () => { const e = new Error('moved'); e.name = 'PLAN_STALE'; throw e; };",
  // Calls the URL it is given, as a handler calls AWS through the gateway.
  // Rewritten by a test: a bundle read while it was being written.
  'partial.mjs': 'export const handler = async (event) => ({ ok: event',
  'caller.mjs':
    "import http from 'node:http'; export const handler = async (event) => new Promise((resolve, reject) => { http.get(event.url, (res) => { let body = ''; res.on('data', (c) => (body += c)); res.on('end', () => resolve({ body })); }).on('error', reject); });",
};

describe('LambdaHost', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'nhigov-host-'));
    for (const [file, source] of Object.entries(BUNDLES)) writeFileSync(path.join(dir, file), source);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const host = (timeoutSeconds: number, concurrency = 4): LambdaHost =>
    new LambdaHost(new Map(Object.keys(BUNDLES).map((file) => [file.replace('.mjs', ''), { bundle: file, timeoutSeconds }])), 'us-east-1', '000000000000', { concurrency, bundleDir: dir });

  it('returns the payload, and an error as errorType (the error name Step Functions matches)', async () => {
    const lambdas = host(5);
    expect(await lambdas.invoke('echo', { a: 1 })).toMatchObject({ payload: { echo: { a: 1 } } });
    expect(await lambdas.invoke('fails', {})).toMatchObject({ functionError: 'Unhandled', payload: { errorType: 'PLAN_STALE', errorMessage: 'moved' } });
    lambdas.close();
  });

  it('ends an invocation that outlives its timeout as Lambda.Unknown', async () => {
    const lambdas = host(0.2);
    const result = await lambdas.invoke('slow', { ms: 2000 });
    expect(result).toMatchObject({ functionError: 'Unhandled', payload: { errorType: 'Lambda.Unknown', errorMessage: expect.stringContaining('Task timed out after 0.20 seconds') } });
    lambdas.close();
  });

  it('runs at most `concurrency` at once, in arrival order, and queued time does not count toward the timeout', async () => {
    const lambdas = host(0.5, 1);
    const finished: number[] = [];
    const runs = [0, 1, 2].map((i) => lambdas.invoke('slow', { ms: 300 }).then((r) => (finished.push(i), r)));
    await new Promise((r) => setTimeout(r, 50));
    expect(lambdas.queued).toBe(2);
    const results = await Promise.all(runs);
    // Each ran 300 ms of its 500 ms, though the last waited 600 ms for its turn.
    expect(results.map((r) => r.payload)).toEqual([{ slept: 300 }, { slept: 300 }, { slept: 300 }]);
    expect(finished).toEqual([0, 1, 2]);
    lambdas.close();
  });

  it('runs a function with slots of its own while every shared slot is taken (a recording handler waits on the evidence writer)', async () => {
    const lambdas = new LambdaHost(new Map(Object.keys(BUNDLES).map((file) => [file.replace('.mjs', ''), { bundle: file, timeoutSeconds: 5 }])), 'us-east-1', '000000000000', {
      concurrency: 1,
      bundleDir: dir,
      ownConcurrency: new Map([['echo', 1]]),
    });
    const holding = lambdas.invoke('slow', { ms: 400 });
    const started = Date.now();
    expect(await lambdas.invoke('echo', { a: 1 })).toMatchObject({ payload: { echo: { a: 1 } } });
    expect(Date.now() - started).toBeLessThan(300);
    await holding;
    lambdas.close();
  });

  it('loads a bundle again after a failed load (a truncated read while it was rebuilt), instead of keeping the function broken', async () => {
    const lambdas = host(5);
    const failed = await lambdas.invoke('partial', {});
    expect(failed).toMatchObject({ functionError: 'Unhandled' });
    writeFileSync(path.join(dir, 'partial.mjs'), 'export const handler = async (event) => ({ ok: event });');
    expect(await lambdas.invoke('partial', { a: 1 })).toEqual({ requestId: expect.any(String), payload: { ok: { a: 1 } } });
    lambdas.close();
  });

  it('tells a handler’s connection from another one of the same local port (Linux shares an ephemeral port between destinations)', async () => {
    const lambdas = host(5);
    const seen: Array<string | null> = [];
    const server = http.createServer((request, response) => {
      // The gateway's own connection to moto, outside every invocation, from the port the handler called from: it must not forget the handler's.
      diagnostics.channel('http.client.request.start').publish({ request: { socket: { localPort: request.socket.remotePort, remotePort: 1, connecting: false } } });
      seen.push(lambdas.invocationAt(request.socket)?.functionName ?? null);
      response.end('ok');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      expect(await lambdas.invoke('caller', { url: `${url}/ok` })).toMatchObject({ payload: { body: 'ok' } });
      expect(seen).toEqual(['caller']);
    } finally {
      server.closeAllConnections();
      server.close();
      lambdas.close();
    }
  });

  it('knows which invocation made a call it receives, and crashing it ends the invocation at once', async () => {
    const lambdas = host(5);
    const seen: Array<string | null> = [];
    const server = http.createServer((request, response) => {
      const invocation = lambdas.invocationAt(request.socket);
      seen.push(invocation?.functionName ?? null);
      if (request.url === '/crash') invocation?.crash('killed by the test');
      else response.end('ok');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      expect(await lambdas.invoke('caller', { url: `${url}/ok` })).toMatchObject({ payload: { body: 'ok' } });
      const crashed = await lambdas.invoke('caller', { url: `${url}/crash` });
      expect(crashed).toMatchObject({ functionError: 'Unhandled', payload: { errorType: 'Lambda.Unknown', errorMessage: expect.stringContaining('killed by the test') } });
      // A call from outside every invocation is nobody's.
      await new Promise<void>((resolve) => http.get(`${url}/ok`, (res) => res.resume().on('end', () => resolve())));
      expect(seen).toEqual(['caller', 'caller', null]);
    } finally {
      server.closeAllConnections();
      server.close();
      lambdas.close();
    }
  });
});

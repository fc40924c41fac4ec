import http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StackContext } from '../../../cli/lib/context.js';
import { isConsoleHost } from '../../../console/host.js';
import { consoleRoute } from '../../../console/route.js';
import { serveConsole, type RunningConsole } from '../../../console/server.js';

interface Reply {
  readonly status: number;
  readonly headers: http.IncomingHttpHeaders;
  readonly body: string;
}

/** A raw request with the Host header we choose (fetch would set its own). */
function request(port: number, options: { host: string; path: string; method?: string; headers?: Record<string, string>; body?: string }): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path: options.path, method: options.method ?? 'GET', headers: { ...options.headers, host: options.host } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
    });
    req.on('error', reject);
    req.end(options.body);
  });
}

describe('the Host check', () => {
  it('accepts 127.0.0.1:PORT and localhost:PORT only', () => {
    expect(isConsoleHost('127.0.0.1:4580', 4580)).toBe(true);
    expect(isConsoleHost('LocalHost:4580', 4580)).toBe(true);
    for (const host of [undefined, '', '127.0.0.1', 'localhost', '127.0.0.1:4581', 'evil.example:4580', 'localhost.evil.example:4580', '[::1]:4580', '0.0.0.0:4580']) {
      expect(isConsoleHost(host, 4580)).toBe(false);
    }
  });
});

describe('nhigov console: the server', () => {
  let running: RunningConsole;
  let contextBuilds = 0;
  /** No stack behind it: a request that gets past the Host check fails to build the context (500). */
  const context = async (): Promise<StackContext> => {
    contextBuilds += 1;
    throw new Error('no stack in this test');
  };

  beforeAll(async () => {
    running = await serveConsole({ context, port: 0 });
  });
  afterAll(() => running?.close());

  it('listens on a free port with --port 0, and sends / to /console/', async () => {
    expect(running.port).toBeGreaterThan(0);
    expect(running.url).toBe(`http://127.0.0.1:${running.port}/console/`);
    const reply = await request(running.port, { host: `localhost:${running.port}`, path: '/' });
    expect(reply.status).toBe(302);
    expect(reply.headers.location).toBe('/console/');
  });

  it('refuses a foreign Host with 421 and no data, before touching the stack', async () => {
    for (const path of ['/', '/console/', '/console/identities', '/console/changes/chg-1/evidence.json', '/nowhere']) {
      const reply = await request(running.port, { host: `evil.example:${running.port}`, path });
      expect(reply.status).toBe(421);
      expect(reply.headers['content-type']).toBe('text/plain; charset=utf-8');
      expect(reply.body).toMatch(/^misdirected request/);
    }
    expect(contextBuilds).toBe(0);
  });

  it('refuses a decision posted with a foreign Host, even from a same-origin-looking page', async () => {
    const host = `rebound.example:${running.port}`;
    const reply = await request(running.port, {
      host,
      path: '/console/changes/chg-1/decision',
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', origin: `http://${host}`, 'sec-fetch-site': 'same-origin' },
      body: 'decision=approve&approver=approver%40example.com',
    });
    expect(reply.status).toBe(421);
    expect(contextBuilds).toBe(0);
  });

  it('serves its own names (here: the page saying the stack is not reachable)', async () => {
    const reply = await request(running.port, { host: `127.0.0.1:${running.port}`, path: '/console/' });
    expect(reply.status).toBe(500);
    expect(reply.body).toContain('no stack in this test');
    expect(reply.body).toContain('Stack not reachable');
    expect(contextBuilds).toBe(1);
    await request(running.port, { host: `localhost:${running.port}`, path: '/console/policy' });
    expect(contextBuilds).toBe(2); // a failed build is tried again
  });
});

describe('the console route in a host (the local gateway)', () => {
  it('checks Host against the port it is given, and leaves other paths alone', async () => {
    const gatewayPort = 4566;
    const route = consoleRoute({ context: async () => Promise.reject(new Error('unused')), port: gatewayPort });
    const server = http.createServer((req, res) => {
      void route(req, Buffer.alloc(0), res).then((handled) => {
        if (!handled) res.writeHead(404).end('not the console');
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const address = server.address();
    const port = typeof address === 'object' && address ? address.port : 0;
    try {
      expect((await request(port, { host: `127.0.0.1:${port}`, path: '/console/' })).status).toBe(421);
      expect((await request(port, { host: `127.0.0.1:${gatewayPort}`, path: '/console' })).status).toBe(301);
      expect((await request(port, { host: `evil.example:${gatewayPort}`, path: '/approvals/x' })).body).toBe('not the console');
    } finally {
      server.close();
    }
  });
});

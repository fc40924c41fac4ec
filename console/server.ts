import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { StackContext } from '../cli/lib/context.js';
import { refusedHost } from './host.js';
import { CONSOLE_PATH, consoleRoute } from './route.js';

/** A form post is a few hundred bytes: refuse bodies past this. */
const MAX_BODY_BYTES = 64 * 1024;

export interface RunningConsole {
  readonly url: string;
  readonly port: number;
  close(): Promise<void>;
}

/**
 * Serves the console of one stack on 127.0.0.1:PORT (0: a free port): `/console/…`, with `/`
 * redirecting there. Every request must name the console by 127.0.0.1:PORT or localhost:PORT.
 */
export async function serveConsole(options: { context: StackContext | (() => Promise<StackContext>); port: number; clock?: () => Date }): Promise<RunningConsole> {
  let port = options.port;
  const route = consoleRoute({ context: options.context, port: () => port, ...(options.clock ? { clock: options.clock } : {}) });
  const handle = async (request: IncomingMessage, response: ServerResponse): Promise<void> => {
    if (refusedHost(request, response, port)) return;
    const body = await readBody(request);
    if (body === null) return plain(response, 413, 'request body too large');
    if (await route(request, body, response)) return;
    const path = new URL(request.url ?? '/', 'http://console.local').pathname;
    if (path === '/') {
      response.writeHead(302, { location: `${CONSOLE_PATH}/`, 'content-length': '0', 'cache-control': 'no-store' });
      response.end();
      return;
    }
    plain(response, 404, `not found: the console is at ${CONSOLE_PATH}/`);
  };
  const server = http.createServer((request, response) => {
    handle(request, response).catch((error: unknown) => {
      if (!response.headersSent) plain(response, 500, `console error: ${error instanceof Error ? error.message : String(error)}`);
      else response.end();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address();
  port = typeof address === 'object' && address ? address.port : options.port;
  return {
    url: `http://127.0.0.1:${port}${CONSOLE_PATH}/`,
    port,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** The body, or null once it exceeds MAX_BODY_BYTES. */
async function readBody(request: IncomingMessage): Promise<Buffer | null> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request) {
    const bytes = Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk));
    size += bytes.length;
    if (size > MAX_BODY_BYTES) return null;
    chunks.push(bytes);
  }
  return Buffer.concat(chunks);
}

function plain(response: ServerResponse, status: number, text: string): void {
  response.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', 'content-length': String(Buffer.byteLength(`${text}\n`)), 'cache-control': 'no-store', 'x-content-type-options': 'nosniff' });
  response.end(`${text}\n`);
}

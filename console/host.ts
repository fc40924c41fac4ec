import type { IncomingMessage, ServerResponse } from 'node:http';

/**
 * The console answers only to the names it is served under: `127.0.0.1:PORT` and
 * `localhost:PORT`, PORT being the port it listens on. A page on another site that rebinds its
 * own DNS name to 127.0.0.1 reaches the same socket, but its requests carry its own name in Host:
 * refusing them keeps it from reading the console or posting a decision through it.
 */
export function isConsoleHost(host: string | undefined, port: number): boolean {
  if (!host) return false;
  const name = host.toLowerCase();
  return name === `127.0.0.1:${port}` || name === `localhost:${port}`;
}

/** 421 Misdirected Request, with a short text and nothing from the stack. */
export function refuseHost(response: ServerResponse, port: number): true {
  const text = `misdirected request: this console answers only at http://127.0.0.1:${port}/ and http://localhost:${port}/\n`;
  response.writeHead(421, { 'content-type': 'text/plain; charset=utf-8', 'content-length': String(Buffer.byteLength(text)), 'cache-control': 'no-store', 'x-content-type-options': 'nosniff' });
  response.end(text);
  return true;
}

/** The Host check as a guard: true when the request was refused (and answered). */
export function refusedHost(request: Pick<IncomingMessage, 'headers'>, response: ServerResponse, port: number): boolean {
  return isConsoleHost(request.headers.host, port) ? false : refuseHost(response, port);
}

import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { awsClients, type AwsClients } from '../../local/aws-clients.js';
import { PROJECT_ROOT } from '../../local/build.js';
import { stackContext, type StackContext } from '../../cli/lib/context.js';
import { CLI_BUNDLE_ENV } from './cli-bundle.js';
import { testsFailed } from './failures.js';
import { stackDiagnostics } from './stack-diagnostics.js';

const BIN = path.join(PROJECT_ROOT, 'cli', 'bin', 'nhigov.mjs');

/** The CLI the tests start: the run's bundle of it when there is one (global-setup.ts), else the bin. */
export function cliEntry(): string {
  return process.env[CLI_BUNDLE_ENV] ?? BIN;
}

export interface TestStack {
  readonly port: number;
  readonly stateDir: string;
  readonly endpoint: string;
  readonly outputs: LocalUpDocument;
  /** SDK clients pointed at the gateway (their calls are counted and can be faulted). */
  readonly clients: AwsClients;
  /** SDK clients pointed at moto itself: independent read-back, never faulted. */
  readonly direct: AwsClients;
  readonly env: NodeJS.ProcessEnv;
  /** Runs `nhigov ARGS` against this stack. */
  cli(args: readonly string[], input?: string): CliResult;
  /** Runs `nhigov ARGS --json` and parses its one document; throws on a non-zero exit. */
  json<T = unknown>(args: readonly string[], input?: string): T;
  /** The CLI's context for this stack (found as the CLI finds it: the connection file, then the stack's Outputs). */
  context(): Promise<StackContext>;
  fault(rule: Record<string, unknown>): Promise<void>;
  clearFaults(): Promise<void>;
  /** Stops the stack; when a test of the file failed, prints its logs' errors first. Removes the state dir unless NHIGOV_TEST_KEEP_STATE is set. */
  stop(): void;
}

export interface LocalUpDocument {
  endpoint: string;
  consoleUrl: string;
  stackName: string;
  stateMachines: Record<string, string>;
  tables: Record<string, string>;
  queues: Record<string, string>;
  pids: { server: number; moto: number };
}

export interface CliResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * A free port P with P+1 free too (moto's), below the kernel's ephemeral range (32768+), so
 * an outgoing connection can't take it between this check and the stack's listen.
 */
export async function freePortPair(): Promise<number> {
  const isFree = (port: number) =>
    new Promise<boolean>((resolve) => {
      const server = net.createServer();
      server.once('error', () => resolve(false));
      server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
    });
  for (let attempt = 0; attempt < 200; attempt += 1) {
    const port = 20_000 + 2 * Math.floor(Math.random() * 6_000);
    if ((await isFree(port)) && (await isFree(port + 1))) return port;
  }
  throw new Error('no free port pair found below 32768');
}

export function runCli(env: NodeJS.ProcessEnv, args: readonly string[], input?: string, cwd: string = PROJECT_ROOT): CliResult {
  const result: SpawnSyncReturns<string> = spawnSync(process.execPath, [cliEntry(), ...args], { env, input, encoding: 'utf8', timeout: 240_000, cwd });
  return { code: result.status, stdout: result.stdout ?? '', stderr: result.stderr ?? '' };
}

/** Starts a detached local stack on free ports with its own state dir. */
export async function startTestStack(options: { seed?: boolean } = {}): Promise<TestStack> {
  // Another process may take a checked port before moto binds it: try other ports, a few times.
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await startTestStackOnce(options);
    } catch (error) {
      const raced = /already in use|moto exited|did not answer/.test(String(error));
      if (!raced || attempt >= 3) throw error;
    }
  }
}

async function startTestStackOnce(options: { seed?: boolean }): Promise<TestStack> {
  const port = await freePortPair();
  const stateDir = mkdtempSync(path.join(os.tmpdir(), 'nhigov-test-'));
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    NHIGOV_PORT: String(port),
    NHIGOV_STATE_DIR: stateDir,
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'test',
    AWS_SECRET_ACCESS_KEY: 'test',
    NO_COLOR: '1',
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
  };
  const up = runCli(env, ['local', 'up', '--detach', ...(options.seed ? [] : ['--no-seed']), '--json']);
  if (up.code !== 0) {
    rmSync(stateDir, { recursive: true, force: true });
    throw new Error(`local up failed (${up.code}): ${up.stderr}`);
  }
  const outputs = JSON.parse(up.stdout) as LocalUpDocument;
  const endpoint = outputs.endpoint;
  const stack: TestStack = {
    port,
    stateDir,
    endpoint,
    outputs,
    clients: awsClients(endpoint),
    direct: awsClients(`http://127.0.0.1:${port + 1}`),
    env,
    cli: (args, input) => runCli(env, args, input),
    json<T>(args: readonly string[], input?: string): T {
      const result = runCli(env, [...args, '--json'], input);
      if (result.code !== 0) throw new Error(`nhigov ${args.join(' ')} exited ${result.code}: ${result.stderr.trim()}`);
      return JSON.parse(result.stdout) as T;
    },
    context: () => stackContext(env),
    async fault(rule) {
      const reply = await controlRequest(port, 'POST', '/_nhigov/faults', JSON.stringify(rule));
      if (reply.status >= 300) throw new Error(`fault refused: ${reply.body}`);
    },
    async clearFaults() {
      await controlRequest(port, 'DELETE', '/_nhigov/faults');
    },
    stop() {
      runCli(env, ['local', 'down']);
      if (testsFailed() > 0) process.stderr.write(stackDiagnostics(stateDir, port));
      if (!process.env.NHIGOV_TEST_KEEP_STATE) rmSync(stateDir, { recursive: true, force: true });
    },
  };
  return stack;
}

/**
 * A request to the gateway's control routes on a connection of its own. fetch reuses an idle
 * keep-alive socket, and a test that blocks its event loop in spawnSync (every `stack.json`) for
 * longer than the gateway's keep-alive timeout then writes to a socket the gateway has closed
 * ("fetch failed: other side closed", seen in the fault campaign on a loaded machine).
 */
function controlRequest(port: number, method: string, requestPath: string, body?: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const request = http.request({ host: '127.0.0.1', port, method, path: requestPath, agent: false, headers: body === undefined ? {} : { 'content-type': 'application/json' } }, (reply) => {
      let text = '';
      reply.setEncoding('utf8').on('data', (chunk: string) => (text += chunk));
      reply.on('end', () => resolve({ status: reply.statusCode ?? 0, body: text }));
      reply.on('error', reject);
    });
    request.on('error', reject);
    request.end(body);
  });
}

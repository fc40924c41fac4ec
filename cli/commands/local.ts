import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { localSettings, stateFile } from '../../local/settings.js';
import { isAlive } from '../lib/connection.js';
import { readStackOutputs, startLocalStack, type StackOutputs } from '../../local/stack.js';
import { EnvironmentError } from '../../local/moto-process.js';
import { DEMO_MEMBER_ACCOUNT, seedDemoEstate } from '../../local/seed.js';
import type { CommandRegistrar } from '../main.js';
import { OperationFailed, table, type CliIo } from '../lib/io.js';
import { setTimeout as sleep } from 'node:timers/promises';

/** How long `local up --detach` waits for the detached stack to report ready. */
const DETACHED_READY_TIMEOUT_MS = 120_000;

export const registerLocal: CommandRegistrar = (program, io) => {
  const local = program.command('local').description('the embedded local stack (moto + gateway)');
  local
    .command('up')
    .description('start moto and the gateway, deploy the local stack, seed the demo estate')
    .option('--detach', 'leave it running in the background')
    .option('--no-seed', 'do not seed the demo estate')
    .action(async (options: { detach?: boolean; seed: boolean }) => {
      if (options.detach) return upDetached(io(), options.seed);
      return upForeground(io(), options.seed);
    });
  local
    .command('serve', { hidden: true })
    .option('--no-seed')
    .action(async (options: { seed: boolean }) => {
      const settings = localSettings();
      try {
        await runUntilSignal(options.seed, (line) => process.stderr.write(`${line}\n`));
      } catch (error) {
        writeFileSync(stateFile(settings, 'error.txt'), error instanceof Error ? error.message : String(error));
        throw error;
      }
    });
  local
    .command('down')
    .description('stop what `local up` started (by recorded pid)')
    .action(async () => {
      const out = io();
      const stopped = await down();
      out.result(stopped, () => (stopped.stopped.length ? `stopped pids ${stopped.stopped.join(', ')}` : 'no local stack was running'));
    });
  local
    .command('status')
    .description('is it up, versions, counts')
    .action(async () => {
      const out = io();
      const status = await statusOf();
      out.result(status, () => {
        const doc = status;
        if (!doc.up) return `down (${doc.stateDir})`;
        return table(['field', 'value'], [
          ['status', 'up'],
          ['endpoint', doc.endpoint ?? ''],
          ['console', doc.consoleUrl ?? ''],
          ['moto', doc.versions?.moto ?? ''],
          ['changes', doc.counts?.changes ?? 0],
          ['AWS calls', doc.counts?.awsCalls ?? 0],
        ]);
      });
      if (!status.up) process.exitCode = 1;
    });
};

async function runUntilSignal(seed: boolean, log: (line: string) => void): Promise<StackOutputs> {
  const settings = localSettings();
  const stack = await startLocalStack(settings, { seed: seed ? (outputs) => seedDemoEstate(outputs, log) : async () => undefined, log, ...(seed ? { memberAccounts: [DEMO_MEMBER_ACCOUNT] } : {}) });
  const stop = async () => {
    await stack.stop();
    process.exit(0);
  };
  process.once('SIGINT', () => void stop());
  process.once('SIGTERM', () => void stop());
  return stack.outputs;
}

async function upForeground(out: CliIo, seed: boolean): Promise<void> {
  const outputs = await runUntilSignal(seed, (line) => out.info(line));
  out.result(publicOutputs(outputs), () => readyText(outputs));
  out.info('running; Ctrl-C stops everything it started');
  await new Promise(() => undefined);
}

async function upDetached(out: CliIo, seed: boolean): Promise<void> {
  const outputs = await startDetachedStack(seed);
  out.result(publicOutputs(outputs), () => readyText(outputs));
}

/** Starts the stack in a detached child (its own session: Ctrl-C in this terminal does not reach it). */
export async function startDetachedStack(seed: boolean): Promise<StackOutputs> {
  const settings = localSettings();
  mkdirSync(settings.stateDir, { recursive: true });
  const running = readStackOutputs(settings);
  if (running && isAlive(running.pids.server)) throw new EnvironmentError(`a local stack is already running from ${settings.stateDir} on port ${running.port} (nhigov local down)`);
  rmSync(stateFile(settings, 'stack.json'), { force: true });
  rmSync(stateFile(settings, 'connection.json'), { force: true });
  rmSync(stateFile(settings, 'error.txt'), { force: true });
  const log = openSync(stateFile(settings, 'gateway.log'), 'a');
  const bin = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..', 'bin', 'nhigov.mjs');
  const child = spawn(process.execPath, [bin, 'local', 'serve', ...(seed ? [] : ['--no-seed'])], { detached: true, stdio: ['ignore', log, log], env: process.env });
  child.unref();
  const deadline = Date.now() + DETACHED_READY_TIMEOUT_MS;
  while (Date.now() < deadline) {
    const outputs = readStackOutputs(settings);
    if (outputs && outputs.pids.server === child.pid) return outputs;
    if (existsSync(stateFile(settings, 'error.txt'))) throw new EnvironmentError(readFileSync(stateFile(settings, 'error.txt'), 'utf8').trim());
    if (child.exitCode !== null || !isAlive(child.pid ?? -1)) throw new EnvironmentError(`the local stack exited while starting (see ${stateFile(settings, 'gateway.log')})`);
    await sleep(100);
  }
  throw new OperationFailed(`the local stack did not become ready within ${DETACHED_READY_TIMEOUT_MS / 1000}s (see ${stateFile(settings, 'gateway.log')})`);
}

/** Stops exactly the recorded pids: the server first (it stops moto itself), then moto if it survived. */
export async function down(): Promise<{ stopped: number[] }> {
  const settings = localSettings();
  const outputs = readStackOutputs(settings);
  if (!outputs) return { stopped: [] };
  const pids = [outputs.pids.server, outputs.pids.moto].filter((pid) => pid > 0 && isAlive(pid));
  for (const pid of pids) {
    signal(pid, 'SIGTERM');
    const deadline = Date.now() + 5000;
    while (Date.now() < deadline && isAlive(pid)) await sleep(50);
    if (isAlive(pid)) signal(pid, 'SIGKILL');
  }
  rmSync(stateFile(settings, 'stack.json'), { force: true });
  rmSync(stateFile(settings, 'connection.json'), { force: true });
  return { stopped: pids };
}

function signal(pid: number, name: NodeJS.Signals): void {
  try {
    process.kill(pid, name);
  } catch {
    // already gone
  }
}

async function statusOf() {
  const settings = localSettings();
  const outputs = readStackOutputs(settings);
  if (!outputs || !isAlive(outputs.pids.server)) return { up: false as const, stateDir: settings.stateDir };
  const stats = (await (await fetch(`${outputs.endpoint}/_nhigov/stats`)).json()) as { aws: Record<string, Record<string, number>> };
  const awsCalls = Object.values(stats.aws).flatMap((actions) => Object.values(actions)).reduce((a, b) => a + b, 0);
  const { ChangeStore } = await import('../../lambdas/stores/change-store.js');
  const { createDocumentClient } = await import('../../lambdas/stores/dynamo.js');
  const { awsClients } = await import('../../local/aws-clients.js');
  const changes = await new ChangeStore(createDocumentClient(awsClients(outputs.endpoint).dynamodb), outputs.tables.changes ?? '', outputs.tables.actions ?? '').list('change', 1000);
  return { up: true as const, stateDir: settings.stateDir, endpoint: outputs.endpoint, consoleUrl: outputs.consoleUrl, versions: outputs.versions, pids: outputs.pids, startedAt: outputs.startedAt, counts: { changes: changes.length, awsCalls } };
}

/** The contract's `local up --json` document (and more). */
function publicOutputs(outputs: StackOutputs) {
  return {
    endpoint: outputs.endpoint,
    consoleUrl: outputs.consoleUrl,
    stackName: localSettings().stackName,
    region: outputs.region,
    stateMachines: outputs.stateMachines,
    tables: outputs.tables,
    queues: outputs.queues,
    pids: outputs.pids,
    policyVersion: outputs.policy.version,
    readyMs: outputs.timings.readyMs,
  };
}

function readyText(outputs: StackOutputs): string {
  return [
    `local stack ready in ${(outputs.timings.readyMs / 1000).toFixed(1)}s`,
    `  endpoint  ${outputs.endpoint}   (AWS_ENDPOINT_URL for the AWS CLI / SDKs)`,
    `  console   ${outputs.consoleUrl}`,
    `  stack     ${localSettings().stackName}, registered in the emulator: AWS_ENDPOINT_URL=${outputs.endpoint} NHIGOV_STACK=${localSettings().stackName} nhigov changes`,
    `  policy    ${outputs.policy.version.slice(0, 12)} (default policy, signed with ${outputs.policy.publicKeyPath})`,
  ].join('\n');
}

import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { openSync } from 'node:fs';
import path from 'node:path';
import { PROJECT_ROOT } from './build.js';
import { setTimeout as sleep } from 'node:timers/promises';

/** How long moto may take to answer its first request (it usually answers in under a second). */
const MOTO_START_TIMEOUT_MS = 30_000;

export class EnvironmentError extends Error {
  override readonly name = 'EnvironmentError';
}

/** Python 3 with moto importable, or a one-line error that says how to install it. */
export function assertMotoInstalled(python = process.env.NHIGOV_PYTHON ?? 'python3'): string {
  const probe = spawnSync(python, ['-c', 'import moto, moto.server; print(moto.__version__)'], { encoding: 'utf8' });
  if (probe.error) throw new EnvironmentError(`${python} was not found; install Python 3 and then: pip install 'moto[server]'`);
  if (probe.status !== 0) throw new EnvironmentError(`moto is not installed for ${python}; install it with: pip install 'moto[server]'`);
  return probe.stdout.trim();
}

/**
 * Starts moto's server through our launcher on `motoPort`, with MOTO_PORT naming the gateway so
 * that moto's own Lambda calls from Step Functions reach the gateway.
 */
export function startMoto(options: { gatewayPort: number; motoPort: number; logFile: string; detached: boolean }): ChildProcess {
  const log = openSync(options.logFile, 'a');
  const python = process.env.NHIGOV_PYTHON ?? 'python3';
  const child = spawn(python, [path.join(PROJECT_ROOT, 'local', 'moto_launcher.py'), String(options.motoPort)], {
    env: { ...process.env, MOTO_PORT: String(options.gatewayPort), PYTHONUNBUFFERED: '1' },
    stdio: ['ignore', log, log],
    detached: options.detached,
  });
  return child;
}

export async function waitForMoto(motoPort: number, child: ChildProcess): Promise<void> {
  const deadline = Date.now() + MOTO_START_TIMEOUT_MS;
  let exited: number | null = null;
  child.once('exit', (code) => {
    exited = code ?? -1;
  });
  while (Date.now() < deadline) {
    if (exited !== null) throw new EnvironmentError(`moto exited with code ${exited} before answering (see moto.log in the state dir)`);
    try {
      const reply = await fetch(`http://127.0.0.1:${motoPort}/moto-api/data.json`, { signal: AbortSignal.timeout(1000) });
      if (reply.ok) return;
    } catch {
      // not up yet
    }
    await sleep(100);
  }
  throw new EnvironmentError(`moto did not answer on port ${motoPort} within ${MOTO_START_TIMEOUT_MS / 1000}s`);
}

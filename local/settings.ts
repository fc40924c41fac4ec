import path from 'node:path';
import { localStateDir } from '../cli/lib/connection.js';
import { DEFAULT_STACK_NAME } from '../infra/outputs.js';

export interface LocalSettings {
  /** The gateway port; moto listens on port + 1. */
  readonly port: number;
  readonly stateDir: string;
  readonly region: string;
  /** The CloudFormation stack `local up` registers in the emulator: NHIGOV_STACK, default NhiGovernor. */
  readonly stackName: string;
}

/** NHIGOV_PORT (default 4566), NHIGOV_STATE_DIR (default .nhigov/ in the working dir), AWS_REGION, NHIGOV_STACK. */
export function localSettings(env: NodeJS.ProcessEnv = process.env): LocalSettings {
  const port = Number(env.NHIGOV_PORT ?? '4566');
  if (!Number.isInteger(port) || port < 1024 || port > 65534) throw new RangeError(`NHIGOV_PORT must be a port between 1024 and 65534, not "${env.NHIGOV_PORT}"`);
  return { port, stateDir: localStateDir(env), region: env.AWS_REGION ?? 'us-east-1', stackName: env.NHIGOV_STACK?.trim() || DEFAULT_STACK_NAME };
}

export const stateFile = (settings: LocalSettings, name: 'stack.json' | 'connection.json' | 'error.txt' | 'gateway.log' | 'moto.log' | 'policy') => path.join(settings.stateDir, name);

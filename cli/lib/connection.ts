import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { formatIssues } from '../../lambdas/domain/events.js';

/**
 * How the CLI reaches the running local stack without knowing the emulator: the stack name it
 * registered, its endpoint and the credentials it accepts, written by `nhigov local up` to
 * `<state dir>/connection.json` (a profile, in effect). Everything else comes from the stack's
 * Outputs, as for a deployed stack.
 */
export const localConnectionSchema = z.object({
  stackName: z.string().min(1),
  endpoint: z.url(),
  region: z.string().min(1),
  credentials: z.object({ accessKeyId: z.string().min(1), secretAccessKey: z.string().min(1) }),
  /** The process serving the stack: the file is stale once it is gone. */
  pid: z.number().int(),
  /** The console the local gateway serves. */
  consoleUrl: z.url(),
});
export type LocalConnection = z.infer<typeof localConnectionSchema>;

/** NHIGOV_STATE_DIR, default `.nhigov/` in the working directory. */
export function localStateDir(env: NodeJS.ProcessEnv = process.env): string {
  return path.resolve(env.NHIGOV_STATE_DIR ?? '.nhigov');
}

export function connectionFile(stateDir: string): string {
  return path.join(stateDir, 'connection.json');
}

/** The local stack's connection, null when none was written or its process is gone. */
export function readLocalConnection(stateDir: string): LocalConnection | null {
  const file = connectionFile(stateDir);
  if (!existsSync(file)) return null;
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch {
    return null;
  }
  const parsed = localConnectionSchema.safeParse(raw);
  if (!parsed.success) throw new Error(`${file} is not a local stack connection: ${formatIssues(parsed.error)}`);
  return isAlive(parsed.data.pid) ? parsed.data : null;
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

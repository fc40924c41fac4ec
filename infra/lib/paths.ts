import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root: entries in infra/resources.ts and the ASL files are relative to it. */
export const PROJECT_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

export function fromRoot(relative: string): string {
  return path.resolve(PROJECT_ROOT, relative);
}

import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import path from 'node:path';
import { buildHandlers, HANDLERS_PREBUILT_ENV, PROJECT_ROOT } from '../../local/build.js';
import { buildCliBundle, CLI_BUNDLE_ENV } from './cli-bundle.js';

/**
 * Once per run of the stack-backed projects (the first project's setup does it for all): bundles
 * the handlers, so that no test stack rebuilds them as it starts, and the CLI the tests run. The
 * test workers inherit both variables.
 */
export default async function setup(): Promise<() => void> {
  const existing = process.env[CLI_BUNDLE_ENV];
  if (existing && existsSync(existing) && process.env[HANDLERS_PREBUILT_ENV] === '1') return () => undefined;
  await buildHandlers();
  process.env[HANDLERS_PREBUILT_ENV] = '1';
  const dir = mkdtempSync(path.join(PROJECT_ROOT, '.tmp', 'nhigov-cli-'));
  const bundle = path.join(dir, 'nhigov.mjs');
  await buildCliBundle(bundle);
  process.env[CLI_BUNDLE_ENV] = bundle;
  return () => {
    delete process.env[CLI_BUNDLE_ENV];
    rmSync(dir, { recursive: true, force: true });
  };
}

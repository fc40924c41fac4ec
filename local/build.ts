import { build } from 'esbuild';
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { FUNCTIONS } from '../infra/resources.js';

export const PROJECT_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const HANDLER_DIST = path.join(PROJECT_ROOT, 'dist', 'handlers');
/** Set (to 1) by a test run that bundled the handlers once for all its stacks: `local up` then uses dist/handlers as it is. */
export const HANDLERS_PREBUILT_ENV = 'NHIGOV_HANDLERS_PREBUILT';

/**
 * Bundles every handler of FUNCTIONS with esbuild, as the CDK's NodejsFunction does:
 * ESM, node20, @aws-sdk/* left to the runtime. The local gateway runs these same bundles.
 */
export async function buildHandlers(outDir: string = HANDLER_DIST): Promise<string[]> {
  mkdirSync(outDir, { recursive: true });
  const outputs: string[] = [];
  await Promise.all(
    FUNCTIONS.map(async (fn) => {
      const outfile = path.join(outDir, `${fn.name}.mjs`);
      const result = await build({
        entryPoints: [path.join(PROJECT_ROOT, fn.entry)],
        outfile,
        bundle: true,
        platform: 'node',
        target: 'node20',
        format: 'esm',
        external: ['@aws-sdk/*'],
        banner: { js: "import { createRequire as __nhigovCreateRequire } from 'node:module'; const require = __nhigovCreateRequire(import.meta.url);" },
        logLevel: 'error',
        legalComments: 'none',
        write: false,
      });
      for (const file of result.outputFiles) replaceAtomically(file.path, file.contents);
      outputs.push(outfile);
    }),
  );
  return outputs;
}

/**
 * Every `local up` (each test file's stack) rebuilds these shared bundles while other stacks
 * import them. esbuild writes in place, so a reader could load a truncated bundle (measured: 45%
 * of reads during a rebuild saw one) and the gateway then kept that function broken. A rename
 * replaces the file in one step; an unchanged bundle is not rewritten at all.
 */
export function replaceAtomically(file: string, contents: Uint8Array): void {
  try {
    if (Buffer.from(contents).equals(readFileSync(file))) return;
  } catch {
    // Not there yet: write it.
  }
  const temporary = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  try {
    writeFileSync(temporary, contents);
    renameSync(temporary, file);
  } finally {
    rmSync(temporary, { force: true });
  }
}

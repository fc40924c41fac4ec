import { build } from 'esbuild';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { FUNCTIONS } from '../infra/resources.js';

export const PROJECT_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const HANDLER_DIST = path.join(PROJECT_ROOT, 'dist', 'handlers');

/**
 * Bundles every handler of FUNCTIONS with esbuild, as the CDK's NodejsFunction does:
 * ESM, node20, @aws-sdk/* left to the runtime. The local gateway runs these same bundles.
 */
export async function buildHandlers(): Promise<string[]> {
  const outputs: string[] = [];
  await Promise.all(
    FUNCTIONS.map(async (fn) => {
      const outfile = path.join(HANDLER_DIST, `${fn.name}.mjs`);
      await build({
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
      });
      outputs.push(outfile);
    }),
  );
  return outputs;
}

import { build, type Plugin } from 'esbuild';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { PROJECT_ROOT } from '../../local/build.js';

/** The environment variable naming the bundle runCli and cliAsync start (set by global-setup.ts). */
export const CLI_BUNDLE_ENV = 'NHIGOV_TEST_CLI_BUNDLE';

/**
 * The CLI's code (cli/main.ts) bundled by esbuild, run by the stack-backed tests in place of
 * cli/bin/nhigov.mjs, which compiles it through tsx on every start: measured 1.35 s of CPU per
 * command against 0.73 s for the bundle, over the hundreds of commands of a run on 2 cores. Same
 * source, same packages (left external, resolved from node_modules); the unit tests of the CLI
 * reference and `local up --detach` (which starts the stack's server) still run the real bin.
 */
export async function buildCliBundle(outfile: string): Promise<void> {
  await build({
    // What cli/bin/nhigov.mjs does once tsx is registered.
    stdin: {
      contents: "import { main } from './cli/main.ts';\nprocess.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';\nprocess.exitCode = await main(process.argv);\n",
      resolveDir: PROJECT_ROOT,
      sourcefile: 'nhigov-test-entry.ts',
      loader: 'ts',
    },
    outfile,
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'esm',
    packages: 'external',
    logLevel: 'error',
    plugins: [sourceLocations],
  });
}

/**
 * A module that finds files from its own location (import.meta.url) finds them from its source
 * file, as under tsx, not from the bundle. Only code is rewritten: an occurrence inside a string
 * literal (the handler bundles' banner text in local/build.ts) is left as it is.
 */
const sourceLocations: Plugin = {
  name: 'source-import-meta-url',
  setup(builder) {
    builder.onLoad({ filter: /\.ts$/ }, (args) => {
      if (args.path.includes(`${path.sep}node_modules${path.sep}`)) return undefined;
      const source = readFileSync(args.path, 'utf8');
      const url = JSON.stringify(pathToFileURL(args.path).href);
      const contents = source.replace(/import\.meta\.url/g, (match, offset: number) => {
        const before = source.slice(source.lastIndexOf('\n', offset) + 1, offset);
        return ['"', "'", '`'].every((quote) => before.split(quote).length % 2 === 1) ? url : match;
      });
      return { contents, loader: 'ts' };
    });
  },
};

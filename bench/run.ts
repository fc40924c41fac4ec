/**
 * `npm run bench`: prints figures; these are measurements, not timed tests.
 * `npm run bench -- latency` runs one benchmark by name.
 */
import { readdirSync } from 'node:fs';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

type Bench = () => Promise<void> | void;

const here = path.dirname(fileURLToPath(import.meta.url));
const only = process.argv.slice(2);
const files = readdirSync(here).filter((f) => f.endsWith('.ts') && !['run.ts', 'support.ts'].includes(f)).sort();
for (const file of files) {
  const name = file.replace(/\.ts$/, '');
  if (only.length && !only.includes(name)) continue;
  const mod = (await import(path.join(here, file))) as Record<string, unknown>;
  const benches = Object.entries(mod).filter((entry): entry is [string, Bench] => entry[0].startsWith('run') && entry[0].endsWith('Bench') && typeof entry[1] === 'function');
  for (const [exportName, bench] of benches) {
    process.stdout.write(`\n# ${name} (${exportName})\n`);
    const started = Date.now();
    await bench();
    process.stdout.write(`# ${name} took ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
  }
}

import { defineConfig } from 'vitest/config';
import { mkdirSync } from 'node:fs';
import path from 'node:path';

// Temporary: run only the reliability suite until the root config has its project
// (`npx vitest run --config test/reliability/vitest.config.ts`). Same settings as the project entry.
const root = path.resolve(import.meta.dirname, '..', '..');
const tmp = path.join(root, '.tmp');
mkdirSync(tmp, { recursive: true });
process.env.TMPDIR = tmp;
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';

export default defineConfig({
  root,
  test: {
    name: 'reliability',
    include: ['test/reliability/**/*.test.ts'],
    environment: 'node',
    testTimeout: 180_000,
    hookTimeout: 180_000,
  },
});

import { defineConfig } from 'vitest/config';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { LongestFirstSequencer } from './test/support/sequencer.js';

// In-process CDK synth leaves cdk.outXXXX folders under TMPDIR: keep them in the project.
const tmp = path.resolve('.tmp');
mkdirSync(tmp, { recursive: true });
process.env.TMPDIR = tmp;
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';

/** Notes a failed test, so that a test stack prints its logs' errors when it stops (test/support/local-stack.ts). */
const STACK_FAILURES = 'test/support/report-failures.ts';
/** Bundles the handlers and the CLI once for every stack of the run (test/support/global-setup.ts). */
const STACK_SETUP = 'test/support/global-setup.ts';

export default defineConfig({
  test: {
    sequence: { sequencer: LongestFirstSequencer },
    projects: [
      { test: { name: 'unit', include: ['test/unit/**/*.test.ts'], environment: 'node' } },
      { test: { name: 'infra', include: ['test/infra/**/*.test.ts'], environment: 'node', testTimeout: 120_000, hookTimeout: 120_000 } },
      {
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts'],
          environment: 'node',
          testTimeout: 180_000,
          hookTimeout: 180_000,
          setupFiles: [STACK_FAILURES],
          globalSetup: [STACK_SETUP],
          // Each file starts its own stack on its own ports (faults are per stack), so files may
          // run side by side; `npm test` runs two at a time (2 cores, moto is CPU-bound).
          fileParallelism: true,
        },
      },
      {
        test: {
          name: 'reliability',
          include: ['test/reliability/**/*.test.ts'],
          environment: 'node',
          testTimeout: 180_000,
          hookTimeout: 180_000,
          setupFiles: [STACK_FAILURES],
          globalSetup: [STACK_SETUP],
          fileParallelism: true,
        },
      },
      { test: { name: 'e2e', include: ['test/e2e/**/*.test.ts'], environment: 'node', testTimeout: 180_000, hookTimeout: 180_000, setupFiles: [STACK_FAILURES], globalSetup: [STACK_SETUP], fileParallelism: false } },
    ],
  },
});

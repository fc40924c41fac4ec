import { afterEach } from 'vitest';
import { noteTestFailure } from './failures.js';

// Setup file (vitest.config.ts): whatever failed a test — an assertion, a CLI call, a timeout —
// the stack's stop() then prints its logs' errors before its state dir is removed.
afterEach(({ task }) => {
  if (task.result?.state === 'fail') noteTestFailure();
});

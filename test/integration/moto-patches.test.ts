import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../../local/build.js';

/**
 * The launcher writes some of moto's answers itself, for speed (local/moto_launcher.py). Each
 * must be the answer moto's own serializer gives: local/check_moto_patches.py sends the same
 * request both ways over an estate made to reach every branch and compares the bytes.
 */
describe('launcher patches that write answers themselves', () => {
  it('answer GetAccountAuthorizationDetails with the bytes moto’s serializer writes', () => {
    const run = spawnSync(process.env.NHIGOV_PYTHON ?? 'python3', [path.join(PROJECT_ROOT, 'local', 'check_moto_patches.py')], { encoding: 'utf8', timeout: 150_000 });
    expect(run.stderr).not.toMatch(/FAILED|Traceback/);
    expect(run.status).toBe(0);
    const compared = run.stdout.split('\n').filter((line) => line.includes(': same bytes'));
    expect(compared).toHaveLength(6);
    expect(run.stdout).toMatch(/2,500 more users \(the load bench's estate\): same bytes \(\d{6,} bytes/);
  });
});

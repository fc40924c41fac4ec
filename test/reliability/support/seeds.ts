/**
 * Fixed fast-check seeds: every run tries the same inputs (repeatable); override one with
 * NHIGOV_FUZZ_SEED=N to explore. Each test prints the seed it used.
 */
export function fuzzSeed(fallback: number): number {
  const fromEnv = Number(process.env.NHIGOV_FUZZ_SEED);
  return Number.isSafeInteger(fromEnv) && process.env.NHIGOV_FUZZ_SEED !== '' ? fromEnv : fallback;
}

export function logSeed(what: string, seed: number, numRuns: number): void {
  console.log(`[fuzz] ${what}: seed=${seed} numRuns=${numRuns} (reproduce: NHIGOV_FUZZ_SEED=${seed})`);
}

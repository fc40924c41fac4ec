import { setTimeout as pause } from 'node:timers/promises';
/** IAM changes propagate within seconds; the first re-read waits this long. */
export const VERIFY_FIRST_DELAY_MS = 250;
/** Backoff ceiling between two read-backs. */
export const VERIFY_MAX_DELAY_MS = 5_000;

export interface WaitOutcome<T> {
  readonly done: boolean;
  readonly last: T;
  readonly polls: number;
}

/**
 * Polls `probe` until `isDone` or the deadline: the one waiter every verification uses.
 * Delay doubles from VERIFY_FIRST_DELAY_MS up to VERIFY_MAX_DELAY_MS.
 */
export async function waitUntil<T>(probe: () => Promise<T>, isDone: (value: T) => boolean, timeoutMs: number, sleep: (ms: number) => Promise<void> = (ms) => pause(ms)): Promise<WaitOutcome<T>> {
  const deadline = Date.now() + timeoutMs;
  let delay = VERIFY_FIRST_DELAY_MS;
  let polls = 0;
  for (;;) {
    const value = await probe();
    polls += 1;
    if (isDone(value)) return { done: true, last: value, polls };
    const remaining = deadline - Date.now();
    if (remaining <= 0) return { done: false, last: value, polls };
    await sleep(Math.min(delay, remaining));
    delay = Math.min(delay * 2, VERIFY_MAX_DELAY_MS);
  }
}

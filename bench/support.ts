import { startTestStack, type TestStack } from '../test/support/local-stack.js';

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

export function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? NaN;
}

/** Runs `body` against a fresh local stack and always stops it. */
export async function withStack<T>(body: (stack: TestStack) => Promise<T>): Promise<T> {
  const stack = await startTestStack();
  try {
    return await body(stack);
  } finally {
    stack.stop();
  }
}

export function printFigure(name: string, value: string): void {
  process.stdout.write(`${name.padEnd(58)} ${value}\n`);
}

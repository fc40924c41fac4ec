/**
 * Whether a test of the running file has failed (vitest runs each file with fresh modules). Set by
 * report-failures.ts, a setup file of the stack-backed projects; read when a test stack stops.
 */
let failed = 0;

export function noteTestFailure(): void {
  failed += 1;
}

export function testsFailed(): number {
  return failed;
}

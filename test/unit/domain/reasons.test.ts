import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { AppError, isReasonCode, LAMBDA_FAILURE_ERRORS, REASON_CODE_NAMES, REASON_CODES, TRANSIENT_CODES } from '../../../lambdas/domain/reasons.js';

describe('reason codes', () => {
  // The table of docs/statuses-and-reasons.md: extending is allowed, renaming is not.
  const CONTRACT_CODES = [
    'THROTTLED', 'TARGET_UNAVAILABLE', 'VERIFY_PENDING', 'VERIFY_TIMEOUT', 'WRITE_NOT_APPLIED', 'PLAN_STALE', 'TARGET_NOT_FOUND',
    'CONNECTOR_ACCESS_DENIED', 'INPUT_INVALID', 'OWNER_UNKNOWN', 'APPROVAL_REJECTED', 'APPROVAL_TIMEOUT', 'APPROVER_NOT_AUTHORIZED',
    'SELF_APPROVAL_FORBIDDEN', 'EXEMPTED', 'POLICY_INVALID', 'KEY_UNUSED', 'KEY_AGE_EXCEEDED', 'SECRET_ROTATION_OVERDUE',
    'EXCESSIVE_PRIVILEGE', 'CREDENTIAL_EXPOSED', 'ROLLBACK_FAILED',
  ];
  it('contain every code of the contract table', () => {
    for (const code of CONTRACT_CODES) expect(isReasonCode(code), code).toBe(true);
  });
  it('retry exactly the transient codes in the ASL, and re-run the same tasks after a Lambda failure (twice at most)', () => {
    expect(TRANSIENT_CODES).toEqual(['THROTTLED', 'TARGET_UNAVAILABLE']);
    for (const machine of ['change', 'rollback', 'finalize']) {
      const asl: unknown = JSON.parse(readFileSync(new URL(`../../../statemachines/${machine}.asl.json`, import.meta.url), 'utf8'));
      const retriers: Array<Array<{ ErrorEquals: string[]; MaxAttempts: number }>> = [];
      const walk = (node: unknown): void => {
        if (Array.isArray(node)) return node.forEach(walk);
        if (!node || typeof node !== 'object') return;
        for (const [key, value] of Object.entries(node)) {
          if (key === 'Retry' && Array.isArray(value)) retriers.push(value);
          else walk(value);
        }
      };
      walk(asl);
      expect(retriers.length, machine).toBeGreaterThan(0);
      for (const retry of retriers) {
        expect(retry.map((rule) => rule.ErrorEquals), machine).toEqual([[...TRANSIENT_CODES], [...LAMBDA_FAILURE_ERRORS]]);
        expect(retry[1]?.MaxAttempts, machine).toBe(2);
      }
    }
  });
  it('route every non-finding failure to an owner', () => {
    for (const code of REASON_CODE_NAMES) {
      const info = REASON_CODES[code];
      if (info.category !== 'transient') expect(info.route, code).not.toBeNull();
    }
  });
  it('AppError carries the code as its name (the ASL error name)', () => {
    const error = new AppError('PLAN_STALE', 'moved', { cause: new Error('x') });
    expect(error.name).toBe('PLAN_STALE');
    expect(error.reasonCode).toBe('PLAN_STALE');
    expect(error.cause).toBeInstanceOf(Error);
  });
});
